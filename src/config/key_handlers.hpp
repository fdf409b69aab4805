// How a key's value is stored and shown, for the entries of config/schema.cpp:
// generic setters over member pointers for plain values, and handlers for the
// values with a syntax of their own. None names a key: messages take the name
// from the KeyDecl, so a key is named in the schema only.
#pragma once
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/key_target.hpp"
#include "config/schema.hpp"
#include "config/toml_document.hpp"
#include "core/text.hpp"

namespace tlspolicy::key_handlers {

using toml_doc::Node;

std::string toml_string(std::string_view s);  // "text", escaped as TOML
bool is_absolute(std::string_view path);

// --- settings: Part is the section's struct in Config, Field its member ------

template <auto Part, auto Field>
void set_integer(KeyTarget& to, const KeyDecl&, const Node& v) {
    (to.config().*Part).*Field = static_cast<int>(v.integer);
}

template <auto Part, auto Field>
void set_bool(KeyTarget& to, const KeyDecl&, const Node& v) {
    (to.config().*Part).*Field = v.boolean;
}

template <auto Part, auto Field>
void set_text(KeyTarget& to, const KeyDecl&, const Node& v) {
    (to.config().*Part).*Field = std::string(v.text);
}

template <auto Part, auto Field>
void set_absolute_path(KeyTarget& to, const KeyDecl& k, const Node& v) {
    if (is_absolute(v.text)) (to.config().*Part).*Field = std::string(v.text);
    else to.error(v.pos, std::string(k.key) + " " + quoted(v.text) + " must be an absolute path");
}

template <auto Part, auto Field>
std::string show_text(const Config& c) {
    return (c.*Part).*Field;
}

template <auto Part, auto Field>
std::string show_integer(const Config& c) {
    return std::to_string((c.*Part).*Field);
}

template <auto Part, auto Field>
std::string show_bool(const Config& c) {
    return (c.*Part).*Field ? "true" : "false";
}

void set_socket(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_mode(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_user(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_socket_mode(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_recipient_delimiter(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_header_name(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_authserv_id(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_observation_database(KeyTarget& to, const KeyDecl& k, const Node& v);
std::string show_observation_database(const Config& c);  // without a URL's password
void set_observation_host(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_observation_spool(KeyTarget& to, const KeyDecl& k, const Node& v);  // an absolute path, and where

std::string show_mode(const Config& c);
std::string show_socket_mode(const Config& c);
std::string show_recipient_delimiter(const Config& c);

// --- rules ------------------------------------------------------------------

void set_rule_name(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_clients(KeyTarget& to, const KeyDecl& k, const Node& v);
// Domain entries; an address ("a@b") too when Addresses.
template <auto Field, bool Addresses>
void set_entries(KeyTarget& to, const KeyDecl& k, const Node& v) {
    RuleBuild& b = to.rule();
    b.selectors_written |= !v.items.empty();
    std::vector<Entry>& out = b.rule.*Field;
    out.reserve(v.items.size());
    std::string why;
    for (const Node& item : v.items) {
        if (item.kind != toml_doc::Kind::String || item.text.empty()) continue;  // reported by the loader
        if (auto e = parse_entry(item.text, Addresses, &why)) out.push_back(std::move(*e));
        else to.error(item.pos, std::string(k.key) + ": " + why);
    }
}

template <auto Field>
void set_requirement_bool(KeyTarget& to, const KeyDecl&, const Node& v) {
    to.rule().rule.req.*Field = v.boolean;
}

void set_min_version(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_min_cipher_bits(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_ciphers(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_ciphersuites(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_profile(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_require_client_cert(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_cert_subjects(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_cert_issuers(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_action(KeyTarget& to, const KeyDecl& k, const Node& v);
void set_reply(KeyTarget& to, const KeyDecl& k, const Node& v);

std::string show_require_tls(const Rule& r);
std::string show_min_version(const Rule& r);
std::string show_min_cipher_bits(const Rule& r);
std::string show_ciphers(const Rule& r);
std::string show_ciphersuites(const Rule& r);
std::string show_profile(const Rule& r);
std::string show_require_client_cert(const Rule& r);
std::string show_cert_subjects(const Rule& r);
std::string show_cert_issuers(const Rule& r);
std::string show_action(const Rule& r);
std::string show_reply(const Rule& r);

}  // namespace tlspolicy::key_handlers
