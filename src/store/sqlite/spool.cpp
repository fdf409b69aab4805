// The spool: a SQLite observation database used as a queue on disk.
#include "store/sqlite/spool.hpp"

#include "store/observation_row.hpp"
#include "store/sqlite/backend.hpp"
#include "store/sqlite/schema.hpp"
#include "store/spool_claim.hpp"

namespace tlspolicy {
bool SqliteSpool::open(std::string* error) {
    if (db_) return true;
    db_ = store::open_for_writing(path_, error, "spool");
    if (!db_) return false;
    rows_ = static_cast<std::size_t>(sqlite::query_int(db_.get(), "SELECT count(*) FROM observations", 0));
    policies_ = static_cast<std::size_t>(sqlite::query_int(db_.get(), "SELECT count(*) FROM policy_versions", 0));
    return true;
}

bool SqliteSpool::fail(std::string* error) {
    *error = path_ + ": " + sqlite::last_error(db_.get());
    std::string ignored;
    sqlite::exec(db_.get(), "ROLLBACK", &ignored);
    db_.reset();  // reopened (and recounted) on the next use
    return false;
}

bool SqliteSpool::append(const ObservationBatch& batch, std::size_t* appended, std::string* error) {
    *appended = 0;
    const std::size_t room = max_rows_ > rows_ ? max_rows_ - rows_ : 0;
    const std::size_t n = std::min(room, batch.size());
    if (n == 0) return true;
    std::string ignored;
    std::int64_t first = 0;
    store::RowInserter rows(db_.get());
    if (!sqlite::exec(db_.get(), "BEGIN", &ignored) || !rows.insert(batch, n, &first) ||
        !sqlite::exec(db_.get(), "COMMIT", &ignored))
        return fail(error);
    rows_ += n;
    *appended = n;
    return true;
}

bool SqliteSpool::append(const std::vector<PolicyVersion>& versions, std::string* error) {
    std::string ignored;
    if (!sqlite::exec(db_.get(), "BEGIN", &ignored) || !store::insert_policies(db_.get(), versions) ||
        !sqlite::exec(db_.get(), "COMMIT", &ignored))
        return fail(error);
    policies_ += versions.size();
    return true;
}

bool SqliteSpool::oldest(std::size_t limit, ObservationBatch& out, std::int64_t* last_id, std::string* error) {
    out.clear();
    sqlite::Stmt s(db_.get(), "SELECT id, " + store::column_list() + " FROM observations ORDER BY id LIMIT ?1");
    if (!s.ok()) return fail(error);
    s.bind(1, static_cast<std::int64_t>(limit));
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        *last_id = s.integer(0);
        store::get_columns(store::all_columns(), store::SqliteRow{s, 1}, out.emplace_back());
    }
    return rc == SQLITE_DONE || fail(error);
}

bool SqliteSpool::remove_through(std::int64_t last_id, std::size_t count, std::string* error) {
    sqlite::Stmt del(db_.get(), "DELETE FROM observations WHERE id <= ?1");
    if (!del.ok()) return fail(error);
    del.bind(1, last_id);
    if (del.step() != SQLITE_DONE) return fail(error);
    rows_ -= std::min(rows_, count);
    return true;
}

bool SqliteSpool::policies(std::vector<PolicyVersion>& out, std::int64_t* last_id, std::string* error) {
    out.clear();
    sqlite::Stmt s(db_.get(), "SELECT id, time, host, sha256, mode FROM policy_versions ORDER BY id");
    if (!s.ok()) return fail(error);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        *last_id = s.integer(0);
        out.push_back({s.integer(1), s.text(2), s.text(3), from_word<Mode>(s.text(4)).value_or(Mode::Enforce)});
    }
    return rc == SQLITE_DONE || fail(error);
}

bool SqliteSpool::remove_policies_through(std::int64_t last_id, std::string* error) {
    sqlite::Stmt del(db_.get(), "DELETE FROM policy_versions WHERE id <= ?1");
    if (!del.ok()) return fail(error);
    del.bind(1, last_id);
    if (del.step() != SQLITE_DONE) return fail(error);
    policies_ = 0;
    return true;
}

std::string spool_file_problem(const std::string& path) {
    bool empty = false;
    int version = 0;
    std::string error;
    return store::open_for_reading(path, &empty, &version, &error, "spool") ? "" : error;
}

std::unique_ptr<Spool> make_spool(std::string path, std::size_t max_rows) {
    return std::make_unique<SqliteSpool>(std::move(path), max_rows);
}

}  // namespace tlspolicy
