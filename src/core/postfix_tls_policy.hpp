// `export postfix-tls-policy`: the partner table turned around for mail we send,
// as Postfix smtp_tls_policy_maps lines. Pure mapping from Rule/Requirements to
// table entries; the cipher grades' contents come in as data from src/tls.
#pragma once
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "core/policy.hpp"
#include "core/text.hpp"

namespace tlspolicy {

// One Postfix cipher grade ("medium", "high") and the TLS <= 1.2 ciphers its
// default cipher list lets the smtp client negotiate, with their bits.
struct CipherGrade {
    struct Cipher {
        std::string name;
        int bits = 0;
    };
    std::string name;
    std::vector<Cipher> ciphers;
};

// One block of the table: a line "key value" with the comments above it, or
// (key empty) comments only, for what was skipped.
struct PolicyTableItem {
    std::vector<std::string> comments;  // without the leading "# "
    std::string key;                    // "acme.example" or ".acme.example"
    std::string value;                  // "encrypt protocols=>=TLSv1.2 ciphers=high"
};

// What a probe of a destination domain found (`probe --domain`), enough to
// choose a level that authenticates the server instead of `encrypt`.
struct DomainSecurity {
    std::string probed_at;                 // "2026-01-31T12:00:00Z"
    // Every MX host has DNSSEC-validated TLSA records usable for SMTP and its
    // certificate matches them, the MX answer validated too (RFC 7672).
    bool dane = false;
    // An MTA-STS policy in mode enforce covers every MX host, and each one's
    // certificate verifies and names it (RFC 8461).
    bool mta_sts_enforce = false;
    std::vector<std::string> mx_patterns;  // that policy's mx lines
    std::vector<std::string> why_not;      // what the probe found instead, for the comment
};
using DomainSecurityMap = StringMap<DomainSecurity>;

// Every domain entry in the senders of a partner rule, once, in file order,
// with the requirements of every partner rule that covers it merged (the
// strictest of each kind). A domain whose rules require TLS (require_tls or a
// client certificate requirement) gets an `encrypt` line; with probe results
// for it in `probed`, `dane-only` where DANE holds, else `secure` with the
// MTA-STS policy's mx patterns where that holds. `grades` loosest first: the
// loosest whose every cipher meets the rules is emitted.
std::vector<PolicyTableItem> postfix_tls_policy(const Policy& policy, const std::vector<CipherGrade>& grades,
                                                const DomainSecurityMap& probed = {});

// The whole table as `postmap` reads it: a header naming `source`, then the items.
void write_postfix_tls_policy(const Policy& policy, const std::vector<CipherGrade>& grades, std::string_view source,
                              std::ostream& out, const DomainSecurityMap& probed = {});

}  // namespace tlspolicy
