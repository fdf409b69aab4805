// The report's tallies fed in memory: rule identity taken from the rows (and
// guessed from the current policy only for rows that kept names only), the
// evidence per rule and calendar month, and the policy versions as spans.
#include <gtest/gtest.h>

#include "report/evidence.hpp"
#include "report/tally.hpp"
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
        report::Gatherer g(policy, nullptr, report::make_window(kMay8, 7 * kDay));
        g.add(c.o);
        std::vector<std::string> got;
        for (const auto& t : g.finish().rules) got.push_back(t.name);
        EXPECT_EQ(got, c.want_rules) << c.name;
    }
}

TEST(ReportRuleKinds, RcptRowsOfOldSchemasListRecipientRules) {
    const Policy policy = current_policy();
    auto kinds = report::rule_kinds(row(kMay8, {{"acme", P}}, false, Stage::Rcpt), policy);
    ASSERT_EQ(kinds.size(), 1u);
    EXPECT_EQ(kinds[0], (RuleRef{"acme", R})) << "on a RCPT row every rule is a recipient rule";
}

struct MonthWant {
    std::string rule;  // "partner acme"
    std::string month;
    std::int64_t messages, modern, older, plaintext, refused, would_refuse;
};

std::vector<MonthWant> months_of(const report::Evidence& ev) {
    std::vector<MonthWant> out;
    for (const auto& e : ev.rules)
        for (const auto& m : e.months)
            if (m.messages || m.refused || m.would_refuse)
                out.push_back({std::string(word(e.kind)) + " " + e.name, m.name, m.messages,
                               m.modern, m.older, m.plaintext, m.refused, m.would_refuse});
    return out;
}

bool operator==(const MonthWant& a, const MonthWant& b) {
    return std::tie(a.rule, a.month, a.messages, a.modern, a.older, a.plaintext, a.refused, a.would_refuse) ==
           std::tie(b.rule, b.month, b.messages, b.modern, b.older, b.plaintext, b.refused, b.would_refuse);
}
void PrintTo(const MonthWant& m, std::ostream* os) {
    *os << m.rule << " " << m.month << ": messages " << m.messages << " (" << m.modern << "/" << m.older << "/"
        << m.plaintext << ") refused " << m.refused << " would " << m.would_refuse;
}

TEST(ReportEvidence, CountsPerRuleAndCalendarMonth) {
    const std::int64_t apr20 = kMay8 - 18 * kDay, mar20 = apr20 - 31 * kDay;
    auto with = [](Observation o, TlsVersion v, Decision action, Decision would) {
        o.version = v;
        if (v == TlsVersion::None) o.cipher.clear();
        o.action = action;
        o.would = would;
        return o;
    };
    constexpr auto A = Decision::Accept, J = Decision::Reject, T = Decision::Tempfail;
    const std::vector<Observation> rows{
        with(row(mar20, {{"acme", P}}), TlsVersion::TLSv1_3, A, A),
        with(row(mar20, {{"acme", P}}), TlsVersion::TLSv1_0, A, J),           // monitor: would be refused
        with(row(apr20, {{"acme", P}}), TlsVersion::None, J, A),              // refused at MAIL FROM
        with(row(apr20, {{"acme", P}, {"hr", R}}), TlsVersion::TLSv1_2, A, A),  // a message for both
        with(row(apr20, {{"hr", R}}, true, Stage::Rcpt), TlsVersion::TLSv1_2, T, A),  // hr refused at RCPT
        with(row(apr20, {{"hr", R}}, true, Stage::Rcpt), TlsVersion::TLSv1_2, A, J),  // hr would refuse
        with(row(apr20, {{"hr", R}, {"default", D}}), TlsVersion::TLSv1_2, A, T),  // sender side's would: not hr's
        with(row(kMay8, {{"hr", P}}), TlsVersion::TLSv1_3, A, A),             // hr was a partner rule then
        with(row(kMay8, {{"hr", P}}, false), TlsVersion::None, A, A),         // an old row: hr guessed recipient
    };
    const Policy policy = current_policy();
    report::EvidenceTally tally(policy, kMay8 - 60 * kDay, kMay8);
    for (const Observation& o : rows) tally.add(o);
    report::Evidence ev = tally.finish({});
    const std::vector<MonthWant> want{
        {"partner acme", "2024-03", 2, 1, 1, 0, 0, 1},
        {"partner acme", "2024-04", 1, 1, 0, 0, 1, 0},
        {"recipient hr", "2024-04", 2, 2, 0, 0, 1, 1},
        {"recipient hr", "2024-05", 1, 0, 0, 1, 0, 0},
        {"partner hr", "2024-05", 1, 1, 0, 0, 0, 0},
    };
    EXPECT_EQ(months_of(ev), want);
    ASSERT_EQ(ev.rules.size(), 3u);
    EXPECT_EQ(ev.rules[2].name, "hr");
    EXPECT_FALSE(ev.rules[2].in_policy) << "hr is no partner rule today";
    ASSERT_EQ(ev.rules[0].months.size(), 3u) << "60 days back from May 8 touch March, April and May";
    EXPECT_EQ(ev.rules[0].months[0].from, kMay8 - 60 * kDay) << "the first month is cut to the window";
    EXPECT_EQ(ev.rules[0].months[1].from, 1711929600) << "April starts at 2024-04-01T00:00:00Z";
    EXPECT_EQ(ev.rules[0].months[2].until, kMay8);
    EXPECT_EQ(ev.rules[0].total.messages, 3);
    ASSERT_TRUE(ev.rules[0].total.weakest);
    EXPECT_EQ(ev.rules[0].total.weakest->strength.version, TlsVersion::None);
    EXPECT_TRUE(ev.rules[0].total.weakest->refused) << "the plaintext session was refused";
}

