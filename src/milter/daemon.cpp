// Daemon life cycle. libmilter's own signal thread treats SIGHUP like SIGTERM
// (sendmail libmilter/signal.c) and would stop us on every logrotate; the
// sigwait() below hides our signals from it so that our thread alone
// receives them: HUP/USR1 reload, TERM/INT stop.
#include "milter/daemon.hpp"

#include <fcntl.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <thread>

#include "config/config.hpp"
#include "milter/callbacks.hpp"
#include "milter/log.hpp"
#include "milter/snapshot.hpp"
#include "milter/tcp_tuning.hpp"
#include "stats/stats_file.hpp"
#include "store/observation_store.hpp"

// libmilter calls sigwait() in its signal thread with {HUP, TERM, INT}. This
// definition in our executable takes precedence over libc's (the dynamic
// linker searches the executable first) and removes the signals we handle
// ourselves, so libmilter's thread waits for none of them. We call
// sigwaitinfo(), not sigwait(), so this never applies to our own thread.
extern "C" int sigwait(const sigset_t* set, int* sig) {
    sigset_t rest = *set;
    for (int s : {SIGHUP, SIGUSR1, SIGTERM, SIGINT}) sigdelset(&rest, s);
    for (;;) {
        int got = sigwaitinfo(&rest, nullptr);
        if (got >= 0) {
            *sig = got;
            return 0;
        }
        if (errno != EINTR) return errno;
    }
}

namespace tlspolicy::milter {

Snapshot& running_config() {
    static Snapshot s;
    return s;
}

namespace {

// The observation store, when [observations] database is set; lives until exit.
ObservationStore* g_store = nullptr;

std::string describe(const Config& c) {
    const Policy& p = *c.policy;
    return "policy " + c.path + ": mode " + std::string(mode_name(p.mode)) + ", " +
           std::to_string(p.partners.size()) + " partner rules, " + std::to_string(p.recipients.size()) +
           " recipient rules";
}

void reload(const std::string& path) {
    LoadResult r = load_config_file(path);
    for (const Diagnostic& d : r.diagnostics) (d.warning ? log::warning : log::error)(d.format());
    metrics().count_reload(r.ok());
    if (!r.ok()) {
        log::error("reload of " + path + " failed: keeping the running policy");
        return;
    }
    auto old = running_config().get();
    if (old && (old->milter.socket != r.config->milter.socket || old->milter.user != r.config->milter.user))
        log::warning("reload: [milter] socket and user take effect only on restart");
    if (old && (old->observations.database != r.config->observations.database ||
                old->observations.keep_days != r.config->observations.keep_days))
        log::warning("reload: [observations] takes effect only on restart");
    running_config().set(r.config);
    log::info("reloaded " + describe(*r.config));
}

// Rewrites [stats] file every [stats] interval seconds, as the running
// configuration says at the time (a reload can turn it on, off or move it).
void write_stats() {
    auto cfg = running_config().get();
    if (!cfg || cfg->stats.file.empty()) return;
    if (g_store) metrics().set_observation_counts(g_store->written(), g_store->dropped());
    std::string error;
    if (!write_file_atomically(cfg->stats.file, metrics().render(), &error)) log::warning("stats: " + error);
}

void stats_loop() {
    for (;;) {
        write_stats();
        auto cfg = running_config().get();
        std::this_thread::sleep_for(std::chrono::seconds(cfg ? cfg->stats.interval : 30));
    }
}

struct StopInfo {
    std::string pidfile;
    std::string unix_socket;
    int timeout = 10;
};

// Stops accepting, lets sessions in flight finish for a moment, and leaves.
// Whatever is still open then, the MTA answers with its milter_default_action
// (tempfail when enforcing): nothing is accepted without a verdict.
[[noreturn]] void stop(const StopInfo& how, int sig) {
    log::info(std::string("stopping on ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
    // smfi_stop() waits for libmilter's listener to wake from its poll (up
    // to 10 s); sessions can drain meanwhile, so it runs on a side thread.
    std::thread(smfi_stop).detach();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(how.timeout);
    while (active_connections() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (active_connections() > 0)
        log::warning("stopping with " + std::to_string(active_connections()) + " sessions still open");
    if (g_store) g_store->flush();  // what was decided is written, or dropped and counted
    write_stats();
    if (!how.pidfile.empty()) unlink(how.pidfile.c_str());
    if (!how.unix_socket.empty()) unlink(how.unix_socket.c_str());
    log::info("stopped");
    // Leave without running static destructors: libmilter's threads may
    // still be inside a callback that uses them.
    std::fflush(nullptr);
    _exit(0);
}

// Waits for our signals (blocked in every thread) and acts on them.
void signal_loop(std::string path, StopInfo how) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGHUP, SIGUSR1, SIGTERM, SIGINT}) sigaddset(&set, s);
    for (;;) {
        int sig = sigwaitinfo(&set, nullptr);
        if (sig == SIGTERM || sig == SIGINT) stop(how, sig);
        if (sig < 0) continue;
        try {
            reload(path);
        } catch (const std::exception& e) {
            log::error(std::string("reload failed: ") + e.what() + ": keeping the running policy");
        }
    }
}

bool drop_privileges(const std::string& user) {
    if (user.empty()) return true;
    struct passwd* pw = getpwnam(user.c_str());
    if (!pw) {
        log::error("user '" + user + "' does not exist");
        return false;
    }
    if (getuid() == pw->pw_uid) return true;
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        log::error("cannot become user '" + user + "': " + std::strerror(errno));
        return false;
    }
    return true;
}

std::string unix_socket_path(const std::string& socket) {
    for (const char* prefix : {"unix:", "local:"})
        if (socket.rfind(prefix, 0) == 0) return socket.substr(std::strlen(prefix));
    if (!socket.empty() && socket[0] == '/') return socket;
    return {};
}

// A unix socket is group "postfix" (when that group exists) and 0660 unless
// socket_mode says otherwise, so Postfix's smtpd can connect while other
// local users cannot; owned by `user` when one is set.
void set_socket_access(const std::string& path, std::optional<int> mode, const std::string& user) {
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    if (struct passwd* pw = user.empty() ? nullptr : getpwnam(user.c_str())) {
        uid = pw->pw_uid;
        gid = pw->pw_gid;
    }
    if (struct group* gr = getgrnam("postfix")) gid = gr->gr_gid;
    if ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) && chown(path.c_str(), uid, gid) != 0)
        log::warning("cannot chown " + path + ": " + std::strerror(errno));
    if (chmod(path.c_str(), static_cast<mode_t>(mode.value_or(0660))) != 0)
        log::warning("cannot chmod " + path + ": " + std::strerror(errno));
}

