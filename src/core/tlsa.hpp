// A TLSA record (RFC 6698) as DANE for SMTP (RFC 7672) reads it: which of
// its usages, selectors and matching types an SMTP client may use, and its
// presentation text. The matching against a certificate is in src/tls/.
#pragma once
#include <cstdint>
#include <string>

namespace tlspolicy {

struct TlsaRecord {
    std::uint8_t usage = 0;     // 2 DANE-TA, 3 DANE-EE (0, 1: PKIX, not for SMTP)
    std::uint8_t selector = 0;  // 0 full certificate, 1 SubjectPublicKeyInfo
    std::uint8_t mtype = 0;     // 0 exact, 1 SHA-256, 2 SHA-512
    std::string data;           // the association data, binary
};

// RFC 7672 3.1.3: usages 0 and 1 are not for SMTP; selectors 0/1 and matching
// types 0/1/2 are the defined ones. A digest of the wrong length never matches.
inline bool usable_for_smtp(const TlsaRecord& r) {
    if (r.usage != 2 && r.usage != 3) return false;
    if (r.selector > 1) return false;
    if (r.mtype == 1) return r.data.size() == 32;
    if (r.mtype == 2) return r.data.size() == 64;
    return r.mtype == 0 && !r.data.empty();
}

// "3 1 1 0f1e..." as in a zone file, the data in lower-case hex.
inline std::string tlsa_text(const TlsaRecord& r) {
    static const char* hex = "0123456789abcdef";
    std::string s = std::to_string(r.usage) + " " + std::to_string(r.selector) + " " + std::to_string(r.mtype) + " ";
    for (unsigned char c : r.data) s += hex[c >> 4], s += hex[c & 15];
    return s;
}

}  // namespace tlspolicy
