// Splitting syslog lines (see syslog_line.hpp).
#include "ingest/syslog_line.hpp"

namespace tlspolicy::ingest {

bool split_syslog_line(std::string_view line, SyslogLine& out) {
    std::size_t at = 0;
    if (!parse_log_time(line, out.time, at) || at >= line.size() || line[at] != ' ') return false;
    ++at;
    const std::size_t host_end = line.find(' ', at);
    if (host_end == std::string_view::npos || host_end == at) return false;
    out.host = line.substr(at, host_end - at);
    at = host_end + 1;
    // The tag ends at ": "; a pid in brackets just before the colon.
    const std::size_t colon = line.find(": ", at);
    if (colon == std::string_view::npos || colon == at) return false;
    std::string_view tag = line.substr(at, colon - at);
    out.pid = -1;
    if (tag.back() == ']') {
        const std::size_t open = tag.rfind('[');
        if (open == std::string_view::npos || open == 0 || open + 2 > tag.size() - 1) return false;
        std::int64_t pid = 0;
        for (std::size_t i = open + 1; i + 1 < tag.size(); ++i) {
            const char c = tag[i];
            if (c < '0' || c > '9' || pid > 100000000000) return false;
            pid = pid * 10 + (c - '0');
        }
        out.pid = pid;
        tag = tag.substr(0, open);
    }
    if (tag.find(' ') != std::string_view::npos) return false;
    out.program = tag;
    out.message = line.substr(colon + 2);
    return true;
}

}  // namespace tlspolicy::ingest
