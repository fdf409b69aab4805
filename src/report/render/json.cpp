// `report --format json`: one object with stable keys, the report or the evidence.
#include <ostream>
#include <utility>

#include "report/render/common.hpp"
#include "report/render/suggest.hpp"
#include "report/render/formats.hpp"

namespace tlspolicy::report::render {
namespace {

using report::kColumns;

std::string json_tally(const Tally& t) {
    std::string s = "{\"name\": " + json_string(t.name) + ", \"sessions\": " + std::to_string(t.sessions) +
                    ", \"versions\": {";
    for (std::size_t i = 0; i < kColumns.size(); ++i)
        s += (i ? ", " : "") + json_string(kColumns[i]) + ": " + std::to_string(t.versions[i]);
    s += "}, \"plaintext_share\": " + share(t.versions[0], t.sessions) + ", \"weakest\": ";
    if (t.weakest)
        s += "{\"version\": " + json_string(header_name(t.weakest->version)) + ", \"cipher\": " +
             json_string(t.weakest->cipher) + ", \"bits\": " + std::to_string(t.weakest->bits) +
             ", \"aead\": " + (t.weakest->aead ? "true" : "false") + "}";
    else
        s += "null";
    return s + ", \"last_weak\": " + (t.last_weak ? json_string(iso_time(*t.last_weak)) : "null") + "}";
}

std::string json_offender(const Offender& f) {
    std::string rules;
    for (const auto& n : f.rules) rules += (rules.empty() ? "" : ", ") + json_string(n);
    return "{\"sender\": " + json_string(f.sender) + ", \"domain\": " + json_string(f.domain) + ", \"rules\": [" +
           rules + "], \"would_reject\": " + std::to_string(f.rejects) + ", \"would_tempfail\": " +
           std::to_string(f.tempfails) + ", \"sessions\": " + std::to_string(f.sessions) +
           ", \"last_refused\": " + json_string(iso_time(f.last_refused)) + ", \"reply\": " + json_string(f.reply) + "}";
}

std::string json_version(const report::VersionSpan& v) {
    std::string hosts;
    for (const auto& h : v.hosts) hosts += (hosts.empty() ? "" : ", ") + json_string(h);
    return "{\"sha256\": " + json_string(v.sha256) + ", \"mode\": " + json_string(word(v.mode)) +
           ", \"from\": " + json_string(iso_time(v.from)) + ", \"until\": " + json_string(iso_time(v.until)) +
           ", \"still_in_force\": " + (v.current ? "true" : "false") + ", \"hosts\": [" + hosts + "]}";
}

template <class T, class F>
void json_list(const char* key, const std::vector<T>& items, F item, std::ostream& out) {
    out << "  " << json_string(key) << ": [";
    for (std::size_t i = 0; i < items.size(); ++i) out << (i ? ",\n    " : "\n    ") << item(items[i]);
    out << (items.empty() ? "]" : "\n  ]");
}

}  // namespace

void write_json(const Report& r, std::ostream& out) {
    out << "{\n  \"window\": {\"since\": " << json_string(iso_time(r.window.since))
        << ", \"until\": " << json_string(iso_time(r.window.until)) << ", \"seconds\": "
        << r.window.until - r.window.since << "},\n  \"database\": " << json_string(r.database)
        << ",\n  \"notes\": [";
    for (std::size_t i = 0; i < notes().size(); ++i) out << (i ? ",\n    " : "\n    ") << json_string(notes()[i]);
    out << "\n  ],\n";
    json_list("rules", r.rules, json_tally, out);
    out << ",\n";
    json_list("domains", r.domains, json_tally, out);
    out << ",\n  \"host\": " << (r.host.empty() ? "null" : json_string(r.host)) << ",\n";
    json_list("hosts", r.hosts, json_tally, out);
    out << ",\n";
    json_list("outbound_rules", r.outbound, json_tally, out);
    out << ",\n";
    json_list("policy_versions", r.versions, json_version, out);
    out << ",\n  \"against\": " << (r.against.empty() ? "null" : json_string(r.against)) << ",\n";
    if (r.against.empty())
        out << "  \"would_refuse\": null";
    else
        json_list("would_refuse", r.offenders, json_offender, out);
    out << "\n}\n";
}

namespace {

std::string json_month(const report::Month& m) {
    std::string s = "{\"month\": " + json_string(m.name) + ", \"direction\": " + json_string(word(m.direction)) + ", \"from\": " + json_string(iso_time(m.from)) +
                    ", \"until\": " + json_string(iso_time(m.until)) + ", \"messages\": " + std::to_string(m.messages) +
                    ", \"tls12_or_newer\": " + std::to_string(m.modern) + ", \"older_tls\": " + std::to_string(m.older) +
                    ", \"plaintext\": " + std::to_string(m.plaintext) + ", \"tls12_share\": " +
                    (m.messages ? share(m.modern, m.messages) : "null") + ", \"plaintext_share\": " +
                    (m.messages ? share(m.plaintext, m.messages) : "null") +
                    ", \"no_tls_facts\": " + std::to_string(m.unknown) + ", \"verified_cert\": " +
                    std::to_string(m.verified) + ", \"verified_share\": " +
                    (m.messages ? share(m.verified, m.messages) : "null") +
                    ", \"refused\": " + std::to_string(m.refused) + ", \"would_refuse\": " +
                    std::to_string(m.would_refuse) + ", \"deferred_tls\": " + std::to_string(m.deferred_tls) +
                    ", \"bounced_tls\": " + std::to_string(m.bounced_tls) + ", \"weakest\": ";
    if (m.weakest) {
        const report::Weakest& w = *m.weakest;
        s += "{\"version\": " + json_string(header_name(w.strength.version)) + ", \"cipher\": " +
             json_string(w.strength.cipher) + ", \"bits\": " + std::to_string(w.strength.bits) + ", \"aead\": " +
             (w.strength.aead ? "true" : "false") + ", \"time\": " + json_string(iso_time(w.time)) + ", \"host\": " +
             json_string(w.host) + ", \"refused\": " + (w.refused ? "true" : "false") + ", \"would_refuse\": " +
             (w.would ? "true" : "false") + "}";
    } else {
        s += "null";
    }
    s += ", \"hosts\": {";
    bool first = true;
    for (const auto& [host, n] : m.hosts) s += (std::exchange(first, false) ? "" : ", ") + json_string(host) + ": " + std::to_string(n);
    s += "}, \"policy_versions\": [";
    for (std::size_t i = 0; i < m.versions.size(); ++i) s += (i ? ", " : "") + std::to_string(m.versions[i]);
    return s + "]}";
}

std::string json_rule(const report::RuleEvidence& e) {
    std::string s = "{\"kind\": " + json_string(word(e.kind)) + ", \"name\": " +
                    json_string(e.name) + ", \"in_policy\": " + (e.in_policy ? "true" : "false") + ", \"months\": [";
    for (std::size_t i = 0; i < e.months.size(); ++i) s += (i ? ",\n      " : "\n      ") + json_month(e.months[i]);
    s += "\n    ],\n    \"total\": " + json_month(e.total) + ",\n    \"outbound\": ";
    if (!e.has_outbound) return s + "null}";  // no outbound delivery counted for this rule
    s += "{\"months\": [";
    for (std::size_t i = 0; i < e.outbound_months.size(); ++i)
        s += (i ? ",\n      " : "\n      ") + json_month(e.outbound_months[i]);
    return s + "\n    ],\n    \"total\": " + json_month(e.outbound_total) + "}}";
}

}  // namespace

// policy_versions of a month are indices into the top-level "policy_versions".
void write_json_evidence(const Evidence& ev, std::ostream& out) {
    out << "{\n  \"window\": {\"since\": " << json_string(iso_time(ev.since)) << ", \"until\": "
        << json_string(iso_time(ev.until)) << ", \"seconds\": " << ev.until - ev.since << "},\n  \"database\": "
        << json_string(ev.database) << ",\n  \"host\": " << (ev.host.empty() ? "null" : json_string(ev.host))
        << ",\n  \"notes\": [";
    for (std::size_t i = 0; i < evidence_notes().size(); ++i)
        out << (i ? ",\n    " : "\n    ") << json_string(evidence_notes()[i]);
    out << "\n  ],\n";
    json_list("policy_versions", ev.versions, json_version, out);
    out << ",\n";
    json_list("rules", ev.rules, json_rule, out);
    if (!ev.probes.empty()) out << ",\n  \"probes\": " << probes_json(ev.probes);  // render/suggest.cpp
    out << "\n}\n";
}

}  // namespace tlspolicy::report::render
