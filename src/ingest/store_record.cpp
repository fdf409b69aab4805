// Delivery records as store rows (see store_record.hpp).
#include "ingest/store_record.hpp"

#include "core/outbound.hpp"
#include "core/tls_version.hpp"

namespace tlspolicy::ingest {

Observation outbound_observation(const Policy& policy, const OutboundDelivery& d, std::string_view host) {
    Observation o;
    o.time = d.time;
    o.stage = Stage::Message;
    o.direction = Direction::Outbound;
    o.queue_id = d.queue_id;
    o.recipient = d.recipient;
    o.host = host.empty() ? d.host : std::string(host);
    o.transport = d.transport;
    o.delivery = d.status;
    o.tls_reason = d.tls_reason;
    o.relay_host = d.relay_host;
    o.relay_address = d.relay_address;
    if (d.transport == Transport::Tls) {
        o.version = parse_macro_version(d.tls_version);
        o.cipher = d.cipher;
        o.cipher_bits = d.cipher_bits;
        o.alg_bits = d.alg_bits;
        o.cert.status = d.server_cert;
        o.cert_verification = d.cert_verification;
    }
    o.result = d.judgement.result;
    o.rules = d.judgement.rules;
    if (!d.judgement.judged)
        for (const RuleOutcome& r : decide_outbound(policy, d.domain, TlsFacts{}).rules)
            o.rules.push_back({r.rule->name, r.rule->kind});
    o.action = d.status == DeliveryStatus::Sent       ? Decision::Accept
               : d.status == DeliveryStatus::Deferred ? Decision::Tempfail
                                                      : Decision::Reject;
    return o;
}

std::string checkpoint_text(const Checkpoint& c) { return position_text(c.position) + "\n" + c.state; }

std::optional<Checkpoint> parse_checkpoint_text(std::string_view text) {
    const std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    std::optional<LogPosition> p = parse_position(text.substr(0, nl));
    if (!p) return std::nullopt;
    return Checkpoint{*p, std::string(text.substr(nl + 1))};
}

}  // namespace tlspolicy::ingest
