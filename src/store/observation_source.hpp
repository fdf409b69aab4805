// What `report` reads, whichever store holds it: the observations of a window
// and the policy versions in force during it. One implementation per backend
// (SQLite file, PostgreSQL URL); report does not know which it reads.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/policy.hpp"
#include "store/observation.hpp"
#include "store/summary_sql.hpp"

namespace tlspolicy {

// A policy in force from `time` on at `host`: recorded at start and at every
// reload (SHA-256 of the policy file, hex, and the mode).
struct PolicyVersion {
    std::int64_t time = 0;
    std::string host;
    std::string sha256;
    Mode mode = Mode::Enforce;
    bool operator==(const PolicyVersion&) const = default;
};

// How many rows one summary row stands for, and the first and last of their
// times (a raw row: 1, its time, its time).
struct Weight {
    std::int64_t count = 1, first = 0, last = 0;
};

// What to read of a summary: its rows of the days from since's to until's
// (unix seconds; rows dated later in until's day included), of one host or
// every host (""), added up per bucket.
struct SummaryQuery {
    store::Summary summary = store::Summary::Rules;
    std::int64_t since = 0, until = 0;
    std::string host;
    store::Buckets buckets;
    bool by_host = true;  // false: the hosts' rows added up, o.host left empty
};

class ObservationSource {
public:
    virtual ~ObservationSource() = default;
    // Calls `each` for every observation with since <= time <= until (unix
    // seconds), oldest first, streamed. "" or an error for the operator.
    virtual std::string for_each(std::int64_t since, std::int64_t until,
                                 const std::function<void(const Observation&)>& each) = 0;
    // Whether the summaries can be read; false for a database written by an
    // older release and not yet migrated by this one (report reads the rows).
    virtual bool has_summaries() = 0;
    // Calls `each` once per key of the summary and bucket: `o` holds the
    // facts of the key (the others are left empty), o.time the bucket's start
    // but never before q.since. "" or an error for the operator.
    virtual std::string for_each_summary(const SummaryQuery& q,
                                         const std::function<void(const Observation&, const Weight&)>& each) = 0;
    // The versions recorded in [since, until], plus for each host the last one
    // recorded before `since` (it was still in force), oldest first.
    virtual std::string policy_versions(std::int64_t since, std::int64_t until, std::vector<PolicyVersion>& out) = 0;
};

// `database` as [observations] database gives it: a SQLite path or a
// postgresql:// URL. Null and *error set when it cannot be opened.
std::unique_ptr<ObservationSource> open_observation_source(const std::string& database, std::string* error);

}  // namespace tlspolicy
