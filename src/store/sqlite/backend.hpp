// What the SQLite backend and the spool share (the spool is a SQLite
// observation database too: same schema, same rows).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "store/observation_backend.hpp"
#include "store/sqlite/sqlite.hpp"

namespace tlspolicy::store {

// The row INSERT, prepared once per connection.
class RowInserter {
public:
    explicit RowInserter(sqlite3* db);
    // The first `count` rows of `batch`, inside the caller's transaction;
    // *first_id: the id the first of them got. False on an error, which
    // sqlite::last_error(db) tells.
    bool insert(const ObservationBatch& batch, std::size_t count, std::int64_t* first_id);

private:
    sqlite3* db_;
    sqlite::Stmt stmt_;
};

bool insert_policies(sqlite3* db, const std::vector<PolicyVersion>& versions);

// A selected row as store::get_columns reads it: columns from `first` on.
struct SqliteRow {
    const sqlite::Stmt& s;
    int first = 0;
    Cell operator()(std::size_t i) const { return s.cell(first + static_cast<int>(i)); }
};

}  // namespace tlspolicy::store
