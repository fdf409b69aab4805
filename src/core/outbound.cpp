// Outbound deliveries judged by the partner table (see outbound.hpp).
#include "core/outbound.hpp"

namespace tlspolicy {

Requirements outbound_requirements(const Requirements& req) {
    Requirements out = req;
    out.cert_subjects.clear();
    out.cert_issuers.clear();
    return out;
}

OutboundVerdict decide_outbound(const Policy& policy, std::string_view domain, const TlsFacts& tls) {
    OutboundVerdict v;
    thread_local std::vector<Match> matches;
    matches.clear();
    policy.match_destinations(domain, matches);
    auto judge = [&](const Rule& rule) {
        RuleOutcome o;
        o.rule = &rule;
        o.checks = judge_requirements(outbound_requirements(rule.req), tls);
        v.rules.push_back(std::move(o));
    };
    for (const Match& m : matches) {
        if (v.rules.empty() || v.rules.back().rule != &policy.partners[m.rule]) judge(policy.partners[m.rule]);
        v.rules.back().matched_by.push_back(m);
    }
    if (v.rules.empty()) judge(policy.defaults);
    bool any_check = false, failed = false;
    for (const RuleOutcome& o : v.rules) {
        any_check |= !o.checks.empty();
        failed |= o.failed();
    }
    v.result = failed ? Result::Fail : any_check ? Result::Pass : Result::None;
    return v;
}

}  // namespace tlspolicy
