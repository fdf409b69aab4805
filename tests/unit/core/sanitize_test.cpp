// Network-supplied text on its way to replies, headers and logs.
#include <gtest/gtest.h>

#include "core/sanitize.hpp"

namespace tlspolicy {
namespace {

TEST(Sanitize, Text) {
    struct {
        std::string in;
        std::size_t max;
        std::string want;
    } cases[] = {
        {"plain text", 100, "plain text"},
        {"line\r\nInjected: yes", 100, "line??Injected: yes"},
        {std::string("nul\0byte", 8), 100, "nul?byte"},
        {"tab\there", 100, "tab?here"},
        {"caf\xc3\xa9", 100, "caf??"},
        {"\x7f", 100, "?"},
        {"0123456789", 8, "01234..."},
        {"0123456789", 10, "0123456789"},
        {"100%", 100, "100%"},
    };
    for (const auto& c : cases) EXPECT_EQ(sanitize_text(c.in, c.max), c.want) << "in: " << c.in;
}

TEST(Sanitize, Token) {
    EXPECT_EQ(sanitize_token("ECDHE-RSA-AES128-GCM-SHA256", 255), "ECDHE-RSA-AES128-GCM-SHA256");
    EXPECT_EQ(sanitize_token("TLS_AES_256_GCM_SHA384", 255), "TLS_AES_256_GCM_SHA384");
    EXPECT_EQ(sanitize_token("TLSv1/SSLv3", 255), "TLSv1/SSLv3");
    EXPECT_EQ(sanitize_token("x; result=pass", 255), "x__result_pass");
    EXPECT_EQ(sanitize_token("a\r\nb", 255), "a__b");
    EXPECT_EQ(sanitize_token("", 255), "none");
    EXPECT_EQ(sanitize_token("abcdef", 3), "abc");
}

TEST(Sanitize, PercentForLibmilter) {
    EXPECT_EQ(escape_percent("100% TLS"), "100%% TLS");
    EXPECT_EQ(escape_percent("%s%n"), "%%s%%n");
    EXPECT_EQ(escape_percent("none"), "none");
}

}  // namespace
}  // namespace tlspolicy
