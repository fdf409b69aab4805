// What the renderers of both report kinds share, so that every format says
// the same thing in the same words: time and number texts, the notes, the
// table rows (per rule, domain, host, offender; per month for evidence) and
// each table syntax. Escaping is core/escape.hpp's. One renderer file per
// format (text, csv, json, html), each writing both kinds; formats.cpp
// names them.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/escape.hpp"
#include "report/evidence.hpp"
#include "report/tally.hpp"

namespace tlspolicy::report::render {

using report::Offender;
using report::Report;
using report::Tally;

std::span<const char* const> notes();  // what the numbers mean, printed with every report

std::string iso_time(std::int64_t t);            // "2024-05-08T12:00:00Z"
std::string fixed(double v, int decimals);       // "%.*f"
std::string percent(std::int64_t n, std::int64_t total);         // "14.3%"
std::string share(std::int64_t n, std::int64_t total);         // "0.1429"
std::string join(const std::set<std::string>& names);  // "a,b"
std::string title(const Report& r);

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

// The plain report's outbound table (Report::outbound), in every format.
inline constexpr const char* kOutboundHeading = "Outbound by partner rule (deliveries sent, from the MTA's log)";
Row tally_cells(const Tally& t);
std::vector<std::string> tally_header(const char* first);
Row offender_cells(const Offender& f);
std::vector<std::string> offender_header();

// The policy versions in force, for every report.
inline constexpr const char* kNoVersions =
    "none recorded: this store keeps no policy versions, or no milter started or reloaded in or before this window";
std::vector<std::string> version_header();
std::vector<Row> version_rows(const std::vector<report::VersionSpan>& versions);
std::string hosts_list(const std::set<std::string>& hosts);  // "mx1,mx2"; "" as "(not recorded)"

// Two spaces between columns; a header is aligned like its column.
void text_table(const std::vector<std::string>& head, const std::vector<Row>& rows, std::ostream& out);
void csv_row(const std::vector<std::string>& cells, std::ostream& out);  // CRLF-terminated
void csv_row(const Row& cells, std::ostream& out);
void html_table(const std::vector<std::string>& head, const std::vector<Row>& rows, std::ostream& out);

// ---- report --evidence ----
using report::Evidence;

std::string evidence_title(const Evidence& ev);
std::span<const char* const> evidence_notes();
std::string rule_heading(const report::RuleEvidence& e);  // "partner rule acme"

std::vector<std::string> month_header();
std::string month_percent(std::int64_t n, const report::Month& m);  // "-" for a month without messages
std::string weakest_text(const report::Month& m);  // "-" when no session
std::string hosts_text(const report::Month& m);    // "mx1 3, mx2 1"; "-" when no message
std::vector<const report::Month*> evidence_months(const report::RuleEvidence& e);  // and the total

}  // namespace tlspolicy::report::render
