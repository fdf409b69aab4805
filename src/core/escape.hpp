// Escaping for every output format the product writes, in one place: JSON
// strings, CSV fields, HTML and SVG text and attributes, and one-line text
// for line-based files (the Postfix policy table's comments). The report's
// renderers, probe and export all use these; none writes its own.
#pragma once
#include <string>
#include <string_view>

namespace tlspolicy {

// A JSON string literal, quotes included: '"' and '\' escaped, control
// characters as \u00XX; other bytes pass as they are.
std::string json_string(std::string_view s);

// An RFC 4180 field: quoted (with "" for ") only when it holds , " CR or LF.
std::string csv_field(std::string_view s);

// Text or an attribute value in HTML or SVG: & < > " escaped.
std::string html(std::string_view s);

// One line of a line-based file: CR, LF and other control characters
// become \xNN, so text can never start a line of its own.
std::string line_text(std::string_view s);

}  // namespace tlspolicy
