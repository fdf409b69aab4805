// `report`: what the observation store saw, per partner rule and per sending
// domain, and with --against which senders a stricter policy would refuse.
// Output depends only on the database, the policy files and options.now, so
// golden files can pin it.
//
// Formats: text (aligned tables), json (stable keys), html (one self-contained
// file with an inline SVG chart per partner rule), csv (RFC 4180, one header
// line, CRLF): the per-rule and per-domain table (column `section` says which,
// version columns are session counts), or with --against the sender list only.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace tlspolicy {

struct ReportOptions {
    std::string since = "7d";     // the window: N followed by s, m, h, d or w
    std::string format = "text";  // text | csv | json | html
    std::string against;          // a stricter policy file; empty: no comparison
    std::string database;         // overrides [observations] database
    std::int64_t now = 0;         // unix seconds, the end of the window
};

// "90m" -> 5400, "7d" -> 604800; nullopt when malformed or not positive.
std::optional<std::int64_t> parse_duration(std::string_view text);

// Exit codes: 0 fine, 1 the database or the --against file cannot be used,
// 2 bad options.
int report(const Config& config, const ReportOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tlspolicy
