// The one log line per decision, key=value and greppable, worded like the
// header where they overlap:
//   4Xyz1: stage=mail action=reject result=fail policy=acme client=203.0.113.5
//   hostname=mail.acme.example sender=<a@acme.example> version=TLS1_0
//   cipher=ECDHE-RSA-AES256-SHA bits=256/256 reply="550 5.7.10 ..."
#pragma once
#include <span>
#include <string>
#include <string_view>

#include "core/header_stamp.hpp"
#include "core/verdict.hpp"

namespace tlspolicy {

// "accept", "reject", "tempfail", or in monitor mode "would_reject" /
// "would_tempfail": the action word of logs and metrics.
std::string_view action_word(Decision action, Decision would);
std::string_view action_word(const Verdict& v);  // what the MTA is told, or in monitor mode would be

// A refusal at MAIL FROM or RCPT TO (rcpt empty for MAIL FROM); in monitor
// mode the refusal enforcing would have made (action=would_reject ...).
std::string refusal_log_line(std::string_view queue_id, const SessionFacts& s, std::string_view sender,
                             std::string_view rcpt, const Verdict& v);

// An accepted message at end of message: what was stamped, and in monitor
// mode what enforcing would have done (action=would_reject reply="...").
// recipients: how many RCPT TO the milter accepted; 0 means the RCPT stage was not
// negotiated (no recipient rules), and then the line has no rcpts= field.
std::string message_log_line(std::string_view queue_id, const SessionFacts& s, std::string_view sender,
                             std::size_t recipients, const MessageOutcome& m);

}  // namespace tlspolicy
