// What an MTA's log says of one outbound delivery attempt, as the store and
// the report keep it: the connection it went over and its outcome. Declared
// in the core so that a stored row (store/observation.hpp) and a parsed log
// record (ingest/delivery.hpp) spell them with the same words.
#pragma once
#include <cstdint>
#include <span>

#include "core/words.hpp"

namespace tlspolicy {

// Postfix's SOFTBOUNCE (soft_bounce = yes) is a deferral: the mail stays queued.
enum class DeliveryStatus : std::uint8_t { Sent, Deferred, Bounced };
inline constexpr Word<DeliveryStatus> kDeliveryStatusWords[] = {
    {DeliveryStatus::Sent, "sent"}, {DeliveryStatus::Deferred, "deferred"}, {DeliveryStatus::Bounced, "bounced"}};
constexpr std::span<const Word<DeliveryStatus>> words(DeliveryStatus) { return kDeliveryStatusWords; }

// What the log says of the connection the attempt used.
enum class Transport : std::uint8_t {
    Tls,           // a TLS line for this connection: version, cipher, bits, certificate
    Plaintext,     // a connection without TLS (for a deferral: TLS was not established)
    NoConnection,  // no SMTP session: Postfix relay=none (connect failed, no address, ...)
    Unknown,       // the log does not say: no TLS line seen from this program yet, or state lost
};
inline constexpr Word<Transport> kTransportWords[] = {{Transport::Tls, "tls"},
                                                      {Transport::Plaintext, "plaintext"},
                                                      {Transport::NoConnection, "no_connection"},
                                                      {Transport::Unknown, "unknown"}};
constexpr std::span<const Word<Transport>> words(Transport) { return kTransportWords; }

}  // namespace tlspolicy
