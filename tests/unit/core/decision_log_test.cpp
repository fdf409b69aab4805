// The decision log lines, byte for byte.
#include <gtest/gtest.h>

#include "core/decision_log.hpp"
#include "test_policy.hpp"

namespace tlspolicy {
namespace {

using namespace tlspolicy::testing;

Policy make(Mode mode) {
    Policy p;
    p.mode = mode;
    p.defaults.name = "default";
    p.partners.push_back(make_rule(RuleKind::Partner, {.name = "acme", .senders = {"acme.example"}, .req = tls_at_least(TlsVersion::TLSv1_2), .action = Action::Reject}));
    p.recipients.push_back(make_rule(RuleKind::Recipient, {.name = "hr", .recipients = {"hr@example.com"}, .req = tls_at_least(TlsVersion::TLSv1_3), .action = Action::Tempfail}));
    p.build_indexes();
    return p;
}

TEST(DecisionLog, RefusalAtMail) {
    Policy p = make(Mode::Enforce);
    SessionFacts s = make_session("203.0.113.5", "mail.acme.example", make_tls_facts("TLSv1", "ECDHE-RSA-AES256-SHA", "256", "256", {}));
    Verdict v = decide_sender(p, s, "a@acme.example");
    EXPECT_EQ(refusal_log_line("", s, "a@acme.example", "", v),
              "NOQUEUE: stage=mail action=reject result=fail policy=acme client=203.0.113.5 hostname=mail.acme.example "
              "sender=<a@acme.example> version=TLS1_0 cipher=ECDHE-RSA-AES256-SHA bits=256/256 "
              "reply=\"550 5.7.10 TLS 1.2 or newer required for acme.example (got TLS 1.0)\"");
}

TEST(DecisionLog, RefusalAtRcptWithQueueId) {
    Policy p = make(Mode::Enforce);
    SessionFacts s = make_session("::1", "unknown", make_tls_facts("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "128", "128", {}));
    Verdict v = decide_recipient(p, s, "hr@example.com");
    EXPECT_EQ(refusal_log_line("4Xyz1", s, "", "hr@example.com", v),
              "4Xyz1: stage=rcpt action=tempfail result=fail policy=hr client=::1 hostname=unknown sender=<> "
              "rcpt=<hr@example.com> version=TLS1_2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128 "
              "reply=\"450 4.7.10 TLS 1.3 or newer required for hr@example.com (got TLS 1.2)\"");
}

TEST(DecisionLog, MonitorRefusalAtMailAndRcptSaysWouldReject) {
    Policy p = make(Mode::Monitor);
    SessionFacts s = make_session("192.0.2.1", "", {});
    Verdict sender = decide_sender(p, s, "a@acme.example");
    EXPECT_EQ(refusal_log_line("", s, "a@acme.example", "", sender),
              "NOQUEUE: stage=mail action=would_reject result=fail policy=acme client=192.0.2.1 hostname=unknown "
              "sender=<a@acme.example> version=none cipher=none bits=0/0 "
              "reply=\"550 5.7.10 TLS required for acme.example (got plaintext)\"");
    Verdict rcpt = decide_recipient(p, s, "hr@example.com");
    EXPECT_EQ(refusal_log_line("", s, "a@acme.example", "hr@example.com", rcpt),
              "NOQUEUE: stage=rcpt action=would_tempfail result=fail policy=hr client=192.0.2.1 hostname=unknown "
              "sender=<a@acme.example> rcpt=<hr@example.com> version=none cipher=none bits=0/0 "
              "reply=\"450 4.7.10 TLS required for hr@example.com (got plaintext)\"");
}

TEST(DecisionLog, MonitorMessageSaysWhatWouldHappen) {
    Policy p = make(Mode::Monitor);
    SessionFacts s = make_session("192.0.2.1", "", {});
    Verdict sender = decide_sender(p, s, "a@acme.example");
    std::vector<Verdict> rcpts{decide_recipient(p, s, "hr@example.com")};
    EXPECT_EQ(message_log_line("4Q1", s, "a@acme.example", 2, summarize(sender, rcpts)),
              "4Q1: stage=message action=would_reject result=fail policy=acme,hr client=192.0.2.1 "
              "hostname=unknown sender=<a@acme.example> rcpts=2 version=none cipher=none bits=0/0 "
              "reply=\"550 5.7.10 TLS required for acme.example (got plaintext)\"");
}

TEST(DecisionLog, NoRecipientCountWhenRcptWasNotSeen) {
    // Without recipient rules the RCPT stage is not negotiated: the milter
    // never learns how many recipients there are, so it must not say 0.
    Policy p = make(Mode::Enforce);
    SessionFacts s = make_session("192.0.2.1", "", {});
    Verdict sender = decide_sender(p, s, "a@other.example");
    EXPECT_EQ(message_log_line("4Q1", s, "a@other.example", 0, summarize(sender, {})),
              "4Q1: stage=message action=accept result=none policy=default client=192.0.2.1 "
              "hostname=unknown sender=<a@other.example> version=none cipher=none bits=0/0");
}

TEST(DecisionLog, ClientCertificateWhenTheMtaSaysSomething) {
    Policy p = make(Mode::Enforce);
    TlsFacts tls = make_tls_facts("TLSv1.3", "TLS_AES_256_GCM_SHA384", "256", "", {});
    tls.cert = {CertStatus::Verified, "mx1.acme example", "Acme CA"};
    SessionFacts s = make_session("192.0.2.1", "", tls);
    Verdict sender = decide_sender(p, s, "a@other.example");
    EXPECT_EQ(message_log_line("4Q1", s, "a@other.example", 0, summarize(sender, {})),
              "4Q1: stage=message action=accept result=none policy=default client=192.0.2.1 "
              "hostname=unknown sender=<a@other.example> version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 "
              "bits=256/0 cert=verified cert_subject=mx1.acme?example cert_issuer=Acme?CA");
    s.tls.cert = {CertStatus::Unknown, "", ""};
    EXPECT_TRUE(message_log_line("4Q1", s, "a@other.example", 0, summarize(sender, {})).ends_with(" cert=unknown"));
}

TEST(DecisionLog, HostileValuesStayOnOneLine) {
    Policy p = make(Mode::Enforce);
    SessionFacts s = make_session("192.0.2.1", "evil\r\nhost", {});
    Verdict sender = decide_sender(p, s, "a b\"c@x.example");
    std::string line = message_log_line("Q\n1", s, "a b\"c@x.example\r\n", 1, summarize(sender, {}));
    EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos) << line;
    EXPECT_NE(line.find("sender=<a?b?c@x.example?" "?>"), std::string::npos) << line;  // split: no trigraph
}

}  // namespace
}  // namespace tlspolicy
