// RFC 8460 section 3: "v=TLSRPTv1; rua=URI[,URI]..." with mailto: or https:
// URIs; other fields are extensions and ignored.
#include "core/tls_rpt.hpp"

#include <string_view>

#include "core/text.hpp"

namespace tlspolicy::tls_rpt {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// A part of the record inside a message: printable, bounded.
std::string shown(std::string_view s) {
    std::string out;
    for (unsigned char c : s.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? char(c) : '?';
    return quoted(s.size() > 80 ? out + "..." : out);
}

bool printable(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x21 || c > 0x7e) return false;
    return !s.empty();
}

void parse(Record& r) {
    std::string_view rest = r.text;
    bool first = true;
    while (true) {
        const std::size_t semi = rest.find(';');
        const std::string_view field = trim(rest.substr(0, semi));
        if (first) {
            if (field != "v=TLSRPTv1") return void(r.error = "does not begin with v=TLSRPTv1");
            first = false;
        } else if (!field.empty()) {
            const std::size_t eq = field.find('=');
            if (eq == std::string_view::npos) return void(r.error = "field " + shown(field) + " has no '='");
            if (field.substr(0, eq) == "rua") {
                if (!r.rua.empty()) return void(r.error = "more than one rua field");
                std::string_view uris = field.substr(eq + 1);
                while (true) {
                    const std::size_t comma = uris.find(',');
                    const std::string_view uri = trim(uris.substr(0, comma));
                    if (!printable(uri) || !(lowercase(uri.substr(0, 7)) == "mailto:" || lowercase(uri.substr(0, 8)) == "https://"))
                        return void(r.error = "rua " + shown(uri) + " is not a mailto: or https: URI");
                    r.rua.emplace_back(uri);
                    if (comma == std::string_view::npos) break;
                    uris.remove_prefix(comma + 1);
                }
            }
        }
        if (semi == std::string_view::npos) break;
        rest.remove_prefix(semi + 1);
    }
    if (r.rua.empty()) return void(r.error = "no rua field");
    r.valid = true;
}

}  // namespace

Record choose(const std::vector<std::string>& records) {
    Record r;
    int n = 0;
    for (const std::string& t : records)
        if (std::string_view(t).substr(0, 10) == "v=TLSRPTv1") ++n, r.text = t;
    if (n == 0) return r.error = "no TXT record beginning with v=TLSRPTv1", r;
    r.found = true;
    if (n > 1) {
        r.text.clear();
        return r.error = std::to_string(n) + " TXT records begin with v=TLSRPTv1; RFC 8460 wants exactly one", r;
    }
    parse(r);
    return r;
}

}  // namespace tlspolicy::tls_rpt
