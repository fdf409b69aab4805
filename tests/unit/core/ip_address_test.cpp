// Client address and CIDR parsing, IPv4 and IPv6, IPv4-mapped addresses.
#include <gtest/gtest.h>

#include "core/ip_address.hpp"

namespace tlspolicy {
namespace {

TEST(IpAddress, Parses) {
    struct {
        const char* text;
        bool ok;
        bool v4;
        const char* canonical;
    } cases[] = {
        {"192.0.2.1", true, true, "192.0.2.1"},
        {"2001:db8::1", true, false, "2001:db8::1"},
        {"2001:DB8::1", true, false, "2001:db8::1"},
        {"::ffff:192.0.2.1", true, true, "192.0.2.1"},
        {"[192.0.2.1]", true, true, "192.0.2.1"},
        {"IPv6:2001:db8::2", true, false, "2001:db8::2"},
        {"[IPv6:::1]", true, false, "::1"},
        {"::1", true, false, "::1"},
        {"", false, false, ""},
        {"192.0.2", false, false, ""},
        {"192.0.2.256", false, false, ""},
        {"localhost", false, false, ""},
        {"2001:db8::g", false, false, ""},
    };
    for (const auto& c : cases) {
        auto a = parse_ip(c.text);
        ASSERT_EQ(a.has_value(), c.ok) << "'" << c.text << "'";
        if (!a) continue;
        EXPECT_EQ(a->v4, c.v4) << c.text;
        EXPECT_EQ(a->to_string(), c.canonical);
    }
}

TEST(Cidr, ParsesAndRejects) {
    struct {
        const char* text;
        const char* want;  // canonical block, or the error text
        bool ok;
    } cases[] = {
        {"203.0.113.0/24", "203.0.113.0/24", true},
        {"203.0.113.7", "203.0.113.7/32", true},
        {"0.0.0.0/0", "0.0.0.0/0", true},
        {"2001:db8:acce::/48", "2001:db8:acce::/48", true},
        {"2001:db8::1", "2001:db8::1/128", true},
        {"::/0", "::/0", true},
        {"::ffff:198.51.100.0/120", "198.51.100.0/24", true},
        {"10.0.0.0/33", "'10.0.0.0/33': prefix length 33 is larger than 32 for IPv4", false},
        {"2001:db8::/129", "'2001:db8::/129': prefix length 129 is larger than 128 for IPv6", false},
        {"10.1.2.3/8", "'10.1.2.3/8' has host bits set: did you mean '10.0.0.0/8'?", false},
        {"10.0.0.0/", "'10.0.0.0/' has a bad prefix length: want a number after '/'", false},
        {"10.0.0.0/x", "'10.0.0.0/x' has a bad prefix length: want a number after '/'", false},
        {"10.0.0.0/-1", "'10.0.0.0/-1' has a bad prefix length: want a number after '/'", false},
        {"acme.example", "'acme.example' is not an IPv4 or IPv6 address or CIDR block", false},
        {"::ffff:1.2.3.0/64", "'::ffff:1.2.3.0/64': an IPv4-mapped block needs a prefix of 96 or more", false},
    };
    for (const auto& c : cases) {
        std::string error;
        auto block = parse_cidr(c.text, &error);
        ASSERT_EQ(block.has_value(), c.ok) << "'" << c.text << "': " << error;
        EXPECT_EQ(block ? block->to_string() : error, c.want);
    }
}

TEST(Cidr, Contains) {
    std::string e;
    auto v4 = *parse_cidr("203.0.113.0/24", &e);
    auto v6 = *parse_cidr("2001:db8:acce::/48", &e);
    EXPECT_TRUE(cidr_contains(v4, *parse_ip("203.0.113.255")));
    EXPECT_TRUE(cidr_contains(v4, *parse_ip("::ffff:203.0.113.1")));
    EXPECT_FALSE(cidr_contains(v4, *parse_ip("203.0.114.0")));
    EXPECT_TRUE(cidr_contains(v6, *parse_ip("2001:db8:acce:1::1")));
    EXPECT_FALSE(cidr_contains(v6, *parse_ip("2001:db8:accf::1")));
    EXPECT_FALSE(cidr_contains(v6, *parse_ip("203.0.113.1")));
}

}  // namespace
}  // namespace tlspolicy
