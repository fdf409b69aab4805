// `export`: the policy file written for another program; so far the Postfix
// TLS policy table for mail we send to partners (postfix-tls-policy).
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/postfix_tls_policy.hpp"

namespace tlspolicy {

// Postfix's default "medium" and "high" cipher grades as the local OpenSSL
// expands them, loosest first.
std::vector<CipherGrade> postfix_cipher_grades();

struct ExportOptions {
    std::string format;   // "postfix-tls-policy"
    bool probe = false;   // --probe: probe each domain first (DANE, MTA-STS)
    int timeout = 5;      // seconds per step of those probes
};

// Writes the table in `format` ("postfix-tls-policy") to `out`; 0, or 2 for
// an unknown format.
int export_table(const Config& config, const ExportOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tlspolicy
