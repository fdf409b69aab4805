// syslog(3) with the ident "tlspolicy-milter"; stderr lines carry a time stamp.
#include "milter/log.hpp"

#include <syslog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace tlspolicy::log {
namespace {

std::atomic<bool> to_stderr{true};  // until open(): CLI errors before daemonising
std::atomic<bool> opened{false};
std::atomic<bool> debug_on{false};
std::mutex stderr_mutex;

void emit(int priority, std::string_view line) {
    if (opened) syslog(priority, "%.*s", static_cast<int>(line.size()), line.data());
    if (!to_stderr) return;
    // One line per message: the stamp is formatted once a second, not per
    // line (localtime_r looks at /etc/localtime on every call).
    static std::time_t stamped = -1;  // guarded by stderr_mutex, like stamp
    static char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::lock_guard<std::mutex> lock(stderr_mutex);
    if (now != stamped) {
        std::tm tm{};
        localtime_r(&now, &tm);
        std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
        stamped = now;
    }
    std::fprintf(stderr, "%s tlspolicy-milter: %.*s\n", stamp, static_cast<int>(line.size()), line.data());
}

}  // namespace

void open(bool foreground, bool verbose) {
    openlog("tlspolicy-milter", LOG_PID | LOG_NDELAY, LOG_MAIL);
    opened = true;
    to_stderr = foreground;
    debug_on = verbose;
}

void error(std::string_view line) { emit(LOG_ERR, line); }
void warning(std::string_view line) { emit(LOG_WARNING, line); }
void info(std::string_view line) { emit(LOG_INFO, line); }
void debug(std::string_view line) {
    if (debug_enabled()) emit(LOG_DEBUG, line);
}

bool debug_enabled() { return debug_on.load(std::memory_order_relaxed); }

}  // namespace tlspolicy::log
