// milter_driver: the MTA side of the milter protocol (version 6), spoken to a
// milter socket the way Postfix 3.7's smtpd does it (src/milter/milter8.c), at
// a given concurrency, for benchmarks and the soak. It prints figures; it is
// not a test. One epoll loop drives every connection.
//
// Per connection, as Postfix: OPTNEG offering every action and every v6
// protocol flag; the macro lists the milter asked for (SMFIC_MACRO is sent for
// every event, also for those the milter switched off, as milter8_event()
// does); CONNECT, HELO, for a TLS session ABORT and a second HELO (STARTTLS);
// then per message MAIL, RCPT, DATA, headers, EOH, body, end of message (edit
// actions until the final reply), ABORT; finally QUIT. A stage the milter
// switched off (SMFIP_NO*) is not sent; a stage it said it will not answer
// (SMFIP_NR_*) is not waited for. No-reply commands are coalesced with the
// next command into one write, as Postfix's buffered stream does.
#include <fcntl.h>
#include <libmilter/mfapi.h>  // SMFIF_*, SMFIM_* (constants only; no libmilter linked)
#include <libmilter/mfdef.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// What Postfix 3.7 offers in OPTNEG (milter8.c: my_actions, MILTER8_V6_PROTO_MASK).
constexpr std::uint32_t kVersion = 6;
constexpr std::uint32_t kActions = SMFIF_ADDHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGHDRS | SMFIF_CHGBODY |
                                   SMFIF_QUARANTINE | SMFIF_CHGFROM | SMFIF_ADDRCPT_PAR | SMFIF_SETSYMLIST;
constexpr std::uint32_t kProtocol =
    SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH |
    SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_SKIP | SMFIP_RCPT_REJ | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL |
    SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_HDR_LEADSPC;

// Macro lists per SMFIM_* class: Postfix 3.7's milter_*_macros defaults, plus
// for MAIL, RCPT and end of message the TLS facts and client a policy milter
// needs (what an operator would configure). A milter's SMFIR_SETSYMLIST
// replaces the list of its class.
const char* const kDefaultMacros[7] = {
    "j {daemon_name} {daemon_addr} v _",                                      // SMFIM_CONNECT
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",      // SMFIM_HELO
    "i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer} "
    "{tls_version} {cipher} {cipher_bits} {client_addr} {client_name} j",     // SMFIM_ENVFROM
    "i {rcpt_addr} {rcpt_host} {rcpt_mailer} "
    "{tls_version} {cipher} {cipher_bits} {client_addr} {client_name} j {mail_addr}",  // SMFIM_ENVRCPT
    "i",                                                                      // SMFIM_DATA
    "i {tls_version} {cipher} {cipher_bits} {client_addr} {client_name} j {mail_addr}",  // SMFIM_EOM
    "i",                                                                      // SMFIM_EOH
};

struct TlsProfile {
    std::string version;  // "" or "none": plaintext
    std::string cipher;
    std::string bits;
};

struct Options {
    std::string socket;
    int concurrency = 1;
    long messages = 1000;
    int per_conn = 1;
    int rcpts = 1;
    std::vector<TlsProfile> tls;
    std::string sender = "bench@partner.example";
    std::string rcpt = "user@example.com";
    std::vector<std::string> clients;  // client addresses, rotated per connection
    pid_t milter_pid = 0;
    long warmup = 0;
    long sample_every = 0;
    bool hold = false;
    double hold_seconds = 2.0;
    int timeout_ms = 30000;
    int body_bytes = 1024;
    bool allow_refusals = false;
    bool starttls = true;
    bool quickack = false;
    std::string label;
};

[[noreturn]] void usage(const char* argv0, const char* why = nullptr) {
    if (why) std::fprintf(stderr, "%s: %s\n", argv0, why);
    std::fprintf(stderr,
                 "usage: %s --socket unix:PATH|inet:PORT@HOST [--concurrency N] [--messages TOTAL]\n"
                 "       [--per-conn N] [--rcpts N] [--tls-version V,V..] [--cipher C,C..] [--cipher-bits B,B..]\n"
                 "       [--sender ADDR] [--rcpt ADDR] [--client IP,IP..] [--milter-pid PID] [--warmup N]\n"
                 "       [--sample-every N] [--hold [--hold-seconds S]] [--timeout-ms MS] [--body-bytes N]\n"
                 "       [--allow-refusals] [--no-starttls] [--quickack] [--label TEXT]\n"
                 "  --tls-version none means a plaintext session; the lists are zipped and rotated per connection.\n"
                 "  --hold: open --concurrency connections, one message each, hold them all open for\n"
                 "          --hold-seconds, sample the milter, then a second message on each.\n"
                 "  --quickack: TCP only, acknowledge every read at once (TCP_QUICKACK). libmilter sends\n"
                 "          the edits and the final reply of end of message as separate writes without\n"
                 "          TCP_NODELAY, so the last one waits for the MTA's delayed ACK (about 40 ms).\n",
                 argv0);
    std::exit(2);
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    std::size_t from = 0;
    for (;;) {
        std::size_t at = s.find(sep, from);
        out.emplace_back(s.substr(from, at == std::string_view::npos ? std::string_view::npos : at - from));
        if (at == std::string_view::npos) break;
        from = at + 1;
    }
    return out;
}

