// Every key of the policy file, declared once: section, name, type, allowed
// values, default, one line of documentation, how a checked value is stored,
// how --check shows it and whether a reload applies it. The loader validates
// and stores through this table, --check prints from it, the reload compares
// through it, and the documentation test walks it to prove the man pages and
// the sample config mention every key.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tlspolicy {

struct Config;
struct Rule;
class KeyTarget;  // config/key_target.hpp: what an apply function may write to
namespace toml_doc { struct Node; }

enum class Section : std::uint8_t { Milter, Header, Stats, Observations, Probe, Defaults, Partner, Recipient };

struct SectionDecl {
    Section section;
    std::string_view name;  // "partner"
    bool array;             // true: written [[name]], one table per rule
    std::string_view doc;
};

enum class ValueType : std::uint8_t { String, Bool, Integer, StringArray };

// A set of sections, so keys shared by [defaults], [[partner]] and
// [[recipient]] are declared once.
using SectionSet = std::uint8_t;
constexpr SectionSet section_bit(Section s) { return SectionSet(1u << static_cast<unsigned>(s)); }

// What a key is to a rule, for the checks that look at several keys at once.
enum class KeyRole : std::uint8_t {
    Setting,         // [milter], [header], [stats], [observations]
    Name,            // the rule's name
    Selector,        // whom a rule applies to; a rule needs one that is not empty
    Requirement,     // decides plaintext too (require_tls, the client certificate)
    TlsRequirement,  // applies to TLS sessions only: plaintext passes it
    CertName,        // names the certificate: implies a verified one
    Outcome,         // what happens when a requirement fails
};

// When a changed value takes effect: at once on reload, or only at restart
// (the socket is open, privileges are dropped, the store is running).
enum class Reload : std::uint8_t { Live, Restart };

// Stores a value that has passed the table's type and bounds checks, or
// reports why it cannot (bad syntax, a choice that does not exist).
using ApplyFn = void (*)(KeyTarget& to, const struct KeyDecl& k, const toml_doc::Node& v);
// The value in effect as --check prints it; a rule key's is TOML text, empty
// when the rule leaves the key out.
using ShowSettingFn = std::string (*)(const Config& c);
using ShowRuleFn = std::string (*)(const Rule& r);

struct KeyDecl {
    SectionSet sections;
    std::string_view key;
    ValueType type;
    std::span<const std::string_view> choices = {};  // the allowed values; empty: free text
    std::string_view default_toml = {};  // the default as TOML text ("300", "\"enforce\""); empty: none
    std::string_view example_toml = {};  // a typical value as TOML text, for the sample config and tests
    std::int64_t min = 0, max = 0;       // inclusive bounds of an Integer
    bool required = false;               // the section is incomplete without it
    std::string_view doc = {};
    KeyRole role = KeyRole::Setting;
    ApplyFn apply = nullptr;
    ShowSettingFn show_setting = nullptr;  // keys of the settings sections
    ShowRuleFn show_rule = nullptr;        // requirements and outcomes; null for names and selectors
    Reload reload = Reload::Live;
    std::string_view wrong_type_hint = {};  // added to "must be a string, got integer"
    bool in(Section s) const { return (sections & section_bit(s)) != 0; }
};

std::span<const SectionDecl> schema_sections();  // in the order of enum Section, as the man page has them
std::span<const KeyDecl> schema();               // in documentation order

const SectionDecl& section_decl(Section s);
const SectionDecl* find_section(std::string_view name);
const KeyDecl* find_key(Section s, std::string_view key);

// Position of a key in schema(), for per-key bitsets.
std::size_t key_index(const KeyDecl& k);

// "[milter]" or "[[partner]]", as the section is written in the file.
std::string section_header(Section s);

// "a string", "true or false", "an integer", "an array of strings".
std::string_view type_description(ValueType t);

// Keys named per section in schema order: "[milter] socket_mode, timeout;
// [observations] keep_days". How the reload warning and the man pages list them.
std::string keys_by_section(std::span<const KeyDecl* const> keys);

}  // namespace tlspolicy
