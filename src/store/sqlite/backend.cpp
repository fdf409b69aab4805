// The SQLite observation database as a writer backend: a local file, so a
// failure drops the batch (the store counts it) and no spool is needed.
#include "store/sqlite/backend.hpp"

#include <sys/stat.h>

#include "store/observation_backend.hpp"
#include "store/observation_row.hpp"
#include "store/sqlite/schema.hpp"
#include "store/sqlite/sqlite.hpp"

namespace tlspolicy {

namespace store {

bool insert_observations(sqlite3* db, const ObservationBatch& batch, std::size_t count) {
    std::string sql = std::string("INSERT INTO observations (") + kRowColumnList + ") VALUES (";
    for (int i = 1; i <= kRowColumns; ++i) sql += (i > 1 ? ", ?" : "?") + std::to_string(i);
    sqlite::Stmt insert(db, sql + ")");
    bool ok = insert.ok();
    for (std::size_t i = 0; ok && i < count && i < batch.size(); ++i) {
        put_row(batch[i], [&](int col, auto value) { insert.bind(col + 1, value); });
        ok = insert.step() == SQLITE_DONE;
        insert.reset();
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

class SqliteBackend final : public ObservationBackend {
public:
    explicit SqliteBackend(std::string path) : path_(std::move(path)) {}

    const std::string& name() const override { return path_; }
    bool remote() const override { return false; }

    bool open(std::string* error) override {
        db_ = store::open_for_writing(path_, error);
        struct stat st {};
        if (db_ && stat(path_.c_str(), &st) != 0) {
            db_.reset();
            *error = path_ + ": the database file disappeared right after opening it";
        }
        if (!db_) return false;
        dev_ = st.st_dev;
        ino_ = st.st_ino;
        return true;
    }

    // SQLite keeps writing to an unlinked file without error: look at the path.
    bool still_open(std::string* why) override {
        if (!db_) return false;
        struct stat st {};
        if (stat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) return true;
        db_.reset();
        *why = "the database file was removed or replaced while open";
        return false;
    }

    void close() override { db_.reset(); }

    bool write(const ObservationBatch& batch, std::string* error) override {
        return transaction(error, [&] { return store::insert_observations(db_.get(), batch, batch.size()); });
    }

    bool record_policies(const std::vector<PolicyVersion>& versions, std::string* error) override {
        return transaction(error, [&] { return store::insert_policies(db_.get(), versions); });
    }

    bool purge(std::int64_t before, std::string* error) override {
        sqlite::Stmt del(db_.get(), "DELETE FROM observations WHERE time < ?1");
        if (del.ok()) {
            del.bind(1, before);
            if (del.step() == SQLITE_DONE) return true;
        }
        *error = sqlite::last_error(db_.get());
        return false;
    }

private:
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
    std::uint64_t dev_ = 0, ino_ = 0;  // the file db_ has open, to notice it removed or replaced
};

}  // namespace

std::unique_ptr<ObservationBackend> make_sqlite_backend(const std::string& path) {
    return std::make_unique<SqliteBackend>(path);
}

}  // namespace tlspolicy
