// One entry of `journalctl -o json`: a JSON object per line whose values are
// strings, or arrays of byte values where the field is not UTF-8. Only the
// fields the ingest needs are kept.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace tlspolicy::ingest {

struct JournalEntry {
    std::string cursor;              // __CURSOR
    std::int64_t realtime_usec = -1; // __REALTIME_TIMESTAMP: microseconds since the epoch
    std::string hostname;            // _HOSTNAME
    std::string identifier;          // SYSLOG_IDENTIFIER ("postfix/smtp")
    std::int64_t pid = -1;           // SYSLOG_PID (the pid the program logged), else _PID
    std::string message;             // MESSAGE
};

// One JSON object (RFC 8259): `field` gets each member whose value is a
// string, or an array of byte values (as text). Other values are skipped.
using JsonFieldFn = std::function<void(const std::string& key, std::string&& value)>;
bool parse_json_fields(std::string_view line, const JsonFieldFn& field, std::string* error = nullptr);

// False for anything that is not one JSON object (a cut line, nesting deeper
// than a few levels); `error` says where.
bool parse_journal_json(std::string_view line, JournalEntry& out, std::string* error = nullptr);

}  // namespace tlspolicy::ingest
