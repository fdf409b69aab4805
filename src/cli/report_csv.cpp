// `report --format csv`: RFC 4180, one header line, CRLF. The per-rule,
// per-domain and per-host table (column `section` says which), or with
// --against the sender list only. Policy versions: text, json and html.
#include <ostream>
#include <utility>

#include "cli/report_render.hpp"

namespace tlspolicy::report_render {

void write_csv(const Report& r, std::ostream& out) {
    if (!r.against.empty()) {
        csv_row({"sender", "domain", "rule", "would_reject", "would_tempfail", "sessions", "last_refused", "reply"}, out);
        for (const Offender& f : r.offenders) csv_row(offender_cells(f), out);
        return;
    }
    std::vector<std::string> head{"section", "name", "sessions"};
    for (auto c : report_tally::kColumns) head.emplace_back(c);
    head.insert(head.end(), {"plaintext_share", "weakest_version", "weakest_cipher", "weakest_bits", "weakest_aead",
                             "last_weak"});
    csv_row(head, out);
    for (auto [section, tallies] : {std::pair("rule", &r.rules), std::pair("domain", &r.domains), std::pair("host", &r.hosts)})
        for (const Tally& t : *tallies) {
            std::vector<std::string> c{section, t.name, std::to_string(t.sessions)};
            for (int n : t.versions) c.push_back(std::to_string(n));
            c.push_back(share(t.versions[0], t.sessions));
            const report_tally::Strength* w = t.weakest ? &*t.weakest : nullptr;
            c.push_back(w ? std::string(header_name(w->version)) : "");
            c.push_back(w ? w->cipher : "");
            c.push_back(w ? std::to_string(w->bits) : "");
            c.push_back(w ? (w->aead ? "yes" : "no") : "");
            c.push_back(t.last_weak ? iso_time(*t.last_weak) : "");
            csv_row(c, out);
        }
}

}  // namespace tlspolicy::report_render
