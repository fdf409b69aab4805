// [defaults], [[partner]] and [[recipient]] (loader.hpp): each key stored by
// its schema entry, then the checks across a rule's keys (a name, a selector,
// certificate names against require_client_cert) and across rules (names
// unique).
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "config/did_you_mean.hpp"
#include "config/loader.hpp"
#include "config/policy_checks.hpp"
#include "config/schema.hpp"
#include "core/text.hpp"

namespace tlspolicy::loading {
namespace {


// The keys of `section` with `role`, in schema order: "clients, hostnames or senders".
std::string keys_with_role(Section section, KeyRole role, bool slashes) {
    std::vector<std::string_view> names;
    for (const KeyDecl& k : schema())
        if (k.in(section) && k.role == role) names.push_back(k.key);
    if (!slashes) return one_of(names);
    std::string out;
    for (std::string_view n : names) out += (out.empty() ? "" : "/") + std::string(n);
    return out;
}

}  // namespace

void Loader::rule_section(Section section, const SectionView& s) {
    RuleBuild b;
    b.rule.kind = section == Section::Partner     ? RuleKind::Partner
                  : section == Section::Recipient ? RuleKind::Recipient
                                                  : RuleKind::Defaults;
    if (section == Section::Defaults) b.rule.name = "default";
    b.rule.line = s.pos.line;
    b.errors_before = diagnostics_.size();
    rule_ = &b;
    for (const Field& f : s.fields) {
        const KeyDecl* k = lookup(section, f);
        if (!k) continue;
        b.present |= std::uint64_t{1} << key_index(*k);
        if (check_value(*k, f.value)) k->apply(*this, *k, f.value);
    }
    for (const KeyDecl& k : schema()) {
        if (!k.in(section) || (b.present >> key_index(k) & 1)) continue;
        if (const Node* d = default_value(k)) k.apply(*this, k, *d);
    }
    rule_ = nullptr;
    finish_rule(section, b, s.pos);
}

void Loader::finish_rule(Section section, RuleBuild& b, Pos where) {
    Rule& r = b.rule;
    // A certificate name is a certificate requirement: it cannot be turned off.
    if (b.cert_names && b.client_cert_off)
        error(*b.client_cert_off, std::string(b.client_cert_key->key) + " = false contradicts " +
                                      keys_with_role(section, KeyRole::CertName, true) +
                                      " of this rule, which need a verified certificate: remove one of them");
    if (b.cert_names) r.req.require_client_cert = true;
    if (diagnostics_.size() == b.errors_before)  // a misspelt require_tls is reported as such
        if (std::string w = plaintext_passes_warning(r); !w.empty()) warning(where, std::move(w));
    if (section == Section::Defaults) {
        policy_->defaults = std::move(r);
        return;
    }
    const bool partner = section == Section::Partner;
    auto label = [&] { return std::string(partner ? "partner" : "recipient") + (b.named ? " " + quoted(r.name) : " rule"); };
    for (const KeyDecl& k : schema())
        if (k.in(section) && k.required && !(b.present >> key_index(k) & 1)) error(where, label() + " has no " + std::string(k.key));
    if (!b.selectors_written)
        error(where, label() + " has no " + keys_with_role(section, KeyRole::Selector, false) + ": it can never match");
    // Only for an otherwise clean rule: a misspelt requirement is reported as such.
    if (r.req.empty() && diagnostics_.size() == b.errors_before)
        warning(where, label() + " has no requirement: it only annotates");
    (partner ? policy_->partners : policy_->recipients).push_back(std::move(r));
    (partner ? partner_name_pos_ : recipient_name_pos_).push_back(b.name_pos);
}

// Rule names are unique across [[partner]] and [[recipient]]. Sorting by hash,
// then position, brings each first use right before its duplicates without
// comparing 100,000 strings to each other.
void Loader::report_duplicate_names() {
    struct Use {
        std::size_t hash;
        Pos pos;
        const std::string* name;
    };
    std::vector<Use> uses;
    uses.reserve(policy_->partners.size() + policy_->recipients.size());
    for (auto [rules, positions] : {std::pair{&policy_->partners, &partner_name_pos_},
                                    std::pair{&policy_->recipients, &recipient_name_pos_}})
        for (std::size_t i = 0; i < rules->size(); ++i)
            if ((*positions)[i].line > 0)
                uses.push_back({std::hash<std::string_view>{}((*rules)[i].name), (*positions)[i], &(*rules)[i].name});
    std::sort(uses.begin(), uses.end(), [](const Use& a, const Use& b) {
        return a.hash != b.hash ? a.hash < b.hash : a.pos < b.pos;
    });
    for (std::size_t run = 0; run < uses.size();) {
        std::size_t end = run + 1;
        while (end < uses.size() && uses[end].hash == uses[run].hash) ++end;
        for (std::size_t i = run + 1; i < end; ++i)
            for (std::size_t first = run; first < i; ++first)
                if (*uses[first].name == *uses[i].name) {
                    error(uses[i].pos, "duplicate rule name " + quoted(*uses[i].name) + " (first at line " +
                                           std::to_string(uses[first].pos.line) + ")");
                    break;
                }
        run = end;
    }
}

}  // namespace tlspolicy::loading
