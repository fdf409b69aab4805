// Which TLS line belongs to which delivery: scenarios of log lines through the
// DeliveryAssembler, each with the records it must give (as ingest_test_util's
// describe() writes them, cut to the facts the scenario is about).
#include <gtest/gtest.h>

#include "ingest_test_util.hpp"

namespace tlspolicy::ingest {
namespace {

using namespace tlspolicy::ingest::testing;

// "QID rcpt transport [version cert]" per record.
std::string facts(const std::vector<OutboundDelivery>& records) {
    std::string s;
    for (const OutboundDelivery& d : records) {
        if (!s.empty()) s += " | ";
        s += d.queue_id + " " + d.recipient + " " + std::string(word(d.transport));
        if (d.transport == Transport::Tls) s += " " + d.tls_version + " " + d.cert_verification;
    }
    return s;
}

std::string tls(const char* pid, const char* peer, const char* version = "TLSv1.3", const char* host = "mx",
                const char* time = "Dec  6 07:00:00", const char* level = "Trusted") {
    return std::string(time) + " " + host + " postfix/smtp[" + pid + "]: " + level + " TLS connection established to " +
           peer + ": " + version + " with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)";
}

std::string status(const char* pid, const char* qid, const char* rcpt, const char* relay, const char* host = "mx",
                   const char* time = "Dec  6 07:00:01", const char* extra = "") {
    return std::string(time) + " " + host + " postfix/smtp[" + pid + "]: " + qid + ": to=<" + rcpt + ">, relay=" +
           relay + extra + ", delay=0.1, delays=0/0/0.1/0, dsn=2.0.0, status=sent (250 ok)";
}

struct Scenario {
    const char* name;
    std::vector<std::string> lines;
    const char* want;
};

const char* kA = "a.example[192.0.2.1]:25";
const char* kB = "b.example[192.0.2.2]:25";

const Scenario kScenarios[] = {
    {"several_recipients_share_the_tls_line",
     {tls("10", kA), status("10", "Q1", "x@a.example", kA), status("10", "Q1", "y@a.example", kA)},
     "Q1 x@a.example tls TLSv1.3 trusted | Q1 y@a.example tls TLSv1.3 trusted"},
    {"the_next_delivery_without_a_tls_line_is_plaintext",
     {tls("10", kA), status("10", "Q1", "x@a.example", kA), status("10", "Q2", "z@a.example", kA)},
     "Q1 x@a.example tls TLSv1.3 trusted | Q2 z@a.example plaintext"},
    {"a_new_tls_line_for_the_next_delivery",
     {tls("10", kA), status("10", "Q1", "x@a.example", kA), tls("10", kA, "TLSv1.2"), status("10", "Q2", "z@a.example", kA)},
     "Q1 x@a.example tls TLSv1.3 trusted | Q2 z@a.example tls TLSv1.2 trusted"},
    {"reused_connection_line_counts",
     {tls("10", kA), status("10", "Q1", "x@a.example", kA),
      "Dec  6 07:00:02 mx postfix/smtp[11]: Trusted TLS connection reused to a.example[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
      status("11", "Q2", "z@a.example", kA, "mx", "Dec  6 07:00:02", ", conn_use=2")},
     "Q1 x@a.example tls TLSv1.3 trusted | Q2 z@a.example tls TLSv1.3 trusted"},
    {"tls_line_of_another_server_is_not_taken",
     {tls("10", kA), status("10", "Q1", "x@b.example", kB)}, "Q1 x@b.example plaintext"},
    {"peer_compared_without_case",
     {tls("10", "a.example[192.0.2.1]:25"), status("10", "Q1", "x@a.example", "A.Example[192.0.2.1]:25")},
     "Q1 x@a.example tls TLSv1.3 trusted"},
    {"other_process_has_no_tls", {tls("10", kA), status("12", "Q1", "x@a.example", kA)}, "Q1 x@a.example plaintext"},
    {"same_pid_on_another_host_is_another_process",
     {tls("10", kA, "TLSv1.3", "mx1"), status("10", "Q1", "x@a.example", kA, "mx2"), tls("10", kA, "TLSv1.3", "mx2"),
      status("10", "Q2", "y@a.example", kA, "mx2")},
     "Q1 x@a.example unknown | Q2 y@a.example tls TLSv1.3 trusted"},
    {"nothing_seen_yet_is_unknown_not_plaintext",
     {status("10", "Q1", "x@a.example", kA), tls("11", kB), status("10", "Q2", "y@a.example", kA)},
     "Q1 x@a.example unknown | Q2 y@a.example plaintext"},
    {"a_stale_tls_line_is_not_taken",
     {tls("10", kA, "TLSv1.3", "mx", "Dec  6 05:00:00"), status("10", "Q1", "x@a.example", kA, "mx", "Dec  6 07:00:00")},
     "Q1 x@a.example plaintext"},
    {"relay_none_has_no_connection",
     {tls("10", kA),
      "Dec  6 07:00:01 mx postfix/smtp[10]: Q1: to=<x@a.example>, relay=none, delay=0, delays=0/0/0/0, dsn=4.4.1, status=deferred (connect to a.example[192.0.2.1]:25: Connection refused)",
      status("10", "Q1", "y@a.example", kA)},
     "Q1 x@a.example no_connection | Q1 y@a.example tls TLSv1.3 trusted"},
    {"lines_of_other_programs_in_between",
     {tls("10", kA), "Dec  6 07:00:00 mx postfix/qmgr[5]: Q9: removed",
      "Dec  6 07:00:00 mx postfix/smtpd[6]: Anonymous TLS connection established from c[192.0.2.9]: TLSv1.2 with cipher X (1/1 bits)",
      status("10", "Q1", "x@a.example", kA)},
     "Q1 x@a.example tls TLSv1.3 trusted"},
};

class Assembles : public ::testing::TestWithParam<Scenario> {};
TEST_P(Assembles, Scenario) {
    DeliveryAssembler a(Mta::Postfix, utc_clock());
    std::vector<OutboundDelivery> out;
    for (const std::string& l : GetParam().lines) a.feed(l, out);
    EXPECT_EQ(facts(out), GetParam().want);
    EXPECT_EQ(a.counts().lines(), GetParam().lines.size());
}
INSTANTIATE_TEST_SUITE_P(Ingest, Assembles, ::testing::ValuesIn(kScenarios), [](const auto& p) { return std::string(p.param.name); });

TEST(IngestAssembler, SendmailKeepsTheConnectionAcrossEnvelopes) {
    DeliveryAssembler a(Mta::Sendmail, utc_clock());
    std::vector<OutboundDelivery> out;
    const std::string p = "Dec  6 08:00:00 mx sm-mta[7]: ";
    for (const std::string& l : {
             p + "STARTTLS=client, relay=mx.a.example., version=TLSv1.2, verify=OK, cipher=ECDHE-RSA-AES128-GCM-SHA256, bits=128/128",
             p + "Q1: to=<x@a.example>,<y@a.example>, delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=1, relay=mx.a.example. [192.0.2.1], dsn=2.0.0, stat=Sent (ok)",
             p + "Q2: to=<z@a.example>, delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=1, relay=mx.a.example. [192.0.2.1], dsn=2.0.0, stat=Sent (ok)",
             p + "Q3: to=<w@b.example>, delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=1, relay=mx.b.example. [192.0.2.2], dsn=2.0.0, stat=Sent (ok)",
             p + "STARTTLS=client, error: connect failed=0, SSL_error=5",
             p + "Q4: to=<v@a.example>, delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=1, relay=mx.a.example. [192.0.2.1], dsn=2.0.0, stat=Sent (ok)",
         })
        a.feed(l, out);
    EXPECT_EQ(facts(out), "Q1 x@a.example tls TLSv1.2 ok | Q1 y@a.example tls TLSv1.2 ok | Q2 z@a.example tls TLSv1.2 ok | "
                          "Q3 w@b.example plaintext | Q4 v@a.example plaintext");
    ASSERT_EQ(out.size(), 5u);
    EXPECT_EQ(out[0].server_cert, CertStatus::Verified);
    EXPECT_EQ(out[0].alg_bits, 128);
}

// A key size beyond any cipher's (the fuzz target's bits=251756) is not read
// as a TLS line, so it never reaches the saved state, which restores (it was
// saved and then refused: an ingest restarted on it would not start). Up to
// kMaxLoggedBits is kept and restores.
TEST(IngestAssembler, EveryStateSavedRestoresWhateverTheBits) {
    const std::string p = "Dec  6 08:00:00 mx sm-mta[7]: STARTTLS=client, relay=mx.a.example., version=TLSv1.3, verify=OK, "
                          "cipher=TLS_AES_256_GCM_SHA384, bits=";
    for (const char* bits : {"251756/256", "256/999999", "65537/65537", "65536/65536", "256/256"}) {
        SCOPED_TRACE(bits);
        DeliveryAssembler a(Mta::Sendmail, utc_clock());
        std::vector<OutboundDelivery> out;
        a.feed(p + bits, out);
        const std::string saved = a.save_state();
        DeliveryAssembler b(Mta::Sendmail, utc_clock());
        std::string why;
        ASSERT_TRUE(b.restore_state(saved, &why)) << why << "\n" << saved;
        EXPECT_EQ(b.save_state(), saved);
        const bool kept = std::string_view(bits) == "65536/65536" || std::string_view(bits) == "256/256";
        EXPECT_EQ(saved.find("pending\t") != std::string::npos, kept) << saved;
    }
}

// At kMaxPending processes with a pending TLS line, the one that logged least
// recently loses it; its delivery over that connection is recorded with TLS
// unknown (all its recipients), and a later delivery is a later connection.
TEST(IngestAssembler, BoundDropsTheLeastRecentlyUsedLine) {
    DeliveryAssembler a(Mta::Postfix, utc_clock());
    std::vector<OutboundDelivery> out;
    for (std::size_t pid = 1; pid <= kMaxPending + 1; ++pid) a.feed(tls(std::to_string(pid).c_str(), kA), out);
    EXPECT_EQ(a.counts().pending_dropped, 1u);
    for (const std::string& l : {status("1", "Q1", "x@a.example", kA), status("1", "Q1", "y@a.example", kA),
                                 status("1", "Q2", "z@a.example", kA),
                                 status(std::to_string(kMaxPending + 1).c_str(), "Q3", "w@a.example", kA),
                                 status("2", "Q4", "v@a.example", kA)})
        a.feed(l, out);
    EXPECT_EQ(facts(out), "Q1 x@a.example unknown | Q1 y@a.example unknown | Q2 z@a.example plaintext | "
                          "Q3 w@a.example tls TLSv1.3 trusted | Q4 v@a.example tls TLSv1.3 trusted");
    EXPECT_EQ(a.counts().without_tls_facts, 2u);
}

// A restart between a TLS line and its deliveries: the state travels.
TEST(IngestAssembler, StateSavedAndRestored) {
    DeliveryAssembler before(Mta::Postfix, utc_clock());
    std::vector<OutboundDelivery> out;
    before.feed(tls("10", kA, "TLSv1.2", "mx", "Dec  6 07:00:00", "Verified"), out);
    before.feed(status("10", "Q1", "x@a.example", kA), out);
    for (std::size_t pid = 100; pid < 110; ++pid) before.feed(tls(std::to_string(pid).c_str(), kB), out);
    // TLS seen on several hosts: the text must not depend on a hash table's
    // order (the fuzz target found save, restore, save differing).
    for (const char* host : {"mx3", "mx2", "relay", "mx1", "out", "a", "zz"}) before.feed(tls("1", kA, "TLSv1.3", host), out);
    const std::string saved = before.save_state();

    DeliveryAssembler after(Mta::Postfix, utc_clock());
    std::string why;
    ASSERT_TRUE(after.restore_state(saved, &why)) << why;
    EXPECT_EQ(after.save_state(), saved);
    EXPECT_TRUE(after.tls_logging_seen());
    out.clear();
    after.feed(status("10", "Q1", "y@a.example", kA), out);  // Q1's second recipient
    after.feed(status("10", "Q2", "z@a.example", kA), out);  // a later connection
    after.feed(status("105", "Q3", "w@b.example", kB), out);
    after.feed(status("1", "Q4", "v@a.example", kA, "relay"), out);
    EXPECT_EQ(facts(out), "Q1 y@a.example tls TLSv1.2 verified | Q2 z@a.example plaintext | Q3 w@b.example tls TLSv1.3 trusted | "
                          "Q4 v@a.example tls TLSv1.3 trusted");

    DeliveryAssembler sendmail(Mta::Sendmail, utc_clock());
    EXPECT_FALSE(sendmail.restore_state(saved, &why));
    EXPECT_NE(why.find("tlspolicy-ingest-state 1 sendmail"), std::string::npos) << why;
    for (const char* bad : {"", "tlspolicy-ingest-state 1 postfix\npending\tk\tx\t0\t-\tp\t-\t-\t1\t1\t-",
                            "tlspolicy-ingest-state 1 postfix\nwhat\tever", "tlspolicy-ingest-state 2 postfix"})
        EXPECT_FALSE(after.restore_state(bad, &why)) << bad;
    EXPECT_TRUE(after.restore_state("tlspolicy-ingest-state 1 postfix\n", &why)) << why;
    EXPECT_FALSE(after.tls_logging_seen());
}

TEST(IngestAssembler, JournalEntriesCarryTheirOwnTimeAndPid) {
    DeliveryAssembler a(Mta::Postfix, utc_clock());
    std::vector<OutboundDelivery> out;
    JournalEntry e;
    e.identifier = "postfix/smtp";
    e.hostname = "mx";
    e.pid = 10;
    e.realtime_usec = 1796515200123456;
    e.message = tls("10", kA).substr(std::string("Dec  6 07:00:00 mx postfix/smtp[10]: ").size());
    a.feed(e, out);
    e.message = status("10", "Q1", "x@a.example", kA).substr(std::string("Dec  6 07:00:01 mx postfix/smtp[10]: ").size());
    a.feed(e, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].transport, Transport::Tls);
    EXPECT_EQ(out[0].time, 1796515200);
    EXPECT_EQ(out[0].time_usec, 123456);
    e.identifier.clear();  // not a syslog entry
    a.feed(e, out);
    EXPECT_EQ(a.counts().not_syslog, 1u);
}

TEST(IngestAssembler, LongLinesAreSkipped) {
    DeliveryAssembler a(Mta::Postfix, utc_clock());
    std::vector<OutboundDelivery> out;
    a.feed(status("10", "Q1", std::string(kMaxLineLength, 'x').c_str(), kA), out);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(a.counts().not_syslog, 1u);
    // Just under the bound: recorded, its recipient cut to kMaxToken.
    a.feed(status("10", "Q1", (std::string(kMaxLineLength - 300, 'x') + "@a.example").c_str(), kA), out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_LE(out[0].recipient.size(), kMaxToken);
}

}  // namespace
}  // namespace tlspolicy::ingest
