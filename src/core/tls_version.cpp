// Spellings of TLS versions: policy file, MTA macros, header, human text.
#include "core/tls_version.hpp"

#include <array>

namespace tlspolicy {
namespace {

struct Spelling {
    TlsVersion version;
    std::string_view config;  // policy file and {tls_version}
    std::string_view header;
    std::string_view human;
};

constexpr std::array<Spelling, 7> kSpellings{{
    {TlsVersion::None, "", "none", "plaintext"},
    {TlsVersion::Unknown, "", "unknown", "an unknown TLS version"},
    {TlsVersion::SSLv3, "SSLv3", "SSL3_0", "SSL 3.0"},
    {TlsVersion::TLSv1_0, "TLSv1", "TLS1_0", "TLS 1.0"},
    {TlsVersion::TLSv1_1, "TLSv1.1", "TLS1_1", "TLS 1.1"},
    {TlsVersion::TLSv1_2, "TLSv1.2", "TLS1_2", "TLS 1.2"},
    {TlsVersion::TLSv1_3, "TLSv1.3", "TLS1_3", "TLS 1.3"},
}};

const Spelling& spelling(TlsVersion v) { return kSpellings[static_cast<std::size_t>(v)]; }

}  // namespace

std::optional<TlsVersion> parse_config_version(std::string_view text) {
    for (const auto& s : kSpellings)
        if (s.version >= TlsVersion::TLSv1_0 && s.config == text) return s.version;
    return std::nullopt;
}

TlsVersion parse_macro_version(std::string_view text) {
    if (text.empty()) return TlsVersion::None;
    if (text == "TLSv1/SSLv3") return TlsVersion::TLSv1_0;
    if (text == "TLSv1.0") return TlsVersion::TLSv1_0;  // some MTAs spell it so
    for (const auto& s : kSpellings)
        if (s.version >= TlsVersion::SSLv3 && s.config == text) return s.version;
    return TlsVersion::Unknown;
}

std::string_view config_name(TlsVersion v) { return spelling(v).config; }
std::string_view header_name(TlsVersion v) { return spelling(v).header; }
std::string_view human_name(TlsVersion v) { return spelling(v).human; }

}  // namespace tlspolicy
