// Loads the policy file into a Config, collecting every problem with its
// FILE:LINE:COLUMN. Each key is checked against the table in
// config/schema.cpp; the handlers below only say what a valid value means.
// The text is read by the plain one-pass reader when it can, else by toml++
// (config/toml_document.hpp): both deliver the same sections, and a unit test
// holds them to the same output.
#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/config_loader_internal.hpp"
#include "config/policy_checks.hpp"
#include "config/policy_file.hpp"
#include "config/schema.hpp"
#include "config/socket_spec.hpp"
#include "config/toml_document.hpp"
#include "core/address.hpp"
#include "core/ip_address.hpp"
#include "core/policy.hpp"
#include "core/profile.hpp"
#include "core/sanitize.hpp"
#include "core/text.hpp"
#include "core/tls_version.hpp"
#include "tls/cipher_table.hpp"

namespace tlspolicy {
namespace {

using namespace toml_doc;

// ---------------------------------------------------------------------------
// Small text helpers.

// Optimal string alignment distance, case-insensitive: "min_verison" is 1 from
// "min_version".
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t cost = ascii_lower(a[i - 1]) == ascii_lower(b[j - 1]) ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && ascii_lower(a[i - 1]) == ascii_lower(b[j - 2]) &&
                ascii_lower(a[i - 2]) == ascii_lower(b[j - 1]))
                cur[j] = std::min(cur[j], prev2[j - 2] + 1);
        }
        std::swap(prev2, prev);
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

// The one candidate close enough to `word` to be what was meant, or "".
template <class Range>
std::string_view closest(std::string_view word, const Range& candidates) {
    const std::size_t limit = word.size() >= 8 ? 2 : 1;
    std::string_view best;
    std::size_t best_distance = limit + 1;
    bool unique = false;
    for (std::string_view c : candidates) {
        std::size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best = c;
            best_distance = d;
            unique = true;
        } else if (d == best_distance) {
            unique = false;
        }
    }
    return unique ? best : std::string_view{};
}

