// One line of a mail log as syslog writes it: timestamp, host, program tag
// with its process id, message. Views into the line; no copy, no allocation.
#pragma once
#include <cstdint>
#include <string_view>

#include "ingest/log_time.hpp"

namespace tlspolicy::ingest {

struct SyslogLine {
    LogTime time;
    std::string_view host;
    std::string_view program;  // "postfix/smtp", "sm-mta"
    std::int64_t pid = -1;     // -1: the tag had none
    std::string_view message;
};

// "TIME HOST PROGRAM[PID]: MESSAGE" with TIME in RFC 3164 or ISO 8601 form
// (log_time.hpp). False for anything else (a line of another shape, a line
// cut before its message).
bool split_syslog_line(std::string_view line, SyslogLine& out);

}  // namespace tlspolicy::ingest
