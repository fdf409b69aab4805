// A thin layer over libpq, for src/store/ only: a connection whose every
// query has a deadline (a hung server must not hold the writer thread), text
// parameters, results as text. This file and postgres.cpp are the only ones
// that know libpq; its header is included by postgres.cpp alone.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/observation_row.hpp"

struct pg_conn;
struct pg_result;

namespace tlspolicy::pg {

struct ClearResult {
    void operator()(pg_result* r) const noexcept;
};

// The rows of one answer, or one row of a streamed answer.
class Result {
public:
    Result() = default;
    explicit Result(pg_result* r) : r_(r) {}
    int rows() const;
    std::string text(int row, int column) const;
    std::int64_t integer(int row, int column) const;  // 0 for NULL or not a number
    bool null(int row, int column) const;
    // A field as the row codec reads it; its text lives as long as this Result.
    store::Cell cell(int row, int column) const;

private:
    std::unique_ptr<pg_result, ClearResult> r_;
};

// Row `row` of a Result as store::get_columns reads it: columns from `first` on.
struct ResultRow {
    const Result& r;
    int row = 0;
    int first = 0;
    store::Cell operator()(std::size_t i) const { return r.cell(row, first + static_cast<int>(i)); }
};

class Conn {
public:
    // `url`: a postgresql:// URL (libpq's syntax, parameters included). Each
    // connect and each query waits at most `timeout`.
    Conn(std::string url, std::chrono::milliseconds timeout);
    ~Conn();
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;

    // Connects; false with *error set. Closes a previous connection first.
    bool connect(std::string* error);
    bool connected() const;
    void close();

    // Runs `sql` ($1, $2, ... take `params`); false with *error set. A
    // timeout or a broken connection closes the connection.
    bool exec(const std::string& sql, const std::vector<std::string>& params, Result* out, std::string* error);
    bool exec(const std::string& sql, std::string* error) { return exec(sql, {}, nullptr, error); }
    // Prepares `sql` as statement `name` on this connection (gone with it).
    bool prepare(const std::string& name, const std::string& sql, std::string* error);
    // Runs the prepared statement `name`, as exec() runs a query.
    bool exec_prepared(const std::string& name, const std::vector<std::string>& params, Result* out, std::string* error);
    // The same, handing the rows to `each` one at a time (single-row mode):
    // for answers too big to hold.
    bool stream(const std::string& sql, const std::vector<std::string>& params,
                const std::function<void(const Result& row)>& each, std::string* error);

    // The time each query may take from now on (a migration takes longer
    // than the writer's usual bound).
    std::chrono::milliseconds timeout() const { return timeout_; }
    void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }

private:
    bool send(const std::string& sql, const std::vector<std::string>& params, bool single_row, std::string* error);
    bool finish(Result* out, std::string* error);  // the results of what was sent, as exec() returns them
    pg_result* next(std::chrono::steady_clock::time_point deadline, std::string* error);
    bool lost(std::string* error, const std::string& what);

    const std::string url_;
    std::chrono::milliseconds timeout_;
    pg_conn* conn_ = nullptr;
};

}  // namespace tlspolicy::pg
