// One transaction through the core, as the milter glue and `explain` walk it:
// MAIL FROM, RCPT TO, end of message; and the authserv-id both stamp with.
#include <gtest/gtest.h>

#include "core/transaction.hpp"
#include "test_policy.hpp"

namespace tlspolicy {
namespace {

using namespace tlspolicy::testing;

TEST(AuthservId, ConfiguredElseTheMtasNameElseLocalhost) {
    struct Case {
        const char* name;
        std::string_view configured, mta_name;
        std::string_view want;
    };
    const Case cases[] = {
        {"configured wins", "mx.example.com", "mx1.internal", "mx.example.com"},
        {"configured wins without an MTA name", "mx.example.com", "", "mx.example.com"},
        {"else the MTA's name (macro j)", "", "mx1.internal", "mx1.internal"},
        {"else localhost", "", "", "localhost"},
    };
    for (const Case& c : cases)
        EXPECT_EQ(choose_authserv_id(c.configured, c.mta_name), c.want)
            << c.name << ": got " << choose_authserv_id(c.configured, c.mta_name) << ", want " << c.want;
}

Policy build_policy(Mode mode) {
    Policy p;
    p.mode = mode;
    p.defaults.name = "default";
    p.defaults.kind = RuleKind::Defaults;
    p.partners.push_back(make_rule(RuleKind::Partner, {.name = "acme", .senders = {"acme.example"},
                                                       .req = tls_at_least(TlsVersion::TLSv1_2), .action = Action::Reject}));
    p.recipients.push_back(make_rule(RuleKind::Recipient, {.name = "hr", .recipients = {"hr@example.com"},
                                                           .req = tls_at_least(TlsVersion::TLSv1_3), .action = Action::Reject}));
    p.recipients.push_back(make_rule(RuleKind::Recipient, {.name = "board", .recipients = {"board@example.com"},
                                                           .req = tls_required(), .action = Action::Annotate}));
    p.build_indexes();
    return p;
}

SessionFacts session(std::string_view version) {
    CipherInfo info;
    info.known = true;
    info.bits = info.alg_bits = 128;
    return make_session("203.0.113.5", "", make_tls_facts(version, "ECDHE-RSA-AES128-GCM-SHA256", "128", "", info));
}

TEST(Transaction, FactsInOrderVerdictsOut) {
    struct Case {
        const char* name;
        Mode mode;
        const char* tls;  // {tls_version}; "" plaintext
        const char* sender;
        std::vector<const char*> rcpts;
        Decision want_sender;
        std::vector<Decision> want_rcpts;
        std::size_t want_accepted;
        Decision want_would;
        const char* want_header;
    };
    const Case cases[] = {
        {"no rule applies: default, none", Mode::Enforce, "TLSv1.2", "x@other.example", {"a@example.com"},
         Decision::Accept, {Decision::Accept}, 1, Decision::Accept,
         "mx.test; version=TLS1_2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128; policy=default result=none"},
        {"partner passes, refused recipient leaves no trace", Mode::Enforce, "TLSv1.2", "a@acme.example",
         {"hr@example.com", "a@example.com"}, Decision::Accept, {Decision::Reject, Decision::Accept}, 1,
         Decision::Accept, "mx.test; version=TLS1_2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128; policy=acme result=pass"},
        {"annotate recipient fails: result fail", Mode::Enforce, "", "x@other.example", {"board@example.com"},
         Decision::Accept, {Decision::Accept}, 1, Decision::Accept,
         "mx.test; version=none cipher=none bits=0/0; policy=default,board result=fail"},
        {"monitor: accepted, would reject", Mode::Monitor, "TLSv1", "a@acme.example", {"hr@example.com"},
         Decision::Accept, {Decision::Accept}, 1, Decision::Reject,
         "mx.test; version=TLS1_0 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128; policy=acme,hr result=fail"},
        {"no RCPT stage: sender side alone", Mode::Enforce, "TLSv1.3", "a@acme.example", {}, Decision::Accept, {}, 0,
         Decision::Accept, "mx.test; version=TLS1_3 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128; policy=acme result=pass"},
    };
    for (const Case& c : cases) {
        const Policy p = build_policy(c.mode);
        Transaction t;
        EXPECT_FALSE(t.begun()) << c.name;
        const Verdict& mail = t.begin(p, session(c.tls), c.sender);
        EXPECT_TRUE(t.begun()) << c.name;
        EXPECT_EQ(mail.decision, c.want_sender) << c.name;
        EXPECT_EQ(t.sender(), c.sender) << c.name;
        for (std::size_t i = 0; i < c.rcpts.size(); ++i)
            EXPECT_EQ(t.add_recipient(c.rcpts[i]).decision, c.want_rcpts[i]) << c.name << ": " << c.rcpts[i];
        EXPECT_EQ(t.accepted_recipients(), c.want_accepted) << c.name;
        const Transaction::Stamp s = t.finish("mx.test");
        EXPECT_EQ(s.outcome.would, c.want_would) << c.name;
        EXPECT_EQ(s.header, c.want_header) << c.name;
        // The same as the header functions say for the same verdicts.
        EXPECT_EQ(s.header, header_value("mx.test", t.session().tls, s.outcome)) << c.name;
    }
}

TEST(Transaction, RefusedSenderIsTheVerdict) {
    const Policy p = build_policy(Mode::Enforce);
    Transaction t;
    const Verdict& v = t.begin(p, session("TLSv1"), "a@acme.example");
    EXPECT_EQ(v.decision, Decision::Reject);
    ASSERT_TRUE(v.reply);
    EXPECT_EQ(v.reply->code, "550");
    EXPECT_EQ(&v, &t.sender_verdict());
}

}  // namespace
}  // namespace tlspolicy
