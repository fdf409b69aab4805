// Fuzz target: the milter glue (src/milter/callbacks.cpp) fed by the milter
// protocol. The real libmilter runs in this process, listening on a private
// unix socket with our real callbacks registered; each input is written to it
// as the byte stream an MTA would send, and the replies are read back until
// libmilter closes the session. So every byte goes through libmilter's own
// parser and state machine before our code sees it, exactly as in production;
// nothing of libmilter is faked. (libmilter itself is the system's library and
// not instrumented: coverage guidance comes from our code only.)
//
// Input: byte 0 picks the policy (annotate-only, enforcing with recipient rules
// and strip_forged, or the same in monitor mode); the rest is the stream.
// Checked on the way back: header values and SMTP replies libmilter passes to
// the MTA are printable and bounded, replies are 550 5.7.10 / 450 4.7.10, and
// (log_probe.cpp) every log line is clean and no exception reached a callback.
#include <libmilter/mfapi.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "core/sanitize.hpp"
#include "fuzz_support.hpp"
#include "milter/callbacks.hpp"
#include "milter/libc_shim.hpp"
#include "milter/snapshot.hpp"

using namespace tlspolicy;
using tlspolicy::fuzz::require;

namespace {

constexpr const char* kAnnotate = R"(
[milter]
mode = "enforce"
[header]
authserv_id = "mx.example.com"
strip_forged = false
[defaults]
action = "annotate"
[[partner]]
name = "acme"
senders = ["acme.example"]
action = "annotate"
)";

constexpr const char* kEnforce = R"(
[milter]
mode = "MODE"
[header]
name = "X-Transport-Security"
strip_forged = true
[defaults]
require_tls = false
action = "tempfail"
[[partner]]
name = "acme"
clients = ["127.0.0.0/8", "2001:db8::/32"]
senders = ["acme.example", ".acme.example"]
hostnames = [".acme.example"]
require_tls = true
min_version = "TLSv1.2"
action = "reject"
[[partner]]
name = "bank"
senders = ["bank.example"]
profile = "bsi-tr-02102-2"
action = "tempfail"
reply = "bank.example: 100% TLS 1.2 with AEAD, see contract"
[[recipient]]
name = "hr"
recipients = ["hr@example.com", ".secure.example"]
require_tls = true
min_version = "TLSv1.3"
action = "reject"
)";

std::array<std::shared_ptr<const Config>, 3> g_configs;
std::string g_socket;

std::shared_ptr<const Config> load(std::string text, const char* mode) {
    if (auto at = text.find("MODE"); at != std::string::npos) text.replace(at, 4, mode);
    LoadResult r = load_config_text(text, "fuzz-milter.toml");
    if (!r.ok()) {
        for (const Diagnostic& d : r.diagnostics) std::fprintf(stderr, "%s\n", d.format().c_str());
        std::abort();
    }
    return r.config;
}

void remove_socket() { unlink(g_socket.c_str()); }

