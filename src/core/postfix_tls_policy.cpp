// The partner table as a Postfix TLS policy table for outbound mail. Postfix
// looks a next-hop domain up as itself, then as ".parent" for each parent, and
// takes the first key found; so each key carries every rule that covers it.
#include "core/postfix_tls_policy.hpp"

#include <algorithm>
#include <ostream>

#include "core/address.hpp"
#include "core/escape.hpp"

namespace tlspolicy {
namespace {

std::string key_text(const Entry& e) { return (e.kind == EntryKind::Subdomains ? "." : "") + e.key; }

std::string rule_ref(const Rule& r) { return r.name + " (line " + std::to_string(r.line) + ")"; }

bool requires_tls(const Requirements& q) { return q.require_tls || q.require_client_cert; }

// "a.b.example" -> "b.example" -> "example" -> "".
std::string_view parent_of(std::string_view domain) {
    const std::size_t dot = domain.find('.');
    return dot == std::string_view::npos ? std::string_view{} : domain.substr(dot + 1);
}

// Rules by the sender domain entries they hold, to find who covers a key.
struct DomainIndex {
    StringMap<std::vector<std::size_t>> exact, subdomains;
    explicit DomainIndex(const std::vector<Rule>& rules) {
        for (std::size_t i = 0; i < rules.size(); ++i)
            for (const Entry& e : rules[i].senders) {
                if (e.kind == EntryKind::Address) continue;
                auto& list = (e.kind == EntryKind::Domain ? exact : subdomains)[e.key];
                if (list.empty() || list.back() != i) list.push_back(i);
            }
    }
    // The rules that match every name the key matches, in file order:
    // "d" is covered by "d" and ".p" for each parent p of d; ".q" by ".q" and
    // ".p" for each parent p of q.
    std::vector<std::size_t> covering(const Entry& key) const {
        std::vector<std::size_t> out;
        auto add = [&](const StringMap<std::vector<std::size_t>>& map, std::string_view name) {
            auto it = map.find(name);
            if (it != map.end()) out.insert(out.end(), it->second.begin(), it->second.end());
        };
        if (key.kind == EntryKind::Domain)
            add(exact, key.key);
        else
            add(subdomains, key.key);
        for (std::string_view p = parent_of(key.key); !p.empty(); p = parent_of(p)) add(subdomains, p);
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }
};

// The requirements of several rules at once: each must hold, so the strictest
// of each kind; lists are kept per rule, since a session must satisfy them all.
struct Merged {
    bool tls = false;
    TlsVersion min_version = TlsVersion::None;
    int min_bits = 0;
    std::vector<std::pair<const Rule*, CipherListPtr>> tls12_lists;  // ciphers, profile lists
    std::vector<std::string> notes;
};

bool grade_meets(const CipherGrade& g, const Merged& m) {
    for (const CipherGrade::Cipher& c : g.ciphers) {
        if (c.bits < m.min_bits) return false;
        for (const auto& [rule, list] : m.tls12_lists)
            if (!list->allows(c.name)) return false;
    }
    return !g.ciphers.empty();
}

Merged merge(const std::vector<Rule>& rules, const std::vector<std::size_t>& which) {
    Merged m;
    bool refusing = false;  // some rule requiring TLS refuses inbound mail without it
    for (std::size_t i : which) {
        const Requirements& q = rules[i].req;
        m.tls |= requires_tls(q);
        refusing |= requires_tls(q) && rules[i].action != Action::Annotate;
        if (q.min_version) m.min_version = std::max(m.min_version, *q.min_version);
        if (q.profile) m.min_version = std::max(m.min_version, q.profile->min_version);
        if (q.min_cipher_bits) m.min_bits = std::max(m.min_bits, *q.min_cipher_bits);
    }
    if (m.tls && !refusing)
        m.notes.push_back("the rules requiring TLS here only annotate inbound mail (action annotate); "
                          "this line refuses to send without TLS all the same");
    const bool tls12_possible = m.min_version < TlsVersion::TLSv1_3;
    for (std::size_t i : which) {
        const Rule& r = rules[i];
        const Requirements& q = r.req;
        if (q.ciphers && tls12_possible) m.tls12_lists.emplace_back(&r, q.ciphers);
        if (q.profile && tls12_possible) m.tls12_lists.emplace_back(&r, q.profile->tls12_ciphers);
        if (q.ciphersuites)
            m.notes.push_back("not expressed: ciphersuites \"" + q.ciphersuites->spec + "\" of " + rule_ref(r) +
                              ": Postfix has no per-destination TLS 1.3 suite setting");
        if (q.profile)
            m.notes.push_back("not expressed: profile " + std::string(q.profile->name) + " of " + rule_ref(r) +
                              " beyond its minimum version " + std::string(config_name(q.profile->min_version)) +
                              ": its cipher lists cannot be set per destination");
        if (q.require_client_cert)
            m.notes.push_back("not expressed: the client certificate requirements (require_client_cert, cert_subjects, "
                              "cert_issuers) of " + rule_ref(r) + " are about the certificate the partner shows us; "
                              "for mail we send, Postfix checks the server's certificate (levels verify, secure) instead");
    }
    return m;
}

// "encrypt protocols=>=TLSv1.2 ciphers=high", and notes for the rest.
std::string policy_value(Merged& m, const std::vector<CipherGrade>& grades) {
    std::string v = "encrypt";
    if (m.min_version >= TlsVersion::TLSv1_0) v += " protocols=>=" + std::string(config_name(m.min_version));
    const bool tls12_possible = m.min_version < TlsVersion::TLSv1_3;
    if (!tls12_possible || (m.tls12_lists.empty() && m.min_bits == 0)) {
        if (m.min_bits > 128)
            m.notes.push_back("not expressed: min_cipher_bits " + std::to_string(m.min_bits) +
                              ": TLS 1.3 suites of 128 bits cannot be excluded per destination");
        return v;
    }
    const CipherGrade* fit = nullptr;
    for (const CipherGrade& g : grades)
        if (grade_meets(g, m)) {
            fit = &g;
            break;
        }
    if (fit) {
        v += " ciphers=" + fit->name;
    } else {
        for (const auto& [rule, list] : m.tls12_lists)
            if (list == rule->req.ciphers)
                m.notes.push_back("not expressed: ciphers \"" + list->spec + "\" of " + rule_ref(*rule) +
                                  ": no Postfix cipher grade allows only these; exact lists cannot be set per destination");
        if (m.min_bits > 0)
            m.notes.push_back("not expressed: min_cipher_bits " + std::to_string(m.min_bits) +
                              ": no Postfix cipher grade guarantees it");
    }
    if (m.min_bits > 128 && fit)
        m.notes.push_back("not expressed: min_cipher_bits " + std::to_string(m.min_bits) +
                          " on TLS 1.3: its 128-bit suites cannot be excluded per destination");
    return v;
}

}  // namespace

std::vector<PolicyTableItem> postfix_tls_policy(const Policy& policy, const std::vector<CipherGrade>& grades) {
    const std::vector<Rule>& rules = policy.partners;
    const DomainIndex index(rules);
    StringSet done;
    std::vector<PolicyTableItem> items;
    for (const Rule& r : rules) {
        bool named_domain = false;
        for (const Entry& e : r.senders) {
            if (e.kind == EntryKind::Address) {
                if (requires_tls(r.req))
                    items.push_back({{e.key + " of " + rule_ref(r) + ": skipped, an address; Postfix chooses "
                                      "TLS per destination domain, not per recipient"}, "", ""});
                continue;
            }
            named_domain = true;
            const std::string key = key_text(e);
            if (!done.insert(key).second) continue;
            const std::vector<std::size_t> which = index.covering(e);
            Merged m = merge(rules, which);
            if (!m.tls) continue;  // opportunistic, as for domains the table does not name
            PolicyTableItem item;
            item.key = key;
            std::string who = key + ": ";
            if (which.size() == 1) {
                who += "rule " + rule_ref(rules[which[0]]);
            } else {
                who += "rules";
                for (std::size_t k = 0; k < which.size(); ++k)
                    who += (k ? ", " : " ") + rule_ref(rules[which[k]]);
                who += " cover it; the strictest requirement of each kind applies";
            }
            item.comments.push_back(std::move(who));
            item.value = policy_value(m, grades);
            item.comments.insert(item.comments.end(), m.notes.begin(), m.notes.end());
            items.push_back(std::move(item));
        }
        if (!named_domain && requires_tls(r.req))
            items.push_back({{rule_ref(r) + " requires TLS but names no sender domain: nothing to export"}, "", ""});
    }
    return items;
}

void write_postfix_tls_policy(const Policy& policy, const std::vector<CipherGrade>& grades, std::string_view source,
                              std::ostream& out) {
    out << "# Postfix TLS policy table (smtp_tls_policy_maps) for mail we send to partners,\n"
           "# exported by tlspolicy-milter from "
        << source
        << ".\n"
           "# One line per domain in the senders of [[partner]] rules that require TLS\n"
           "# (require_tls, or a client certificate requirement), in file order.\n"
           "# \"example.com\" is that domain only, \".example.com\" every subdomain of it, as in\n"
           "# the milter, as long as parent_domain_matches_subdomains does not list\n"
           "# smtp_tls_policy_maps (the Postfix default). Cipher grades are Postfix's defaults.\n"
           "# Install: postmap hash:/etc/postfix/tls_policy and, in main.cf,\n"
           "# smtp_tls_policy_maps = hash:/etc/postfix/tls_policy\n";
    if (policy.mode == Mode::Monitor)
        out << "# mode = monitor: inbound, nothing is refused yet; Postfix enforces these lines\n"
               "# for outbound mail as soon as the table is in use.\n";
    if (requires_tls(policy.defaults.req))
        out << "# [defaults] requires TLS of every other sender; for mail we send, that would be\n"
               "# smtp_tls_security_level = encrypt in main.cf, which is not a table line: not exported.\n";
    for (const PolicyTableItem& item : postfix_tls_policy(policy, grades)) {
        out << "\n";
        for (const std::string& c : item.comments) out << "# " << line_text(c) << "\n";
        if (!item.key.empty()) out << item.key << "\t" << item.value << "\n";
    }
}

}  // namespace tlspolicy
