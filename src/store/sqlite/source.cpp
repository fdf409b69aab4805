// The SQLite observation database as `report` reads it (read-only).
#include "store/sqlite/source.hpp"

#include "store/observation_backend.hpp"

#include "store/observation_row.hpp"
#include "store/sqlite/schema.hpp"
#include "store/sqlite/backend.hpp"

namespace tlspolicy {
namespace {

// kRowColumnList for a file of schema `version`: columns added later read as
// their defaults (schema 1: no certificate; schemas 1-2: no kinds, no host).
std::string columns(int version) {
    std::string cols = store::kRowColumnList;
    auto replace = [&](const std::string& from, const std::string& to) { cols.replace(cols.find(from), from.size(), to); };
    if (version < 2) replace("cert_status, cert_subject, cert_issuer", "'none', '', ''");
    if (version < 3) replace("rule_refs, host", "NULL, ''");
    return cols;
}

}  // namespace

std::string for_each_observation(const std::string& path, std::int64_t since, std::int64_t until,
                                 const std::function<void(const Observation&)>& each) {
    std::string error;
    bool empty = false;
    int version = 0;
    sqlite::Db db = store::open_for_reading(path, &empty, &version, &error);
    if (!db || empty) return error;
    sqlite::Stmt s(db.get(), "SELECT " + columns(version) + " FROM observations WHERE time BETWEEN ?1 AND ?2 ORDER BY time, id");
    if (!s.ok()) return path + ": " + sqlite::last_error(db.get());
    s.bind(1, since);
    s.bind(2, until);
    int rc;
    Observation o;
    while ((rc = s.step()) == SQLITE_ROW) {
        store::get_row(store::SqliteRow{s, 0}, o);
        each(o);
    }
    if (rc != SQLITE_DONE) return path + ": reading observations failed: " + sqlite::last_error(db.get());
    return "";
}

ObservationRows read_observations(const std::string& path, std::int64_t since, std::int64_t until) {
    ObservationRows out;
    out.error = for_each_observation(path, since, until, [&](const Observation& o) { out.rows.push_back(o); });
    return out;
}

std::string read_policy_versions(const std::string& path, std::int64_t since, std::int64_t until,
                                 std::vector<PolicyVersion>& out) {
    out.clear();
    std::string error;
    bool empty = false;
    int version = 0;
    sqlite::Db db = store::open_for_reading(path, &empty, &version, &error);
    if (!db || empty || version < 3) return error;  // schemas 1-2 recorded none
    // In the window, and per host the last one before it (still in force at its start).
    sqlite::Stmt s(db.get(),
                   "SELECT time, host, sha256, mode FROM ("
                   " SELECT id, time, host, sha256, mode FROM policy_versions WHERE time BETWEEN ?1 AND ?2"
                   " UNION ALL"
                   " SELECT id, time, host, sha256, mode FROM policy_versions p WHERE id = (SELECT q.id FROM"
                   "  policy_versions q WHERE q.host = p.host AND q.time < ?1 ORDER BY q.time DESC, q.id DESC LIMIT 1)"
                   ") ORDER BY time, id");
    if (!s.ok()) return path + ": " + sqlite::last_error(db.get());
    s.bind(1, since);
    s.bind(2, until);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        out.push_back({s.integer(0), s.text(1), s.text(2), from_word<Mode>(s.text(3)).value_or(Mode::Enforce)});
    if (rc != SQLITE_DONE) return path + ": reading policy versions failed: " + sqlite::last_error(db.get());
    return "";
}

namespace {

class SqliteSource final : public ObservationSource {
public:
    explicit SqliteSource(std::string path) : path_(std::move(path)) {}
    std::string for_each(std::int64_t since, std::int64_t until,
                         const std::function<void(const Observation&)>& each) override {
        return for_each_observation(path_, since, until, each);
    }
    std::string policy_versions(std::int64_t since, std::int64_t until, std::vector<PolicyVersion>& out) override {
        return read_policy_versions(path_, since, until, out);
    }

private:
    std::string path_;
};

}  // namespace

std::unique_ptr<ObservationSource> open_sqlite_source(const std::string& path) {
    return std::make_unique<SqliteSource>(path);
}

}  // namespace tlspolicy
