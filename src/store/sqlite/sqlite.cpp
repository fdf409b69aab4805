// The RAII layer over SQLite's C API.
#include "store/sqlite/sqlite.hpp"

namespace tlspolicy::sqlite {

Db open(const std::string& path, int flags, std::string* error) {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    Db db(raw);  // closed on every path, even when the open failed
    if (rc != SQLITE_OK) {
        *error = raw ? last_error(raw) : sqlite3_errstr(rc);
        return nullptr;
    }
    sqlite3_extended_result_codes(raw, 1);
    return db;
}

bool exec(sqlite3* db, std::string_view sql, std::string* error) {
    std::string text(sql);
    if (sqlite3_exec(db, text.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK) return true;
    *error = last_error(db);
    return false;
}

std::int64_t query_int(sqlite3* db, const char* sql, std::int64_t fallback) {
    Stmt s(db, sql);
    if (!s.ok() || s.step() != SQLITE_ROW) return fallback;
    return s.integer(0);
}

std::string last_error(sqlite3* db) {
    return std::string(sqlite3_errmsg(db)) + " (code " + std::to_string(sqlite3_extended_errcode(db)) + ")";
}

Stmt::Stmt(sqlite3* db, std::string_view sql) {
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK)
        stmt_ = nullptr;
}

void Stmt::bind(int index, std::string_view text) {
    // An empty view may have no data pointer, which SQLite would bind as NULL.
    sqlite3_bind_text(stmt_, index, text.empty() ? "" : text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

void Stmt::bind(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

std::string Stmt::text(int column) const {
    const unsigned char* p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
}

store::Cell Stmt::cell(int column) const {
    if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return {0, {}, true};
    // The integer first: asking for the text after it leaves both valid.
    const std::int64_t integer = sqlite3_column_int64(stmt_, column);
    const unsigned char* p = sqlite3_column_text(stmt_, column);
    return {integer, {reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))},
            false};
}

}  // namespace tlspolicy::sqlite