Options parse_options(int argc, char** argv) {
    Options o;
    std::vector<std::string> versions = {"TLSv1.3", "TLSv1.2"};
    std::vector<std::string> ciphers = {"TLS_AES_256_GCM_SHA384", "ECDHE-RSA-AES128-GCM-SHA256"};
    std::vector<std::string> bits;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(argv[0], ("missing value for " + a).c_str());
            return argv[++i];
        };
        auto number = [&]() -> long {
            std::string v = value();
            char* end = nullptr;
            long n = std::strtol(v.c_str(), &end, 10);
            if (!end || *end || n < 0) usage(argv[0], ("bad number for " + a).c_str());
            return n;
        };
        if (a == "--socket") o.socket = value();
        else if (a == "--concurrency") o.concurrency = static_cast<int>(number());
        else if (a == "--messages") o.messages = number();
        else if (a == "--per-conn") o.per_conn = static_cast<int>(number());
        else if (a == "--rcpts") o.rcpts = static_cast<int>(number());
        else if (a == "--tls-version") versions = split(value(), ',');
        else if (a == "--cipher") ciphers = split(value(), ',');
        else if (a == "--cipher-bits") bits = split(value(), ',');
        else if (a == "--sender") o.sender = value();
        else if (a == "--rcpt") o.rcpt = value();
        else if (a == "--client") o.clients = split(value(), ',');
        else if (a == "--milter-pid") o.milter_pid = static_cast<pid_t>(number());
        else if (a == "--warmup") o.warmup = number();
        else if (a == "--sample-every") o.sample_every = number();
        else if (a == "--hold") o.hold = true;
        else if (a == "--hold-seconds") o.hold_seconds = std::atof(value().c_str());
        else if (a == "--timeout-ms") o.timeout_ms = static_cast<int>(number());
        else if (a == "--body-bytes") o.body_bytes = static_cast<int>(number());
        else if (a == "--allow-refusals") o.allow_refusals = true;
        else if (a == "--no-starttls") o.starttls = false;
        else if (a == "--quickack") o.quickack = true;
        else if (a == "--label") o.label = value();
        else if (a == "--help" || a == "-h") usage(argv[0]);
        else usage(argv[0], ("unknown option " + a).c_str());
    }
    if (o.socket.empty()) usage(argv[0], "--socket is required");
    if (o.concurrency < 1 || o.per_conn < 1 || o.rcpts < 1) usage(argv[0], "counts must be at least 1");
    if (o.hold && o.per_conn < 2) o.per_conn = 2;
    if (o.hold) o.messages = static_cast<long>(o.concurrency) * o.per_conn;
    for (std::size_t i = 0; i < versions.size(); ++i) {
        TlsProfile t;
        t.version = versions[i] == "none" ? "" : versions[i];
        if (!t.version.empty()) {
            t.cipher = ciphers.empty() ? "" : ciphers[i % ciphers.size()];
            t.bits = !bits.empty() ? bits[i % bits.size()] : t.cipher.find("AES128") != std::string::npos ? "128" : "256";
        }
        o.tls.push_back(t);
    }
    if (o.clients.empty()) o.clients = {"192.0.2.10", "198.51.100.20", "203.0.113.30", "2001:db8::25"};
    return o;
}

// ---------------------------------------------------------------------------
// The milter process, from /proc.

struct ProcSample {
    bool ok = false;
    double cpu_s = 0;  // utime + stime, every thread, dead ones included
    long rss_kb = 0;
    long fds = 0;
    long threads = 0;
};