bool write_all(int fd, const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;  // libmilter closed early: it refused the stream
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

// libmilter 8.17.1 (Debian 12) itself reads out of bounds when a macro packet
// carries an odd number of strings (a name without a value): smfi_getsymval
// steps over the argv array's terminating NULL two entries at a time and
// crashes in strcmp. No MTA sends that (Postfix and Sendmail always send
// pairs), and it is not ours to fix, so such streams are not fed to it.
// tests/fuzz/known/libmilter-odd-macro reproduces it.
bool libmilter_would_crash(const std::uint8_t* p, std::size_t n) {
    // Framing as libmilter's mi_rd_cmd reads it: a signed 32-bit length; one
    // of 1 or less (0, or >= 2^31) is a command without data.
    while (n >= 5) {
        auto len = static_cast<std::int32_t>((std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                                             (std::uint32_t{p[2]} << 8) | p[3]);
        const std::int64_t data = std::int64_t{len} - 1;
        if (data <= 0) {
            p += 5;
            n -= 5;
            continue;
        }
        if (data > 65535 || static_cast<std::uint64_t>(data) > n - 5) return false;  // too big, or EOF first
        const auto size = static_cast<std::size_t>(data);
        if (p[4] == 'D' && std::count(p + 6, p + 5 + size, 0) % 2 != 0) return true;
        p += 5 + size;
        n -= 5 + size;
    }
    return false;
}

// What the milter sent back, packet by packet (SMFIR_* codes, mfdef.h).
void check_replies(const std::string& out, const Config& cfg) {
    std::size_t at = 0;
    while (out.size() - at >= 5) {
        std::uint32_t len = (std::uint32_t(std::uint8_t(out[at])) << 24) | (std::uint32_t(std::uint8_t(out[at + 1])) << 16) |
                            (std::uint32_t(std::uint8_t(out[at + 2])) << 8) | std::uint8_t(out[at + 3]);
        if (len == 0 || out.size() - at - 4 < len) break;
        const char cmd = out[at + 4];
        std::string_view data(out.data() + at + 5, len - 1);
        at += 4 + len;
        if (cmd == 'y') {  // smfi_setreply: "550 5.7.10 text\0"
            std::string_view line = data.substr(0, data.find('\0'));
            fuzz::require_printable(line, "an SMTP reply is not printable");
            require(line.starts_with("550 5.7.10 ") || line.starts_with("450 4.7.10 "), "unexpected reply code", line);
            require(line.size() <= 11 + 2 * kMaxReplyText, "an SMTP reply is unbounded", line);
        } else if (cmd == 'h' || cmd == 'i' || cmd == 'm') {  // add / insert / change header
            if (cmd != 'h') data.remove_prefix(std::min<std::size_t>(4, data.size()));  // index
            std::string_view name = data.substr(0, data.find('\0'));
            std::string_view value = data.size() > name.size() ? data.substr(name.size() + 1) : std::string_view{};
            value = value.substr(0, value.find('\0'));
            require(name == cfg.header.name, "a header other than ours was touched", name);
            fuzz::require_printable(value, "a header value is not printable");
            require(value.size() <= 4096, "a header value is unbounded", value);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    g_configs = {load(kAnnotate, ""), load(kEnforce, "enforce"), load(kEnforce, "monitor")};
    milter::running_config().set(g_configs[0]);
    g_socket = "/tmp/tlspolicy-fuzz-milter." + std::to_string(getpid()) + ".sock";
    std::string spec = "unix:" + g_socket;
    if (!milter::register_filter() || smfi_setconn(spec.data()) != MI_SUCCESS || smfi_settimeout(10) != MI_SUCCESS ||
        smfi_opensocket(true) != MI_SUCCESS) {
        std::fprintf(stderr, "cannot start libmilter on %s\n", spec.c_str());
        std::abort();
    }
    std::atexit(remove_socket);
    // libmilter's reads, polls and writes go through the daemon's libc shim,
    // as in production (read-ahead on every connection it accepts).
    milter::libc_shim::install();
    std::thread([] { smfi_main(); }).detach();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1 || libmilter_would_crash(data + 1, size - 1)) return 0;
    const Config& cfg = *g_configs[data[0] % g_configs.size()];
    milter::running_config().set(g_configs[data[0] % g_configs.size()]);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, g_socket.c_str(), sizeof addr.sun_path - 1);
    for (int tries = 0; connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0; ++tries) {
        require(tries < 200 && (errno == EAGAIN || errno == ECONNREFUSED || errno == EINTR),
                "cannot connect to the milter socket", std::strerror(errno));
        usleep(5000);
    }
    write_all(fd, data + 1, size - 1);
    shutdown(fd, SHUT_WR);

    // libmilter closes the socket after xxfi_close has run: then this input is done.
    std::string out;
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        int n = poll(&p, 1, 20000);
        require(n > 0 || (n < 0 && errno == EINTR), "the milter did not end the session within 20 s");
        if (n < 0) continue;
        char buf[4096];
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        out.append(buf, static_cast<std::size_t>(r));
    }
    close(fd);
    check_replies(out, cfg);
    // The counters go to Prometheus as text: one printable line each.
    static unsigned inputs = 0;
    if (++inputs % 16 == 0) {
        std::string text = milter::metrics().render();
        for (std::size_t i = 0, end; i < text.size(); i = end + 1) {
            end = text.find('\n', i);
            if (end == std::string::npos) end = text.size();
            fuzz::require_printable(std::string_view(text).substr(i, end - i), "a metrics line is not printable");
        }
    }
    return 0;
}
