// Builds policies in code for the core's tests, without the TOML loader, so a
// core test fails only for a core reason.
#pragma once
#include <initializer_list>
#include <vector>
#include <stdexcept>
#include <string>

#include "core/policy.hpp"
#include "core/profile.hpp"

namespace tlspolicy::testing {

inline Entry entry(const std::string& text, bool allow_address = true) {
    std::string error;
    auto e = parse_entry(text, allow_address, &error);
    if (!e) throw std::invalid_argument(error);
    return *e;
}

inline Cidr cidr(const std::string& text) {
    std::string error;
    auto c = parse_cidr(text, &error);
    if (!c) throw std::invalid_argument(error);
    return *c;
}

inline CipherListPtr cipher_list(std::initializer_list<const char*> names) {
    auto list = std::make_shared<CipherList>();
    for (const char* n : names) {
        list->names.insert(n);
        list->spec += (list->spec.empty() ? "" : ":") + std::string(n);
    }
    return list;
}

struct RuleSpec {
    std::string name;
    // Vectors, not initializer_lists: a spec kept in a table outlives the
    // braces it was written with, and an initializer_list would dangle.
    std::vector<const char*> clients{}, hostnames{}, senders{}, recipients{};
    Requirements req{};
    Action action = Action::Tempfail;
    std::string reply{};
};

inline Rule make_rule(RuleKind kind, const RuleSpec& s) {
    Rule r;
    r.name = s.name;
    r.kind = kind;
    r.req = s.req;
    r.action = s.action;
    r.reply = s.reply;
    for (const char* c : s.clients) r.clients.push_back(cidr(c));
    for (const char* h : s.hostnames) r.hostnames.push_back(entry(h, false));
    for (const char* x : s.senders) r.senders.push_back(entry(x));
    for (const char* x : s.recipients) r.recipients.push_back(entry(x));
    return r;
}

inline Requirements tls_at_least(TlsVersion v) {
    Requirements q;
    q.require_tls = true;
    q.min_version = v;
    return q;
}

inline Requirements tls_required() {
    Requirements q;
    q.require_tls = true;
    return q;
}

}  // namespace tlspolicy::testing
