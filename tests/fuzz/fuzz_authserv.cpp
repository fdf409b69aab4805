// Fuzz target: the RFC 8601 authserv-id reader behind strip_forged
// (authserv_id_of, claims_authserv_id in src/core/header_stamp.hpp).
// Input: an authserv-id (as sanitize_token makes it from the config), NUL,
// then a header value. Every padded, quoted or commented copy of our id must
// be recognised as ours, and no foreign id may be.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/header_stamp.hpp"
#include "core/sanitize.hpp"
#include "core/text.hpp"
#include "fuzz_support.hpp"

using namespace tlspolicy;
using tlspolicy::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const std::size_t nul = in.find('\0');
    const std::string id = sanitize_token(in.substr(0, nul), kMaxToken);
    const std::string_view value = nul == std::string_view::npos ? std::string_view{} : in.substr(nul + 1);
    std::string canon = lowercase(id);
    while (!canon.empty() && canon.back() == '.') canon.pop_back();

    // Whatever the value, reading it terminates and gives one answer; a value
    // that claims our id carries it (as read) and nothing else.
    const std::string got = authserv_id_of(value);
    require(claims_authserv_id(value, id) == (!canon.empty() && got == canon), "claims disagrees with the id read",
            value);
    require(got.find_first_of(" \t\r\n;\"()") == std::string::npos, "an id read holds a delimiter", got);

    if (canon.empty()) return 0;
    const std::string tail = "; " + std::string(value);
    std::string quoted = "\"";
    for (char c : id) quoted += c == '.' ? std::string("\\.") : std::string(1, c);
    quoted += '"';
    // Forgeries of our own header, in every spelling RFC 8601 reads as our id.
    for (const std::string& forged :
         {id + tail, " \t" + lowercase(id) + " ;" + std::string(value), "(c) " + id + " (x (y)) 1" + tail,
          "\r\n\t" + id + "." + tail, "\"" + id + "\"" + tail, quoted + " 2" + tail, id + "\r\n " + tail}) {
        require(claims_authserv_id(forged, id), "a forged copy of our header was kept", forged);
    }
    // Other ids are not ours: longer, shorter, or ours inside a comment.
    for (const std::string& foreign : {id + "x" + tail, id + ".evil.example" + tail, "x" + id + tail,
                                       "(" + id + ") x" + id + tail, "\"" + id + " x\"" + tail}) {
        require(!claims_authserv_id(foreign, id), "a foreign header was taken for ours", foreign);
    }
    if (canon.size() > 1)
        require(!claims_authserv_id(canon.substr(0, canon.size() - 1) + tail, id), "a shorter id was taken for ours",
                canon);
    // Our own header is ours.
    require(claims_authserv_id(header_value(id, TlsFacts{}, Verdict{}, {}), id), "our header is not ours", id);
    return 0;
}
