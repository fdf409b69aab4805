// The machine's clock and local time zone, for log lines that carry no zone
// (RFC 3164 syslog writes local time without a year).
#pragma once
#include <cstdint>

#include "ingest/log_time.hpp"

namespace tlspolicy::ingest {

class SystemClock final : public Clock {
public:
    std::int64_t now() const override;
    // mktime() for the hour `local` falls in, kept for the next lines of that
    // hour: a mail log holds millions of lines and few hours.
    int local_offset(std::int64_t local) const override;

private:
    mutable std::int64_t hour_ = -1;
    mutable int offset_ = 0;
};

}  // namespace tlspolicy::ingest
