// Counting and rendering (see metrics.hpp).
#include "stats/metrics.hpp"

#include <algorithm>

#include "core/decision_log.hpp"
#include "core/sanitize.hpp"
#include "stats/exposition.hpp"

namespace tlspolicy {
namespace {

using exposition::family;
using exposition::label;

// The counters' second index: accept, tempfail, reject, would_tempfail,
// would_reject (the log's action words, decision_log.hpp).
std::size_t action_index(Decision action, Decision would) {
    if (would != Decision::Accept) return would == Decision::Tempfail ? 3 : 4;
    return static_cast<std::size_t>(action);  // Accept, Tempfail, Reject
}

std::string_view action_label(std::size_t index) {
    if (index >= 3) return action_word(Decision::Accept, index == 3 ? Decision::Tempfail : Decision::Reject);
    return action_word(static_cast<Decision>(index), Decision::Accept);
}

std::string_view version_label(TlsVersion v) { return v == TlsVersion::None ? "none" : header_name(v); }

}  // namespace

void Metrics::count(const Counted& d) {
    const auto relaxed = std::memory_order_relaxed;
    const auto result = static_cast<std::size_t>(d.result);
    decisions_[d.stage == Stage::Rcpt][action_index(d.action, d.would)][result].fetch_add(1, relaxed);
    versions_[static_cast<std::size_t>(d.version)].fetch_add(1, relaxed);
    std::string_view cipher = d.version == TlsVersion::None ? "none" : d.cipher;
    // The MTA's text, sanitised by the core already; checked again without
    // copying, since a label that breaks the format breaks the whole file.
    std::string cleaned;
    if (!is_clean_token(cipher, kMaxToken)) cipher = cleaned = sanitize_token(cipher, kMaxToken);
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = ciphers_.find(cipher); it != ciphers_.end()) ++it->second;
    else ++ciphers_[std::string(ciphers_.size() >= kMaxCiphers ? "other" : cipher)];
    for (auto ref = d.rules.begin(); ref != d.rules.end(); ++ref) {
        const RuleRef& rule = *ref;
        // Counted by name, as the header shows it: a partner and a recipient rule of one name count once.
        if (std::any_of(d.rules.begin(), ref, [&](const RuleRef& r) { return r.name == rule.name; })) continue;
        auto it = rules_.find(rule.name);
        if (it == rules_.end()) it = rules_.emplace(rule.name, std::array<std::uint64_t, 3>{}).first;
        ++it->second[result];
    }
}

void Metrics::count_reload(bool ok) { ++(ok ? reloads_ : reload_failures_); }

void Metrics::set_observation_counts(std::uint64_t written, std::uint64_t dropped, std::uint64_t spooled) {
    written_ = written;
    dropped_ = dropped;
    spooled_ = spooled;
}

std::string Metrics::render() const {
    std::string out;
    family(out, "tlspolicy_milter_decisions_total", "counter",
           "Decisions by stage (mail: the message or its sender, rcpt: a refused recipient), action and result.");
    for (std::size_t stage = 0; stage < 2; ++stage)
        for (std::size_t a = 0; a < kActions; ++a)
            for (std::size_t r = 0; r < 3; ++r)
                if (const std::uint64_t n = decisions_[stage][a][r].load())
                    out += std::string("tlspolicy_milter_decisions_total{stage=\"") + std::string(word(stage ? Stage::Rcpt : Stage::Mail)) +
                           "\",action=\"" + std::string(action_label(a)) + "\",result=\"" +
                           std::string(word(static_cast<Result>(r))) + "\"} " + std::to_string(n) + "\n";
    family(out, "tlspolicy_milter_tls_version_total", "counter", "Decisions by the session's TLS version.");
    for (std::size_t v = 0; v < kVersions; ++v)
        if (const std::uint64_t n = versions_[v].load())
            out += "tlspolicy_milter_tls_version_total{version=\"" +
                   label(version_label(static_cast<TlsVersion>(v))) + "\"} " + std::to_string(n) + "\n";
    {
        std::lock_guard<std::mutex> lock(mutex_);
        family(out, "tlspolicy_milter_cipher_total", "counter", "Decisions by the session's cipher.");
        for (const auto& [c, n] : ciphers_)
            out += "tlspolicy_milter_cipher_total{cipher=\"" + label(c) + "\"} " + std::to_string(n) + "\n";
        family(out, "tlspolicy_milter_rule_total", "counter", "Decisions each rule took part in, by result.");
        for (const auto& [rule, by_result] : rules_)
            for (std::size_t r = 0; r < 3; ++r)
                if (by_result[r])
                    out += "tlspolicy_milter_rule_total{rule=\"" + label(rule) + "\",result=\"" +
                           std::string(word(static_cast<Result>(r))) + "\"} " + std::to_string(by_result[r]) + "\n";
    }
    family(out, "tlspolicy_milter_reloads_total", "counter", "Successful policy reloads.");
    out += "tlspolicy_milter_reloads_total " + std::to_string(reloads_.load()) + "\n";
    family(out, "tlspolicy_milter_reload_failures_total", "counter", "Reloads refused because the file had errors.");
    out += "tlspolicy_milter_reload_failures_total " + std::to_string(reload_failures_.load()) + "\n";
    family(out, "tlspolicy_milter_observations_written_total", "counter", "Observations written to the observation store (SQLite or PostgreSQL).");
    out += "tlspolicy_milter_observations_written_total " + std::to_string(written_.load()) + "\n";
    family(out, "tlspolicy_milter_observations_dropped_total", "counter",
           "Observations dropped: queue full, spool full or unusable, or database not writable.");
    out += "tlspolicy_milter_observations_dropped_total " + std::to_string(dropped_.load()) + "\n";
    family(out, "tlspolicy_milter_observation_spool_rows", "gauge",
           "Observations waiting in the local spool for an unreachable PostgreSQL store.");
    out += "tlspolicy_milter_observation_spool_rows " + std::to_string(spooled_.load()) + "\n";
    return out;
}

}  // namespace tlspolicy