// "a, b or c"
template <class Range>
std::string one_of(const Range& words) {
    std::string out;
    std::size_t n = std::size(words), i = 0;
    for (std::string_view w : words) {
        if (i > 0) out += (i + 1 == n) ? " or " : ", ";
        out += w;
        ++i;
    }
    return out;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// ---------------------------------------------------------------------------
// The schema's defaults as values, parsed once.

const Node* default_value(const KeyDecl& k) {
    struct Defaults {
        std::deque<std::string> arena;
        std::vector<std::optional<Node>> values;
        Defaults() {
            for (const KeyDecl& d : schema())
                values.push_back(d.default_toml.empty() ? std::nullopt : read_plain_value(d.default_toml, arena));
        }
    };
    static const Defaults defaults;
    const auto& v = defaults.values[key_index(k)];
    return v ? &*v : nullptr;
}

// ---------------------------------------------------------------------------
// Checks for the values with a syntax of their own.

bool is_absolute(std::string_view path) { return !path.empty() && path.front() == '/'; }

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

// ---------------------------------------------------------------------------
// The Loader turns sections into the Config, whichever reader delivers them.

class Loader : public Sink {
public:
    explicit Loader(const std::string& path) : path_(path), policy_(std::make_shared<Policy>()) {
        config_.path = path;
    }

    // Room for the rules a text is about to deliver, so 100,000 of them are not
    // moved around while the vectors grow.
    void reserve_for(std::string_view text) {
        auto count = [&](std::string_view header) {
            std::size_t n = 0;
            for (auto at = text.find(header); at != std::string_view::npos; at = text.find(header, at + 1)) ++n;
            return n;
        };
        const std::size_t partners = count("[[partner]]"), recipients = count("[[recipient]]");
        policy_->partners.reserve(partners);
        partner_name_pos_.reserve(partners);
        policy_->recipients.reserve(recipients);
        recipient_name_pos_.reserve(recipients);
    }

    void root_field(const Field& f) override;
    void section(const SectionView& s) override;
    LoadResult finish();

private:
    struct CacheEntry {
        cipher_table::Expansion expansion;
        Pos first;  // where the string is first used, for its warnings
    };
    using CipherCache = StringMap<CacheEntry>;

    struct RuleBuild {
        Rule rule;
        std::uint64_t present = 0;       // bit per schema key
        bool selectors_written = false;  // some selector array has entries
        bool named = false;
        Pos name_pos;
        std::optional<Pos> client_cert_off;  // where require_client_cert = false is written
        std::optional<Pos> cert_names;       // where cert_subjects or cert_issuers is written
        std::size_t errors_before = 0;   // diagnostics_.size() when the rule began
    };

    void error(Pos p, std::string message) { diagnostics_.push_back({path_, p.line, p.column, std::move(message), false}); }
    void warning(Pos p, std::string message) { diagnostics_.push_back({path_, p.line, p.column, std::move(message), true}); }

    std::string belongs_in(std::string_view key) const;
    const KeyDecl* lookup(Section section, const Field& f);
    bool check_value(const KeyDecl& k, const Node& v);
    void bad_choice(const KeyDecl& k, const Node& v, std::span<const std::string_view> valid);

    void settings_section(Section section, const SectionView& s);
    void apply_setting(const KeyDecl& k, const Node& v);
    void rule_section(Section section, const SectionView& s);
    void apply_rule_key(RuleBuild& b, const KeyDecl& k, const Node& v);
    void finish_rule(Section section, RuleBuild& b, Pos where);
    CipherListPtr expand(const KeyDecl& k, const Node& v, bool suites);
    void report_duplicate_names();

    std::string path_;
    std::vector<Diagnostic> diagnostics_;
    Config config_;
    std::shared_ptr<Policy> policy_;
    std::array<std::uint64_t, 7> settings_present_{};  // per section; bit per schema key
    std::array<bool, 7> section_seen_{};
    StringSet unknown_sections_;
    // Where each rule's name is written, parallel to policy_->partners and
    // ->recipients; line 0 when the rule has no valid name.
    std::vector<Pos> partner_name_pos_, recipient_name_pos_;
    CipherCache ciphers_, suites_;
};

std::string Loader::belongs_in(std::string_view key) const {
    std::vector<std::string> where;
    for (const SectionDecl& s : schema_sections())
        if (find_key(s.section, key)) where.push_back(section_header(s.section));
    return where.empty() ? std::string{} : one_of(where);
}

void Loader::root_field(const Field& f) {
    if (const SectionDecl* d = find_section(f.key)) {
        error(f.pos, std::string(f.key) + " must be " +
                         (d->array ? "[[" + std::string(d->name) + "]] tables" : "a [" + std::string(d->name) + "] table") +
                         ", got " + std::string(kind_name(f.value.kind)));
        return;
    }
    std::string where = belongs_in(f.key);
    if (!where.empty())
        error(f.pos, "key " + quoted(f.key) + " is outside any section: it belongs in " + where);
    else
        error(f.pos, "unknown key " + quoted(f.key) + " outside any section");
}

void Loader::section(const SectionView& s) {
    const std::string written = s.array ? "[[" + std::string(s.name) + "]]" : "[" + std::string(s.name) + "]";
    const SectionDecl* d = find_section(s.name);
    if (!d) {
        if (!unknown_sections_.insert(std::string(s.name)).second) return;  // once per name
        std::vector<std::string_view> names;
        for (const SectionDecl& c : schema_sections()) names.push_back(c.name);
        std::string_view near = closest(s.name, names);
        error(s.pos, "unknown section " + written +
                         (near.empty() ? "" : ": did you mean " + section_header(find_section(near)->section) + "?"));
        return;
    }
    // Reported, and the table is still checked as what it was surely meant to be.
    if (d->array != s.array)
        error(s.pos, written + " must be written " + section_header(d->section) +
                         (d->array ? ": one table per rule" : ": there is only one"));
    section_seen_[static_cast<std::size_t>(d->section)] = true;
    if (d->section == Section::Defaults || d->array)
        rule_section(d->section, s);
    else
        settings_section(d->section, s);
}

const KeyDecl* Loader::lookup(Section section, const Field& f) {
    if (const KeyDecl* k = find_key(section, f.key)) return k;
    std::vector<std::string_view> valid;
    for (const KeyDecl& k : schema())
        if (k.in(section)) valid.push_back(k.key);
    std::string message = "unknown key " + quoted(f.key) + " in " + section_header(section);
    if (std::string_view near = closest(f.key, valid); !near.empty())
        message += ": did you mean " + quoted(near) + "?";
    else if (std::string where = belongs_in(f.key); !where.empty())
        message += ": it belongs in " + where;
    error(f.pos, std::move(message));
    return nullptr;
}

// Type, emptiness and bounds, the same for every key. Array entries of the
// wrong kind are reported here and skipped by the handlers.
bool Loader::check_value(const KeyDecl& k, const Node& v) {
    const Kind want = k.type == ValueType::String    ? Kind::String
                      : k.type == ValueType::Bool    ? Kind::Bool
                      : k.type == ValueType::Integer ? Kind::Integer
                                                     : Kind::Array;
    if (v.kind != want) {
        std::string message = std::string(k.key) + " must be " + std::string(type_description(k.type)) + ", got " +
                              std::string(kind_name(v.kind));
        if (k.type == ValueType::StringArray && v.kind == Kind::String)
            message += ": write [\"" + std::string(v.text) + "\"]";
        else if (k.key == "socket_mode" && v.kind == Kind::Integer)
            message += ": write it in quotes, like \"0660\"";
        error(v.pos, std::move(message));
        return false;
    }
    switch (k.type) {
        case ValueType::String:
            if (v.text.empty()) {
                error(v.pos, std::string(k.key) + " must not be empty");
                return false;
            }
            return true;
        case ValueType::Integer:
            if (v.integer < k.min || v.integer > k.max) {
                error(v.pos, std::string(k.key) + " must be between " + std::to_string(k.min) + " and " +
                                 std::to_string(k.max) + ", got " + std::to_string(v.integer));
                return false;
            }
            return true;
        case ValueType::StringArray:
            for (const Node& item : v.items) {
                if (item.kind != Kind::String)
                    error(item.pos, std::string(k.key) + " entries must be strings, got " + std::string(kind_name(item.kind)));
                else if (item.text.empty())
                    error(item.pos, std::string(k.key) + " entries must not be empty");
            }
            return true;
        case ValueType::Bool: return true;
    }
    return true;
}

void Loader::bad_choice(const KeyDecl& k, const Node& v, std::span<const std::string_view> valid) {
    std::string message = "unknown " + std::string(k.key) + " " + quoted(v.text) + ": ";
    if (std::string_view near = closest(v.text, valid); !near.empty())
        message += "did you mean " + quoted(near) + "? (use " + one_of(valid) + ")";
    else
        message += "use " + one_of(valid);
    error(v.pos, std::move(message));
}

void Loader::settings_section(Section section, const SectionView& s) {
    std::uint64_t& present = settings_present_[static_cast<std::size_t>(section)];
    for (const Field& f : s.fields) {
        const KeyDecl* k = lookup(section, f);
        if (!k) continue;
        present |= std::uint64_t{1} << key_index(*k);
        if (check_value(*k, f.value)) apply_setting(*k, f.value);
    }
}

// [milter], [header], [stats] and [observations]: their keys are distinct.
void Loader::apply_setting(const KeyDecl& k, const Node& v) {
    const std::string_view key = k.key;
    const std::string text(v.text);
    const std::string named = std::string(key) + " " + quoted(text);
    auto absolute_path = [&](std::string& out) {
        if (is_absolute(text)) out = text;
        else error(v.pos, named + " must be an absolute path");
    };
    if (key == "socket") {
        if (std::string why = socket_problem(text); !why.empty()) error(v.pos, named + ": " + why);
        else config_.milter.socket = text;
    } else if (key == "mode") {
        if (auto m = parse_mode(text)) policy_->mode = *m;
        else bad_choice(k, v, k.choices);
    } else if (key == "user") {
        config_.milter.user = text;
        config_.milter.user_line = v.pos.line;
        config_.milter.user_column = v.pos.column;
    } else if (key == "socket_mode") {
        if (auto m = parse_octal_mode(text)) config_.milter.socket_mode = *m;
        else error(v.pos, named + " is not an octal mode like \"0660\"");
    } else if (key == "pidfile") {
        absolute_path(config_.milter.pidfile);
    } else if (key == "timeout") {
        config_.milter.timeout = static_cast<int>(v.integer);
    } else if (key == "recipient_delimiter") {
        if (recipient_delimiter_ok(text)) policy_->recipient_delimiter = text;
        else error(v.pos, named + " may only hold punctuation characters, each once, like Postfix's recipient_delimiter");
    } else if (key == "name") {
        if (std::string why = header_name_problem(text); !why.empty()) error(v.pos, std::move(why));
        else config_.header.name = text;
    } else if (key == "authserv_id") {
        if (valid_authserv_id(text)) config_.header.authserv_id = text;
        else error(v.pos, named + " may only contain letters, digits, '.', '-', '_', '+' and '/'");
    } else if (key == "strip_forged") {
        config_.header.strip_forged = v.boolean;
    } else if (key == "file") {
        absolute_path(config_.stats.file);
    } else if (key == "interval") {
        config_.stats.interval = static_cast<int>(v.integer);
    } else if (key == "database") {
        absolute_path(config_.observations.database);
    } else if (key == "keep_days") {
        config_.observations.keep_days = static_cast<int>(v.integer);
    } else {
        error(v.pos, "internal error: no handler for " + std::string(key));
    }
}

CipherListPtr Loader::expand(const KeyDecl& k, const Node& v, bool suites) {
    CipherCache& cache = suites ? suites_ : ciphers_;
    auto it = cache.find(v.text);
    if (it == cache.end()) {
        cipher_table::Expansion e = suites ? cipher_table::expand_ciphersuites(v.text) : cipher_table::expand_ciphers(v.text);
        it = cache.emplace(std::string(v.text), CacheEntry{std::move(e), v.pos}).first;
    } else if (v.pos < it->second.first) {
        it->second.first = v.pos;
    }
    for (const std::string& e : it->second.expansion.errors) error(v.pos, std::string(k.key) + ": " + e);
    return it->second.expansion.list;
}

void Loader::rule_section(Section section, const SectionView& s) {
    RuleBuild b;
    b.rule.kind = section == Section::Partner     ? RuleKind::Partner
                  : section == Section::Recipient ? RuleKind::Recipient
                                                  : RuleKind::Defaults;
    if (section == Section::Defaults) b.rule.name = "default";
    b.rule.line = s.pos.line;
    b.errors_before = diagnostics_.size();
    for (const Field& f : s.fields) {
        const KeyDecl* k = lookup(section, f);
        if (!k) continue;
        b.present |= std::uint64_t{1} << key_index(*k);
        if (check_value(*k, f.value)) apply_rule_key(b, *k, f.value);
    }
    finish_rule(section, b, s.pos);
}

// [defaults], [[partner]] and [[recipient]].
void Loader::apply_rule_key(RuleBuild& b, const KeyDecl& k, const Node& v) {
    Rule& r = b.rule;
    const std::string_view key = k.key;
    std::string why;
    if (key == "name") {
        if (v.text == "default") {
            error(v.pos, "rule name 'default' is reserved for [defaults]");
        } else if (!valid_rule_name(v.text)) {
            error(v.pos, "rule name " + quoted(v.text) + " may only contain letters, digits, '.', '-' and '_'");
        } else {
            r.name = v.text;
            b.named = true;
            b.name_pos = v.pos;
        }
    } else if (key == "clients") {
        b.selectors_written |= !v.items.empty();
        r.clients.reserve(v.items.size());
        for (const Node& item : v.items) {
            if (item.kind != Kind::String || item.text.empty()) continue;  // reported by check_value
            if (auto c = parse_cidr(item.text, &why)) r.clients.push_back(*c);
            else error(item.pos, "clients: " + why);
        }
    } else if (key == "hostnames" || key == "senders" || key == "recipients") {
        b.selectors_written |= !v.items.empty();
        std::vector<Entry>& out = key == "hostnames" ? r.hostnames : key == "senders" ? r.senders : r.recipients;
        out.reserve(v.items.size());
        for (const Node& item : v.items) {
            if (item.kind != Kind::String || item.text.empty()) continue;
            if (auto e = parse_entry(item.text, key != "hostnames", &why)) out.push_back(std::move(*e));
            else error(item.pos, std::string(key) + ": " + why);
        }
    } else if (key == "require_tls") {
        r.req.require_tls = v.boolean;
    } else if (key == "min_version") {
        if (auto version = parse_config_version(v.text)) r.req.min_version = version;
        else bad_choice(k, v, k.choices);
    } else if (key == "min_cipher_bits") {
        r.req.min_cipher_bits = static_cast<int>(v.integer);
    } else if (key == "ciphers") {
        r.req.ciphers = expand(k, v, false);
    } else if (key == "ciphersuites") {
        r.req.ciphersuites = expand(k, v, true);
    } else if (key == "profile") {
        r.req.profile = find_profile(v.text);
        if (!r.req.profile) {
            std::vector<std::string_view> names;  // the core's list is the truth, not the schema's copy
            for (const Profile& p : all_profiles()) names.push_back(p.name);
            bad_choice(k, v, names);
        }
    } else if (key == "require_client_cert") {
        r.req.require_client_cert = v.boolean;
        if (!v.boolean && (b.present >> key_index(k) & 1)) b.client_cert_off = v.pos;
    } else if (key == "cert_subjects" || key == "cert_issuers") {
        b.cert_names = v.pos;
        if (v.items.empty())
            error(v.pos, std::string(key) + " is empty: leave it out to accept any verified certificate");
        for (const Node& item : v.items) {
            if (item.kind != Kind::String || item.text.empty()) continue;  // reported by check_value
            if (key == "cert_issuers") {
                if (std::all_of(item.text.begin(), item.text.end(), [](char c) { return c >= ' ' && c < 0x7f; }))
                    r.req.cert_issuers.emplace_back(item.text);
                else
                    error(item.pos, "cert_issuers: " + quoted(item.text) + " may only contain printable ASCII");
            } else if (auto e = parse_entry(item.text, false, &why)) {
                r.req.cert_subjects.push_back(std::move(*e));
            } else {
                error(item.pos, "cert_subjects: " + why);
            }
        }
    } else if (key == "action") {
        if (auto action = parse_action(v.text)) r.action = *action;
        else bad_choice(k, v, k.choices);
    } else if (key == "reply") {
        // It becomes an SMTP reply line: say so now rather than let the sanitiser change it.
        if (!std::all_of(v.text.begin(), v.text.end(), [](char c) { return c >= ' ' && c < 0x7f; }))
            error(v.pos, "reply may only contain printable ASCII: no line breaks, control characters or accents");
        else if (v.text.size() > kMaxReplyText)
            error(v.pos, "reply is " + std::to_string(v.text.size()) + " characters long; an SMTP reply allows " +
                             std::to_string(kMaxReplyText));
        else
            r.reply = v.text;
    } else {
        error(v.pos, "internal error: no handler for " + std::string(key));
    }
}

void Loader::finish_rule(Section section, RuleBuild& b, Pos where) {
    for (const KeyDecl& k : schema()) {
        if (!k.in(section) || (b.present >> key_index(k) & 1)) continue;
        if (const Node* d = default_value(k)) apply_rule_key(b, k, *d);
    }
    Rule& r = b.rule;
    // A certificate name is a certificate requirement: it cannot be turned off.
    if (b.cert_names && b.client_cert_off)
        error(*b.client_cert_off, "require_client_cert = false contradicts cert_subjects/cert_issuers of this rule, "
                                  "which need a verified certificate: remove one of them");
    if (b.cert_names) r.req.require_client_cert = true;
    if (diagnostics_.size() == b.errors_before)  // a misspelt require_tls is reported as such
        if (std::string w = plaintext_passes_warning(r); !w.empty()) warning(where, std::move(w));
    if (section == Section::Defaults) {
        policy_->defaults = std::move(r);
        return;
    }
    const bool partner = section == Section::Partner;
    auto label = [&] { return std::string(partner ? "partner" : "recipient") + (b.named ? " " + quoted(r.name) : " rule"); };
    static const std::size_t name_key = key_index(*find_key(Section::Partner, "name"));
    if (!(b.present >> name_key & 1)) error(where, label() + " has no name");
    if (!b.selectors_written)
        error(where, label() + (partner ? " has no clients, hostnames or senders" : " has no recipients") +
                         ": it can never match");
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

LoadResult Loader::finish() {
    // Defaults of the settings sections, for keys the file left out.
    for (const SectionDecl& s : schema_sections()) {
        if (s.array) continue;
        if (s.section == Section::Defaults) {
            if (!section_seen_[static_cast<std::size_t>(Section::Defaults)])
                rule_section(Section::Defaults, SectionView{"defaults", {}, false, {}});
            continue;
        }
        const std::uint64_t present = settings_present_[static_cast<std::size_t>(s.section)];
        for (const KeyDecl& k : schema())
            if (k.in(s.section) && !(present >> key_index(k) & 1))
                if (const Node* d = default_value(k)) apply_setting(k, *d);
    }

    report_duplicate_names();

    // Cipher names OpenSSL does not know: once per distinct string, where it is first used.
    for (auto [cache, key] : {std::pair{&ciphers_, "ciphers"}, std::pair{&suites_, "ciphersuites"}})
        for (const auto& [spec, entry] : *cache)
            if (entry.expansion.list)
                for (const std::string& name : entry.expansion.list->unknown)
                    warning(entry.first, std::string(key) + ": " + quoted(name) +
                                             " is unknown to this OpenSSL; kept for exact matching");

    std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    LoadResult result;
    const bool failed = std::any_of(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& d) { return !d.warning; });
    result.diagnostics = std::move(diagnostics_);
    if (!failed) {
        policy_->build_indexes();
        config_.policy = std::move(policy_);
        result.config = std::make_shared<const Config>(std::move(config_));
    }
    return result;
}

}  // namespace

