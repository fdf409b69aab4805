// What the report's renderers share: time and number texts, escaping for
// each format, and the table rows the per-rule, per-domain and offender
// tables are made of. One renderer per format; report_formats names them.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/report_tally.hpp"

namespace tlspolicy::report_render {

using report_tally::Offender;
using report_tally::Report;
using report_tally::Tally;

std::span<const char* const> notes();  // what the numbers mean, printed with every report

std::string iso_time(std::int64_t t);            // "2024-05-08T12:00:00Z"
std::string fixed(double v, int decimals);       // "%.*f"
std::string percent(int n, int total);           // "14.3%"
std::string share(int n, int total);             // "0.1429"
std::string join(const std::set<std::string>& names);  // "a,b"
std::string title(const Report& r);

std::string csv_field(std::string_view s);   // RFC 4180 quoting when needed
std::string json_string(std::string_view s);  // quoted, escaped
std::string html(std::string_view s);        // & < > " escaped

// A table cell. Numbers are right-aligned; in HTML weak values stand out,
// numbers and times never wrap, and a reply gets room to be read.
enum class Kind { Text, Number, Time, Reply };
struct Cell {
    std::string text;
    Kind kind = Kind::Text;
    bool weak = false;
    bool number() const { return kind == Kind::Number; }
};
using Row = std::vector<Cell>;

Row tally_cells(const Tally& t);
std::vector<std::string> tally_header(const char* first);
Row offender_cells(const Offender& f);
std::vector<std::string> offender_header();

// The policy versions in force, for every report.
inline constexpr const char* kNoVersions =
    "none recorded: this store keeps no policy versions, or no milter started or reloaded in or before this window";
std::vector<std::string> version_header();
std::vector<Row> version_rows(const std::vector<report_tally::VersionSpan>& versions);
std::string hosts_list(const std::set<std::string>& hosts);  // "mx1,mx2"; "" as "(not recorded)"

// Two spaces between columns; a header is aligned like its column.
void text_table(const std::vector<std::string>& head, const std::vector<Row>& rows, std::ostream& out);
void csv_row(const std::vector<std::string>& cells, std::ostream& out);  // CRLF-terminated
void csv_row(const Row& cells, std::ostream& out);
void html_table(const std::vector<std::string>& head, const std::vector<Row>& rows, std::ostream& out);

// The renderers, one per format.
void write_text(const Report& r, std::ostream& out);
void write_csv(const Report& r, std::ostream& out);
void write_json(const Report& r, std::ostream& out);
void write_html(const Report& r, std::ostream& out);

}  // namespace tlspolicy::report_render
