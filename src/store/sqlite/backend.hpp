// Inserts shared by the SQLite backend and the spool, which is a SQLite
// observation database too (same schema, same rows).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "store/observation_backend.hpp"
#include "store/sqlite/sqlite.hpp"

namespace tlspolicy::store {

// The first `count` rows of `batch`, inside the caller's transaction. False
// on an error, which sqlite::last_error(db) tells.
bool insert_observations(sqlite3* db, const ObservationBatch& batch, std::size_t count);
bool insert_policies(sqlite3* db, const std::vector<PolicyVersion>& versions);

// A selected row as store::get_row reads it: columns from `first` on.
struct SqliteRow {
    const sqlite::Stmt& s;
    int first = 0;
    std::string text(int i) const { return s.text(first + i); }
    std::int64_t integer(int i) const { return s.integer(first + i); }
    bool null(int i) const { return s.null(first + i); }
};

}  // namespace tlspolicy::store
