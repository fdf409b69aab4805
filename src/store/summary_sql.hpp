// The SQL of the summaries, for both backends, made from the row codec's
// column table (store/observation_row.hpp): each summary's table, the
// upsert that adds a batch of rows to it, the statement that builds it from
// every raw row (migrations), and the query `report` reads it with. Text
// only: the backends run it.
#pragma once
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/observation_row.hpp"

namespace tlspolicy::store {

enum class Dialect : std::uint8_t { Sqlite, Postgres };

// The columns of kColumns in summary s's key, in kColumns' order (time first).
std::span<const std::size_t> summary_key(Summary s);
// What the key column is called in the summary's table: "day" for time.
std::string_view key_name(std::size_t column);
// The key columns as the summary's primary key lists them: day, host, the rest.
std::string primary_key(Summary s);
// Every column of summary s's table: the key's, then n, first_time, last_time.
std::string summary_columns(Summary s);

// A column as CREATE TABLE or ALTER TABLE ... ADD COLUMN spells it.
std::string column_definition(Dialect d, const Column& c);
// CREATE TABLE for summary s; PostgreSQL's is partitioned by month of day.
std::string create_summary(Dialect d, Summary s);

// Adds the rows of `from` (a FROM item with kColumns' names: PostgreSQL's
// batch, or SQLite's rows just inserted) to summary s: one row per key, or
// the key's counts raised. `from` may carry a WHERE.
std::string upsert_summary(Dialect d, Summary s, std::string_view from);
// Fills the empty summary s from every raw row.
std::string build_summary(Summary s);

// The names of summary s's columns, as its table has them.
std::set<std::string> summary_column_names(Summary s);

// What a database lacks against kColumns, from the columns its tables have
// now (an empty set: no such table). Both backends migrate by it.
struct SchemaPlan {
    std::vector<std::size_t> add;       // raw columns to add, with their fill (ALTER TABLE ... ADD COLUMN)
    std::vector<Summary> build;         // summaries to create anew and fill from the raw rows
    std::vector<std::string> unknown;   // columns a newer release made: the database is refused
    bool empty() const { return add.empty() && build.empty(); }
};
SchemaPlan plan_schema(const std::set<std::string>& observations,
                       std::span<const std::set<std::string>, kSummaries.size()> summaries);

// How the report wants the days of a summary added up.
struct Buckets {
    enum class Kind : std::uint8_t { One, Step, Months } kind = Kind::One;
    std::int64_t first = 0, step = 0;  // Step: buckets start at first + k * step
};

// The query `report` reads summary s with: the key without the day (and
// without the host unless `by_host`: the hosts' rows added up), the bucket's
// start, sum(n), min(first_time), max(last_time), in that order, for since <=
// day <= until (parameters 1 and 2) and, with `host`, host = parameter 3.
// Kind::One leaves the bucket out.
std::string select_summary(Dialect d, Summary s, const Buckets& b, bool host, bool by_host = true);
// The key columns select_summary returns, as indices into kColumns.
std::span<const std::size_t> selected_key(Summary s, bool by_host = true);

}  // namespace tlspolicy::store
