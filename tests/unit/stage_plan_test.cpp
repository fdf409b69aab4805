// Which stages the milter asks the MTA for, from the policy loaded.
#include <gtest/gtest.h>

#include "core/stage_plan.hpp"
#include "test_policy.hpp"

namespace tlspolicy {
namespace {

using namespace tlspolicy::testing;

struct Case {
    const char* name;
    Mode mode;
    Action defaults_action;
    bool defaults_require_tls;
    std::vector<Action> partner_actions;    // each with require_tls
    std::vector<Action> recipient_actions;  // each with require_tls
    bool strip_forged;
    bool want_mail, want_mail_refuse, want_rcpt, want_rcpt_refuse, want_headers;
};

TEST(StagePlan, FromPolicy) {
    const Case cases[] = {
        {"annotate_only_needs_eom_only", Mode::Enforce, Action::Tempfail, false, {Action::Annotate}, {}, false, false, false, false, false, false},
        {"defaults_without_requirement_cannot_refuse", Mode::Enforce, Action::Reject, false, {}, {}, false, false, false, false, false, false},
        {"defaults_that_refuse_need_mail", Mode::Enforce, Action::Tempfail, true, {}, {}, false, true, true, false, false, false},
        {"enforcing_partner_needs_mail", Mode::Enforce, Action::Tempfail, false, {Action::Annotate, Action::Reject}, {}, false, true, true, false, false, false},
        {"recipient_rules_need_rcpt", Mode::Enforce, Action::Tempfail, false, {}, {Action::Reject}, false, false, false, true, true, false},
        {"annotate_recipients_need_no_reply", Mode::Enforce, Action::Tempfail, false, {}, {Action::Annotate}, false, false, false, true, false, false},
        {"monitor_logs_at_mail_but_never_refuses", Mode::Monitor, Action::Reject, true, {Action::Reject}, {Action::Reject}, false, true, false, true, false, false},
        {"monitor_annotate_only_needs_no_mail", Mode::Monitor, Action::Annotate, true, {Action::Annotate}, {}, false, false, false, false, false, false},
        {"strip_forged_needs_headers", Mode::Enforce, Action::Tempfail, false, {}, {}, true, false, false, false, false, true},
    };
    for (const Case& c : cases) {
        Policy p;
        p.mode = c.mode;
        p.defaults.action = c.defaults_action;
        p.defaults.req.require_tls = c.defaults_require_tls;
        for (Action a : c.partner_actions)
            p.partners.push_back(make_rule(RuleKind::Partner, {.name = "p", .senders = {"p.example"}, .req = tls_required(), .action = a}));
        for (Action a : c.recipient_actions)
            p.recipients.push_back(make_rule(RuleKind::Recipient, {.name = "r", .recipients = {"r@example.com"}, .req = tls_required(), .action = a}));
        StagePlan s = plan_stages(p, c.strip_forged);
        EXPECT_EQ(s.mail, c.want_mail) << c.name;
        EXPECT_EQ(s.mail_can_refuse, c.want_mail_refuse) << c.name;
        EXPECT_EQ(s.rcpt, c.want_rcpt) << c.name;
        EXPECT_EQ(s.rcpt_can_refuse, c.want_rcpt_refuse) << c.name;
        EXPECT_EQ(s.headers, c.want_headers) << c.name;
    }
}

}  // namespace
}  // namespace tlspolicy