LoadResult load_config_text_with_tomlplusplus(std::string_view text, const std::string& path) {
    Loader loader(path);
    if (auto e = read_toml(text, path, loader)) {
        LoadResult result;
        result.diagnostics.push_back({path, e->pos.line, e->pos.column, e->message, false});
        return result;
    }
    return loader.finish();
}

bool fast_reader_accepts(std::string_view text) {
    std::deque<std::string> arena;
    Loader loader("");
    return read_plain_toml(text, arena, loader);
}

LoadResult load_config_text(std::string_view text, const std::string& path) {
    std::deque<std::string> arena;
    Loader loader(path);
    loader.reserve_for(text);
    if (read_plain_toml(text, arena, loader)) return loader.finish();
    return load_config_text_with_tomlplusplus(text, path);
}

LoadResult load_config_file(const std::string& path) {
    std::string text;
    if (std::optional<Diagnostic> problem = read_policy_file(path, text)) {
        LoadResult result;
        result.diagnostics.push_back(std::move(*problem));
        return result;
    }
    return load_config_text(text, path);
}

std::string Diagnostic::format() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
    out += warning ? ": warning: " : ": ";
    out += message;
    // Messages quote the file (toml++ quotes what it saw) and reload errors go
    // to the log: one line, no control characters. UTF-8 the operator wrote stays.
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return out;
}

}  // namespace tlspolicy
