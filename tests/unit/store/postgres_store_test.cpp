// The PostgreSQL backend against a real server. `make run-pg` starts one
// (tests/e2e/pg_fixture.py) and sets TLSPOLICY_TEST_PG to its URL; each test
// gets a database of its own on it. Without the variable these tests fail,
// saying how to run them; TLSPOLICY_TEST_PG=skip skips them on purpose.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdlib>
#include <set>
#include <ctime>

#include "store/database_url.hpp"
#include "store/observation_source.hpp"
#include "store/observation_store.hpp"
#include "store/postgres/postgres.hpp"
#include "ingest_position_check.hpp"
#include "legacy_store.hpp"
#include "pg_test_util.hpp"
#include "store_test_util.hpp"

namespace tlspolicy {
namespace {

using namespace std::chrono_literals;
using test::fresh_database;
using test::query;
using test::server_url;

// "2026_12": the suffix of the month partitions that hold t.
std::string month_name(std::int64_t t) {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y_%m", &tm);
    return buf;
}

TEST(PostgresStore, EveryFieldRoundTripsThroughTheSource) {
    NEED_SERVER(server);
    const std::string url = fresh_database(server, "fields");
    const std::int64_t t = test::now_s() - 3600;
    Observation want = test::observation(t, "4QABC", "mx1.example");
    want.stage = Stage::Rcpt;
    want.recipient = "hr@example.com";
    want.rules = {{"acme", RuleKind::Partner}, {"acme", RuleKind::Recipient}};
    want.version = TlsVersion::TLSv1_0;
    want.cipher = "ECDHE-RSA-AES256-SHA";
    want.cipher_bits = 256;
    want.alg_bits = 256;
    want.result = Result::Fail;
    want.would = Decision::Tempfail;
    want.cert = {CertStatus::Unverified, "mx1.acme.example", "Acme CA 'quoted' \"too\""};
    test::StoreLog log;
    {
        ObservationStore store({.path = url}, log.sink());
        Observation copy = want;
        store.enqueue(std::move(copy));
        store.flush();
        EXPECT_EQ(store.written(), 1u);
        EXPECT_EQ(store.spooled(), 0u);
    }
    EXPECT_TRUE(log.get().empty()) << log.get().front();
    std::string error;
    auto source = open_observation_source(url, &error);
    ASSERT_TRUE(source) << error;
    std::vector<Observation> got;
    ASSERT_EQ(source->for_each(t, t, [&](const Observation& o) { got.push_back(o); }), "");
    ASSERT_EQ(got.size(), 1u);
    const Observation& o = got[0];
    EXPECT_EQ(o.time, want.time);
    EXPECT_EQ(o.stage, want.stage);
    EXPECT_EQ(o.queue_id, want.queue_id);
    EXPECT_EQ(o.client, want.client);
    EXPECT_EQ(o.hostname, want.hostname);
    EXPECT_EQ(o.sender, want.sender);
    EXPECT_EQ(o.recipient, want.recipient);
    EXPECT_EQ(o.rules, want.rules);
    EXPECT_TRUE(o.rule_kinds_known);
    EXPECT_EQ(o.host, want.host);
    EXPECT_EQ(o.version, want.version);
    EXPECT_EQ(o.cipher, want.cipher);
    EXPECT_EQ(o.cipher_bits, want.cipher_bits);
    EXPECT_EQ(o.alg_bits, want.alg_bits);
    EXPECT_EQ(o.result, want.result);
    EXPECT_EQ(o.action, want.action);
    EXPECT_EQ(o.would, want.would);
    EXPECT_EQ(o.cert.status, want.cert.status);
    EXPECT_EQ(o.cert.subject_cn, want.cert.subject_cn);
    EXPECT_EQ(o.cert.issuer_cn, want.cert.issuer_cn);
}

TEST(PostgresStore, BatchOf7000InOrderAndSchemaWithIndexes) {
    NEED_SERVER(server);
    const std::string url = fresh_database(server, "batch");
    const std::int64_t t = test::now_s() - 100;
    {
        ObservationStore store({.path = url}, nullptr);
        for (int i = 0; i < 7000; ++i) store.enqueue(test::observation(t, "Q" + std::to_string(i)));
        store.flush();
        EXPECT_EQ(store.written(), 7000u);
        EXPECT_EQ(store.dropped(), 0u);
    }
    auto source = open_observation_source(url, nullptr);
    ASSERT_TRUE(source);
    int n = 0;
    bool ordered = true;
    ASSERT_EQ(source->for_each(t, t, [&](const Observation& o) { ordered &= o.queue_id == "Q" + std::to_string(n++); }), "");
    EXPECT_EQ(n, 7000);
    EXPECT_TRUE(ordered) << "equal times read in the order written";
    EXPECT_EQ(query(url, "SELECT version FROM schema_version ORDER BY version"), "1\n2");
    EXPECT_EQ(query(url, "SELECT indexname FROM pg_indexes WHERE tablename IN ('observations', 'policy_versions')"
                         " AND indexname NOT LIKE '%pkey' ORDER BY indexname"),
              "observations_time\npolicy_versions_host_time")
        << "the summaries took over from the host index; a BRIN index on time is all the rows keep";
    EXPECT_EQ(query(url, "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid ORDER BY 1"),
              "observations\nsummary_domains\nsummary_rules\nsummary_senders");
    EXPECT_EQ(query(url, "SELECT sum(n) FROM summary_rules"), "7000");
    EXPECT_EQ(query(url, "SELECT count(*) FROM summary_senders"), "1") << "7000 rows of one sender, one day";
}

TEST(PostgresStore, RetentionAndPolicyVersions) {
    NEED_SERVER(server);
    const std::string url = fresh_database(server, "retention");
    const std::int64_t t = test::now_s();
    const std::int64_t cutoff = retention_cutoff(t, 90);  // the month that holds t - 90 days begins here
    {
        ObservationStore store({.path = url, .keep_days = 400}, nullptr);  // keeps both
        store.enqueue(test::observation(cutoff - 1, "old"));
        store.enqueue(test::observation(cutoff, "kept"));
        for (const PolicyVersion& v : {PolicyVersion{100, "mx1", "a1", Mode::Monitor}, PolicyVersion{150, "mx1", "a2", Mode::Enforce},
                                       PolicyVersion{120, "mx2", "b1", Mode::Monitor}, PolicyVersion{250, "mx1", "a3", Mode::Enforce},
                                       PolicyVersion{400, "mx2", "b2", Mode::Enforce}})
            store.record_policy(v);
    }
    const std::string months = "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relname LIKE '%" +
                               month_name(cutoff - 1) + "'";
    EXPECT_EQ(query(url, months), "4") << "the old row's month: a partition of the rows and of each summary";
    { ObservationStore store({.path = url, .keep_days = 90}, nullptr); }  // retention runs at start
    EXPECT_EQ(query(url, "SELECT queue_id FROM observations ORDER BY id"), "kept");
    EXPECT_EQ(query(url, months), "0") << "dropped whole";
    EXPECT_EQ(query(url, "SELECT sum(n) FROM summary_rules"), "1");
    const std::string next_month = month_name(month_start(t) + 32 * 86400);
    EXPECT_EQ(query(url, "SELECT count(*) FROM pg_class WHERE relname = 'observations_" + next_month + "'"), "1")
        << "the coming month is made ahead";
    auto source = open_observation_source(url, nullptr);
    ASSERT_TRUE(source);
    std::vector<PolicyVersion> got;
    ASSERT_EQ(source->policy_versions(200, 300, got), "");
    EXPECT_EQ(got, (std::vector<PolicyVersion>{{120, "mx2", "b1", Mode::Monitor}, {150, "mx1", "a2", Mode::Enforce},
                                               {250, "mx1", "a3", Mode::Enforce}}));
}

TEST(PostgresStore, IngestPositionCommitsWithItsRows) {
    NEED_SERVER(server);
    const std::string url = fresh_database(server, "position");
    auto backend = make_postgres_backend(url, 10s);
    std::string error;
    ASSERT_TRUE(backend->open(&error)) << error;
    test::ingest_position_commits_with_its_rows(
        *backend, [&] { return std::stoll(query(url, "SELECT count(*) FROM observations")); },
        [&] { query(url, "ALTER TABLE ingest_positions ADD CONSTRAINT refused CHECK (position <> 'refused')"); });
}

// A database of the previous schema (one table, no partitions, no
// summaries) is migrated in place: every row kept with its id, read as
// inbound, in the month partitions it belongs to, and counted in every summary.
TEST(PostgresStore, SchemaOneIsMigratedToMonthPartitionsKeepingEveryRow) {
    NEED_SERVER(server);
    const std::string url = fresh_database(server, "schema1");
    const std::int64_t t = test::now_s();
    std::vector<Observation> rows;
    std::set<std::string> months;
    for (int i = 0; i < 300; ++i) {
        Observation o = test::observation(t - (i % 3) * 40 * 86400 - i, "Q" + std::to_string(i), i % 2 ? "mx1" : "mx2");
        o.version = i % 5 == 0 ? TlsVersion::None : TlsVersion::TLSv1_3;
        o.sender = "u" + std::to_string(i % 7) + "@d" + std::to_string(i % 4) + ".example";
        months.insert(month_name(o.time));
        rows.push_back(o);
    }
    query(url, test::kPostgresSchemaOne);
    query(url, test::legacy_inserts(rows));
    const std::string before = query(url, "SELECT string_agg(id || ':' || queue_id || ':' || time, ',' ORDER BY id) FROM observations");
    {
        ObservationStore store({.path = url, .keep_days = 400}, nullptr);
        store.enqueue(test::observation(t, "new"));
        store.flush();
        EXPECT_EQ(store.written(), 1u);
    }
    EXPECT_EQ(query(url, "SELECT version FROM schema_version ORDER BY version"), "1\n2");
    EXPECT_EQ(query(url, "SELECT string_agg(id || ':' || queue_id || ':' || time, ',' ORDER BY id) FROM observations"
                         " WHERE queue_id <> 'new'"),
              before)
        << "every row kept, with its id";
    EXPECT_EQ(query(url, "SELECT count(*) FROM observations WHERE direction = 'inbound'"), "301");
    for (const std::string& m : months)
        EXPECT_EQ(query(url, "SELECT count(*) FROM pg_class WHERE relname IN ('observations_" + m + "', 'summary_rules_" + m +
                                 "', 'summary_domains_" + m + "', 'summary_senders_" + m + "')"),
                  "4")
            << m;
    for (store::Summary s : store::kSummaries)
        EXPECT_EQ(query(url, "SELECT sum(n) FROM " + std::string(store::summary_table(s))), "301") << store::summary_table(s);
    EXPECT_EQ(query(url, "SELECT count(*) FROM summary_domains WHERE sender = '@d1.example'"),
              query(url, "SELECT count(DISTINCT (time - time % 86400, host, tls_version)) FROM observations"
                         " WHERE sender_domain = 'd1.example'"));
    auto source = open_observation_source(url, nullptr);
    ASSERT_TRUE(source);
    EXPECT_TRUE(source->has_summaries());
    std::size_t read = 0;
    ASSERT_EQ(source->for_each(0, t, [&](const Observation& o) { read += o.queue_id != "new"; }), "");
    EXPECT_EQ(read, rows.size());
}

// Building the summaries of a large database takes longer than the writer's
// bound per query (seconds); cut short by it, the migration started again
// from nothing every few seconds and never finished (found at 10 million
// rows). Here the bound is 200 ms and the rows take longer than that.
TEST(PostgresStore, MigrationIsNotCutShortByTheWritersTimeout) {
    NEED_SERVER(server);
    const std::string url = fresh_database(server, "longmigration");
    const std::int64_t t = test::now_s() - 3600;
    {
        ObservationStore store({.path = url, .keep_days = 400}, nullptr);
        store.enqueue(test::observation(t, "Q"));
    }
    // 300,000 rows over 200 days, each of its own sender: the summaries are as big as the rows.
    query(url, "SELECT tlspolicy_add_months(ARRAY(SELECT generate_series(" + std::to_string(t - 200 * 86400) + ", " +
                   std::to_string(t) + ", 86400)))");
    query(url, R"(DO $$ DECLARE cols text; vals text; BEGIN
        SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position),
               string_agg(CASE column_name WHEN 'time' THEN 'time - (g % 200) * 86400'
                                           WHEN 'sender' THEN '''u'' || g || ''@d'' || (g % 50) || ''.example'''
                                           ELSE quote_ident(column_name) END, ', ' ORDER BY ordinal_position)
          INTO cols, vals FROM information_schema.columns
         WHERE table_name = 'observations' AND table_schema = current_schema() AND column_name <> 'id';
        EXECUTE format('INSERT INTO observations (%s) SELECT %s FROM observations, generate_series(1, 300000) AS g',
                       cols, vals);
        END $$)");
    query(url, "DROP TABLE summary_rules, summary_domains, summary_senders");
    auto backend = make_postgres_backend(url, 200ms);
    std::string error;
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(backend->open(&error)) << error;
    EXPECT_GT(std::chrono::steady_clock::now() - t0, 200ms) << "the migration was quicker than the bound: no test";
    for (store::Summary s : store::kSummaries)
        EXPECT_EQ(query(url, "SELECT sum(n) FROM " + std::string(store::summary_table(s))), "300001")
            << store::summary_table(s);
}

// As ObservationSchema.CodecColumnsAreAddedAndUnknownOnesRefused for SQLite:
// a codec column the database lacks is added (on the partitioned table) and
// the summaries are rebuilt; a column the codec does not know refuses it.
TEST(PostgresStore, CodecColumnsAreAddedAndUnknownOnesRefused) {
    NEED_SERVER(server);
    const std::string url = fresh_database(server, "codec");
    const std::int64_t t = test::now_s() - 60;
    {
        ObservationStore store({.path = url, .keep_days = 400}, nullptr);
        for (int i = 0; i < 5; ++i) store.enqueue(test::observation(t - i * 40 * 86400, "Q" + std::to_string(i)));
    }
    query(url, "ALTER TABLE observations DROP COLUMN direction; DROP TABLE summary_rules; DROP TABLE summary_domains");
    auto source = open_observation_source(url, nullptr);
    ASSERT_TRUE(source);
    EXPECT_FALSE(source->has_summaries());
    { ObservationStore store({.path = url, .keep_days = 400}, [](std::string_view l) { ADD_FAILURE() << l; }); }
    EXPECT_EQ(query(url, "SELECT count(*) FROM observations WHERE direction = 'inbound'"), "5");
    EXPECT_EQ(query(url, "SELECT sum(n) FROM summary_rules"), "5");
    EXPECT_EQ(query(url, "SELECT sum(n) FROM summary_domains"), "5");
    EXPECT_TRUE(source->has_summaries());
    query(url, "ALTER TABLE observations ADD COLUMN relay text NOT NULL DEFAULT ''");
    auto backend = make_postgres_backend(url, 10s);
    std::string error;
    EXPECT_FALSE(backend->open(&error));
    EXPECT_NE(error.find("has columns this tlspolicy-milter does not know (relay); a newer release made them"),
              std::string::npos)
        << error;
}

// The server is there but the database is not (yet): observations wait in
// the spool, and are sent, in order, once it exists.
TEST(PostgresStore, UnreachableDatabaseSpoolsThenSendsInOrder) {
    NEED_SERVER(server);
    test::StoreDir dir;
    test::StoreLog log;
    const std::string url = fresh_database(server, "later", false);
    StoreOptions opt{.path = url, .spool = dir.file("spool.sqlite"), .retry_interval = 50ms};
    ObservationStore store(opt, log.sink());
    const std::int64_t t = test::now_s() - 10;
    for (int i = 0; i < 30; ++i) {
        store.enqueue(test::observation(t, "Q" + std::to_string(i)));
        if (i % 10 == 9) store.flush();
    }
    store.flush();
    EXPECT_EQ(store.spooled(), 30u);
    EXPECT_EQ(store.dropped(), 0u);
    ASSERT_FALSE(log.get().empty());
    EXPECT_NE(log.get()[0].find("does not exist"), std::string::npos) << log.get()[0];

    const std::string db = url.substr(url.rfind('/') + 1);
    query(server, "CREATE DATABASE " + db);
    ASSERT_TRUE(test::eventually([&] { return store.spooled() == 0; })) << store.spooled();
    store.enqueue(test::observation(t, "Q30"));
    store.flush();
    std::string want;
    for (int i = 0; i <= 30; ++i) want += (i ? "\n" : "") + ("Q" + std::to_string(i));
    EXPECT_EQ(query(url, "SELECT queue_id FROM observations ORDER BY id"), want);
}

TEST(PostgresStore, RefusesADatabaseThatIsNotOurs) {
    NEED_SERVER(server);
    test::StoreDir dir;
    test::StoreLog log;
    const std::string url = fresh_database(server, "foreign");
    query(url, "CREATE TABLE observations (x integer)");
    {
        ObservationStore store({.path = url, .spool = dir.file("spool.sqlite")}, log.sink());
        store.enqueue(test::observation(test::now_s(), "Q1"));
        store.flush();
        EXPECT_EQ(store.written(), 0u);
        EXPECT_EQ(store.spooled(), 1u) << "kept for when the operator fixes it";
    }
    ASSERT_FALSE(log.get().empty());
    EXPECT_NE(log.get()[0].find("not a tlspolicy-milter observation database"), std::string::npos) << log.get()[0];
    EXPECT_EQ(query(url, "SELECT count(*) FROM pg_tables WHERE tablename = 'schema_version'"), "0");
    std::string error;
    EXPECT_FALSE(open_observation_source(url, &error));
    EXPECT_NE(error.find("not a tlspolicy-milter observation database"), std::string::npos) << error;
}

// A server that takes the connection and never answers (hung, or a firewall
// that swallows the packets): the writer gives up after db_timeout and
// spools; the mail path never waits for it. No PostgreSQL needed: a socket
// that listens and never accepts.
TEST(PostgresStore, SilentServerSpoolsWithoutBlockingTheMailPath) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(fd, 16), 0);
    ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    const std::string url = "postgresql://tlspolicy@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/tlspolicy";

    test::StoreDir dir;
    test::StoreLog log;
    {
        StoreOptions opt{.path = url, .spool = dir.file("spool.sqlite"), .retry_interval = 1h, .db_timeout = 2s};
        ObservationStore store(opt, log.sink());
        auto slowest = std::chrono::nanoseconds::zero();
        for (int i = 0; i < 100; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            EXPECT_TRUE(store.enqueue(test::observation(test::now_s(), "Q" + std::to_string(i))));
            slowest = std::max(slowest, std::chrono::steady_clock::now() - t0);
        }
        EXPECT_LT(slowest, 50ms) << "the mail path waited for the server";
        store.flush();
        EXPECT_EQ(store.spooled(), 100u);
        EXPECT_EQ(store.dropped(), 0u);
    }
    close(fd);
    ASSERT_FALSE(log.get().empty());
    EXPECT_NE(log.get()[0].find("cannot connect"), std::string::npos) << log.get()[0];
    EXPECT_NE(log.get()[0].find("observations wait in the spool"), std::string::npos) << log.get()[0];
}

// Logs, --check and report show the URL without its password (no server needed).
TEST(DatabaseUrl, PasswordIsRedacted) {
    EXPECT_EQ(redact_database("postgresql://u:s3cret@db.example/x"), "postgresql://u:***@db.example/x");
    EXPECT_EQ(redact_database("postgres://db.example/x?user=u&password=s3cret"), "postgres://db.example/x?user=u&password=***");
    EXPECT_EQ(redact_database("/var/lib/x:y@z/observations.sqlite"), "/var/lib/x:y@z/observations.sqlite");
    EXPECT_EQ(redact_database("postgresql://u@db.example:5433/x"), "postgresql://u@db.example:5433/x");
}

}  // namespace
}  // namespace tlspolicy
