// What the policy core knows about ciphers, as plain data. The values are filled
// in by src/tls/cipher_table (the only place that talks to OpenSSL), so the core
// stays free of OpenSSL.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/text.hpp"

namespace tlspolicy {

struct CipherInfo {
    bool known = false;          // the local OpenSSL knows this name
    int bits = 0;                // secret bits in use, what Postfix reports as {cipher_bits}
    int alg_bits = 0;            // the cipher's algorithm bits (ALG in bits=USED/ALG)
    bool aead = false;           // AES-GCM, AES-CCM, ChaCha20-Poly1305
    bool forward_secrecy = false;// ECDHE/DHE key exchange, or any TLS 1.3 suite
    bool tls13 = false;          // a TLS 1.3 cipher suite
};

// An operator's cipher string (`ciphers`, `ciphersuites`, or a profile's list)
// expanded to the exact names it allows. Names the local OpenSSL does not know
// are kept for exact matching and listed in `unknown`.
struct CipherList {
    std::string spec;                        // as written, for explain and --check
    StringSet names;                         // every allowed name (known and unknown)
    std::vector<std::string> unknown;        // the subset OpenSSL did not know
    bool allows(std::string_view name) const { return names.contains(name); }
};
using CipherListPtr = std::shared_ptr<const CipherList>;

}  // namespace tlspolicy
