// What the weekly probe found at a partner's SMTP server, read back from the
// JSON `probe HOST --partner RULE --format json` wrote into [probe] directory
// (one RULE.json per partner rule, contrib/tlspolicy-probe-partners). Parsing
// is pure; read_probe_directory is the only I/O.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tls_version.hpp"

namespace tlspolicy::report {

struct ProbeFacts {
    std::string rule;            // the file's name without .json: the partner rule probed
    std::string time;            // when, "2026-01-31T12:00:00Z"
    std::int64_t unix_time = 0;  // the same; 0 when unreadable
    std::string host;
    std::int64_t port = 25;
    bool starttls = false;
    std::string error;           // where and why the probe stopped; "" when it got through
    std::vector<TlsVersion> accepted;  // the versions the server accepted, oldest first
    bool certificate = false;    // a server certificate was seen
    std::string not_after;       // its expiry, as time is written
    bool cert_verified = false, name_matches = false;
    std::string verify_error;
    std::optional<bool> partner_met;  // the rule's requirements could be met (as the probe judged them)
    bool stale = false;          // older than the report's window
    std::string problem;         // the file could not be read or is not a probe result
};

// One probe result; nullopt and *error when `text` is not one.
std::optional<ProbeFacts> parse_probe_json(std::string_view text, std::string* error);
// "2026-01-31T12:00:00Z" -> unix seconds; nullopt when malformed.
std::optional<std::int64_t> parse_utc_time(std::string_view text);

// "TLSv1.2, TLSv1.3", or "none".
std::string accepted_text(const ProbeFacts& p);
// One line: "mx1.acme.example:25 on 2026-12-01T03:00:00Z (stale): accepts TLSv1.2, TLSv1.3; certificate
// verifies, matches, expires 2027-03-01T00:00:00Z".
std::string describe(const ProbeFacts& p);

// Every RULE.json in `directory`, by rule name; a file that is not a probe
// result comes back with `problem` set. Those older than `since` are stale.
// "" or an error for the operator (the directory cannot be read).
std::string read_probe_directory(const std::string& directory, std::int64_t since, std::vector<ProbeFacts>& out);

}  // namespace tlspolicy::report
