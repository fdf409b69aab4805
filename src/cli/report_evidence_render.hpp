// What the evidence renderers share: the title, the notes that say what each
// number means, and the cells of the per-month tables.
#pragma once
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

#include "cli/report_evidence.hpp"
#include "cli/report_render.hpp"

namespace tlspolicy::report_render {

using report_evidence::Evidence;

std::string evidence_title(const Evidence& ev);
std::span<const char* const> evidence_notes();
std::string rule_heading(const report_evidence::RuleEvidence& e);  // "partner rule acme"

std::vector<std::string> month_header();
std::string month_percent(int n, const report_evidence::Month& m);  // "-" for a month without messages
std::string weakest_text(const report_evidence::Month& m);  // "-" when no session
std::string hosts_text(const report_evidence::Month& m);    // "mx1 3, mx2 1"; "-" when no message
std::vector<const report_evidence::Month*> evidence_months(const report_evidence::RuleEvidence& e);  // and the total

// The renderers, one per format.
void write_text_evidence(const Evidence& ev, std::ostream& out);
void write_csv_evidence(const Evidence& ev, std::ostream& out);
void write_json_evidence(const Evidence& ev, std::ostream& out);
void write_html_evidence(const Evidence& ev, std::ostream& out);

}  // namespace tlspolicy::report_render
