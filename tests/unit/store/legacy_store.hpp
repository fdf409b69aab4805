// Databases as the previous release made them, SQLite schema 3 and
// PostgreSQL schema 1 (copied from their migrations, not made by them: what
// the migrations of this release start from), filled with given rows.
#pragma once
#include <span>
#include <string>

#include "store/observation.hpp"
#include "store/observation_row.hpp"

namespace tlspolicy::test {

inline constexpr const char* kSqliteSchemaThree = R"(
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
    ALTER TABLE observations ADD COLUMN rule_refs TEXT;
    ALTER TABLE observations ADD COLUMN host TEXT NOT NULL DEFAULT '';
    CREATE INDEX observations_host_time ON observations(host, time);
    CREATE TABLE policy_versions (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, host TEXT NOT NULL,
        sha256 TEXT NOT NULL, mode TEXT NOT NULL);
    CREATE INDEX policy_versions_host_time ON policy_versions(host, time);
    PRAGMA application_id = 1414288208; PRAGMA user_version = 3;)";

inline constexpr const char* kPostgresSchemaOne = R"(
    CREATE TABLE schema_version (version integer NOT NULL, time bigint NOT NULL DEFAULT extract(epoch FROM now())::bigint);
    CREATE TABLE observations (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, time bigint NOT NULL, host text NOT NULL,
        stage text NOT NULL, queue_id text NOT NULL, client text NOT NULL, hostname text NOT NULL,
        sender text NOT NULL, sender_domain text NOT NULL, recipient text NOT NULL, rules text NOT NULL,
        rule_refs text NOT NULL, tls_version text NOT NULL, cipher text NOT NULL, cipher_bits integer NOT NULL,
        alg_bits integer NOT NULL, result text NOT NULL, action text NOT NULL, would text NOT NULL,
        cert_status text NOT NULL, cert_subject text NOT NULL, cert_issuer text NOT NULL);
    CREATE INDEX observations_time ON observations (time, id);
    CREATE INDEX observations_host_time ON observations (host, time, id);
    CREATE TABLE policy_versions (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, time bigint NOT NULL,
        host text NOT NULL, sha256 text NOT NULL, mode text NOT NULL);
    CREATE INDEX policy_versions_host_time ON policy_versions (host, time);
    INSERT INTO schema_version (version) VALUES (1);)";

// INSERT statements (at most `per_statement` rows each) that put `rows` into
// a database of the previous schema: every column of the codec but
// direction, which came after. A row whose rule_kinds_known is false gets a
// NULL rule_refs, as SQLite schemas 1-2 wrote it (SQLite only).
inline std::string legacy_inserts(std::span<const Observation> rows, std::size_t per_statement = 500) {
    // The legacy schemas end before direction: it and every column after it came later.
    const std::size_t newer = store::column_index("direction");
    std::string columns;
    for (std::size_t i = 0; i < newer; ++i) columns += (columns.empty() ? "" : ", ") + std::string(store::kColumns[i].name);
    std::string sql;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        sql += i % per_statement == 0 ? (i ? ";\nINSERT INTO observations (" : "INSERT INTO observations (") + columns +
                                            ") VALUES\n("
                                      : ",\n(";
        bool first = true;
        store::put_row(rows[i], [&](std::size_t col, const store::Cell& c) {
            const store::Column& column = store::kColumns[col];
            if (col >= newer) return;
            sql += first ? "" : ", ";
            first = false;
            if (column.name == "rule_refs" && !rows[i].rule_kinds_known) sql += "NULL";
            else if (column.type == store::ColumnType::Integer) sql += std::to_string(c.integer);
            else {
                sql += '\'';
                for (char ch : c.text) sql += ch == '\'' ? std::string("''") : std::string(1, ch);
                sql += '\'';
            }
        });
        sql += ')';
    }
    return sql.empty() ? sql : sql + ";";
}

}  // namespace tlspolicy::test
