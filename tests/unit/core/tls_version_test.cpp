// TLS version spellings: policy file, MTA macros, header and human text.
#include <gtest/gtest.h>

#include "core/tls_version.hpp"

namespace tlspolicy {
namespace {

struct MacroCase {
    const char* macro;
    TlsVersion want;
    const char* want_header;
};

TEST(TlsVersion, FromMacro) {
    const MacroCase cases[] = {
        {"", TlsVersion::None, "none"},
        {"TLSv1", TlsVersion::TLSv1_0, "TLS1_0"},
        {"TLSv1.0", TlsVersion::TLSv1_0, "TLS1_0"},
        {"TLSv1.1", TlsVersion::TLSv1_1, "TLS1_1"},
        {"TLSv1.2", TlsVersion::TLSv1_2, "TLS1_2"},
        {"TLSv1.3", TlsVersion::TLSv1_3, "TLS1_3"},
        {"TLSv1/SSLv3", TlsVersion::TLSv1_0, "TLS1_0"},
        {"SSLv3", TlsVersion::SSLv3, "SSL3_0"},
        {"TLSv1.4", TlsVersion::Unknown, "unknown"},
        {"tlsv1.2", TlsVersion::Unknown, "unknown"},
        {"DTLSv1.2", TlsVersion::Unknown, "unknown"},
    };
    for (const auto& c : cases) {
        TlsVersion got = parse_macro_version(c.macro);
        EXPECT_EQ(got, c.want) << "macro '" << c.macro << "'";
        EXPECT_EQ(header_name(got), c.want_header) << "macro '" << c.macro << "'";
    }
}

TEST(TlsVersion, FromConfigAcceptsOnlyTheDocumentedSpellings) {
    EXPECT_EQ(parse_config_version("TLSv1"), TlsVersion::TLSv1_0);
    EXPECT_EQ(parse_config_version("TLSv1.1"), TlsVersion::TLSv1_1);
    EXPECT_EQ(parse_config_version("TLSv1.2"), TlsVersion::TLSv1_2);
    EXPECT_EQ(parse_config_version("TLSv1.3"), TlsVersion::TLSv1_3);
    for (const char* bad : {"", "SSLv3", "TLSv1.4", "1.2", "TLS1_2", "tlsv1.2", "TLSv1/SSLv3"})
        EXPECT_FALSE(parse_config_version(bad)) << "'" << bad << "' must not be a valid min_version";
}

TEST(TlsVersion, OrderedOldToNew) {
    EXPECT_LT(TlsVersion::SSLv3, TlsVersion::TLSv1_0);
    EXPECT_LT(TlsVersion::TLSv1_0, TlsVersion::TLSv1_1);
    EXPECT_LT(TlsVersion::TLSv1_2, TlsVersion::TLSv1_3);
    EXPECT_EQ(human_name(TlsVersion::TLSv1_2), "TLS 1.2");
    EXPECT_EQ(config_name(TlsVersion::TLSv1_0), "TLSv1");
}

}  // namespace
}  // namespace tlspolicy
