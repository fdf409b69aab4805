// The PostgreSQL observation database, both ways: the writer backend (batched
// multi-row INSERTs in one transaction) and the reader behind `report`.
#include <algorithm>

#include "store/observation_backend.hpp"
#include "store/observation_row.hpp"
#include "store/postgres.hpp"
#include "store/postgres_schema.hpp"

namespace tlspolicy {
namespace {

// PostgreSQL takes at most 65535 parameters per statement.
constexpr std::size_t kRowsPerInsert = 65535 / store::kRowColumns;

std::string placeholders(std::size_t rows, int columns) {
    std::string sql;
    int n = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        sql += r ? ",(" : "(";
        for (int c = 0; c < columns; ++c) sql += (c ? ",$" : "$") + std::to_string(++n);
        sql += ')';
    }
    return sql;
}

class PostgresBackend final : public ObservationBackend {
public:
    PostgresBackend(const std::string& url, std::chrono::milliseconds timeout)
        : name_(pg::redact_url(url)), db_(url, timeout) {}

    const std::string& name() const override { return name_; }
    bool remote() const override { return true; }

    bool open(std::string* error) override {
        if (!db_.connect(error)) {
            *error = name_ + ": cannot connect: " + *error;
            return false;
        }
        if (store::postgres_migrate(db_, name_, error)) return true;
        db_.close();
        return false;
    }

    bool still_open(std::string*) override { return db_.connected(); }
    void close() override { db_.close(); }

    bool write(const ObservationBatch& batch, std::string* error) override {
        return transaction(error, [&] {
            std::vector<std::string> params;
            for (std::size_t first = 0; first < batch.size(); first += kRowsPerInsert) {
                const std::size_t n = std::min(kRowsPerInsert, batch.size() - first);
                params.clear();
                params.reserve(n * store::kRowColumns);
                for (std::size_t i = first; i < first + n; ++i)
                    store::put_row(batch[i], [&](int, auto value) {
                        if constexpr (std::is_same_v<decltype(value), std::int64_t>) params.push_back(std::to_string(value));
                        else params.emplace_back(value);
                    });
                if (!db_.exec(std::string("INSERT INTO observations (") + store::kRowColumnList + ") VALUES " +
                                  placeholders(n, store::kRowColumns),
                              params, nullptr, error))
                    return false;
            }
            return true;
        });
    }

    bool record_policies(const std::vector<PolicyVersion>& versions, std::string* error) override {
        return transaction(error, [&] {
            for (const PolicyVersion& v : versions)
                if (!db_.exec("INSERT INTO policy_versions (time, host, sha256, mode) VALUES ($1, $2, $3, $4)",
                              {std::to_string(v.time), v.host, v.sha256, std::string(mode_name(v.mode))}, nullptr,
                              error))
                    return false;
            return true;
        });
    }

    bool purge(std::int64_t before, std::string* error) override {
        return db_.exec("DELETE FROM observations WHERE time < $1", {std::to_string(before)}, nullptr, error);
    }

private:
    template <class Body>
    bool transaction(std::string* error, Body&& body) {
        if (db_.exec("BEGIN", error) && body() && db_.exec("COMMIT", error)) return true;
        std::string ignored;
        if (db_.connected()) db_.exec("ROLLBACK", &ignored);
        return false;
    }

    const std::string name_;
    pg::Conn db_;
};

class PostgresSource final : public ObservationSource {
public:
    PostgresSource(const std::string& url, std::chrono::milliseconds timeout)
        : name_(pg::redact_url(url)), db_(url, timeout) {}

    bool open(std::string* error) {
        if (!db_.connect(error)) {
            *error = name_ + ": cannot connect: " + *error;
            return false;
        }
        return store::postgres_inspect(db_, name_, &version_, error);
    }

    std::string for_each(std::int64_t since, std::int64_t until,
                         const std::function<void(const Observation&)>& each) override {
        if (version_ == 0) return "";  // nothing written yet
        std::string error;
        Observation o;
        if (!db_.stream(std::string("SELECT ") + store::kRowColumnList +
                            " FROM observations WHERE time BETWEEN $1 AND $2 ORDER BY time, id",
                        {std::to_string(since), std::to_string(until)},
                        [&](const pg::Result& row) {
                            store::get_row(pg::ResultRow{row, 0}, o);
                            each(o);
                        },
                        &error))
            return name_ + ": reading observations failed: " + error;
        return "";
    }

    std::string policy_versions(std::int64_t since, std::int64_t until, std::vector<PolicyVersion>& out) override {
        out.clear();
        if (version_ == 0) return "";
        pg::Result r;
        std::string error;
        // In the window, and per host the last one before it (still in force at its start).
        if (!db_.exec("SELECT time, host, sha256, mode FROM ("
                      " SELECT id, time, host, sha256, mode FROM policy_versions WHERE time BETWEEN $1 AND $2"
                      " UNION ALL"
                      " SELECT * FROM (SELECT DISTINCT ON (host) id, time, host, sha256, mode FROM policy_versions"
                      "  WHERE time < $1 ORDER BY host, time DESC, id DESC) AS before_window"
                      ") AS v ORDER BY time, id",
                      {std::to_string(since), std::to_string(until)}, &r, &error))
            return name_ + ": reading policy versions failed: " + error;
        for (int i = 0; i < r.rows(); ++i)
            out.push_back({r.integer(i, 0), r.text(i, 1), r.text(i, 2), parse_mode(r.text(i, 3)).value_or(Mode::Enforce)});
        return "";
    }

private:
    const std::string name_;
    pg::Conn db_;
    int version_ = 0;
};

}  // namespace

std::unique_ptr<ObservationBackend> make_postgres_backend(const std::string& url, std::chrono::milliseconds timeout) {
    return std::make_unique<PostgresBackend>(url, timeout);
}

std::unique_ptr<ObservationSource> open_postgres_source(const std::string& url, std::string* error) {
    // Generous: a report over a year may wait for the server's first row;
    // a server that hangs still ends it.
    auto source = std::make_unique<PostgresSource>(url, std::chrono::minutes(2));
    std::string why;
    if (source->open(&why)) return source;
    if (error) *error = why;
    return nullptr;
}

}  // namespace tlspolicy
