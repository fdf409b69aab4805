// Where the milter works around libmilter below libc: this file defines
// accept(), read(), poll(), writev(), close() and sigwait() in the daemon's
// executable, which the dynamic linker prefers over libc's for libmilter's
// calls, and swaps the listening descriptor for a decoy at stop. It is the
// only file that may define a libc symbol (tests/libc-shim-guard checks every
// object), it is linked into the daemon program and the glue tests only, and
// each function is libc's own until the daemon calls install(). The reasons,
// one by one:
//
// 1. Read-ahead (libmilter's reads and polls). libmilter reads each command
//    in two read()s (the 5-byte length and command, then the payload), each
//    after a poll() of its own: three system calls per command, also for the
//    headers and macros that arrive many at a time. read() here asks the
//    kernel for everything queued (up to kReadAhead bytes), hands libmilter
//    what it asked for and keeps the rest for its next reads (ReadAhead,
//    mta_io.hpp); poll() reports a connection with kept bytes as readable at
//    once, without waiting. libmilter sees the same bytes in the same order,
//    and readiness as the kernel would report it had the bytes stayed queued.
//    Measured: 52 reads + 86 polls -> 3 + 13 per message (BENCHMARKS.md).
//
// 2. No delayed ACKs over TCP. The MTA writes a command the milter does not
//    answer (macros, a header, MAIL with SMFIP_NR_MAIL); its next small write
//    is then held back by Nagle's algorithm until that data is ACKed, and our
//    kernel delays the ACK (about 40 ms on Linux loopback) hoping to send it
//    with a reply that never comes. Measured behind Postfix over inet: the
//    milter reached 0.84 of an end-of-message-only milter's throughput with
//    the delays, 1.04 with TCP_NODELAY and timely ACKs. accept() sets
//    TCP_NODELAY on every TCP connection (our replies go out at once); read()
//    follows the milter commands in the bytes the kernel gave (CommandTracker)
//    and asks for an immediate ACK (TCP_QUICKACK) only when a command the
//    milter will not answer was just read in full and nothing more is queued:
//    a command that gets a reply carries its ACK with the reply, and more
//    queued data means the MTA is not waiting on us. (Acking after every read
//    instead cost a pure ACK packet per read, 30 % of the throughput at
//    concurrency 1.) writev() reads the protocol flags from libmilter's
//    negotiation reply (which commands get no reply); close() forgets the
//    connection and its kept bytes.
//
// 3. SIGHUP reloads. libmilter's signal thread treats SIGHUP like SIGTERM: see
//    sigwait() below.
//
// 4. The drain at stop. Debian's libmilter serves sessions from a worker pool
//    whose controller quits as soon as smfi_stop() is called, so a session in
//    flight would get no further command read; yet smfi_stop() is the only
//    way to end libmilter's listener. The daemon therefore first stops
//    accepting by putting a decoy in place of the listening descriptor
//    (swap_listener_for_decoy), waits for the sessions in flight, and only
//    then calls smfi_stop() (daemon.cpp, stop()).
//
// Safe because libmilter sees libc's bytes, return values and readiness;
// only socket options and the size of the kernel reads change. Every other
// descriptor (the pool's pipe, the store's database, stderr) passes through,
// and a failure to set a socket option costs speed, never mail.
#include "milter/libc_shim.hpp"

#include <dlfcn.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "milter/mta_io.hpp"

extern "C" {
// glibc's own entry points (exported), so ours never call themselves.
ssize_t __read(int fd, void* buf, size_t count);
int __close(int fd);
int __poll(struct pollfd* fds, nfds_t n, int timeout);
}

