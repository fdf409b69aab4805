// The report's output formats, each named once with its renderer: the
// command line checks --format against this table, its help text lists it,
// and `report` calls the renderer it names.
#pragma once
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tlspolicy {
namespace report_tally {
struct Report;
}
namespace report_evidence {
struct Evidence;
}

struct ReportFormat {
    std::string_view name;  // the --format value
    std::string_view what;  // one line for --help
    void (*report)(const report_tally::Report&, std::ostream&);
    void (*evidence)(const report_evidence::Evidence&, std::ostream&);  // report --evidence
};

std::span<const ReportFormat> report_formats();
const ReportFormat* find_report_format(std::string_view name);  // null when there is none
std::vector<std::string> report_format_names();                 // "text", "csv", ...
std::string report_format_help();  // "text (aligned tables), csv (...), ..."

}  // namespace tlspolicy
