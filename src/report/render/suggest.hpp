// The formats of `report --suggest`, named once: text (for reading), toml
// (the rules to paste, everything else as comments) and json. Kept apart
// from formats.cpp, whose formats write the report and --evidence; and the
// probe facts both --suggest and --evidence show.
#pragma once
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "report/probe_facts.hpp"
#include "report/suggest.hpp"

namespace tlspolicy::report {

struct SuggestFormat {
    std::string_view name;
    void (*write)(const Suggestions&, std::ostream&);
};
const SuggestFormat* find_suggest_format(std::string_view name);  // null when there is none
std::vector<std::string> suggest_format_names();                 // "text", "toml", "json"

namespace render {
void write_suggest_text(const Suggestions& s, std::ostream& out);
void write_suggest_toml(const Suggestions& s, std::ostream& out);
void write_suggest_json(const Suggestions& s, std::ostream& out);

// The probe results as --evidence shows them: a text section, a JSON array
// value, an HTML section; nothing when there are none.
void write_probes_text(const std::vector<ProbeFacts>& probes, std::ostream& out);
std::string probes_json(const std::vector<ProbeFacts>& probes);
void write_probes_html(const std::vector<ProbeFacts>& probes, std::ostream& out);
}  // namespace render

}  // namespace tlspolicy::report
