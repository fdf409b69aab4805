// `explain`: one hypothetical session evaluated offline, printed for a person.
#pragma once
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace tlspolicy {

struct ExplainRequest {
    std::string client;
    std::string hostname;
    std::string sender;
    std::vector<std::string> recipients;
    std::string tls_version;  // empty: plaintext
    std::string cipher;
    std::optional<int> cipher_bits;  // default: the cipher's bits per OpenSSL
    std::string client_cert = "none";  // verified | unverified | none | unknown (TLS sessions)
    std::string cert_subject;          // subject CN
    std::string cert_issuer;           // issuer CN
};

// Prints which rules matched and why, every requirement pass/fail, the reply
// per stage and the exact header. Returns 2 on a malformed request, else 0.
int explain(const Config& config, const ExplainRequest& request, std::ostream& out, std::ostream& err);

}  // namespace tlspolicy
