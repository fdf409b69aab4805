// Hash lookups for names and client addresses (see selector_index.hpp).
#include "core/selector_index.hpp"

#include <algorithm>

namespace tlspolicy {

std::string_view selector_name(Selector s) {
    switch (s) {
        case Selector::Client: return "client";
        case Selector::Hostname: return "hostname";
        case Selector::Sender: return "sender";
        case Selector::Recipient: return "recipient";
    }
    return "?";
}

void NameIndex::add(const Entry& e, std::uint32_t rule, std::uint32_t entry) {
    auto& map = e.kind == EntryKind::Domain ? exact_ : e.kind == EntryKind::Subdomains ? parents_ : addresses_;
    map[e.key].push_back({rule, entry});
}

void NameIndex::find(std::string_view name, std::vector<IndexHit>& out) const {
    auto append = [&](const StringMap<std::vector<IndexHit>>& map, std::string_view key) {
        if (map.empty()) return;
        if (auto it = map.find(key); it != map.end()) out.insert(out.end(), it->second.begin(), it->second.end());
    };
    std::string_view domain = name;
    if (auto at = name.rfind('@'); at != std::string_view::npos) {
        append(addresses_, name);
        domain = name.substr(at + 1);
    }
    if (domain.empty()) return;
    append(exact_, domain);
    // ".example.com" matches every name strictly below example.com.
    for (auto dot = domain.find('.'); dot != std::string_view::npos; dot = domain.find('.', dot + 1))
        append(parents_, domain.substr(dot + 1));
}

CidrIndex::Key CidrIndex::masked(const IpAddress& a, int prefix) {
    std::uint64_t hi = 0, lo = 0;
    for (int i = 0; i < 8; ++i) hi = hi << 8 | a.bytes[i];
    for (int i = 8; i < 16; ++i) lo = lo << 8 | a.bytes[i];
    auto mask = [](int bits) { return bits <= 0 ? 0 : bits >= 64 ? ~0ull : ~0ull << (64 - bits); };
    return {hi & mask(prefix), lo & mask(prefix - 64)};
}

void CidrIndex::add_to(std::vector<Level>& levels, const Cidr& block, IndexHit hit) {
    auto it = std::find_if(levels.begin(), levels.end(), [&](const Level& l) { return l.prefix <= block.prefix; });
    if (it == levels.end() || it->prefix != block.prefix) it = levels.insert(it, Level{block.prefix, {}});
    it->table[masked(block.network, block.prefix)].push_back(hit);
}

void CidrIndex::find_in(const std::vector<Level>& levels, const IpAddress& a, std::vector<IndexHit>& out) {
    for (const auto& level : levels)
        if (auto it = level.table.find(masked(a, level.prefix)); it != level.table.end())
            out.insert(out.end(), it->second.begin(), it->second.end());
}

void CidrIndex::add(const Cidr& block, std::uint32_t rule, std::uint32_t entry) {
    add_to(block.network.v4 ? v4_ : v6_, block, {rule, entry});
}

void CidrIndex::find(const IpAddress& addr, std::vector<IndexHit>& out) const {
    find_in(addr.v4 ? v4_ : v6_, addr, out);
}

}  // namespace tlspolicy
