// `export postfix-tls-policy`: the core's mapping, fed with Postfix's cipher
// grades as the local OpenSSL expands them.
#include "cli/export.hpp"

#include <algorithm>
#include <ostream>

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

int export_table(const Config& config, const std::string& format, std::ostream& out, std::ostream& err) {
    if (format != "postfix-tls-policy") {
        err << "export: unknown format '" << format << "'; the one format is postfix-tls-policy\n";
        return 2;
    }
    write_postfix_tls_policy(*config.policy, postfix_cipher_grades(), config.path, out);
    return 0;
}

}  // namespace tlspolicy
