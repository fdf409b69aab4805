// Which host a policy version belongs to. The daemon records a version at
// start and at each reload, usually before any mail came, and only the mail
// says what the MTA calls itself (macro j). So a version waits here for its
// host: [observations] host when set; else the host of the observations, from
// the first one that brings it; else this machine's hostname once `wait` has
// passed, or at stop. Pure bookkeeping with the clock passed in: the store's
// writer asks it once per round and only writes what it hands back.
#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "store/observation_backend.hpp"

namespace tlspolicy {

class PolicyHosts {
public:
    using Clock = std::chrono::steady_clock;

    // `fixed`: [observations] host ("" when unset); `hostname`: gethostname()
    // by default, a test's own otherwise.
    PolicyHosts(std::string fixed, std::chrono::milliseconds wait, std::function<std::string()> hostname = {});

    void add(PolicyVersion v, Clock::time_point now);
    // Gives the waiting versions their host where it is known by now (from
    // `batch`, the next observations written), and moves those to `ready` in
    // the order they were added. `stopping`: none waits any longer.
    void resolve(const ObservationBatch& batch, Clock::time_point now, bool stopping, std::vector<PolicyVersion>& ready);
    // When the first waiting version stops waiting for the mail's host.
    std::optional<Clock::time_point> next_deadline() const;

private:
    struct Waiting {
        PolicyVersion version;
        Clock::time_point deadline;
    };
    const std::string fixed_;
    const std::chrono::milliseconds wait_;
    const std::function<std::string()> hostname_;
    std::string seen_;  // the last host an observation brought
    std::vector<Waiting> waiting_;
};

}  // namespace tlspolicy
