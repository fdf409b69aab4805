// The ingest's counters (outbound deliveries read from the MTA's log), beside
// the milter's inbound ones and named like them (tlspolicy_milter_*), for a
// Prometheus textfile of their own (`ingest --stats FILE`): the milter and
// the ingest are two processes, each writes its file. Counting and rendering
// only; stats_file.hpp writes the file.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "ingest/assembler.hpp"
#include "ingest/delivery.hpp"

namespace tlspolicy {

class OutboundMetrics {
public:
    // Deliveries stored (judged), and the ingest's line counts so far.
    void count(std::span<const ingest::OutboundDelivery> stored);
    void set_lines(const ingest::IngestCounts& c) { lines_ = c; }
    std::string render() const;

private:
    std::array<std::array<std::uint64_t, 4>, 3> deliveries_{};  // [status][transport]
    std::array<std::uint64_t, 3> tls_failures_{};               // [status]: deferred or bounced for TLS
    std::map<std::string, std::uint64_t> versions_;             // sent over a known connection, by version ("none": plaintext)
    std::map<std::string, std::array<std::uint64_t, 3>> rules_;  // judged deliveries by rule and result
    ingest::IngestCounts lines_;
};

}  // namespace tlspolicy
