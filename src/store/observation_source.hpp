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

class ObservationSource {
public:
    virtual ~ObservationSource() = default;
    // Calls `each` for every observation with since <= time <= until (unix
    // seconds), oldest first, streamed. "" or an error for the operator.
    virtual std::string for_each(std::int64_t since, std::int64_t until,
                                 const std::function<void(const Observation&)>& each) = 0;
    // The versions recorded in [since, until], plus for each host the last one
    // recorded before `since` (it was still in force), oldest first.
    virtual std::string policy_versions(std::int64_t since, std::int64_t until, std::vector<PolicyVersion>& out) = 0;
};

// `database` as [observations] database gives it: a SQLite path or a
// postgresql:// URL. Null and *error set when it cannot be opened.
std::unique_ptr<ObservationSource> open_observation_source(const std::string& database, std::string* error);

}  // namespace tlspolicy
