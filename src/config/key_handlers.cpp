// The handlers behind the schema's entries (key_handlers.hpp): what a valid
// value means, checked beyond its type and bounds, and how --check shows it.
#include "config/key_handlers.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "config/policy_checks.hpp"
#include "config/socket_spec.hpp"
#include "core/address.hpp"
#include "core/ip_address.hpp"
#include "core/profile.hpp"
#include "core/sanitize.hpp"
#include "core/tls_version.hpp"
#include "store/database_url.hpp"

namespace tlspolicy::key_handlers {
namespace {

std::optional<int> parse_octal_mode(std::string_view s) {
    if (s.size() < 3 || s.size() > 4) return std::nullopt;
    int mode = 0;
    for (char c : s) {
        if (c < '0' || c > '7') return std::nullopt;
        mode = mode * 8 + (c - '0');
    }
    return mode;
}

// The authserv-id goes into the header as one token (see sanitize_token).
bool valid_authserv_id(std::string_view s) {
    return s.size() <= kMaxToken && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '-' || c == '_' || c == '+' || c == '/';
           });
}

// Postfix allows several delimiter characters; letters, digits and address
// syntax ('@', quotes, brackets) would split ordinary addresses.
bool recipient_delimiter_ok(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (c <= ' ' || c >= 0x7f || alnum || std::string_view("@\"\\()<>[],;:").find(c) != std::string_view::npos ||
            s.find(c) != i)
            return false;
    }
    return true;
}

// Rule names go into the header's comma-separated policy= list and into logs.
bool valid_rule_name(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '-' || c == '_';
    });
}

bool printable_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= ' ' && c < 0x7f; });
}

std::string named(const KeyDecl& k, const Node& v) { return std::string(k.key) + " " + quoted(v.text); }

std::string toml_list(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& i : items) out += (out.empty() ? "" : ", ") + toml_string(i);
    return out.empty() ? "" : "[" + out + "]";
}

}  // namespace


std::string toml_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

bool is_absolute(std::string_view path) { return !path.empty() && path.front() == '/'; }

// --- settings ---------------------------------------------------------------

void set_socket(KeyTarget& to, const KeyDecl& k, const Node& v) {
    if (std::string why = socket_problem(v.text); !why.empty()) to.error(v.pos, named(k, v) + ": " + why);
    else to.config().milter.socket = v.text;
}

void set_mode(KeyTarget& to, const KeyDecl& k, const Node& v) {
    if (auto m = from_word<Mode>(v.text)) to.policy().mode = *m;
    else to.bad_choice(k, v, k.choices);
}

void set_user(KeyTarget& to, const KeyDecl&, const Node& v) {
    MilterSettings& m = to.config().milter;
    m.user = v.text;
    m.user_line = v.pos.line;
    m.user_column = v.pos.column;
}

void set_socket_mode(KeyTarget& to, const KeyDecl& k, const Node& v) {
    if (auto m = parse_octal_mode(v.text)) to.config().milter.socket_mode = *m;
    else to.error(v.pos, named(k, v) + " is not an octal mode like \"0660\"");
}

void set_recipient_delimiter(KeyTarget& to, const KeyDecl& k, const Node& v) {
    if (recipient_delimiter_ok(v.text))
        to.policy().recipient_delimiter = v.text;
    else
        to.error(v.pos, named(k, v) + " may only hold punctuation characters, each once, like Postfix's " +
                            std::string(k.key));
}

void set_header_name(KeyTarget& to, const KeyDecl&, const Node& v) {
    if (std::string why = header_name_problem(v.text); !why.empty()) to.error(v.pos, std::move(why));
    else to.config().header.name = v.text;
}

void set_authserv_id(KeyTarget& to, const KeyDecl& k, const Node& v) {
    if (valid_authserv_id(v.text)) to.config().header.authserv_id = v.text;
    else to.error(v.pos, named(k, v) + " may only contain letters, digits, '.', '-', '_', '+' and '/'");
}

