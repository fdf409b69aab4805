// `report`: what the observation store saw, per partner rule, per sending
// domain and per MX host, the policy versions in force, and with --against
// which senders a stricter policy would refuse. With --evidence: per partner
// and recipient rule and calendar month, what an auditor asks for. With
// --suggest: the rules every message of the window met, checked like --against.
// Output depends only on the database, the policy files and options.now, so
// golden files can pin it.
//
// Rooms: tally.hpp and evidence.hpp count (pure), render/ writes each format,
// this file reads the store and ties them together. cli/ only parses options.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "store/observation_source.hpp"

namespace tlspolicy {

struct ReportOptions {
    std::string since;            // the window: N followed by s, m, h, d or w; "": 7d (evidence: 90d)
    std::string format = "text";  // text | csv | json | html
    std::string against;          // a stricter policy file; empty: no comparison
    std::string database;         // overrides [observations] database
    std::int64_t now = 0;         // unix seconds, the end of the window
    std::string host;             // only what this MX host observed; "": every host
    bool evidence = false;        // per rule and month, for auditors; since "" then means 90d
    bool raw = false;             // read every row instead of the summaries (audits, cross-checks)
    bool suggest = false;         // the rules every message met (suggest.hpp); since "" then means 90d
    std::int64_t min_messages = 10;  // --suggest: fewer messages than this are too quiet to judge
};

// "90m" -> 5400, "7d" -> 604800; nullopt when malformed or not positive.
std::optional<std::int64_t> parse_duration(std::string_view text);

// Exit codes: 0 fine, 1 the database or the --against file cannot be used,
// 2 bad options.
int run_report(const Config& config, const ReportOptions& options, std::ostream& out, std::ostream& err);
// The same, reading `source` instead of opening the database (tests).
int run_report(const Config& config, const ReportOptions& options, ObservationSource& source, std::ostream& out,
               std::ostream& err);

}  // namespace tlspolicy
