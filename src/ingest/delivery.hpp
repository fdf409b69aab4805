// One outbound delivery attempt, as the MTA's own log tells it: the record the
// ingest hands to a DeliverySink. One per recipient per attempt; the TLS facts
// of the connection it went over, the outcome, and its judgement by the policy.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/client_cert.hpp"
#include "core/delivery.hpp"
#include "core/verdict.hpp"
#include "core/words.hpp"

namespace tlspolicy::ingest {

enum class Mta : std::uint8_t { Postfix, Sendmail };
inline constexpr Word<Mta> kMtaWords[] = {{Mta::Postfix, "postfix"}, {Mta::Sendmail, "sendmail"}};
constexpr std::span<const Word<Mta>> words(Mta) { return kMtaWords; }

// The largest key size in bits a log line may state (Postfix's "256/256 bits",
// Sendmail's "bits=256/256"): a line that says more is not read as a TLS
// line, and a saved state that holds more is refused, so every state saved
// restores (the fuzz target found Sendmail's bits=251756 saved and refused).
inline constexpr int kMaxLoggedBits = 65536;

// Declared in the core (core/delivery.hpp), which the store shares.
using tlspolicy::DeliveryStatus;
using tlspolicy::Transport;

// The delivery judged by the partner table (core/outbound.hpp).
struct OutboundJudgement {
    bool judged = false;           // false: Transport Unknown or NoConnection; rules empty
    std::vector<RuleRef> rules;    // partner rules for the destination domain, or [defaults]
    Result result = Result::None;  // none: no requirement applied (or not judged)
    std::vector<Check> failed;     // the requirements that did not hold, in rule order
    bool operator==(const OutboundJudgement&) const = default;
};

// Every text field is printable ASCII, at most kMaxToken bytes (reason:
// kMaxReason), whatever the log line held.
struct OutboundDelivery {
    Mta mta = Mta::Postfix;
    std::int64_t time = 0;        // seconds since the epoch, UTC
    std::int32_t time_usec = 0;   // 0 when the log line has no fraction
    std::string host;             // the MTA host as the log line names it
    std::string queue_id;
    std::string recipient;        // as logged, without the angle brackets
    std::string domain;           // the recipient's domain, normalized ("" without one)
    std::string relay_host;       // "mx.acme.example" ("" when there was no connection)
    std::string relay_address;    // "192.0.2.25" ("" when not logged)
    int relay_port = 0;           // 0 when not logged (Sendmail)
    int conn_use = 1;             // Postfix conn_use: the Nth delivery over this connection
    Transport transport = Transport::Unknown;
    std::string tls_version;      // "TLSv1.3" as logged; "" without TLS
    std::string cipher;           // "TLS_AES_256_GCM_SHA384"; "" without TLS
    int cipher_bits = 0;          // bits in use
    int alg_bits = 0;             // the cipher's algorithm bits
    std::string cert_verification;  // as logged: Postfix verified|trusted|untrusted|anonymous,
                                    // Sendmail's verify= (ok, fail, no, ...); "" without TLS
    CertStatus server_cert = CertStatus::None;  // that, as a status: trusted/verified and OK are Verified
    DeliveryStatus status = DeliveryStatus::Deferred;
    std::string dsn;              // "2.0.0" ("" when not logged)
    bool tls_reason = false;      // a deferral or bounce whose reason is TLS (see tls_reason.hpp)
    std::string reason;           // the status text (Postfix "(...)", Sendmail stat=)
    OutboundJudgement judgement;
    bool operator==(const OutboundDelivery&) const = default;
};

inline constexpr std::size_t kMaxReason = 300;

}  // namespace tlspolicy::ingest