ProcSample sample_process(pid_t pid) {
    ProcSample s;
    if (pid <= 0) return s;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (FILE* f = std::fopen(path, "r")) {
        char buf[4096];
        std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
        std::fclose(f);
        buf[n] = 0;
        if (char* p = std::strrchr(buf, ')')) {
            // Fields from 3 on, after the command name.
            std::vector<std::string> fields = split(p + 2, ' ');
            if (fields.size() > 20) {
                const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
                s.cpu_s = (std::atof(fields[11].c_str()) + std::atof(fields[12].c_str())) / tick;
                s.threads = std::atol(fields[17].c_str());
                s.ok = true;
            }
        }
    }
    std::snprintf(path, sizeof path, "/proc/%d/status", pid);
    if (FILE* f = std::fopen(path, "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, f))
            if (std::strncmp(line, "VmRSS:", 6) == 0) s.rss_kb = std::atol(line + 6);
        std::fclose(f);
    }
    std::snprintf(path, sizeof path, "/proc/%d/fd", pid);
    if (DIR* d = opendir(path)) {
        while (dirent* e = readdir(d))
            if (e->d_name[0] != '.') ++s.fds;
        closedir(d);
    }
    return s;
}

// ---------------------------------------------------------------------------
// Packets.

void put32(std::string& out, std::uint32_t v) {
    std::uint32_t n = htonl(v);
    out.append(reinterpret_cast<const char*>(&n), 4);
}

// One packet: length, command, then the data.
void packet(std::string& out, char cmd, std::string_view data = {}) {
    put32(out, static_cast<std::uint32_t>(data.size() + 1));
    out.push_back(cmd);
    out.append(data);
}

void cstr(std::string& data, std::string_view s) {
    data.append(s);
    data.push_back('\0');
}

// ---------------------------------------------------------------------------
// What a connection does, as a list of steps built after negotiation.

enum class Expect : std::uint8_t { None, Reply, Eom };

struct Step {
    std::string bytes;        // appended to the output buffer
    Expect expect = Expect::None;
    char stage = 0;           // SMFIC_* for messages about it
    int message = -1;         // index of the message within the connection
    bool message_start = false;
    bool abort = false;       // the message's closing ABORT: where a refusal jumps to
    bool park = false;        // --hold: wait here until every connection is parked
    bool rcpt = false;
};

struct Conn {
    int fd = -1;
    bool connecting = false;
    bool negotiated = false;
    bool want_out = false;
    bool parked = false;
    std::uint64_t serial = 0;
    int messages = 0;          // messages this connection carries
    std::string out;
    std::size_t out_off = 0;
    std::string in;
    std::vector<Step> steps;
    std::size_t next = 0;      // next step to issue
    Expect waiting = Expect::None;
    char waiting_stage = 0;
    Clock::time_point deadline;
    Clock::time_point msg_start;
    int current_message = -1;
    int finished = 0;          // messages of this connection that got their final answer
    bool msg_refused = false;
    bool msg_headered = false;
    int rcpt_accepted = 0;
    // negotiated
    std::uint32_t version = 0, actions = 0, protocol = 0;
    std::string symlist[7];
    bool has_symlist[7] = {};
};

struct Stats {
    long started = 0;  // messages handed to connections
    long ok = 0;
    long refused = 0;
    long errors = 0;
    long io_errors = 0;
    long timeouts = 0;
    long connect_retries = 0;
    long connections = 0;
    long edits = 0;
    std::vector<double> latency_us;
    std::map<std::string, long> error_kinds;
};

class Driver {
public:
    explicit Driver(const Options& o) : o_(o) {
        ep_ = epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0) {
            std::perror("epoll_create1");
            std::exit(1);
        }
        parse_socket();
        std::string line = "The quick brown fox jumps over the lazy dog, 0123456789.\r\n";
        while (static_cast<int>(body_.size()) < o_.body_bytes) body_ += line;
        body_.resize(static_cast<std::size_t>(o_.body_bytes));
    }

    // Runs `total` messages at the configured concurrency; returns when all are done.
    Stats run(long total, long sample_every) {
        Stats st;
        stats_ = &st;
        remaining_ = total;
        sample_every_ = sample_every;
        next_sample_ = sample_every;
        const int want = o_.concurrency;
        while (static_cast<int>(conns_.size()) < want && remaining_ > 0) start_conn();
        std::vector<epoll_event> events(1024);
        auto last_scan = Clock::now();
        while (!conns_.empty() || !retry_.empty()) {
            int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), retry_.empty() ? 50 : 1);
            if (n < 0 && errno != EINTR) {
                std::perror("epoll_wait");
                std::exit(1);
            }
            for (int i = 0; i < n; ++i) {
                auto it = conns_.find(events[i].data.u64);
                if (it == conns_.end()) continue;
                on_event(it->second, events[i].events);
            }
            reap();
            retry_connects();
            if (o_.hold) check_hold();
            auto now = Clock::now();
            if (now - last_scan > std::chrono::milliseconds(100)) {
                last_scan = now;
                for (auto& [id, c] : conns_)
                    if (c.fd >= 0 && !c.parked && c.waiting != Expect::None && now > c.deadline) {
                        ++st.timeouts;
                        fail(c, "timeout waiting for a reply");
                    }
                reap();
            }
            while (static_cast<int>(conns_.size() + retry_.size()) < want && remaining_ > 0 && !o_.hold) start_conn();
        }
        stats_ = nullptr;
        return st;
    }

    long held = 0;
    ProcSample held_sample;

