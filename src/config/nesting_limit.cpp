// The nesting limit checked before toml++ sees a text (toml_document.hpp):
// toml++ recurses once per dotted part or nested value, so a hostile policy
// file could overflow the stack and kill the daemon on reload. One linear pass.
#include <vector>

#include "config/toml_document.hpp"

namespace tlspolicy::toml_doc {
namespace {

class NestingScan {
public:
    explicit NestingScan(std::string_view text) : s_(text) {}

    std::optional<SyntaxError> run() {
        int table_depth = 0;  // levels of the current [table] header
        for (;;) {
            skip_space(true);
            if (eof()) return std::nullopt;
            const Mark start = mark();
            if (peek() == '[') {
                const bool array = peek(1) == '[';  // [[a]]: the array of tables is a level of its own
                i_ += array ? 2 : 1;
                table_depth = key_parts() + (array ? 1 : 0);
                if (table_depth > kMaxNesting)
                    return too_deep(start, "this table header nests more than " + limit() +
                                               " levels deep (a level per dotted part): a policy file needs one "
                                               "part, such as [milter] or [[partner]]");
                skip_line();  // anything after the header is toml++'s syntax error
                continue;
            }
            const int depth = table_depth + key_parts();
            if (depth > kMaxNesting)
                return too_deep(start, "this dotted key nests more than " + limit() +
                                           " levels deep: write plain keys inside a section, such as "
                                           "min_version = \"TLSv1.2\" under [defaults]");
            if (peek() == '=') ++i_;
            if (auto e = value(depth)) return e;
        }
    }

private:
    bool eof() const { return i_ >= s_.size(); }
    char peek(std::size_t ahead = 0) const { return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0'; }
    static std::string limit() { return std::to_string(kMaxNesting); }

    // Where something starts; turned into a Pos only for the error, as
    // counting columns at every key would make a long line quadratic.
    struct Mark {
        std::size_t at;
        int line;
        std::size_t line_start;
    };
    Mark mark() const { return {i_, line_, line_start_}; }
    // Columns count characters, not bytes, as toml++ does.
    SyntaxError too_deep(Mark m, std::string message) const {
        int column = 1;
        for (std::size_t k = m.line_start; k < m.at; ++k)
            if ((static_cast<unsigned char>(s_[k]) & 0xC0) != 0x80) ++column;
        return {{m.line, column}, std::move(message)};
    }

    // Steps over one character, counting lines.
    void step() {
        if (s_[i_] == '\n') {
            ++line_;
            line_start_ = i_ + 1;
        }
        ++i_;
    }
    void skip_line() {
        while (!eof() && s_[i_] != '\n') step();
    }
    // Blanks, and with `lines` also newlines and comments.
    void skip_space(bool lines) {
        while (!eof()) {
            const char c = s_[i_];
            if (c == ' ' || c == '\t') ++i_;
            else if (lines && (c == '\n' || c == '\r')) step();
            else if (lines && c == '#') skip_line();
            else return;
        }
    }

    // A string of any of TOML's four kinds; a single-line one ends at the
    // line's end even when unterminated (toml++ reports that).
    void skip_string() {
        const char quote = s_[i_];
        const bool multi = peek(1) == quote && peek(2) == quote;
        i_ += multi ? 3 : 1;
        while (!eof()) {
            const char c = s_[i_];
            if (c == '\\' && quote == '"' && i_ + 1 < s_.size()) {
                step();
                step();
            } else if (c == quote && (!multi || (peek(1) == quote && peek(2) == quote))) {
                i_ += multi ? 3 : 1;
                for (int extra = 0; multi && extra < 2 && peek() == quote; ++extra) ++i_;  // """a""""
                return;
            } else if (!multi && c == '\n') {
                return;
            } else {
                step();
            }
        }
    }

    // The parts of a key or table header name (`a."b.c".d` has 3), up to the
    // '=', ']' or whatever else ends it.
    int key_parts() {
        int parts = 1;
        for (skip_space(false); !eof(); skip_space(false)) {
            const char c = s_[i_];
            if (c == '"' || c == '\'') {
                skip_string();
            } else if (c == '.') {
                ++parts;
                ++i_;
            } else if (c == '=' || c == ']' || c == '}' || c == ',' || c == '#' || c == '\n' || c == '\r' ||
                       c == '[' || c == '{') {
                return parts;
            } else {
                ++i_;
            }
        }
        return parts;
    }

    // A value whose key is `depth` levels deep, to the end of it.
    std::optional<SyntaxError> value(int depth) {
        struct Open {
            char bracket;
            int depth;  // of the array or inline table itself
        };
        std::vector<Open> open;
        int current = depth;  // of the value about to be read
        // An inline table's key: its parts count from the table's depth.
        auto inline_key = [&]() -> std::optional<SyntaxError> {
            skip_space(true);
            if (peek() == '}') return std::nullopt;
            const Mark start = mark();
            current = open.back().depth + key_parts();
            if (current > kMaxNesting)
                return too_deep(start, "inline tables and dotted keys nest more than " + limit() +
                                           " levels deep here: a policy file needs none, write [sections] "
                                           "with plain keys");
            if (peek() == '=') ++i_;
            return std::nullopt;
        };
        for (;;) {
            skip_space(!open.empty());
            if (eof()) return std::nullopt;
            const char c = s_[i_];
            if (open.empty() && (c == '\n' || c == '\r' || c == '#')) return std::nullopt;
            if (c == '"' || c == '\'') {
                skip_string();
            } else if (c == '[' || c == '{') {
                if (c == '[' && current + 1 > kMaxNesting)
                    return too_deep(mark(), "arrays and inline tables nest more than " + limit() +
                                               " levels deep here: a policy file needs one level, such as "
                                               "senders = [\"a.example\"]");
                open.push_back({c, current});
                ++i_;
                if (c == '[') ++current;
                else if (auto e = inline_key()) return e;
            } else if (c == ']' || c == '}') {
                ++i_;
                if (open.empty()) return std::nullopt;
                current = open.back().depth;
                open.pop_back();
                if (open.empty()) return std::nullopt;
            } else if (c == ',') {
                ++i_;
                if (open.empty()) return std::nullopt;
                if (open.back().bracket == '[') current = open.back().depth + 1;
                else if (auto e = inline_key()) return e;
            } else {
                ++i_;  // a scalar: nothing nests in it
            }
        }
    }

    std::string_view s_;
    std::size_t i_ = 0;
    int line_ = 1;
    std::size_t line_start_ = 0;
};

}  // namespace

std::optional<SyntaxError> nesting_problem(std::string_view text) { return NestingScan(text).run(); }

}  // namespace tlspolicy::toml_doc
