// Log timestamps (see log_time.hpp). Hand-written digit reading: this runs for
// every delivery line of a mail log that may hold millions of lines.
#include "ingest/log_time.hpp"

namespace tlspolicy::ingest {
namespace {

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
    if (at + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        const char c = s[i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    out = v;
    return true;
}

int month_of(std::string_view m) {
    static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; ++i)
        if (m == kMonths[i]) return i + 1;
    return 0;
}

// "hh:mm:ss[.frac]" at `at`; returns the position after it, or 0.
std::size_t clock_time(std::string_view s, std::size_t at, LogTime& t) {
    if (!digits(s, at, 2, t.hour) || at + 2 >= s.size() || s[at + 2] != ':' || !digits(s, at + 3, 2, t.minute) ||
        at + 5 >= s.size() || s[at + 5] != ':' || !digits(s, at + 6, 2, t.second))
        return 0;
    std::size_t i = at + 8;
    if (i < s.size() && s[i] == '.') {
        ++i;
        int scale = 100000, usec = 0;
        const std::size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            usec += (s[i] - '0') * scale;
            scale /= 10;
            ++i;
        }
        if (i == start) return 0;
        t.usec = usec;
    }
    if (t.hour > 23 || t.minute > 59 || t.second > 60) return 0;
    return i;
}

bool plausible_date(const LogTime& t) { return t.month >= 1 && t.month <= 12 && t.day >= 1 && t.day <= 31; }

}  // namespace

std::int64_t epoch_seconds(int year, int month, int day, int hour, int minute, int second) {
    // Howard Hinnant's days_from_civil.
    year -= month <= 2;
    const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
    const std::int64_t yoe = year - era * 400;
    const std::int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const std::int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + hour * 3600 + minute * 60 + second;
}

std::int64_t resolve_time(const LogTime& t, const Clock& clock) {
    if (t.has_offset)
        return epoch_seconds(t.year, t.month, t.day, t.hour, t.minute, t.second) - t.offset_seconds;
    int year = t.year;
    if (year == 0) {
        const std::int64_t now = clock.now();
        const std::int64_t now_local = now + clock.local_offset(now);
        // The civil year of now_local: days since the epoch, then the year.
        std::int64_t days = now_local >= 0 ? now_local / 86400 : (now_local - 86399) / 86400;
        days += 719468;
        const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
        const std::int64_t doe = days - era * 146097;
        const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        const std::int64_t mp = (5 * doy + 2) / 153;
        const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
        year = static_cast<int>(yoe + era * 400 + (m <= 2));
        const std::int64_t candidate = epoch_seconds(year, t.month, t.day, t.hour, t.minute, t.second);
        if (candidate > now_local + 7 * 86400) --year;
    }
    const std::int64_t local = epoch_seconds(year, t.month, t.day, t.hour, t.minute, t.second);
    return local - clock.local_offset(local);
}

bool parse_log_time(std::string_view s, LogTime& t, std::size_t& consumed) {
    t = LogTime{};
    if (s.size() >= 15 && s[3] == ' ') {  // RFC 3164: "Mmm dd hh:mm:ss" (dd may be " 6")
        t.month = month_of(s.substr(0, 3));
        if (t.month == 0) return false;
        const char d0 = s[4], d1 = s[5];
        if (d1 < '0' || d1 > '9' || (d0 != ' ' && (d0 < '0' || d0 > '9'))) return false;
        t.day = (d0 == ' ' ? 0 : d0 - '0') * 10 + (d1 - '0');
        if (s[6] != ' ') return false;
        const std::size_t end = clock_time(s, 7, t);
        if (end == 0 || !plausible_date(t)) return false;
        consumed = end;
        return true;
    }
    // ISO 8601 / RFC 3339: "YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm|+hhmm)", or a
    // space for the T; without a zone it is local time.
    if (!digits(s, 0, 4, t.year) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, t.month) || s[7] != '-' ||
        !digits(s, 8, 2, t.day) || (s[10] != 'T' && s[10] != ' '))
        return false;
    std::size_t i = clock_time(s, 11, t);
    if (i == 0 || !plausible_date(t)) return false;
    if (i < s.size() && s[i] == 'Z') {
        t.has_offset = true;
        ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        int h = 0, m = 0;
        const int sign = s[i] == '-' ? -1 : 1;
        if (!digits(s, i + 1, 2, h)) return false;
        std::size_t j = i + 3;
        if (j < s.size() && s[j] == ':') ++j;
        if (!digits(s, j, 2, m) || h > 23 || m > 59) return false;
        t.has_offset = true;
        t.offset_seconds = sign * (h * 3600 + m * 60);
        i = j + 2;
    }
    consumed = i;
    return true;
}

}  // namespace tlspolicy::ingest
