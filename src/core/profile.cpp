// The named presets behind `profile = "..."`: published cipher lists copied as
// OpenSSL names, built once. Pure data; tests/unit/cipher_table_test.cpp proves
// every name is known to the local OpenSSL with the expected properties.
#include "core/profile.hpp"

#include <array>
#include <initializer_list>

namespace tlspolicy {
namespace {

CipherListPtr make_list(std::initializer_list<std::string_view> names) {
    auto list = std::make_shared<CipherList>();
    for (std::string_view n : names) {
        if (!list->spec.empty()) list->spec += ':';
        list->spec += n;
        list->names.emplace(n);
    }
    return list;
}

// BSI TR-02102-2 (2025-01), section 3.3.1: Table 1 "recommended cipher suites
// for TLS 1.2 with Perfect Forward Secrecy" (the IANA names in the comments).
// Tables 2 and 3 (static DH, PSK) are left out: they are not PFS, and OpenSSL
// has no static-DH suites. ChaCha20 is not in the TR.
CipherListPtr bsi_tls12() {
    return make_list({
        "ECDHE-ECDSA-AES128-SHA256",      // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
        "ECDHE-ECDSA-AES256-SHA384",      // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
        "ECDHE-ECDSA-AES128-GCM-SHA256",  // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        "ECDHE-ECDSA-AES256-GCM-SHA384",  // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
        "ECDHE-ECDSA-AES128-CCM",         // TLS_ECDHE_ECDSA_WITH_AES_128_CCM
        "ECDHE-ECDSA-AES256-CCM",         // TLS_ECDHE_ECDSA_WITH_AES_256_CCM
        "ECDHE-RSA-AES128-SHA256",        // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
        "ECDHE-RSA-AES256-SHA384",        // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384
        "ECDHE-RSA-AES128-GCM-SHA256",    // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        "ECDHE-RSA-AES256-GCM-SHA384",    // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
        "DHE-DSS-AES128-SHA256",          // TLS_DHE_DSS_WITH_AES_128_CBC_SHA256
        "DHE-DSS-AES256-SHA256",          // TLS_DHE_DSS_WITH_AES_256_CBC_SHA256
        "DHE-DSS-AES128-GCM-SHA256",      // TLS_DHE_DSS_WITH_AES_128_GCM_SHA256
        "DHE-DSS-AES256-GCM-SHA384",      // TLS_DHE_DSS_WITH_AES_256_GCM_SHA384
        "DHE-RSA-AES128-SHA256",          // TLS_DHE_RSA_WITH_AES_128_CBC_SHA256
        "DHE-RSA-AES256-SHA256",          // TLS_DHE_RSA_WITH_AES_256_CBC_SHA256
        "DHE-RSA-AES128-GCM-SHA256",      // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
        "DHE-RSA-AES256-GCM-SHA384",      // TLS_DHE_RSA_WITH_AES_256_GCM_SHA384
        "DHE-RSA-AES128-CCM",             // TLS_DHE_RSA_WITH_AES_128_CCM
        "DHE-RSA-AES256-CCM",             // TLS_DHE_RSA_WITH_AES_256_CCM
    });
}

// TR-02102-2 (2025-01), section 3.4.4: the TLS 1.3 suites. No ChaCha20.
CipherListPtr bsi_tls13() {
    return make_list({"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_AES_128_CCM_SHA256"});
}

// Mozilla server-side TLS guidelines 5.7: "ciphers.openssl" and "ciphersuites"
// of the intermediate configuration, in the published order (5.7 appended
// DHE-RSA-CHACHA20-POLY1305). Modern has the same suites and no TLS 1.2 list.
CipherListPtr mozilla_tls12_intermediate() {
    return make_list({
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "DHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",
        "DHE-RSA-CHACHA20-POLY1305",
    });
}

CipherListPtr mozilla_tls13() {
    return make_list({"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"});
}

std::array<Profile, 3> build_profiles() {
    return {{
        {"bsi-tr-02102-2", "BSI TR-02102-2 version 2025-01, sections 3.3.1 (Table 1) and 3.4.4", TlsVersion::TLSv1_2,
         bsi_tls12(), bsi_tls13()},
        {"mozilla-modern", "Mozilla Server Side TLS guidelines 5.7, modern", TlsVersion::TLSv1_3,
         make_list({}), mozilla_tls13()},
        {"mozilla-intermediate", "Mozilla Server Side TLS guidelines 5.7, intermediate", TlsVersion::TLSv1_2,
         mozilla_tls12_intermediate(), mozilla_tls13()},
    }};
}

const std::array<Profile, 3>& profiles() {
    static const std::array<Profile, 3> all = build_profiles();
    return all;
}

}  // namespace

std::span<const Profile> all_profiles() { return profiles(); }

const Profile* find_profile(std::string_view name) {
    for (const Profile& p : profiles())
        if (p.name == name) return &p;
    return nullptr;
}

}  // namespace tlspolicy
