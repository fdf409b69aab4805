// Stage planning (see stage_plan.hpp).
#include "core/stage_plan.hpp"

#include <string>

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

MacroLists macro_lists(const StagePlan& plan) {
    static const std::string facts(kSessionMacros);
    static const std::string mail = facts + " i j {mail_addr}";  // the full list, also for later stages
    static const std::string eom_short = "i j {mail_addr}";
    static const std::string eom_full = facts + " " + eom_short;
    MacroLists m;
    m.mail = mail;
    // When MAIL FROM is taken, RCPT TO finds the facts in its macros already.
    if (plan.rcpt) m.rcpt = plan.mail ? std::string_view("i j") : std::string_view(mail);
    m.eom = plan.mail || plan.rcpt ? eom_short : eom_full;
    return m;
}

std::string_view verified_client_name(std::string_view client_name, std::string_view client_resolve) {
    return client_resolve.empty() || client_resolve == "OK" ? client_name : std::string_view{};
}

}  // namespace tlspolicy