private:
    void parse_socket() {
        const std::string& s = o_.socket;
        if (s.rfind("unix:", 0) == 0 || s.rfind("local:", 0) == 0 || (!s.empty() && s[0] == '/')) {
            std::string path = s[0] == '/' ? s : s.substr(s.find(':') + 1);
            sockaddr_un un{};
            un.sun_family = AF_UNIX;
            if (path.size() >= sizeof un.sun_path) usage("milter_driver", "unix socket path too long");
            std::memcpy(un.sun_path, path.c_str(), path.size() + 1);
            std::memcpy(&addr_, &un, sizeof un);
            addr_len_ = sizeof un;
            family_ = AF_UNIX;
            return;
        }
        if (s.rfind("inet:", 0) == 0 || s.rfind("inet6:", 0) == 0) {
            std::string rest = s.substr(s.find(':') + 1);
            std::size_t at = rest.find('@');
            std::string port = rest.substr(0, at), host = at == std::string::npos ? "127.0.0.1" : rest.substr(at + 1);
            addrinfo hints{}, *res = nullptr;
            hints.ai_socktype = SOCK_STREAM;
            hints.ai_family = s.rfind("inet6:", 0) == 0 ? AF_INET6 : AF_INET;
            if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res)
                usage("milter_driver", ("cannot resolve " + s).c_str());
            std::memcpy(&addr_, res->ai_addr, res->ai_addrlen);
            addr_len_ = res->ai_addrlen;
            family_ = res->ai_family;
            freeaddrinfo(res);
            return;
        }
        usage("milter_driver", "socket must be unix:PATH, inet:PORT@HOST or inet6:PORT@HOST");
    }

    void start_conn(std::uint64_t reuse_serial = 0, Clock::time_point started = {}) {
        Conn c;
        c.serial = reuse_serial ? reuse_serial : ++serial_;
        if (!reuse_serial) {
            c.messages = static_cast<int>(std::min<long>(remaining_, o_.per_conn));
            remaining_ -= c.messages;
            stats_->started += c.messages;
            c.msg_start = Clock::now();
        } else {
            c.messages = pending_messages_[reuse_serial];
            pending_messages_.erase(reuse_serial);
            c.msg_start = started;
        }
        c.fd = socket(family_, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0) {
            error_kind("socket(): " + std::string(std::strerror(errno)));
            stats_->errors += c.messages;
            ++stats_->io_errors;
            return;
        }
        if (family_ != AF_UNIX) {
            int one = 1;
            setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        ++stats_->connections;
        int r = connect(c.fd, reinterpret_cast<sockaddr*>(&addr_), addr_len_);
        if (r < 0 && errno == EAGAIN) {
            // A unix socket whose listen backlog is full: try again shortly.
            ::close(c.fd);
            --stats_->connections;
            ++stats_->connect_retries;
            pending_messages_[c.serial] = c.messages;
            retry_.push_back({c.serial, c.msg_start, Clock::now() + std::chrono::milliseconds(1)});
            return;
        }
        if (r < 0 && errno != EINPROGRESS) {
            error_kind("connect(): " + std::string(std::strerror(errno)));
            ::close(c.fd);
            stats_->errors += c.messages;
            ++stats_->io_errors;
            return;
        }
        c.connecting = r < 0;
        epoll_event ev{};
        ev.events = c.connecting ? EPOLLOUT : EPOLLIN;
        c.want_out = c.connecting;
        ev.data.u64 = c.serial;
        epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
        Conn& ref = conns_.emplace(c.serial, std::move(c)).first->second;
        if (!ref.connecting) send_optneg(ref);
    }

    struct Retry {
        std::uint64_t serial;
        Clock::time_point started;
        Clock::time_point when;
    };

    void retry_connects() {
        auto now = Clock::now();
        std::size_t n = retry_.size();
        for (std::size_t i = 0; i < n; ++i) {
            Retry r = retry_.front();
            retry_.pop_front();
            if (r.when <= now) start_conn(r.serial, r.started);
            else retry_.push_back(r);
        }
    }

    void send_optneg(Conn& c) {
        std::string data;
        put32(data, kVersion);
        put32(data, kActions);
        put32(data, kProtocol);
        packet(c.out, SMFIC_OPTNEG, data);
        c.waiting = Expect::Reply;
        c.waiting_stage = SMFIC_OPTNEG;
        c.deadline = Clock::now() + std::chrono::milliseconds(o_.timeout_ms);
        flush(c);
    }

    void set_out_interest(Conn& c, bool want) {
        if (c.want_out == want) return;
        c.want_out = want;
        epoll_event ev{};
        ev.events = want ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
        ev.data.u64 = c.serial;
        epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    }

    void flush(Conn& c) {
        while (c.out_off < c.out.size()) {
            ssize_t n = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) {
                    set_out_interest(c, true);
                    return;
                }
                ++stats_->io_errors;
                fail(c, "write: " + std::string(std::strerror(errno)));
                return;
            }
            c.out_off += static_cast<std::size_t>(n);
        }
        c.out.clear();
        c.out_off = 0;
        set_out_interest(c, false);
    }

    void on_event(Conn& c, std::uint32_t events) {
        if (c.fd < 0) return;
        if (c.connecting) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err) {
                ++stats_->io_errors;
                fail(c, "connect: " + std::string(std::strerror(err)));
                return;
            }
            c.connecting = false;
            set_out_interest(c, false);
            send_optneg(c);
            return;
        }
        if (events & EPOLLOUT) flush(c);
        if (c.fd < 0) return;
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
            char buf[16384];
            for (;;) {
                ssize_t n = recv(c.fd, buf, sizeof buf, 0);
                if (n > 0) {
                    c.in.append(buf, static_cast<std::size_t>(n));
                    if (n < static_cast<ssize_t>(sizeof buf)) break;
                    continue;
                }
                if (n == 0) {
                    ++stats_->io_errors;
                    fail(c, std::string("milter closed the connection while ") +
                                (c.waiting != Expect::None ? "a reply was due" : "idle"));
                    return;
                }
                if (errno == EAGAIN || errno == EINTR) break;
                ++stats_->io_errors;
                fail(c, "read: " + std::string(std::strerror(errno)));
                return;
            }
            if (o_.quickack && family_ != AF_UNIX) {
                int one = 1;
                setsockopt(c.fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
            }
            process_input(c);
        }
    }

    void process_input(Conn& c) {
        std::size_t pos = 0;
        while (c.fd >= 0 && c.in.size() - pos >= 5) {
            std::uint32_t len;
            std::memcpy(&len, c.in.data() + pos, 4);
            len = ntohl(len);
            if (len < 1 || len > (1u << 24)) {
                fail(c, "bad packet length " + std::to_string(len));
                return;
            }
            if (c.in.size() - pos < 4 + len) break;
            char cmd = c.in[pos + 4];
            std::string_view data(c.in.data() + pos + 5, len - 1);
            pos += 4 + len;
            on_packet(c, cmd, data);
        }
        if (c.fd >= 0) c.in.erase(0, pos);
    }

    void on_packet(Conn& c, char cmd, std::string_view data) {
        if (c.waiting == Expect::None) {
            fail(c, std::string("unsolicited reply '") + cmd + "'");
            return;
        }
        if (!c.negotiated) {
            on_optneg(c, cmd, data);
            return;
        }
        if (cmd == SMFIR_PROGRESS) {
            c.deadline = Clock::now() + std::chrono::milliseconds(o_.timeout_ms);
            return;
        }
        if (c.waiting == Expect::Eom) {
            switch (cmd) {
                case SMFIR_ADDHEADER:
                case SMFIR_INSHEADER:
                    c.msg_headered = true;
                    [[fallthrough]];
                case SMFIR_CHGHEADER:
                case SMFIR_ADDRCPT:
                case SMFIR_DELRCPT:
                case SMFIR_ADDRCPT_PAR:
                case SMFIR_CHGFROM:
                case SMFIR_REPLBODY:
                case SMFIR_QUARANTINE:
                    ++stats_->edits;
                    return;
                default: break;
            }
        }
        bool refused = cmd == SMFIR_REJECT || cmd == SMFIR_TEMPFAIL ||
                       (cmd == SMFIR_REPLYCODE && !data.empty() && (data[0] == '4' || data[0] == '5'));
        bool ok = cmd == SMFIR_CONTINUE || (cmd == SMFIR_SKIP && c.waiting_stage == SMFIC_BODY);
        if (refused && (c.waiting_stage == SMFIC_MAIL || c.waiting_stage == SMFIC_RCPT ||
                        c.waiting_stage == SMFIC_BODYEOB)) {
            if (c.waiting_stage == SMFIC_RCPT) {
                // Only this recipient is refused; the transaction goes on if another is left.
                c.waiting = Expect::None;
                if (c.rcpt_accepted == 0 && !more_rcpts(c)) refuse_message(c);
                advance(c);
                return;
            }
            c.waiting = Expect::None;
            refuse_message(c);
            advance(c);
            return;
        }
        if (!ok) {
            fail(c, std::string("unexpected reply '") + cmd + "' to '" + c.waiting_stage + "'");
            return;
        }
        if (c.waiting == Expect::Eom) {
            if (!c.msg_headered) {
                ++stats_->errors;
                ++c.finished;
                error_kind("end of message without a header edit");
            } else {
                finish_message(c, false);
            }
        }
        if (c.waiting_stage == SMFIC_RCPT) ++c.rcpt_accepted;
        c.waiting = Expect::None;
        advance(c);
    }

    bool more_rcpts(const Conn& c) const {
        for (std::size_t i = c.next; i < c.steps.size() && !c.steps[i].abort; ++i)
            if (c.steps[i].rcpt) return true;
        return false;
    }

    void refuse_message(Conn& c) {
        finish_message(c, true);
        // Jump to this message's ABORT, as Postfix resets the transaction.
        while (c.next < c.steps.size() && !c.steps[c.next].abort) ++c.next;
    }

    void finish_message(Conn& c, bool refused) {
        double us = std::chrono::duration<double, std::micro>(Clock::now() - c.msg_start).count();
        stats_->latency_us.push_back(us);
        if (refused) {
            ++stats_->refused;
            if (!o_.allow_refusals) {
                ++stats_->errors;
                error_kind(std::string("refusal at '") + c.waiting_stage + "'");
            }
        } else {
            ++stats_->ok;
        }
        c.msg_refused = refused;
        ++c.finished;
        long done = stats_->ok + stats_->refused;
        if (sample_every_ > 0 && done >= next_sample_) {
            next_sample_ += sample_every_;
            ProcSample s = sample_process(o_.milter_pid);
            std::printf("sample: messages=%ld rss_kb=%ld fds=%ld threads=%ld cpu_s=%.2f errors=%ld\n", done,
                        s.rss_kb, s.fds, s.threads, s.cpu_s, stats_->errors);
            std::fflush(stdout);
        }
    }

    void on_optneg(Conn& c, char cmd, std::string_view data) {
        if (cmd != SMFIC_OPTNEG || data.size() < 12) {
            fail(c, std::string("bad OPTNEG reply '") + cmd + "'");
            return;
        }
        auto get32 = [&](std::size_t at) {
            std::uint32_t v;
            std::memcpy(&v, data.data() + at, 4);
            return ntohl(v);
        };
        c.version = get32(0);
        c.actions = get32(4);
        c.protocol = get32(8);
        if (c.version > kVersion || (c.actions & kActions) != c.actions) {
            fail(c, "milter negotiated beyond what was offered");
            return;
        }
        std::size_t at = 12;
        while (data.size() - at >= 5) {
            std::uint32_t cls = get32(at);
            at += 4;
            std::size_t end = data.find('\0', at);
            if (end == std::string_view::npos) {
                fail(c, "unterminated macro list in OPTNEG");
                return;
            }
            if (cls < 7) {
                c.symlist[cls] = std::string(data.substr(at, end - at));
                c.has_symlist[cls] = true;
            }
            at = end + 1;
        }
        c.negotiated = true;
        c.waiting = Expect::None;
        build_steps(c);
        advance(c);
    }

    // The values a Postfix smtpd would hold for this connection.
    struct Macros {
        std::map<std::string, std::string, std::less<>> v;
        void set(std::string name, std::string value) { v[std::move(name)] = std::move(value); }
        void unset(const std::string& name) { v.erase(name); }
    };

    std::string macro_packet(const Conn& c, int cls, char event, const Macros& m) {
        std::string data;
        data.push_back(event);
        std::string list = c.has_symlist[cls] ? c.symlist[cls] : kDefaultMacros[cls];
        std::replace(list.begin(), list.end(), ',', ' ');
        for (const std::string& raw : split(list, ' ')) {
            std::string name = raw;
            if (name.empty()) continue;
            auto it = m.v.find(name);
            // Postfix looks names up with and without braces; undefined ones are left out.
            if (it == m.v.end() && name.size() > 2 && name.front() == '{') it = m.v.find(name.substr(1, name.size() - 2));
            if (it == m.v.end() && name.size() == 1) it = m.v.find("{" + name + "}");
            if (it == m.v.end()) continue;
            cstr(data, name);
            cstr(data, it->second);
        }
        std::string out;
        packet(out, SMFIC_MACRO, data);
        return out;
    }

    // Appends one event: its macros (always), then the command unless the
    // milter switched the stage off, waiting for a reply unless it said none.
    void event(Conn& c, int cls, char cmd, std::string_view data, std::uint32_t no_flag, std::uint32_t nr_flag,
               const Macros& m, int message, bool rcpt = false) {
        Step s;
        s.message = message;
        if (cls >= 0) s.bytes = macro_packet(c, cls, cmd, m);
        if (!(c.protocol & no_flag)) {
            packet(s.bytes, cmd, data);
            s.expect = (nr_flag && (c.protocol & nr_flag)) ? Expect::None : Expect::Reply;
            s.rcpt = rcpt;
        }
        s.stage = cmd;
        c.steps.push_back(std::move(s));
    }

    void build_steps(Conn& c) {
        c.steps.clear();
        c.next = 0;
        const std::uint64_t k = c.serial;
        const TlsProfile& tls = o_.tls[k % o_.tls.size()];
        const std::string& client = o_.clients[k % o_.clients.size()];
        const bool v6 = client.find(':') != std::string::npos;
        const std::string client_name = "mail" + std::to_string(k % 97) + ".client.example";
        Macros m;
        m.set("j", "mx.bench.example");
        m.set("{daemon_name}", "smtp");
        m.set("{daemon_addr}", "127.0.0.1");
        m.set("v", "Postfix 3.7.11");
        m.set("_", client_name + " [" + client + "]");
        m.set("{client_addr}", client);
        m.set("{client_name}", client_name);

        std::string data;
        cstr(data, client_name);
        data.push_back(v6 ? SMFIA_INET6 : SMFIA_INET);
        std::uint16_t port = htons(static_cast<std::uint16_t>(40000 + k % 20000));
        data.append(reinterpret_cast<const char*>(&port), 2);
        cstr(data, client);
        event(c, SMFIM_CONNECT, SMFIC_CONNECT, data, SMFIP_NOCONNECT, SMFIP_NR_CONN, m, -1);

        data.clear();
        cstr(data, client_name);
        event(c, SMFIM_HELO, SMFIC_HELO, data, SMFIP_NOHELO, SMFIP_NR_HELO, m, -1);
        if (!tls.version.empty()) {
            m.set("{tls_version}", tls.version);
            m.set("{cipher}", tls.cipher);
            m.set("{cipher_bits}", tls.bits);
            if (o_.starttls) {
                // STARTTLS: smtpd resets the milters, then the client says EHLO again.
                Step abort;
                packet(abort.bytes, SMFIC_ABORT);
                abort.stage = SMFIC_ABORT;
                c.steps.push_back(std::move(abort));
                event(c, SMFIM_HELO, SMFIC_HELO, data, SMFIP_NOHELO, SMFIP_NR_HELO, m, -1);
            }
        }

        for (int msg = 0; msg < c.messages; ++msg) {
            if (msg == 1 && o_.hold) {
                Step park;
                park.park = true;
                c.steps.push_back(std::move(park));
            }
            char qid[32];
            std::snprintf(qid, sizeof qid, "4B%08llX%X", static_cast<unsigned long long>(k), msg);
            m.set("i", qid);
            m.set("{mail_addr}", o_.sender);
            data.clear();
            cstr(data, "<" + o_.sender + ">");
            cstr(data, "BODY=8BITMIME");
            std::size_t first = c.steps.size();
            event(c, SMFIM_ENVFROM, SMFIC_MAIL, data, SMFIP_NOMAIL, SMFIP_NR_MAIL, m, msg);
            c.steps[first].message_start = true;
            for (int r = 0; r < o_.rcpts; ++r) {
                std::string rcpt = o_.rcpt;
                if (r > 0) rcpt = "user" + std::to_string(r) + rcpt.substr(rcpt.find('@'));
                m.set("{rcpt_addr}", rcpt);
                data.clear();
                cstr(data, "<" + rcpt + ">");
                event(c, SMFIM_ENVRCPT, SMFIC_RCPT, data, SMFIP_NORCPT, SMFIP_NR_RCPT, m, msg, true);
            }
            event(c, SMFIM_DATA, SMFIC_DATA, {}, SMFIP_NODATA, SMFIP_NR_DATA, m, msg);
            if (!(c.protocol & SMFIP_NOHDRS)) {
                const std::pair<std::string, std::string> headers[] = {
                    {"Received", "from " + client_name + " by mx.bench.example"},  // Postfix hides its own; a relay's
                    {"From", "Bench Sender <" + o_.sender + ">"},
                    {"To", "<" + o_.rcpt + ">"},
                    {"Subject", "benchmark message " + std::string(qid)},
                    {"Date", "Sun, 23 Nov 2025 17:00:00 +0000"},
                    {"Message-ID", "<" + std::string(qid) + "@partner.example>"},
                    {"MIME-Version", "1.0"},
                    {"Content-Type", "text/plain; charset=utf-8"},
                };
                for (const auto& [name, value] : headers) {
                    data.clear();
                    cstr(data, name);
                    cstr(data, value);
                    event(c, SMFIM_EOH, SMFIC_HEADER, data, SMFIP_NOHDRS, SMFIP_NR_HDR, m, msg);
                }
            }
            if (!(c.protocol & SMFIP_NOEOH)) event(c, SMFIM_EOH, SMFIC_EOH, {}, SMFIP_NOEOH, SMFIP_NR_EOH, m, msg);
            if (!(c.protocol & SMFIP_NOBODY) && !body_.empty())
                event(c, SMFIM_EOM, SMFIC_BODY, body_, SMFIP_NOBODY, SMFIP_NR_BODY, m, msg);
            event(c, SMFIM_EOM, SMFIC_BODYEOB, {}, 0, 0, m, msg);
            c.steps.back().expect = Expect::Eom;
            Step abort;
            abort.message = msg;
            abort.abort = true;
            abort.stage = SMFIC_ABORT;
            packet(abort.bytes, SMFIC_ABORT);
            c.steps.push_back(std::move(abort));
        }
        Step quit;
        quit.stage = SMFIC_QUIT;
        packet(quit.bytes, SMFIC_QUIT);
        c.steps.push_back(std::move(quit));
    }

    // Issues steps until one needs a reply (or the connection is parked or done).
    void advance(Conn& c) {
        while (c.fd >= 0 && c.waiting == Expect::None && !c.parked) {
            if (c.next >= c.steps.size()) {
                flush(c);
                close_conn(c);
                return;
            }
            Step& s = c.steps[c.next++];
            if (s.park) {
                flush(c);
                c.parked = true;
                ++parked_;
                return;
            }
            if (s.message_start) {
                if (s.message > 0) c.msg_start = Clock::now();
                c.current_message = s.message;
                c.msg_headered = false;
                c.msg_refused = false;
                c.rcpt_accepted = 0;
            }
            c.out += s.bytes;
            if (s.expect != Expect::None) {
                c.waiting = s.expect;
                c.waiting_stage = s.stage;
                c.deadline = Clock::now() + std::chrono::milliseconds(o_.timeout_ms);
                flush(c);
                return;
            }
        }
    }

    void check_hold() {
        if (holding_done_ || parked_ == 0) return;
        long alive = 0;
        for (auto& [id, c] : conns_)
            if (c.fd >= 0) ++alive;
        if (parked_ < alive || remaining_ > 0 || !retry_.empty()) return;
        holding_done_ = true;
        held = parked_;
        std::printf("hold: %ld connections open at once, each with one message done; holding %.1f s\n", held,
                    o_.hold_seconds);
        std::fflush(stdout);
        std::this_thread::sleep_for(std::chrono::duration<double>(o_.hold_seconds / 2));
        held_sample = sample_process(o_.milter_pid);
        std::this_thread::sleep_for(std::chrono::duration<double>(o_.hold_seconds / 2));
        for (auto& [id, c] : conns_)
            if (c.fd >= 0 && c.parked) {
                c.parked = false;
                c.msg_start = Clock::now();
                advance(c);
            }
        parked_ = 0;
    }

    void error_kind(const std::string& what) { ++stats_->error_kinds[what]; }

    // An I/O or protocol failure: every message of the connection not yet
    // finished counts as an error.
    void fail(Conn& c, const std::string& why) {
        if (c.fd < 0) return;
        stats_->errors += std::max(1, c.messages - c.finished);
        error_kind(why);
        close_conn(c);
    }

    void close_conn(Conn& c) {
        if (c.fd >= 0) {
            epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
            ::close(c.fd);
            c.fd = -1;
        }
        if (c.parked) {
            c.parked = false;
            --parked_;
        }
        dead_.push_back(c.serial);
    }

    void reap() {
        for (std::uint64_t id : dead_) conns_.erase(id);
        dead_.clear();
    }

    const Options& o_;
    int ep_ = -1;
    sockaddr_storage addr_{};
    socklen_t addr_len_ = 0;
    int family_ = AF_UNIX;
    std::string body_;
    std::map<std::uint64_t, Conn> conns_;
    std::vector<std::uint64_t> dead_;
    std::deque<Retry> retry_;
    std::map<std::uint64_t, int> pending_messages_;
    std::uint64_t serial_ = 0;
    long remaining_ = 0;
    long parked_ = 0;
    bool holding_done_ = false;
    long sample_every_ = 0;
    long next_sample_ = 0;
    Stats* stats_ = nullptr;
};

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::size_t k = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size()))) ;
    k = std::min(v.size() - 1, k == 0 ? 0 : k - 1);
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

