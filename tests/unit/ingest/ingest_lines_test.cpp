// The line parsers of src/ingest, one table per line shape: what each field
// reads as, and which lines are refused (cut, foreign, hostile).
#include <gtest/gtest.h>

#include "ingest/journal_entry.hpp"
#include "ingest/log_time.hpp"
#include "ingest/postfix_log.hpp"
#include "ingest/sendmail_log.hpp"
#include "ingest/sink.hpp"
#include "ingest/syslog_line.hpp"
#include "ingest/tls_reason.hpp"

namespace tlspolicy::ingest {
namespace {

struct SyslogCase {
    const char* name;
    const char* line;
    bool want_ok;
    const char* want_host;
    const char* want_program;
    long long want_pid;
    const char* want_message;
    long long want_utc;  // resolved with a clock in UTC at 2026-12-31; 0 when not ok
};

const long long kDec6 = 1796515200;  // 2026-12-06T00:00:00Z

const SyslogCase kSyslog[] = {
    {"rfc3164_space_padded_day", "Dec  6 07:02:40 mx postfix/smtp[123]: hello", true, "mx", "postfix/smtp", 123, "hello", kDec6 + 25360},
    {"rfc3164_zero_padded_day", "Dec 06 07:02:40 mx postfix/smtp[123]: hello", true, "mx", "postfix/smtp", 123, "hello", kDec6 + 25360},
    {"rfc3164_fraction", "Dec  6 07:02:40.250 mx postfix/smtp[1]: x", true, "mx", "postfix/smtp", 1, "x", kDec6 + 25360},
    {"iso_offset", "2026-12-06T08:02:40.123456+01:00 mx postfix/smtp[9]: m", true, "mx", "postfix/smtp", 9, "m", kDec6 + 25360},
    {"iso_z", "2026-12-06T07:02:40Z mx postfix/smtp[9]: m", true, "mx", "postfix/smtp", 9, "m", kDec6 + 25360},
    {"iso_offset_without_colon", "2026-12-06T06:02:40-0100 mx sm-mta[9]: m", true, "mx", "sm-mta", 9, "m", kDec6 + 25360},
    {"iso_local_time", "2026-12-06 07:02:40 mx sm-mta[9]: m", true, "mx", "sm-mta", 9, "m", kDec6 + 25360},
    {"tag_without_pid", "Dec  6 07:02:40 mx kernel: m", true, "mx", "kernel", -1, "m", kDec6 + 25360},
    {"nested_tag", "Dec  6 07:02:40 mx postfix/relay/smtp[77]: m", true, "mx", "postfix/relay/smtp", 77, "m", kDec6 + 25360},
    {"empty_message", "Dec  6 07:02:40 mx postfix/smtp[1]: ", true, "mx", "postfix/smtp", 1, "", kDec6 + 25360},
    {"cut_in_time", "Dec  6 07:02", false, "", "", 0, "", 0},
    {"cut_before_message", "Dec  6 07:02:40 mx postfix/smtp[1]", false, "", "", 0, "", 0},
    {"bad_month", "Foo  6 07:02:40 mx postfix/smtp[1]: m", false, "", "", 0, "", 0},
    {"bad_day", "Dec 32 07:02:40 mx postfix/smtp[1]: m", false, "", "", 0, "", 0},
    {"bad_hour", "Dec  6 25:02:40 mx postfix/smtp[1]: m", false, "", "", 0, "", 0},
    {"pid_not_a_number", "Dec  6 07:02:40 mx postfix/smtp[12x]: m", false, "", "", 0, "", 0},
    {"empty_pid", "Dec  6 07:02:40 mx postfix/smtp[]: m", false, "", "", 0, "", 0},
    {"not_syslog", "hello world", false, "", "", 0, "", 0},
    {"empty", "", false, "", "", 0, "", 0},
};

class Syslog : public ::testing::TestWithParam<SyslogCase> {};
TEST_P(Syslog, Splits) {
    const SyslogCase& c = GetParam();
    SyslogLine l;
    ASSERT_EQ(split_syslog_line(c.line, l), c.want_ok);
    if (!c.want_ok) return;
    EXPECT_EQ(l.host, c.want_host);
    EXPECT_EQ(l.program, c.want_program);
    EXPECT_EQ(l.pid, c.want_pid);
    EXPECT_EQ(l.message, c.want_message);
    EXPECT_EQ(resolve_time(l.time, FixedClock(epoch_seconds(2026, 12, 31, 0, 0, 0), 0)), c.want_utc);
}
INSTANTIATE_TEST_SUITE_P(Ingest, Syslog, ::testing::ValuesIn(kSyslog), [](const auto& p) { return std::string(p.param.name); });

// "A December line read in January is last year's"; a local zone applies.
TEST(IngestTime, YearAndZone) {
    LogTime t;
    std::size_t n = 0;
    ASSERT_TRUE(parse_log_time("Dec 31 23:59:59", t, n));
    const std::int64_t jan2 = epoch_seconds(2027, 1, 2, 0, 0, 0);
    EXPECT_EQ(resolve_time(t, FixedClock(jan2, 0)), epoch_seconds(2026, 12, 31, 23, 59, 59));
    ASSERT_TRUE(parse_log_time("Jan  1 00:00:01", t, n));
    EXPECT_EQ(resolve_time(t, FixedClock(jan2, 0)), epoch_seconds(2027, 1, 1, 0, 0, 1));
    // A week into the future is still this year: clocks of a central syslog disagree.
    ASSERT_TRUE(parse_log_time("Jan  8 00:00:00", t, n));
    EXPECT_EQ(resolve_time(t, FixedClock(jan2, 0)), epoch_seconds(2027, 1, 8, 0, 0, 0));
    ASSERT_TRUE(parse_log_time("Jan 10 00:00:00", t, n));
    EXPECT_EQ(resolve_time(t, FixedClock(jan2, 0)), epoch_seconds(2026, 1, 10, 0, 0, 0));
    // Local time one hour east of UTC.
    ASSERT_TRUE(parse_log_time("Dec  6 08:00:00", t, n));
    EXPECT_EQ(resolve_time(t, FixedClock(epoch_seconds(2026, 12, 31, 0, 0, 0), 3600)), epoch_seconds(2026, 12, 6, 7, 0, 0));
}

struct TlsCase {
    const char* name;
    const char* message;
    bool want_ok;
    const char* want_level;
    bool want_reused;
    const char* want_host;
    const char* want_address;
    int want_port;
    const char* want_protocol;
    const char* want_cipher;
    int want_used, want_alg;
};

const TlsCase kPostfixTls[] = {
    {"trusted_with_tls13_details", "Trusted TLS connection established to modern.test[127.0.0.3]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256", true, "Trusted", false, "modern.test", "127.0.0.3", 25, "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, 256},
    {"verified", "Verified TLS connection established to mx.example[192.0.2.1]:25: TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits)", true, "Verified", false, "mx.example", "192.0.2.1", 25, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", 128, 128},
    {"untrusted_tls10", "Untrusted TLS connection established to legacy.test[127.0.0.4]:56063: TLSv1 with cipher ECDHE-RSA-AES256-SHA (256/256 bits)", true, "Untrusted", false, "legacy.test", "127.0.0.4", 56063, "TLSv1", "ECDHE-RSA-AES256-SHA", 256, 256},
    {"anonymous", "Anonymous TLS connection established to mx.example[192.0.2.1]:25: TLSv1.2 with cipher ADH-AES256-GCM-SHA384 (256/256 bits)", true, "Anonymous", false, "mx.example", "192.0.2.1", 25, "TLSv1.2", "ADH-AES256-GCM-SHA384", 256, 256},
    {"reused", "Trusted TLS connection reused to relay.example[198.51.100.7]:587: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)", true, "Trusted", true, "relay.example", "198.51.100.7", 587, "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, 256},
    {"ipv6_peer", "Verified TLS connection established to mx.example[2001:db8::25]:25: TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)", true, "Verified", false, "mx.example", "2001:db8::25", 25, "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, 128},
    {"postfix_2_4_no_level_no_port", "TLS connection established to mx.old[192.0.2.40]: TLSv1 with cipher DHE-RSA-AES256-SHA (256/256 bits)", true, "", false, "mx.old", "192.0.2.40", 0, "TLSv1", "DHE-RSA-AES256-SHA", 256, 256},
    {"export_cipher_bits_differ", "Untrusted TLS connection established to x[192.0.2.1]:25: SSLv3 with cipher EXP-RC4-MD5 (40/128 bits)", true, "Untrusted", false, "x", "192.0.2.1", 25, "SSLv3", "EXP-RC4-MD5", 40, 128},
    {"server_side_is_inbound", "Anonymous TLS connection established from unknown[203.0.113.5]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)", false, "", false, "", "", 0, "", "", 0, 0},
    {"cut_in_bits", "Trusted TLS connection established to x[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/25", false, "", false, "", "", 0, "", "", 0, 0},
    {"no_cipher", "Trusted TLS connection established to x[192.0.2.1]:25: TLSv1.3", false, "", false, "", "", 0, "", "", 0, 0},
    {"bad_port", "Trusted TLS connection established to x[192.0.2.1]:99999: TLSv1.3 with cipher A (1/1 bits)", false, "", false, "", "", 0, "", "", 0, 0},
    {"peer_without_address", "Trusted TLS connection established to x: TLSv1.3 with cipher A (1/1 bits)", false, "", false, "", "", 0, "", "", 0, 0},
    {"other_line", "SSL_connect error to legacy.test[127.0.0.4]:56063: -1", false, "", false, "", "", 0, "", "", 0, 0},
};

class PostfixTls : public ::testing::TestWithParam<TlsCase> {};
TEST_P(PostfixTls, Parses) {
    const TlsCase& c = GetParam();
    PostfixTlsLine t;
    ASSERT_EQ(parse_postfix_tls(c.message, t), c.want_ok);
    if (!c.want_ok) return;
    EXPECT_EQ(t.level, c.want_level);
    EXPECT_EQ(t.reused, c.want_reused);
    EXPECT_EQ(t.parsed.host, c.want_host);
    EXPECT_EQ(t.parsed.address, c.want_address);
    EXPECT_EQ(t.parsed.port, c.want_port);
    EXPECT_EQ(t.protocol, c.want_protocol);
    EXPECT_EQ(t.cipher, c.want_cipher);
    EXPECT_EQ(t.used_bits, c.want_used);
    EXPECT_EQ(t.alg_bits, c.want_alg);
}
INSTANTIATE_TEST_SUITE_P(Ingest, PostfixTls, ::testing::ValuesIn(kPostfixTls), [](const auto& p) { return std::string(p.param.name); });

struct StatusCase {
    const char* name;
    const char* message;
    StatusParse want;
    const char* want_queue_id;
    const char* want_recipient;
    const char* want_orig;
    const char* want_relay;
    int want_conn_use;
    const char* want_dsn;
    const char* want_status;
    const char* want_reason;
};

constexpr StatusParse S = StatusParse::Status, M = StatusParse::Malformed, N = StatusParse::NotStatus;

const StatusCase kPostfixStatus[] = {
    {"sent", "25FB9A722B1: to=<a@modern.test>, relay=modern.test[127.0.0.3]:36385, delay=0.47, delays=0.02/0.07/0.2/0.18, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as B595AA762FF)", S, "25FB9A722B1", "a@modern.test", "", "modern.test[127.0.0.3]:36385", 1, "2.0.0", "sent", "250 2.0.0 Ok: queued as B595AA762FF"},
    {"orig_to_and_conn_use", "4Kx2Qz3mNpz1xyz: to=<a@b.example>, orig_to=<alias@c.example>, relay=mx.b.example[192.0.2.1]:25, conn_use=3, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)", S, "4Kx2Qz3mNpz1xyz", "a@b.example", "alias@c.example", "mx.b.example[192.0.2.1]:25", 3, "2.0.0", "sent", "250 ok"},
    {"relay_none", "B62D4A722D6: to=<a@refused.test>, relay=none, delay=0.01, delays=0.01/0/0/0, dsn=4.4.1, status=deferred (connect to refused.test[127.0.0.8]:36385: Connection refused)", S, "B62D4A722D6", "a@refused.test", "", "none", 1, "4.4.1", "deferred", "connect to refused.test[127.0.0.8]:36385: Connection refused"},
    {"unknown_field_skipped", "4Kx9: to=<f@new.example>, relay=mx.new.example[192.0.2.50]:25, delay=0.5, delays=0/0/0.3/0.2, tls=(!dane)/(starttls), dsn=2.0.0, status=sent (250 ok)", S, "4Kx9", "f@new.example", "", "mx.new.example[192.0.2.50]:25", 1, "2.0.0", "sent", "250 ok"},
    {"reason_with_parentheses", "1111111111: to=<g@x.example>, relay=mx.x.example[192.0.2.60]:25, delay=0.4, delays=0/0/0.2/0.2, dsn=5.1.1, status=bounced (host mx.x.example[192.0.2.60] said: 550 5.1.1 no (in reply to RCPT TO command))", S, "1111111111", "g@x.example", "", "mx.x.example[192.0.2.60]:25", 1, "5.1.1", "bounced", "host mx.x.example[192.0.2.60] said: 550 5.1.1 no (in reply to RCPT TO command)"},
    {"quoted_local_part_holds_fields", "1212121212: to=<\"x>, relay=fake[192.0.2.1]:25, status=sent (y\"@victim.example>, relay=mx.victim.example[192.0.2.99]:25, delay=0.1, delays=0/0/0.1/0, dsn=4.7.4, status=deferred (TLS is required)", S, "1212121212", "\"x>, relay=fake[192.0.2.1]:25, status=sent (y\"@victim.example", "", "mx.victim.example[192.0.2.99]:25", 1, "4.7.4", "deferred", "TLS is required"},
    {"escaped_quote_in_local_part", "1313131313: to=<\"a\\\">b\"@q.example>, relay=mx.q.example[192.0.2.1]:25, delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (ok)", S, "1313131313", "\"a\\\">b\"@q.example", "", "mx.q.example[192.0.2.1]:25", 1, "2.0.0", "sent", "ok"},
    {"empty_recipient", "1414141414: to=<>, relay=none, delay=0, delays=0/0/0/0, dsn=5.1.3, status=bounced (bad address syntax)", S, "1414141414", "", "", "none", 1, "5.1.3", "bounced", "bad address syntax"},
    {"cut_in_reason", "1515151515: to=<a@b.example>, relay=mx.b.example[192.0.2.1]:25, delay=0.1, dsn=2.0.0, status=sent (250 o", M, "", "", "", "", 0, "", "", ""},
    {"cut_in_recipient", "1616161616: to=<a@b.exam", M, "", "", "", "", 0, "", "", ""},
    {"unterminated_quote", "1717171717: to=<\"a@b.example>, relay=none, status=sent (x)", M, "", "", "", "", 0, "", "", ""},
    {"no_relay", "1818181818: to=<a@b.example>, delay=0.1, status=sent (ok)", M, "", "", "", "", 0, "", "", ""},
    {"bad_conn_use", "1919191919: to=<a@b.example>, relay=none, conn_use=x, delay=0, status=sent (ok)", M, "", "", "", "", 0, "", "", ""},
    {"not_a_status_line", "AAAAAAAAAA: Cannot start TLS: handshake failure", N, "", "", "", "", 0, "", "", ""},
    {"queue_id_with_punctuation", "12-34: to=<a@b>, relay=none, status=sent (x)", N, "", "", "", "", 0, "", "", ""},
    {"no_queue_id", "to=<a@b>, relay=none, status=sent (x)", N, "", "", "", "", 0, "", "", ""},
};

class PostfixStatus : public ::testing::TestWithParam<StatusCase> {};
TEST_P(PostfixStatus, Parses) {
    const StatusCase& c = GetParam();
    PostfixStatusLine s;
    ASSERT_EQ(parse_postfix_status(c.message, s), c.want);
    if (c.want != StatusParse::Status) return;
    EXPECT_EQ(s.queue_id, c.want_queue_id);
    EXPECT_EQ(s.recipient, c.want_recipient);
    EXPECT_EQ(s.orig_recipient, c.want_orig);
    EXPECT_EQ(s.relay, c.want_relay);
    EXPECT_EQ(s.conn_use, c.want_conn_use);
    EXPECT_EQ(s.dsn, c.want_dsn);
    EXPECT_EQ(s.status, c.want_status);
    EXPECT_EQ(s.reason, c.want_reason);
}
INSTANTIATE_TEST_SUITE_P(Ingest, PostfixStatus, ::testing::ValuesIn(kPostfixStatus), [](const auto& p) { return std::string(p.param.name); });

TEST(IngestPostfix, ProgramTags) {
    for (const char* p : {"postfix/smtp", "postfix-out/smtp", "postfix/relay/smtp"}) EXPECT_TRUE(is_postfix_smtp_client(p)) << p;
    for (const char* p : {"postfix/lmtp", "postfix/smtpd", "smtp", "postfix/relay", "postfix/tlsproxy", "/smtp", ""})
        EXPECT_FALSE(is_postfix_smtp_client(p)) << p;
}

struct ReasonCase {
    const char* name;
    const char* reason;
    bool want;
};
const ReasonCase kPostfixReasons[] = {
    {"not_offered", "TLS is required, but was not offered by host plain.test[127.0.0.5]", true},
    {"refused_to_start", "TLS is required, but host mx[192.0.2.1] refused to start TLS: 454 4.7.0 not now", true},
    {"engine", "TLS is required, but our TLS engine is unavailable", true},
    {"handshake", "Cannot start TLS: handshake failure", true},
    {"not_verified", "Server certificate not verified", true},
    {"starttls_lost", "lost connection with mx[192.0.2.1] while receiving the STARTTLS response", true},
    {"starttls_timeout", "conversation with mx[192.0.2.1] timed out while receiving the STARTTLS response", true},
    {"requiretls", "REQUIRETLS Failure: sender requested REQUIRETLS, but ...", true},
    {"config", "client TLS configuration problem", true},
    {"server_says_it", "host mx[192.0.2.1] said: 530 5.7.0 TLS is required, but was not offered", false},
    {"server_says_starttls", "host mx[192.0.2.1] said: 554 no while receiving the STARTTLS response", false},
    {"lost_elsewhere", "lost connection with mx[192.0.2.1] while sending RCPT TO", false},
    {"connect", "connect to mx[192.0.2.1]:25: Connection refused", false},
    {"smtputf8", "SMTPUTF8 is required, but was not offered by host mx[192.0.2.1]", false},
};
class PostfixReason : public ::testing::TestWithParam<ReasonCase> {};
TEST_P(PostfixReason, IsTls) { EXPECT_EQ(postfix_tls_reason(GetParam().reason), GetParam().want); }
INSTANTIATE_TEST_SUITE_P(Ingest, PostfixReason, ::testing::ValuesIn(kPostfixReasons), [](const auto& p) { return std::string(p.param.name); });

const ReasonCase kSendmailReasons[] = {
    {"handshake", "Deferred: 403 4.7.0 TLS handshake failed.", true},
    {"too_weak", "Deferred: 403 4.7.0 encryption too weak 128 less than 256", true},
    {"not_authenticated_perm", "554 5.7.0 not authenticated", true},
    {"no_starttls", "Deferred: 403 4.7.0 other side does not support STARTTLS", true},
    {"other_7_code", "Deferred: 450 4.7.1 Service unavailable", false},
    {"connection", "Deferred: Connection refused by mx.example.", false},
    {"phrase_without_code", "Deferred: TLS handshake failed.", false},
};
class SendmailReason : public ::testing::TestWithParam<ReasonCase> {};
TEST_P(SendmailReason, IsTls) { EXPECT_EQ(sendmail_tls_reason(GetParam().reason), GetParam().want); }
INSTANTIATE_TEST_SUITE_P(Ingest, SendmailReason, ::testing::ValuesIn(kSendmailReasons), [](const auto& p) { return std::string(p.param.name); });

TEST(IngestSendmail, StarttlsLines) {
    SendmailTlsLine t;
    ASSERT_TRUE(parse_sendmail_tls("STARTTLS=client, relay=modern-open.test., version=TLSv1.3, verify=OK, cipher=TLS_AES_256_GCM_SHA384, bits=256/128", t));
    EXPECT_EQ(t.relay, "modern-open.test.");
    EXPECT_EQ(t.version, "TLSv1.3");
    EXPECT_EQ(t.verify, "OK");
    EXPECT_EQ(t.cipher, "TLS_AES_256_GCM_SHA384");
    EXPECT_EQ(t.alg_bits, 256);  // bits=ALG/USED in tls_get_info()
    EXPECT_EQ(t.used_bits, 128);
    ASSERT_TRUE(parse_sendmail_tls("STARTTLS=client, error: connect failed=-1, reason=unsupported protocol, SSL_error=1, relay=mx.x", t));
    EXPECT_TRUE(t.error);
    EXPECT_EQ(t.relay, "mx.x");
    ASSERT_TRUE(parse_sendmail_tls("STARTTLS=client, error: connect failed=0, SSL_error=5", t));
    EXPECT_TRUE(t.error && t.relay.empty());
    EXPECT_FALSE(parse_sendmail_tls("STARTTLS=server, relay=x [1.2.3.4], version=TLSv1.3, verify=NO, cipher=A, bits=1/1", t));
    EXPECT_FALSE(parse_sendmail_tls("STARTTLS=client, cert-subject=/CN=x, cert-issuer=/CN=y, verifymsg=ok", t));
    EXPECT_FALSE(parse_sendmail_tls("STARTTLS=client, relay=x., version=TLSv1.3, verify=OK, cipher=A, bits=25", t));
    // No key is larger than kMaxLoggedBits (Postfix's lines are held to it too).
    EXPECT_FALSE(parse_sendmail_tls("STARTTLS=client, relay=x., version=TLSv1.3, verify=OK, cipher=A, bits=251756/256", t));
    EXPECT_FALSE(parse_sendmail_tls("STARTTLS=client, relay=x., version=TLSv1.3, verify=OK, cipher=A, bits=256/65537", t));
    ASSERT_TRUE(parse_sendmail_tls("STARTTLS=client, relay=x., version=TLSv1.3, verify=OK, cipher=A, bits=65536/65536", t));
    EXPECT_EQ(t.alg_bits, 65536);
}

TEST(IngestSendmail, StatusLines) {
    SendmailStatusLine s;
    ASSERT_EQ(parse_sendmail_status("6B67pFNS009450: to=<c@modern-open.test>,<b@modern-open.test>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=60253, relay=modern-open.test. [127.0.0.3], dsn=2.0.0, stat=Sent (Ok: queued as 06080A726D5)", s), SendmailParse::Status);
    EXPECT_EQ(s.queue_id, "6B67pFNS009450");
    ASSERT_EQ(s.recipients.size(), 2u);
    EXPECT_EQ(s.recipients[0], "c@modern-open.test");
    EXPECT_EQ(s.recipients[1], "b@modern-open.test");
    EXPECT_EQ(s.mailer, "esmtp");
    EXPECT_EQ(s.relay_host, "modern-open.test.");
    EXPECT_EQ(s.relay_address, "127.0.0.3");
    EXPECT_EQ(s.dsn, "2.0.0");
    EXPECT_EQ(s.stat, "Sent (Ok: queued as 06080A726D5)");
    ASSERT_EQ(parse_sendmail_status("Q1: to=<a@x>,<b@x>, [more], ctladdr=<r@y> (0/0), delay=00:00:02, mailer=esmtp, pri=1, relay=mx.x. [192.0.2.1], dsn=4.0.0, stat=Deferred: 451 4.3.0, try again", s), SendmailParse::Status);
    EXPECT_EQ(s.recipients.size(), 2u);
    EXPECT_EQ(s.stat, "Deferred: 451 4.3.0, try again");
    ASSERT_EQ(parse_sendmail_status("Q2: to=\"|/usr/bin/procmail\", ctladdr=<h@x> (1000/1000), delay=00:00:00, mailer=prog, pri=1, dsn=2.0.0, stat=Sent", s), SendmailParse::Status);
    EXPECT_EQ(s.mailer, "prog");
    EXPECT_EQ(s.relay_address, "");
    EXPECT_EQ(parse_sendmail_status("Q3: to=<\"a, delay=9\"@q>, delay=00:00:00, mailer=esmtp, stat=Sent", s), SendmailParse::Malformed);
    EXPECT_EQ(parse_sendmail_status("Q4: to=<k@cut.example>, delay=00:00:00, xdelay=00:00:", s), SendmailParse::Malformed);
    EXPECT_EQ(parse_sendmail_status("Q5: from=<a@b>, size=1, class=0", s), SendmailParse::NotStatus);
    EXPECT_TRUE(is_sendmail_smtp_mailer("esmtp") && is_sendmail_smtp_mailer("relay") && !is_sendmail_smtp_mailer("local"));
    EXPECT_TRUE(is_sendmail_mta("sm-mta") && is_sendmail_mta("sendmail") && !is_sendmail_mta("sm-msp-queue"));
}

TEST(IngestJournal, Entries) {
    JournalEntry e;
    ASSERT_TRUE(parse_journal_json(R"({"__CURSOR":"s=ab;i=9","__REALTIME_TIMESTAMP":"1796543528015275","_PID":"14164","SYSLOG_PID":"4242","_HOSTNAME":"vm","SYSLOG_IDENTIFIER":"postfix/smtp","MESSAGE":"caf\u00e9 \"q\" \\ \ud83d\ude00","_CAP_EFFECTIVE":"1f","X":null,"Y":[1,"a",{"b":[true]}]})", e));
    EXPECT_EQ(e.cursor, "s=ab;i=9");
    EXPECT_EQ(e.realtime_usec, 1796543528015275);
    EXPECT_EQ(e.pid, 4242);  // SYSLOG_PID before _PID
    EXPECT_EQ(e.hostname, "vm");
    EXPECT_EQ(e.identifier, "postfix/smtp");
    EXPECT_EQ(e.message, "caf\xc3\xa9 \"q\" \\ \xf0\x9f\x98\x80");
    // A MESSAGE that is not UTF-8 comes as its bytes.
    ASSERT_TRUE(parse_journal_json(R"({"MESSAGE":[104,105,0,255],"_PID":"7"})", e));
    EXPECT_EQ(e.message, std::string("hi\0\xff", 4));
    EXPECT_EQ(e.pid, 7);
    std::string why;
    for (const char* bad : {"", "{", R"({"a":"b")", R"({"a":"b"} x)", R"({"a":"\q"})", R"({"a":"\ud83d"x})", "[1]",
                            R"({"a":[[[[[[[[[[1]]]]]]]]]]})", "{\"a\":\"\x01\"}"})
        EXPECT_FALSE(parse_journal_json(bad, e, &why)) << bad;
    EXPECT_FALSE(why.empty());
}

TEST(IngestPosition, Text) {
    LogPosition f;
    f.kind = LogPosition::Kind::File;
    f.device = 2049;
    f.inode = 123456;
    f.offset = 789;
    EXPECT_EQ(position_text(f), "file 2049 123456 789");
    EXPECT_EQ(parse_position("file 2049 123456 789"), f);
    LogPosition j;
    j.kind = LogPosition::Kind::Journal;
    j.cursor = "s=ab;i=9;b=cd";
    EXPECT_EQ(parse_position(position_text(j)), j);
    EXPECT_EQ(parse_position("none"), LogPosition{});
    for (const char* bad : {"file 1 2", "file a b c", "journal ", "journal a b", "disk 1 2 3", ""})
        EXPECT_FALSE(parse_position(bad)) << bad;
}

}  // namespace
}  // namespace tlspolicy::ingest
