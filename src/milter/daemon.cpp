// Daemon life cycle. libmilter's own signal thread treats SIGHUP like SIGTERM
// (sendmail libmilter/signal.c) and would stop us on every logrotate; the
// libc shim (libc_shim.cpp) hides our signals from it so that our thread
// alone receives them: HUP/USR1 reload, TERM/INT stop (which drains: see
// stop()). Linked into the program with the shim, not into libtlspolicy.a.
#include "milter/daemon.hpp"

#include <fcntl.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <mutex>
#include <thread>

#include "config/config.hpp"
#include "config/reload_scope.hpp"
#include "config/socket_spec.hpp"
#include "milter/callbacks.hpp"
#include "milter/libc_shim.hpp"
#include "milter/log.hpp"
#include "milter/run_files.hpp"
#include "milter/snapshot.hpp"
#include "stats/stats_file.hpp"
#include "store/observation_store.hpp"
#include "store/spool_claim.hpp"
#include "tls/sha256.hpp"

namespace tlspolicy::milter {

namespace {

// The observation store, when [observations] database is set; lives until exit.
ObservationStore* g_store = nullptr;
// The lock on a PostgreSQL store's spool, held until exit.
SpoolClaim* g_spool_claim = nullptr;

std::string describe(const Config& c) {
    const Policy& p = *c.policy;
    return "policy " + c.path + ": mode " + std::string(word(p.mode)) + ", " +
           std::to_string(p.partners.size()) + " partner rules, " + std::to_string(p.recipients.size()) +
           " recipient rules";
}

// The policy now in force, for the store's policy_versions: recorded at
// start and at every reload. The hash is of the file as it is now; an edit
// between loading and hashing would go unnoticed until the next reload.
void record_policy_version(const Config& c) {
    if (!g_store) return;
    std::string error;
    std::string sha = sha256_file_hex(c.path, &error);
    if (sha.empty()) {
        log::warning("observations: policy version not recorded: " + error);
        return;
    }
    g_store->record_policy({std::int64_t{std::time(nullptr)}, "", std::move(sha), c.policy->mode});
}

void reload(const std::string& path) {
    LoadResult r = load_config_file(path);
    for (const Diagnostic& d : r.diagnostics) (d.warning ? log::warning : log::error)(d.format());
    metrics().count_reload(r.ok());
    if (!r.ok()) {
        log::error("reload of " + path + " failed: keeping the running policy");
        return;
    }
    // The running values of restart-only keys stay in use (run_daemon and the
    // store took them at start); everything else comes from the new file.
    if (auto old = running_config().get())
        if (std::string w = restart_only_warning(*old, *r.config); !w.empty()) log::warning(w);
    running_config().set(r.config);
    log::info("reloaded " + describe(*r.config));
    record_policy_version(*r.config);
}

// Rewrites [stats] file every [stats] interval seconds, as the running
// configuration says at the time (a reload can turn it on, off or move it).
void write_stats() {
    // The stats thread and the final write at shutdown may meet here: one at a
    // time, so an earlier rendering never replaces the final counts.
    static std::mutex one_writer;
    std::lock_guard lock(one_writer);
    auto cfg = running_config().get();
    if (!cfg || cfg->stats.file.empty()) return;
    if (g_store) metrics().set_observation_counts(g_store->written(), g_store->dropped(), g_store->spooled());
    std::string error;
    if (!write_file_atomically(cfg->stats.file, metrics().render(), &error)) log::warning("stats: " + error);
}

// Started after the first configuration is in place.
void stats_loop() {
    for (;;) {
        write_stats();
        std::this_thread::sleep_for(std::chrono::seconds(running_config().get()->stats.interval));
    }
}

struct StopInfo {
    std::string pidfile;
    std::string unix_socket;
    ino_t socket_inode = 0;  // the socket we bound: a path now naming another is not ours
    int timeout = 10;
};

void remove_socket(const StopInfo& how) {
    struct stat st {};
    if (how.unix_socket.empty() || lstat(how.unix_socket.c_str(), &st) != 0) return;
    if (st.st_ino == how.socket_inode && unlink(how.unix_socket.c_str()) != 0)
        log::warning("cannot remove socket " + how.unix_socket + ": " + std::strerror(errno));
}

void remove_pidfile_logged(const std::string& pidfile) {
    if (pidfile.empty()) return;
    if (std::string why = remove_pidfile(pidfile); !why.empty()) log::warning(why);
}

// How a stop drains. Debian's libmilter serves sessions from a worker pool
// whose controller quits as soon as smfi_stop() is called: from then on no
// session in flight gets another command read, so an end-of-message sent after
// it is never answered. And smfi_stop() is the only way to end libmilter's
// listener. So, in order:
//   1. stop accepting: the listening descriptor is replaced (dup2) by a decoy
//      listening socket nobody connects to, and a unix socket path is removed;
//   2. wait for the sessions in flight, up to the stop timeout;
//   3. smfi_stop(), so that smfi_main returns in the main thread, which exits.
// The listener sits in poll() for seconds at a time (MI_CHK_TIME) and would
// notice either change only then: a signal to the main thread (SIGUSR2, whose
// handler does nothing) ends the poll with EINTR, and libmilter polls again.
std::atomic<bool> g_stop_requested{false};
std::atomic<bool> g_listener_closed{false};
pthread_t g_main_thread;
int g_listen_fd = -1;  // libmilter's listening descriptor

extern "C" void interrupt_poll(int) {}

void kick_listener() { pthread_kill(g_main_thread, SIGUSR2); }

// Step 1 (the decoy: libc_shim.cpp).
void stop_accepting(const StopInfo& how) {
    if (std::string why = libc_shim::swap_listener_for_decoy(g_listen_fd); !why.empty())
        log::warning("cannot close the listening socket early: " + why + "; new connections are accepted until "
                     "libmilter stops");
    kick_listener();
    remove_socket(how);
}

// In the signal thread, on SIGTERM or SIGINT: steps 1 to 3.
void stop(const StopInfo& how, int sig) {
    if (g_stop_requested.exchange(true)) return;  // a second signal changes nothing
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(how.timeout);
    stop_accepting(how);
    log::info(std::string("stopping on ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ": no new connections, " +
              std::to_string(active_connections()) + " sessions in flight get up to " + std::to_string(how.timeout) +
              " s to finish");
    while (active_connections() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (active_connections() > 0)
        log::warning("stopping with " + std::to_string(active_connections()) +
                     " sessions still open: the MTA answers them with its milter_default_action");
    // smfi_stop() marks the stop at once, then waits for the listener to
    // leave its poll (a side thread). A kick may land outside the poll: repeat.
    std::thread(smfi_stop).detach();
    for (int i = 0; i < 200 && !g_listener_closed; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        kick_listener();
    }
}

// In the main thread, once smfi_main has returned after stop(): what was
// decided is saved, the files are removed, and we leave.
[[noreturn]] void finish_stop(const StopInfo& how) {
    sigset_t kicks;
    sigemptyset(&kicks);
    sigaddset(&kicks, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &kicks, nullptr);  // a late kick has nothing left to interrupt
    if (g_store) g_store->flush();  // what was decided is written, or dropped and counted
    write_stats();
    remove_socket(how);  // when stop_accepting could not
    remove_pidfile_logged(how.pidfile);
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
        if (sig < 0 || g_stop_requested) continue;
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

// A unix socket is group "postfix" (when that group exists) and has the
// [milter] socket_mode bits, so Postfix's smtpd can connect while other local
// users cannot; owned by `user` when one is set.
void set_socket_access(const std::string& path, int mode, const std::string& user) {
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    if (struct passwd* pw = user.empty() ? nullptr : getpwnam(user.c_str())) {
        uid = pw->pw_uid;
        gid = pw->pw_gid;
    }
    if (struct group* gr = getgrnam("postfix")) gid = gr->gr_gid;
    if ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) && chown(path.c_str(), uid, gid) != 0)
        log::warning("cannot chown " + path + ": " + std::strerror(errno));
    if (chmod(path.c_str(), static_cast<mode_t>(mode)) != 0)
        log::warning("cannot chmod " + path + ": " + std::strerror(errno));
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
    // Nothing of a running instance is taken over: its pidfile and its socket
    // are checked before anything is touched.
    if (std::string why = pidfile.empty() ? "" : pidfile_problem(pidfile); !why.empty()) {
        log::error("not starting: " + why);
        return 1;
    }
    const std::string path = unix_socket_path(socket);
    if (!path.empty()) {
        std::string dir = path.substr(0, path.find_last_of('/') + 1);
        if (dir.size() > 1 && mkdir(dir.c_str(), 0755) == 0) log::info("created " + dir);
        bool removed = false;
        if (std::string why = claim_unix_socket(path, &removed); !why.empty()) {
            log::error("not starting: " + why);
            return 1;
        }
        if (removed) log::info("removed stale socket " + path);
    }
    // Opened before privileges drop. rmsocket is false: claim_unix_socket has
    // removed a stale socket, and a live one must make the bind fail.
    errno = 0;
    if (smfi_opensocket(false) != MI_SUCCESS) {
        if (errno == EADDRINUSE)
            log::error("not starting: " + socket + " is already in use by another process: stop it, or choose "
                       "another socket");
        else
            log::error("not starting: cannot open socket " + socket + ": " +
                       (errno ? std::strerror(errno) : "libmilter refused it (its reason is in the mail log)"));
        return 1;
    }
    g_listen_fd = libc_shim::find_listener();
    StopInfo how{pidfile, path, 0, std::min(ms.timeout, 10)};
    if (struct stat st {}; !path.empty() && lstat(path.c_str(), &st) == 0) how.socket_inode = st.st_ino;
    if (!path.empty()) set_socket_access(path, ms.socket_mode, user);

    if (!o.foreground && daemon(0, 0) != 0) {
        log::error(std::string("cannot detach: ") + std::strerror(errno));
        return 1;
    }
    // Written by the final process, before privileges drop: the pidfile's
    // directory (/run) is usually writable by root only.
    if (!pidfile.empty()) {
        if (std::string why = write_pidfile(pidfile); !why.empty()) {
            log::error("not starting: " + why);
            remove_socket(how);
            return 1;
        }
    }
    if (!drop_privileges(user)) {
        remove_socket(how);
        remove_pidfile_logged(pidfile);
        return 1;
    }

    // Every thread started from here on inherits this mask: our signals
    // reach only signal_loop.
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGHUP, SIGUSR1, SIGTERM, SIGINT}) sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);
    // poll() always fails with EINTR when a handler runs (signal(7)), even
    // with SA_RESTART; everything else the main thread does is restarted.
    struct sigaction kick {};
    kick.sa_handler = interrupt_poll;
    kick.sa_flags = SA_RESTART;
    sigaction(SIGUSR2, &kick, nullptr);
    g_main_thread = pthread_self();  // after daemon(): the thread that runs smfi_main
    // After detaching and dropping privileges: the writer thread must exist
    // in the final process and create the database as the final user. A
    // PostgreSQL store needs its spool: without one an outage would drop
    // every observation, so no spool (or one another instance uses), no start.
    if (const ObservationSettings& obs = r.config->observations; is_postgres_url(obs.database)) {
        std::string error;
        const std::string who = "pid " + std::to_string(getpid()) + ", config " + o.config_path + ", socket " + socket;
        g_spool_claim = claim_spool(obs.spool, who, &error).release();
        if (!g_spool_claim) {
            log::error("not starting: [observations] spool: " + error +
                       " (a PostgreSQL store keeps observations there while the server is unreachable; --check says more)");
            remove_socket(how);
            remove_pidfile_logged(pidfile);
            return 1;
        }
    }
    if (const ObservationSettings& obs = r.config->observations; !obs.database.empty()) {
        StoreOptions so;
        so.path = obs.database;
        so.keep_days = obs.keep_days;
        so.host = obs.host;
        so.spool = obs.spool;
        so.spool_max_rows = static_cast<std::size_t>(obs.spool_max_rows);
        g_store = new ObservationStore(so, [](std::string_view m) { log::warning("observations: " + std::string(m)); });
        set_observation_sink([](Observation&& ob) { g_store->enqueue(std::move(ob)); });
        record_policy_version(*r.config);
    }
    std::thread(signal_loop, o.config_path, how).detach();
    std::thread(stats_loop).detach();

    libc_shim::install();  // read-ahead, no delayed ACKs on TCP, SIGHUP kept from libmilter: see libc_shim.cpp
    log::info("starting on " + socket + ", " + describe(*r.config));
    int rc = smfi_main();  // returns when stopped, or when libmilter fails
    g_listener_closed = true;
    if (g_stop_requested) finish_stop(how);
    log::error("libmilter stopped on its own (smfi_main returned " + std::to_string(rc) +
               "): its reason is in the mail log; exiting");
    remove_socket(how);
    remove_pidfile_logged(pidfile);
    std::fflush(nullptr);
    _exit(1);
}

}  // namespace tlspolicy::milter
