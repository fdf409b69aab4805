// IPv4/IPv6 parsing (inet_pton) and CIDR blocks.
#include "core/ip_address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace tlspolicy {
namespace {

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::string_view strip_decorations(std::string_view t) {
    if (t.size() >= 2 && t.front() == '[' && t.back() == ']') t = t.substr(1, t.size() - 2);
    if (t.size() > 5 && (t.substr(0, 5) == "IPv6:" || t.substr(0, 5) == "ipv6:")) t.remove_prefix(5);
    return t;
}

void clear_host_bits(IpAddress& a, int prefix) {
    for (int i = 0; i < 16; ++i) {
        int keep = prefix - i * 8;
        if (keep >= 8) continue;
        a.bytes[i] = keep <= 0 ? 0 : std::uint8_t(a.bytes[i] & (0xff << (8 - keep)));
    }
}

}  // namespace

std::optional<IpAddress> parse_ip(std::string_view text) {
    text = strip_decorations(text);
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    char buf[INET6_ADDRSTRLEN];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    IpAddress a;
    if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
        a.v4 = true;
        return a;
    }
    if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
    if (std::memcmp(a.bytes.data(), kMappedPrefix, 12) == 0) {
        IpAddress v4;
        v4.v4 = true;
        std::memcpy(v4.bytes.data(), a.bytes.data() + 12, 4);
        return v4;
    }
    return a;
}

std::optional<Cidr> parse_cidr(std::string_view text, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<Cidr> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    std::string_view addr_text = text;
    std::optional<int> prefix;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        addr_text = text.substr(0, slash);
        std::string_view len = text.substr(slash + 1);
        int n = 0;
        auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), n);
        if (len.empty() || ec != std::errc{} || end != len.data() + len.size() || n < 0)
            return fail("'" + std::string(text) + "' has a bad prefix length: want a number after '/'");
        prefix = n;
    }
    bool written_as_v6 = addr_text.find(':') != std::string_view::npos;
    auto addr = parse_ip(addr_text);
    if (!addr) return fail("'" + std::string(text) + "' is not an IPv4 or IPv6 address or CIDR block");
    int max = written_as_v6 ? 128 : 32;
    int len = prefix.value_or(max);
    if (len > max)
        return fail("'" + std::string(text) + "': prefix length " + std::to_string(len) + " is larger than " +
                    std::to_string(max) + " for " + (written_as_v6 ? "IPv6" : "IPv4"));
    if (addr->v4 && written_as_v6) {  // ::ffff:a.b.c.d/len covers IPv4 a.b.c.d/(len-96)
        if (len < 96) return fail("'" + std::string(text) + "': an IPv4-mapped block needs a prefix of 96 or more");
        len -= 96;
    }
    Cidr block{*addr, len};
    clear_host_bits(block.network, len);
    if (!(block.network == *addr))
        return fail("'" + std::string(text) + "' has host bits set: did you mean '" + block.to_string() + "'?");
    return block;
}

bool cidr_contains(const Cidr& block, const IpAddress& addr) {
    if (block.network.v4 != addr.v4) return false;
    IpAddress masked = addr;
    clear_host_bits(masked, block.prefix);
    return masked == block.network;
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN];
    if (!inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf)) return "?";
    return buf;
}

std::string Cidr::to_string() const { return network.to_string() + "/" + std::to_string(prefix); }

}  // namespace tlspolicy