// A SQLite file (absolute path) or a PostgreSQL server (URL).
void set_observation_database(KeyTarget& to, const KeyDecl& k, const Node& v) {
    if (!is_absolute(v.text) && !is_postgres_url(v.text))
        return to.error(v.pos, named(k, v) + " must be an absolute path (SQLite) or a postgresql:// URL");
    ObservationSettings& o = to.config().observations;
    o.database = v.text;
    o.database_line = v.pos.line;
    o.database_column = v.pos.column;
}

void set_observation_spool(KeyTarget& to, const KeyDecl& k, const Node& v) {
    if (!is_absolute(v.text)) return to.error(v.pos, std::string(k.key) + " " + quoted(v.text) + " must be an absolute path");
    ObservationSettings& o = to.config().observations;
    o.spool = v.text;
    o.spool_line = v.pos.line;
    o.spool_column = v.pos.column;
}

std::string show_observation_database(const Config& c) { return redact_database(c.observations.database); }

// A host name as the MTA's macro j would give it.
void set_observation_host(KeyTarget& to, const KeyDecl& k, const Node& v) {
    const bool ok = !v.text.empty() && std::all_of(v.text.begin(), v.text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    });
    if (ok) to.config().observations.host = v.text;
    else to.error(v.pos, named(k, v) + " may only contain letters, digits, '.', '-' and '_'");
}

std::string show_mode(const Config& c) { return std::string(word(c.policy->mode)); }

std::string show_socket_mode(const Config& c) {
    std::string digits;
    for (int i = 0, mode = c.milter.socket_mode; i < 4; ++i, mode /= 8) digits.insert(digits.begin(), char('0' + mode % 8));
    return digits;
}

std::string show_recipient_delimiter(const Config& c) {
    const std::string& d = c.policy->recipient_delimiter;
    return d.empty() ? "(none: extensions are not stripped)" : toml_string(d);
}

// --- rules ------------------------------------------------------------------

void set_rule_name(KeyTarget& to, const KeyDecl&, const Node& v) {
    RuleBuild& b = to.rule();
    if (v.text == "default") {
        to.error(v.pos, "rule name 'default' is reserved for [defaults]");
    } else if (!valid_rule_name(v.text)) {
        to.error(v.pos, "rule name " + quoted(v.text) + " may only contain letters, digits, '.', '-' and '_'");
    } else {
        b.rule.name = v.text;
        b.named = true;
        b.name_pos = v.pos;
    }
}

void set_clients(KeyTarget& to, const KeyDecl& k, const Node& v) {
    RuleBuild& b = to.rule();
    b.selectors_written |= !v.items.empty();
    b.rule.clients.reserve(v.items.size());
    std::string why;
    for (const Node& item : v.items) {
        if (item.kind != toml_doc::Kind::String || item.text.empty()) continue;  // reported by the loader
        if (auto c = parse_cidr(item.text, &why)) b.rule.clients.push_back(*c);
        else to.error(item.pos, std::string(k.key) + ": " + why);
    }
}

void set_min_version(KeyTarget& to, const KeyDecl& k, const Node& v) {
    if (auto version = parse_config_version(v.text)) to.rule().rule.req.min_version = version;
    else to.bad_choice(k, v, k.choices);
}

void set_min_cipher_bits(KeyTarget& to, const KeyDecl&, const Node& v) {
    to.rule().rule.req.min_cipher_bits = static_cast<int>(v.integer);
}

void set_ciphers(KeyTarget& to, const KeyDecl& k, const Node& v) { to.rule().rule.req.ciphers = to.expand(k, v, false); }

void set_ciphersuites(KeyTarget& to, const KeyDecl& k, const Node& v) {
    to.rule().rule.req.ciphersuites = to.expand(k, v, true);
}

void set_profile(KeyTarget& to, const KeyDecl& k, const Node& v) {
    Requirements& req = to.rule().rule.req;
    req.profile = find_profile(v.text);
    if (!req.profile) {
        std::vector<std::string_view> names;  // the core's list is the truth, not the schema's copy
        for (const Profile& p : all_profiles()) names.push_back(p.name);
        to.bad_choice(k, v, names);
    }
}

