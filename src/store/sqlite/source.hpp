// Reading the SQLite observation database back, for `report`: read-only, so a report
// never creates, migrates or locks out the daemon's database.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/observation.hpp"
#include "store/observation_source.hpp"

namespace tlspolicy {

// Calls `each` for every observation with since <= time <= until (unix
// seconds), oldest first, equal times in the order they were written. Rows are
// streamed, not collected: 90 days of a busy MX do not fit in memory twice.
// Returns "" or an error that names the file and what to do.
std::string for_each_observation(const std::string& path, std::int64_t since, std::int64_t until,
                                 const std::function<void(const Observation&)>& each);

struct ObservationRows {
    std::vector<Observation> rows;
    std::string error;
    bool ok() const { return error.empty(); }
};

// The same, collected: for tests and small windows.
ObservationRows read_observations(const std::string& path, std::int64_t since, std::int64_t until);

// The rows of a summary as ObservationSource::for_each_summary defines them.
std::string for_each_summary_row(const std::string& path, const SummaryQuery& q,
                                 const std::function<void(const Observation&, const Weight&)>& each);

// The policy versions as ObservationSource::policy_versions defines them.
std::string read_policy_versions(const std::string& path, std::int64_t since, std::int64_t until,
                                 std::vector<PolicyVersion>& out);

}  // namespace tlspolicy
