// `report --format csv`: RFC 4180, one header line, CRLF. The per-rule,
// per-domain, per-host and outbound per-rule table (column `section` says which), or with
// --against the sender list only. Policy versions: text, json and html.
#include <ostream>
#include <utility>

#include "report/render/common.hpp"
#include "report/render/formats.hpp"

namespace tlspolicy::report::render {

void write_csv(const Report& r, std::ostream& out) {
    if (!r.against.empty()) {
        csv_row({"sender", "domain", "rule", "would_reject", "would_tempfail", "sessions", "last_refused", "reply"}, out);
        for (const Offender& f : r.offenders) csv_row(offender_cells(f), out);
        return;
    }
    std::vector<std::string> head{"section", "name", "sessions"};
    for (auto c : report::kColumns) head.emplace_back(c);
    head.insert(head.end(), {"plaintext_share", "weakest_version", "weakest_cipher", "weakest_bits", "weakest_aead",
                             "last_weak"});
    csv_row(head, out);
    for (auto [section, tallies] : {std::pair("rule", &r.rules), std::pair("domain", &r.domains), std::pair("host", &r.hosts),
                                    std::pair("outbound_rule", &r.outbound)})
        for (const Tally& t : *tallies) {
            std::vector<std::string> c{section, t.name, std::to_string(t.sessions)};
            for (std::int64_t n : t.versions) c.push_back(std::to_string(n));
            c.push_back(share(t.versions[0], t.sessions));
            const report::Strength* w = t.weakest ? &*t.weakest : nullptr;
            c.push_back(w ? std::string(header_name(w->version)) : "");
            c.push_back(w ? w->cipher : "");
            c.push_back(w ? std::to_string(w->bits) : "");
            c.push_back(w ? (w->aead ? "yes" : "no") : "");
            c.push_back(t.last_weak ? iso_time(*t.last_weak) : "");
            csv_row(c, out);
        }
}

// One line per rule, month and direction (outbound lines for rules with
// outbound deliveries in the window), and per rule for the whole window
// (month "total"); policy_versions: "SHA256/MODE" of each version in force, space-separated.
void write_csv_evidence(const Evidence& ev, std::ostream& out) {
    csv_row({"kind", "rule", "in_policy", "month", "direction", "from", "until", "messages", "tls12_or_newer",
             "older_tls", "plaintext", "no_tls_facts", "verified_cert", "tls12_share", "plaintext_share",
             "verified_share", "refused", "would_refuse", "deferred_tls", "bounced_tls", "weakest_version",
             "weakest_cipher", "weakest_bits", "weakest_aead", "weakest_time", "weakest_host", "weakest_outcome",
             "hosts", "policy_versions"},
            out);
    for (const report::RuleEvidence& e : ev.rules)
        for (const report::Month* m : evidence_months(e)) {
            std::string policy;
            for (std::size_t i : m->versions)
                policy += (policy.empty() ? "" : " ") + ev.versions[i].sha256 + "/" + std::string(word(ev.versions[i].mode));
            std::string hosts;
            for (const auto& [host, n] : m->hosts)
                hosts += (hosts.empty() ? "" : " ") + (host.empty() ? "(not recorded)" : host) + "=" + std::to_string(n);
            const report::Weakest* w = m->weakest ? &*m->weakest : nullptr;
            csv_row({std::string(word(e.kind)), e.name, e.in_policy ? "yes" : "no", m->name,
                     std::string(word(m->direction)), iso_time(m->from), iso_time(m->until),
                     std::to_string(m->messages), std::to_string(m->modern), std::to_string(m->older),
                     std::to_string(m->plaintext), std::to_string(m->unknown), std::to_string(m->verified),
                     m->messages ? share(m->modern, m->messages) : "", m->messages ? share(m->plaintext, m->messages) : "",
                     m->messages ? share(m->verified, m->messages) : "", std::to_string(m->refused),
                     std::to_string(m->would_refuse), std::to_string(m->deferred_tls), std::to_string(m->bounced_tls),
                     w ? std::string(header_name(w->strength.version)) : "", w ? w->strength.cipher : "",
                     w ? std::to_string(w->strength.bits) : "", w ? (w->strength.aead ? "yes" : "no") : "",
                     w ? iso_time(w->time) : "", w ? w->host : "",
                     w ? (w->refused ? (m->direction == Direction::Outbound ? "not_sent" : "refused")
                               : w->would ? "would_refuse" : m->direction == Direction::Outbound ? "sent" : "accepted")
                       : "", hosts, policy},
                    out);
        }
}

}  // namespace tlspolicy::report::render
