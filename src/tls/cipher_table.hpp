// Everything this project asks of OpenSSL, in one place: what a cipher name
// means (algorithm bits, AEAD, forward secrecy) and which names an operator's
// cipher string selects. The policy core only sees the plain data it returns.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/cipher_info.hpp"

namespace tlspolicy::cipher_table {

// Facts about a cipher name as an MTA reports it (OpenSSL names such as
// "ECDHE-RSA-AES128-GCM-SHA256" and "TLS_AES_256_GCM_SHA384"; IANA names such as
// "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" are understood too). Unknown names
// give known = false.
CipherInfo lookup(std::string_view name);

struct Expansion {
    CipherListPtr list;              // null when there were errors
    std::vector<std::string> errors; // one sentence each, e.g. "'AESGMC' selects no cipher"
};

// `ciphers`: an OpenSSL cipher string for TLS <= 1.2 ("ECDHE+AESGCM:!aNULL"),
// expanded by OpenSSL itself, every security level included. A word that
// selects nothing is an error, unless it looks like one cipher's name
// ("DES-CBC3-SHA"): that is kept for exact matching and listed in `unknown`.
Expansion expand_ciphers(std::string_view spec);

// `ciphersuites`: a colon-separated list of TLS 1.3 suite names; an unknown
// "TLS_..." name is kept like an unknown cipher name above.
Expansion expand_ciphersuites(std::string_view spec);

// "OpenSSL 3.0.x ...", for --version and --check.
std::string openssl_version();

}  // namespace tlspolicy::cipher_table
