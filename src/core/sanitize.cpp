// Cleaning of network-supplied text (see sanitize.hpp).
#include "core/sanitize.hpp"

#include <algorithm>

namespace tlspolicy {

std::string sanitize_text(std::string_view in, std::size_t max) {
    std::string out;
    out.reserve(std::min(in.size(), max));
    for (char c : in) {
        if (out.size() >= max) {
            // The "..." mark counts against max too (all of it, when max < 3).
            out.resize(max >= 3 ? max - 3 : 0);
            out.append(std::min<std::size_t>(max, 3), '.');
            break;
        }
        auto u = static_cast<unsigned char>(c);
        out += (u >= 0x20 && u < 0x7f) ? c : '?';
    }
    return out;
}

namespace {

bool token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || c == '+' || c == '/';
}

}  // namespace

std::string sanitize_token(std::string_view in, std::size_t max) {
    std::string out;
    out.reserve(std::min(in.size(), max));
    for (char c : in) {
        if (out.size() >= max) break;
        out += token_char(c) ? c : '_';
    }
    return out.empty() ? "none" : out;
}

bool is_clean_token(std::string_view in, std::size_t max) {
    return !in.empty() && in.size() <= max && std::all_of(in.begin(), in.end(), token_char);
}

std::string escape_percent(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (char c : in) {
        out += c;
        if (c == '%') out += '%';
    }
    return out;
}

}  // namespace tlspolicy
