// Counters for Prometheus (node_exporter's textfile collector): decisions by
// TLS version, cipher, result, action and rule, reloads, observations written,
// dropped and waiting in the spool.
// The fixed dimensions (stage, action, result, version) are plain atomic
// counters; only cipher and rule names take one short lock, and find their
// counter without allocating once seen. The text is rendered only when written.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "core/tls_version.hpp"
#include "core/verdict.hpp"

namespace tlspolicy {

// One decision as the counters see it: views into the caller's data.
struct Counted {
    Stage stage = Stage::Mail;
    Decision action = Decision::Accept;  // what the MTA was told
    Decision would = Decision::Accept;   // the refusal monitor mode let through
    Result result = Result::None;
    TlsVersion version = TlsVersion::None;
    std::string_view cipher;             // as reported, already sanitised
    std::span<const RuleRef> rules;      // the rules that took part
};

class Metrics {
public:
    void count(const Counted& d);
    void count_reload(bool ok);
    // Counters kept by others (the observation store), read when rendering;
    // `spooled`: rows waiting in a PostgreSQL store's local spool now.
    void set_observation_counts(std::uint64_t written, std::uint64_t dropped, std::uint64_t spooled = 0);

    // Prometheus text exposition format, version 0.0.4.
    std::string render() const;

private:
    static constexpr std::size_t kMaxCiphers = 256;  // beyond: counted as "other"
    static constexpr std::size_t kActions = 5;       // accept, tempfail, reject, would_tempfail, would_reject
    static constexpr std::size_t kVersions = 7;      // every TlsVersion
    using Counter = std::atomic<std::uint64_t>;
    std::array<std::array<std::array<Counter, 3>, kActions>, 2> decisions_{};  // stage, action, result
    std::array<Counter, kVersions> versions_{};
    mutable std::mutex mutex_;  // for the two maps
    std::map<std::string, std::uint64_t, std::less<>> ciphers_;
    std::map<std::string, std::array<std::uint64_t, 3>, std::less<>> rules_;  // by result
    Counter reloads_{0}, reload_failures_{0};
    Counter written_{0}, dropped_{0}, spooled_{0};
};

}  // namespace tlspolicy
