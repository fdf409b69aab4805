// One SMTP transaction as the policy sees it: facts fed in protocol order
// (MAIL FROM, each RCPT TO, end of message), a verdict or the message's
// outcome back at each step. The milter glue and `explain` both walk a
// message through this, so neither decides anything of its own. No I/O.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/header_stamp.hpp"
#include "core/policy.hpp"
#include "core/verdict.hpp"

namespace tlspolicy {

// The authserv-id that opens our header: [header] authserv_id when set, else
// the MTA's own name (macro j), else "localhost". `explain` has no MTA and
// passes the machine's host name as its stand-in.
std::string_view choose_authserv_id(std::string_view configured, std::string_view mta_name);

class Transaction {
public:
    // MAIL FROM: the session's facts and the normalized sender ("" for <>).
    // The policy must outlive the transaction.
    const Verdict& begin(const Policy& policy, SessionFacts session, std::string sender);
    bool begun() const { return policy_ != nullptr; }

    // RCPT TO (normalized), after begin(). An accepted recipient counts
    // towards the message; the reference is good until the next call.
    const Verdict& add_recipient(std::string_view recipient);

    // End of message: what the sender and the accepted recipients add up to,
    // and the header value to stamp. The outcome points into this transaction.
    struct Stamp {
        MessageOutcome outcome;
        std::string header;
    };
    Stamp finish(std::string_view authserv_id) const;

    const SessionFacts& session() const { return session_; }
    const std::string& sender() const { return sender_; }
    const Verdict& sender_verdict() const { return sender_verdict_; }
    std::size_t accepted_recipients() const { return accepted_; }

private:
    const Policy* policy_ = nullptr;
    SessionFacts session_;
    std::string sender_;
    Verdict sender_verdict_;
    std::vector<Verdict> recipients_;  // accepted recipients some rule applied to
    Verdict last_;                     // the latest recipient's verdict when not kept above
    std::size_t accepted_ = 0;
};

}  // namespace tlspolicy
