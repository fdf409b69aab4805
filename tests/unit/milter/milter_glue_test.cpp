// The milter glue (src/milter/callbacks.cpp) behind the real libmilter, in
// this process on a private unix socket, driven with the milter protocol as
// an MTA sends it (as tests/fuzz/fuzz_milter.cpp does): what reaches the
// observation sink, with which stage and host, and how often. The daemon's
// I/O tuning (src/milter/libc_shim.cpp: read-ahead) is on, as in the daemon;
// this file is built into a test program of its own (glue_tests), the only
// one besides the daemon that links the shim.
#include <gtest/gtest.h>
#include <libmilter/mfapi.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "milter/callbacks.hpp"
#include "milter/libc_shim.hpp"
#include "milter/snapshot.hpp"

namespace tlspolicy {
namespace {

constexpr const char* kMonitor = R"(
[milter]
mode = "monitor"
[header]
strip_forged = false
[defaults]
require_tls = false
[[partner]]
name = "acme"
senders = ["acme.example"]
require_tls = true
min_version = "TLSv1.2"
action = "reject"
)";

std::string packet(char cmd, std::string_view data = {}) {
    const auto len = static_cast<std::uint32_t>(data.size() + 1);
    std::string p{char(len >> 24), char(len >> 16), char(len >> 8), char(len), cmd};
    return p.append(data);
}

std::string cstrings(std::initializer_list<std::string_view> parts) {
    std::string out;
    for (std::string_view p : parts) out.append(p).push_back('\0');
    return out;
}

// SMFIC_MACRO for the command `stage`.
std::string macros(char stage, std::initializer_list<std::pair<std::string_view, std::string_view>> kv) {
    std::string data(1, stage);
    for (const auto& [k, v] : kv) data += cstrings({k, v});
    return packet('D', data);
}

// What Postfix 3.7 offers: protocol version 6, every action and step flag.
std::string optneg() { return packet('O', std::string{0, 0, 0, 6, 0, 0, 1, char(0xff), 0, 0x1f, char(0xff), char(0xff)}); }

std::string connect_and_helo() {
    return packet('C', cstrings({"localhost"}).append("4").append({char(0x9c), 0x40}).append(cstrings({"203.0.113.5"}))) +
           packet('H', cstrings({"client.test"}));
}

std::string mail(std::string_view sender) {
    return macros('M', {{"{client_addr}", "203.0.113.5"}, {"j", "mx.glue.test"}, {"{mail_addr}", sender}}) +
           packet('M', cstrings({"<" + std::string(sender) + ">"}));
}

struct Glue : ::testing::Test {
    static inline std::string socket_path;
    static inline std::mutex mu;
    static inline std::vector<Observation> seen;

    static void SetUpTestSuite() {
        LoadResult r = load_config_text(kMonitor, "glue-test.toml");
        ASSERT_TRUE(r.ok());
        milter::running_config().set(r.config);
        milter::set_observation_sink([](Observation&& o) {
            std::lock_guard lk(mu);
            seen.push_back(std::move(o));
        });
        socket_path = "/tmp/tlspolicy-unit-glue." + std::to_string(getpid()) + ".sock";
        std::string spec = "unix:" + socket_path;
        milter::libc_shim::install();
        ASSERT_TRUE(milter::register_filter());
        ASSERT_EQ(smfi_setconn(spec.data()), MI_SUCCESS);
        ASSERT_EQ(smfi_opensocket(true), MI_SUCCESS);
        std::thread([] { smfi_main(); }).detach();  // lives until the test program ends
    }
    static void TearDownTestSuite() {
        milter::set_observation_sink(nullptr);
        unlink(socket_path.c_str());
    }

    // One milter connection fed `stream`, in one write or cut into `pieces`
    // (sizes, the last one repeated) sent 2 ms apart; returns every reply
    // byte once libmilter has closed the connection, which it does after our
    // close callback ran.
    static std::string session(const std::string& stream, const std::vector<std::size_t>& pieces = {}) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
        for (int tries = 0; connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0; ++tries) {
            EXPECT_LT(tries, 400) << std::strerror(errno);
            if (tries >= 400) return {};
            usleep(5000);
        }
        std::thread writer([&] {
            std::size_t at = 0;
            for (std::size_t i = 0; at < stream.size(); ++i) {
                const std::size_t want = pieces.empty() ? stream.size() : pieces[std::min(i, pieces.size() - 1)];
                const std::size_t n = std::min(want, stream.size() - at);
                EXPECT_EQ(send(fd, stream.data() + at, n, MSG_NOSIGNAL), static_cast<ssize_t>(n));
                at += n;
                if (!pieces.empty()) usleep(2000);
            }
            shutdown(fd, SHUT_WR);
        });
        std::string replies;
        char buf[4096];
        for (;;) {
            pollfd p{fd, POLLIN, 0};
            int n = poll(&p, 1, 30000);
            if (n < 0 && errno == EINTR) continue;
            EXPECT_GT(n, 0) << "libmilter did not end the session";
            if (n <= 0) break;
            ssize_t got = read(fd, buf, sizeof buf);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) break;
            replies.append(buf, static_cast<std::size_t>(got));
        }
        writer.join();
        close(fd);
        return replies;
    }

    static std::vector<Observation> take() {
        std::lock_guard lk(mu);
        return std::exchange(seen, {});
    }
};

