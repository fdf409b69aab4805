// Retention by whole UTC months, the same on both backends: PostgreSQL drops
// a month's partitions at once, SQLite deletes down to the same boundary.
#include <ctime>

#include "store/observation_backend.hpp"

namespace tlspolicy {

std::int64_t month_start(std::int64_t t) {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::tm first{};
    first.tm_year = tm.tm_year;
    first.tm_mon = tm.tm_mon;
    first.tm_mday = 1;
    return timegm(&first);
}

std::int64_t retention_cutoff(std::int64_t now, int keep_days) {
    return month_start(now - std::int64_t{keep_days} * 86400);
}

}  // namespace tlspolicy
