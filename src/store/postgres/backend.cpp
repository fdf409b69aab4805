// The PostgreSQL observation database as the writer thread fills it: batched
// multi-row INSERTs, one transaction per batch. The reader is source.cpp.
#include <algorithm>

#include "store/database_url.hpp"
#include "store/observation_backend.hpp"
#include "store/observation_row.hpp"
#include "store/postgres/postgres.hpp"
#include "store/postgres/schema.hpp"

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
        : name_(redact_database(url)), db_(url, timeout) {}

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
                              {std::to_string(v.time), v.host, v.sha256, std::string(word(v.mode))}, nullptr,
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

}  // namespace

std::unique_ptr<ObservationBackend> make_postgres_backend(const std::string& url, std::chrono::milliseconds timeout) {
    return std::make_unique<PostgresBackend>(url, timeout);
}

}  // namespace tlspolicy
