// The one-pass reader for the plain TOML subset (see toml_document.hpp).
// Throws GiveUp internally at anything outside the subset; toml++ then reads
// the file, so this reader never has to explain a syntax error.
#include <charconv>
#include <cstring>

#include "config/toml_document.hpp"
#include "core/text.hpp"

namespace tlspolicy::toml_doc {
namespace {

struct GiveUp {};

class FastReader {
public:
    FastReader(std::string_view text, std::deque<std::string>& arena) : s_(text), arena_(arena) {}

    void run(Sink& out);

    // One value and nothing else (the defaults in the schema).
    std::optional<Node> single_value() {
        try {
            Node v = value();
            skip_blanks();
            if (!eof()) return std::nullopt;
            return v;
        } catch (const GiveUp&) {
            return std::nullopt;
        }
    }

private:
    [[noreturn]] static void give_up() { throw GiveUp{}; }
    bool eof() const { return i_ >= s_.size(); }
    char peek(std::size_t ahead = 0) const { return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0'; }
    // Columns count characters, not bytes, as toml++ does.
    Pos pos() const { return {line_, static_cast<int>(i_ - line_start_ - multibyte_extra_) + 1}; }
    bool at_eol() const { return eof() || s_[i_] == '\n' || s_[i_] == '\r'; }
    static bool bare(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }
    static bool control(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

    // Steps over one character of a comment or string: ASCII other than control
    // characters, or a well-formed UTF-8 sequence.
    void text_char() {
        const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(peek(k)); };
        const unsigned char c = byte(0);
        if (c < 0x80) {
            if (control(c)) give_up();
            ++i_;
            return;
        }
        std::size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4) len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else give_up();
        if (byte(1) < lo || byte(1) > hi) give_up();
        for (std::size_t k = 2; k < len; ++k)
            if (byte(k) < 0x80 || byte(k) > 0xBF) give_up();
        i_ += len;
        multibyte_extra_ += len - 1;
    }
    bool at_delimiter() const {
        char c = peek();
        return eof() || c == ' ' || c == '\t' || c == '#' || c == ',' || c == ']' || c == '\r' || c == '\n';
    }

