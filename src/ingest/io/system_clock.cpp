// The system clock and zone (see system_clock.hpp).
#include "ingest/io/system_clock.hpp"

#include <ctime>

namespace tlspolicy::ingest {

std::int64_t SystemClock::now() const { return static_cast<std::int64_t>(std::time(nullptr)); }

int SystemClock::local_offset(std::int64_t local) const {
    const std::int64_t hour = local >= 0 ? local / 3600 : (local - 3599) / 3600;
    Entry& e = cache_[static_cast<std::uint64_t>(hour) % 64];
    if (e.hour == hour) return e.offset;
    // The local time as broken-down fields; mktime() finds the instant (and
    // whether DST applies, tm_isdst = -1); the difference is the offset.
    const std::time_t as_utc = static_cast<std::time_t>(hour * 3600);
    std::tm tm{};
    gmtime_r(&as_utc, &tm);
    tm.tm_isdst = -1;
    const std::time_t instant = mktime(&tm);
    e.offset = instant == static_cast<std::time_t>(-1) ? 0 : static_cast<int>(as_utc - instant);
    e.hour = hour;
    return e.offset;
}

}  // namespace tlspolicy::ingest
