// The PostgreSQL observation database as the writer thread fills it. A batch
// is one prepared statement, one round trip, between BEGIN and COMMIT: its
// rows arrive as one array per column (unnest), and the same statement
// inserts them, raises each summary by them and moves an ingest's position,
// all or nothing. The month
// partitions a batch needs are made before it (and the next month's ahead,
// at open and at each retention run). The reader is source.cpp.
#include <ctime>
#include <set>

#include "store/database_url.hpp"
#include "store/observation_backend.hpp"
#include "store/observation_row.hpp"
#include "store/postgres/postgres.hpp"
#include "store/postgres/schema.hpp"
#include "store/summary_sql.hpp"

namespace tlspolicy {
namespace {

constexpr const char* kBatch = "tlspolicy_batch";

// The batch statement: $1..$N the columns' arrays, then the ingest position
// (source, position, time; an empty source: none).
std::string batch_sql() {
    using namespace store;
    std::string arrays, names;
    for (std::size_t i = 0; i < kColumnCount; ++i) {
        arrays += (i ? ", $" : "$") + std::to_string(i + 1) +
                  (kColumns[i].type == ColumnType::Integer ? "::bigint[]" : "::text[]");
        names += (i ? ", " : "") + std::string(kColumns[i].name);
    }
    const std::string pos = std::to_string(kColumnCount + 1);
    std::string sql = "WITH r AS (SELECT * FROM unnest(" + arrays + ") AS r(" + names + ")), ins AS (INSERT INTO observations (" +
                      names + ") SELECT " + names + " FROM r)";
    for (Summary s : kSummaries)
        sql += ", s" + std::to_string(static_cast<int>(s)) + " AS (" + upsert_summary(Dialect::Postgres, s, "r") + ")";
    return sql + " INSERT INTO ingest_positions AS p (source, position, time) SELECT $" + pos + "::text, $" +
           std::to_string(kColumnCount + 2) + "::text, $" + std::to_string(kColumnCount + 3) + "::bigint WHERE $" + pos +
           "::text <> '' ON CONFLICT (source) DO UPDATE SET position = excluded.position, time = excluded.time";
}

// One column of a batch as a PostgreSQL array literal: {1,2} or {"a","b\"c"}.
class ArrayText {
public:
    void add(std::int64_t v) { sep() += std::to_string(v); }
    void add(std::string_view t) {
        std::string& out = sep();
        out += '"';
        for (char c : t) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    std::string take() { return std::move(text_ += '}'); }

private:
    std::string& sep() { return text_ += text_.size() > 1 ? "," : ""; }
    std::string text_ = "{";
};

class PostgresBackend final : public ObservationBackend {
public:
    PostgresBackend(const std::string& url, std::chrono::milliseconds timeout)
        : name_(redact_database(url)), db_(url, timeout) {}

    const std::string& name() const override { return name_; }
    bool remote() const override { return true; }

    bool open(std::string* error) override {
        months_.clear();
        if (!db_.connect(error)) {
            *error = name_ + ": cannot connect: " + *error;
            return false;
        }
        if (store::postgres_migrate(db_, name_, error) && db_.prepare(kBatch, batch_sql(), error) && months_ahead(error))
            return true;
        if (error->find(name_) == std::string::npos) *error = name_ + ": " + *error;
        db_.close();
        return false;
    }

    bool still_open(std::string*) override { return db_.connected(); }
    void close() override { db_.close(); }

    bool write(const ObservationBatch& batch, const IngestPosition* position, std::string* error) override {
        std::set<std::int64_t> months;
        for (const Observation& o : batch) months.insert(day_month(o.time));
        if (!have_months(months, error)) return false;
        std::vector<ArrayText> columns(store::kColumnCount);
        for (const Observation& o : batch)
            store::put_row(o, [&](std::size_t col, const store::Cell& c) {
                if (store::kColumns[col].type == store::ColumnType::Integer) columns[col].add(c.integer);
                else columns[col].add(c.text);
            });
        std::vector<std::string> params;
        params.reserve(store::kColumnCount + 3);
        for (ArrayText& c : columns) params.push_back(c.take());
        params.push_back(position ? position->source : "");
        params.push_back(position ? position->position : "");
        params.push_back(std::to_string(position ? position->time : 0));
        // In a transaction of its own although the statement is atomic alone:
        // COMMIT is sent only once the statement succeeded, so a batch whose
        // answer timed out (a hung server) is rolled back when the connection
        // closes, never committed later beside its resent copy.
        if (transaction(error, [&] { return db_.exec_prepared(kBatch, params, nullptr, error); })) return true;
        months_.clear();  // a month dropped meanwhile (retention) is made again on the next try
        return false;
    }

    bool ingest_position(const std::string& source, IngestPosition* out, bool* found, std::string* error) override {
        pg::Result r;
        if (!db_.exec("SELECT position, time FROM ingest_positions WHERE source = $1", {source}, &r, error)) return false;
        *found = r.rows() > 0;
        if (*found) *out = {source, r.text(0, 0), r.integer(0, 1)};
        return true;
    }

    bool record_policies(const std::vector<PolicyVersion>& versions, std::string* error) override {
        return transaction(error, [&] {
            for (const PolicyVersion& v : versions)
                if (!db_.exec("INSERT INTO policy_versions (time, host, sha256, mode) VALUES ($1, $2, $3, $4)",
                              {std::to_string(v.time), v.host, v.sha256, std::string(word(v.mode))}, nullptr,
                              error))
                    return false;
            return true;
        });
    }

    // Retention drops whole months; the writer's periodic run also makes the
    // coming month ahead, so that no batch waits for a partition at midnight.
    bool purge(std::int64_t before, std::string* error) override {
        months_.clear();
        return db_.exec("SELECT tlspolicy_drop_months_before($1)", {std::to_string(before)}, nullptr, error) &&
               months_ahead(error);
    }

private:
    // The month of t, by way of its day (one gmtime per day, not per row).
    std::int64_t day_month(std::int64_t t) {
        const std::int64_t day = t - t % 86400;
        if (day != last_day_) {
            last_day_ = day;
            last_month_ = month_start(day);
        }
        return last_month_;
    }

    bool months_ahead(std::string* error) {
        const std::int64_t now = std::time(nullptr);
        return have_months({month_start(now), month_start(month_start(now) + 32 * 86400)}, error);
    }

    bool have_months(const std::set<std::int64_t>& months, std::string* error) {
        std::string missing;
        for (std::int64_t m : months)
            if (!months_.contains(m)) missing += (missing.empty() ? "" : ",") + std::to_string(m);
        if (missing.empty()) return true;
        if (!db_.exec("SELECT tlspolicy_add_months($1::bigint[])", {"{" + missing + "}"}, nullptr, error)) return false;
        months_.insert(months.begin(), months.end());
        return true;
    }

    template <class Body>
    bool transaction(std::string* error, Body&& body) {
        if (db_.exec("BEGIN", error) && body() && db_.exec("COMMIT", error)) return true;
        std::string ignored;
        if (db_.connected()) db_.exec("ROLLBACK", &ignored);
        return false;
    }

    const std::string name_;
    pg::Conn db_;
    std::set<std::int64_t> months_;  // month partitions known to exist on this connection
    std::int64_t last_day_ = -1, last_month_ = 0;
};

}  // namespace

std::unique_ptr<ObservationBackend> make_postgres_backend(const std::string& url, std::chrono::milliseconds timeout) {
    return std::make_unique<PostgresBackend>(url, timeout);
}

}  // namespace tlspolicy
