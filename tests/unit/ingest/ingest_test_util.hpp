// Shared by the ingest tests: a record as one line of text (for tables and
// the golden files), a fixed clock, and the policy the golden corpus is
// judged by.
#pragma once
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/sanitize.hpp"
#include "ingest/assembler.hpp"
#include "ingest/record_json.hpp"
#include "test_policy.hpp"

namespace tlspolicy::ingest::testing {

// 2026-12-31T00:00:00Z, UTC: the year RFC 3164 lines are read in.
inline const FixedClock& utc_clock() {
    static const FixedClock clock(epoch_seconds(2026, 12, 31, 0, 0, 0), 0);
    return clock;
}

inline std::string describe(const OutboundDelivery& d) {
    std::string s = d.queue_id + " <" + d.recipient + "> domain=" + d.domain + " " + std::string(word(d.status)) +
                    " " + std::string(word(d.transport));
    if (d.transport == Transport::Tls)
        s += " " + d.tls_version + " " + d.cipher + " " + std::to_string(d.cipher_bits) + "/" +
             std::to_string(d.alg_bits) + " cert=" + (d.cert_verification.empty() ? "-" : d.cert_verification) + "(" +
             std::string(word(d.server_cert)) + ")";
    s += " relay=" + (d.relay_host.empty() ? "-" : d.relay_host) + "[" + d.relay_address + "]:" +
         std::to_string(d.relay_port);
    if (d.conn_use != 1) s += " conn_use=" + std::to_string(d.conn_use);
    s += " dsn=" + (d.dsn.empty() ? "-" : d.dsn);
    if (d.tls_reason) s += " TLS-REASON";
    if (d.judgement.judged) {
        s += " judged=" + rule_names(d.judgement.rules) + ":" + std::string(word(d.judgement.result));
        for (Check c : d.judgement.failed) s += " !" + std::string(word(c));
    }
    s += " at=" + iso_time(d.time, d.time_usec) + " host=" + d.host + " reason=\"" + d.reason + "\"";
    return s;
}

inline std::string describe(const IngestCounts& c) {
    return "lines=" + std::to_string(c.lines()) + " deliveries=" + std::to_string(c.deliveries) +
           " delivery_lines=" + std::to_string(c.delivery_lines) + " tls_lines=" + std::to_string(c.tls_lines) +
           " agent_lines=" + std::to_string(c.agent_lines) + " other_programs=" + std::to_string(c.other_programs) +
           " not_syslog=" + std::to_string(c.not_syslog) + " malformed=" + std::to_string(c.malformed) +
           " not_smtp=" + std::to_string(c.not_smtp) + " without_tls_facts=" + std::to_string(c.without_tls_facts) +
           " pending_dropped=" + std::to_string(c.pending_dropped);
}

// The partner table the golden corpus is judged by: the e2e test's rules,
// and rules for the shapes' domains.
inline const Policy& golden_policy() {
    using namespace tlspolicy::testing;
    static const Policy policy = [] {
        Policy p;
        p.defaults.name = "default";
        p.defaults.kind = RuleKind::Defaults;
        auto partner = [&](const RuleSpec& s) { p.partners.push_back(make_rule(RuleKind::Partner, s)); };
        Requirements open;
        open.min_version = TlsVersion::TLSv1_2;
        Requirements cert = tls_required();
        cert.require_client_cert = true;
        partner({.name = "partners",
                 .senders = {"modern.test", "selfsigned.test", "legacy.test", "plain.test", "midway.test"},
                 .req = tls_at_least(TlsVersion::TLSv1_2)});
        partner({.name = "open-partners",
                 .senders = {"modern-open.test", "selfsigned-open.test", "legacy-open.test", "plain-open.test",
                             "midway-open.test"},
                 .req = open});
        partner({.name = "certified", .senders = {"verified.test", "relay.example"}, .req = cert});
        partner({.name = "bank", .senders = {"bank.example", ".bank.example"}, .req = tls_at_least(TlsVersion::TLSv1_3)});
        partner({.name = "oldies", .senders = {"old.example", "gmail.example"}, .req = tls_at_least(TlsVersion::TLSv1_2)});
        p.build_indexes();
        return p;
    }();
    return policy;
}

}  // namespace tlspolicy::ingest::testing
