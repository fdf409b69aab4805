// Client addresses and CIDR blocks, IPv4 and IPv6. An IPv4-mapped IPv6 address
// (::ffff:192.0.2.1) is the IPv4 address it carries, so one entry covers both.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tlspolicy {

struct IpAddress {
    bool v4 = false;
    std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes
    bool operator==(const IpAddress&) const = default;
    std::string to_string() const;
};

struct Cidr {
    IpAddress network;  // host bits cleared
    int prefix = 0;
    std::string to_string() const;
};

// Parses "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1" (becomes IPv4), and
// tolerates the "[...]" and "IPv6:" forms an MTA may report.
std::optional<IpAddress> parse_ip(std::string_view text);

// Parses "192.0.2.0/24", "2001:db8::/32" or a bare address (a /32 or /128).
// On failure returns nullopt and says why in *error ("prefix length 33 is
// larger than 32 for IPv4", "host bits set: did you mean 10.0.0.0/8?", ...).
std::optional<Cidr> parse_cidr(std::string_view text, std::string* error);

bool cidr_contains(const Cidr& block, const IpAddress& addr);

}  // namespace tlspolicy