double own_cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    Options o = parse_options(argc, argv);
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    Driver d(o);
    auto settle = [] { std::this_thread::sleep_for(std::chrono::milliseconds(500)); };

    ProcSample warm;
    if (o.warmup > 0) {
        Stats w = d.run(o.warmup, 0);
        settle();
        warm = sample_process(o.milter_pid);
        std::printf("warmup: %ld messages, %ld errors; milter after warm-up: rss_kb=%ld fds=%ld threads=%ld\n",
                    w.ok + w.refused, w.errors, warm.rss_kb, warm.fds, warm.threads);
    }
    ProcSample before = sample_process(o.milter_pid);
    const double cpu0 = own_cpu_s();
    auto t0 = Clock::now();
    Stats st = d.run(o.messages, o.sample_every);
    auto t1 = Clock::now();
    const double cpu1 = own_cpu_s();
    ProcSample end_busy = sample_process(o.milter_pid);
    settle();
    ProcSample after = sample_process(o.milter_pid);

    const double secs = std::chrono::duration<double>(t1 - t0).count();
    const long done = st.ok + st.refused;
    const double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
    double p50 = percentile(st.latency_us, 50), p99 = percentile(st.latency_us, 99);
    double cpu_per_msg_us = before.ok && end_busy.ok && done > 0 ? (end_busy.cpu_s - before.cpu_s) * 1e6 / static_cast<double>(done) : -1;
    double own_per_msg_us = done > 0 ? (cpu1 - cpu0) * 1e6 / static_cast<double>(done) : 0;

    std::printf("driver: %s socket=%s concurrency=%d per_conn=%d messages=%ld\n", o.label.c_str(), o.socket.c_str(),
                o.concurrency, o.per_conn, o.messages);
    std::printf("  done %ld (accepted %ld, refused %ld) in %.3f s over %ld connections: %.0f messages/s\n", done, st.ok,
                st.refused, secs, st.connections, rate);
    std::printf("  latency per message: p50 %.0f us, p99 %.0f us\n", p50, p99);
    std::printf("  errors: %ld (I/O %ld, timeouts %ld); connect retries (backlog full): %ld; edits %ld\n", st.errors,
                st.io_errors, st.timeouts, st.connect_retries, st.edits);
    for (const auto& [what, n] : st.error_kinds) std::printf("    %ld x %s\n", n, what.c_str());
    if (o.milter_pid > 0) {
        std::printf("  milter pid %d: cpu %.1f us/message; rss %ld -> %ld kB; fds %ld -> %ld; threads %ld -> %ld\n",
                    o.milter_pid, cpu_per_msg_us, before.rss_kb, after.rss_kb, before.fds, after.fds, before.threads,
                    after.threads);
    }
    std::printf("  driver cpu %.1f us/message\n", own_per_msg_us);
    if (o.hold)
        std::printf("  held %ld concurrent connections; milter while held: rss %ld kB, fds %ld, threads %ld\n", d.held,
                    d.held_sample.rss_kb, d.held_sample.fds, d.held_sample.threads);
    if (st.errors == 0 && done == o.messages) std::printf("  no error\n");
    // One line for scripts.
    std::printf("RESULT label=%s concurrency=%d messages=%ld done=%ld errors=%ld rate=%.1f p50_us=%.1f p99_us=%.1f "
                "milter_cpu_us=%.2f driver_cpu_us=%.2f rss_before_kb=%ld rss_after_kb=%ld fds_before=%ld fds_after=%ld "
                "warm_rss_kb=%ld warm_fds=%ld held=%ld held_fds=%ld held_threads=%ld held_rss_kb=%ld\n",
                o.label.empty() ? "-" : o.label.c_str(), o.concurrency, o.messages, done, st.errors, rate, p50, p99,
                cpu_per_msg_us, own_per_msg_us, before.rss_kb, after.rss_kb, before.fds, after.fds, warm.rss_kb,
                warm.fds, d.held, d.held_sample.fds, d.held_sample.threads, d.held_sample.rss_kb);
    return st.errors == 0 && done == o.messages ? 0 : 1;
}
