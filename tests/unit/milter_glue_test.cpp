// The milter glue (src/milter/callbacks.cpp) behind the real libmilter, in
// this process on a private unix socket, driven with the milter protocol as
// an MTA sends it (as tests/fuzz/fuzz_milter.cpp does): what reaches the
// observation sink, with which stage and host, and how often.
#include <gtest/gtest.h>
#include <libmilter/mfapi.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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
        ASSERT_TRUE(milter::register_filter());
        ASSERT_EQ(smfi_setconn(spec.data()), MI_SUCCESS);
        ASSERT_EQ(smfi_opensocket(true), MI_SUCCESS);
        std::thread([] { smfi_main(); }).detach();  // lives until the test program ends
    }
    static void TearDownTestSuite() {
        milter::set_observation_sink(nullptr);
        unlink(socket_path.c_str());
    }

    // One milter connection fed `stream`; returns once libmilter has closed
    // it, which it does after our close callback ran.
    static void session(const std::string& stream) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
        for (int tries = 0; connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0; ++tries) {
            ASSERT_LT(tries, 400) << std::strerror(errno);
            usleep(5000);
        }
        ASSERT_EQ(send(fd, stream.data(), stream.size(), MSG_NOSIGNAL), static_cast<ssize_t>(stream.size()));
        shutdown(fd, SHUT_WR);
        char buf[4096];
        for (;;) {
            pollfd p{fd, POLLIN, 0};
            int n = poll(&p, 1, 30000);
            if (n < 0 && errno == EINTR) continue;
            ASSERT_GT(n, 0) << "libmilter did not end the session";
            ssize_t got = read(fd, buf, sizeof buf);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) break;
        }
        close(fd);
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

}  // namespace
}  // namespace tlspolicy
