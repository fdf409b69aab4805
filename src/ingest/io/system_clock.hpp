// The machine's clock and local time zone, for log lines that carry no zone
// (RFC 3164 syslog writes local time without a year).
#pragma once
#include <cstdint>

#include "ingest/log_time.hpp"

namespace tlspolicy::ingest {

class SystemClock final : public Clock {
public:
    std::int64_t now() const override;
    // mktime() for the hour `local` falls in, kept for later lines of that
    // hour: a mail log holds millions of lines and few hours, and mktime()
    // looks at /etc/localtime each time. Direct-mapped, so that the hour of
    // now (for a line's year) and the hours of the lines do not evict each other.
    int local_offset(std::int64_t local) const override;

private:
    struct Entry {
        std::int64_t hour = -1;
        int offset = 0;
    };
    mutable Entry cache_[64];
};

}  // namespace tlspolicy::ingest
