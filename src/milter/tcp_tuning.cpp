// Over TCP, each milter stage cost a delayed-ACK wait (about 40 ms on Linux
// loopback, see NOTES.md "Milter over TCP"): the MTA writes a command the
// milter does not answer (macros, a header, MAIL with SMFIP_NR_MAIL), then its
// next small write is held back by Nagle until that data is ACKed, and our
// kernel delays the ACK hoping to send it with a reply that never comes.
//
// libmilter owns the accepted sockets, their reads and writes, so, as
// daemon.cpp does for sigwait(), this file defines accept(), read(), writev()
// and close() in our executable, which the dynamic linker prefers over libc's
// for libmilter's calls. accept() sets TCP_NODELAY on every TCP connection
// (our replies go out at once) and marks it. read() follows the milter
// commands in the bytes read (CommandTracker) and asks for an immediate ACK
// (TCP_QUICKACK) only when a command the milter will not answer was just read
// in full and nothing more is queued: a command that gets a reply carries its
// ACK with the reply, and more queued data means the MTA is not waiting on us.
// Acking after every read instead cost a pure ACK packet per read, 30 % of
// the throughput at concurrency 1 (BENCHMARKS.md). writev() reads the
// protocol flags from libmilter's negotiation reply (which commands get no
// reply); close() unmarks. Everything else passes through unchanged.
//
// Safe because it only adds socket options and reads what passes by: the
// bytes and return values libmilter sees are libc's own.
#include "milter/tcp_tuning.hpp"

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>

extern "C" {
// glibc's own entry points (exported), so ours never call themselves.
ssize_t __read(int fd, void* buf, size_t count);
int __close(int fd);
}

namespace tlspolicy::milter {

void CommandTracker::negotiated(std::uint32_t protocol) {
    protocol_ = protocol;
    known_ = true;
}

bool CommandTracker::answered(unsigned char command) const {
    std::uint32_t no_reply = 0;  // the flag that lets the milter leave `command` unanswered
    switch (command) {
    case SMFIC_MACRO: case SMFIC_ABORT: case SMFIC_QUIT: case SMFIC_QUIT_NC: return false;
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
std::atomic<unsigned long> g_tuned{0}, g_quick_acks{0};

// One tracker per descriptor below kMaxFd, allocated when tuning is turned
// on; descriptors above are tuned at accept but not followed (a milter with
// 65,536 open sessions has other worries). A descriptor is read by one
// libmilter worker at a time, and libmilter hands a session between threads
// under its own locks, so the trackers need none.
constexpr int kMaxFd = 65536;
struct Tracked {
    bool on = false;
    CommandTracker commands;
};
std::unique_ptr<Tracked[]> g_fds;

Tracked* tracked(int fd) {
    Tracked* all = g_fds.get();
    return all && fd >= 0 && fd < kMaxFd && all[fd].on ? &all[fd] : nullptr;
}

void set_flag(int fd, int option) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, option, &one, sizeof one);  // best effort: a failure only costs speed
}

}  // namespace

void tune_tcp_connections() {
    if (!g_fds) g_fds.reset(new Tracked[kMaxFd]);  // before any accept: set once, then only read
    g_on = true;
}

unsigned long tuned_tcp_connections() { return g_tuned.load(); }
unsigned long quick_acks() { return g_quick_acks.load(); }

}  // namespace tlspolicy::milter

using namespace tlspolicy::milter;

extern "C" int accept(int listener, struct sockaddr* addr, socklen_t* len) {
    const int fd = accept4(listener, addr, len, 0);
    if (fd < 0 || !g_on.load(std::memory_order_relaxed)) return fd;
    const int saved = errno;
    int domain = 0;
    socklen_t size = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &size) == 0 && (domain == AF_INET || domain == AF_INET6)) {
        set_flag(fd, TCP_NODELAY);
        if (fd < kMaxFd) g_fds[fd] = Tracked{true, {}};  // a number reused from an earlier connection starts afresh
        g_tuned.fetch_add(1, std::memory_order_relaxed);
    }
    errno = saved;
    return fd;
}

extern "C" ssize_t read(int fd, void* buf, size_t count) {
    const ssize_t n = __read(fd, buf, count);
    if (n <= 0) return n;
    Tracked* t = tracked(fd);
    if (t && t->commands.feed(static_cast<const unsigned char*>(buf), static_cast<std::size_t>(n))) {
        const int saved = errno;
        int queued = 0;
        if (ioctl(fd, FIONREAD, &queued) == 0 && queued == 0) {
            set_flag(fd, TCP_QUICKACK);  // sends the pending ACK now
            g_quick_acks.fetch_add(1, std::memory_order_relaxed);
        }
        errno = saved;
    }
    return n;
}

// libmilter writes every reply with writev(); the first one on a connection
// is the negotiation reply: length, 'O', version, actions, protocol flags.
extern "C" ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
    Tracked* t = tracked(fd);
    if (t && !t->commands.negotiation_known()) {
        unsigned char head[17];
        std::size_t got = 0;
        for (int i = 0; i < iovcnt && got < sizeof head; ++i) {
            const std::size_t take = std::min(iov[i].iov_len, sizeof head - got);
            std::memcpy(head + got, iov[i].iov_base, take);
            got += take;
        }
        if (got == sizeof head && head[4] == SMFIC_OPTNEG)
            t->commands.negotiated(std::uint32_t{head[13]} << 24 | std::uint32_t{head[14]} << 16 |
                                   std::uint32_t{head[15]} << 8 | head[16]);
    }
    return syscall(SYS_writev, fd, iov, iovcnt);
}

extern "C" int close(int fd) {
    if (Tracked* t = tracked(fd)) t->on = false;
    return __close(fd);
}
