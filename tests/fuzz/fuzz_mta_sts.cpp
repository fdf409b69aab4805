// Fuzz target: what a partner's DNS and web server hand `probe --domain`
// (src/core/mta_sts.hpp, src/core/tls_rpt.hpp), with the promises checked.
// Input: 1 byte choosing the parser (even: the MTA-STS policy file; 1 mod 4:
// TXT records for _mta-sts, 3 mod 4: for _smtp._tls, NUL-separated), then the text.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/mta_sts.hpp"
#include "core/tls_rpt.hpp"
#include "fuzz_support.hpp"

using namespace tlspolicy;
using tlspolicy::fuzz::require;

namespace {

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

void check_policy(std::string_view body) {
    const mta_sts::Policy p = mta_sts::parse_policy(body);
    fuzz::require_printable(p.error, "policy error not printable");
    require(p.valid == p.error.empty(), "policy valid but with an error, or invalid without one", p.error);
    for (const std::string& w : p.warnings) fuzz::require_printable(w, "policy warning not printable");
    if (!p.valid) return;
    require(p.max_age >= 0 && p.max_age <= 9999999999LL, "max_age beyond 10 digits");
    require(p.mode == mta_sts::Mode::None || !p.mx.empty(), "enforce or testing policy without mx");
    for (const std::string& mx : p.mx) {
        require(!mx.empty() && mx.find_first_of(" \t\r\n") == std::string::npos, "mx pattern with blanks", mx);
        for (char c : mx) require(!(c >= 'A' && c <= 'Z'), "mx pattern not lower case", mx);
        // A plain pattern covers itself; "*.d" covers one label more.
        if (mx.rfind("*.", 0) != 0 && mx != "." && mx.back() != '.')
            require(mta_sts::mx_matches(mx, mx), "a host name pattern does not match itself", mx);
        if (mx.rfind("*.", 0) == 0 && mx.size() > 2) {
            require(mta_sts::mx_matches(mx, "a" + mx.substr(1)), "*.d does not match a.d", mx);
            require(!mta_sts::mx_matches(mx, "a.b" + mx.substr(1)), "*.d matches a.b.d", mx);
            require(!mta_sts::mx_matches(mx, mx.substr(2)), "*.d matches d", mx);
        }
    }
}

std::vector<std::string> records(std::string_view in) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= in.size() && out.size() < 8) {
        const std::size_t nul = in.find('\0', start);
        out.emplace_back(in.substr(start, nul == std::string_view::npos ? in.npos : nul - start));
        if (nul == std::string_view::npos) break;
        start = nul + 1;
    }
    return out;
}

void check_sts_txt(std::string_view in) {
    const mta_sts::TxtLookup t = mta_sts::choose_txt(records(in));
    fuzz::require_printable(t.error, "TXT error not printable");
    require(t.record.valid == t.error.empty() || !t.found, "TXT valid with an error", t.error);
    require(!t.record.valid || t.found, "a valid TXT record that was not found");
    if (!t.record.valid) {
        require(t.record.id.empty(), "an id from an invalid record", t.record.id);
        return;
    }
    require(!t.record.id.empty() && t.record.id.size() <= 32, "id not 1 to 32 characters", t.record.id);
    for (char c : t.record.id) require(alnum(c), "id with a character other than a letter or digit", t.record.id);
    require(t.text.rfind("v=STSv1", 0) == 0, "valid record not beginning with v=STSv1", t.text);
}

void check_rpt_txt(std::string_view in) {
    const tls_rpt::Record r = tls_rpt::choose(records(in));
    fuzz::require_printable(r.error, "TLS-RPT error not printable");
    require(r.valid == r.error.empty(), "TLS-RPT valid with an error, or invalid without one", r.error);
    if (!r.valid) return;
    require(!r.rua.empty(), "valid TLS-RPT record without rua");
    for (const std::string& u : r.rua) {
        fuzz::require_printable(u, "rua URI not printable");
        require(u.find(' ') == std::string::npos && !u.empty(), "rua URI empty or with a blank", u);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] % 2 == 0) check_policy(in);
    else if (data[0] % 4 == 1) check_sts_txt(in);
    else check_rpt_txt(in);
    return 0;
}
