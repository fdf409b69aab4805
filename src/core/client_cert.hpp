// The client certificate of a session, as the MTA saw it: one verification
// status and the subject and issuer CNs, made from each MTA's macros.
// Postfix sends {cert_subject}/{cert_issuer} (CNs) only for a certificate it
// trusts, and no {verify}; Sendmail sends {verify} and xtext-encoded
// {cn_subject}/{cn_issuer} beside full DNs.
#pragma once
#include <cstdint>
#include <string>
#include <span>
#include <string_view>

#include "core/words.hpp"

namespace tlspolicy {

enum class CertStatus : std::uint8_t {
    None,        // no certificate (or no TLS)
    Unverified,  // presented, but it did not verify
    Verified,    // presented and verified by the MTA
    Unknown,     // no verified certificate; the MTA does not say whether one came (Postfix)
};

inline constexpr Word<CertStatus> kCertStatusWords[] = {{CertStatus::None, "none"},
                                                        {CertStatus::Unverified, "unverified"},
                                                        {CertStatus::Verified, "verified"},
                                                        {CertStatus::Unknown, "unknown"}};
constexpr std::span<const Word<CertStatus>> words(CertStatus) { return kCertStatusWords; }

struct ClientCert {
    CertStatus status = CertStatus::None;
    std::string subject_cn;  // decoded, sanitised; "" when none
    std::string issuer_cn;
};

// What the macros say. `verify` is Sendmail's {verify}: empty means the MTA
// does not send it (Postfix), and a {cert_subject} then means verified.
// Sendmail's CNs come xtext-encoded ({cn_subject}, or the CN= of the DN in
// {cert_subject}); Postfix's {cert_subject} is the CN itself. Call only for
// TLS sessions.
ClientCert make_client_cert(std::string_view verify, std::string_view cert_subject, std::string_view cert_issuer,
                            std::string_view cn_subject, std::string_view cn_issuer);

// RFC 3461 xtext: "+20" is a space. Malformed escapes are kept as they are.
std::string xtext_decode(std::string_view s);

}  // namespace tlspolicy