TEST(ReportEvidence, NoRowsStillListsEveryRuleOfThePolicy) {
    const Policy policy = current_policy();
    report::EvidenceTally tally(policy, kMay8 - 5 * kDay, kMay8);
    report::Evidence ev = tally.finish({});
    ASSERT_EQ(ev.rules.size(), 2u);
    EXPECT_EQ(ev.rules[0].name + "/" + ev.rules[1].name, "acme/hr");
    EXPECT_EQ(ev.rules[0].months.size(), 1u);
    EXPECT_EQ(ev.rules[0].total.messages, 0);
    EXPECT_TRUE(ev.versions.empty());
}

TEST(ReportVersions, SpansPerHostMergedPerFileAndMode) {
    constexpr std::int64_t S = 1000, U = 2000;  // the window
    const std::string a(64, 'a'), b(64, 'b');
    struct Case {
        const char* name;
        std::vector<PolicyVersion> versions;
        std::vector<report::VersionSpan> want;
    };
    const Case cases[] = {
        {"none recorded", {}, {}},
        {"one before the window, still in force", {{500, "mx1", a, Mode::Monitor}}, {{a, Mode::Monitor, S, U, true, {"mx1"}}}},
        {"replaced inside the window",
         {{500, "mx1", a, Mode::Monitor}, {1500, "mx1", b, Mode::Enforce}},
         {{a, Mode::Monitor, S, 1500, false, {"mx1"}}, {b, Mode::Enforce, 1500, U, true, {"mx1"}}}},
        {"the same file on two hosts is one span",
         {{500, "mx1", a, Mode::Enforce}, {1200, "mx2", a, Mode::Enforce}},
         {{a, Mode::Enforce, S, U, true, {"mx1", "mx2"}}}},
        {"the same file in another mode is another version",
         {{500, "mx1", a, Mode::Monitor}, {1200, "mx1", a, Mode::Enforce}},
         {{a, Mode::Monitor, S, 1200, false, {"mx1"}}, {a, Mode::Enforce, 1200, U, true, {"mx1"}}}},
        {"replaced before the window: not in force in it",
         {{100, "mx1", a, Mode::Enforce}, {500, "mx1", b, Mode::Enforce}},
         {{b, Mode::Enforce, S, U, true, {"mx1"}}}},
        {"a reload with the same file is no new span",
         {{1100, "mx1", a, Mode::Enforce}, {1300, "mx1", a, Mode::Enforce}},
         {{a, Mode::Enforce, 1100, U, true, {"mx1"}}}},
    };
    for (const Case& c : cases) {
        auto got = report::version_spans(c.versions, S, U);
        ASSERT_EQ(got.size(), c.want.size()) << c.name;
        for (std::size_t i = 0; i < got.size(); ++i) {
            EXPECT_EQ(got[i].sha256.substr(0, 1) + " " + std::string(word(got[i].mode)),
                      c.want[i].sha256.substr(0, 1) + " " + std::string(word(c.want[i].mode)))
                << c.name << " #" << i;
            EXPECT_EQ(std::tie(got[i].from, got[i].until, got[i].current, got[i].hosts),
                      std::tie(c.want[i].from, c.want[i].until, c.want[i].current, c.want[i].hosts))
                << c.name << " #" << i << ": got " << got[i].from << ".." << got[i].until;
        }
    }
}

}  // namespace
}  // namespace tlspolicy
