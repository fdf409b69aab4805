// The header stamped on every accepted message:
//   AUTHSERV-ID; version=TLS1_2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128; policy=acme result=pass
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/verdict.hpp"

namespace tlspolicy {

// What a message's verdicts add up to: the rules that applied (sender side
// first, each named once), the result, and in monitor mode the most severe
// refusal that was let through.
struct MessageOutcome {
    std::vector<RuleRef> rules;  // acme, hr; or the [defaults] rule alone
    Result result = Result::None;
    Decision would = Decision::Accept;
    const Reply* would_reply = nullptr;  // the reply enforce mode would have sent
};
MessageOutcome summarize(const Verdict& sender, std::span<const Verdict> recipients);

// The header value for a message: TLS facts of the session, the rules of its
// sender verdict and of the recipient verdicts it was accepted with.
std::string header_value(std::string_view authserv_id, const TlsFacts& tls, const Verdict& sender,
                         std::span<const Verdict> recipients);
// The same from the outcome already summarised (the glue needs it for the log too).
std::string header_value(std::string_view authserv_id, const TlsFacts& tls, const MessageOutcome& outcome);

// The authserv-id an existing header value opens with, read as RFC 8601
// reads Authentication-Results: leading CFWS (white space, folding, nested
// comments) skipped, a token or a quoted-string (quoting removed); what
// follows (CFWS, a version number, ';') does not change it. In canonical
// form: lower case, no trailing dot. "" when the value opens with none.
std::string authserv_id_of(std::string_view header_value);

// True when an existing header value claims to be ours (for strip_forged):
// its authserv-id is `authserv_id`, in any case, quoting or padding.
bool claims_authserv_id(std::string_view header_value, std::string_view authserv_id);

}  // namespace tlspolicy
