// The PostgreSQL observation database as `report` reads it: the summaries,
// added up per bucket by the server; rows streamed in time order (report
// --raw, short windows); the policy versions in force during a window.
#include <algorithm>

#include "store/database_url.hpp"
#include "store/observation_backend.hpp"
#include "store/observation_row.hpp"
#include "store/postgres/postgres.hpp"
#include "store/postgres/schema.hpp"

namespace tlspolicy {
namespace {

class PostgresSource final : public ObservationSource {
public:
    PostgresSource(const std::string& url, std::chrono::milliseconds timeout)
        : name_(redact_database(url)), db_(url, timeout) {}

    bool open(std::string* error) {
        if (!db_.connect(error)) {
            *error = name_ + ": cannot connect: " + *error;
            return false;
        }
        // One report, one session: room to add a year of summary rows up in
        // memory rather than in temporary files.
        return db_.exec("SET work_mem = '256MB'", error) && store::postgres_inspect(db_, name_, &version_, error);
    }

    std::string for_each(std::int64_t since, std::int64_t until,
                         const std::function<void(const Observation&)>& each) override {
        if (version_ == 0) return "";  // nothing written yet
        std::string error;
        Observation o;
        if (!db_.stream("SELECT " + store::column_list() + " FROM observations WHERE time BETWEEN $1 AND $2 ORDER BY time, id",
                        {std::to_string(since), std::to_string(until)},
                        [&](const pg::Result& row) {
                            store::get_columns(store::all_columns(), pg::ResultRow{row, 0}, o);
                            each(o);
                        },
                        &error))
            return name_ + ": reading observations failed: " + error;
        return "";
    }

    bool has_summaries() override {
        if (version_ == 0) return true;  // nothing written yet: no rows either way
        bool current = false;
        std::string error;
        return store::postgres_summaries_current(db_, &current, &error) && current;
    }

    std::string for_each_summary(const SummaryQuery& q,
                                 const std::function<void(const Observation&, const Weight&)>& each) override {
        if (version_ == 0) return "";
        const std::span<const std::size_t> key = store::selected_key(q.summary, q.by_host);
        std::vector<std::string> params{std::to_string(q.since - q.since % 86400), std::to_string(q.until)};
        if (!q.host.empty()) params.push_back(q.host);
        const int bucket = q.buckets.kind == store::Buckets::Kind::One ? -1 : static_cast<int>(key.size());
        const int sums = static_cast<int>(key.size()) + (bucket < 0 ? 0 : 1);
        std::string error;
        if (!db_.stream(store::select_summary(store::Dialect::Postgres, q.summary, q.buckets, !q.host.empty(), q.by_host),
                        params,
                        [&](const pg::Result& row) {
                            Observation o;
                            store::get_columns(key, pg::ResultRow{row, 0}, o);
                            o.time = bucket < 0 ? q.since : std::max(q.since, row.integer(0, bucket));
                            each(o, Weight{row.integer(0, sums), row.integer(0, sums + 1), row.integer(0, sums + 2)});
                        },
                        &error))
            return name_ + ": reading the summary failed: " + error;
        return "";
    }

    std::string policy_versions(std::int64_t since, std::int64_t until, std::vector<PolicyVersion>& out) override {
        out.clear();
        if (version_ == 0) return "";
        pg::Result r;
        std::string error;
        // In the window, and per host the last one before it (still in force at its start).
        if (!db_.exec("SELECT time, host, sha256, mode FROM ("
                      " SELECT id, time, host, sha256, mode FROM policy_versions WHERE time BETWEEN $1 AND $2"
                      " UNION ALL"
                      " SELECT * FROM (SELECT DISTINCT ON (host) id, time, host, sha256, mode FROM policy_versions"
                      "  WHERE time < $1 ORDER BY host, time DESC, id DESC) AS before_window"
                      ") AS v ORDER BY time, id",
                      {std::to_string(since), std::to_string(until)}, &r, &error))
            return name_ + ": reading policy versions failed: " + error;
        for (int i = 0; i < r.rows(); ++i)
            out.push_back({r.integer(i, 0), r.text(i, 1), r.text(i, 2), from_word<Mode>(r.text(i, 3)).value_or(Mode::Enforce)});
        return "";
    }

private:
    const std::string name_;
    pg::Conn db_;
    int version_ = 0;
};

}  // namespace

std::unique_ptr<ObservationSource> open_postgres_source(const std::string& url, std::string* error) {
    // Generous: a report over a year may wait for the server's first row;
    // a server that hangs still ends it.
    auto source = std::make_unique<PostgresSource>(url, std::chrono::minutes(2));
    std::string why;
    if (source->open(&why)) return source;
    if (error) *error = why;
    return nullptr;
}

}  // namespace tlspolicy
