// Lookup structures behind rule matching, built to stay fast with 100,000 rules:
// names by hashing (walking up the labels for ".parent" entries), client
// addresses by one hash table per prefix length in use. Never a scan over rules.
// The tables are flat (open addressing, keys in one arena) and a key's first
// hit lives in its slot, the rare further ones (one name in several rules) in
// one shared vector: building allocates nothing per entry, and a probe that
// finds nothing, the common case, usually touches one cache line.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"
#include "core/ip_address.hpp"
#include "core/text.hpp"
#include "core/words.hpp"

namespace tlspolicy {

enum class Selector : std::uint8_t { Client, Hostname, Sender, Recipient };
inline constexpr Word<Selector> kSelectorWords[] = {{Selector::Client, "client"},
                                                    {Selector::Hostname, "hostname"},
                                                    {Selector::Sender, "sender"},
                                                    {Selector::Recipient, "recipient"}};
constexpr std::span<const Word<Selector>> words(Selector) { return kSelectorWords; }

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

// The hits of every key of one index: the first in the key's slot, the others
// chained in insertion order through one shared vector.
class HitChains {
public:
    static constexpr std::uint32_t kNone = 0xffffffffu;
    struct Slot {
        IndexHit first{};
        std::uint32_t next = kNone;  // further hits, in more_
        std::uint32_t last = kNone;
    };
    void append(Slot& slot, IndexHit hit);  // `slot` already holds its first hit
    void copy(const Slot& slot, std::vector<IndexHit>& out) const;

private:
    struct Link {
        IndexHit hit;
        std::uint32_t next;
    };
    std::vector<Link> more_;
};

// Byte-string keys to slots: linear probing in a power-of-two table kept at
// most half full; each bucket holds 32 bits of the key's hash, so a key is
// compared only when those match.
class KeyTable {
public:
    using Slot = HitChains::Slot;
    void reserve(std::size_t keys);
    Slot& insert(std::string_view key, bool& fresh);  // `fresh`: the key is new, its slot empty
    const Slot* find(std::string_view key) const;
    bool empty() const { return items_.empty(); }

private:
    struct Bucket {
        std::uint32_t tag;   // high half of the hash
        std::uint32_t item;  // index into items_ + 1; 0: empty
    };
    struct Item {
        std::uint32_t offset, length;  // the key in chars_
        Slot slot;
    };
    std::string_view key_of(const Item& item) const { return {chars_.data() + item.offset, item.length}; }
    void rehash(std::size_t buckets);
    std::vector<Bucket> buckets_;
    std::vector<Item> items_;
    std::string chars_;
};

class NameIndex {
public:
    // Room for this many keys of each kind (optional; saves rehashing).
    void reserve(std::size_t domains, std::size_t subdomains, std::size_t addresses);
    void add(const Entry& e, std::uint32_t rule, std::uint32_t entry);
    // `name` is a normalized address ("user@example.com") or a bare domain.
    // Appends a hit for every entry that matches it. An address whose domain is
    // a literal ("hr@[192.0.2.1]") may reach any of our domains: its local part
    // is looked up as find_local does.
    void find(std::string_view name, std::vector<IndexHit>& out) const;
    // Hits for every address entry with this local part ("hr" hits hr@a, hr@b):
    // an address without a domain gets one of ours from the MTA.
    void find_local(std::string_view local_part, std::vector<IndexHit>& out) const;
    bool empty() const { return exact_.empty() && parents_.empty() && addresses_.empty(); }

private:
    void add_to(KeyTable& table, std::string_view key, IndexHit hit);
    KeyTable exact_;      // "example.com"
    KeyTable parents_;    // ".example.com", keyed "example.com"
    KeyTable addresses_;  // "user@example.com"
    KeyTable locals_;     // the same entries, keyed "user"
    HitChains more_;
};

class CidrIndex {
public:
    // Room for `n` blocks of this family and prefix length (optional).
    void reserve(bool v4, int prefix, std::size_t n);
    void add(const Cidr& block, std::uint32_t rule, std::uint32_t entry);
    void find(const IpAddress& addr, std::vector<IndexHit>& out) const;
    bool empty() const { return v4_.empty() && v6_.empty(); }

private:
    struct Key {
        std::uint64_t hi, lo;  // the masked address, as 16 key bytes
        std::string_view bytes() const { return {reinterpret_cast<const char*>(this), sizeof *this}; }
    };
    struct Level {
        int prefix;
        KeyTable table;
    };
    static Key masked(const IpAddress& a, int prefix);
    static Level& level(std::vector<Level>& levels, int prefix);
    void find_in(const std::vector<Level>& levels, const IpAddress& a, std::vector<IndexHit>& out) const;
    std::vector<Level> v4_, v6_;  // one table per prefix length in use, longest first
    HitChains more_;
};

}  // namespace tlspolicy
