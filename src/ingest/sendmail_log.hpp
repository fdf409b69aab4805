// The lines of Sendmail 8.x that an outbound observation is made of, read by
// their shape in Sendmail's source:
//   sendmail/tls.c tls_get_info() (LogLevel > 8, the default is 9), no queue id:
//     "STARTTLS=client, relay=mx.example., version=TLSv1.3, verify=OK,
//      cipher=TLS_AES_256_GCM_SHA384, bits=256/256"   (bits=ALG/USED)
//     "STARTTLS=client, error: connect failed=-1, ..." when the handshake fails
//   sendmail/deliver.c logdelivery(), one line for the recipients delivered together:
//     "QUEUEID: to=<a@example.com>,<b@example.com>, ctladdr=..., delay=00:00:01,
//      xdelay=00:00:01, mailer=esmtp, pri=120, relay=mx.example. [192.0.2.1],
//      dsn=2.0.0, stat=Sent (...)"   (a long list: "... [more]" lines, each complete)
// Views into the message; nothing is copied or cleaned here.
#pragma once
#include <string_view>
#include <vector>

namespace tlspolicy::ingest {

struct SendmailTlsLine {
    bool error = false;       // "STARTTLS=client, error: ...": no TLS on this connection
    std::string_view relay;   // "mx.example." ("" when an error line names none)
    std::string_view version, verify, cipher;
    int alg_bits = 0, used_bits = 0;
};
// Only STARTTLS=client lines (STARTTLS=server is inbound).
bool parse_sendmail_tls(std::string_view message, SendmailTlsLine& out);

struct SendmailStatusLine {
    std::string_view queue_id;
    std::vector<std::string_view> recipients;  // each as logged, brackets removed
    std::string_view mailer;                   // "esmtp", "relay", "local", ...
    std::string_view relay_host;               // "mx.example." ("" when not logged)
    std::string_view relay_address;            // "192.0.2.1" ("" when not logged: no connection)
    std::string_view dsn;
    std::string_view stat;                     // "Sent (ok)", "Deferred: ...", "User unknown"
};

enum class SendmailParse { NotStatus, Status, Malformed };
SendmailParse parse_sendmail_status(std::string_view message, SendmailStatusLine& out);

// The mailers that speak SMTP to another host (cf/mailer/smtp.m4).
bool is_sendmail_smtp_mailer(std::string_view mailer);

// The program tags of Sendmail's MTA: "sendmail", and "sm-mta" as Debian names
// it. Not "sm-msp-queue": the submission queue, which relays to the local MTA.
bool is_sendmail_mta(std::string_view program);

}  // namespace tlspolicy::ingest
