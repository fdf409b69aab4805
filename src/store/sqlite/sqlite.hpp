// A thin RAII layer over the SQLite C API, for src/store/ only (the one place
// that talks to SQLite): a connection, a prepared statement, and errors as text.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "store/observation_row.hpp"

namespace tlspolicy::sqlite {

struct CloseDb {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

// Opens `path` with SQLITE_OPEN_* `flags`; null with *error set on failure.
Db open(const std::string& path, int flags, std::string* error);

// Runs one or more statements without results; false with *error set.
bool exec(sqlite3* db, std::string_view sql, std::string* error);

// The first column of the first row of `sql`, e.g. a PRAGMA's value.
std::int64_t query_int(sqlite3* db, const char* sql, std::int64_t fallback);

// "disk I/O error (code 10)": what the last call on `db` failed with.
std::string last_error(sqlite3* db);

class Stmt {
public:
    Stmt(sqlite3* db, std::string_view sql);  // check ok() before use
    ~Stmt() { sqlite3_finalize(stmt_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    bool ok() const { return stmt_ != nullptr; }
    void bind(int index, std::string_view text);
    void bind(int index, std::int64_t value);
    int step() { return sqlite3_step(stmt_); }  // SQLITE_ROW, SQLITE_DONE or an error
    void reset() { sqlite3_reset(stmt_); sqlite3_clear_bindings(stmt_); }
    std::string text(int column) const;
    // Column `column` of the current row; a text is valid until the next step.
    store::Cell cell(int column) const;
    std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
    bool null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

private:
    sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace tlspolicy::sqlite
