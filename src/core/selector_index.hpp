// Lookup structures behind rule matching, built to stay fast with 100,000 rules:
// names by hashing (walking up the labels for ".parent" entries), client
// addresses by one hash table per prefix length in use. Never a scan over rules.
#pragma once
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/address.hpp"
#include "core/ip_address.hpp"
#include "core/text.hpp"

namespace tlspolicy {

enum class Selector : std::uint8_t { Client, Hostname, Sender, Recipient };
std::string_view selector_name(Selector s);  // "client", "hostname", "sender", "recipient"

// Rule `rule` was selected by entry number `entry` of its `selector` list.
struct Match {
    std::uint32_t rule;
    Selector selector;
    std::uint32_t entry;
};

struct IndexHit {
    std::uint32_t rule;
    std::uint32_t entry;
};

class NameIndex {
public:
    void add(const Entry& e, std::uint32_t rule, std::uint32_t entry);
    // `name` is a normalized address ("user@example.com") or a bare domain.
    // Appends a hit for every entry that matches it.
    void find(std::string_view name, std::vector<IndexHit>& out) const;
    bool empty() const { return exact_.empty() && parents_.empty() && addresses_.empty(); }

private:
    StringMap<std::vector<IndexHit>> exact_;      // "example.com"
    StringMap<std::vector<IndexHit>> parents_;    // ".example.com", keyed "example.com"
    StringMap<std::vector<IndexHit>> addresses_;  // "user@example.com"
};

class CidrIndex {
public:
    void add(const Cidr& block, std::uint32_t rule, std::uint32_t entry);
    void find(const IpAddress& addr, std::vector<IndexHit>& out) const;
    bool empty() const { return v4_.empty() && v6_.empty(); }

private:
    struct Key {
        std::uint64_t hi, lo;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const noexcept {
            return std::hash<std::uint64_t>{}(k.hi * 0x9E3779B97F4A7C15ull ^ k.lo);
        }
    };
    using Table = std::unordered_map<Key, std::vector<IndexHit>, KeyHash>;
    struct Level {
        int prefix;
        Table table;
    };
    static Key masked(const IpAddress& a, int prefix);
    static void add_to(std::vector<Level>& levels, const Cidr& block, IndexHit hit);
    static void find_in(const std::vector<Level>& levels, const IpAddress& a, std::vector<IndexHit>& out);
    std::vector<Level> v4_, v6_;  // one table per prefix length in use, longest first
};

}  // namespace tlspolicy
