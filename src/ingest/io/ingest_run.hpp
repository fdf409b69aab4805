// The ingest loop: lines from a LineSource through the DeliveryAssembler and
// the policy's judgement into a DeliverySink, with a checkpoint (position and
// assembler state) at every write, so that a restart resumes exactly there.
#pragma once
#include <chrono>
#include <csignal>
#include <cstddef>
#include <functional>
#include <span>
#include <iosfwd>
#include <string>

#include "core/policy.hpp"
#include "ingest/assembler.hpp"
#include "ingest/log_time.hpp"
#include "ingest/sink.hpp"

namespace tlspolicy::ingest {

struct IngestOptions {
    Mta mta = Mta::Postfix;
    std::string path;               // a log file, or "-" for standard input
    bool journal = false;           // journald through journalctl instead
    std::string journal_directory;  // journalctl --directory; "" the system journal
    std::string journalctl = "journalctl";
    bool follow = false;
    std::size_t batch = 1000;       // records per sink write, at most
    std::chrono::milliseconds rotation_grace{2000};
    std::chrono::milliseconds idle_wait{250};
    const volatile std::sig_atomic_t* stop = nullptr;  // set by a signal handler: commit, then return
    // After each write the sink kept: the records it stored (judged) and the
    // counts so far (`ingest --stats` renders them).
    std::function<void(std::span<const OutboundDelivery>, const IngestCounts&)> committed;
};

// Deliveries recorded without TLS facts, and not one TLS line from the MTA:
// after this many, a warning says which setting to turn on.
inline constexpr std::uint64_t kWarnWithoutTlsAfter = 20;

// The journal matches asked of journalctl for each MTA, any of which selects
// an entry: Postfix's smtp processes by their command name (whatever their
// syslog_name) or identifier; Sendmail's by identifier.
std::vector<std::string> journal_matches(Mta mta);

// 0 when the log was read (to its end, or until *stop); 1 when it could not be
// read or the records not stored (after saying why on `err`). `counts`, when
// given, receives the assembler's counts.
int run_ingest(const Policy& policy, const IngestOptions& options, DeliverySink& sink, const Clock& clock,
               std::ostream& err, IngestCounts* counts = nullptr);

}  // namespace tlspolicy::ingest
