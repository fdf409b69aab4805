// Schema versions and migrations of the observation database.
#include "store/sqlite/schema.hpp"

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <set>

#include "store/summary_sql.hpp"

namespace tlspolicy::store {
namespace {

// Each step takes the schema from to_version - 1 to to_version. To change the
// schema, append a step (e.g. {2, "ALTER TABLE observations ADD COLUMN ..."});
// never edit a released one: databases out there were made by it. (Its SQL
// comments are no schema: correcting one changes no database's behaviour.)
struct Migration {
    int to_version;
    const char* sql;
};
constexpr std::array kMigrations{
    Migration{1, R"(
        CREATE TABLE observations (
            id            INTEGER PRIMARY KEY,
            time          INTEGER NOT NULL,   -- unix seconds
            stage         TEXT NOT NULL,      -- mail | rcpt | message
            queue_id      TEXT NOT NULL,
            client        TEXT NOT NULL,
            hostname      TEXT NOT NULL,
            sender        TEXT NOT NULL,      -- '' for <>
            sender_domain TEXT NOT NULL,
            recipient     TEXT NOT NULL,
            rules         TEXT NOT NULL,      -- as in the header's policy=
            tls_version   TEXT NOT NULL,      -- as in the header's version=
            cipher        TEXT NOT NULL,
            cipher_bits   INTEGER NOT NULL,
            alg_bits      INTEGER NOT NULL,
            result        TEXT NOT NULL,      -- none | pass | fail
            action        TEXT NOT NULL,      -- accept | tempfail | reject
            would         TEXT NOT NULL       -- tempfail | reject that monitor mode let through; accept otherwise, refusals included
        );
        CREATE INDEX observations_time ON observations(time);
        CREATE INDEX observations_sender_domain ON observations(sender_domain);
    )"},
    Migration{2, R"(
        ALTER TABLE observations ADD COLUMN cert_status TEXT NOT NULL DEFAULT 'none';  -- none | unverified | verified | unknown
        ALTER TABLE observations ADD COLUMN cert_subject TEXT NOT NULL DEFAULT '';     -- subject CN
        ALTER TABLE observations ADD COLUMN cert_issuer TEXT NOT NULL DEFAULT '';      -- issuer CN
    )"},
    // Rule kinds, the deciding host, and the policy versions in force.
    Migration{3, R"(
        ALTER TABLE observations ADD COLUMN rule_refs TEXT;   -- "partner:acme,recipient:hr"; NULL in rows of schemas 1-2 (names only)
        ALTER TABLE observations ADD COLUMN host TEXT NOT NULL DEFAULT '';  -- the MTA host that decided
        CREATE INDEX observations_host_time ON observations(host, time);
        CREATE TABLE policy_versions (
            id     INTEGER PRIMARY KEY,
            time   INTEGER NOT NULL,   -- unix seconds: in force from then on at host
            host   TEXT NOT NULL,
            sha256 TEXT NOT NULL,      -- of the policy file's bytes, hex
            mode   TEXT NOT NULL       -- enforce | monitor
        );
        CREATE INDEX policy_versions_host_time ON policy_versions(host, time);
    )"},
    // The summaries take over from these indexes (report reads them, not the
    // rows); their tables, the direction column and any later column of the
    // codec are made by reconcile() from store/observation_row.hpp. Where an
    // ingest keeps its place in the log it reads, committed with its rows.
    Migration{4, R"(
        DROP INDEX IF EXISTS observations_sender_domain;
        DROP INDEX IF EXISTS observations_host_time;
        CREATE TABLE ingest_positions (
            source   TEXT PRIMARY KEY,   -- e.g. the log file an ingest follows
            position TEXT NOT NULL,      -- where it stands in it: the ingest's own words
            time     INTEGER NOT NULL    -- unix seconds of the batch that moved it
        );
    )"},
};

std::set<std::string> table_columns(sqlite3* db, std::string_view table) {
    std::set<std::string> out;
    sqlite::Stmt s(db, "SELECT name FROM pragma_table_info(?1)");
    s.bind(1, table);
    while (s.ok() && s.step() == SQLITE_ROW) out.insert(s.text(0));
    return out;
}

std::array<std::set<std::string>, kSummaries.size()> summary_columns_now(sqlite3* db) {
    std::array<std::set<std::string>, kSummaries.size()> out;
    for (Summary s : kSummaries) out[static_cast<std::size_t>(s)] = table_columns(db, summary_table(s));
    return out;
}

// Brings the tables to the codec (store/observation_row.hpp), inside the
// caller's transaction: columns it added since are added with their fill,
// summaries missing or of another key are made anew from every raw row. A
// column no release of ours before this one made refuses the file.
bool reconcile(sqlite3* db, const std::string& path, std::string* error) {
    const SchemaPlan plan = plan_schema(table_columns(db, "observations"), summary_columns_now(db));
    if (!plan.unknown.empty()) {
        std::string names;
        for (const std::string& n : plan.unknown) names += (names.empty() ? "" : ", ") + n;
        *error = path + ": the observation database has columns this tlspolicy-milter does not know (" + names +
                 "); a newer release made them. Upgrade tlspolicy-milter. The file was left unchanged.";
        return false;
    }
    for (std::size_t c : plan.add)
        if (!sqlite::exec(db, "ALTER TABLE observations ADD COLUMN " + column_definition(Dialect::Sqlite, kColumns[c]),
                          error))
            return false;
    for (Summary s : plan.build)
        if (!sqlite::exec(db, "DROP TABLE IF EXISTS " + std::string(summary_table(s)), error) ||
            !sqlite::exec(db, create_summary(Dialect::Sqlite, s), error) || !sqlite::exec(db, build_summary(s), error))
            return false;
    return true;
}

enum class State { Empty, Current, Older, Newer, Foreign };

struct Inspection {
    State state = State::Foreign;
    int version = 0;
    std::string why;  // for Foreign
};

// Looks at the file without writing to it.
Inspection inspect(sqlite3* db) {
    Inspection in;
    sqlite::Stmt s(db, "SELECT (SELECT application_id FROM pragma_application_id),"
                       " (SELECT user_version FROM pragma_user_version),"
                       " (SELECT count(*) FROM sqlite_master)");
    if (!s.ok() || s.step() != SQLITE_ROW) {
        in.why = sqlite::last_error(db);  // "file is not a database", typically
        return in;
    }
    const auto app = s.integer(0), tables = s.integer(2);
    in.version = static_cast<int>(s.integer(1));
    if (app == kApplicationId && in.version > 0) {
        in.state = in.version == schema_version() ? State::Current
                   : in.version < schema_version() ? State::Older
                                                   : State::Newer;
    } else if ((app == 0 || app == kApplicationId) && in.version == 0 && tables == 0) {
        in.state = State::Empty;
    } else {
        char buf[96];
        std::snprintf(buf, sizeof buf, "application_id %#llx, user_version %d, %lld schema objects",
                      static_cast<unsigned long long>(app), in.version, static_cast<long long>(tables));
        in.why = buf;
    }
    return in;
}

// `key`: the [observations] key that names the file (database, or spool).
std::string refusal(const std::string& path, const Inspection& in, std::string_view key) {
    if (in.state == State::Newer)
        return path + ": observation database schema version " + std::to_string(in.version) +
               " is newer than this tlspolicy-milter knows (" + std::to_string(schema_version()) +
               "); a newer release wrote it. Upgrade tlspolicy-milter, or set [observations] " + std::string(key) +
               " to another file. The file was left unchanged.";
    return path + ": not a tlspolicy-milter observation database (" + in.why + "). Set [observations] " +
           std::string(key) + " to another file, or move this one away. The file was left unchanged.";
}

// Applies the missing steps and reconciles the tables with the codec, in one
// transaction, looking again inside it: another process may have migrated
// the file meanwhile. A file with nothing to do costs a look at its columns.
bool migrate(sqlite3* db, const std::string& path, std::string_view key, std::string* error) {
    if (!sqlite::exec(db, "BEGIN IMMEDIATE", error)) return false;
    Inspection in = inspect(db);
    bool ok = in.state == State::Current;
    if (in.state == State::Empty || in.state == State::Older) {
        ok = true;
        for (const Migration& m : kMigrations)
            if (ok && m.to_version > in.version) ok = sqlite::exec(db, m.sql, error);
        ok = ok && sqlite::exec(db, "PRAGMA application_id = " + std::to_string(kApplicationId) +
                                        "; PRAGMA user_version = " + std::to_string(schema_version()),
                                error);
        if (!ok) *error = path + ": migrating the observation database failed: " + *error;
    } else if (!ok) {
        *error = refusal(path, in, key);
    }
    if (ok && !reconcile(db, path, error)) {
        ok = false;
        if (!error->starts_with(path)) *error = path + ": migrating the observation database failed: " + *error;
    }
    if (ok) ok = sqlite::exec(db, "COMMIT", error);
    if (!ok) {
        std::string ignored;
        sqlite::exec(db, "ROLLBACK", &ignored);  // nothing of a failed migration stays
    }
    return ok;
}

constexpr int kBusyTimeoutMs = 5000;

}  // namespace

int schema_version() { return kMigrations.back().to_version; }

std::string raw_select_list(sqlite3* db) {
    const std::set<std::string> have = table_columns(db, "observations");
    std::string out;
    for (const Column& c : kColumns) {
        const std::string name(c.name);
        out += (out.empty() ? "" : ", ") + (have.contains(name) || c.fill.empty() ? name : std::string(c.fill) + " AS " + name);
    }
    return out;
}

bool summaries_current(sqlite3* db) {
    for (Summary s : kSummaries)
        if (table_columns(db, summary_table(s)) != summary_column_names(s)) return false;
    return true;
}

sqlite::Db open_for_writing(const std::string& path, std::string* error, std::string_view key) {
    sqlite::Db db = sqlite::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error);
    if (!db) {
        *error = path + ": " + *error + "; does its directory exist, writable by this user?";
        return nullptr;
    }
    sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
    // Refuse before any PRAGMA below writes to a file that is not ours.
    Inspection in = inspect(db.get());
    if (in.state == State::Newer || in.state == State::Foreign) {
        *error = refusal(path, in, key);
        return nullptr;
    }
    if (!sqlite::exec(db.get(), "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", error)) {
        *error = path + ": " + *error;
        return nullptr;
    }
    if (!migrate(db.get(), path, key, error)) return nullptr;
    return db;
}

sqlite::Db open_for_reading(const std::string& path, bool* empty, int* version, std::string* error,
                            std::string_view key) {
    *empty = false;
    *version = schema_version();
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 && errno == ENOENT) {
        *error = path + ": no such file; the daemon creates it when [observations] database names it";
        return nullptr;
    }
    sqlite::Db db = sqlite::open(path, SQLITE_OPEN_READONLY, error);
    if (!db) {
        *error = path + ": " + *error;
        return nullptr;
    }
    sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
    Inspection in = inspect(db.get());
    switch (in.state) {
        case State::Current: return db;
        case State::Empty: *empty = true; return db;
        case State::Older:  // read as it is: the daemon migrates it when it next writes
            *version = in.version;
            return db;
        case State::Newer:
        case State::Foreign: *error = refusal(path, in, key); return nullptr;
    }
    return nullptr;
}

}  // namespace tlspolicy::store
