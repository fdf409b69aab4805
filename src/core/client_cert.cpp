// Client certificate facts from MTA macros (see client_cert.hpp).
#include "core/client_cert.hpp"

#include "core/sanitize.hpp"

namespace tlspolicy {
namespace {

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// The CN of a Sendmail DN ("/O=Org/CN=client.example"): the last CN= part.
std::string_view cn_of_dn(std::string_view dn) {
    const auto at = dn.rfind("/CN=");
    if (at == std::string_view::npos) return dn.starts_with("CN=") ? dn.substr(3, dn.find('/') - 3) : "";
    std::string_view cn = dn.substr(at + 4);
    return cn.substr(0, cn.find('/'));
}

std::string clean(std::string_view cn) { return cn.empty() ? std::string() : sanitize_text(cn, kMaxToken); }

}  // namespace

std::string xtext_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

ClientCert make_client_cert(std::string_view verify, std::string_view cert_subject, std::string_view cert_issuer,
                            std::string_view cn_subject, std::string_view cn_issuer) {
    ClientCert c;
    if (verify.empty()) {  // Postfix: CNs only, and only for a trusted certificate
        c.status = cert_subject.empty() ? CertStatus::Unknown : CertStatus::Verified;
        c.subject_cn = clean(cert_subject);
        c.issuer_cn = clean(cert_issuer);
        return c;
    }
    // Sendmail's {verify}: OK (verified) and TRUSTED (trusted by the access
    // map); NO, NOT, NONE and CLEAR mean no certificate was asked for or
    // presented; anything else (FAIL, TEMP, PROTOCOL, SOFTWARE, CRLFAIL, ...)
    // a certificate that did not verify.
    if (verify == "OK" || verify == "TRUSTED") c.status = CertStatus::Verified;
    else if (verify == "NO" || verify == "NOT" || verify == "NONE" || verify == "CLEAR") c.status = CertStatus::None;
    else c.status = CertStatus::Unverified;
    if (c.status == CertStatus::None) return c;
    c.subject_cn = clean(xtext_decode(!cn_subject.empty() ? cn_subject : cn_of_dn(cert_subject)));
    c.issuer_cn = clean(xtext_decode(!cn_issuer.empty() ? cn_issuer : cn_of_dn(cert_issuer)));
    return c;
}

}  // namespace tlspolicy
