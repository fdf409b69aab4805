// A small JSON reader for journalctl's one-object-per-line output: exactly the
// grammar of RFC 8259, keeping only the fields JournalEntry names.
#include "ingest/journal_entry.hpp"

namespace tlspolicy::ingest {
namespace {

class Reader {
public:
    explicit Reader(std::string_view s) : s_(s) {}

    bool object(const JsonFieldFn& keep) {
        ws();
        if (!eat('{')) return fail("an object");
        ws();
        if (!eat('}')) {
            for (;;) {
                std::string key;
                ws();
                if (!string(key)) return fail("a field name");
                ws();
                if (!eat(':')) return fail("':'");
                ws();
                std::string value;
                bool is_text = false;
                if (peek() == '"') {
                    if (!string(value)) return fail("a string");
                    is_text = true;
                } else if (peek() == '[') {
                    if (!bytes(value, is_text)) return fail("an array");
                } else if (!skip_value(0)) {
                    return fail("a value");
                }
                if (is_text) keep(key, std::move(value));
                ws();
                if (eat(',')) continue;
                if (eat('}')) break;
                return fail("',' or '}'");
            }
        }
        ws();
        if (at_ != s_.size()) return fail("the end of the line");
        return true;
    }
    std::string error;

private:
    char peek() const { return at_ < s_.size() ? s_[at_] : '\0'; }
    bool eat(char c) {
        if (peek() != c || at_ >= s_.size()) return false;
        ++at_;
        return true;
    }
    void ws() {
        while (at_ < s_.size() && (s_[at_] == ' ' || s_[at_] == '\t' || s_[at_] == '\r' || s_[at_] == '\n')) ++at_;
    }
    bool fail(const char* wanted) {
        error = std::string("expected ") + wanted + " at byte " + std::to_string(at_);
        return false;
    }
    static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
    bool hex4(unsigned& out) {
        if (at_ + 4 > s_.size()) return false;
        out = 0;
        for (int i = 0; i < 4; ++i) {
            const int h = hex(s_[at_++]);
            if (h < 0) return false;
            out = out * 16 + static_cast<unsigned>(h);
        }
        return true;
    }
    static void utf8(unsigned cp, std::string& out) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }
    bool string(std::string& out) {
        if (!eat('"')) return false;
        while (at_ < s_.size()) {
            const char c = s_[at_++];
            if (c == '"') return true;
            if (static_cast<unsigned char>(c) < 0x20) return false;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (at_ >= s_.size()) return false;
            switch (const char esc = s_[at_++]) {
                case '"': case '\\': case '/': out += esc; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    unsigned cp = 0;
                    if (!hex4(cp)) return false;
                    if (cp >= 0xd800 && cp < 0xdc00 && s_.substr(at_, 2) == "\\u") {
                        at_ += 2;
                        unsigned lo = 0;
                        if (!hex4(lo) || lo < 0xdc00 || lo > 0xdfff) return false;
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    }
                    utf8(cp, out);
                    break;
                }
                default: return false;
            }
        }
        return false;
    }
    // journald writes a field that is not valid UTF-8 as an array of its bytes.
    bool bytes(std::string& out, bool& is_text) {
        const std::size_t start = at_;
        if (!eat('[')) return false;
        ws();
        is_text = true;
        if (eat(']')) return true;
        for (;;) {
            ws();
            int v = 0, n = 0;
            while (at_ < s_.size() && s_[at_] >= '0' && s_[at_] <= '9' && n < 4) {
                v = v * 10 + (s_[at_++] - '0');
                ++n;
            }
            if (n == 0 || v > 255) {  // not a byte array: some other value
                at_ = start;
                is_text = false;
                out.clear();
                return skip_value(0);
            }
            out += static_cast<char>(v);
            ws();
            if (eat(',')) continue;
            return eat(']');
        }
    }
    bool skip_value(int depth) {
        if (depth > 8) return false;
        const char c = peek();
        if (c == '"') {
            std::string ignored;
            return string(ignored);
        }
        if (c == '{' || c == '[') {
            const char close = c == '{' ? '}' : ']';
            ++at_;
            ws();
            if (eat(close)) return true;
            for (;;) {
                ws();
                if (c == '{') {
                    std::string ignored;
                    if (!string(ignored)) return false;
                    ws();
                    if (!eat(':')) return false;
                    ws();
                }
                if (!skip_value(depth + 1)) return false;
                ws();
                if (eat(',')) continue;
                return eat(close);
            }
        }
        for (std::string_view word : {"null", "true", "false"})
            if (s_.substr(at_, word.size()) == word) {
                at_ += word.size();
                return true;
            }
        const std::size_t start = at_;
        if (peek() == '-') ++at_;
        while (at_ < s_.size() && ((s_[at_] >= '0' && s_[at_] <= '9') || s_[at_] == '.' || s_[at_] == 'e' ||
                                   s_[at_] == 'E' || s_[at_] == '+' || s_[at_] == '-'))
            ++at_;
        return at_ > start && !(at_ == start + 1 && s_[start] == '-');
    }

    std::string_view s_;
    std::size_t at_ = 0;
};

std::int64_t to_int(const std::string& v) {
    if (v.empty() || v.size() > 18) return -1;
    std::int64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return -1;
        n = n * 10 + (c - '0');
    }
    return n;
}

}  // namespace

bool parse_json_fields(std::string_view line, const JsonFieldFn& field, std::string* error) {
    Reader r(line);
    if (r.object(field)) return true;
    if (error) *error = r.error;
    return false;
}

bool parse_journal_json(std::string_view line, JournalEntry& out, std::string* error) {
    out = JournalEntry{};
    std::int64_t syslog_pid = -1, pid = -1;
    const bool ok = parse_json_fields(
        line,
        [&](const std::string& key, std::string&& value) {
            if (key == "MESSAGE") out.message = std::move(value);
            else if (key == "__CURSOR") out.cursor = std::move(value);
            else if (key == "__REALTIME_TIMESTAMP") out.realtime_usec = to_int(value);
            else if (key == "_HOSTNAME") out.hostname = std::move(value);
            else if (key == "SYSLOG_IDENTIFIER") out.identifier = std::move(value);
            else if (key == "SYSLOG_PID") syslog_pid = to_int(value);
            else if (key == "_PID") pid = to_int(value);
        },
        error);
    out.pid = syslog_pid >= 0 ? syslog_pid : pid;
    return ok;
}

}  // namespace tlspolicy::ingest
