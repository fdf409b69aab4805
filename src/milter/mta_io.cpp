// libmilter owns the connections it accepts from the MTA, and their reads
// and writes. As daemon.cpp does for sigwait(), this file defines accept(),
// read(), poll(), writev() and close() in our executable, which the dynamic
// linker prefers over libc's for libmilter's calls, to change two things:
//
// Read-ahead, on every connection. libmilter reads each command in two
// read()s (the 5-byte length and command, then the payload), each after a
// poll() of its own: three system calls per command, also for the headers
// and macros that arrive many at a time. read() here asks the kernel for
// everything queued (up to kReadAhead bytes), hands libmilter what it asked
// for and keeps the rest for its next reads (ReadAhead); poll() reports a
// connection with kept bytes as readable at once, without waiting. libmilter
// sees the same bytes in the same order, and readiness as the kernel would
// report it had the bytes stayed queued there.
//
// No delayed ACKs over TCP (see NOTES.md "Milter over TCP"): the MTA writes
// a command the milter does not answer (macros, a header, MAIL with
// SMFIP_NR_MAIL), then its next small write is held back by Nagle until that
// data is ACKed, and our kernel delays the ACK (about 40 ms on Linux loopback)
// hoping to send it with a reply that never comes. accept() sets TCP_NODELAY
// on every TCP connection (our replies go out at once); read() follows the
// milter commands in the bytes the kernel gave (CommandTracker) and asks for
// an immediate ACK (TCP_QUICKACK) only when a command the milter will not
// answer was just read in full and nothing more is queued: a command that gets
// a reply carries its ACK with the reply, and more queued data means the MTA
// is not waiting on us. (Acking after every read instead cost a pure ACK
// packet per read, 30 % of the throughput at concurrency 1, BENCHMARKS.md.)
// writev() reads the protocol flags from libmilter's negotiation reply (which
// commands get no reply); close() forgets the connection and its kept bytes.
//
// Safe because libmilter sees libc's bytes, return values and readiness;
// only socket options and the size of the kernel reads change. Every other
// descriptor (the pool's pipe, the store's database, stderr) passes through.
#include "milter/mta_io.hpp"

#include <dlfcn.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

extern "C" {
// glibc's own entry points (exported), so ours never call themselves.
ssize_t __read(int fd, void* buf, size_t count);
int __close(int fd);
int __poll(struct pollfd* fds, nfds_t n, int timeout);
}

namespace tlspolicy::milter {

std::size_t ReadAhead::take(void* to, std::size_t count) {
    const std::size_t n = std::min(count, size());
    std::memcpy(to, bytes_.data() + at_, n);
    at_ += n;
    if (at_ == bytes_.size()) clear();
    return n;
}

void ReadAhead::keep(const char* from, std::size_t n) {
    if (size() == 0) clear();
    bytes_.append(from, n);
}

void ReadAhead::clear() {
    bytes_.clear();  // keeps its capacity for the connection's next batch
    at_ = 0;
}

void CommandTracker::negotiated(std::uint32_t protocol) {
    protocol_ = protocol;
    known_ = true;
}

bool CommandTracker::answered(unsigned char command) const {
    std::uint32_t no_reply = 0;  // the flag that lets the milter leave `command` unanswered
    switch (command) {
    // QUIT: libmilter closes the connection at once, and the FIN carries the
    // ACK; an immediate one would be a packet more per connection.
    case SMFIC_QUIT: return true;
    // ABORT too gets no reply, and the MTA's next command (after STARTTLS, the
    // new HELO's macros) may follow it sooner than the delayed ACK would.
    case SMFIC_MACRO: case SMFIC_ABORT: case SMFIC_QUIT_NC: return false;
    case SMFIC_CONNECT: no_reply = SMFIP_NR_CONN; break;
    case SMFIC_HELO: no_reply = SMFIP_NR_HELO; break;
    case SMFIC_MAIL: no_reply = SMFIP_NR_MAIL; break;
    case SMFIC_RCPT: no_reply = SMFIP_NR_RCPT; break;
    case SMFIC_DATA: no_reply = SMFIP_NR_DATA; break;
    case SMFIC_UNKNOWN: no_reply = SMFIP_NR_UNKN; break;
    case SMFIC_HEADER: no_reply = SMFIP_NR_HDR; break;
    case SMFIC_EOH: no_reply = SMFIP_NR_EOH; break;
    case SMFIC_BODY: no_reply = SMFIP_NR_BODY; break;
    default: return true;  // negotiation, end of message, anything new
    }
    // Before the flags are known, assume no reply: an ACK too many costs a
    // packet, one too few costs 40 ms.
    return known_ && (protocol_ & no_reply) == 0;
}

bool CommandTracker::feed(const unsigned char* data, std::size_t n) {
    bool unanswered_last = false;
    while (n > 0) {
        if (have_ < sizeof header_) {
            const std::size_t take = std::min<std::size_t>(sizeof header_ - have_, n);
            std::memcpy(header_ + have_, data, take);
            have_ = static_cast<std::uint8_t>(have_ + take);
            data += take;
            n -= take;
            if (have_ < sizeof header_) return false;  // a command begun, not finished
            const std::uint32_t length = std::uint32_t{header_[0]} << 24 | std::uint32_t{header_[1]} << 16 |
                                         std::uint32_t{header_[2]} << 8 | header_[3];
            remaining_ = length > 0 ? length - 1 : 0;  // the length counts the command character
        } else {
            const std::size_t take = std::min<std::size_t>(remaining_, n);
            remaining_ -= static_cast<std::uint32_t>(take);
            data += take;
            n -= take;
        }
        if (remaining_ == 0) {  // one command complete
            unanswered_last = !answered(header_[4]);
            have_ = 0;
        } else {
            unanswered_last = false;
        }
    }
    return unanswered_last;
}

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

void tune_mta_connections() { g_on = true; }

}  // namespace tlspolicy::milter

using namespace tlspolicy::milter;

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
