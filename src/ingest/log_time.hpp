// Log timestamps: what a line says (RFC 3164 "Dec  6 07:02:40", local time
// without a year; ISO 8601 "2026-12-06T07:02:40.123456+01:00", exact) and the
// instant it means. The local time zone and the current time come in through
// a Clock, so that the parsers stay pure and tests can pin both.
#pragma once
#include <cstdint>
#include <string_view>

namespace tlspolicy::ingest {

struct LogTime {
    int year = 0;  // 0: the line has no year (RFC 3164)
    int month = 0, day = 0, hour = 0, minute = 0, second = 0;
    int usec = 0;
    bool has_offset = false;  // ISO 8601 with Z or +hh:mm: exact
    int offset_seconds = 0;   // east of UTC
    bool valid() const { return month != 0; }
};

class Clock {
public:
    virtual ~Clock() = default;
    virtual std::int64_t now() const = 0;  // seconds since the epoch, UTC
    // Seconds east of UTC of the local zone at `local` (a local time written
    // as if it were UTC seconds since the epoch).
    virtual int local_offset(std::int64_t local) const = 0;
};

// A fixed zone, for tests and for logs written in UTC.
class FixedClock final : public Clock {
public:
    FixedClock(std::int64_t now, int offset_seconds) : now_(now), offset_(offset_seconds) {}
    std::int64_t now() const override { return now_; }
    int local_offset(std::int64_t) const override { return offset_; }

private:
    std::int64_t now_;
    int offset_;
};

// Seconds since the epoch of a proleptic Gregorian date and time (as UTC).
std::int64_t epoch_seconds(int year, int month, int day, int hour, int minute, int second);

// The instant a log time means. A line without a year is taken from the year
// that puts it at most a week into the future of clock.now() (a December line
// read in January is last year's).
std::int64_t resolve_time(const LogTime& t, const Clock& clock);

// "Dec  6 07:02:40" / "Dec 06 07:02:40.123" or "2026-12-06T07:02:40[.frac](Z|+hh:mm|-hhmm)"
// at the start of `text`; on success `consumed` is the length read.
bool parse_log_time(std::string_view text, LogTime& out, std::size_t& consumed);

}  // namespace tlspolicy::ingest
