// Fuzz target: the text sanitiser, with its promises checked on every input
// (src/core/sanitize.hpp).
// Input: two bytes of `max` (big-endian, 0..1023), then the text. The
// forged-header test has a target of its own (fuzz_authserv.cpp).
#include <cstdint>
#include <string>
#include <string_view>

#include "core/sanitize.hpp"
#include "core/text.hpp"
#include "fuzz_support.hpp"

using namespace tlspolicy;
using tlspolicy::fuzz::require;

namespace {

bool token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || c == '+' || c == '/';
}

void check_text(std::string_view in, std::size_t max) {
    std::string out = sanitize_text(in, max);
    fuzz::require_printable(out, "sanitize_text left a control or 8-bit byte");
    require(out.size() <= max, "sanitize_text longer than max", out);
    if (in.size() <= max && fuzz::printable(in)) require(out == in, "sanitize_text changed clean text", out);
    if (in.size() > max && max >= 3) require(out.ends_with("..."), "sanitize_text cut without '...'", out);
    if (in.size() <= max) require(out.size() == in.size(), "sanitize_text changed the length", out);
}

void check_token(std::string_view in, std::size_t max) {
    std::string out = sanitize_token(in, max);
    for (char c : out) require(token_char(c), "sanitize_token left a non-token byte", out);
    if (in.empty()) {
        require(out == "none", "sanitize_token of nothing is not 'none'", out);
        return;
    }
    if (max > 0) require(out.size() <= max, "sanitize_token longer than max", out);
    if (in.size() <= max && std::all_of(in.begin(), in.end(), token_char))
        require(out == in, "sanitize_token changed a clean token", out);
}

void check_percent(std::string_view in) {
    std::string out = escape_percent(in);
    // Undo the doubling: must give the input back, and no lone '%' may remain.
    std::string back;
    for (std::size_t i = 0; i < out.size(); ++i) {
        back += out[i];
        if (out[i] == '%') {
            require(i + 1 < out.size() && out[i + 1] == '%', "escape_percent left a lone '%'", out);
            ++i;
        }
    }
    require(back == in, "escape_percent lost or changed bytes", out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::size_t max = ((std::size_t{data[0]} << 8) | data[1]) & 0x3ff;
    std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
    check_text(text, max);
    check_token(text, max);
    check_percent(text);
    return 0;
}
