// The header stamped on every accepted message:
//   AUTHSERV-ID; version=TLS1_2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128; policy=acme result=pass
#pragma once
#include <span>
#include <string>
#include <string_view>

#include "core/verdict.hpp"

namespace tlspolicy {

// What a message's verdicts add up to: the rules that applied (sender side
// first, each named once), the result, and in monitor mode the most severe
// refusal that was let through.
struct MessageOutcome {
    std::string rules;  // "acme,hr", or "default"
    Result result = Result::None;
    Decision would = Decision::Accept;
    const Reply* would_reply = nullptr;  // the reply enforce mode would have sent
};
MessageOutcome summarize(const Verdict& sender, std::span<const Verdict> recipients);

// The header value for a message: TLS facts of the session, the rules of its
// sender verdict and of the recipient verdicts it was accepted with.
std::string header_value(std::string_view authserv_id, const TlsFacts& tls, const Verdict& sender,
                         std::span<const Verdict> recipients);

// True when an existing header value carries `authserv_id` as its first
// token, i.e. claims to be ours (for strip_forged). Case-insensitive.
bool claims_authserv_id(std::string_view header_value, std::string_view authserv_id);

}  // namespace tlspolicy
