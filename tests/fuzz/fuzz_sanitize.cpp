// Fuzz target: the text sanitiser and the forged-header test, with their
// promises checked on every input (src/core/sanitize.hpp, header_stamp.hpp).
// Input: two bytes of `max` (big-endian, 0..1023), then the text; a NUL in the
// text splits it into header value and authserv-id for claims_authserv_id.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/header_stamp.hpp"
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

void check_claims(std::string_view value, std::string_view id) {
    bool claims = claims_authserv_id(value, id);
    if (claims) {
        // Only a value whose first token is the id may claim it.
        std::string_view v = value;
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == '\r' || v.front() == '\n'))
            v.remove_prefix(1);
        require(v.size() >= id.size() && iequals(v.substr(0, id.size()), id),
                "claims_authserv_id accepted a value that does not start with the id", value);
        std::string_view rest = v.substr(id.size());
        while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
        require(rest.empty() || rest.front() == ';', "claims_authserv_id accepted a longer first token", value);
    }
    // Our own header, for an id the config accepts, is always recognised as
    // ours, however a forger pads or cases it.
    std::string token = sanitize_token(id, kMaxToken);
    TlsFacts tls;
    Verdict none;
    std::string ours = header_value(token, tls, none, {});
    require(claims_authserv_id(ours, token), "our own header does not claim our authserv-id", ours);
    require(claims_authserv_id(" \t" + lowercase(token) + " ;" + std::string(value), token),
            "a padded, lower-cased copy of our id is not recognised", value);
    fuzz::require_printable(ours, "header_value is not printable");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::size_t max = ((std::size_t{data[0]} << 8) | data[1]) & 0x3ff;
    std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
    check_text(text, max);
    check_token(text, max);
    check_percent(text);
    std::size_t nul = text.find('\0');
    if (nul == std::string_view::npos)
        check_claims(text, "mx.example.com");
    else
        check_claims(text.substr(0, nul), text.substr(nul + 1));
    return 0;
}