    void skip_blanks() {
        while (!eof() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
    }
    void newline() {
        if (s_[i_] == '\r' && peek(1) != '\n') give_up();
        i_ += s_[i_] == '\r' ? 2 : 1;
        ++line_;
        line_start_ = i_;
        multibyte_extra_ = 0;
    }
    void skip_comment() {
        for (++i_; !eof() && s_[i_] != '\n' && s_[i_] != '\r';) text_char();
    }
    void end_line() {
        skip_blanks();
        if (peek() == '#') skip_comment();
        if (eof()) return;
        if (!at_eol()) give_up();
        newline();
    }
    // Blanks, newlines and comments between array elements.
    void skip_array_space() {
        for (;;) {
            skip_blanks();
            if (peek() == '#') skip_comment();
            if (eof()) give_up();
            if (!at_eol()) return;
            newline();
        }
    }
    std::string_view bare_key() {
        std::size_t b = i_;
        while (!eof() && bare(s_[i_])) ++i_;
        if (b == i_) give_up();
        return s_.substr(b, i_ - b);
    }

    std::string_view basic_string() {
        const std::size_t start = ++i_;
        std::string* unescaped = nullptr;
        for (;;) {
            if (eof()) give_up();
            char c = s_[i_];
            if (c == '"') break;
            if (c == '\\') {
                if (!unescaped) unescaped = &arena_.emplace_back(s_.substr(start, i_ - start));
                switch (peek(1)) {
                    case 'b': *unescaped += '\b'; break;
                    case 't': *unescaped += '\t'; break;
                    case 'n': *unescaped += '\n'; break;
                    case 'f': *unescaped += '\f'; break;
                    case 'r': *unescaped += '\r'; break;
                    case '"': *unescaped += '"'; break;
                    case '\\': *unescaped += '\\'; break;
                    default: give_up();  // \u, \U, or not an escape at all
                }
                i_ += 2;
                continue;
            }
            const std::size_t from = i_;
            text_char();
            if (unescaped) unescaped->append(s_.substr(from, i_ - from));
        }
        std::string_view text = unescaped ? std::string_view(*unescaped) : s_.substr(start, i_ - start);
        ++i_;
        return text;
    }

    std::string_view literal_string() {
        const std::size_t start = ++i_;
        while (!eof() && s_[i_] != '\'') text_char();
        if (eof()) give_up();
        return s_.substr(start, i_++ - start);
    }

    Node value(int depth = 0) {
        Node n;
        n.pos = pos();
        const char c = peek();
        if (c == '"') {
            if (peek(1) == '"' && peek(2) == '"') give_up();  // multi-line
            n.text = basic_string();
        } else if (c == '\'') {
            if (peek(1) == '\'' && peek(2) == '\'') give_up();
            n.text = literal_string();
        } else if (s_.substr(i_, 4) == "true" || s_.substr(i_, 5) == "false") {
            n.kind = Kind::Bool;
            n.boolean = c == 't';
            i_ += n.boolean ? 4 : 5;
            if (!at_delimiter()) give_up();
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            const std::size_t start = i_;
            if (c == '-') ++i_;
            const std::size_t digits = i_;
            while (!eof() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
            const std::size_t count = i_ - digits;
            // Floats, dates, hex, underscores, leading zeros: toml++'s business.
            if (count == 0 || count > 18 || (count > 1 && s_[digits] == '0') || !at_delimiter()) give_up();
            n.kind = Kind::Integer;
            std::from_chars(s_.data() + start, s_.data() + i_, n.integer);
        } else if (c == '[') {
            if (depth >= 8) give_up();  // toml++ has its own limit; we only keep the stack small
            n.kind = Kind::Array;
            ++i_;
            for (;;) {
                skip_array_space();
                if (peek() == ']') break;
                n.items.push_back(value(depth + 1));
                skip_array_space();
                if (peek() == ',') {
                    ++i_;
                    continue;
                }
                if (peek() != ']') give_up();
                break;
            }
            ++i_;
        } else {
            give_up();  // inline tables, floats such as inf, or no value at all
        }
        return n;
    }

    std::string_view s_;
    std::deque<std::string>& arena_;  // unescaped strings; stable addresses
    std::size_t i_ = 0;
    int line_ = 1;
    std::size_t line_start_ = 0;
    std::size_t multibyte_extra_ = 0;  // bytes beyond the first of each character so far on this line
};


void FastReader::run(Sink& out) {
    if (s_.starts_with("\xEF\xBB\xBF")) give_up();  // a byte order mark
    // What each top-level name is so far: 't' [name], 'a' [[name]], 'k' a key.
    StringMap<char> defined;
    std::vector<Field> fields;
    bool in_section = false;
    std::string_view name;
    Pos header;
    bool array = false;
    auto flush = [&] {
        if (in_section)
            out.section(SectionView{name, header, array, fields});
        else
            for (const Field& f : fields) out.root_field(f);
        fields.clear();
    };
    while (!eof()) {
        skip_blanks();
        if (at_eol()) {
            if (!eof()) newline();
            continue;
        }
        if (peek() == '#') {
            end_line();
            continue;
        }
        if (peek() == '[') {
            flush();
            header = pos();
            array = peek(1) == '[';
            i_ += array ? 2 : 1;
            name = bare_key();
            if (peek() != ']' || (array && peek(1) != ']')) give_up();  // dotted, quoted or spaced names
            i_ += array ? 2 : 1;
            end_line();
            if (auto it = defined.find(name); it == defined.end())
                defined.emplace(name, array ? 'a' : 't');
            else if (!array || it->second != 'a')
                give_up();  // a table defined twice, or mixed with [[...]]: toml++ will say what is wrong
            in_section = true;
            continue;
        }
        Field f;
        f.pos = pos();
        f.key = bare_key();
        skip_blanks();
        if (peek() != '=') give_up();
        ++i_;
        skip_blanks();
        f.value = value();
        end_line();
        if (fields.size() >= 64) give_up();  // keep the duplicate scan below cheap
        for (const Field& g : fields)
            if (g.key == f.key) give_up();
        if (!in_section && !defined.emplace(f.key, 'k').second) give_up();
        fields.push_back(std::move(f));
    }
    flush();
}


}  // namespace

bool read_plain_toml(std::string_view text, std::deque<std::string>& arena, Sink& out) {
    try {
        FastReader(text, arena).run(out);
        return true;
    } catch (const GiveUp&) {
        return false;
    }
}

std::optional<Node> read_plain_value(std::string_view text, std::deque<std::string>& arena) {
    return FastReader(text, arena).single_value();
}

}  // namespace tlspolicy::toml_doc
