// `export postfix-tls-policy`: the partner table turned around for mail we send,
// as Postfix smtp_tls_policy_maps lines. Pure mapping from Rule/Requirements to
// table entries; the cipher grades' contents come in as data from src/tls.
#pragma once
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "core/policy.hpp"

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

// Every domain entry in the senders of a partner rule, once, in file order,
// with the requirements of every partner rule that covers it merged (the
// strictest of each kind). A domain whose rules require TLS (require_tls or a
// client certificate requirement) gets an `encrypt` line. `grades` loosest
// first: the loosest whose every cipher meets the rules is emitted.
std::vector<PolicyTableItem> postfix_tls_policy(const Policy& policy, const std::vector<CipherGrade>& grades);

// The whole table as `postmap` reads it: a header naming `source`, then the items.
void write_postfix_tls_policy(const Policy& policy, const std::vector<CipherGrade>& grades, std::string_view source,
                              std::ostream& out);

}  // namespace tlspolicy
