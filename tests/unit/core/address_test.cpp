// Envelope address normalization, the spellings an address is matched in,
// and selector entry validation.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/address.hpp"
#include "core/verdict.hpp"
#include "test_policy.hpp"

namespace tlspolicy {
namespace {

TEST(Address, Normalizes) {
    struct {
        const char* raw;
        const char* want;
        const char* want_domain;
    } cases[] = {
        {"<User@Example.COM>", "user@example.com", "example.com"},
        {"user@example.com", "user@example.com", "example.com"},
        {" <user@example.com> ", "user@example.com", "example.com"},
        {"<>", "", ""},
        {"", "", ""},
        {"<@a.example,@b.example:user@example.com>", "user@example.com", "example.com"},
        {"<user@example.com.>", "user@example.com", "example.com"},
        {"<\"odd@local\"@example.com>", "odd@local@example.com", "example.com"},
        {"<postmaster>", "postmaster", ""},
        {"<\"hr\"@dest.test>", "hr@dest.test", "dest.test"},
        {"<\"h\\r\"@dest.test>", "hr@dest.test", "dest.test"},
        {"<h\\r@dest.test>", "hr@dest.test", "dest.test"},
        {"<\"h\".\"r\"@dest.test>", "h.r@dest.test", "dest.test"},
        {"<\"hr x\"@dest.test>", "hr x@dest.test", "dest.test"},
        {"<hr(note)@dest.test>", "hr@dest.test", "dest.test"},
        {"<hr@(a(b)c)dest.test>", "hr@dest.test", "dest.test"},
        {"<hr @ dest.test>", "hr@dest.test", "dest.test"},
        {"<HR@DEST.TEST..>", "hr@dest.test", "dest.test"},
        {"<\"a@b\"@c.test>", "a@b@c.test", "c.test"},
        {"<hr@[192.0.2.1]>", "hr@[192.0.2.1]", "[192.0.2.1]"},
        {"<\"hr@dest.test.\">", "hr@dest.test", "dest.test"},
    };
    for (const auto& c : cases) {
        std::string got = normalize_address(c.raw);
        EXPECT_EQ(got, c.want) << "raw '" << c.raw << "'";
        EXPECT_EQ(address_domain(got), c.want_domain) << "raw '" << c.raw << "'";
    }
}

TEST(Address, Forms) {
    struct {
        const char* address;  // normalized
        const char* delimiters;
        std::vector<std::string> want;
    } cases[] = {
        {"hr@dest.test", "+", {"hr@dest.test"}},
        {"hr+x@dest.test", "+", {"hr+x@dest.test", "hr@dest.test"}},
        {"hr+x@dest.test", "", {"hr+x@dest.test"}},
        {"hr-x+y@dest.test", "+-", {"hr-x+y@dest.test", "hr@dest.test"}},
        {"+hr@dest.test", "+", {"+hr@dest.test"}},  // Postfix does not split at the first character
        {"hr%dest.test@relay.test", "+", {"hr%dest.test@relay.test", "hr@dest.test"}},
        {"hr%dest.test%a.test@relay.test", "+", {"hr%dest.test%a.test@relay.test", "hr%dest.test@a.test", "hr@dest.test"}},
        {"dest.test!hr@relay.test", "+", {"dest.test!hr@relay.test", "hr@dest.test"}},
        {"dest.test!hr", "+", {"dest.test!hr", "hr@dest.test"}},
        {"hr@dest.test@relay.test", "+", {"hr@dest.test@relay.test", "hr@dest.test"}},
        {"hr%dest.test.@relay.test", "+", {"hr%dest.test.@relay.test", "hr@dest.test"}},
        {"hr+x%dest.test@relay.test", "+", {"hr+x%dest.test@relay.test", "hr@relay.test", "hr+x@dest.test", "hr@dest.test"}},
        {"hr", "+", {"hr"}},
        {"hr+x", "+", {"hr+x", "hr"}},
    };
    for (const auto& c : cases) {
        std::vector<std::string> got;
        address_forms(c.address, c.delimiters, got);
        EXPECT_EQ(got, c.want) << c.address << " with delimiters '" << c.delimiters << "'";
    }
}

// A [[recipient]] rule for hr@dest.test must apply to every spelling the MTA
// delivers to hr's mailbox, and to no other mailbox.
TEST(Address, ProtectedRecipientMatchesEverySpelling) {
    using namespace tlspolicy::testing;
    Policy p;
    p.recipients.push_back(make_rule(RuleKind::Recipient, {.name = "hr", .recipients = {"hr@dest.test"}}));
    p.recipients.push_back(make_rule(RuleKind::Recipient, {.name = "health", .recipients = {"health.test"}}));
    p.build_indexes();
    struct {
        const char* rcpt;  // as the client wrote it in RCPT TO
        const char* want;  // the rules that apply
    } cases[] = {
        {"<hr@dest.test>", "hr"},
        {"<HR@Dest.Test>", "hr"},
        {"<hr@dest.test.>", "hr"},
        {"<\"hr\"@dest.test>", "hr"},
        {"<\"h\\r\"@dest.test>", "hr"},
        {"<h\\r@dest.test>", "hr"},
        {"<hr(comment)@dest.test>", "hr"},
        {"<@relay.test:hr@dest.test>", "hr"},
        {"<@a.test,@b.test:hr@dest.test>", "hr"},
        {"<hr+x@dest.test>", "hr"},
        {"<hr+@dest.test>", "hr"},
        {"<\"hr+x\"@dest.test>", "hr"},
        {"<hr%dest.test@dest.test>", "hr"},
        {"<hr%dest.test@other.test>", "hr"},
        {"<hr%dest.test.@other.test>", "hr"},
        {"<dest.test!hr@dest.test>", "hr"},
        {"<\"hr@dest.test\"@relay.test>", "hr"},
        {"<hr>", "hr"},
        {"<hr+x>", "hr"},
        {"<hr@[127.0.0.1]>", "hr"},
        {"<anyone+x@health.test>", "health"},
        {"<anyone%health.test@dest.test>", "health"},
        {"<hr%health.test@dest.test>", "health"},  // hr at health.test, not hr@dest.test
        // Other mailboxes stay other mailboxes.
        {"<hr2@dest.test>", ""},
        {"<hrx@dest.test>", ""},
        {"<h.r@dest.test>", ""},
        {"<xhr@dest.test>", ""},
        {"<hr@dest.test.evil>", ""},
        {"<hr@sub.dest.test>", ""},
        {"<+hr@dest.test>", ""},
        {"<hr-x@dest.test>", ""},  // '-' is not a delimiter here
        {"<>", ""},
    };
    for (const auto& c : cases) {
        Verdict v = decide_recipient(p, SessionFacts{}, normalize_address(c.rcpt));
        std::string got;
        for (const RuleOutcome& o : v.rules) got += (got.empty() ? "" : ",") + o.rule->name;
        EXPECT_EQ(got, c.want) << "RCPT TO:" << c.rcpt << ": got rules '" << got << "', want '" << c.want << "'";
    }
    p.recipient_delimiter = "+-";
    EXPECT_EQ(decide_recipient(p, SessionFacts{}, "hr-x@dest.test").rules.size(), 1u);
    p.recipient_delimiter = "";
    EXPECT_EQ(decide_recipient(p, SessionFacts{}, "hr+x@dest.test").rules.size(), 0u);
}

TEST(Address, PartnerSenderMatchesEverySpelling) {
    using namespace tlspolicy::testing;
    Policy p;
    p.partners.push_back(make_rule(RuleKind::Partner, {.name = "billing", .senders = {"billing@acme.test"}}));
    p.build_indexes();
    for (const char* sender : {"<Billing@ACME.test.>", "<\"billing\"@acme.test>", "<billing+2026@acme.test>",
                               "<billing%acme.test@relay.test>"}) {
        Verdict v = decide_sender(p, SessionFacts{}, normalize_address(sender));
        ASSERT_EQ(v.rules.size(), 1u) << sender;
        EXPECT_EQ(v.rules[0].rule->name, "billing") << sender;
    }
    EXPECT_EQ(decide_sender(p, SessionFacts{}, normalize_address("<billing2@acme.test>")).rules[0].rule->kind,
              RuleKind::Defaults);
}

TEST(Entry, ParsesKinds) {
    struct {
        const char* text;
        EntryKind kind;
        const char* key;
    } cases[] = {
        {"example.com", EntryKind::Domain, "example.com"},
        {"Example.COM.", EntryKind::Domain, "example.com"},
        {".example.com", EntryKind::Subdomains, "example.com"},
        {"Billing@Example.com", EntryKind::Address, "billing@example.com"},
        {"xn--mnchen-3ya.example", EntryKind::Domain, "xn--mnchen-3ya.example"},
        {"localhost", EntryKind::Domain, "localhost"},
        {"\"HR\"@Dest.Test", EntryKind::Address, "hr@dest.test"},
        {"h\\r@dest.test", EntryKind::Address, "hr@dest.test"},
    };
    for (const auto& c : cases) {
        std::string error;
        auto e = parse_entry(c.text, true, &error);
        ASSERT_TRUE(e) << c.text << ": " << error;
        EXPECT_EQ(e->kind, c.kind) << c.text;
        EXPECT_EQ(e->key, c.key);
    }
}

TEST(Entry, RejectsWithReason) {
    struct {
        const char* text;
        bool allow_address;
        const char* want;
    } cases[] = {
        {"", true, "'': an entry may not be empty"},
        {"*.example.com", true, "'*.example.com': wildcards are not supported: did you mean '.example.com'?"},
        {"@example.com", true, "'@example.com': did you mean 'example.com' (that domain) or '.example.com' (its subdomains)?"},
        {"user@example.com", false, "'user@example.com': hostnames take host names, not addresses"},
        {"203.0.113.5", false, "'203.0.113.5': this is an IP address: put it in 'clients'"},
        {"exa mple.com", true, "'exa mple.com': an entry may not contain spaces or control characters"},
        {"example..com", true, "'example..com': it has an empty label (two dots in a row, or a dot at the end)"},
        {"-bad.example", true, "'-bad.example': a label starts or ends with '-'"},
        {"bad!.example", true, "'bad!.example': it contains '!', which no host name has"},
        {"m\xc3\xbcnchen.example", true, "'m\xc3\xbcnchen.example': it is not ASCII: write the A-label form (xn--...)"},
        {"user@", true, "'user@': the domain is empty"},
        {".", true, "'.': the domain is empty"},
        {"@route:u@x.test", true, "'@route:u@x.test': a source route never reaches the filter: write the address alone, 'u@x.test'"},
        {"a@b@c.test", true, "'a@b@c.test': an address has one '@': write the mailbox it reaches, 'a@b' (its other spellings are matched too)"},
        {"\"\"@c.test", true, "'\"\"@c.test': the local part is empty"},
    };
    for (const auto& c : cases) {
        std::string error;
        EXPECT_FALSE(parse_entry(c.text, c.allow_address, &error)) << c.text;
        EXPECT_EQ(error, c.want);
    }
}

}  // namespace
}  // namespace tlspolicy