void set_require_client_cert(KeyTarget& to, const KeyDecl& k, const Node& v) {
    RuleBuild& b = to.rule();
    b.rule.req.require_client_cert = v.boolean;
    if (!v.boolean && (b.present >> key_index(k) & 1)) {  // written, not the default
        b.client_cert_off = v.pos;
        b.client_cert_key = &k;
    }
}

namespace {

// Both certificate name keys: an empty list is a mistake, and either implies
// a verified certificate (checked when the rule is complete).
void cert_names_written(KeyTarget& to, const KeyDecl& k, const Node& v) {
    to.rule().cert_names = v.pos;
    if (v.items.empty())
        to.error(v.pos, std::string(k.key) + " is empty: leave it out to accept any verified certificate");
}

}  // namespace

void set_cert_subjects(KeyTarget& to, const KeyDecl& k, const Node& v) {
    cert_names_written(to, k, v);
    std::string why;
    for (const Node& item : v.items) {
        if (item.kind != toml_doc::Kind::String || item.text.empty()) continue;  // reported by the loader
        if (auto e = parse_entry(item.text, false, &why)) to.rule().rule.req.cert_subjects.push_back(std::move(*e));
        else to.error(item.pos, std::string(k.key) + ": " + why);
    }
}

void set_cert_issuers(KeyTarget& to, const KeyDecl& k, const Node& v) {
    cert_names_written(to, k, v);
    for (const Node& item : v.items) {
        if (item.kind != toml_doc::Kind::String || item.text.empty()) continue;  // reported by the loader
        if (printable_ascii(item.text))
            to.rule().rule.req.cert_issuers.emplace_back(item.text);
        else
            to.error(item.pos, std::string(k.key) + ": " + quoted(item.text) + " may only contain printable ASCII");
    }
}

void set_action(KeyTarget& to, const KeyDecl& k, const Node& v) {
    if (auto action = from_word<Action>(v.text)) to.rule().rule.action = *action;
    else to.bad_choice(k, v, k.choices);
}

void set_reply(KeyTarget& to, const KeyDecl& k, const Node& v) {
    // It becomes an SMTP reply line: say so now rather than let the sanitiser change it.
    if (!printable_ascii(v.text))
        to.error(v.pos, std::string(k.key) +
                            " may only contain printable ASCII: no line breaks, control characters or accents");
    else if (v.text.size() > kMaxReplyText)
        to.error(v.pos, std::string(k.key) + " is " + std::to_string(v.text.size()) +
                            " characters long; an SMTP reply allows " + std::to_string(kMaxReplyText));
    else
        to.rule().rule.reply = v.text;
}

std::string show_require_tls(const Rule& r) { return r.req.require_tls ? "true" : "false"; }
std::string show_min_version(const Rule& r) {
    return r.req.min_version ? toml_string(config_name(*r.req.min_version)) : "";
}
std::string show_min_cipher_bits(const Rule& r) {
    return r.req.min_cipher_bits ? std::to_string(*r.req.min_cipher_bits) : "";
}
std::string show_ciphers(const Rule& r) { return r.req.ciphers ? toml_string(r.req.ciphers->spec) : ""; }
std::string show_ciphersuites(const Rule& r) {
    return r.req.ciphersuites ? toml_string(r.req.ciphersuites->spec) : "";
}
std::string show_profile(const Rule& r) { return r.req.profile ? toml_string(r.req.profile->name) : ""; }
std::string show_require_client_cert(const Rule& r) { return r.req.require_client_cert ? "true" : ""; }
std::string show_cert_subjects(const Rule& r) {
    std::vector<std::string> names;
    for (const Entry& e : r.req.cert_subjects) names.push_back((e.kind == EntryKind::Subdomains ? "." : "") + e.key);
    return toml_list(names);
}
std::string show_cert_issuers(const Rule& r) { return toml_list(r.req.cert_issuers); }
std::string show_action(const Rule& r) { return toml_string(word(r.action)); }
std::string show_reply(const Rule& r) { return r.reply.empty() ? "" : toml_string(r.reply); }

}  // namespace tlspolicy::key_handlers
