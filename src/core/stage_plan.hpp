// Which SMTP stages the milter must take part in, from the policy actually
// loaded. Every stage is a round trip Postfix's smtpd waits for, so a stage
// that cannot change the outcome is not asked for.
#pragma once
#include "core/policy.hpp"

namespace tlspolicy {

struct StagePlan {
    bool mail = false;             // a sender-side rule can refuse: decide at MAIL FROM
    bool rcpt = false;             // recipient rules exist: decide at each RCPT TO
    bool rcpt_can_refuse = false;  // else RCPT needs no reply from us
    bool headers = false;          // strip_forged: read incoming headers
    // End of message is always taken: the header is stamped there, and the
    // sender side is decided there when MAIL FROM was not taken.
};

// A rule can refuse when it has a requirement, its action is not annotate and
// the policy enforces.
bool can_refuse(const Policy& policy, const Rule& rule);

StagePlan plan_stages(const Policy& policy, bool strip_forged);

}  // namespace tlspolicy
