// Envelope address normalization and selector entry validation.
#include <gtest/gtest.h>

#include "core/address.hpp"

namespace tlspolicy {
namespace {

TEST(Address, Normalizes) {
    struct {
        const char* raw;
        const char* want;
        const char* want_domain;
    } cases[] = {
        {"<User@Example.COM>", "user@example.com", "example.com"},
        {"user@example.com", "user@example.com", "example.com"},
        {" <user@example.com> ", "user@example.com", "example.com"},
        {"<>", "", ""},
        {"", "", ""},
        {"<@a.example,@b.example:user@example.com>", "user@example.com", "example.com"},
        {"<user@example.com.>", "user@example.com", "example.com"},
        {"<\"odd@local\"@example.com>", "\"odd@local\"@example.com", "example.com"},
        {"<postmaster>", "postmaster", ""},
    };
    for (const auto& c : cases) {
        std::string got = normalize_address(c.raw);
        EXPECT_EQ(got, c.want) << "raw '" << c.raw << "'";
        EXPECT_EQ(address_domain(got), c.want_domain) << "raw '" << c.raw << "'";
    }
}

TEST(Entry, ParsesKinds) {
    struct {
        const char* text;
        EntryKind kind;
        const char* key;
    } cases[] = {
        {"example.com", EntryKind::Domain, "example.com"},
        {"Example.COM.", EntryKind::Domain, "example.com"},
        {".example.com", EntryKind::Subdomains, "example.com"},
        {"Billing@Example.com", EntryKind::Address, "billing@example.com"},
        {"xn--mnchen-3ya.example", EntryKind::Domain, "xn--mnchen-3ya.example"},
        {"localhost", EntryKind::Domain, "localhost"},
    };
    for (const auto& c : cases) {
        std::string error;
        auto e = parse_entry(c.text, true, &error);
        ASSERT_TRUE(e) << c.text << ": " << error;
        EXPECT_EQ(e->kind, c.kind) << c.text;
        EXPECT_EQ(e->key, c.key);
    }
}

TEST(Entry, RejectsWithReason) {
    struct {
        const char* text;
        bool allow_address;
        const char* want;
    } cases[] = {
        {"", true, "'': an entry may not be empty"},
        {"*.example.com", true, "'*.example.com': wildcards are not supported: did you mean '.example.com'?"},
        {"@example.com", true, "'@example.com': did you mean 'example.com' (that domain) or '.example.com' (its subdomains)?"},
        {"user@example.com", false, "'user@example.com': hostnames take host names, not addresses"},
        {"203.0.113.5", false, "'203.0.113.5': this is an IP address: put it in 'clients'"},
        {"exa mple.com", true, "'exa mple.com': an entry may not contain spaces or control characters"},
        {"example..com", true, "'example..com': it has an empty label (two dots in a row, or a dot at the end)"},
        {"-bad.example", true, "'-bad.example': a label starts or ends with '-'"},
        {"bad!.example", true, "'bad!.example': it contains '!', which no host name has"},
        {"m\xc3\xbcnchen.example", true, "'m\xc3\xbcnchen.example': it is not ASCII: write the A-label form (xn--...)"},
        {"user@", true, "'user@': the domain is empty"},
        {".", true, "'.': the domain is empty"},
    };
    for (const auto& c : cases) {
        std::string error;
        EXPECT_FALSE(parse_entry(c.text, c.allow_address, &error)) << c.text;
        EXPECT_EQ(error, c.want);
    }
}

}  // namespace
}  // namespace tlspolicy
