// Mail we send, judged by the same partner table: a partner rule's domain
// entries in `senders` are also the destinations of mail to that partner.
// Facts in (the TLS of one delivery as the MTA logged it), verdict out.
#pragma once
#include <string_view>
#include <vector>

#include "core/policy.hpp"
#include "core/verdict.hpp"

namespace tlspolicy {

struct OutboundVerdict {
    std::vector<RuleOutcome> rules;  // partner rules for the destination, or [defaults]
    Result result = Result::None;    // none: no requirement applied
};

// The requirements of a rule as they apply to mail we send. The client
// certificate requirements turn around: require_client_cert (and what implies
// it, cert_subjects and cert_issuers) asks for a verified *server*
// certificate. The names are dropped: MTA logs do not carry the server
// certificate's subject or issuer, so they have no outbound meaning.
Requirements outbound_requirements(const Requirements& req);

// Judges one delivery to `domain` (normalized, bare: "acme.example"): the
// partner rules whose `senders` domain entries cover it ("acme.example" that
// domain, ".acme.example" its subdomains; addresses never), or [defaults] when
// none does, each with outbound_requirements() against `tls`. `tls.cert`
// holds the server certificate's status as the MTA logged it.
OutboundVerdict decide_outbound(const Policy& policy, std::string_view domain, const TlsFacts& tls);

}  // namespace tlspolicy
