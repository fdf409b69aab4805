// The observation store: nothing lost while the queue has room, drops counted
// and never waited for when it has none, retention, schema refusal, and disk
// failures in the middle of a run.
//
// How the disk fails here, honestly and as root: chmod does not stop root, and
// for anyone it does not stop writes through descriptors already open. So a
// "full disk" is RLIMIT_FSIZE (the kernel refuses every write past the limit,
// root included, through open descriptors too), and "the database went away"
// is the file replaced by a directory, which no reopen can open.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "store/sqlite/source.hpp"
#include "store/sqlite/schema.hpp"
#include "store/observation_store.hpp"
#include "store/summary_sql.hpp"
#include "ingest_position_check.hpp"
#include "store_test_util.hpp"
#include "golden.hpp"

namespace tlspolicy {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;


struct TempDir : test::StoreDir {
    std::string db() const { return file("observations.sqlite"); }
};

// What the logger callback was told, from the writer thread.
using Log = test::StoreLog;

std::int64_t now() { return test::now_s(); }

Observation obs(std::int64_t time, std::string sender = "a@acme.example") {
    Observation o;
    o.time = time;
    o.queue_id = "4Q" + std::to_string(time);
    o.client = "203.0.113.5";
    o.hostname = "mail.acme.example";
    o.sender = std::move(sender);
    o.rules = store::parse_rules("acme");
    o.version = TlsVersion::TLSv1_2;
    o.cipher = "ECDHE-RSA-AES128-GCM-SHA256";
    o.cipher_bits = 128;
    o.alg_bits = 128;
    o.result = Result::Pass;
    return o;
}

std::size_t rows(const std::string& db) {
    ObservationRows r = read_observations(db, 0, now() + 86400);
    EXPECT_TRUE(r.ok()) << r.error;
    return r.rows.size();
}

TEST(ObservationStore, BurstOf2000IsWrittenWhole) {
    TempDir dir;
    Log log;
    ObservationStore store({.path = dir.db()}, log.sink());
    int accepted = 0;
    for (int i = 0; i < 2000; ++i) accepted += store.enqueue(obs(now() - i, "s" + std::to_string(i) + "@x.example"));
    store.flush();
    EXPECT_EQ(accepted, 2000);
    EXPECT_EQ(store.written(), 2000u);
    EXPECT_EQ(store.dropped(), 0u);
    EXPECT_EQ(store.failures(), 0u);
    EXPECT_EQ(rows(dir.db()), 2000u);
    EXPECT_TRUE(log.get().empty()) << log.get().front();
}

TEST(ObservationStore, EveryFieldRoundTrips) {
    TempDir dir;
    const std::int64_t t = now() - 3600;  // inside keep_days: retention would delete it otherwise
    Observation want = obs(t, "billing@acme.example");
    want.stage = Stage::Rcpt;
    want.recipient = "hr@example.com";
    want.rules = store::parse_rules("acme,hr");
    want.version = TlsVersion::TLSv1_0;
    want.cipher = "ECDHE-RSA-AES256-SHA";
    want.cipher_bits = 256;
    want.alg_bits = 256;
    want.result = Result::Fail;
    want.action = Decision::Accept;
    want.would = Decision::Tempfail;
    want.cert = {CertStatus::Unverified, "mx1.acme.example", "Acme CA"};
    {
        ObservationStore store({.path = dir.db()}, nullptr);
        Observation copy = want;
        store.enqueue(std::move(copy));
    }  // the destructor writes what is queued
    ObservationRows r = read_observations(dir.db(), t, t);
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_EQ(r.rows.size(), 1u);
    const Observation& got = r.rows[0];
    EXPECT_EQ(got.time, want.time);
    EXPECT_EQ(got.stage, want.stage);
    EXPECT_EQ(got.queue_id, want.queue_id);
    EXPECT_EQ(got.client, want.client);
    EXPECT_EQ(got.hostname, want.hostname);
    EXPECT_EQ(got.sender, want.sender);
    EXPECT_EQ(got.recipient, want.recipient);
    EXPECT_EQ(got.rules, want.rules);
    EXPECT_EQ(got.version, want.version);
    EXPECT_EQ(got.cipher, want.cipher);
    EXPECT_EQ(got.cipher_bits, want.cipher_bits);
    EXPECT_EQ(got.alg_bits, want.alg_bits);
    EXPECT_EQ(got.result, want.result);
    EXPECT_EQ(got.action, want.action);
    EXPECT_EQ(got.would, want.would);
    EXPECT_EQ(got.cert.status, want.cert.status);
    EXPECT_EQ(got.cert.subject_cn, want.cert.subject_cn);
    EXPECT_EQ(got.cert.issuer_cn, want.cert.issuer_cn);
}

// A database written by release 0.1 (schema 1, no certificate columns): the
// reader reads it as it is, and the store migrates it in place, rows kept.
TEST(ObservationStore, SchemaOneIsReadAndMigratedInPlace) {
    TempDir dir;
    const std::int64_t t = now() - 60;
    {
        std::string error;
        sqlite::Db db = sqlite::open(dir.db(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &error);
        ASSERT_TRUE(db) << error;
        ASSERT_TRUE(sqlite::exec(db.get(), R"(
            CREATE TABLE observations (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, stage TEXT NOT NULL,
                queue_id TEXT NOT NULL, client TEXT NOT NULL, hostname TEXT NOT NULL, sender TEXT NOT NULL,
                sender_domain TEXT NOT NULL, recipient TEXT NOT NULL, rules TEXT NOT NULL, tls_version TEXT NOT NULL,
                cipher TEXT NOT NULL, cipher_bits INTEGER NOT NULL, alg_bits INTEGER NOT NULL, result TEXT NOT NULL,
                action TEXT NOT NULL, would TEXT NOT NULL);
            CREATE INDEX observations_time ON observations(time);
            CREATE INDEX observations_sender_domain ON observations(sender_domain);
            PRAGMA application_id = 1414288208; PRAGMA user_version = 1;)", &error)) << error;
        ASSERT_TRUE(sqlite::exec(db.get(), "INSERT INTO observations VALUES (1, " + std::to_string(t) +
                                               ", 'mail', 'Q1', '203.0.113.5', '', 'a@acme.example', 'acme.example',"
                                               " '', 'acme', 'TLS1_2', 'ECDHE-RSA-AES128-GCM-SHA256', 128, 128,"
                                               " 'pass', 'accept', 'accept')", &error)) << error;
    }
    ObservationRows before = read_observations(dir.db(), 0, now() + 60);
    ASSERT_TRUE(before.ok()) << before.error;
    ASSERT_EQ(before.rows.size(), 1u);
    EXPECT_EQ(before.rows[0].sender, "a@acme.example");
    EXPECT_EQ(before.rows[0].cert.status, CertStatus::None);
    {
        ObservationStore store({.path = dir.db()}, nullptr);
        Observation o = obs(t + 1);
        o.cert = {CertStatus::Verified, "mx1.acme.example", "Acme CA"};
        store.enqueue(std::move(o));
    }
    std::string error;
    sqlite::Db db = sqlite::open(dir.db(), SQLITE_OPEN_READONLY, &error);
    EXPECT_EQ(sqlite::query_int(db.get(), "PRAGMA user_version", -1), store::schema_version());
    ObservationRows after = read_observations(dir.db(), 0, now() + 60);
    ASSERT_TRUE(after.ok()) << after.error;
    ASSERT_EQ(after.rows.size(), 2u);
    EXPECT_EQ(after.rows[0].queue_id, "Q1");
    EXPECT_EQ(after.rows[0].cert.status, CertStatus::None);
    EXPECT_EQ(after.rows[1].cert.status, CertStatus::Verified);
    EXPECT_EQ(after.rows[1].cert.subject_cn, "mx1.acme.example");
}

// Holds the writer inside its first batch until released. Every enqueue made
// meanwhile returned while the writer was provably stuck, which is what "never
// waits on the writer" means, however fast or slow the machine. Should an
// enqueue ever wait, the hook gives up after kDeadlock (a guard that fires
// only on that bug) and says so, instead of hanging the test run.
struct StuckWriter {
    static constexpr auto kDeadlock = std::chrono::seconds(60);
    std::promise<void> entered, release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<bool> first{true};
    std::atomic<bool> inside{false};   // the writer is in the hook now
    std::atomic<bool> gave_up{false};  // it left because nobody released it
    std::function<void()> hook() {
        return [this] {
            if (!first.exchange(false)) return;
            inside = true;
            entered.set_value();
            if (released.wait_for(kDeadlock) != std::future_status::ready) gave_up = true;
            inside = false;
        };
    }
};

TEST(ObservationStore, FullQueueDropsAndCountsWithoutBlocking) {
    TempDir dir;
    StuckWriter stuck;
    StoreOptions opt{.path = dir.db(), .capacity = 100};
    opt.before_write = stuck.hook();
    ObservationStore store(opt, nullptr);
    ASSERT_TRUE(store.enqueue(obs(now())));
    stuck.entered.get_future().wait();

    int accepted = 0, refused = 0;
    for (int i = 0; i < 1100; ++i) (store.enqueue(obs(now())) ? accepted : refused)++;
    // Every enqueue above returned while the writer sat in its hook.
    EXPECT_TRUE(stuck.inside) << "the writer left its hook before the enqueues were done";
    EXPECT_FALSE(stuck.gave_up) << "an enqueue waited for the writer";
    EXPECT_EQ(accepted, 100) << "the queue holds its capacity";
    EXPECT_EQ(refused, 1000);
    EXPECT_EQ(store.dropped(), 1000u);

    stuck.release.set_value();
    store.flush();
    EXPECT_EQ(store.written(), 101u);
    EXPECT_EQ(rows(dir.db()), 101u);
}

// Retention by whole UTC months (the same boundary PostgreSQL drops its
// partitions at): everything before the month that holds now - keep_days.
TEST(ObservationStore, RetentionCutoffIsTheMonthOfKeepDaysAgo) {
    struct Case {
        const char* name;
        std::int64_t now;
        int keep_days;
        std::int64_t want;
    };
    const Case cases[] = {
        {"90 days before 2024-05-08 is in February", 1715169600, 90, 1706745600},     // 2024-02-01
        {"a day before 2024-05-08 is in May", 1715169600, 1, 1714521600},             // 2024-05-01
        {"a day before 2024-03-01T00:00 is 29 February", 1709251200, 1, 1706745600},  // 2024-02-01
        {"400 days across a year", 1715169600, 400, 1680307200},                      // 2023-04-01
    };
    for (const Case& c : cases) {
        EXPECT_EQ(retention_cutoff(c.now, c.keep_days), c.want) << c.name;
        EXPECT_LE(retention_cutoff(c.now, c.keep_days), c.now - c.keep_days * 86400) << c.name << ": keeps keep_days";
    }
}

TEST(ObservationStore, RetentionDeletesWholeMonthsOlderThanKeepDays) {
    TempDir dir;
    const std::int64_t t = now();
    const std::int64_t cutoff = retention_cutoff(t, 90);
    struct Case {
        std::string name;
        std::int64_t time;
        bool kept;
    };
    const Case cases[] = {{"a year old", t - 365 * 86400, false},
                          {"the last second before the cutoff month", cutoff - 1, false},
                          {"the first second of the cutoff month", cutoff, true},
                          {"90 days old", t - 90 * 86400, true},
                          {"a day old", t - 86400, true},
                          {"fresh", t, true}};
    {
        ObservationStore store({.path = dir.db(), .keep_days = 90}, nullptr);
        for (const Case& c : cases) store.enqueue(obs(c.time, c.name.c_str()));
    }
    ObservationStore store({.path = dir.db(), .keep_days = 90}, nullptr);  // retention runs at start
    store.enqueue(obs(t, "marker"));
    store.flush();  // returns after the writer's first round, retention included
    ObservationRows r = read_observations(dir.db(), 0, t + 1);
    ASSERT_TRUE(r.ok()) << r.error;
    std::int64_t kept = 1;  // the marker
    for (const Case& c : cases) {
        bool got = std::any_of(r.rows.begin(), r.rows.end(), [&](const Observation& o) { return o.sender == c.name; });
        EXPECT_EQ(got, c.kept) << c.name << ": got kept=" << got << ", want " << c.kept;
        kept += c.kept;
    }
    std::string error;
    sqlite::Db db = sqlite::open(dir.db(), SQLITE_OPEN_READONLY, &error);
    for (store::Summary s : store::kSummaries) {
        const std::string table(store::summary_table(s));
        EXPECT_EQ(sqlite::query_int(db.get(), ("SELECT count(*) FROM " + table + " WHERE day < " + std::to_string(cutoff)).c_str(), -1), 0)
            << table << ": days before the cutoff went with their rows";
        EXPECT_EQ(sqlite::query_int(db.get(), ("SELECT sum(n) FROM " + table).c_str(), -1), kept) << table;
    }
}

// Writes a database that is not ours (or not ours to write) with the SQLite
// API directly.
void make_database(const std::string& path, const char* sql) {
    std::string error;
    sqlite::Db db = sqlite::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &error);
    ASSERT_TRUE(db) << error;
    ASSERT_TRUE(sqlite::exec(db.get(), sql, &error)) << error;
}

TEST(ObservationStore, RefusesForeignOrNewerDatabaseWithoutTouchingIt) {
    struct Case {
        const char* name;
        const char* sql;  // nullptr: a text file
        const char* want;
    };
    const Case cases[] = {
        {"newer schema", "CREATE TABLE observations(x); PRAGMA application_id = 1414288208; PRAGMA user_version = 99",
         "schema version 99 is newer than this tlspolicy-milter knows"},
        {"another application", "CREATE TABLE mail(x); PRAGMA application_id = 4660; PRAGMA user_version = 1",
         "not a tlspolicy-milter observation database"},
        {"tables but no marks", "CREATE TABLE things(x)", "not a tlspolicy-milter observation database"},
        {"not SQLite at all", nullptr, "not a tlspolicy-milter observation database"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        TempDir dir;
        if (c.sql)
            make_database(dir.db(), c.sql);
        else
            std::ofstream(dir.db()) << "these are my notes, not a database\n";
        const std::string before = tests::read_file(dir.db());
        Log log;
        {
            ObservationStore store({.path = dir.db()}, log.sink());
            store.enqueue(obs(now()));
            store.flush();
            EXPECT_EQ(store.written(), 0u);
            EXPECT_EQ(store.dropped(), 1u);
            EXPECT_GE(store.failures(), 1u);
        }
        auto lines = log.get();
        ASSERT_EQ(lines.size(), 1u);
        EXPECT_NE(lines[0].find(dir.db()), std::string::npos) << lines[0];
        EXPECT_NE(lines[0].find(c.want), std::string::npos) << lines[0];
        EXPECT_NE(lines[0].find("left unchanged"), std::string::npos) << lines[0];
        EXPECT_EQ(tests::read_file(dir.db()), before) << "the file was modified";
        EXPECT_FALSE(fs::exists(dir.db() + "-wal"));

        ObservationRows r = read_observations(dir.db(), 0, now());  // report refuses it the same way
        EXPECT_NE(r.error.find(c.want), std::string::npos) << r.error;
    }
}

TEST(ObservationStore, CreatesAndReopensItsOwnSchema) {
    TempDir dir;
    for (int round = 1; round <= 2; ++round) {
        ObservationStore s({.path = dir.db()}, nullptr);
        s.enqueue(obs(now()));
        s.flush();
        EXPECT_EQ(s.written(), 1u) << "round " << round;
    }
    EXPECT_EQ(rows(dir.db()), 2u);
    std::string error;
    sqlite::Db db = sqlite::open(dir.db(), SQLITE_OPEN_READONLY, &error);
    ASSERT_TRUE(db) << error;
    EXPECT_EQ(sqlite::query_int(db.get(), "PRAGMA user_version", -1), store::schema_version());
    EXPECT_EQ(sqlite::query_int(db.get(), "PRAGMA application_id", -1), store::kApplicationId);
    sqlite::Stmt mode(db.get(), "PRAGMA journal_mode");
    ASSERT_EQ(mode.step(), SQLITE_ROW);
    EXPECT_EQ(mode.text(0), "wal");
}

TEST(ObservationStore, AdoptsAnEmptySqliteFile) {
    TempDir dir;
    make_database(dir.db(), "PRAGMA page_size = 8192; VACUUM");  // SQLite's, but no schema: version 0
    ObservationStore s({.path = dir.db()}, [](std::string_view l) { ADD_FAILURE() << l; });
    s.enqueue(obs(now()));
    s.flush();
    EXPECT_EQ(s.written(), 1u);
}

// Enqueues `n` batches of 5, each flushed. (That enqueue never waits on the
// writer, failing or not, is FullQueueDropsAndCountsWithoutBlocking's to show:
// it needs no clock.)
void batches(ObservationStore& store, int n) {
    for (int b = 0; b < n; ++b) {
        for (int i = 0; i < 5; ++i) store.enqueue(obs(now()));
        store.flush();
    }
}

StoreOptions failing_options(const TempDir& dir) {
    return {.path = dir.db(), .retry_interval = 20ms, .log_interval = std::chrono::hours(1)};
}

TEST(ObservationStore, DiskFullMidRunDropsLogsOnceAndRecovers) {
    TempDir dir;
    Log log;
    ObservationStore store(failing_options(dir), log.sink());
    batches(store, 2);
    ASSERT_EQ(store.written(), 10u);

    // Every write past 1 KiB now fails with EFBIG, as on a full disk.
    rlimit old{};
    getrlimit(RLIMIT_FSIZE, &old);
    auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit tiny = old;
    tiny.rlim_cur = 1024;
    setrlimit(RLIMIT_FSIZE, &tiny);
    batches(store, 20);
    const auto written = store.written(), dropped = store.dropped(), failures = store.failures();
    setrlimit(RLIMIT_FSIZE, &old);  // before any assertion can print
    std::signal(SIGXFSZ, old_handler);

    EXPECT_EQ(written, 10u);
    EXPECT_EQ(dropped, 100u);
    EXPECT_GE(failures, 1u);
    auto lines = log.get();
    ASSERT_EQ(lines.size(), 1u) << "one message per log interval";
    EXPECT_NE(lines[0].find(dir.db() + ": writing observations failed"), std::string::npos) << lines[0];

    std::this_thread::sleep_for(50ms);  // past retry_interval
    batches(store, 1);
    EXPECT_EQ(store.written(), 15u);
    lines = log.get();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_NE(lines[1].find("written again"), std::string::npos) << lines[1];
    EXPECT_EQ(rows(dir.db()), 15u);
}

TEST(ObservationStore, DatabaseReplacedByDirectoryDropsUntilItIsBack) {
    TempDir dir;
    Log log;
    ObservationStore store(failing_options(dir), log.sink());
    batches(store, 2);
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(dir.db() + suffix);
    fs::create_directory(dir.db());

    batches(store, 20);
    EXPECT_EQ(store.written(), 10u);
    EXPECT_EQ(store.dropped(), 100u);
    auto lines = log.get();
    ASSERT_EQ(lines.size(), 1u) << "one message per log interval";
    EXPECT_NE(lines[0].find(dir.db() + ": unable to open"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("removed or replaced"), std::string::npos) << lines[0];

    fs::remove(dir.db());
    std::this_thread::sleep_for(50ms);
    batches(store, 1);
    EXPECT_EQ(store.written(), 15u);
    EXPECT_EQ(rows(dir.db()), 5u) << "a new database holds what came after";
}

TEST(ObservationStore, DatabaseRemovedIsRecreatedWithoutLoss) {
    TempDir dir;
    Log log;
    ObservationStore store(failing_options(dir), log.sink());
    batches(store, 2);
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(dir.db() + suffix);
    batches(store, 1);
    EXPECT_EQ(store.written(), 15u);
    EXPECT_EQ(store.dropped(), 0u);
    EXPECT_EQ(rows(dir.db()), 5u);
    ASSERT_EQ(log.get().size(), 1u);
    EXPECT_NE(log.get()[0].find("removed or replaced while open; reopened it"), std::string::npos) << log.get()[0];
}

TEST(ObservationStore, IngestPositionCommitsWithItsRows) {
    TempDir dir;
    auto backend = make_sqlite_backend(dir.db());
    std::string error;
    ASSERT_TRUE(backend->open(&error)) << error;
    auto rows = [&] {
        std::string e;
        sqlite::Db db = sqlite::open(dir.db(), SQLITE_OPEN_READONLY, &e);
        return sqlite::query_int(db.get(), "SELECT count(*) FROM observations", -1);
    };
    auto refuse = [&] {
        std::string e;
        sqlite::Db db = sqlite::open(dir.db(), SQLITE_OPEN_READWRITE, &e);
        for (const char* when : {"INSERT", "UPDATE"})
            ASSERT_TRUE(sqlite::exec(db.get(), std::string("CREATE TRIGGER refuse_") + when + " BEFORE " + when +
                                                   " ON ingest_positions WHEN NEW.position = 'refused'"
                                                   " BEGIN SELECT RAISE(ABORT, 'refused'); END",
                                     &e))
                << e;
    };
    test::ingest_position_commits_with_its_rows(*backend, rows, refuse);
}

}  // namespace
}  // namespace tlspolicy
