// Stage planning (see stage_plan.hpp).
#include "core/stage_plan.hpp"

namespace tlspolicy {

bool would_refuse(const Rule& rule) { return rule.action != Action::Annotate && !rule.req.empty(); }

bool can_refuse(const Policy& policy, const Rule& rule) { return policy.mode == Mode::Enforce && would_refuse(rule); }

StagePlan plan_stages(const Policy& policy, bool strip_forged) {
    StagePlan plan;
    plan.mail = would_refuse(policy.defaults);
    for (const Rule& r : policy.partners) {
        if (plan.mail) break;
        plan.mail = would_refuse(r);
    }
    plan.mail_can_refuse = plan.mail && policy.mode == Mode::Enforce;
    plan.rcpt = !policy.recipients.empty();
    for (const Rule& r : policy.recipients) {
        if (plan.rcpt_can_refuse) break;
        plan.rcpt_can_refuse = can_refuse(policy, r);
    }
    plan.headers = strip_forged;
    return plan;
}

}  // namespace tlspolicy
