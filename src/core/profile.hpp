// Named cipher presets an operator can require with `profile = "..."`: the
// published lists of BSI TR-02102-2 and Mozilla's server-side TLS guidelines,
// as OpenSSL cipher names. Pure data; src/tls/cipher_table checks the names
// against the local OpenSSL.
#pragma once
#include <span>
#include <string_view>

#include "core/cipher_info.hpp"
#include "core/tls_version.hpp"

namespace tlspolicy {

struct Profile {
    std::string_view name;          // "bsi-tr-02102-2"
    std::string_view source;        // the document and version the lists come from
    TlsVersion min_version;         // the oldest protocol the preset allows
    CipherListPtr tls12_ciphers;    // allowed on TLS <= 1.2 (empty for TLS 1.3-only presets)
    CipherListPtr tls13_suites;     // allowed on TLS 1.3
};

std::span<const Profile> all_profiles();
const Profile* find_profile(std::string_view name);

}  // namespace tlspolicy
