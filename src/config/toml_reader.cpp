// The toml++ reader: any TOML, delivered as the same sections as the plain
// reader's. The only file that includes toml++.
#define TOML_HEADER_ONLY 0  // link the packaged libtomlplusplus (as its .pc file says)
#define TOML_SHARED_LIB 1
#include <toml++/toml.h>

#include "config/toml_document.hpp"

namespace tlspolicy::toml_doc {
namespace {

Pos position(const toml::source_region& r) {
    return {static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

Node convert(const toml::node& n) {
    Node out;
    out.pos = position(n.source());
    switch (n.type()) {
        case toml::node_type::string: out.kind = Kind::String; out.text = n.as_string()->get(); break;
        case toml::node_type::integer: out.kind = Kind::Integer; out.integer = n.as_integer()->get(); break;
        case toml::node_type::floating_point: out.kind = Kind::Float; break;
        case toml::node_type::boolean: out.kind = Kind::Bool; out.boolean = n.as_boolean()->get(); break;
        case toml::node_type::date: out.kind = Kind::Date; break;
        case toml::node_type::time: out.kind = Kind::Time; break;
        case toml::node_type::date_time: out.kind = Kind::DateTime; break;
        case toml::node_type::table: out.kind = Kind::Table; break;
        case toml::node_type::array:
            out.kind = Kind::Array;
            for (const toml::node& item : *n.as_array()) out.items.push_back(convert(item));
            break;
        case toml::node_type::none: break;
    }
    return out;
}

void send_table(Sink& out, std::string_view name, Pos key_pos, const toml::table& t, bool array) {
    std::vector<Field> fields;
    for (auto&& [k, v] : t) fields.push_back(Field{k.str(), position(k.source()), convert(v)});
    Pos where = position(t.source());
    if (where.line == 0) where = key_pos;  // a table implied by [name.sub]
    out.section(SectionView{name, where, array, fields});
}

void walk(const toml::table& root, Sink& out) {
    for (auto&& [k, v] : root) {
        const Pos key_pos = position(k.source());
        if (const toml::table* t = v.as_table()) {
            send_table(out, k.str(), key_pos, *t, false);
        } else if (const toml::array* a = v.as_array(); a && !a->empty() && a->is_array_of_tables()) {
            for (const toml::node& element : *a) send_table(out, k.str(), key_pos, *element.as_table(), true);
        } else {
            out.root_field(Field{k.str(), key_pos, convert(v)});
        }
    }
}

}  // namespace

std::optional<SyntaxError> read_toml(std::string_view text, const std::string& path, Sink& out) {
    if (auto e = nesting_problem(text)) return e;  // before toml++ recurses into it
    toml::table root;
    try {
        root = toml::parse(text, std::string_view(path));
    } catch (const toml::parse_error& e) {
        return SyntaxError{position(e.source()), std::string(e.description())};
    }
    walk(root, out);
    return std::nullopt;
}

}  // namespace tlspolicy::toml_doc
