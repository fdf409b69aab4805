// See escape.hpp.
#include "core/escape.hpp"

#include <cstdio>

namespace tlspolicy {
namespace {

void hex_escape(std::string& out, const char* format, unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, format, c);
    out += buf;
}

}  // namespace

std::string json_string(std::string_view s) {
    std::string q = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            q += '\\';
            q += char(c);
        } else if (c < 0x20) {
            hex_escape(q, "\\u%04x", c);
        } else {
            q += char(c);
        }
    }
    return q + "\"";
}

std::string csv_field(std::string_view s) {
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::string html(std::string_view s) {
    std::string e;
    for (char c : s) {
        switch (c) {
            case '&': e += "&amp;"; break;
            case '<': e += "&lt;"; break;
            case '>': e += "&gt;"; break;
            case '"': e += "&quot;"; break;
            default: e += c;
        }
    }
    return e;
}

std::string line_text(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) hex_escape(out, "\\x%02x", c);
        else out += char(c);
    }
    return out;
}

}  // namespace tlspolicy