namespace tlspolicy::milter::libc_shim {
namespace {

std::atomic<bool> g_on{false};

// What we know of one accepted connection. Made at its first accept and kept
// for the descriptor number (a later connection with the same number starts
// it afresh), so a pointer read from the table stays valid. A connection is
// served by one libmilter thread at a time, handed over under libmilter's
// own locks; `ahead_bytes` is also read by poll() in the pool's thread.
struct Accepted {
    std::atomic<bool> on{false};
    bool tcp = false;
    std::atomic<std::size_t> ahead_bytes{0};
    ReadAhead ahead;
    CommandTracker commands;
};

// Descriptors at or above kMaxFd pass through untuned (a milter with 65,536
// open sessions has other worries). Static: zero pages until used.
constexpr int kMaxFd = 65536;
std::atomic<Accepted*> g_fds[kMaxFd];

// How much read() asks the kernel for when libmilter asks for less: a batch
// of headers or macros, one read. Larger requests (body chunks) go straight
// to libmilter's buffer.
constexpr std::size_t kReadAhead = 16384;

Accepted* accepted(int fd) {
    if (fd < 0 || fd >= kMaxFd) return nullptr;
    Accepted* a = g_fds[fd].load(std::memory_order_acquire);
    return a && a->on.load(std::memory_order_relaxed) ? a : nullptr;
}

void set_flag(int fd, int option) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, option, &one, sizeof one);  // best effort: a failure only costs speed
}

// Whether the listening socket speaks TCP, asked once per listener.
bool listener_is_tcp(int listener) {
    static std::atomic<int> known_fd{-1};
    static std::atomic<bool> known_tcp{false};
    if (known_fd.load(std::memory_order_acquire) == listener) return known_tcp.load(std::memory_order_relaxed);
    int domain = 0;
    socklen_t size = sizeof domain;
    const bool tcp = getsockopt(listener, SOL_SOCKET, SO_DOMAIN, &domain, &size) == 0 &&
                     (domain == AF_INET || domain == AF_INET6);
    known_tcp.store(tcp, std::memory_order_relaxed);
    known_fd.store(listener, std::memory_order_release);
    return tcp;
}

// After each read from the kernel on a TCP connection: an immediate ACK when
// the bytes end with a command the milter leaves unanswered and nothing more
// is queued.
void after_kernel_read(int fd, Accepted& a, const void* data, std::size_t n) {
    if (!a.tcp || !a.commands.feed(static_cast<const unsigned char*>(data), n)) return;
    int queued = 0;
    if (ioctl(fd, FIONREAD, &queued) == 0 && queued == 0) set_flag(fd, TCP_QUICKACK);  // sends the pending ACK now
}

}  // namespace

void install() { g_on = true; }

int find_listener() {
    for (int fd = 0; fd < 1024; ++fd) {
        int listening = 0;
        socklen_t len = sizeof listening;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening) return fd;
    }
    return -1;
}

// The decoy is a non-blocking unix socket listening on an abstract address
// of its own: the listener's poll never wakes for it, and an accept() after
// an interrupted poll fails with EAGAIN, which libmilter retries silently.
// The old socket closes once no poll holds it; from then on connections to
// it are refused.
std::string swap_listener_for_decoy(int fd) {
    const int decoy = fd < 0 ? -1 : socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un autobind{};
    autobind.sun_family = AF_UNIX;
    std::string why;
    if (fd < 0) why = "libmilter's listening socket was not found";
    else if (decoy < 0 || bind(decoy, reinterpret_cast<sockaddr*>(&autobind), sizeof(sa_family_t)) != 0 ||
             listen(decoy, 1) != 0 || dup2(decoy, fd) < 0)
        why = std::strerror(errno);
    if (decoy >= 0) __close(decoy);
    return why;
}

}  // namespace tlspolicy::milter::libc_shim

using namespace tlspolicy::milter;
using namespace tlspolicy::milter::libc_shim;

