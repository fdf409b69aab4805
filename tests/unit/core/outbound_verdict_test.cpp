// Outbound deliveries judged by the partner table, one row per sentence of
// OUTBOUND in tlspolicy-milter(8): which rules a destination domain selects,
// and how each requirement reads for mail we send.
#include <gtest/gtest.h>

#include "core/outbound.hpp"
#include "test_policy.hpp"

namespace tlspolicy {
namespace {

using namespace tlspolicy::testing;

const Policy& policy() {
    static const Policy policy = [] {
        Policy p;
        p.defaults.name = "default";
        p.defaults.kind = RuleKind::Defaults;
        auto partner = [&](const RuleSpec& s) { p.partners.push_back(make_rule(RuleKind::Partner, s)); };
        Requirements cert = tls_required();
        cert.require_client_cert = true;
        Requirements named = cert;
        named.cert_subjects = {entry("mx.named.example")};
        named.cert_issuers = {"Named CA"};
        Requirements bits;
        bits.min_cipher_bits = 256;
        partner({.name = "acme", .clients = {"203.0.113.0/24"}, .hostnames = {"mail.acme.example"},
                 .senders = {"acme.example", ".acme.example", "boss@other.example"},
                 .req = tls_at_least(TlsVersion::TLSv1_2)});
        partner({.name = "sub", .senders = {".sub.example"}, .req = tls_required()});
        partner({.name = "cert", .senders = {"cert.example"}, .req = cert});
        partner({.name = "named", .senders = {"named.example"}, .req = named});
        partner({.name = "bits", .senders = {"bits.example", "acme.example"}, .req = bits});
        partner({.name = "open", .senders = {"open.example"}});
        p.build_indexes();
        return p;
    }();
    return policy;
}

const Policy& strict_defaults() {
    static const Policy policy = [] {
        Policy p;
        p.defaults.name = "default";
        p.defaults.kind = RuleKind::Defaults;
        p.defaults.req = tls_at_least(TlsVersion::TLSv1_2);
        p.build_indexes();
        return p;
    }();
    return policy;
}

struct Case {
    const char* name;
    const char* domain;
    const char* version;  // "" plaintext
    const char* cipher;
    int bits;
    CertStatus server_cert;
    const char* want_rules;
    const char* want_result;
    const char* want_failed;  // the checks that failed, by their config key
    bool strict = false;      // judge against a policy whose [defaults] require TLS 1.2
};

constexpr CertStatus kVerified = CertStatus::Verified, kUnverified = CertStatus::Unverified, kNone = CertStatus::None;

const Case kCases[] = {
    // "a partner rule's domain entries in senders are also that partner's destinations"
    {"domain_entry_is_a_destination", "acme.example", "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, kNone, "acme,bits", "pass", ""},
    {"dot_entry_covers_subdomains", "eu.acme.example", "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", 256, kNone, "acme", "pass", ""},
    {"dot_entry_not_the_domain_itself", "sub.example", "", "", 0, kNone, "default", "none", ""},
    {"dot_entry_deep_subdomain", "a.b.sub.example", "", "", 0, kNone, "sub", "fail", "require_tls"},
    {"address_entry_is_no_destination", "other.example", "", "", 0, kNone, "default", "none", ""},
    {"client_and_hostname_selectors_are_not_destinations", "mail.acme.example", "", "", 0, kNone, "acme", "fail", "require_tls"},
    {"unmatched_domain_opportunistic_default", "unknown.example", "TLSv1", "AES128-SHA", 128, kNone, "default", "none", ""},
    {"literal_is_no_ones_domain", "[203.0.113.5]", "", "", 0, kNone, "default", "none", ""},
    {"two_rules_both_judged", "acme.example", "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", 128, kNone, "acme,bits", "fail", "min_cipher_bits"},
    // the requirements, outbound
    {"min_version_falls_short", "acme.example", "TLSv1", "ECDHE-RSA-AES256-SHA", 256, kNone, "acme,bits", "fail", "min_version"},
    {"plaintext_fails_require_tls", "acme.example", "", "", 0, kNone, "acme,bits", "fail", "require_tls"},
    {"plaintext_not_judged_by_cipher_rules", "bits.example", "", "", 0, kNone, "bits", "none", ""},
    {"rule_without_requirements", "open.example", "TLSv1", "AES128-SHA", 128, kNone, "open", "none", ""},
    // "require_client_cert and cert_subjects mean a verified server certificate"
    {"client_cert_means_verified_server_cert", "cert.example", "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, kVerified, "cert", "pass", ""},
    {"unverified_server_cert_fails", "cert.example", "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, kUnverified, "cert", "fail", "require_client_cert"},
    {"anonymous_server_fails", "cert.example", "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", 256, kNone, "cert", "fail", "require_client_cert"},
    {"plaintext_fails_both", "cert.example", "", "", 0, kVerified, "cert", "fail", "require_tls,require_client_cert"},
    {"cert_names_have_no_outbound_meaning", "named.example", "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, kVerified, "named", "pass", ""},
    {"cert_names_still_need_a_verified_cert", "named.example", "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, kUnverified, "named", "fail", "require_client_cert"},
    // "[defaults] applies when no partner rule covers the destination"
    {"defaults_judge_other_destinations", "random.example", "TLSv1", "AES128-SHA", 128, kNone, "default", "fail", "min_version", true},
    {"defaults_pass", "random.example", "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, kNone, "default", "pass", "", true},
};

std::string names(const OutboundVerdict& v) {
    std::string s;
    for (const RuleOutcome& o : v.rules) s += (s.empty() ? "" : ",") + o.rule->name;
    return s;
}

std::string failed(const OutboundVerdict& v) {
    std::string s;
    for (const RuleOutcome& o : v.rules)
        for (const CheckResult& c : o.checks)
            if (!c.passed) s += (s.empty() ? "" : ",") + std::string(word(c.check));
    return s;
}

class OutboundCase : public ::testing::TestWithParam<Case> {};

TEST_P(OutboundCase, Judges) {
    const Case& c = GetParam();
    TlsFacts tls = make_tls_facts(c.version, c.cipher, std::to_string(c.bits), "", {});
    tls.cert.status = c.server_cert;
    const OutboundVerdict v = decide_outbound(c.strict ? strict_defaults() : policy(), c.domain, tls);
    EXPECT_EQ(names(v), c.want_rules);
    EXPECT_EQ(word(v.result), c.want_result);
    EXPECT_EQ(failed(v), c.want_failed);
}

INSTANTIATE_TEST_SUITE_P(Outbound, OutboundCase, ::testing::ValuesIn(kCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(Outbound, MatchesSayWhichSenderEntryCovered) {
    std::vector<Match> m;
    policy().match_destinations("x.acme.example", m);
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].selector, Selector::Sender);
    EXPECT_EQ(m[0].entry, 1u);  // ".acme.example"
}

TEST(Outbound, RequirementsKeepEverythingButTheCertificateNames) {
    Requirements q = tls_at_least(TlsVersion::TLSv1_2);
    q.cert_subjects = {entry("mx.example")};
    q.cert_issuers = {"CA"};
    q.require_client_cert = true;
    const Requirements o = outbound_requirements(q);
    EXPECT_TRUE(o.require_tls && o.require_client_cert);
    EXPECT_EQ(o.min_version, TlsVersion::TLSv1_2);
    EXPECT_TRUE(o.cert_subjects.empty() && o.cert_issuers.empty());
}

}  // namespace
}  // namespace tlspolicy
