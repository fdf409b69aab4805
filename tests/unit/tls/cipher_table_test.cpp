// What the local OpenSSL says about cipher names, how operators' cipher strings
// expand, and that every preset names real ciphers with the promised properties.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/profile.hpp"
#include "tls/cipher_table.hpp"

namespace tlspolicy {
namespace {

using cipher_table::expand_ciphers;
using cipher_table::expand_ciphersuites;
using cipher_table::lookup;

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
    return s.empty() ? "(none)" : s;
}

std::string joined(const StringSet& names) {
    std::set<std::string> sorted(names.begin(), names.end());
    return joined(std::vector<std::string>(sorted.begin(), sorted.end()));
}

std::vector<std::string> split_colons(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size() && !s.empty()) {
        std::size_t end = s.find(':', start);
        if (end == std::string::npos) end = s.size();
        out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

// ---- lookup ----

struct LookupCase {
    const char* name;
    bool want_known;
    int want_bits;  // secret bits and algorithm bits: the same for every cipher but 3DES
    bool want_aead;
    bool want_fs;
    bool want_tls13;
};

TEST(CipherTableLookup, FactsPerName) {
    const LookupCase cases[] = {
        {"ECDHE-RSA-AES128-GCM-SHA256", true, 128, true, true, false},
        {"ECDHE-ECDSA-CHACHA20-POLY1305", true, 256, true, true, false},
        {"DHE-RSA-AES256-GCM-SHA384", true, 256, true, true, false},
        {"ECDHE-RSA-AES128-SHA", true, 128, false, true, false},
        {"AES256-SHA", true, 256, false, false, false},
        {"AES128-GCM-SHA256", true, 128, true, false, false},  // AEAD, but RSA key exchange
        {"NULL-MD5", true, 0, false, false, false},
        {"ADH-AES128-SHA", true, 128, false, true, false},     // ephemeral, though anonymous
        {"ECDHE-PSK-CHACHA20-POLY1305", true, 256, true, true, false},
        {"TLS_AES_256_GCM_SHA384", true, 256, true, true, true},
        {"TLS_AES_128_GCM_SHA256", true, 128, true, true, true},
        {"TLS_CHACHA20_POLY1305_SHA256", true, 256, true, true, true},
        {"TLS_AES_128_CCM_SHA256", true, 128, true, true, true},
        {"TLS_AES_128_CCM_8_SHA256", true, 128, true, true, true},
        // IANA names find the same cipher.
        {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", true, 128, true, true, false},
        {"TLS_RSA_WITH_AES_256_CBC_SHA", true, 256, false, false, false},
        // Names are upper case; a lower-case spelling is still understood.
        {"ecdhe-rsa-aes128-gcm-sha256", true, 128, true, true, false},
        {"RC4-SHA", false, 0, false, false, false},  // not in OpenSSL 3.0 builds without weak ciphers
        {"FUTURE-CIPHER-X", false, 0, false, false, false},
        {"", false, 0, false, false, false},
    };
    for (const auto& c : cases) {
        CipherInfo got = lookup(c.name);
        EXPECT_EQ(got.known, c.want_known) << c.name << ": known";
        EXPECT_EQ(got.bits, c.want_bits) << c.name << ": bits";
        EXPECT_EQ(got.alg_bits, c.want_bits) << c.name << ": alg_bits";
        EXPECT_EQ(got.aead, c.want_aead) << c.name << ": aead";
        EXPECT_EQ(got.forward_secrecy, c.want_fs) << c.name << ": forward_secrecy";
        EXPECT_EQ(got.tls13, c.want_tls13) << c.name << ": tls13";
    }
}

// OpenSSL >= 1.1.0 compiles 3DES suites only with enable-weak-ssl-ciphers
// (SWEET32); Debian's 3.0 does not, and there this test says so by skipping
// (an unknown name's zeros are checked in FactsPerName). Where 3DES exists it
// is the one cipher whose secret bits differ from its algorithm bits.
TEST(CipherTableLookup, TripleDesHas112Of168Bits) {
    CipherInfo got = lookup("DES-CBC3-SHA");
    if (!got.known) GTEST_SKIP() << "this OpenSSL has no DES-CBC3-SHA (built without enable-weak-ssl-ciphers)";
    EXPECT_EQ(got.bits, 112) << "DES-CBC3-SHA bits";
    EXPECT_EQ(got.alg_bits, 168) << "DES-CBC3-SHA alg_bits";
    EXPECT_FALSE(got.aead);
}

TEST(CipherTableLookup, OpensslVersionNamesTheLibrary) {
    EXPECT_EQ(cipher_table::openssl_version().rfind("OpenSSL ", 0), 0u) << "got " << cipher_table::openssl_version();
}

// ---- expand_ciphers ----

struct ExpandCase {
    const char* title;
    const char* spec;
    std::vector<std::string> want_names;     // each must be allowed
    std::vector<std::string> want_excluded;  // none may be allowed
    std::vector<std::string> want_unknown;   // exactly this
    const char* want_error;                  // nullptr: must succeed; else a substring of the one error
};

void check(const ExpandCase& c, const cipher_table::Expansion& got) {
    SCOPED_TRACE(std::string(c.title) + ": spec '" + c.spec + "'");
    if (c.want_error) {
        EXPECT_FALSE(got.list) << "got a list, want error containing '" << c.want_error << "'";
        ASSERT_EQ(got.errors.size(), 1u) << "got errors: " << joined(got.errors);
        EXPECT_TRUE(got.errors[0].find(c.want_error) != std::string::npos)
            << "got '" << got.errors[0] << "', want it to contain '" << c.want_error << "'";
        return;
    }
    ASSERT_TRUE(got.list) << "got errors: " << joined(got.errors) << "; want success";
    EXPECT_TRUE(got.errors.empty()) << "got errors: " << joined(got.errors);
    EXPECT_EQ(got.list->spec, c.spec);
    for (const auto& n : c.want_names) EXPECT_TRUE(got.list->allows(n)) << "want " << n << ", got " << joined(got.list->names);
    for (const auto& n : c.want_excluded) EXPECT_FALSE(got.list->allows(n)) << "want no " << n << ", got " << joined(got.list->names);
    EXPECT_EQ(joined(got.list->unknown), joined(c.want_unknown)) << "unknown";
}

TEST(CipherTableExpand, Ciphers) {
    const ExpandCase cases[] = {
        {"class intersection", "ECDHE+AESGCM",
         {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384"},
         {"DHE-RSA-AES128-GCM-SHA256", "AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-RSA-AES128-SHA256",
          "TLS_AES_128_GCM_SHA256"},
         {}, nullptr},
        {"spec sample", "ECDHE+AESGCM:ECDHE+CHACHA20",
         {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305"},
         {"DHE-RSA-CHACHA20-POLY1305"}, {}, nullptr},
        {"exclusion", "HIGH:!aNULL",
         {"ECDHE-RSA-AES256-GCM-SHA384", "AES256-SHA", "DHE-RSA-AES128-SHA"},
         {"ADH-AES256-SHA", "AECDH-AES128-SHA", "NULL-MD5", "NULL-SHA"}, {}, nullptr},
        {"all of OpenSSL's separators", "AES128-SHA AES256-SHA,CAMELLIA128-SHA;ECDHE-RSA-AES128-SHA",
         {"AES128-SHA", "AES256-SHA", "CAMELLIA128-SHA", "ECDHE-RSA-AES128-SHA"}, {"AES128-SHA256"}, {}, nullptr},
        {"negations that remove nothing are fine", "!RC4:!3DES:!EXPORT:HIGH", {"AES256-SHA"}, {}, {}, nullptr},
        {"weak ciphers named explicitly survive the default security level", "NULL-MD5:NULL-SHA:ADH-AES128-SHA",
         {"NULL-MD5", "NULL-SHA", "ADH-AES128-SHA"}, {"AES128-SHA"}, {}, nullptr},
        {"the operator's own security level filters nothing", "NULL-SHA:AES128-SHA:@SECLEVEL=5",
         {"NULL-SHA", "AES128-SHA"}, {}, {}, nullptr},
        {"operator's @SECLEVEL=0 first", "@SECLEVEL=0:ECDHE+AESGCM", {"ECDHE-RSA-AES128-GCM-SHA256"}, {}, {}, nullptr},
        {"unknown literal kept and listed", "ECDHE+AESGCM:FUTURE-CIPHER-X",
         {"ECDHE-RSA-AES128-GCM-SHA256", "FUTURE-CIPHER-X"}, {}, {"FUTURE-CIPHER-X"}, nullptr},
        {"only unknown literals", "FUTURE-CIPHER-X:FUTURE_CIPHER_Y",
         {"FUTURE-CIPHER-X", "FUTURE_CIPHER_Y"}, {"AES128-SHA"}, {"FUTURE-CIPHER-X", "FUTURE_CIPHER_Y"}, nullptr},
        {"typo", "ECDHE+AESGCM:AESGMC", {}, {}, {}, "'AESGMC' selects no cipher known to OpenSSL"},
        {"class OpenSSL 3.0 no longer has", "RC4", {}, {}, {}, "'RC4' selects no cipher known to OpenSSL"},
        {"whole string selects nothing", "AES128-SHA:!AES", {}, {}, {}, "selects no cipher"},
        {"empty", "", {}, {}, {}, "empty"},
        {"only separators", " : ,", {}, {}, {}, "empty"},
        {"bad syntax", "HIGH:AES*", {}, {}, {}, "'AES*' is not valid in an OpenSSL cipher string"},
        {"bad security level", "@SECLEVEL=9:HIGH", {}, {}, {}, "'@SECLEVEL=9' is not valid"},
        {"TLS 1.3 suite in ciphers", "ECDHE+AESGCM:TLS_AES_128_GCM_SHA256", {}, {}, {}, "belongs in `ciphersuites`"},
        {"IANA name", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", {}, {}, {}, "'ECDHE-RSA-AES128-GCM-SHA256'"},
        {"lower case", "ecdhe-rsa-aes128-gcm-sha256", {}, {}, {}, "case-sensitive, write 'ECDHE-RSA-AES128-GCM-SHA256'"},
        {"control character", "HIGH\n:!aNULL", {}, {}, {}, "control character"},
    };
    for (const auto& c : cases) check(c, expand_ciphers(c.spec));
}

// 3DES is compiled out of this OpenSSL; the operator's name for it must still
// match what an MTA linked against an older library reports.
TEST(CipherTableExpand, TripleDesNamedExplicitlyIsAllowed) {
    auto got = expand_ciphers("DES-CBC3-SHA");
    ASSERT_TRUE(got.list) << "got errors: " << joined(got.errors);
    EXPECT_TRUE(got.list->allows("DES-CBC3-SHA")) << "got " << joined(got.list->names);
    EXPECT_EQ(got.list->unknown.empty(), lookup("DES-CBC3-SHA").known) << "unknown " << joined(got.list->unknown);
}

TEST(CipherTableExpand, ExpansionHasNoTls13Suites) {
    auto got = expand_ciphers("ALL:COMPLEMENTOFALL");
    ASSERT_TRUE(got.list);
    for (const auto& n : got.list->names) EXPECT_FALSE(lookup(n).tls13) << n;
    EXPECT_GT(got.list->names.size(), 100u) << "got " << got.list->names.size() << " names";
}

TEST(CipherTableExpand, Ciphersuites) {
    const ExpandCase cases[] = {
        {"two suites", "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
         {"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}, {"TLS_AES_128_GCM_SHA256"}, {}, nullptr},
        {"CCM suites outside OpenSSL's default list", "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256",
         {"TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"}, {}, {}, nullptr},
        {"blanks around names", " TLS_AES_128_GCM_SHA256 : TLS_AES_256_GCM_SHA384 ",
         {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"}, {}, {}, nullptr},
        {"unknown suite kept", "TLS_AES_128_GCM_SHA256:TLS_FUTURE_SUITE_SHA512",
         {"TLS_AES_128_GCM_SHA256", "TLS_FUTURE_SUITE_SHA512"}, {}, {"TLS_FUTURE_SUITE_SHA512"}, nullptr},
        {"empty", "", {}, {}, {}, "empty"},
        {"TLS 1.2 cipher", "TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256", {}, {}, {},
         "'ECDHE-RSA-AES128-GCM-SHA256' is a TLS 1.2 cipher; it belongs in `ciphers`"},
        {"TLS 1.2 IANA name", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", {}, {}, {}, "belongs in `ciphers`"},
        {"cipher string", "HIGH", {}, {}, {}, "'HIGH' is not a TLS 1.3 suite name"},
        {"lower case", "tls_aes_128_gcm_sha256", {}, {}, {}, "write 'TLS_AES_128_GCM_SHA256'"},
    };
    for (const auto& c : cases) check(c, expand_ciphersuites(c.spec));
}

// ---- presets ----

void expect_list_matches_spec(const Profile& p, const char* which, const CipherListPtr& list) {
    ASSERT_TRUE(list) << p.name << " " << which << " is null";
    EXPECT_TRUE(list->unknown.empty()) << p.name << " " << which << ": " << joined(list->unknown);
    StringSet from_spec;
    for (const auto& n : split_colons(list->spec)) from_spec.insert(n);
    EXPECT_EQ(joined(from_spec), joined(list->names)) << p.name << " " << which << ": spec vs names";
}

TEST(Profiles, EveryNameIsKnownToOpensslWithTheRightProtocol) {
    ASSERT_EQ(all_profiles().size(), 3u);
    for (const Profile& p : all_profiles()) {
        EXPECT_FALSE(p.source.empty()) << p.name;
        EXPECT_EQ(find_profile(p.name), &p) << p.name;
        expect_list_matches_spec(p, "tls12_ciphers", p.tls12_ciphers);
        expect_list_matches_spec(p, "tls13_suites", p.tls13_suites);
        if (!p.tls12_ciphers || !p.tls13_suites) continue;
        for (const auto& n : p.tls12_ciphers->names) {
            CipherInfo got = lookup(n);
            EXPECT_TRUE(got.known) << p.name << ": " << n << " unknown to " << cipher_table::openssl_version();
            EXPECT_FALSE(got.tls13) << p.name << ": " << n << " is TLS 1.3 but in the TLS 1.2 list";
        }
        for (const auto& n : p.tls13_suites->names) {
            CipherInfo got = lookup(n);
            EXPECT_TRUE(got.known) << p.name << ": " << n << " unknown to " << cipher_table::openssl_version();
            EXPECT_TRUE(got.tls13) << p.name << ": " << n << " is not a TLS 1.3 suite";
        }
        // The lists are valid `ciphers`/`ciphersuites` values and expand to themselves.
        if (!p.tls12_ciphers->names.empty()) {
            auto got = expand_ciphers(p.tls12_ciphers->spec);
            ASSERT_TRUE(got.list) << p.name << ": " << joined(got.errors);
            EXPECT_EQ(joined(got.list->names), joined(p.tls12_ciphers->names)) << p.name;
        }
        auto got = expand_ciphersuites(p.tls13_suites->spec);
        ASSERT_TRUE(got.list) << p.name << ": " << joined(got.errors);
        EXPECT_EQ(joined(got.list->names), joined(p.tls13_suites->names)) << p.name;
    }
    EXPECT_EQ(find_profile("mozilla-old"), nullptr);
    EXPECT_EQ(find_profile("BSI-TR-02102-2"), nullptr);
}

TEST(Profiles, BsiTr02102) {
    const Profile* p = find_profile("bsi-tr-02102-2");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->min_version, TlsVersion::TLSv1_2);
    EXPECT_EQ(p->tls12_ciphers->names.size(), 20u) << joined(p->tls12_ciphers->names);
    EXPECT_EQ(joined(p->tls13_suites->names), "TLS_AES_128_CCM_SHA256 TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384");
    for (const auto* list : {&p->tls12_ciphers->names, &p->tls13_suites->names})
        for (const auto& n : *list) EXPECT_EQ(n.find("CHACHA20"), std::string::npos) << n << " is not in the TR";
    for (const auto& n : p->tls12_ciphers->names) EXPECT_TRUE(lookup(n).forward_secrecy) << n << ": the TR's table is PFS only";
}

TEST(Profiles, MozillaModern) {
    const Profile* p = find_profile("mozilla-modern");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->min_version, TlsVersion::TLSv1_3);
    EXPECT_TRUE(p->tls12_ciphers->names.empty()) << joined(p->tls12_ciphers->names);
    EXPECT_EQ(p->tls13_suites->spec, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
}

TEST(Profiles, MozillaIntermediate) {
    const Profile* p = find_profile("mozilla-intermediate");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->min_version, TlsVersion::TLSv1_2);
    EXPECT_EQ(p->tls12_ciphers->names.size(), 9u) << joined(p->tls12_ciphers->names);
    EXPECT_TRUE(p->tls12_ciphers->allows("DHE-RSA-CHACHA20-POLY1305")) << "added in guidelines 5.7";
    for (const auto& n : p->tls12_ciphers->names) {
        CipherInfo got = lookup(n);
        EXPECT_TRUE(got.aead) << n << " is not AEAD";
        EXPECT_TRUE(got.forward_secrecy) << n << " has no forward secrecy";
    }
    EXPECT_EQ(p->tls13_suites->spec, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
}

}  // namespace
}  // namespace tlspolicy
