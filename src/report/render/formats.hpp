// The report's output formats, each named once with its two renderers (the
// report, and report --evidence): the command line checks --format against
// this table, its help text lists it, and the report calls what it names.
// A new format is one file in this folder writing both kinds, and one row.
#pragma once
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tlspolicy::report {

struct Report;
struct Evidence;

struct Format {
    std::string_view name;  // the --format value
    std::string_view what;  // one line for --help
    void (*report)(const Report&, std::ostream&);
    void (*evidence)(const Evidence&, std::ostream&);  // report --evidence
};

std::span<const Format> formats();
const Format* find_format(std::string_view name);  // null when there is none
std::vector<std::string> format_names();           // "text", "csv", ...
std::string format_help();                         // "text (aligned tables), csv (...), ..."

namespace render {
// One file each: text.cpp, csv.cpp, json.cpp, html.cpp.
void write_text(const Report& r, std::ostream& out);
void write_text_evidence(const Evidence& ev, std::ostream& out);
void write_csv(const Report& r, std::ostream& out);
void write_csv_evidence(const Evidence& ev, std::ostream& out);
void write_json(const Report& r, std::ostream& out);
void write_json_evidence(const Evidence& ev, std::ostream& out);
void write_html(const Report& r, std::ostream& out);
void write_html_evidence(const Evidence& ev, std::ostream& out);
}  // namespace render

}  // namespace tlspolicy::report
