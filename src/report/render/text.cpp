// `report --format text`: aligned tables, one per section; with --evidence
// one per rule, a line per month.
#include <ostream>
#include <tuple>

#include "report/render/common.hpp"
#include "report/render/suggest.hpp"
#include "report/render/formats.hpp"

namespace tlspolicy::report::render {

void write_text(const Report& r, std::ostream& out) {
    out << title(r) << "\ndatabase: " << r.database << "\n";
    if (!r.host.empty()) out << "host: " << r.host << "\n";
    for (const char* n : notes()) out << "  " << n << "\n";
    if (r.rules.empty()) out << "\nno sessions in this window\n";
    for (auto [heading, tallies, first] : {std::tuple("By partner rule", &r.rules, "rule"),
                                           std::tuple("By sending domain", &r.domains, "domain"),
                                           std::tuple("By MX host", &r.hosts, "host"),
                                           std::tuple(kOutboundHeading, &r.outbound, "rule")}) {
        if (tallies->empty()) continue;
        out << "\n" << heading << "\n";
        std::vector<Row> rows;
        for (const Tally& t : *tallies) rows.push_back(tally_cells(t));
        text_table(tally_header(first), rows, out);
    }
    out << "\nPolicy versions in force\n";
    if (r.versions.empty()) out << kNoVersions << "\n";
    else text_table(version_header(), version_rows(r.versions), out);
    if (r.against.empty()) return;
    out << "\nWould be refused by " << r.against << " (sender-side rules, as enforce mode answers)\n";
    if (r.offenders.empty()) out << "no sender would be refused\n";
    std::vector<Row> rows;
    for (const Offender& f : r.offenders) rows.push_back(offender_cells(f));
    if (!rows.empty()) text_table(offender_header(), rows, out);
}

namespace {

Row evidence_cells(const report::Month& m, const std::vector<report::VersionSpan>& versions) {
    std::string policy;
    for (std::size_t i : m.versions) policy += (policy.empty() ? "" : " ") + versions[i].sha256.substr(0, 12);
    const bool out = m.direction == Direction::Outbound;
    return {{m.name},
            {std::string(word(m.direction))},
            {std::to_string(m.messages), Kind::Number},
            {month_percent(m.modern, m), Kind::Number},
            {month_percent(m.older, m), Kind::Number},
            {month_percent(m.plaintext, m), Kind::Number},
            {out ? month_percent(m.unknown, m) : "-", Kind::Number},
            {month_percent(m.verified, m), Kind::Number},
            {out ? "-" : std::to_string(m.refused), Kind::Number},
            {out ? "-" : std::to_string(m.would_refuse), Kind::Number},
            {out ? std::to_string(m.deferred_tls) : "-", Kind::Number},
            {out ? std::to_string(m.bounced_tls) : "-", Kind::Number},
            {weakest_text(m)},
            {hosts_text(m)},
            {policy.empty() ? "-" : policy}};
}

}  // namespace

void write_text_evidence(const Evidence& ev, std::ostream& out) {
    out << evidence_title(ev) << "\ndatabase: " << ev.database << "\nhosts: " << (ev.host.empty() ? "all" : ev.host)
        << "\n";
    for (const char* n : evidence_notes()) out << "  " << n << "\n";
    out << "\nPolicy versions in force\n";
    if (ev.versions.empty()) out << kNoVersions << "\n";
    else text_table(version_header(), version_rows(ev.versions), out);
    if (ev.rules.empty()) out << "\nno partner or recipient rule in the policy or the observations\n";
    for (const report::RuleEvidence& e : ev.rules) {
        out << "\n" << rule_heading(e) << "\n";
        std::vector<Row> rows;
        for (const report::Month* m : evidence_months(e)) rows.push_back(evidence_cells(*m, ev.versions));
        text_table(month_header(), rows, out);
    }
    if (!ev.probes.empty()) out << "\n", write_probes_text(ev.probes, out);  // render/suggest.cpp
}

}  // namespace tlspolicy::report::render
