// Schema versions and migrations of the PostgreSQL observation database.
#include "store/postgres/schema.hpp"

#include <array>
#include <chrono>
#include <set>

#include "store/summary_sql.hpp"

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
    // Observations partitioned by UTC month (retention drops a month at once,
    // the writer creates months ahead); the raw rows move over with their ids
    // and read as inbound (every row so far was). report reads the summaries,
    // which reconcile() makes, as it makes any column the codec adds later:
    // @COLUMNS@ stands for the codec's columns. A BRIN index on time is all
    // the rows keep: windows of rows are read for audits only.
    Migration{2, R"(
        ALTER TABLE observations RENAME TO observations_unpartitioned;
        DROP INDEX observations_time;
        DROP INDEX observations_host_time;
        CREATE SEQUENCE observation_ids CACHE 64;
        CREATE TABLE observations (
            id bigint NOT NULL DEFAULT nextval('observation_ids'),
            @COLUMNS@
        ) PARTITION BY RANGE (time);
        ALTER SEQUENCE observation_ids OWNED BY observations.id;
        CREATE INDEX observations_time ON observations USING brin (time);

        -- The months of `times` (unix seconds) for every partitioned table of
        -- ours: name_YYYY_MM, from the month's first second to the next's.
        CREATE FUNCTION tlspolicy_add_months(times bigint[]) RETURNS integer LANGUAGE plpgsql AS $f$
        DECLARE
            m timestamp;
            t record;
            made integer := 0;
        BEGIN
            PERFORM pg_advisory_xact_lock(1414288209);
            PERFORM set_config('lock_timeout', '5s', true);  -- never hold up the writers for long
            FOR m IN SELECT DISTINCT date_trunc('month', to_timestamp(x) AT TIME ZONE 'UTC') FROM unnest(times) AS x LOOP
                FOR t IN SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
                         WHERE c.relnamespace = current_schema()::regnamespace LOOP
                    IF to_regclass(quote_ident(t.relname || '_' || to_char(m, 'YYYY_MM'))) IS NULL THEN
                        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
                                       t.relname || '_' || to_char(m, 'YYYY_MM'), t.relname,
                                       extract(epoch FROM m)::bigint, extract(epoch FROM m + interval '1 month')::bigint);
                        made := made + 1;
                    END IF;
                END LOOP;
            END LOOP;
            RETURN made;
        END $f$;

        -- Retention: drops every month partition that ends at or before cutoff.
        CREATE FUNCTION tlspolicy_drop_months_before(cutoff bigint) RETURNS integer LANGUAGE plpgsql AS $f$
        DECLARE
            t record;
            dropped integer := 0;
        BEGIN
            PERFORM pg_advisory_xact_lock(1414288209);
            PERFORM set_config('lock_timeout', '5s', true);
            FOR t IN SELECT c.oid::regclass AS part, pg_get_expr(c.relpartbound, c.oid) AS bound
                     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                     JOIN pg_partitioned_table p ON p.partrelid = i.inhparent
                     JOIN pg_class parent ON parent.oid = i.inhparent
                     WHERE parent.relnamespace = current_schema()::regnamespace LOOP
                IF (regexp_match(t.bound, 'TO \(''?(-?[0-9]+)''?\)'))[1]::bigint <= cutoff THEN
                    EXECUTE format('DROP TABLE %s', t.part);
                    dropped := dropped + 1;
                END IF;
            END LOOP;
            RETURN dropped;
        END $f$;

        SELECT tlspolicy_add_months(ARRAY(SELECT DISTINCT time - time % 86400 FROM observations_unpartitioned));
        INSERT INTO observations (id, time, host, stage, queue_id, client, hostname, sender, sender_domain, recipient,
                                  rules, rule_refs, tls_version, cipher, cipher_bits, alg_bits, result, action, would,
                                  cert_status, cert_subject, cert_issuer)
            SELECT id, time, host, stage, queue_id, client, hostname, sender, sender_domain, recipient,
                   rules, rule_refs, tls_version, cipher, cipher_bits, alg_bits, result, action, would,
                   cert_status, cert_subject, cert_issuer FROM observations_unpartitioned;
        SELECT setval('observation_ids', (SELECT coalesce(max(id), 0) + 1 FROM observations), false);
        DROP TABLE observations_unpartitioned;

        CREATE TABLE ingest_positions (
            source   text PRIMARY KEY,  -- e.g. the log file an ingest follows
            position text NOT NULL,     -- where it stands in it: the ingest's own words
            time     bigint NOT NULL    -- unix seconds of the batch that moved it
        );
    )"},
};

// A migration's text with @COLUMNS@ made from the codec.
std::string migration_sql(const Migration& m) {
    std::string sql = m.sql;
    const std::size_t at = sql.find("@COLUMNS@");
    if (at == std::string::npos) return sql;
    std::string cols;
    for (const Column& c : kColumns) cols += (cols.empty() ? "" : ",\n            ") + column_definition(Dialect::Postgres, c);
    return sql.replace(at, 9, cols);
}

constexpr std::chrono::hours kMigrationTimeout{12};
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

