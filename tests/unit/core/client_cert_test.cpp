// Client certificates: the facts each MTA's macros give, and the decisions on
// require_client_cert, cert_subjects and cert_issuers (SPEC "Client
// certificates"), as tables with want_* fields.
#include <gtest/gtest.h>

#include "core/client_cert.hpp"
#include "core/verdict.hpp"
#include "test_policy.hpp"

namespace tlspolicy {
namespace {

using namespace tlspolicy::testing;

TEST(ClientCertFacts, FromEachMtasMacros) {
    struct {
        const char* name;
        const char *verify, *cert_subject, *cert_issuer, *cn_subject, *cn_issuer;
        CertStatus want_status;
        const char *want_subject, *want_issuer;
    } cases[] = {
        // Postfix: CNs, only for a trusted certificate; no {verify}.
        {"postfix_trusted", "", "mx1.acme.example", "Acme Issuing CA 2", "", "", CertStatus::Verified, "mx1.acme.example", "Acme Issuing CA 2"},
        {"postfix_none_or_untrusted", "", "", "", "", "", CertStatus::Unknown, "", ""},
        {"postfix_plus_is_not_xtext", "", "a+20b", "CA", "", "", CertStatus::Verified, "a+20b", "CA"},
        // Sendmail: {verify}, full DNs, xtext CNs.
        {"sendmail_ok", "OK", "/O=Org/CN=client.example", "/O=Org/CN=Org+20Test+20CA", "client.example", "Org+20Test+20CA", CertStatus::Verified, "client.example", "Org Test CA"},
        {"sendmail_ok_dn_only", "OK", "/O=Org/CN=client.example", "/O=Org/CN=Org+20Test+20CA", "", "", CertStatus::Verified, "client.example", "Org Test CA"},
        {"sendmail_trusted", "TRUSTED", "", "", "mx.example", "CA", CertStatus::Verified, "mx.example", "CA"},
        {"sendmail_fail", "FAIL", "/CN=self.example", "/CN=self.example", "self.example", "self.example", CertStatus::Unverified, "self.example", "self.example"},
        {"sendmail_no", "NO", "", "", "", "", CertStatus::None, "", ""},
        {"sendmail_not", "NOT", "", "", "", "", CertStatus::None, "", ""},
        {"sendmail_temp", "TEMP", "", "", "", "", CertStatus::Unverified, "", ""},
        {"sendmail_control_chars", "OK", "", "", "evil+0D+0Ax", "CA", CertStatus::Verified, "evil??x", "CA"},
        {"sendmail_bad_xtext_kept", "OK", "", "", "a+2", "b+zz", CertStatus::Verified, "a+2", "b+zz"},
    };
    for (const auto& c : cases) {
        ClientCert got = make_client_cert(c.verify, c.cert_subject, c.cert_issuer, c.cn_subject, c.cn_issuer);
        EXPECT_EQ(word(got.status), word(c.want_status)) << c.name;
        EXPECT_EQ(got.subject_cn, c.want_subject) << c.name;
        EXPECT_EQ(got.issuer_cn, c.want_issuer) << c.name;
    }
}

const Policy& cert_policy() {
    static const Policy p = [] {
        Policy q;
        q.defaults.name = "default";
        Requirements acme;
        acme.require_client_cert = true;
        acme.cert_subjects = {entry("mx1.acme.example", false), entry(".mail.acme.example", false)};
        acme.cert_issuers = {"Acme Issuing CA 2"};
        q.partners.push_back(make_rule(RuleKind::Partner, {.name = "acme", .senders = {"acme.example"}, .req = acme, .action = Action::Reject}));
        Requirements any;
        any.require_client_cert = true;
        q.partners.push_back(make_rule(RuleKind::Partner, {.name = "anycert", .senders = {"any.example"}, .req = any, .action = Action::Tempfail}));
        q.partners.push_back(make_rule(RuleKind::Partner, {.name = "plain", .senders = {"plain.example"}, .req = tls_at_least(TlsVersion::TLSv1_2), .action = Action::Reject}));
        Requirements hr;
        hr.require_client_cert = true;
        hr.cert_issuers = {"HR CA"};
        q.recipients.push_back(make_rule(RuleKind::Recipient, {.name = "hr", .recipients = {"hr@example.com"}, .req = hr, .action = Action::Reject}));
        q.build_indexes();
        return q;
    }();
    return p;
}

TEST(ClientCertDecision, Table) {
    const ClientCert verified{CertStatus::Verified, "mx1.acme.example", "Acme Issuing CA 2"};
    struct {
        const char* name;
        bool tls;
        ClientCert cert;
        const char* sender;
        const char* rcpt;  // nullptr: the sender-side decision
        const char* want_result;
        const char* want_reply;
    } cases[] = {
        {"right_cn_and_issuer", true, verified, "a@acme.example", nullptr, "pass", ""},
        {"subdomain_entry", true, {CertStatus::Verified, "MX2.Mail.Acme.Example.", "acme issuing ca 2"}, "a@acme.example", nullptr, "pass", ""},
        {"subdomain_entry_not_the_domain", true, {CertStatus::Verified, "mail.acme.example", "Acme Issuing CA 2"}, "a@acme.example", nullptr, "fail",
         "550 5.7.10 client certificate for mx1.acme.example or .mail.acme.example required for acme.example (got CN=mail.acme.example)"},
        {"wrong_cn", true, {CertStatus::Verified, "mail.other.example", "Acme Issuing CA 2"}, "a@acme.example", nullptr, "fail",
         "550 5.7.10 client certificate for mx1.acme.example or .mail.acme.example required for acme.example (got CN=mail.other.example)"},
        {"wrong_issuer", true, {CertStatus::Verified, "mx1.acme.example", "Other CA"}, "a@acme.example", nullptr, "fail",
         "550 5.7.10 client certificate issued by Acme Issuing CA 2 required for acme.example (got issuer CN=Other CA)"},
        {"unverified", true, {CertStatus::Unverified, "mx1.acme.example", "Acme Issuing CA 2"}, "a@acme.example", nullptr, "fail",
         "550 5.7.10 verified client certificate required for acme.example (got an unverified certificate)"},
        {"none", true, {}, "a@acme.example", nullptr, "fail", "550 5.7.10 verified client certificate required for acme.example (got none)"},
        {"postfix_unknown", true, {CertStatus::Unknown, "", ""}, "a@acme.example", nullptr, "fail",
         "550 5.7.10 verified client certificate required for acme.example (got no verified certificate)"},
        {"plaintext", false, {}, "a@acme.example", nullptr, "fail", "550 5.7.10 verified client certificate required for acme.example (got plaintext)"},
        {"any_verified_cert", true, {CertStatus::Verified, "whatever.example", "Any CA"}, "a@any.example", nullptr, "pass", ""},
        {"any_cert_tempfails", true, {}, "a@any.example", nullptr, "fail", "450 4.7.10 verified client certificate required for any.example (got none)"},
        {"no_cert_rule_ignores_cert", true, {CertStatus::Unverified, "x", "y"}, "a@plain.example", nullptr, "pass", ""},
        {"defaults_ignore_cert", true, {CertStatus::Unverified, "x", "y"}, "a@else.example", nullptr, "none", ""},
        {"recipient_rule_issuer", true, {CertStatus::Verified, "x.example", "hr ca"}, "a@else.example", "hr@example.com", "pass", ""},
        {"recipient_rule_refuses", true, verified, "a@else.example", "hr@example.com", "fail",
         "550 5.7.10 client certificate issued by HR CA required for hr@example.com (got issuer CN=Acme Issuing CA 2)"},
    };
    for (const auto& c : cases) {
        TlsFacts tls = c.tls ? make_tls_facts("TLSv1.3", "TLS_AES_256_GCM_SHA384", "256", "", {}) : TlsFacts{};
        if (c.tls) tls.cert = c.cert;
        SessionFacts s = make_session("192.0.2.1", "", tls);
        Verdict v = c.rcpt ? decide_recipient(cert_policy(), s, c.rcpt) : decide_sender(cert_policy(), s, c.sender);
        EXPECT_EQ(word(v.result), c.want_result) << c.name;
        EXPECT_EQ(v.reply ? v.reply->line() : "", c.want_reply) << c.name;
    }
}

}  // namespace
}  // namespace tlspolicy
