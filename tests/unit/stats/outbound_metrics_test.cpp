// The ingest's outbound counters: each delivery counted once under its
// status and transport, TLS failures and versions apart, rules by result,
// the line counts as given.
#include <gtest/gtest.h>

#include "stats/outbound_metrics.hpp"

namespace tlspolicy {
namespace {

ingest::OutboundDelivery delivery(DeliveryStatus status, Transport transport, const char* version, bool tls_reason,
                                  Result result) {
    ingest::OutboundDelivery d;
    d.status = status;
    d.transport = transport;
    d.tls_version = version;
    d.tls_reason = tls_reason;
    d.judgement.judged = true;
    d.judgement.rules = {{"acme", RuleKind::Partner}};
    d.judgement.result = result;
    return d;
}

TEST(OutboundMetrics, CountsEachDeliveryOnce) {
    OutboundMetrics m;
    const ingest::OutboundDelivery batch[] = {
        delivery(DeliveryStatus::Sent, Transport::Tls, "TLSv1.3", false, Result::Pass),
        delivery(DeliveryStatus::Sent, Transport::Tls, "TLSv1.3", false, Result::Pass),
        delivery(DeliveryStatus::Sent, Transport::Plaintext, "", false, Result::Fail),
        delivery(DeliveryStatus::Deferred, Transport::Plaintext, "", true, Result::Fail),
    };
    m.count(batch);
    ingest::IngestCounts c;
    c.delivery_lines = 4;
    c.tls_lines = 2;
    c.other_programs = 3;
    m.set_lines(c);
    const std::string text = m.render();
    struct Want {
        const char* line;
    };
    for (const Want& w : {Want{"tlspolicy_milter_outbound_deliveries_total{status=\"sent\",transport=\"tls\"} 2\n"},
                          Want{"tlspolicy_milter_outbound_deliveries_total{status=\"sent\",transport=\"plaintext\"} 1\n"},
                          Want{"tlspolicy_milter_outbound_deliveries_total{status=\"deferred\",transport=\"plaintext\"} 1\n"},
                          Want{"tlspolicy_milter_outbound_tls_failures_total{status=\"deferred\"} 1\n"},
                          Want{"tlspolicy_milter_outbound_tls_failures_total{status=\"bounced\"} 0\n"},
                          Want{"tlspolicy_milter_outbound_tls_version_total{version=\"TLS1_3\"} 2\n"},
                          Want{"tlspolicy_milter_outbound_tls_version_total{version=\"none\"} 1\n"},
                          Want{"tlspolicy_milter_outbound_rule_total{rule=\"acme\",result=\"pass\"} 2\n"},
                          Want{"tlspolicy_milter_outbound_rule_total{rule=\"acme\",result=\"fail\"} 2\n"},
                          Want{"tlspolicy_milter_ingest_lines_total 9\n"},
                          Want{"tlspolicy_milter_ingest_lines_skipped_total{reason=\"other_program\"} 3\n"}})
        EXPECT_NE(text.find(w.line), std::string::npos) << "want " << w.line << "got\n" << text;
    EXPECT_EQ(text.find("status=\"bounced\",transport"), std::string::npos) << "no series for what never happened";
}

}  // namespace
}  // namespace tlspolicy
