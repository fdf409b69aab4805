// Hash lookups for names and client addresses (see selector_index.hpp).
#include "core/selector_index.hpp"

#include <algorithm>
#include <functional>

namespace tlspolicy {

void HitChains::append(Slot& slot, IndexHit hit) {
    const auto at = static_cast<std::uint32_t>(more_.size());
    more_.push_back({hit, kNone});
    if (slot.next == kNone) slot.next = at;
    else more_[slot.last].next = at;
    slot.last = at;
}

void HitChains::copy(const Slot& slot, std::vector<IndexHit>& out) const {
    out.push_back(slot.first);
    for (std::uint32_t i = slot.next; i != kNone; i = more_[i].next) out.push_back(more_[i].hit);
}

void KeyTable::reserve(std::size_t keys) {
    std::size_t want = 16;
    while (want < 2 * keys) want *= 2;
    if (want > buckets_.size()) rehash(want);
    items_.reserve(keys);
}

void KeyTable::rehash(std::size_t buckets) {
    buckets_.assign(buckets, Bucket{0, 0});
    const std::size_t mask = buckets - 1;
    for (std::uint32_t n = 0; n < items_.size(); ++n) {
        const std::size_t h = std::hash<std::string_view>{}(key_of(items_[n]));
        std::size_t i = h & mask;
        while (buckets_[i].item) i = (i + 1) & mask;
        buckets_[i] = {static_cast<std::uint32_t>(h >> 32), n + 1};
    }
}

KeyTable::Slot& KeyTable::insert(std::string_view key, bool& fresh) {
    if (2 * (items_.size() + 1) > buckets_.size()) rehash(buckets_.empty() ? 16 : 2 * buckets_.size());
    const std::size_t h = std::hash<std::string_view>{}(key), mask = buckets_.size() - 1;
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    std::size_t i = h & mask;
    for (; buckets_[i].item; i = (i + 1) & mask) {
        Item& item = items_[buckets_[i].item - 1];
        if (buckets_[i].tag == tag && key_of(item) == key) {
            fresh = false;
            return item.slot;
        }
    }
    items_.push_back({static_cast<std::uint32_t>(chars_.size()), static_cast<std::uint32_t>(key.size()), {}});
    chars_.append(key);
    buckets_[i] = {tag, static_cast<std::uint32_t>(items_.size())};
    fresh = true;
    return items_.back().slot;
}

const KeyTable::Slot* KeyTable::find(std::string_view key) const {
    if (items_.empty()) return nullptr;
    const std::size_t h = std::hash<std::string_view>{}(key), mask = buckets_.size() - 1;
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    for (std::size_t i = h & mask; buckets_[i].item; i = (i + 1) & mask) {
        if (buckets_[i].tag != tag) continue;
        const Item& item = items_[buckets_[i].item - 1];
        if (key_of(item) == key) return &item.slot;
    }
    return nullptr;
}

void NameIndex::reserve(std::size_t domains, std::size_t subdomains, std::size_t addresses) {
    exact_.reserve(domains);
    parents_.reserve(subdomains);
    addresses_.reserve(addresses);
    locals_.reserve(addresses);
}

void NameIndex::add_to(KeyTable& table, std::string_view key, IndexHit hit) {
    bool fresh = false;
    KeyTable::Slot& slot = table.insert(key, fresh);
    if (fresh) slot.first = hit;
    else more_.append(slot, hit);
}

void NameIndex::add(const Entry& e, std::uint32_t rule, std::uint32_t entry) {
    if (e.kind == EntryKind::Address) {
        add_to(addresses_, e.key, {rule, entry});
        add_to(locals_, e.key.substr(0, e.key.rfind('@')), {rule, entry});
        return;
    }
    add_to(e.kind == EntryKind::Domain ? exact_ : parents_, e.key, {rule, entry});
}

void NameIndex::find_local(std::string_view local_part, std::vector<IndexHit>& out) const {
    if (const KeyTable::Slot* slot = locals_.find(local_part)) more_.copy(*slot, out);
}

void NameIndex::find(std::string_view name, std::vector<IndexHit>& out) const {
    auto append = [&](const KeyTable& table, std::string_view key) {
        if (const KeyTable::Slot* slot = table.find(key)) more_.copy(*slot, out);
    };
    std::string_view domain = name;
    if (auto at = name.rfind('@'); at != std::string_view::npos) {
        append(addresses_, name);
        domain = name.substr(at + 1);
        if (domain.starts_with('[')) return find_local(name.substr(0, at), out);
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

CidrIndex::Level& CidrIndex::level(std::vector<Level>& levels, int prefix) {
    auto it = std::find_if(levels.begin(), levels.end(), [&](const Level& l) { return l.prefix <= prefix; });
    if (it == levels.end() || it->prefix != prefix) it = levels.insert(it, Level{prefix, {}});
    return *it;
}

void CidrIndex::find_in(const std::vector<Level>& levels, const IpAddress& a, std::vector<IndexHit>& out) const {
    for (const auto& l : levels) {
        const Key key = masked(a, l.prefix);
        if (const KeyTable::Slot* slot = l.table.find(key.bytes())) more_.copy(*slot, out);
    }
}

void CidrIndex::reserve(bool v4, int prefix, std::size_t n) { level(v4 ? v4_ : v6_, prefix).table.reserve(n); }

void CidrIndex::add(const Cidr& block, std::uint32_t rule, std::uint32_t entry) {
    KeyTable& table = level(block.network.v4 ? v4_ : v6_, block.prefix).table;
    const Key key = masked(block.network, block.prefix);
    bool fresh = false;
    KeyTable::Slot& slot = table.insert(key.bytes(), fresh);
    if (fresh) slot.first = {rule, entry};
    else more_.append(slot, {rule, entry});
}

void CidrIndex::find(const IpAddress& addr, std::vector<IndexHit>& out) const {
    find_in(addr.v4 ? v4_ : v6_, addr, out);
}

}  // namespace tlspolicy
