// Judging delivery records (see judge.hpp).
#include "ingest/judge.hpp"

#include <string>

#include "core/outbound.hpp"

namespace tlspolicy::ingest {

void judge_delivery(const Policy& policy, OutboundDelivery& d) {
    d.judgement = OutboundJudgement{};
    if (d.transport != Transport::Tls && d.transport != Transport::Plaintext) return;
    TlsFacts tls;
    if (d.transport == Transport::Tls) {
        tls = make_tls_facts(d.tls_version, d.cipher, std::to_string(d.cipher_bits), std::to_string(d.alg_bits), {});
        tls.cert.status = d.server_cert;
    }
    const OutboundVerdict v = decide_outbound(policy, d.domain, tls);
    d.judgement.judged = true;
    d.judgement.result = v.result;
    for (const RuleOutcome& o : v.rules) {
        d.judgement.rules.push_back({o.rule->name, o.rule->kind});
        for (const CheckResult& c : o.checks)
            if (!c.passed) d.judgement.failed.push_back(c.check);
    }
}

}  // namespace tlspolicy::ingest
