// Over TCP, each milter stage cost a delayed-ACK wait (about 40 ms on Linux
// loopback, see BENCHMARKS.md "TCP"): the MTA's next small write is held back
// by Nagle until our side ACKs, and our kernel delays that ACK. libmilter owns
// the accepted sockets and their reads, so, as daemon.cpp does for sigwait(),
// this file defines accept() and read() in our executable, which the dynamic
// linker prefers over libc's for libmilter's calls. accept() sets TCP_NODELAY
// on every TCP connection and marks its descriptor; read() re-arms
// TCP_QUICKACK after each read on a marked descriptor (the kernel clears it
// by itself); close() unmarks. Everything else passes through unchanged.
#include "milter/tcp_tuning.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

extern "C" {
// glibc's own entry points (exported), so ours never call themselves.
ssize_t __read(int fd, void* buf, size_t count);
int __close(int fd);
}

namespace tlspolicy::milter {
namespace {

std::atomic<bool> g_on{false};
std::atomic<unsigned long> g_tuned{0};

// One bit per descriptor below kMaxFd; descriptors above are tuned at accept
// but not re-armed (a milter with 65,536 open sessions has other worries).
constexpr int kMaxFd = 65536;
std::atomic<std::uint64_t> g_marked[kMaxFd / 64];

bool marked(int fd) {
    return fd >= 0 && fd < kMaxFd &&
           (g_marked[fd / 64].load(std::memory_order_relaxed) >> (fd % 64) & 1u) != 0;
}

void mark(int fd, bool on) {
    if (fd < 0 || fd >= kMaxFd) return;
    const std::uint64_t bit = std::uint64_t{1} << (fd % 64);
    if (on) g_marked[fd / 64].fetch_or(bit, std::memory_order_relaxed);
    else g_marked[fd / 64].fetch_and(~bit, std::memory_order_relaxed);
}

void set_flag(int fd, int option) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, option, &one, sizeof one);  // best effort: a failure only costs speed
}

}  // namespace

void tune_tcp_connections() { g_on = true; }

unsigned long tuned_tcp_connections() { return g_tuned.load(); }

}  // namespace tlspolicy::milter

using namespace tlspolicy::milter;

extern "C" int accept(int listener, struct sockaddr* addr, socklen_t* len) {
    const int fd = accept4(listener, addr, len, 0);
    if (fd < 0) return fd;
    const int saved = errno;
    mark(fd, false);  // a number reused from an earlier connection
    int domain = 0;
    socklen_t size = sizeof domain;
    if (g_on.load(std::memory_order_relaxed) && getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &size) == 0 &&
        (domain == AF_INET || domain == AF_INET6)) {
        set_flag(fd, TCP_NODELAY);
        set_flag(fd, TCP_QUICKACK);
        mark(fd, true);
        g_tuned.fetch_add(1, std::memory_order_relaxed);
    }
    errno = saved;
    return fd;
}

extern "C" ssize_t read(int fd, void* buf, size_t count) {
    const ssize_t n = __read(fd, buf, count);
    if (n > 0 && marked(fd)) {
        const int saved = errno;
        set_flag(fd, TCP_QUICKACK);
        errno = saved;
    }
    return n;
}

extern "C" int close(int fd) {
    mark(fd, false);
    return __close(fd);
}
