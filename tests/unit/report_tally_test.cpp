// The report's tallies fed in memory: rule identity taken from the rows (and
// guessed from the current policy only for rows that kept names only).
#include <gtest/gtest.h>

#include "cli/report_tally.hpp"
#include "test_policy.hpp"

namespace tlspolicy {
namespace {

using testing::make_rule;
constexpr std::int64_t kMay8 = 1715169600;  // 2024-05-08T12:00:00Z
constexpr std::int64_t kDay = 86400;

// Today's policy: acme is a partner rule, hr a recipient rule.
Policy current_policy() {
    Policy p;
    p.defaults.name = "default";
    p.partners.push_back(make_rule(RuleKind::Partner, {.name = "acme", .senders = {"acme.example"}}));
    p.recipients.push_back(make_rule(RuleKind::Recipient, {.name = "hr", .recipients = {"hr@example.com"}}));
    p.build_indexes();
    return p;
}

Observation row(std::int64_t time, std::vector<RuleRef> rules, bool kinds_known = true, Stage stage = Stage::Mail) {
    Observation o;
    o.time = time;
    o.stage = stage;
    o.sender = "someone@acme.example";
    o.rules = std::move(rules);
    o.rule_kinds_known = kinds_known;
    o.version = TlsVersion::TLSv1_3;
    o.cipher = "TLS_AES_256_GCM_SHA384";
    o.cipher_bits = o.alg_bits = 256;
    return o;
}

constexpr auto P = RuleKind::Partner, R = RuleKind::Recipient, D = RuleKind::Defaults;

// hr was a partner rule when these rows were written and acme a recipient
// rule; today it is the other way round.
TEST(ReportRuleKinds, TheStoredKindWinsOverTheCurrentPolicy) {
    struct Case {
        const char* name;
        Observation o;
        std::vector<std::string> want_rules;  // the report's "By partner rule" names
    };
    const Case cases[] = {
        {"hr was a partner rule then", row(kMay8, {{"hr", P}}), {"hr"}},
        {"acme was a recipient rule then", row(kMay8, {{"default", D}, {"acme", R}}), {"default"}},
        {"a partner and a recipient rule of one name", row(kMay8, {{"acme", P}, {"acme", R}}), {"acme"}},
        {"an old row: hr is guessed a recipient rule", row(kMay8, {{"hr", P}}, false), {"default"}},
        {"an old row: acme is guessed a partner rule", row(kMay8, {{"acme", P}}, false), {"acme"}},
        {"an old row naming a rule gone from the policy", row(kMay8, {{"gone", P}}, false), {"gone"}},
    };
    const Policy policy = current_policy();
    for (const Case& c : cases) {
        report_tally::Gatherer g(policy, nullptr, report_tally::make_window(kMay8, 7 * kDay));
        g.add(c.o);
        std::vector<std::string> got;
        for (const auto& t : g.finish().rules) got.push_back(t.name);
        EXPECT_EQ(got, c.want_rules) << c.name;
    }
}

TEST(ReportRuleKinds, RcptRowsOfOldSchemasListRecipientRules) {
    const Policy policy = current_policy();
    auto kinds = report_tally::rule_kinds(row(kMay8, {{"acme", P}}, false, Stage::Rcpt), policy);
    ASSERT_EQ(kinds.size(), 1u);
    EXPECT_EQ(kinds[0], (RuleRef{"acme", R})) << "on a RCPT row every rule is a recipient rule";
}

}  // namespace
}  // namespace tlspolicy
