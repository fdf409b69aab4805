// Whether a deferral or bounce was for TLS: the MTA's own reason texts, as its
// source writes them. Postfix's own texts open the reason (a server's reply is
// "host X said: ..."), so a server cannot pose as one; Sendmail does not tell
// its own refusals from a server's reply, so there the text is looked for.
#pragma once
#include <span>
#include <string_view>

namespace tlspolicy::ingest {

// Postfix src/smtp/smtp_proto.c (smtp_helo, smtp_start_tls), smtp_trouble.c.
inline constexpr std::string_view kPostfixTlsReasons[] = {
    "TLS is required, but was not offered by host",  // 4.7.4: no STARTTLS in EHLO
    "TLS is required, but host",                     // "... refused to start TLS: ..."
    "TLS is required, but our TLS engine is unavailable",
    "TLS is required, but unavailable",
    "Cannot start TLS: handshake failure",           // 4.7.5
    "Server certificate not verified",               // 4.7.5, levels verify/secure/dane
    "Server certificate not trusted",                // Postfix 2.x wording
    "client TLS configuration problem",              // a bad level in the policy table
    "REQUIRETLS Failure:",                           // Postfix 3.11: the sender asked for it
};

// The STARTTLS stage itself: a lost connection or timeout there is a TLS
// failure too ("lost connection with host[addr] while receiving the STARTTLS response").
inline constexpr std::string_view kPostfixStarttlsStage = "while receiving the STARTTLS response";

// Sendmail cf/m4/proto.m4, ruleset tls_server (the access map's TLS_Srv:
// requirements and handshake failures), as "403 4.7.0 <text>".
inline constexpr std::string_view kSendmailTlsReasons[] = {
    "TLS handshake failed", "DANE check failed", "STARTTLS failed", "STARTTLS temporarily not possible",
    "authentication required", "authentication failed", "not authenticated", "no authentication requested",
    "other side does not support STARTTLS", "STARTTLS disabled locally", "authentication failure",
    "encryption too weak",
};

bool postfix_tls_reason(std::string_view reason);
bool sendmail_tls_reason(std::string_view stat);

}  // namespace tlspolicy::ingest
