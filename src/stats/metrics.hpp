// Counters for Prometheus (node_exporter's textfile collector): decisions by
// TLS version, cipher, result, action and rule, reloads, dropped observations.
// Counting takes one short lock; the text is rendered only when written.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

#include "core/decision_log.hpp"
#include "store/observation.hpp"

namespace tlspolicy {

class Metrics {
public:
    void count(const Observation& o);
    void count_reload(bool ok);
    // Counters kept by others (the observation store), read when rendering.
    void set_observation_counts(std::uint64_t written, std::uint64_t dropped);

    // Prometheus text exposition format, version 0.0.4.
    std::string render() const;

private:
    static constexpr std::size_t kMaxCiphers = 256;  // beyond: counted as "other"
    mutable std::mutex mutex_;
    std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> decisions_;  // stage, action, result
    std::map<std::string, std::uint64_t> versions_;
    std::map<std::string, std::uint64_t> ciphers_;
    std::map<std::pair<std::string, std::string>, std::uint64_t> rules_;  // rule, result
    std::uint64_t reloads_ = 0, reload_failures_ = 0;
    std::uint64_t written_ = 0, dropped_ = 0;
};

}  // namespace tlspolicy
