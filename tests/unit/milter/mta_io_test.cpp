// The pure parts of src/milter/mta_io.cpp: the bytes kept from the kernel
// for libmilter's next reads, and which commands the milter leaves
// unanswered (the read() wrapper acks those at once over TCP). The wrappers
// themselves run behind real libmilter in milter_glue_test.cpp.
#include <gtest/gtest.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include <string>
#include <vector>

#include "milter/mta_io.hpp"

namespace tlspolicy::milter {
namespace {

std::string frame(char command, const std::string& payload = "") {
    const std::uint32_t n = static_cast<std::uint32_t>(payload.size() + 1);
    std::string out{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                    static_cast<char>(n)};
    return out + command + payload;
}

bool feed(CommandTracker& t, const std::string& bytes) {
    return t.feed(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

// What Postfix sends for one message once we asked for MAIL without a reply
// and headers without replies; libmilter reads the 5-byte header, then the payload.
constexpr std::uint32_t kProtocol = SMFIP_NR_MAIL | SMFIP_NR_HDR | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_EOH;

struct Case {
    const char* name;
    std::vector<std::string> reads;  // as read() returns them, in order
    bool want;                       // an ACK is due after the last read
};

TEST(CommandTracker, UnansweredCommandsAfterNegotiation) {
    const std::string macro = frame(SMFIC_MACRO, std::string("M{mail_addr}\0a@b\0", 17));
    const std::string mail = frame(SMFIC_MAIL, std::string("<a@b>\0", 6));
    const std::string rcpt = frame(SMFIC_RCPT, std::string("<c@d>\0", 6));
    const std::string header = frame(SMFIC_HEADER, std::string("Subject\0hi\0", 11));
    const Case cases[] = {
        {"macro_then_nothing", {macro}, true},
        {"macro_header_then_payload", {macro.substr(0, 5), macro.substr(5)}, true},
        {"header_alone_is_not_a_command", {macro.substr(0, 5)}, false},
        {"payload_half_read", {macro.substr(0, 5), macro.substr(5, 4)}, false},
        {"mail_without_reply", {mail}, true},
        {"rcpt_with_reply", {rcpt}, false},
        {"header_without_reply", {header}, true},
        {"end_of_message_answered", {frame(SMFIC_BODYEOB)}, false},
        {"abort", {frame(SMFIC_ABORT)}, true},
        {"quit_closes_and_its_fin_acks", {frame(SMFIC_QUIT)}, false},
        {"abort_then_quit_in_one_read", {frame(SMFIC_ABORT) + frame(SMFIC_QUIT)}, false},
        {"quit_new_connection_awaits_a_negotiation", {frame(SMFIC_QUIT_NC)}, true},
        {"macro_then_rcpt_in_one_read", {macro + rcpt}, false},
        {"rcpt_then_macro_in_one_read", {rcpt + macro}, true},
        {"one_byte_at_a_time", {macro.substr(0, 1), macro.substr(1, 3), macro.substr(4, 1), macro.substr(5)}, true},
        {"next_command_begun", {macro + rcpt.substr(0, 3)}, false},
    };
    for (const Case& c : cases) {
        CommandTracker t;
        t.negotiated(kProtocol);
        bool got = false;
        for (const std::string& r : c.reads) got = feed(t, r);
        EXPECT_EQ(got, c.want) << c.name;
    }
}

TEST(CommandTracker, BeforeNegotiationEveryOptionalReplyCountsAsMissing) {
    CommandTracker t;
    EXPECT_FALSE(feed(t, frame(SMFIC_OPTNEG, std::string(12, '\0'))));  // the negotiation is answered
    EXPECT_TRUE(feed(t, frame(SMFIC_RCPT, "x")));                       // flags unknown: ack it
    t.negotiated(0);                                                     // every command answered
    EXPECT_FALSE(feed(t, frame(SMFIC_RCPT, "x")));
    EXPECT_TRUE(feed(t, frame(SMFIC_MACRO, "x")));  // macros never get a reply
}

TEST(CommandTracker, FollowsLongPayloadsAcrossReads) {
    CommandTracker t;
    t.negotiated(SMFIP_NR_BODY);
    const std::string body = frame(SMFIC_BODY, std::string(70000, 'x'));
    std::size_t at = 0;
    bool got = false;
    for (std::size_t step : {5u, 65535u, 4465u}) {
        got = feed(t, body.substr(at, step));
        at += step;
    }
    EXPECT_EQ(at, body.size());
    EXPECT_TRUE(got);
    EXPECT_FALSE(feed(t, frame(SMFIC_BODYEOB)));
}

std::string take(ReadAhead& r, std::size_t count) {
    std::string out(count, '\0');
    out.resize(r.take(out.data(), count));
    return out;
}

TEST(ReadAhead, HandsOutKeptBytesInOrderAcrossTakes) {
    ReadAhead r;
    EXPECT_EQ(r.size(), 0u);
    EXPECT_EQ(take(r, 5), "");  // nothing kept: nothing handed out
    r.keep("abcdefgh", 8);
    EXPECT_EQ(take(r, 5), "abcde");  // a command's 5-byte header
    EXPECT_EQ(r.size(), 3u);
    EXPECT_EQ(take(r, 100), "fgh");  // asked for more than is kept: what there is
    EXPECT_EQ(r.size(), 0u);
    r.keep("xy", 2);
    r.keep("z", 1);  // appended behind what is still kept
    EXPECT_EQ(take(r, 1), "x");
    r.keep("!", 1);
    EXPECT_EQ(take(r, 10), "yz!");
    r.keep("gone", 4);
    r.clear();  // the connection closed
    EXPECT_EQ(r.size(), 0u);
    EXPECT_EQ(take(r, 4), "");
}

TEST(ReadAhead, KeepsBinaryPayloads) {
    ReadAhead r;
    const std::string bytes("\0\0\0\x02T\0", 6);
    r.keep(bytes.data(), bytes.size());
    EXPECT_EQ(take(r, 6), bytes);
}

}  // namespace
}  // namespace tlspolicy::milter