// libmilter's signal thread calls sigwait() with {HUP, TERM, INT} and stops
// the milter on each (sendmail libmilter/signal.c), so a logrotate HUP would
// stop us. Once installed, the signals the daemon handles itself are taken
// out of the set, so libmilter's thread waits for none of them. The daemon
// calls sigwaitinfo(), not sigwait(), so this never applies to its own thread.
extern "C" int sigwait(const sigset_t* set, int* sig) {
    sigset_t rest = *set;
    if (g_on.load(std::memory_order_relaxed))
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

extern "C" int accept(int listener, struct sockaddr* addr, socklen_t* len) {
    const int fd = accept4(listener, addr, len, 0);
    if (fd < 0 || fd >= kMaxFd || !g_on.load(std::memory_order_relaxed)) return fd;
    const int saved = errno;
    Accepted* a = g_fds[fd].load(std::memory_order_acquire);
    if (!a) {
        a = new Accepted;
        g_fds[fd].store(a, std::memory_order_release);
    }
    a->tcp = listener_is_tcp(listener);
    a->ahead.clear();
    a->ahead_bytes.store(0, std::memory_order_relaxed);
    a->commands = CommandTracker{};
    if (a->tcp) set_flag(fd, TCP_NODELAY);
    a->on.store(true, std::memory_order_release);
    errno = saved;
    return fd;
}

extern "C" ssize_t read(int fd, void* buf, size_t count) {
    Accepted* a = accepted(fd);
    if (!a || count == 0) return __read(fd, buf, count);
    if (a->ahead.size() > 0) {
        const std::size_t n = a->ahead.take(buf, count);
        a->ahead_bytes.store(a->ahead.size(), std::memory_order_release);
        return static_cast<ssize_t>(n);
    }
    if (count >= kReadAhead) {  // a body chunk: straight into libmilter's buffer
        const ssize_t n = __read(fd, buf, count);
        if (n > 0) after_kernel_read(fd, *a, buf, static_cast<std::size_t>(n));
        return n;
    }
    thread_local char scratch[kReadAhead];
    const ssize_t got = __read(fd, scratch, sizeof scratch);
    if (got <= 0) return got;
    const int saved = errno;
    after_kernel_read(fd, *a, scratch, static_cast<std::size_t>(got));
    const std::size_t n = std::min(count, static_cast<std::size_t>(got));
    std::memcpy(buf, scratch, n);
    if (static_cast<std::size_t>(got) > n) {
        a->ahead.keep(scratch + n, static_cast<std::size_t>(got) - n);
        a->ahead_bytes.store(a->ahead.size(), std::memory_order_release);
    }
    errno = saved;
    return static_cast<ssize_t>(n);
}

// A connection with kept bytes is readable now: reported at once, without
// a system call. (poll() may report fewer of the ready descriptors than
// there are; the others show on the next call.)
extern "C" int poll(struct pollfd* fds, nfds_t n, int timeout) {
    if (!g_on.load(std::memory_order_relaxed)) return __poll(fds, n, timeout);
    int ready = 0;
    for (nfds_t i = 0; i < n; ++i) {
        const Accepted* a = (fds[i].events & POLLIN) ? accepted(fds[i].fd) : nullptr;
        if (a && a->ahead_bytes.load(std::memory_order_acquire) > 0) ++ready;
    }
    if (ready == 0) return __poll(fds, n, timeout);
    for (nfds_t i = 0; i < n; ++i) {
        const Accepted* a = (fds[i].events & POLLIN) ? accepted(fds[i].fd) : nullptr;
        fds[i].revents = a && a->ahead_bytes.load(std::memory_order_acquire) > 0 ? POLLIN : 0;
    }
    return ready;
}

// libmilter writes every reply with writev(); the first one on a connection
// is the negotiation reply: length, 'O', version, actions, protocol flags.
extern "C" ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
    Accepted* a = accepted(fd);
    if (a && a->tcp && !a->commands.negotiation_known()) {
        unsigned char head[17];
        std::size_t got = 0;
        for (int i = 0; i < iovcnt && got < sizeof head; ++i) {
            const std::size_t take = std::min(iov[i].iov_len, sizeof head - got);
            std::memcpy(head + got, iov[i].iov_base, take);
            got += take;
        }
        if (got == sizeof head && head[4] == SMFIC_OPTNEG)
            a->commands.negotiated(std::uint32_t{head[13]} << 24 | std::uint32_t{head[14]} << 16 |
                                   std::uint32_t{head[15]} << 8 | head[16]);
    }
    using WritevFn = ssize_t (*)(int, const struct iovec*, int);
    static const auto libc_writev = reinterpret_cast<WritevFn>(dlsym(RTLD_NEXT, "writev"));  // glibc exports no __writev
    return libc_writev(fd, iov, iovcnt);
}

extern "C" int close(int fd) {
    if (Accepted* a = accepted(fd)) {
        a->on.store(false, std::memory_order_release);
        a->ahead.clear();
        a->ahead_bytes.store(0, std::memory_order_relaxed);
    }
    return __close(fd);
}
