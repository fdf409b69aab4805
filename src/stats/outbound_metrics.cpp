// The ingest's counters (see outbound_metrics.hpp).
#include "stats/outbound_metrics.hpp"

#include "core/tls_version.hpp"
#include "stats/exposition.hpp"

namespace tlspolicy {
namespace {

using exposition::family;
using exposition::label;

void counter(std::string& out, const char* name, std::uint64_t n, const char* help) {
    family(out, name, "counter", help);
    out += std::string(name) + ' ' + std::to_string(n) + '\n';
}

}  // namespace

void OutboundMetrics::count(std::span<const ingest::OutboundDelivery> stored) {
    for (const ingest::OutboundDelivery& d : stored) {
        const auto s = static_cast<std::size_t>(d.status);
        ++deliveries_[s][static_cast<std::size_t>(d.transport)];
        if (d.tls_reason) ++tls_failures_[s];
        if (d.status == DeliveryStatus::Sent && d.transport == Transport::Tls)
            ++versions_[std::string(header_name(parse_macro_version(d.tls_version)))];
        else if (d.status == DeliveryStatus::Sent && d.transport == Transport::Plaintext)
            ++versions_["none"];
        for (const RuleRef& r : d.judgement.rules) ++rules_[r.name][static_cast<std::size_t>(d.judgement.result)];
    }
}

std::string OutboundMetrics::render() const {
    std::string out;
    family(out, "tlspolicy_milter_outbound_deliveries_total", "counter",
           "Outbound delivery attempts read from the MTA's log, one per recipient, by status and transport.");
    for (std::size_t s = 0; s < 3; ++s)
        for (std::size_t t = 0; t < 4; ++t)
            if (deliveries_[s][t])
                out += "tlspolicy_milter_outbound_deliveries_total{status=\"" +
                       std::string(word(static_cast<DeliveryStatus>(s))) + "\",transport=\"" +
                       std::string(word(static_cast<Transport>(t))) + "\"} " + std::to_string(deliveries_[s][t]) + "\n";
    family(out, "tlspolicy_milter_outbound_tls_failures_total", "counter",
           "Outbound delivery attempts the MTA deferred or bounced because TLS failed or was missing.");
    for (std::size_t s = 1; s < 3; ++s)
        out += "tlspolicy_milter_outbound_tls_failures_total{status=\"" +
               std::string(word(static_cast<DeliveryStatus>(s))) + "\"} " + std::to_string(tls_failures_[s]) + "\n";
    family(out, "tlspolicy_milter_outbound_tls_version_total", "counter",
           "Outbound deliveries sent, by the TLS version of their connection (none: plaintext).");
    for (const auto& [v, n] : versions_)
        out += "tlspolicy_milter_outbound_tls_version_total{version=\"" + label(v) + "\"} " + std::to_string(n) + "\n";
    family(out, "tlspolicy_milter_outbound_rule_total", "counter",
           "Judged outbound delivery attempts each rule applied to, by result.");
    for (const auto& [rule, by_result] : rules_)
        for (std::size_t r = 0; r < 3; ++r)
            if (by_result[r])
                out += "tlspolicy_milter_outbound_rule_total{rule=\"" + label(rule) + "\",result=\"" +
                       std::string(word(static_cast<Result>(r))) + "\"} " + std::to_string(by_result[r]) + "\n";
    counter(out, "tlspolicy_milter_ingest_lines_total", lines_.lines(), "Log lines the ingest read.");
    family(out, "tlspolicy_milter_ingest_lines_skipped_total", "counter",
           "Log lines skipped: other programs, not a syslog line (cut, foreign, too long), malformed delivery lines.");
    out += "tlspolicy_milter_ingest_lines_skipped_total{reason=\"other_program\"} " +
           std::to_string(lines_.other_programs) + "\n";
    out += "tlspolicy_milter_ingest_lines_skipped_total{reason=\"not_syslog\"} " + std::to_string(lines_.not_syslog) + "\n";
    out += "tlspolicy_milter_ingest_lines_skipped_total{reason=\"malformed\"} " + std::to_string(lines_.malformed) + "\n";
    counter(out, "tlspolicy_milter_ingest_without_tls_facts_total", lines_.without_tls_facts,
            "Outbound deliveries the log gave no TLS facts for (Postfix: smtp_tls_loglevel 0).");
    return out;
}

}  // namespace tlspolicy
