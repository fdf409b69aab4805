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
    std::time_t now = std::time(nullptr);
    char stamp[32];
    std::tm tm{};
    localtime_r(&now, &tm);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    std::lock_guard<std::mutex> lock(stderr_mutex);
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
