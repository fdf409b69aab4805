// Log lines in, outbound delivery records out. The TLS facts of a delivery are
// on another line than its outcome (Postfix: the TLS line before the status
// lines of the same smtp process; Sendmail: STARTTLS=client before stat=), so a
// small state per MTA process carries them from one to the other. The state is
// bounded (kMaxPending processes); it is saved with the log position and
// restored on restart, so a restart between the two lines loses nothing.
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ingest/delivery.hpp"
#include "ingest/journal_entry.hpp"
#include "ingest/log_time.hpp"
#include "ingest/syslog_line.hpp"

namespace tlspolicy::ingest {

// Longer lines are skipped (and counted): no MTA writes one, and a log holding
// one is not to make the ingest allocate without bound.
inline constexpr std::size_t kMaxLineLength = 16384;
// Processes with a pending TLS line at once. Postfix starts at most
// default_process_limit (100) smtp processes per transport; past the bound the
// process that logged least recently loses its pending line, and a delivery it
// then logs over that connection is recorded with transport unknown.
inline constexpr std::size_t kMaxPending = 4096;
// A TLS line older than this (log time) no longer belongs to a delivery.
inline constexpr std::int64_t kPendingMaxAge = 3600;

// What became of the lines: every line is counted once, in one of the
// first seven; the rest say more about some of them.
struct IngestCounts {
    std::uint64_t deliveries = 0;      // records made (a Sendmail line may make several)
    std::uint64_t delivery_lines = 0;  // status lines that made them
    std::uint64_t tls_lines = 0;       // TLS lines taken in
    std::uint64_t agent_lines = 0;     // other lines of the SMTP client: nothing to record
    std::uint64_t other_programs = 0;  // lines of other programs (postscreen, lmtp, qmgr, ...): skipped
    std::uint64_t not_syslog = 0;      // not a syslog line (cut, foreign, empty, too long): skipped
    std::uint64_t malformed = 0;       // a delivery line not as the MTA writes it: skipped
    std::uint64_t not_smtp = 0;        // of those counted as agent lines: Postfix address probes,
                                       // Sendmail's local and prog mailers (no SMTP delivery)
    std::uint64_t without_tls_facts = 0;  // deliveries recorded with transport unknown
    std::uint64_t pending_dropped = 0;    // pending TLS lines dropped at kMaxPending
    std::uint64_t lines() const {
        return delivery_lines + tls_lines + agent_lines + other_programs + not_syslog + malformed;
    }
    std::uint64_t skipped() const { return other_programs + not_syslog + malformed; }
};

class DeliveryAssembler {
public:
    DeliveryAssembler(Mta mta, const Clock& clock) : mta_(mta), clock_(clock) {}

    // One log line, without its line end. Appends the records it completes.
    void feed(std::string_view line, std::vector<OutboundDelivery>& out);
    // One journald entry (its own time, host, identifier and pid).
    void feed(const JournalEntry& entry, std::vector<OutboundDelivery>& out);

    const IngestCounts& counts() const { return counts_; }
    Mta mta() const { return mta_; }
    // Whether a TLS line has been seen from any SMTP client program: until
    // then a delivery without one is recorded with transport unknown, not
    // plaintext (the setting that logs TLS may be off).
    bool tls_logging_seen() const { return !tls_seen_.empty(); }

    // The state later lines depend on, as text (one line per pending TLS
    // line); restore_state() takes it back. Saved with each log position.
    std::string save_state() const;
    bool restore_state(std::string_view text, std::string* error);

private:
    struct Pending {
        std::string protocol, cipher, verification;
        int used_bits = 0, alg_bits = 0;
        std::string peer;      // Postfix: "host[addr]:port", lower case; Sendmail: the relay host
        std::string queue_id;  // Postfix: the delivery that took it ("" until one did)
        bool failed = false;   // Sendmail: STARTTLS=client, error: the connection has no TLS
        std::int64_t time = 0;
        std::uint64_t used = 0;  // for dropping the least recently used at the bound
    };
    void line(const SyslogLine& l, std::int64_t exact_usec, std::vector<OutboundDelivery>& out);
    void postfix(const SyslogLine& l, std::int64_t when, std::int32_t usec, std::vector<OutboundDelivery>& out);
    void sendmail(const SyslogLine& l, std::int64_t when, std::int32_t usec, std::vector<OutboundDelivery>& out);
    std::string key(std::string_view host, std::int64_t pid, std::string_view relay) const;
    Pending* find(const std::string& key, std::int64_t when);
    void put(std::string key, Pending p);
    void drop(const std::string& key);
    bool lost(const std::string& key, std::string_view queue_id);
    void take_tls(OutboundDelivery& d, const Pending& p) const;

    Mta mta_;
    const Clock& clock_;
    IngestCounts counts_;
    std::unordered_map<std::string, Pending> pending_;
    // Keys whose pending line was dropped at the bound, with the delivery
    // that met the loss first ("" until one did).
    std::unordered_map<std::string, std::string> dropped_;
    std::deque<std::string> dropped_order_;
    std::unordered_set<std::string> tls_seen_;  // host + program of SMTP clients that logged TLS
    std::uint64_t clock_tick_ = 0;
};

}  // namespace tlspolicy::ingest