// Monitor mode: the would-be refusal at MAIL FROM is covered by the message's
// own observation, stage Message; each carries the MTA's name (macro j).
TEST_F(Glue, MessageObservationCoversItsWouldBeRefusal) {
    take();
    session(optneg() + connect_and_helo() + mail("a@acme.example") + macros('R', {}) +
            packet('R', cstrings({"<bob@example.com>"})) + packet('T') + packet('N') + macros('E', {{"i", "Q1"}}) +
            packet('E') + packet('Q'));
    std::vector<Observation> got = take();
    ASSERT_EQ(got.size(), 1u) << "one transaction, one observation";
    EXPECT_EQ(got[0].stage, Stage::Message);
    EXPECT_EQ(got[0].host, "mx.glue.test");
    EXPECT_EQ(got[0].queue_id, "Q1");
    EXPECT_EQ(got[0].would, Decision::Reject);
    EXPECT_EQ(got[0].sender, "a@acme.example");
}

// A transaction that ends without a message (RSET: abort) has its would-be
// refusal counted at the abort, once: not again at the next MAIL FROM or close.
TEST_F(Glue, AbortedTransactionCountsItsWouldBeRefusalOnce) {
    take();
    session(optneg() + connect_and_helo() + mail("a@acme.example") + packet('A') + mail("x@other.example") +
            packet('A') + packet('Q'));
    std::vector<Observation> got = take();
    ASSERT_EQ(got.size(), 1u) << "the would-be refusal, once; the second transaction decided nothing to record";
    EXPECT_EQ(got[0].stage, Stage::Mail);
    EXPECT_EQ(got[0].host, "mx.glue.test");
    EXPECT_EQ(got[0].would, Decision::Reject);
    EXPECT_EQ(got[0].sender, "a@acme.example");
}

// A new MAIL FROM without RSET in between settles the last transaction too.
TEST_F(Glue, NewMailFromSettlesTheLastTransaction) {
    take();
    session(optneg() + connect_and_helo() + mail("a@acme.example") + mail("a@acme.example") + packet('Q'));
    std::vector<Observation> got = take();
    ASSERT_EQ(got.size(), 2u) << "one per transaction: at the second MAIL FROM and at close";
    for (const Observation& o : got) {
        EXPECT_EQ(o.stage, Stage::Mail);
        EXPECT_EQ(o.host, "mx.glue.test");
    }
}

// The replies libmilter wrote, as (command, payload) in order.
std::vector<std::pair<char, std::string>> replies_of(const std::string& bytes) {
    std::vector<std::pair<char, std::string>> out;
    for (std::size_t at = 0; at + 5 <= bytes.size();) {
        const auto* b = reinterpret_cast<const unsigned char*>(bytes.data() + at);
        const std::size_t len = std::size_t{b[0]} << 24 | std::size_t{b[1]} << 16 | std::size_t{b[2]} << 8 | b[3];
        if (len == 0 || at + 4 + len > bytes.size()) break;
        out.emplace_back(bytes[at + 4], bytes.substr(at + 5, len - 1));
        at += 4 + len;
    }
    return out;
}

// Read-ahead: commands cut anywhere (inside the 5-byte header, inside a
// payload), many in one piece, a body chunk larger than one read; every
// command still reaches libmilter whole and in order: the negotiation is
// answered, the message observed once with its queue id, the header
// inserted, end of message answered last.
TEST_F(Glue, CommandsCutAnywhereArriveWholeAndInOrder) {
    take();
    std::string headers;
    for (int i = 0; i < 40; ++i) headers += packet('L', cstrings({"X-Filler-" + std::to_string(i), "v"}));
    const std::string stream = optneg() + connect_and_helo() + mail("a@acme.example") + macros('R', {}) +
                               packet('R', cstrings({"<bob@example.com>"})) + packet('T') + headers + packet('N') +
                               packet('B', std::string(60000, 'b')) + packet('B', std::string(20000, 'c')) +
                               macros('E', {{"i", "Q2"}}) + packet('E') + packet('Q');
    for (const std::vector<std::size_t>& pieces :
         {std::vector<std::size_t>{}, {1, 3, 2, 7, 5, 4, 13, 700, 3, 40000, 9, 30000, 11, 100000},
          {17, 5, 1, 1, 1, 6, 1024, 100000}}) {
        const auto replies = replies_of(session(stream, pieces));
        ASSERT_GE(replies.size(), 3u) << pieces.size();
        EXPECT_EQ(replies.front().first, 'O') << "the negotiation is answered first";
        const bool stamped = std::any_of(replies.begin(), replies.end(), [](const auto& r) {
            return r.first == 'i' && r.second.find("X-Transport-Security") != std::string::npos;
        });
        EXPECT_TRUE(stamped) << "our header, inserted at end of message";
        EXPECT_EQ(replies.back().first, 'c') << "end of message answered last";
        std::vector<Observation> got = take();
        ASSERT_EQ(got.size(), 1u) << pieces.size();
        EXPECT_EQ(got[0].queue_id, "Q2");
        EXPECT_EQ(got[0].stage, Stage::Message);
        EXPECT_EQ(got[0].sender, "a@acme.example");
    }
}

}  // namespace
}  // namespace tlspolicy
