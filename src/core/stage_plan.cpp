// Stage planning (see stage_plan.hpp).
#include "core/stage_plan.hpp"

#include <initializer_list>
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

namespace {

std::string join(std::initializer_list<Macro> macros) {
    std::string out;
    for (Macro m : macros) (out.empty() ? out : out += ' ') += word(m);
    return out;
}

}  // namespace

std::string_view session_macros() {
    static const std::string facts = [] {
        std::string out;
        for (const Word<Macro>& w : kMacroWords) {
            if (w.value == Macro::QueueId) break;  // the session's facts come first
            (out.empty() ? out : out += ' ') += w.word;
        }
        return out;
    }();
    return facts;
}

MacroLists macro_lists(const StagePlan& plan) {
    static const std::string ids = join({Macro::QueueId, Macro::Host});
    static const std::string eom_short = join({Macro::QueueId, Macro::Host, Macro::MailAddr});
    static const std::string mail = std::string(session_macros()) + " " + eom_short;  // also for later stages
    MacroLists m;
    m.mail = mail;
    // When MAIL FROM is taken, RCPT TO finds the facts in its macros already.
    if (plan.rcpt) m.rcpt = plan.mail ? std::string_view(ids) : std::string_view(mail);
    m.eom = plan.mail || plan.rcpt ? eom_short : mail;  // else the first stage taken
    return m;
}

std::string_view verified_client_name(std::string_view client_name, std::string_view client_resolve) {
    return client_resolve.empty() || client_resolve == "OK" ? client_name : std::string_view{};
}

}  // namespace tlspolicy
