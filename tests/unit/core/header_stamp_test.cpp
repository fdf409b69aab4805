// The header value, byte for byte, and recognising forged copies.
#include <gtest/gtest.h>

#include "core/header_stamp.hpp"
#include "test_policy.hpp"

namespace tlspolicy {
namespace {

using namespace tlspolicy::testing;

const Policy& policy() {
    static const Policy p = [] {
        Policy q;
        q.defaults.name = "default";
        q.partners.push_back(make_rule(RuleKind::Partner, {.name = "acme", .senders = {"acme.example"}, .req = tls_at_least(TlsVersion::TLSv1_2), .action = Action::Reject}));
        q.partners.push_back(make_rule(RuleKind::Partner, {.name = "watch", .senders = {"watch.example"}, .req = tls_required(), .action = Action::Annotate}));
        q.recipients.push_back(make_rule(RuleKind::Recipient, {.name = "hr", .recipients = {"hr@example.com"}, .req = tls_at_least(TlsVersion::TLSv1_3), .action = Action::Annotate}));
        q.recipients.push_back(make_rule(RuleKind::Recipient, {.name = "acme", .recipients = {"acme@example.com"}}));
        q.build_indexes();
        return q;
    }();
    return p;
}

struct Case {
    const char* name;
    const char* version;
    const char* cipher;
    const char* bits;
    const char* alg_bits;
    const char* sender;
    std::vector<const char*> rcpts;
    const char* want;
};

TEST(HeaderStamp, Value) {
    const Case cases[] = {
        {"tls12_pass", "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "128", "128", "a@acme.example", {},
         "mx.example.com; version=TLS1_2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128; policy=acme result=pass"},
        {"plaintext_default_none", "", "", "", "", "a@other.example", {},
         "mx.example.com; version=none cipher=none bits=0/0; policy=default result=none"},
        {"tls13_default_none", "TLSv1.3", "TLS_AES_256_GCM_SHA384", "256", "256", "a@other.example", {},
         "mx.example.com; version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256; policy=default result=none"},
        {"plaintext_annotate_fail", "", "", "", "", "a@watch.example", {},
         "mx.example.com; version=none cipher=none bits=0/0; policy=watch result=fail"},
        {"tls10_meets_require_tls", "TLSv1", "ECDHE-RSA-AES256-SHA", "256", "256", "a@watch.example", {},
         "mx.example.com; version=TLS1_0 cipher=ECDHE-RSA-AES256-SHA bits=256/256; policy=watch result=pass"},
        {"used_differs_from_alg", "TLSv1", "DES-CBC3-SHA", "112", "168", "a@other.example", {},
         "mx.example.com; version=TLS1_0 cipher=DES-CBC3-SHA bits=112/168; policy=default result=none"},
        {"recipient_rule_added", "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "128", "128", "a@acme.example", {"hr@example.com"},
         "mx.example.com; version=TLS1_2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128; policy=acme,hr result=fail"},
        {"recipient_rule_same_name_once", "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "128", "128", "a@acme.example", {"acme@example.com", "hr@example.com", "x@example.com"},
         "mx.example.com; version=TLS1_2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128; policy=acme,hr result=fail"},
        {"recipient_pass_makes_pass", "TLSv1.3", "TLS_AES_128_GCM_SHA256", "128", "128", "a@other.example", {"hr@example.com"},
         "mx.example.com; version=TLS1_3 cipher=TLS_AES_128_GCM_SHA256 bits=128/128; policy=default,hr result=pass"},
        {"hostile_cipher_sanitised", "TLSv1.2", "X; result=pass\r\nX-Evil: 1", "128", "", "a@other.example", {},
         "mx.example.com; version=TLS1_2 cipher=X__result_pass__X-Evil__1 bits=128/0; policy=default result=none"},
        {"unknown_version", "TLSv1.9", "NEW-CIPHER", "256", "", "a@other.example", {},
         "mx.example.com; version=unknown cipher=NEW-CIPHER bits=256/0; policy=default result=none"},
    };
    for (const auto& c : cases) {
        CipherInfo info;
        info.alg_bits = 0;
        SessionFacts s = make_session("127.0.0.1", "", make_tls_facts(c.version, c.cipher, c.bits, c.alg_bits, info));
        Verdict sender = decide_sender(policy(), s, c.sender);
        std::vector<Verdict> rcpts;
        for (const char* r : c.rcpts) rcpts.push_back(decide_recipient(policy(), s, r));
        EXPECT_EQ(header_value("mx.example.com", s.tls, sender, rcpts), c.want) << c.name;
    }
}

// The outcome keeps each rule with its kind: a partner and a recipient rule
// of the same name stay two rules, though the header names them once.
TEST(HeaderStamp, OutcomeKeepsRuleKinds) {
    SessionFacts s = make_session("127.0.0.1", "", make_tls_facts("TLSv1.2", "X", "128", "128", CipherInfo{}));
    Verdict sender = decide_sender(policy(), s, "a@acme.example");
    std::vector<Verdict> rcpts{decide_recipient(policy(), s, "acme@example.com"),
                               decide_recipient(policy(), s, "hr@example.com"),
                               decide_recipient(policy(), s, "hr@example.com")};
    const MessageOutcome m = summarize(sender, rcpts);
    const std::vector<RuleRef> want{
        {"acme", RuleKind::Partner}, {"acme", RuleKind::Recipient}, {"hr", RuleKind::Recipient}};
    EXPECT_EQ(m.rules, want);
    EXPECT_EQ(rule_names(m.rules), "acme,hr");
    const MessageOutcome none = summarize(decide_sender(policy(), s, "a@other.example"), {});
    EXPECT_EQ(none.rules, (std::vector<RuleRef>{{"default", RuleKind::Defaults}}));
}

TEST(HeaderStamp, AlgBitsFromCipherTableWhenMtaSendsNone) {
    CipherInfo info;
    info.alg_bits = 168;
    TlsFacts t = make_tls_facts("TLSv1.2", "DES-CBC3-SHA", "112", "", info);
    EXPECT_EQ(t.alg_bits, 168);
    TlsFacts sendmail = make_tls_facts("TLSv1.2", "DES-CBC3-SHA", "112", "168", CipherInfo{});
    EXPECT_EQ(sendmail.alg_bits, 168);
}

TEST(HeaderStamp, AuthservIdSanitised) {
    SessionFacts s = make_session("127.0.0.1", "", {});
    Verdict v = decide_sender(policy(), s, "");
    EXPECT_EQ(header_value("mx.example.com\r\nX: y", s.tls, v, {}),
              "mx.example.com__X__y; version=none cipher=none bits=0/0; policy=default result=none");
}

TEST(HeaderStamp, ClaimsAuthservId) {
    struct {
        const char* value;
        bool want;
    } cases[] = {
        {"mx.example.com; version=TLS1_3 cipher=x bits=1/1; policy=a result=pass", true},
        {" MX.Example.COM ; version=none", true},
        {"\r\n\tmx.example.com; version=none", true},
        {"mx.example.com", true},
        {"mx.example.com.evil; version=none", false},
        {"other.example; version=none", false},
        {"", false},
        // RFC 8601 spellings of the same authserv-id.
        {"mx.example.com (comment); version=TLS1_3", true},
        {"(lead) mx.example.com; version=TLS1_3", true},
        {"(nested (comment) \\) here) mx.example.com; x", true},
        {"mx.example.com 1; version=TLS1_3", true},
        {"mx.example.com\r\n\t1 ; version=TLS1_3", true},
        {"\"mx.example.com\"; version=TLS1_3", true},
        {"\"MX.example.com\" 1; version=TLS1_3", true},
        {"\"mx.exam\\ple.com\"; version=TLS1_3", true},
        {"mx.example.com.; version=TLS1_3", true},
        {"mx.example.com..; version=TLS1_3", true},
        {"mx.example.com;version=TLS1_3", true},
        {"mx.example.com:1; x", true},
        // Foreign ids stay.
        {"mx.example.com.evil.example; version=none", false},
        {"mx.example.co; version=none", false},
        {"mx.example.comm; version=none", false},
        {"xmx.example.com; version=none", false},
        {"\"mx.example.com x\"; version=none", false},
        {"\"mx.example.com; version=none", false},
        {"(mx.example.com) other.example; x", false},
        {"(unclosed mx.example.com; x", false},
        {"; mx.example.com", false},
    };
    for (const auto& c : cases) EXPECT_EQ(claims_authserv_id(c.value, "mx.example.com"), c.want) << "'" << c.value << "'";
    EXPECT_TRUE(claims_authserv_id("mx.example.com; x", "MX.Example.com."));  // our id as configured
    EXPECT_FALSE(claims_authserv_id("; x", ""));
}

}  // namespace
}  // namespace tlspolicy
