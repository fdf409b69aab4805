// One decision as the observation store keeps it: the facts it was made on
// (enough to judge it again against another policy) and what was done.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/delivery.hpp"
#include "core/tls_version.hpp"
#include "core/verdict.hpp"

namespace tlspolicy {

struct Observation {
    std::int64_t time = 0;      // unix seconds
    Stage stage = Stage::Mail;  // Mail: a refusal at MAIL FROM (and, in rows written before
                                // schema 3, the accepted message too); Message: the accepted
                                // message at end of message; Rcpt: a recipient refusal
    std::string queue_id;       // "" when not yet known
    std::string client;         // client address as reported
    std::string hostname;       // verified client hostname, "" if none
    std::string sender;         // normalized envelope sender, "" for <>
    std::string recipient;      // for Rcpt decisions
    std::vector<RuleRef> rules; // the rules that applied, with their kind at the time
    std::string host;           // the MTA host that decided ("" when not recorded)
    Direction direction = Direction::Inbound;  // rows written before directions were kept: inbound
    bool rule_kinds_known = true;  // false for rows of schemas 1-2, which kept names only
    TlsVersion version = TlsVersion::None;
    std::string cipher;
    int cipher_bits = 0;
    int alg_bits = 0;
    ClientCert cert;            // what the MTA said of the client certificate (schema 2)
    Result result = Result::None;
    Decision action = Decision::Accept;  // what the MTA was told
    // The refusal (tempfail or reject) that monitor mode turned into accept;
    // Accept otherwise, also for a refusal, whose `action` already says it.
    Decision would = Decision::Accept;

    // An outbound delivery attempt (direction Outbound, read by `ingest` from
    // the MTA's log): one row per recipient per attempt. `recipient` is the
    // recipient, `cert` the *server* certificate's status, `rules`/`result`
    // the partner table's judgement, `action` the outcome as a decision (sent:
    // accept, deferred: tempfail, bounced: reject). Inbound rows keep these
    // defaults and store them as "" and 0.
    Transport transport = Transport::Unknown;
    DeliveryStatus delivery = DeliveryStatus::Sent;
    bool tls_reason = false;        // deferred or bounced because of TLS, as the MTA worded it
    std::string relay_host;         // "mx.acme.example"; "" when there was no connection
    std::string relay_address;      // "192.0.2.25"; "" when not logged
    std::string cert_verification;  // the server certificate as the MTA logged it: verified, trusted, untrusted, anonymous, ok, ...
};

}  // namespace tlspolicy
