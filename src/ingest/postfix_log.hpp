// The two lines of Postfix's smtp client that an outbound observation is made
// of, read by their shape in Postfix's source:
//   src/tls/tls_misc.c tls_log_summary() (smtp_tls_loglevel >= 1):
//     "Trusted TLS connection established to mx.example[192.0.2.1]:25: TLSv1.3
//      with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange ..."
//     ("reused" instead of "established" for a cached connection via
//     tlsproxy, src/smtp/smtp_session.c; Postfix < 2.5 has no first word)
//   src/global/log_adhoc.c log_adhoc(), one per recipient:
//     "4Bx1yZ: to=<a@example.com>, orig_to=<...>, relay=mx.example[192.0.2.1]:25,
//      conn_use=2, delay=0.4, delays=0.1/0/0.2/0.1, tls=..., dsn=2.0.0, status=sent (250 ok)"
// Views into the message; nothing is copied or cleaned here.
#pragma once
#include <string_view>

namespace tlspolicy::ingest {

// "host[address]:port" (port optional) as both lines write the peer.
struct Peer {
    std::string_view host, address;
    int port = 0;
};
bool parse_peer(std::string_view text, Peer& out);

struct PostfixTlsLine {
    std::string_view level;  // "Verified", "Trusted", "Untrusted", "Anonymous"; "" before Postfix 2.5
    bool reused = false;     // "reused": a cached connection (tlsproxy), not a new handshake
    std::string_view peer;   // "mx.example[192.0.2.1]:25" (Postfix writes it in lower case)
    Peer parsed;
    std::string_view protocol;  // "TLSv1.3"
    std::string_view cipher;
    int used_bits = 0, alg_bits = 0;
};
bool parse_postfix_tls(std::string_view message, PostfixTlsLine& out);

struct PostfixStatusLine {
    std::string_view queue_id;
    std::string_view recipient;       // inside to=<...>, as logged
    std::string_view orig_recipient;  // "" when not logged
    std::string_view relay;           // "mx.example[192.0.2.1]:25", or "none"
    Peer parsed;                      // empty for "none"
    int conn_use = 1;
    std::string_view dsn;             // "4.7.4"
    std::string_view status;          // "sent", "deferred", "bounced", "SOFTBOUNCE", ...
    std::string_view reason;          // inside the final parentheses
};

enum class StatusParse { NotStatus, Status, Malformed };
// NotStatus: the message is not "QUEUEID: to=<". Malformed: it starts like a
// status line but does not end like one (cut, or a shape Postfix never writes).
StatusParse parse_postfix_status(std::string_view message, PostfixStatusLine& out);

// The program tags of Postfix's SMTP client: syslog_name, '/', the program
// name (src/global/mail_task.c): "postfix/smtp", "postfix-out/smtp", and
// "postfix/relay/smtp" for Debian's relay transport (syslog_name =
// postfix/$service_name). Not lmtp: local delivery.
bool is_postfix_smtp_client(std::string_view program);

}  // namespace tlspolicy::ingest
