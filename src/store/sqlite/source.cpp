// The SQLite observation database as `report` reads it (read-only).
#include "store/sqlite/source.hpp"

#include <algorithm>

#include "store/observation_backend.hpp"
#include "store/observation_row.hpp"
#include "store/sqlite/schema.hpp"
#include "store/sqlite/backend.hpp"

namespace tlspolicy {
std::string for_each_observation(const std::string& path, std::int64_t since, std::int64_t until,
                                 const std::function<void(const Observation&)>& each) {
    std::string error;
    bool empty = false;
    int version = 0;
    sqlite::Db db = store::open_for_reading(path, &empty, &version, &error);
    if (!db || empty) return error;
    sqlite::Stmt s(db.get(), "SELECT " + store::raw_select_list(db.get()) +
                                 " FROM observations WHERE time BETWEEN ?1 AND ?2 ORDER BY time, id");
    if (!s.ok()) return path + ": " + sqlite::last_error(db.get());
    s.bind(1, since);
    s.bind(2, until);
    int rc;
    Observation o;
    while ((rc = s.step()) == SQLITE_ROW) {
        store::get_columns(store::all_columns(), store::SqliteRow{s, 0}, o);
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

std::string for_each_summary_row(const std::string& path, const SummaryQuery& q,
                                 const std::function<void(const Observation&, const Weight&)>& each) {
    std::string error;
    bool empty = false;
    int version = 0;
    sqlite::Db db = store::open_for_reading(path, &empty, &version, &error);
    if (!db || empty) return error;
    const std::span<const std::size_t> key = store::selected_key(q.summary, q.by_host);
    sqlite::Stmt s(db.get(),
                   store::select_summary(store::Dialect::Sqlite, q.summary, q.buckets, !q.host.empty(), q.by_host));
    if (!s.ok()) return path + ": " + sqlite::last_error(db.get());
    s.bind(1, q.since - q.since % 86400);
    s.bind(2, q.until);
    if (!q.host.empty()) s.bind(3, q.host);
    const int bucket = q.buckets.kind == store::Buckets::Kind::One ? -1 : static_cast<int>(key.size());
    const int sums = static_cast<int>(key.size()) + (bucket < 0 ? 0 : 1);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        Observation o;
        store::get_columns(key, store::SqliteRow{s, 0}, o);
        o.time = bucket < 0 ? q.since : std::max(q.since, s.integer(bucket));
        each(o, Weight{s.integer(sums), s.integer(sums + 1), s.integer(sums + 2)});
    }
    if (rc != SQLITE_DONE) return path + ": reading the summary failed: " + sqlite::last_error(db.get());
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
    bool has_summaries() override {
        std::string error;
        bool empty = false;
        int version = 0;
        sqlite::Db db = store::open_for_reading(path_, &empty, &version, &error);
        return db && (empty || store::summaries_current(db.get()));
    }
    std::string for_each_summary(const SummaryQuery& q,
                                 const std::function<void(const Observation&, const Weight&)>& each) override {
        return for_each_summary_row(path_, q, each);
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
