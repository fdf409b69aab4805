// Schema versions and migrations of the PostgreSQL observation database.
#include "store/postgres/schema.hpp"

#include <array>

namespace tlspolicy::store {
namespace {

// As in store/sqlite/schema.cpp: append a step to change the schema, never
// edit a released one.
struct Migration {
    int to_version;
    const char* sql;
};
constexpr std::array kMigrations{
    Migration{1, R"(
        CREATE TABLE observations (
            id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            time          bigint NOT NULL,    -- unix seconds
            host          text NOT NULL,      -- the MTA host that decided
            stage         text NOT NULL,      -- mail | rcpt | message
            queue_id      text NOT NULL,
            client        text NOT NULL,
            hostname      text NOT NULL,
            sender        text NOT NULL,      -- '' for <>
            sender_domain text NOT NULL,
            recipient     text NOT NULL,
            rules         text NOT NULL,      -- as in the header's policy=
            rule_refs     text NOT NULL,      -- each rule with its kind: partner:acme,recipient:hr
            tls_version   text NOT NULL,      -- as in the header's version=
            cipher        text NOT NULL,
            cipher_bits   integer NOT NULL,
            alg_bits      integer NOT NULL,
            result        text NOT NULL,      -- none | pass | fail
            action        text NOT NULL,      -- accept | tempfail | reject
            would         text NOT NULL,      -- the refusal monitor mode let through; accept otherwise
            cert_status   text NOT NULL,      -- none | unverified | verified | unknown
            cert_subject  text NOT NULL,
            cert_issuer   text NOT NULL
        );
        -- report reads a window of time, of every host or of one (--host),
        -- ordered by (time, id): with id in the index the rows stream in
        -- index order, no sort of a year of rows before the first one.
        CREATE INDEX observations_time ON observations (time, id);
        CREATE INDEX observations_host_time ON observations (host, time, id);
        CREATE TABLE policy_versions (
            id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            time   bigint NOT NULL,           -- unix seconds: in force from then on at host
            host   text NOT NULL,
            sha256 text NOT NULL,             -- of the policy file's bytes, hex
            mode   text NOT NULL              -- enforce | monitor
        );
        CREATE INDEX policy_versions_host_time ON policy_versions (host, time);
    )"},
};

constexpr const char* kLock = "SELECT pg_advisory_xact_lock(1414288208)";  // "TLSP"

// What is there: *version 0 for nothing of ours; an error for someone else's tables.
bool look(pg::Conn& db, const std::string& name, int* version, std::string* error) {
    pg::Result r;
    if (!db.exec("SELECT to_regclass('schema_version') IS NOT NULL, to_regclass('observations') IS NOT NULL", {}, &r,
                 error))
        return false;
    const bool versioned = r.text(0, 0) == "t", observations = r.text(0, 1) == "t";
    *version = 0;
    if (!versioned) {
        if (!observations) return true;
        *error = name + ": not a tlspolicy-milter observation database (an observations table without our"
                        " schema_version table). Set [observations] database to another database. It was left unchanged.";
        return false;
    }
    if (!db.exec("SELECT coalesce(max(version), 0) FROM schema_version", {}, &r, error)) return false;
    *version = static_cast<int>(r.integer(0, 0));
    if (*version > postgres_schema_version()) {
        *error = name + ": observation database schema version " + std::to_string(*version) +
                 " is newer than this tlspolicy-milter knows (" + std::to_string(postgres_schema_version()) +
                 "); a newer release wrote it. Upgrade tlspolicy-milter. It was left unchanged.";
        return false;
    }
    return true;
}

}  // namespace

int postgres_schema_version() { return kMigrations.back().to_version; }

bool postgres_inspect(pg::Conn& db, const std::string& name, int* version, std::string* error) {
    return look(db, name, version, error);
}

bool postgres_migrate(pg::Conn& db, const std::string& name, std::string* error) {
    int version = 0;
    if (!look(db, name, &version, error)) return false;
    if (version == postgres_schema_version()) return true;
    // Look again under the lock: another milter may have migrated meanwhile.
    bool ok = db.exec("BEGIN", error) && db.exec(kLock, error) && look(db, name, &version, error) &&
              db.exec("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL, time bigint NOT NULL"
                      " DEFAULT extract(epoch FROM now())::bigint)",
                      error);
    for (const Migration& m : kMigrations)
        if (ok && m.to_version > version)
            ok = db.exec(m.sql, error) &&
                 db.exec("INSERT INTO schema_version (version) VALUES (" + std::to_string(m.to_version) + ")", error);
    ok = ok && db.exec("COMMIT", error);
    if (!ok) {
        std::string ignored;
        if (db.connected()) db.exec("ROLLBACK", &ignored);  // nothing of a failed migration stays
        if (error->find(name) == std::string::npos)
            *error = name + ": migrating the observation database failed: " + *error;
    }
    return ok;
}

}  // namespace tlspolicy::store
