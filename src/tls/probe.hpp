// `probe`: a partner's SMTP server seen from outside. EHLO, then STARTTLS once
// per protocol version on fresh connections; what each negotiates and the
// server certificate. Never sends MAIL. Plain data out (src/tls/probe.cpp).
#pragma once
#include <string>
#include <vector>

#include "core/tls_version.hpp"
#include "tls/connection.hpp"

namespace tlspolicy::probe {

struct Target {
    std::string host;            // name or address, as given
    std::string address;         // connect here instead of resolving host (SNI and names still host's)
    std::string port = "25";
    std::vector<TlsaRecord> tlsa;  // DNSSEC-validated TLSA records of host: each handshake checks them
    int step_timeout_ms = 5000;  // each connect, read, write, handshake
    int total_timeout_ms = 60000;
    std::string helo;            // our EHLO name; empty: this host's name
};

// Where a conversation stopped.
enum class Stage { Connect, Banner, Ehlo, Starttls, Handshake, EhloAfterTls, Done };
std::string_view stage_name(Stage s);  // "connect", "banner", "EHLO", ...

struct Attempt {
    TlsVersion version = TlsVersion::None;
    bool accepted = false;      // handshake done and EHLO answered under TLS
    Stage stopped = Stage::Done;
    StepError::Kind error_kind = StepError::None;
    std::string error;          // why not accepted: the server's answer or the error
    TlsSession tls;             // valid when the handshake completed
};

struct Report {
    Target target;
    std::string address;        // what was connected to
    std::string banner;         // "220 mx.example ESMTP"
    std::string ehlo;           // first line of the first EHLO reply
    bool starttls_offered = false;
    // A failure before any version could be tried: the other fields say how far it got.
    Stage stopped = Stage::Done;
    StepError::Kind error_kind = StepError::None;
    std::string error;
    std::vector<Attempt> attempts;  // TLS 1.0 to 1.3, when STARTTLS was offered
};

// The whole probe; bounded by target.total_timeout_ms.
Report run(const Target& target);

// One more connection: STARTTLS at `version`, offering only `ciphers` (TLS <= 1.2)
// or `suites` (TLS 1.3); for checking a rule's cipher requirements. Shares the
// deadline given.
Attempt try_version(const Target& target, TlsVersion version, const std::string& ciphers, const std::string& suites,
                    Clock::time_point deadline);

}  // namespace tlspolicy::probe
