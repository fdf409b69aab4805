// Texts and table cells every evidence renderer uses, so that the formats
// say the same thing in the same words.
#include "cli/report_evidence_render.hpp"

#include <array>

namespace tlspolicy::report_render {
namespace {

constexpr std::array<const char*, 6> kEvidenceNotes{
    "a message is one accepted message; it counts under every partner rule that applied to its sender and "
    "every recipient rule that applied to one of its recipients",
    "TLS 1.2+, older TLS and plaintext are shares of those messages (older TLS includes SSL 3.0 and "
    "unrecognised versions)",
    "refused: transactions refused at MAIL FROM (partner rules) or recipients refused at RCPT TO (recipient "
    "rules); a sender that retries after a tempfail counts once per attempt",
    "would be refused: accepted in monitor mode, refused had the policy been enforced",
    "weakest session seen, of every session counted (refused ones included), weakest first: plaintext < older "
    "TLS version < fewer bits < not AEAD",
    "months are calendar months in UTC; the first and the last are cut to the window"};

}  // namespace

std::string evidence_title(const Evidence& ev) {
    return "tlspolicy-milter evidence: " + iso_time(ev.since) + " to " + iso_time(ev.until) + " (--since " +
           ev.since_text + ")";
}

std::span<const char* const> evidence_notes() { return kEvidenceNotes; }

std::string rule_heading(const report_evidence::RuleEvidence& e) {
    return std::string(report_evidence::kind_name(e.kind)) + " rule " + e.name +
           (e.in_policy ? "" : " (not in the current policy)");
}

std::vector<std::string> month_header() {
    return {"month", "messages", "TLS 1.2+", "older TLS", "plaintext", "refused", "would be refused",
            "weakest session seen", "hosts", "policy versions"};
}

std::string month_percent(int n, const report_evidence::Month& m) { return m.messages ? percent(n, m.messages) : "-"; }

std::string weakest_text(const report_evidence::Month& m) {
    if (!m.weakest) return "-";
    const report_evidence::Weakest& w = *m.weakest;
    return report_tally::describe(w.strength) + " at " + iso_time(w.time) + (w.host.empty() ? "" : " on " + w.host) +
           (w.refused ? " (refused)" : w.would ? " (would be refused)" : "");
}

std::string hosts_text(const report_evidence::Month& m) {
    std::string s;
    for (const auto& [host, n] : m.hosts)
        s += (s.empty() ? "" : ", ") + (host.empty() ? std::string("(not recorded)") : host) + " " + std::to_string(n);
    return s.empty() ? "-" : s;
}

std::vector<const report_evidence::Month*> evidence_months(const report_evidence::RuleEvidence& e) {
    std::vector<const report_evidence::Month*> out;
    for (const report_evidence::Month& m : e.months) out.push_back(&m);
    out.push_back(&e.total);
    return out;
}

}  // namespace tlspolicy::report_render
