// The SQLite observation database as a writer backend: a local file, so a
// failure drops the batch (the store counts it) and no spool is needed. Each
// batch is one transaction: its rows, then each summary raised by those rows
// (one statement per summary over the rows just inserted), then an ingest's
// position; every statement prepared once per connection.
#include "store/sqlite/backend.hpp"

#include <sys/stat.h>

#include <array>
#include <optional>

#include "store/observation_backend.hpp"
#include "store/observation_row.hpp"
#include "store/sqlite/schema.hpp"
#include "store/summary_sql.hpp"

namespace tlspolicy {

namespace store {

namespace {

std::string insert_sql() {
    std::string sql = "INSERT INTO observations (" + column_list() + ") VALUES (";
    for (std::size_t i = 1; i <= kColumnCount; ++i) sql += (i > 1 ? ", ?" : "?") + std::to_string(i);
    return sql + ")";
}

}  // namespace

RowInserter::RowInserter(sqlite3* db) : db_(db), stmt_(db, insert_sql()) {}

bool RowInserter::insert(const ObservationBatch& batch, std::size_t count, std::int64_t* first_id) {
    bool ok = stmt_.ok();
    for (std::size_t i = 0; ok && i < count && i < batch.size(); ++i) {
        put_row(batch[i], [&](std::size_t col, const Cell& c) {
            const int at = static_cast<int>(col) + 1;
            if (kColumns[col].type == ColumnType::Integer) stmt_.bind(at, c.integer);
            else stmt_.bind(at, c.text);
        });
        ok = stmt_.step() == SQLITE_DONE;
        stmt_.reset();
        if (ok && i == 0) *first_id = sqlite3_last_insert_rowid(db_);
    }
    return ok;
}

bool insert_policies(sqlite3* db, const std::vector<PolicyVersion>& versions) {
    sqlite::Stmt insert(db, "INSERT INTO policy_versions (time, host, sha256, mode) VALUES (?1, ?2, ?3, ?4)");
    bool ok = insert.ok();
    for (std::size_t i = 0; ok && i < versions.size(); ++i) {
        insert.bind(1, versions[i].time);
        insert.bind(2, versions[i].host);
        insert.bind(3, versions[i].sha256);
        insert.bind(4, word(versions[i].mode));
        ok = insert.step() == SQLITE_DONE;
        insert.reset();
    }
    return ok;
}

}  // namespace store

namespace {

// The statements of one connection.
struct Statements {
    explicit Statements(sqlite3* db)
        : rows(db),
          summaries{make(db, store::Summary::Rules), make(db, store::Summary::Domains), make(db, store::Summary::Senders)},
          position(db, "INSERT INTO ingest_positions (source, position, time) VALUES (?1, ?2, ?3)"
                       " ON CONFLICT (source) DO UPDATE SET position = excluded.position, time = excluded.time") {}
    static sqlite::Stmt make(sqlite3* db, store::Summary s) {
        // SQLite writes one transaction at a time: the batch's rows are those from its first id on.
        return sqlite::Stmt(db, store::upsert_summary(store::Dialect::Sqlite, s, "observations WHERE id >= ?1"));
    }
    store::RowInserter rows;
    std::array<sqlite::Stmt, store::kSummaries.size()> summaries;
    sqlite::Stmt position;
};

class SqliteBackend final : public ObservationBackend {
public:
    explicit SqliteBackend(std::string path) : path_(std::move(path)) {}

    const std::string& name() const override { return path_; }
    bool remote() const override { return false; }

    bool open(std::string* error) override {
        stmts_.reset();
        db_ = store::open_for_writing(path_, error);
        struct stat st {};
        if (db_ && stat(path_.c_str(), &st) != 0) {
            db_.reset();
            *error = path_ + ": the database file disappeared right after opening it";
        }
        if (!db_) return false;
        dev_ = st.st_dev;
        ino_ = st.st_ino;
        stmts_.emplace(db_.get());
        return true;
    }

    // SQLite keeps writing to an unlinked file without error: look at the path.
    bool still_open(std::string* why) override {
        if (!db_) return false;
        struct stat st {};
        if (stat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) return true;
        close();
        *why = "the database file was removed or replaced while open";
        return false;
    }

    void close() override {
        stmts_.reset();
        db_.reset();
    }

    bool write(const ObservationBatch& batch, const IngestPosition* position, std::string* error) override {
        return transaction(error, [&] {
            std::int64_t first = 0;
            if (!batch.empty() && !stmts_->rows.insert(batch, batch.size(), &first)) return false;
            for (sqlite::Stmt& s : stmts_->summaries) {
                if (batch.empty()) break;
                s.bind(1, first);
                const bool ok = s.step() == SQLITE_DONE;
                s.reset();
                if (!ok) return false;
            }
            if (!position) return true;
            sqlite::Stmt& p = stmts_->position;
            p.bind(1, position->source);
            p.bind(2, position->position);
            p.bind(3, position->time);
            const bool ok = p.step() == SQLITE_DONE;
            p.reset();
            return ok;
        });
    }

    bool ingest_position(const std::string& source, IngestPosition* out, bool* found, std::string* error) override {
        sqlite::Stmt s(db_.get(), "SELECT position, time FROM ingest_positions WHERE source = ?1");
        if (s.ok()) s.bind(1, source);
        const int rc = s.ok() ? s.step() : SQLITE_ERROR;
        *found = rc == SQLITE_ROW;
        if (*found) *out = {source, s.text(0), s.integer(1)};
        if (rc == SQLITE_ROW || rc == SQLITE_DONE) return true;
        *error = sqlite::last_error(db_.get());
        return false;
    }

    bool record_policies(const std::vector<PolicyVersion>& versions, std::string* error) override {
        return transaction(error, [&] { return store::insert_policies(db_.get(), versions); });
    }

    bool purge(std::int64_t before, std::string* error) override {
        return transaction(error, [&] {
            if (!run(db_.get(), "DELETE FROM observations WHERE time < ?1", before)) return false;
            for (store::Summary s : store::kSummaries)
                if (!run(db_.get(), "DELETE FROM " + std::string(store::summary_table(s)) + " WHERE day < ?1", before))
                    return false;
            return true;
        });
    }

private:
    static bool run(sqlite3* db, const std::string& sql, std::int64_t value) {
        sqlite::Stmt s(db, sql);
        if (!s.ok()) return false;
        s.bind(1, value);
        return s.step() == SQLITE_DONE;
    }

    template <class Body>
    bool transaction(std::string* error, Body&& body) {
        bool ok = sqlite::exec(db_.get(), "BEGIN", error);
        if (ok && !body()) {
            ok = false;
            *error = sqlite::last_error(db_.get());
        }
        ok = ok && sqlite::exec(db_.get(), "COMMIT", error);
        if (!ok) {
            std::string ignored;
            sqlite::exec(db_.get(), "ROLLBACK", &ignored);
        }
        return ok;
    }

    const std::string path_;
    sqlite::Db db_;
    std::optional<Statements> stmts_;  // after db_: finalized before it closes
    std::uint64_t dev_ = 0, ino_ = 0;  // the file db_ has open, to notice it removed or replaced
};

}  // namespace

std::unique_ptr<ObservationBackend> make_sqlite_backend(const std::string& path) {
    return std::make_unique<SqliteBackend>(path);
}

}  // namespace tlspolicy
