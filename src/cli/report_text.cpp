// `report --format text`: aligned tables, one per section.
#include <ostream>
#include <tuple>

#include "cli/report_render.hpp"

namespace tlspolicy::report_render {

void write_text(const Report& r, std::ostream& out) {
    out << title(r) << "\ndatabase: " << r.database << "\n";
    if (!r.host.empty()) out << "host: " << r.host << "\n";
    for (const char* n : notes()) out << "  " << n << "\n";
    if (r.rules.empty()) out << "\nno sessions in this window\n";
    for (auto [heading, tallies, first] : {std::tuple("By partner rule", &r.rules, "rule"),
                                           std::tuple("By sending domain", &r.domains, "domain"),
                                           std::tuple("By MX host", &r.hosts, "host")}) {
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

}  // namespace tlspolicy::report_render
