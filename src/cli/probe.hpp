// `probe HOST[:PORT]`: what a partner's server offers over STARTTLS, printed as
// text or JSON, and with --partner whether that rule could be met by it.
// `probe --domain DOMAIN`: the same for each MX host, with MTA-STS, DANE and
// TLS-RPT (src/cli/probe_domain.cpp).
#pragma once
#include <iosfwd>
#include <string>

#include "config/config.hpp"

namespace tlspolicy {

struct ProbeOptions {
    std::string target;       // HOST, HOST:PORT, [IPv6]:PORT
    std::string domain;       // --domain: a mail domain instead of a target
    std::string partner;      // a [[partner]] rule name, or empty
    std::string format = "text";
    int timeout = 5;          // seconds per step
    std::string helo;         // our EHLO name; empty: this host's name
};

// Exit codes beyond the common 0/1/2.
enum ProbeExit {
    kProbeConnectFailed = 3,   // no TCP connection (refused, unreachable, timeout, no such host)
    kProbeNotSmtp = 4,         // no SMTP greeting or EHLO answer (silence, garbage, refusal)
    kProbeNoStarttls = 5,      // SMTP, but no STARTTLS offered
    kProbeNoTls = 6,           // STARTTLS offered, but no TLS version completed
    kProbePartnerNotMet = 7,   // --partner: the rule's requirements cannot be met
    kProbeNoMailHost = 8,      // --domain: no MX host to probe (DNS failure, no such domain, null MX, no address)
};

int probe_command(const Config& config, const ProbeOptions& options, std::ostream& out, std::ostream& err);
int probe_domain_command(const ProbeOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tlspolicy
