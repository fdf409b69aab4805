// SQLite schemas 3 and 4: a database of schema 2 (as release 0.2 made it)
// reads as it is (names only, no host), and the writer migrates it in place;
// rule kinds, host and policy versions then round-trip, and the summaries
// hold the old rows too.
#include <gtest/gtest.h>

#include "store/sqlite/source.hpp"
#include "store/sqlite/schema.hpp"
#include "store/observation_row.hpp"
#include "store/observation_source.hpp"
#include "store/observation_store.hpp"
#include "store_test_util.hpp"

namespace tlspolicy {
namespace {

// Schema 2 exactly as migrations 1 and 2 created it.
constexpr const char* kSchemaTwo = R"(
    CREATE TABLE observations (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, stage TEXT NOT NULL,
        queue_id TEXT NOT NULL, client TEXT NOT NULL, hostname TEXT NOT NULL, sender TEXT NOT NULL,
        sender_domain TEXT NOT NULL, recipient TEXT NOT NULL, rules TEXT NOT NULL, tls_version TEXT NOT NULL,
        cipher TEXT NOT NULL, cipher_bits INTEGER NOT NULL, alg_bits INTEGER NOT NULL, result TEXT NOT NULL,
        action TEXT NOT NULL, would TEXT NOT NULL);
    CREATE INDEX observations_time ON observations(time);
    CREATE INDEX observations_sender_domain ON observations(sender_domain);
    ALTER TABLE observations ADD COLUMN cert_status TEXT NOT NULL DEFAULT 'none';
    ALTER TABLE observations ADD COLUMN cert_subject TEXT NOT NULL DEFAULT '';
    ALTER TABLE observations ADD COLUMN cert_issuer TEXT NOT NULL DEFAULT '';
    PRAGMA application_id = 1414288208; PRAGMA user_version = 2;)";

TEST(ObservationSchema, SchemaTwoIsReadAndMigratedToFourInPlace) {
    test::StoreDir dir;
    const std::string db_path = dir.file("observations.sqlite");
    const std::int64_t t = test::now_s() - 60;
    {
        std::string error;
        sqlite::Db db = sqlite::open(db_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &error);
        ASSERT_TRUE(db) << error;
        ASSERT_TRUE(sqlite::exec(db.get(), kSchemaTwo, &error)) << error;
        ASSERT_TRUE(sqlite::exec(db.get(), "INSERT INTO observations VALUES (1, " + std::to_string(t) +
                                               ", 'rcpt', 'Q1', '203.0.113.5', '', 'a@acme.example', 'acme.example',"
                                               " 'hr@example.com', 'default,hr', 'TLS1_2', 'ECDHE-RSA-AES128-GCM-SHA256',"
                                               " 128, 128, 'fail', 'reject', 'accept', 'verified', 'mx1', 'CA')",
                                 &error))
            << error;
    }
    auto source = open_observation_source(db_path, nullptr);
    ASSERT_TRUE(source);
    std::vector<PolicyVersion> versions{{1, "x", "y", Mode::Enforce}};
    EXPECT_EQ(source->policy_versions(0, t + 60, versions), "");
    EXPECT_TRUE(versions.empty()) << "schema 2 recorded none";

    ObservationRows before = read_observations(db_path, 0, t + 60);
    ASSERT_TRUE(before.ok()) << before.error;
    ASSERT_EQ(before.rows.size(), 1u);
    EXPECT_FALSE(before.rows[0].rule_kinds_known);
    EXPECT_EQ(before.rows[0].rules, (std::vector<RuleRef>{{"default", RuleKind::Defaults}, {"hr", RuleKind::Partner}}))
        << "names only: every name but default reads as a partner rule";
    EXPECT_EQ(before.rows[0].host, "");
    EXPECT_EQ(before.rows[0].cert.subject_cn, "mx1");

    Observation fresh = test::observation(t + 1, "Q2", "mx7.example");
    fresh.rules = {{"acme", RuleKind::Partner}, {"acme", RuleKind::Recipient}, {"default", RuleKind::Defaults}};
    {
        ObservationStore store({.path = db_path}, [](std::string_view l) { ADD_FAILURE() << l; });
        Observation copy = fresh;
        store.enqueue(std::move(copy));
        store.record_policy({t - 10, "", "00ff", Mode::Monitor});
    }  // the destructor writes; the version takes its host from the observation
    std::string error;
    {
        sqlite::Db db = sqlite::open(db_path, SQLITE_OPEN_READONLY, &error);
        EXPECT_EQ(sqlite::query_int(db.get(), "PRAGMA user_version", -1), 4);
        EXPECT_EQ(sqlite::query_int(db.get(), "SELECT count(*) FROM sqlite_master WHERE name LIKE 'observations_%'", -1), 1)
            << "the time index only: the summaries took over from the others";
        EXPECT_EQ(sqlite::query_int(db.get(), "SELECT count(*) FROM observations WHERE direction = 'inbound'", -1), 2);
        EXPECT_EQ(sqlite::query_int(db.get(), "SELECT sum(n) FROM summary_rules", -1), 2);
        EXPECT_EQ(sqlite::query_int(db.get(), "SELECT count(*) FROM summary_rules WHERE rule_refs = '?'", -1), 1)
            << "the row of schema 2 keeps its names only";
        EXPECT_EQ(sqlite::query_int(db.get(), "SELECT count(*) FROM ingest_positions", -1), 0);
    }
    ObservationRows after = read_observations(db_path, 0, t + 60);
    ASSERT_TRUE(after.ok()) << after.error;
    ASSERT_EQ(after.rows.size(), 2u);
    EXPECT_EQ(after.rows[0].queue_id, "Q1");
    EXPECT_FALSE(after.rows[0].rule_kinds_known) << "a migrated row still has names only";
    EXPECT_EQ(after.rows[0].host, "");
    EXPECT_TRUE(after.rows[1].rule_kinds_known);
    EXPECT_EQ(after.rows[1].rules, fresh.rules) << "kinds kept, a name shared by two kinds twice";
    EXPECT_EQ(after.rows[1].host, "mx7.example");

    EXPECT_EQ(source->policy_versions(0, t + 60, versions), "");
    EXPECT_EQ(versions, (std::vector<PolicyVersion>{{t - 10, "mx7.example", "00ff", Mode::Monitor}}));
}

// policy_versions(since, until): those recorded in the window, plus per host
// the last one before it. A table of rows, one query.
TEST(ObservationSchema, PolicyVersionsInForceDuringAWindow) {
    test::StoreDir dir;
    const std::string db_path = dir.file("observations.sqlite");
    const std::vector<PolicyVersion> recorded{
        {100, "mx1", "a1", Mode::Monitor}, {150, "mx1", "a2", Mode::Enforce},  // a2: in force at 200 on mx1
        {120, "mx2", "b1", Mode::Monitor},                                      // b1: in force at 200 on mx2
        {250, "mx1", "a3", Mode::Enforce}, {300, "mx2", "b2", Mode::Enforce},  // in the window
        {400, "mx1", "a4", Mode::Enforce},                                      // after it
    };
    {
        ObservationStore store({.path = db_path}, nullptr);
        for (const PolicyVersion& v : recorded) store.record_policy(v);
    }
    auto source = open_observation_source(db_path, nullptr);
    std::vector<PolicyVersion> got;
    ASSERT_EQ(source->policy_versions(200, 300, got), "");
    EXPECT_EQ(got, (std::vector<PolicyVersion>{recorded[2], recorded[1], recorded[3], recorded[4]}));
}

TEST(ObservationSchema, RuleRefsTextRoundTrips) {
    const std::vector<RuleRef> rules{{"default", RuleKind::Defaults}, {"acme.example-1_x", RuleKind::Partner},
                                     {"hr", RuleKind::Recipient}};
    EXPECT_EQ(store::rule_refs_text(rules), "defaults:default,partner:acme.example-1_x,recipient:hr");
    EXPECT_EQ(store::parse_rule_refs(store::rule_refs_text(rules)), rules);
    EXPECT_TRUE(store::parse_rule_refs("").empty());
}

// The codec's column table drives the migrations: a column the database
// lacks (as when a release adds one line to kColumns) is added with its fill
// and every summary is rebuilt from the rows; a column it has and the codec
// does not (a newer release's) refuses the file, untouched.
TEST(ObservationSchema, CodecColumnsAreAddedAndUnknownOnesRefused) {
    test::StoreDir dir;
    const std::string path = dir.file("observations.sqlite");
    const std::int64_t t = test::now_s() - 60;
    {
        ObservationStore store({.path = path}, nullptr);
        for (int i = 0; i < 5; ++i) store.enqueue(test::observation(t, "Q" + std::to_string(i)));
    }
    std::string error;
    {
        sqlite::Db db = sqlite::open(path, SQLITE_OPEN_READWRITE, &error);
        ASSERT_TRUE(sqlite::exec(db.get(), "ALTER TABLE observations DROP COLUMN direction; DROP TABLE summary_rules;"
                                           " DROP TABLE summary_senders",
                                 &error))
            << error;
    }
    auto source = open_observation_source(path, nullptr);
    EXPECT_FALSE(source->has_summaries()) << "report reads the rows until the writer migrates";
    ObservationRows before = read_observations(path, 0, t);
    ASSERT_TRUE(before.ok()) << before.error;
    ASSERT_EQ(before.rows.size(), 5u);
    EXPECT_EQ(before.rows[0].direction, Direction::Inbound) << "a missing column reads as its fill";
    { ObservationStore store({.path = path}, [](std::string_view l) { ADD_FAILURE() << l; }); }
    {
        sqlite::Db db = sqlite::open(path, SQLITE_OPEN_READWRITE, &error);
        EXPECT_EQ(sqlite::query_int(db.get(), "SELECT count(*) FROM observations WHERE direction = 'inbound'", -1), 5);
        EXPECT_EQ(sqlite::query_int(db.get(), "SELECT sum(n) FROM summary_rules", -1), 5);
        EXPECT_EQ(sqlite::query_int(db.get(), "SELECT sum(n) FROM summary_senders", -1), 5);
        ASSERT_TRUE(sqlite::exec(db.get(), "ALTER TABLE observations ADD COLUMN relay TEXT NOT NULL DEFAULT ''", &error));
    }
    EXPECT_TRUE(source->has_summaries());
    auto backend = make_sqlite_backend(path);
    EXPECT_FALSE(backend->open(&error));
    EXPECT_EQ(error, path + ": the observation database has columns this tlspolicy-milter does not know (relay); a "
                            "newer release made them. Upgrade tlspolicy-milter. The file was left unchanged.");
}

}  // namespace
}  // namespace tlspolicy
