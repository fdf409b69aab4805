// `export postfix-tls-policy`: the core's mapping, fed with Postfix's cipher
// grades as the local OpenSSL expands them and, with --probe, what a probe of
// each domain found.
#include "cli/export.hpp"

#include <algorithm>
#include <ostream>

#include "cli/probe_output.hpp"
#include "probe/domain.hpp"
#include "tls/cipher_table.hpp"

namespace tlspolicy {

std::vector<CipherGrade> postfix_cipher_grades() {
    // Postfix 3.x defaults of tls_medium_cipherlist and tls_high_cipherlist.
    const std::pair<const char*, const char*> specs[] = {
        {"medium", "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH"},
        {"high", "aNULL:-aNULL:HIGH:@STRENGTH"},
    };
    std::vector<CipherGrade> grades;
    for (const auto& [name, spec] : specs) {
        cipher_table::Expansion x = cipher_table::expand_ciphers(spec);
        if (!x.list) continue;  // this OpenSSL has no such grade: never claimed
        CipherGrade g;
        g.name = name;
        for (const std::string& n : x.list->names) g.ciphers.push_back({n, cipher_table::lookup(n).bits});
        std::sort(g.ciphers.begin(), g.ciphers.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
        grades.push_back(std::move(g));
    }
    return grades;
}

int export_table(const Config& config, const ExportOptions& o, std::ostream& out, std::ostream& err) {
    if (o.format != "postfix-tls-policy") {
        err << "export: unknown format '" << o.format << "'; the one format is postfix-tls-policy\n";
        return 2;
    }
    const std::vector<CipherGrade> grades = postfix_cipher_grades();
    DomainSecurityMap probed;
    if (o.probe) {
        // The domains that get a line: each exact domain, not ".parent" keys,
        // which stand for names a probe cannot list.
        for (const PolicyTableItem& item : postfix_tls_policy(*config.policy, grades)) {
            if (item.key.empty() || item.key.front() == '.') continue;
            probe::DomainTarget t;
            t.domain = item.key;
            t.step_timeout_ms = o.timeout * 1000;
            err << "export: probing " << item.key << "\n";
            probed[item.key] = probe::security_of(probe::run_domain(t), utc_now());
        }
    }
    write_postfix_tls_policy(*config.policy, grades, config.path, out, probed);
    return 0;
}

}  // namespace tlspolicy