// The columns our tables have now (an empty set: no such table).
bool columns_now(pg::Conn& db, std::set<std::string>* observations,
                 std::array<std::set<std::string>, kSummaries.size()>* summaries, std::string* error) {
    std::string tables = "'observations'";
    for (Summary s : kSummaries) tables += ", '" + std::string(summary_table(s)) + "'";
    pg::Result r;
    if (!db.exec("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
                 " AND table_name IN (" + tables + ")",
                 {}, &r, error))
        return false;
    for (int i = 0; i < r.rows(); ++i) {
        const std::string table = r.text(i, 0);
        if (table == "observations") observations->insert(r.text(i, 1));
        for (Summary s : kSummaries)
            if (table == summary_table(s)) (*summaries)[static_cast<std::size_t>(s)].insert(r.text(i, 1));
    }
    return true;
}

bool plan_now(pg::Conn& db, const std::string& name, SchemaPlan* plan, std::string* error) {
    std::set<std::string> observations;
    std::array<std::set<std::string>, kSummaries.size()> summaries;
    if (!columns_now(db, &observations, &summaries, error)) return false;
    *plan = plan_schema(observations, summaries);
    if (plan->unknown.empty()) return true;
    std::string names;
    for (const std::string& n : plan->unknown) names += (names.empty() ? "" : ", ") + n;
    *error = name + ": the observation database has columns this tlspolicy-milter does not know (" + names +
             "); a newer release made them. Upgrade tlspolicy-milter. It was left unchanged.";
    return false;
}

// Brings the tables to the codec (store/observation_row.hpp) inside the
// caller's transaction: its new columns added with their fill, summaries
// missing or of another key made anew, their months made, and filled from
// every raw row.
bool reconcile(pg::Conn& db, const SchemaPlan& plan, std::string* error) {
    for (std::size_t c : plan.add)
        if (!db.exec("ALTER TABLE observations ADD COLUMN " + column_definition(Dialect::Postgres, kColumns[c]), error))
            return false;
    if (plan.build.empty()) return true;
    for (Summary s : plan.build)
        if (!db.exec("DROP TABLE IF EXISTS " + std::string(summary_table(s)), error) ||
            !db.exec(create_summary(Dialect::Postgres, s), error))
            return false;
    if (!db.exec("SELECT tlspolicy_add_months(ARRAY(SELECT DISTINCT time - time % 86400 FROM observations))", error))
        return false;
    for (Summary s : plan.build)
        if (!db.exec(build_summary(s), error)) return false;
    return true;
}

}  // namespace

int postgres_schema_version() { return kMigrations.back().to_version; }

bool postgres_inspect(pg::Conn& db, const std::string& name, int* version, std::string* error) {
    return look(db, name, version, error);
}

bool postgres_migrate(pg::Conn& db, const std::string& name, std::string* error) {
    int version = 0;
    SchemaPlan plan;
    if (!look(db, name, &version, error)) return false;
    if (version == postgres_schema_version()) {
        if (!plan_now(db, name, &plan, error)) return false;
        if (plan.empty()) return true;
    }
    // A migration reads every row (moves them to month partitions, builds the
    // summaries): minutes on a database of tens of millions of rows, while
    // the writer's usual bound per query is seconds and a query cut short by
    // it would start again from nothing. Observations wait in the spool
    // meanwhile, so it may take hours; a server that vanishes is still
    // noticed by TCP keepalives. A second milter waits here for the first.
    struct LongerTimeout {
        pg::Conn& db;
        const std::chrono::milliseconds usual = db.timeout();
        ~LongerTimeout() { db.set_timeout(usual); }
    } longer{db};
    db.set_timeout(kMigrationTimeout);
    // Look again under the lock: another milter may have migrated meanwhile.
    bool ok = db.exec("BEGIN", error) && db.exec(kLock, error) && look(db, name, &version, error) &&
              db.exec("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL, time bigint NOT NULL"
                      " DEFAULT extract(epoch FROM now())::bigint)",
                      error);
    for (const Migration& m : kMigrations)
        if (ok && m.to_version > version)
            ok = db.exec(migration_sql(m), error) &&
                 db.exec("INSERT INTO schema_version (version) VALUES (" + std::to_string(m.to_version) + ")", error);
    ok = ok && plan_now(db, name, &plan, error) && reconcile(db, plan, error) && db.exec("COMMIT", error);
    if (!ok) {
        std::string ignored;
        if (db.connected()) db.exec("ROLLBACK", &ignored);  // nothing of a failed migration stays
        if (error->find(name) == std::string::npos)
            *error = name + ": migrating the observation database failed: " + *error;
    }
    return ok;
}

bool postgres_summaries_current(pg::Conn& db, bool* current, std::string* error) {
    std::set<std::string> observations;
    std::array<std::set<std::string>, kSummaries.size()> summaries;
    if (!columns_now(db, &observations, &summaries, error)) return false;
    *current = true;
    for (Summary s : kSummaries) *current = *current && summaries[static_cast<std::size_t>(s)] == summary_column_names(s);
    return true;
}

}  // namespace tlspolicy::store
