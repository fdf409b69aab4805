// The policy file as both TOML readers hand it over: sections of key/value
// fields, values with their positions. The loader checks and builds from
// this, whichever reader produced it; only src/config/toml_reader.cpp sees
// toml++.
#pragma once
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tlspolicy::toml_doc {

// Strings point into the text (or the reader's own storage) and are only
// valid during the call that receives them.

struct Pos {
    int line = 0;
    int column = 0;
    bool operator<(const Pos& o) const { return line != o.line ? line < o.line : column < o.column; }
};

enum class Kind : std::uint8_t { String, Integer, Float, Bool, Array, Table, Date, Time, DateTime };

inline std::string_view kind_name(Kind k) {
    switch (k) {
        case Kind::String: return "string";
        case Kind::Integer: return "integer";
        case Kind::Float: return "floating-point number";
        case Kind::Bool: return "boolean";
        case Kind::Array: return "array";
        case Kind::Table: return "table";
        case Kind::Date: return "date";
        case Kind::Time: return "time";
        case Kind::DateTime: return "date-time";
    }
    return "?";
}

struct Node {
    Kind kind = Kind::String;
    Pos pos;
    std::string_view text;
    std::int64_t integer = 0;
    bool boolean = false;
    std::vector<Node> items;
};

struct Field {
    std::string_view key;
    Pos pos;
    Node value;
};

struct SectionView {
    std::string_view name;
    Pos pos;     // the header, or the key of an inline table
    bool array;  // [[name]]
    std::span<const Field> fields;
};


// Receives the document's root fields and sections. The plain reader sends
// them in file order; toml++ keeps no order of keys (its tables iterate
// sorted by key, so sections come by name and fields by key, [[rule]] tables
// in file order). The loader therefore depends on no order: it sorts its
// diagnostics by position at the end.
class Sink {
public:
    virtual ~Sink() = default;
    virtual void root_field(const Field& f) = 0;
    virtual void section(const SectionView& s) = 0;
};

// The plain subset generated policies use (bare keys, [section] and [[rule]]
// headers, one-line strings, integers, booleans, arrays of those), read in one
// pass without building a tree: 100,000 rules that toml++ reads in ~1.7 s
// and ~275 MB take a fraction of that. Returns false at the first thing
// outside the subset, valid TOML or not; what the sink got is then to be
// discarded and the text read with read_toml. `arena` keeps unescaped strings.
bool read_plain_toml(std::string_view text, std::deque<std::string>& arena, Sink& out);

// One plain value and nothing else ("300", "\"enforce\""), for the schema's defaults.
std::optional<Node> read_plain_value(std::string_view text, std::deque<std::string>& arena);

struct SyntaxError {
    Pos pos;
    std::string message;
};

// Any TOML, through toml++. A syntax error stops it (toml++ cannot recover).
// Text that nests deeper than kMaxNesting is refused first (nesting_problem).
std::optional<SyntaxError> read_toml(std::string_view text, const std::string& path, Sink& out);

// How deep tables and arrays may nest: each part of a table header or dotted
// key is a level, each array or inline table one more. toml++ recurses per
// level, and a 200 KB `[a.a.a...]` overflows the stack; a policy file needs 3.
inline constexpr int kMaxNesting = 32;

// Where `text` first nests deeper than kMaxNesting, with what to write
// instead; nullopt when it does not. A quick scan of strings, comments,
// keys and brackets only: the rest of the syntax is toml++'s to judge.
std::optional<SyntaxError> nesting_problem(std::string_view text);

}  // namespace tlspolicy::toml_doc
