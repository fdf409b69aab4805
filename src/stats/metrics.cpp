// Counting and rendering (see metrics.hpp).
#include "stats/metrics.hpp"

#include "core/sanitize.hpp"

namespace tlspolicy {
namespace {

// Label values: \ " and newline escaped as the exposition format wants.
std::string label(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

}  // namespace

void Metrics::count(const Observation& o) {
    std::string version(o.version == TlsVersion::None ? "none" : header_name(o.version));
    std::string cipher = o.version == TlsVersion::None ? "none" : sanitize_token(o.cipher, kMaxToken);
    std::string_view stage = o.stage == Stage::Rcpt ? "rcpt" : "mail";
    std::lock_guard<std::mutex> lock(mutex_);
    ++decisions_[{std::string(stage), std::string(action_word(o.action, o.would)), std::string(result_name(o.result))}];
    ++versions_[version];
    if (ciphers_.size() >= kMaxCiphers && !ciphers_.contains(cipher)) cipher = "other";
    ++ciphers_[cipher];
    std::string_view rules = o.rules;
    while (!rules.empty()) {
        auto comma = rules.find(',');
        ++rules_[{std::string(rules.substr(0, comma)), std::string(result_name(o.result))}];
        rules = comma == std::string_view::npos ? std::string_view{} : rules.substr(comma + 1);
    }
}

void Metrics::count_reload(bool ok) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++(ok ? reloads_ : reload_failures_);
}

void Metrics::set_observation_counts(std::uint64_t written, std::uint64_t dropped) {
    std::lock_guard<std::mutex> lock(mutex_);
    written_ = written;
    dropped_ = dropped;
}

std::string Metrics::render() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    family(out, "tlspolicy_milter_decisions_total", "counter",
           "Decisions by stage (mail: the message or its sender, rcpt: a refused recipient), action and result.");
    for (const auto& [k, n] : decisions_)
        out += "tlspolicy_milter_decisions_total{stage=\"" + label(std::get<0>(k)) + "\",action=\"" +
               label(std::get<1>(k)) + "\",result=\"" + label(std::get<2>(k)) + "\"} " + std::to_string(n) + "\n";
    family(out, "tlspolicy_milter_tls_version_total", "counter", "Decisions by the session's TLS version.");
    for (const auto& [v, n] : versions_)
        out += "tlspolicy_milter_tls_version_total{version=\"" + label(v) + "\"} " + std::to_string(n) + "\n";
    family(out, "tlspolicy_milter_cipher_total", "counter", "Decisions by the session's cipher.");
    for (const auto& [c, n] : ciphers_)
        out += "tlspolicy_milter_cipher_total{cipher=\"" + label(c) + "\"} " + std::to_string(n) + "\n";
    family(out, "tlspolicy_milter_rule_total", "counter", "Decisions each rule took part in, by result.");
    for (const auto& [k, n] : rules_)
        out += "tlspolicy_milter_rule_total{rule=\"" + label(k.first) + "\",result=\"" + label(k.second) + "\"} " +
               std::to_string(n) + "\n";
    family(out, "tlspolicy_milter_reloads_total", "counter", "Successful policy reloads.");
    out += "tlspolicy_milter_reloads_total " + std::to_string(reloads_) + "\n";
    family(out, "tlspolicy_milter_reload_failures_total", "counter", "Reloads refused because the file had errors.");
    out += "tlspolicy_milter_reload_failures_total " + std::to_string(reload_failures_) + "\n";
    family(out, "tlspolicy_milter_observations_written_total", "counter", "Observations written to the SQLite store.");
    out += "tlspolicy_milter_observations_written_total " + std::to_string(written_) + "\n";
    family(out, "tlspolicy_milter_observations_dropped_total", "counter",
           "Observations dropped: queue full or database not writable.");
    out += "tlspolicy_milter_observations_dropped_total " + std::to_string(dropped_) + "\n";
    return out;
}

}  // namespace tlspolicy
