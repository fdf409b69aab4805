// syslog(3) with the ident "tlspolicy-milter"; stderr lines carry a time stamp.
#include "milter/log.hpp"

#include <paths.h>
#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <mutex>
#include <string>

namespace tlspolicy::log {
namespace {

std::atomic<bool> to_stderr{true};  // until open(): CLI errors before daemonising
std::atomic<bool> opened{false};
std::atomic<bool> debug_on{false};
std::mutex stderr_mutex;

// syslog(3) reaches the log daemon through _PATH_LOG (/dev/log). Where there
// is none (a container, a test machine), glibc tries again on every line: a
// socket, a failed connect and a close per message. Whether the socket
// exists is looked at once a second instead; lines in between go to stderr
// only (with -f), as glibc would have dropped them anyway.
bool syslog_present(std::time_t now) {
    static std::atomic<std::time_t> checked{-1};
    static std::atomic<bool> present{false};
    if (checked.load(std::memory_order_relaxed) != now) {
        present.store(access(_PATH_LOG, F_OK) == 0, std::memory_order_relaxed);
        checked.store(now, std::memory_order_relaxed);
    }
    return present.load(std::memory_order_relaxed);
}

void emit(int priority, std::string_view line) {
    const std::time_t now = std::time(nullptr);
    if (opened && syslog_present(now)) syslog(priority, "%.*s", static_cast<int>(line.size()), line.data());
    if (!to_stderr) return;
    // One write per line. The stamp is formatted once a second, not per line
    // (localtime_r looks at /etc/localtime on every call).
    std::string out;
    out.reserve(line.size() + 40);
    {
        static std::time_t stamped = -1;  // guarded by stderr_mutex, like stamp
        static char stamp[32];
        std::lock_guard<std::mutex> lock(stderr_mutex);
        if (now != stamped) {
            std::tm tm{};
            localtime_r(&now, &tm);
            std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
            stamped = now;
        }
        out = stamp;
    }
    out.append(" tlspolicy-milter: ").append(line).push_back('\n');
    for (std::size_t done = 0; done < out.size();) {
        const ssize_t n = ::write(STDERR_FILENO, out.data() + done, out.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // stderr gone: nothing better to do with the line
        done += static_cast<std::size_t>(n);
    }
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
