// Which SMTP stages the milter must take part in, from the policy actually
// loaded. Every stage is a round trip Postfix's smtpd waits for, so a stage
// that cannot change the outcome is not asked for.
#pragma once
#include <string_view>

#include "core/policy.hpp"

namespace tlspolicy {

// The session's facts: the milter asks for these macros itself (MAIL FROM's
// list, and whichever stage decides first), whatever milter_*_macros say.
// The man page and contrib/postfix-main.cf name each (a docs test checks).
inline constexpr std::string_view kSessionMacros =
    "{tls_version} {cipher} {cipher_bits} {alg_bits} {client_addr} {client_name} {client_resolve}"
    " {verify} {cert_subject} {cert_issuer} {cn_subject} {cn_issuer}";

struct StagePlan {
    bool mail = false;             // a sender-side rule would refuse: decide at MAIL FROM
    bool mail_can_refuse = false;  // it really can (enforce mode); else MAIL needs no reply
    bool rcpt = false;             // recipient rules exist: decide at each RCPT TO
    bool rcpt_can_refuse = false;  // else RCPT needs no reply from us
    bool headers = false;          // strip_forged: read incoming headers
    // End of message is always taken: the header is stamped there, and the
    // sender side is decided there when MAIL FROM was not taken.
};

// A rule would refuse when it has a requirement and its action is not
// annotate; it can refuse when the policy also enforces. In monitor mode MAIL
// FROM is still taken (without a reply) for a rule that would refuse, so that
// a would-be refusal is logged even when the client never sends DATA.
bool would_refuse(const Rule& rule);
bool can_refuse(const Policy& policy, const Rule& rule);

StagePlan plan_stages(const Policy& policy, bool strip_forged);

}  // namespace tlspolicy
