#include "store/policy_hosts.hpp"

#include <unistd.h>

#include <algorithm>
#include <climits>

namespace tlspolicy {
namespace {

std::string this_hostname() {
    char buf[HOST_NAME_MAX + 1] = {};
    if (gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
    return buf;
}

}  // namespace

PolicyHosts::PolicyHosts(std::string fixed, std::chrono::milliseconds wait, std::function<std::string()> hostname)
    : fixed_(std::move(fixed)), wait_(wait), hostname_(hostname ? std::move(hostname) : this_hostname) {}

void PolicyHosts::add(PolicyVersion v, Clock::time_point now) { waiting_.push_back({std::move(v), now + wait_}); }

void PolicyHosts::resolve(const ObservationBatch& batch, Clock::time_point now, bool stopping,
                          std::vector<PolicyVersion>& ready) {
    for (const Observation& o : batch)
        if (!o.host.empty()) {
            seen_ = o.host;
            if (!waiting_.empty()) break;  // the first one that brings it names the versions waiting
        }
    for (auto it = waiting_.begin(); it != waiting_.end();) {
        PolicyVersion& v = it->version;
        if (!fixed_.empty()) v.host = fixed_;
        else if (v.host.empty() && !seen_.empty()) v.host = seen_;
        else if (v.host.empty() && (stopping || now >= it->deadline)) v.host = hostname_();
        if (v.host.empty()) {
            ++it;
            continue;
        }
        ready.push_back(std::move(v));
        it = waiting_.erase(it);
    }
}

std::optional<PolicyHosts::Clock::time_point> PolicyHosts::next_deadline() const {
    if (waiting_.empty()) return std::nullopt;
    Clock::time_point t = waiting_.front().deadline;
    for (const Waiting& w : waiting_) t = std::min(t, w.deadline);
    return t;
}

}  // namespace tlspolicy
