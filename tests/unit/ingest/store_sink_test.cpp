// The observation store as the ingest's sink: outbound rows with their facts,
// the position committed with them (a second sink resumes from it), old
// databases migrated with their rows kept inbound, and `report --evidence`
// counting the deliveries per partner rule and month beside inbound mail,
// the same from the summaries as from the rows.
#include <gtest/gtest.h>

#include <sstream>

#include "../store/pg_test_util.hpp"
#include "config/config.hpp"
#include "ingest/io/store_sink.hpp"
#include "ingest/store_record.hpp"
#include "report/report.hpp"
#include "store/observation_store.hpp"
#include "store/sqlite/source.hpp"
#include "store/sqlite/sqlite.hpp"
#include "store_test_util.hpp"

namespace tlspolicy::ingest {
namespace {

constexpr const char* kPolicy = R"(
[defaults]
require_tls = false
action = "annotate"
[[partner]]
name = "acme"
senders = ["acme.example"]
require_tls = true
min_version = "TLSv1.2"
action = "tempfail"
)";

std::shared_ptr<const Config> policy() {
    static LoadResult r = load_config_text(kPolicy, "policy.toml");
    EXPECT_TRUE(r.ok());
    return r.config;
}

OutboundDelivery delivery(std::int64_t t, std::string queue_id, std::string recipient, Transport transport,
                          DeliveryStatus status = DeliveryStatus::Sent) {
    OutboundDelivery d;
    d.time = t;
    d.host = "mx1";
    d.queue_id = std::move(queue_id);
    d.recipient = std::move(recipient);
    d.domain = d.recipient.substr(d.recipient.find('@') + 1);
    d.relay_host = "mx." + d.domain;
    d.relay_address = "192.0.2.25";
    d.relay_port = 25;
    d.transport = transport;
    d.status = status;
    if (transport == Transport::Tls) {
        d.tls_version = "TLSv1.3";
        d.cipher = "TLS_AES_256_GCM_SHA384";
        d.cipher_bits = d.alg_bits = 256;
        d.cert_verification = "verified";
        d.server_cert = CertStatus::Verified;
    }
    if (status != DeliveryStatus::Sent && transport == Transport::Plaintext) {
        d.tls_reason = true;
        d.reason = "TLS is required, but was not offered by host mx.acme.example[192.0.2.25]";
    }
    return d;
}

std::vector<OutboundDelivery> judged(std::vector<OutboundDelivery> ds) {
    for (OutboundDelivery& d : ds)
        if (d.transport == Transport::Tls || d.transport == Transport::Plaintext) {
            // as run_ingest does (judge.hpp); done here by hand to keep the test's facts in view
            d.judgement.judged = true;
            d.judgement.rules = {{d.domain == "acme.example" ? "acme" : "default",
                                  d.domain == "acme.example" ? RuleKind::Partner : RuleKind::Defaults}};
            d.judgement.result = d.transport == Transport::Tls ? Result::Pass : Result::Fail;
        }
    return ds;
}

Checkpoint at(std::uint64_t offset) {
    LogPosition p;
    p.kind = LogPosition::Kind::File;
    p.device = 8;
    p.inode = 1234;
    p.offset = offset;
    return {p, "tlspolicy-ingest-state 1 postfix\nseen\tmx1 postfix/smtp\n"};
}

TEST(StoreSink, CheckpointTextRoundTrips) {
    const Checkpoint c = at(4096);
    EXPECT_EQ(parse_checkpoint_text(checkpoint_text(c)), c);
    EXPECT_FALSE(parse_checkpoint_text("file 1 2"));
    EXPECT_FALSE(parse_checkpoint_text("garbage\nstate"));
}

TEST(StoreSink, OutboundRowKeepsEveryFact) {
    const std::int64_t t = test::now_s() - 60;
    OutboundDelivery d = judged({delivery(t, "Q1", "a@acme.example", Transport::Tls)})[0];
    const Observation o = outbound_observation(*policy()->policy, d);
    EXPECT_EQ(o.direction, Direction::Outbound);
    EXPECT_EQ(o.stage, Stage::Message);
    EXPECT_EQ(o.version, TlsVersion::TLSv1_3);
    EXPECT_EQ(o.cert.status, CertStatus::Verified);
    EXPECT_EQ(o.action, Decision::Accept);
    EXPECT_EQ(o.host, "mx1");
    EXPECT_EQ(outbound_observation(*policy()->policy, d, "mx-fleet").host, "mx-fleet") << "[observations] host names every row";

    // No TLS facts in the log: not judged, but counted under the destination's rules.
    const OutboundDelivery unknown = delivery(t, "Q2", "b@acme.example", Transport::Unknown, DeliveryStatus::Deferred);
    const Observation u = outbound_observation(*policy()->policy, unknown);
    ASSERT_EQ(u.rules.size(), 1u);
    EXPECT_EQ(u.rules[0].name, "acme");
    EXPECT_EQ(u.result, Result::None);
    EXPECT_EQ(u.action, Decision::Tempfail);
}

TEST(StoreSink, RowsAndPositionCommitTogetherAndResume) {
    test::StoreDir dir;
    const std::string path = dir.file("observations.sqlite");
    const std::int64_t t = test::now_s() - 60;
    {
        StoreSink sink(make_sqlite_backend(path), "postfix:/var/log/mail.log", *policy()->policy);
        EXPECT_FALSE(sink.committed()) << "a new store: nothing read yet";
        sink.write(judged({delivery(t, "Q1", "a@acme.example", Transport::Tls),
                           delivery(t, "Q2", "b@acme.example", Transport::Plaintext, DeliveryStatus::Deferred)}),
                   at(100));
        sink.write({}, at(200));
    }
    StoreSink again(make_sqlite_backend(path), "postfix:/var/log/mail.log", *policy()->policy);
    EXPECT_EQ(again.committed(), at(200)) << "the position of the last write, with the assembler's state";
    StoreSink other(make_sqlite_backend(path), "postfix:/var/log/other.log", *policy()->policy);
    EXPECT_FALSE(other.committed()) << "each log its own position";

    ObservationRows rows = read_observations(path, 0, t + 10);
    ASSERT_TRUE(rows.ok()) << rows.error;
    ASSERT_EQ(rows.rows.size(), 2u);
    const Observation& deferred = rows.rows[1];
    EXPECT_EQ(deferred.direction, Direction::Outbound);
    EXPECT_EQ(deferred.transport, Transport::Plaintext);
    EXPECT_EQ(deferred.delivery, DeliveryStatus::Deferred);
    EXPECT_TRUE(deferred.tls_reason);
    EXPECT_EQ(deferred.relay_host, "mx.acme.example");
    EXPECT_EQ(deferred.relay_address, "192.0.2.25");
    EXPECT_EQ(rows.rows[0].cert_verification, "verified");
    EXPECT_EQ(rows.rows[0].transport, Transport::Tls);
    std::string error;
    sqlite::Db db = sqlite::open(path, SQLITE_OPEN_READONLY, &error);
    EXPECT_EQ(sqlite::query_int(db.get(), "SELECT count(*) FROM observations WHERE recipient_domain = 'acme.example'", -1), 2);
    EXPECT_EQ(sqlite::query_int(db.get(), "SELECT sum(n) FROM summary_rules WHERE direction = 'outbound'", -1), 2);
}

TEST(StoreSink, AFailedWriteKeepsNeitherRowsNorPosition) {
    test::StoreDir dir;
    const std::string path = dir.file("observations.sqlite");
    const std::int64_t t = test::now_s() - 60;
    StoreSink sink(make_sqlite_backend(path), "postfix:/var/log/mail.log", *policy()->policy);
    sink.write(judged({delivery(t, "Q1", "a@acme.example", Transport::Tls)}), at(100));
    std::string error;
    {
        sqlite::Db db = sqlite::open(path, SQLITE_OPEN_READWRITE, &error);
        ASSERT_TRUE(sqlite::exec(db.get(),
                                 "CREATE TRIGGER refuse BEFORE UPDATE ON ingest_positions"
                                 " WHEN new.position LIKE 'file 8 1234 300%' BEGIN SELECT RAISE(ABORT, 'refused'); END",
                                 &error))
            << error;
    }
    EXPECT_THROW(sink.write(judged({delivery(t, "Q2", "b@acme.example", Transport::Tls),
                                    delivery(t, "Q3", "c@acme.example", Transport::Tls)}),
                            at(300)),
                 SinkError);
    EXPECT_EQ(sink.committed(), at(100)) << "the sink still says the last checkpoint kept";
    StoreSink again(make_sqlite_backend(path), "postfix:/var/log/mail.log", *policy()->policy);
    EXPECT_EQ(again.committed(), at(100)) << "a restart reads the lines after it again";
    sqlite::Db db = sqlite::open(path, SQLITE_OPEN_READONLY, &error);
    EXPECT_EQ(sqlite::query_int(db.get(), "SELECT count(*) FROM observations", -1), 1) << "the batch's rows went too";
    EXPECT_EQ(sqlite::query_int(db.get(), "SELECT sum(n) FROM summary_rules", -1), 1) << "and their summaries";
}

TEST(StoreSink, OlderDatabaseIsMigratedAndItsRowsStayInbound) {
    test::StoreDir dir;
    const std::string path = dir.file("observations.sqlite");
    const std::int64_t t = test::now_s() - 60;
    {
        ObservationStore store({.path = path}, nullptr);
        for (int i = 0; i < 3; ++i) store.enqueue(test::observation(t, "Q" + std::to_string(i)));
    }
    std::string error;
    {
        // As a release before outbound rows left it: none of their columns, a summary of the older key.
        sqlite::Db db = sqlite::open(path, SQLITE_OPEN_READWRITE, &error);
        ASSERT_TRUE(sqlite::exec(db.get(),
                                 "DROP TABLE summary_rules; ALTER TABLE observations DROP COLUMN transport;"
                                 " ALTER TABLE observations DROP COLUMN delivery; ALTER TABLE observations DROP COLUMN tls_reason;"
                                 " ALTER TABLE observations DROP COLUMN recipient_domain; ALTER TABLE observations DROP COLUMN relay_host;"
                                 " ALTER TABLE observations DROP COLUMN relay_address; ALTER TABLE observations DROP COLUMN cert_verification",
                                 &error))
            << error;
    }
    {
        StoreSink sink(make_sqlite_backend(path), "postfix:/var/log/mail.log", *policy()->policy);
        sink.write(judged({delivery(t, "QO", "a@acme.example", Transport::Tls)}), at(10));
    }
    sqlite::Db db = sqlite::open(path, SQLITE_OPEN_READONLY, &error);
    EXPECT_EQ(sqlite::query_int(db.get(), "SELECT count(*) FROM observations WHERE direction = 'inbound' AND transport = ''"
                                          " AND delivery = '' AND tls_reason = 0 AND relay_host = ''", -1), 3);
    EXPECT_EQ(sqlite::query_int(db.get(), "SELECT count(*) FROM observations WHERE direction = 'outbound'", -1), 1);
    EXPECT_EQ(sqlite::query_int(db.get(), "SELECT sum(n) FROM summary_rules WHERE direction = 'inbound'", -1), 3)
        << "the summary rebuilt from the old rows";
}

// The evidence of one month with inbound and outbound mail of acme, read
// from the summaries and from the rows.
void expect_evidence_counts(const std::string& database, std::int64_t now) {
    for (bool raw : {false, true}) {
        SCOPED_TRACE(raw ? "--raw" : "summaries");
        ReportOptions opt{.since = "10d", .format = "csv", .against = "", .database = database, .now = now, .host = "", .evidence = true};
        opt.raw = raw;
        std::ostringstream out, err;
        ASSERT_EQ(run_report(*policy(), opt, out, err), 0) << err.str();
        const std::string csv = out.str();
        // kind,rule,in_policy,month,direction,from,until,messages,tls12_or_newer,older_tls,plaintext,no_tls_facts,verified_cert,...
        std::istringstream lines(csv);
        std::string line;
        int outbound_total = 0, inbound_total = 0;
        while (std::getline(lines, line)) {
            if (line.rfind("partner,acme,yes,total,outbound,", 0) == 0) {
                ++outbound_total;
                // 3 sent (2 TLS 1.3 verified, 1 with no TLS facts), 1 deferred for TLS
                EXPECT_NE(line.find(",3,2,0,0,1,2,"), std::string::npos) << line;
                EXPECT_NE(line.find(",0,0,1,0,"), std::string::npos) << "refused 0, would 0, deferred 1, bounced 0: " << line;
            }
            if (line.rfind("partner,acme,yes,total,inbound,", 0) == 0) {
                ++inbound_total;
                EXPECT_NE(line.find(",2,2,0,0,0,"), std::string::npos) << line;
            }
        }
        EXPECT_EQ(outbound_total, 1) << csv;
        EXPECT_EQ(inbound_total, 1) << csv;
    }
}

void write_month(const std::string& database, std::int64_t t, const test::StoreDir& dir) {
    {
        ObservationStore store({.path = database, .spool = dir.file("spool.sqlite")}, nullptr);
        for (int i = 0; i < 2; ++i) {
            Observation o = test::observation(t, "QI" + std::to_string(i));
            o.stage = Stage::Message;
            store.enqueue(std::move(o));
        }
    }
    StoreSink sink(make_backend(database, std::chrono::seconds(10)), "postfix:/var/log/mail.log", *policy()->policy);
    sink.write(judged({delivery(t, "Q1", "a@acme.example", Transport::Tls),
                       delivery(t, "Q1", "b@acme.example", Transport::Tls),
                       delivery(t, "Q2", "c@acme.example", Transport::Unknown),
                       delivery(t, "Q3", "d@acme.example", Transport::Plaintext, DeliveryStatus::Deferred),
                       delivery(t, "Q4", "e@elsewhere.example", Transport::Tls)}),
               at(500));
}

TEST(StoreSink, EvidenceCountsOutboundBesideInbound) {
    test::StoreDir dir;
    const std::string path = dir.file("observations.sqlite");
    const std::int64_t now = test::now_s();
    write_month(path, now - 3600, dir);
    expect_evidence_counts(path, now);
}

TEST(PostgresStoreSink, EvidenceCountsOutboundBesideInbound) {
    NEED_SERVER(server);
    test::StoreDir dir;
    const std::string url = test::fresh_database(server, "sink");
    const std::int64_t now = test::now_s();
    write_month(url, now - 3600, dir);
    expect_evidence_counts(url, now);
    StoreSink again(make_backend(url, std::chrono::seconds(10)), "postfix:/var/log/mail.log", *policy()->policy);
    EXPECT_EQ(again.committed(), at(500)) << "the position committed with the rows";
}

}  // namespace
}  // namespace tlspolicy::ingest