bool write_pidfile(const std::string& path) {
    if (path.empty()) return true;
    std::ofstream f(path, std::ios::trunc);
    f << getpid() << '\n';
    if (f) return true;
    log::error("cannot write pidfile " + path + ": " + std::strerror(errno));
    return false;
}

}  // namespace

int run_daemon(const DaemonOptions& options) {
    DaemonOptions o = options;
    log::open(o.foreground, o.verbose);
    // Detaching changes to /: reloads need the absolute path.
    if (char* abs = realpath(o.config_path.c_str(), nullptr)) {
        o.config_path = abs;
        std::free(abs);
    }
    LoadResult r = load_config_file(o.config_path);
    for (const Diagnostic& d : r.diagnostics) (d.warning ? log::warning : log::error)(d.format());
    if (!r.ok()) {
        log::error("not starting: " + o.config_path + " has errors (check it with --check)");
        return 1;
    }
    const MilterSettings& ms = r.config->milter;
    const std::string socket = o.socket.empty() ? ms.socket : o.socket;
    const std::string user = o.user.empty() ? ms.user : o.user;
    const std::string pidfile = o.pidfile.empty() ? ms.pidfile : o.pidfile;
    running_config().set(r.config);

    if (!register_filter()) return 1;
    if (smfi_setconn(const_cast<char*>(socket.c_str())) != MI_SUCCESS) {
        log::error("bad socket specification '" + socket + "'");
        return 1;
    }
    smfi_settimeout(ms.timeout);
    if (std::string dir = unix_socket_path(socket); !dir.empty()) {
        dir = dir.substr(0, dir.find_last_of('/') + 1);
        if (!dir.empty() && mkdir(dir.c_str(), 0755) == 0) log::info("created " + dir);
    }
    // Opened before privileges drop; a stale unix socket is removed first.
    if (smfi_opensocket(true) != MI_SUCCESS) {
        log::error("cannot open socket " + socket + ": " + std::strerror(errno));
        return 1;
    }
    const std::string path = unix_socket_path(socket);
    if (!path.empty()) set_socket_access(path, ms.socket_mode, user);
    if (!drop_privileges(user)) return 1;

    if (!o.foreground && daemon(0, 0) != 0) {
        log::error(std::string("cannot detach: ") + std::strerror(errno));
        return 1;
    }
    if (!write_pidfile(pidfile)) return 1;

    // Every thread started from here on inherits this mask: our signals
    // reach only signal_loop.
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGHUP, SIGUSR1, SIGTERM, SIGINT}) sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);
    // After detaching and dropping privileges: the writer thread must exist
    // in the final process and create the database as the final user.
    if (const ObservationSettings& obs = r.config->observations; !obs.database.empty()) {
        StoreOptions so;
        so.path = obs.database;
        so.keep_days = obs.keep_days;
        g_store = new ObservationStore(so, [](std::string_view m) { log::warning("observations: " + std::string(m)); });
        set_observation_sink([](Observation&& ob) { g_store->enqueue(std::move(ob)); });
    }
    std::thread(signal_loop, o.config_path, StopInfo{pidfile, path, std::min(ms.timeout, 10)}).detach();
    std::thread(stats_loop).detach();

    tune_tcp_connections();  // inet: and inet6: sockets only; see tcp_tuning.cpp
    log::info("starting on " + socket + ", " + describe(*r.config));
    int rc = smfi_main();  // returns only when libmilter fails or is stopped
    log::error("libmilter stopped (smfi_main returned " + std::to_string(rc) + ")");
    std::fflush(nullptr);
    _exit(rc == MI_SUCCESS ? 0 : 1);
}

}  // namespace tlspolicy::milter
