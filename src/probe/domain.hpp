// `probe --domain`: a mail domain seen from a sending MTA. Its MX hosts (each
// probed as `probe HOST` does), MTA-STS (RFC 8461: TXT record, HTTPS policy,
// whether the policy covers the MX hosts), DANE (RFC 7672: TLSA records, their
// DNSSEC status, whether each host's certificate matches) and TLS-RPT (RFC
// 8460). Facts and their verdicts as data; src/cli/probe_domain.cpp prints them.
#pragma once
#include <string>
#include <vector>

#include "core/mta_sts.hpp"
#include "core/postfix_tls_policy.hpp"
#include "core/tls_rpt.hpp"
#include "core/tlsa.hpp"
#include "dns/resolver.hpp"
#include "tls/https_get.hpp"
#include "tls/probe.hpp"

namespace tlspolicy::probe {

struct DomainTarget {
    std::string domain;
    int step_timeout_ms = 5000;  // each lookup, connect, read, handshake
    std::string helo;            // our EHLO name; empty: this host's name
    std::string resolv_conf = "/etc/resolv.conf";
    std::size_t max_hosts = 10;  // MX hosts probed, by preference; the rest are listed
};

// How one DNS lookup ended.
struct Lookup {
    std::string name, type;  // "_mta-sts.example.com", "TXT"
    dns::Status status = dns::Status::Error;
    bool dnssec = false;     // the resolver set the AD bit
    std::string error;
};

struct TlsaFacts {
    std::string name;                 // "_25._tcp.mx1.example.com"
    Lookup lookup;
    std::vector<TlsaRecord> records;
    bool usable = false;              // DANE applies to this host (RFC 7672 2.2)
    std::string why_not;              // when records exist but DANE does not apply
};

struct MxHost {
    std::string name;
    int preference = 0;
    std::vector<Lookup> address_lookups;  // A, AAAA
    std::vector<std::string> addresses;
    bool addresses_secure = false;        // every address answer carried the AD bit
    TlsaFacts tlsa;
    bool probed = false;
    Report probe;                         // valid when probed
    const TlsSession* session() const;    // the newest accepted version's, or null
    bool sts_covered = false;             // a valid policy's mx patterns match it
};

enum class StsStatus { Ok, None, LookupFailed, InvalidTxt, FetchFailed, Certificate, HttpStatus, InvalidPolicy };
enum class DaneStatus { Ok, Partial, Mismatch, Insecure, Unusable, None, Error };
std::string_view status_word(StsStatus s);   // "ok", "none", "invalid_txt", ...
std::string_view status_word(DaneStatus s);  // "ok", "partial", "mismatch", ...

struct StsFacts {
    Lookup txt_lookup;
    mta_sts::TxtLookup txt;
    bool fetched = false;           // an HTTPS request was made
    std::string url, address;       // https://mta-sts.DOMAIN/.well-known/mta-sts.txt, where from
    std::vector<Lookup> address_lookups;
    HttpsResponse response;
    mta_sts::Policy policy;         // parsed when a body came back
    StsStatus status = StsStatus::None;
    std::vector<std::string> uncovered;  // MX hosts the policy's mx patterns do not match
    bool enforce_ready = false;     // mode enforce, valid, covers every MX host, every certificate verifies
    std::vector<std::string> problems;
};

struct DaneFacts {
    DaneStatus status = DaneStatus::None;
    std::vector<std::string> problems;
};

struct DomainReport {
    DomainTarget target;
    std::vector<std::string> nameservers;
    std::string resolver_error;     // resolv.conf unusable: nothing was looked up
    Lookup mx_lookup;
    bool implicit_mx = false;       // no MX records: the domain itself (RFC 5321 5.1)
    bool null_mx = false;           // "MX 0 ." (RFC 7505): the domain takes no mail
    std::vector<MxHost> hosts;      // by preference
    std::vector<std::string> hosts_not_probed;  // beyond max_hosts
    StsFacts sts;
    DaneFacts dane;
    Lookup rpt_lookup;
    tls_rpt::Record rpt;
};

// The whole probe. Every lookup and connection has its own timeout; a
// resolver that does not answer the MX question ends the lookups there.
DomainReport run_domain(const DomainTarget& target);

// What `export postfix-tls-policy --probe` needs to know of the domain.
DomainSecurity security_of(const DomainReport& report, std::string probed_at);

}  // namespace tlspolicy::probe
