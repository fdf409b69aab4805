// Loads the policy file into a Config (loader.hpp): sections and settings,
// the checks every value gets from the schema (config/schema.cpp: type,
// emptiness, bounds), then the key's own apply function. The text is read by
// the plain one-pass reader when it can, else by toml++ (toml_document.hpp):
// both deliver the same sections, and unit tests hold them to the same output.
#include <algorithm>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/config_loader_internal.hpp"
#include "config/did_you_mean.hpp"
#include "config/loader.hpp"
#include "config/policy_file.hpp"
#include "config/schema.hpp"
#include "config/toml_document.hpp"
#include "core/text.hpp"

namespace tlspolicy {
namespace loading {

using toml_doc::Kind;
using toml_doc::kind_name;

namespace {


}  // namespace

const Node* default_value(const KeyDecl& k) {
    struct Defaults {
        std::deque<std::string> arena;
        std::vector<std::optional<Node>> values;
        Defaults() {
            for (const KeyDecl& d : schema()) {
                values.push_back(d.default_toml.empty() ? std::nullopt
                                                        : toml_doc::read_plain_value(d.default_toml, arena));
                if (values.back()) values.back()->pos = {};  // a default has no place in the file: line 0
            }
        }
    };
    static const Defaults defaults;
    const auto& v = defaults.values[key_index(k)];
    return v ? &*v : nullptr;
}

Loader::Loader(const std::string& path) : path_(path), policy_(std::make_shared<Policy>()) { config_.path = path; }

void Loader::reserve_for(std::string_view text) {
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
// wrong kind are reported here and skipped by the apply functions.
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
        else if (!k.wrong_type_hint.empty() && v.kind == Kind::Integer)
            message += ": " + std::string(k.wrong_type_hint);
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

CipherListPtr Loader::expand(const KeyDecl& k, const Node& v, bool suites) {
    CipherCache& cache = suites ? suites_ : ciphers_;
    auto it = cache.find(v.text);
    if (it == cache.end()) {
        cipher_table::Expansion e = suites ? cipher_table::expand_ciphersuites(v.text) : cipher_table::expand_ciphers(v.text);
        it = cache.emplace(std::string(v.text), CacheEntry{std::move(e), v.pos, &k}).first;
    } else if (v.pos < it->second.first) {
        it->second.first = v.pos;
    }
    for (const std::string& e : it->second.expansion.errors) error(v.pos, std::string(k.key) + ": " + e);
    return it->second.expansion.list;
}

// [milter], [header], [stats] and [observations].
void Loader::settings_section(Section section, const SectionView& s) {
    std::uint64_t& present = settings_present_[static_cast<std::size_t>(section)];
    for (const Field& f : s.fields) {
        const KeyDecl* k = lookup(section, f);
        if (!k) continue;
        present |= std::uint64_t{1} << key_index(*k);
        if (check_value(*k, f.value)) k->apply(*this, *k, f.value);
    }
}

// The schema's defaults for the settings a file left out, and [defaults]
// when the file has none.
void Loader::apply_setting_defaults() {
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
                if (const Node* d = default_value(k)) k.apply(*this, k, *d);
    }
}

// Cipher names OpenSSL does not know: once per distinct string, where it is first used.
void Loader::warn_unknown_ciphers() {
    for (const CipherCache* cache : {&ciphers_, &suites_})
        for (const auto& [spec, entry] : *cache)
            if (entry.expansion.list)
                for (const std::string& name : entry.expansion.list->unknown)
                    warning(entry.first, std::string(entry.key->key) + ": " + quoted(name) +
                                             " is unknown to this OpenSSL; kept for exact matching");
}

LoadResult Loader::finish() {
    apply_setting_defaults();
    report_duplicate_names();
    warn_unknown_ciphers();
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

}  // namespace loading

using loading::Loader;

LoadResult load_config_text_with_tomlplusplus(std::string_view text, const std::string& path) {
    Loader loader(path);
    if (auto e = toml_doc::read_toml(text, path, loader)) {
        LoadResult result;
        result.diagnostics.push_back({path, e->pos.line, e->pos.column, e->message, false});
        return result;
    }
    return loader.finish();
}

bool fast_reader_accepts(std::string_view text) {
    std::deque<std::string> arena;
    Loader loader("");
    return toml_doc::read_plain_toml(text, arena, loader);
}

LoadResult load_config_text(std::string_view text, const std::string& path) {
    std::deque<std::string> arena;
    Loader loader(path);
    loader.reserve_for(text);
    if (toml_doc::read_plain_toml(text, arena, loader)) return loader.finish();
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
