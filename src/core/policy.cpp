// Rule lookup: selector entries go into hash indexes once; each session then
// costs a handful of hash probes, whatever the number of rules.
#include "core/policy.hpp"

#include <algorithm>

namespace tlspolicy {


void Policy::build_indexes() {
    client_index_ = {};
    hostname_index_ = {};
    sender_index_ = {};
    recipient_index_ = {};
    // Sizes first, so that no table rehashes while 100,000 entries go in.
    struct NameCounts {
        std::size_t kind[3] = {};
        void count(const std::vector<Entry>& entries) {
            for (const Entry& e : entries) ++kind[static_cast<int>(e.kind)];
        }
        void reserve(NameIndex& index) const { index.reserve(kind[0], kind[1], kind[2]); }
    } hostnames, senders, recipient_names;
    std::size_t v4[33] = {}, v6[129] = {};
    for (const Rule& rule : partners) {
        for (const Cidr& c : rule.clients) ++(c.network.v4 ? v4 : v6)[c.prefix];
        hostnames.count(rule.hostnames);
        senders.count(rule.senders);
    }
    for (const Rule& rule : recipients) recipient_names.count(rule.recipients);
    for (int p = 0; p <= 32; ++p)
        if (v4[p]) client_index_.reserve(true, p, v4[p]);
    for (int p = 0; p <= 128; ++p)
        if (v6[p]) client_index_.reserve(false, p, v6[p]);
    hostnames.reserve(hostname_index_);
    senders.reserve(sender_index_);
    recipient_names.reserve(recipient_index_);

    for (std::uint32_t r = 0; r < partners.size(); ++r) {
        const Rule& rule = partners[r];
        for (std::uint32_t i = 0; i < rule.clients.size(); ++i) client_index_.add(rule.clients[i], r, i);
        for (std::uint32_t i = 0; i < rule.hostnames.size(); ++i) hostname_index_.add(rule.hostnames[i], r, i);
        for (std::uint32_t i = 0; i < rule.senders.size(); ++i) sender_index_.add(rule.senders[i], r, i);
    }
    for (std::uint32_t r = 0; r < recipients.size(); ++r)
        for (std::uint32_t i = 0; i < recipients[r].recipients.size(); ++i)
            recipient_index_.add(recipients[r].recipients[i], r, i);
}

namespace {

void collect(std::vector<IndexHit>& hits, Selector selector, std::vector<Match>& out) {
    for (const IndexHit& h : hits) out.push_back({h.rule, selector, h.entry});
    hits.clear();
}

// File order, and within a rule the order of its selectors and entries; an
// entry hit by several spellings of one address counts once.
void order(std::vector<Match>& out, std::size_t from) {
    const auto first = out.begin() + static_cast<std::ptrdiff_t>(from);
    std::sort(first, out.end(), [](const Match& a, const Match& b) {
        if (a.rule != b.rule) return a.rule < b.rule;
        if (a.selector != b.selector) return a.selector < b.selector;
        return a.entry < b.entry;
    });
    out.erase(std::unique(first, out.end(),
                          [](const Match& a, const Match& b) {
                              return a.rule == b.rule && a.selector == b.selector && a.entry == b.entry;
                          }),
              out.end());
}

// Hits for every form of a normalized envelope address.
void find_address(const NameIndex& index, std::string_view address, std::string_view delimiters,
                  std::vector<IndexHit>& hits) {
    thread_local std::vector<std::string> forms;
    forms.clear();
    address_forms(address, delimiters, forms);
    for (const std::string& f : forms) {
        if (f.find('@') == std::string::npos) index.find_local(f, hits);
        else index.find(f, hits);
    }
}

}  // namespace

void Policy::match_partners(const std::optional<IpAddress>& client, std::string_view hostname,
                            std::string_view sender, std::vector<Match>& out) const {
    const std::size_t from = out.size();
    thread_local std::vector<IndexHit> hits;
    if (client && !client_index_.empty()) {
        client_index_.find(*client, hits);
        collect(hits, Selector::Client, out);
    }
    if (!hostname.empty() && !hostname_index_.empty()) {
        hostname_index_.find(hostname, hits);
        collect(hits, Selector::Hostname, out);
    }
    if (!sender.empty() && !sender_index_.empty()) {  // the null sender matches no entry
        find_address(sender_index_, sender, recipient_delimiter, hits);
        collect(hits, Selector::Sender, out);
    }
    order(out, from);
}

void Policy::match_recipients(std::string_view recipient, std::vector<Match>& out) const {
    const std::size_t from = out.size();
    thread_local std::vector<IndexHit> hits;
    if (recipient.empty() || recipient_index_.empty()) return;
    find_address(recipient_index_, recipient, recipient_delimiter, hits);
    collect(hits, Selector::Recipient, out);
    order(out, from);
}

void Policy::match_destinations(std::string_view domain, std::vector<Match>& out) const {
    const std::size_t from = out.size();
    thread_local std::vector<IndexHit> hits;
    // A bare name: the index looks it up as a domain and as each ".parent",
    // never as an address; a literal ("[192.0.2.1]") is no one's domain.
    if (domain.empty() || domain.front() == '[' || domain.find('@') != std::string_view::npos ||
        sender_index_.empty())
        return;
    sender_index_.find(domain, hits);
    collect(hits, Selector::Sender, out);
    order(out, from);
}

}  // namespace tlspolicy
