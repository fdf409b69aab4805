// Every key of the policy file, declared once: section, name, type, allowed
// values, default and one line of documentation. The loader validates against
// this table, --check prints from it, and the documentation test walks it to
// prove the man page and the sample config mention every key.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tlspolicy {

enum class Section : std::uint8_t { Milter, Header, Stats, Observations, Defaults, Partner, Recipient };

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

struct KeyDecl {
    SectionSet sections;
    std::string_view key;
    ValueType type;
    std::span<const std::string_view> choices;  // the allowed values; empty: free text
    std::string_view default_toml;  // the default as TOML text ("300", "\"enforce\""); empty: none
    std::string_view example_toml;  // a typical value as TOML text, for the sample config and tests
    std::int64_t min = 0, max = 0;  // inclusive bounds of an Integer
    bool required = false;          // the section is incomplete without it
    std::string_view doc;
    bool in(Section s) const { return (sections & section_bit(s)) != 0; }
};

std::span<const SectionDecl> schema_sections();  // in file order
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

}  // namespace tlspolicy
