// MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) as text, one table row per rule
// of their grammars: the TXT records, the policy file, the mx pattern match;
// and TLSA records' usability for SMTP (RFC 7672 3.1.3).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/mta_sts.hpp"
#include "core/tls_rpt.hpp"
#include "core/tlsa.hpp"

namespace tlspolicy {
namespace {

TEST(MtaSts, TxtRecord) {
    struct Row {
        const char* name;
        std::vector<std::string> records;
        bool want_found, want_valid;
        std::string want_id, want_error;  // error: a substring
    };
    const std::vector<Row> rows = {
        {"plain", {"v=STSv1; id=20160831085700Z;"}, true, true, "20160831085700Z", ""},
        {"no trailing semicolon", {"v=STSv1; id=abc"}, true, true, "abc", ""},
        {"blanks around fields", {"v=STSv1 ;\tid=abc ;  "}, true, true, "abc", ""},
        {"extension field kept apart", {"v=STSv1; id=1; ext_x-1.y=val:ue"}, true, true, "1", ""},
        {"other TXT records ignored", {"google-site-verification=x", "v=STSv1; id=7"}, true, true, "7", ""},
        {"none", {"v=spf1 -all"}, false, false, "", "no TXT record beginning with v=STSv1"},
        {"two records", {"v=STSv1; id=1", "v=STSv1; id=2"}, true, false, "", "2 TXT records begin with v=STSv1"},
        {"no id", {"v=STSv1;"}, true, false, "", "no id field"},
        {"id too long", {"v=STSv1; id=" + std::string(33, 'a')}, true, false, "", "1 to 32 letters or digits"},
        {"id with a dash", {"v=STSv1; id=2024-01"}, true, false, "", "1 to 32 letters or digits"},
        {"two ids", {"v=STSv1; id=1; id=2"}, true, false, "", "more than one id"},
        {"field without =", {"v=STSv1; id=1; bogus"}, true, false, "", "has no '='"},
        {"empty field", {"v=STSv1;; id=1"}, true, false, "", "empty field"},
        {"version not exact", {"v=STSv10; id=1"}, true, false, "", "does not begin with v=STSv1"},
        {"extension value with blank", {"v=STSv1; id=1; x=a b"}, true, false, "", "not name=value"},
    };
    for (const Row& r : rows) {
        SCOPED_TRACE(r.name);
        const mta_sts::TxtLookup got = mta_sts::choose_txt(r.records);
        EXPECT_EQ(got.found, r.want_found);
        EXPECT_EQ(got.record.valid, r.want_valid) << got.error;
        EXPECT_EQ(got.record.id, r.want_id);
        if (r.want_error.empty()) {
            EXPECT_EQ(got.error, "");
        } else {
            EXPECT_NE(got.error.find(r.want_error), std::string::npos) << "got '" << got.error << "', want '" << r.want_error << "'";
        }
    }
}

TEST(MtaSts, Policy) {
    struct Row {
        const char* name;
        std::string body;
        bool want_valid;
        mta_sts::Mode want_mode;
        long long want_max_age;
        std::vector<std::string> want_mx;
        std::string want_error;  // substring; empty when valid
        std::size_t want_warnings = 0;
    };
    using M = mta_sts::Mode;
    const std::vector<Row> rows = {
        {"RFC example", "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmx: backupmx.example.com\nmax_age: 604800\n",
         true, M::Enforce, 604800, {"mail.example.com", "*.example.net", "backupmx.example.com"}, ""},
        {"CRLF, any order, no final newline", "mode: testing\r\nmax_age: 86400\r\nmx: MX.Example.COM\r\nversion: STSv1",
         true, M::Testing, 86400, {"mx.example.com"}, ""},
        {"mode none needs no mx", "version: STSv1\nmode: none\nmax_age: 1\n", true, M::None, 1, {}, ""},
        {"extension fields ignored", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 5\nfoo_bar: anything at all\n",
         true, M::Enforce, 5, {"a.example"}, ""},
        {"blank lines tolerated", "version: STSv1\n\nmode: enforce\nmx: a.example\nmax_age: 5\n\n", true, M::Enforce, 5, {"a.example"}, ""},
        {"max_age above a year warns", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 99999999\n",
         true, M::Enforce, 99999999, {"a.example"}, "", 1},
        {"repeated mode: first counts", "version: STSv1\nmode: testing\nmode: enforce\nmx: a.example\nmax_age: 5\n",
         true, M::Testing, 5, {"a.example"}, "", 1},
        {"no version", "mode: enforce\nmx: a.example\nmax_age: 5\n", false, M::None, 0, {}, "no version field"},
        {"wrong version", "version: STSv2\nmode: enforce\nmx: a\nmax_age: 5\n", false, M::None, 0, {}, "version must be STSv1"},
        {"unknown mode", "version: STSv1\nmode: strict\nmx: a\nmax_age: 5\n", false, M::None, 0, {}, "mode must be enforce, testing or none"},
        {"no mode", "version: STSv1\nmx: a\nmax_age: 5\n", false, M::None, 0, {}, "no mode field"},
        {"no max_age", "version: STSv1\nmode: enforce\nmx: a\n", false, M::None, 0, {}, "no max_age field"},
        {"max_age not digits", "version: STSv1\nmode: enforce\nmx: a\nmax_age: 1d\n", false, M::None, 0, {}, "max_age must be 1 to 10 digits"},
        {"max_age too long", "version: STSv1\nmode: enforce\nmx: a\nmax_age: 12345678901\n", false, M::None, 0, {}, "max_age must be 1 to 10 digits"},
        {"enforce without mx", "version: STSv1\nmode: enforce\nmax_age: 5\n", false, M::None, 0, {}, "no mx field"},
        {"not key: value", "version: STSv1\nmode enforce\n", false, M::None, 0, {}, "line 2: 'mode enforce' is not 'key: value'"},
        {"two hosts on one mx line", "version: STSv1\nmode: enforce\nmx: a b\nmax_age: 5\n", false, M::None, 0, {}, "mx must be one host"},
        {"mx with a control character", "version: STSv1\nmode: enforce\nmx: *.exa\rmple.com\nmax_age: 5\n", false, M::None, 0, {}, "mx must be one host name"},
        {"mx with a wildcard inside", "version: STSv1\nmode: enforce\nmx: mx.*.example\nmax_age: 5\n", false, M::None, 0, {}, "mx must be one host name"},
        {"mx with an empty label", "version: STSv1\nmode: enforce\nmx: mx..example\nmax_age: 5\n", false, M::None, 0, {}, "mx must be one host name"},
        {"mx with a trailing dot", "version: STSv1\nmode: enforce\nmx: mx.example.\nmax_age: 5\n", true, M::Enforce, 5, {"mx.example."}, ""},
        {"HTML error page", "<html><body>Not Found</body></html>\n", false, M::None, 0, {}, "is not 'key: value'"},
    };
    for (const Row& r : rows) {
        SCOPED_TRACE(r.name);
        const mta_sts::Policy got = mta_sts::parse_policy(r.body);
        EXPECT_EQ(got.valid, r.want_valid) << got.error;
        if (r.want_valid) {
            EXPECT_EQ(got.mode, r.want_mode);
            EXPECT_EQ(got.max_age, r.want_max_age);
            EXPECT_EQ(got.mx, r.want_mx);
            EXPECT_EQ(got.warnings.size(), r.want_warnings);
        } else {
            EXPECT_NE(got.error.find(r.want_error), std::string::npos) << "got '" << got.error << "', want '" << r.want_error << "'";
        }
    }
}

TEST(MtaSts, MxPatterns) {
    struct Row {
        const char *pattern, *host;
        bool want;
    };
    const std::vector<Row> rows = {
        {"mail.example.com", "mail.example.com", true},
        {"mail.example.com", "MAIL.Example.com.", true},     // case, trailing dot from DNS
        {"mail.example.com", "mail2.example.com", false},
        {"*.example.com", "mx1.example.com", true},
        {"*.example.com", "MX1.EXAMPLE.COM.", true},
        {"*.example.com", "a.b.example.com", false},        // one label only (RFC 8461 4.1)
        {"*.example.com", "example.com", false},
        {"*.example.com", ".example.com", false},
        {"*.example.com", "mx1.example.com.evil.test", false},
        {"*.example.com", "mx1.notexample.com", false},
        {"example.com", "mx.example.com", false},
        {"*", "mx", false},
        {"", "mx.example.com", false},
    };
    for (const Row& r : rows)
        EXPECT_EQ(mta_sts::mx_matches(r.pattern, r.host), r.want) << r.pattern << " against " << r.host;
    EXPECT_TRUE(mta_sts::mx_covered({"mx1.example.com", "*.backup.example"}, "b.backup.example"));
    EXPECT_FALSE(mta_sts::mx_covered({}, "mx1.example.com"));
}

TEST(TlsRpt, Record) {
    struct Row {
        const char* name;
        std::vector<std::string> records;
        bool want_found, want_valid;
        std::vector<std::string> want_rua;
        std::string want_error;
    };
    const std::vector<Row> rows = {
        {"mailto", {"v=TLSRPTv1; rua=mailto:reports@example.com"}, true, true, {"mailto:reports@example.com"}, ""},
        {"two URIs", {"v=TLSRPTv1;rua=mailto:a@example.com, https://rpt.example.com/v1;"}, true, true,
         {"mailto:a@example.com", "https://rpt.example.com/v1"}, ""},
        {"extension field", {"v=TLSRPTv1; ext=1; rua=mailto:a@x.example"}, true, true, {"mailto:a@x.example"}, ""},
        {"none", {"v=STSv1; id=1"}, false, false, {}, "no TXT record beginning with v=TLSRPTv1"},
        {"two records", {"v=TLSRPTv1; rua=mailto:a@x", "v=TLSRPTv1; rua=mailto:b@x"}, true, false, {}, "2 TXT records"},
        {"no rua", {"v=TLSRPTv1;"}, true, false, {}, "no rua field"},
        {"ftp", {"v=TLSRPTv1; rua=ftp://x.example"}, true, false, {}, "not a mailto: or https: URI"},
        {"http", {"v=TLSRPTv1; rua=http://x.example"}, true, false, {}, "not a mailto: or https: URI"},
        {"version not exact", {"v=TLSRPTv10; rua=mailto:a@x"}, true, false, {}, "does not begin with v=TLSRPTv1"},
    };
    for (const Row& r : rows) {
        SCOPED_TRACE(r.name);
        const tls_rpt::Record got = tls_rpt::choose(r.records);
        EXPECT_EQ(got.found, r.want_found);
        EXPECT_EQ(got.valid, r.want_valid) << got.error;
        EXPECT_EQ(got.rua, r.want_rua);
        if (!r.want_error.empty()) {
            EXPECT_NE(got.error.find(r.want_error), std::string::npos) << "got '" << got.error << "', want '" << r.want_error << "'";
        }
    }
}

TEST(Tlsa, UsableForSmtp) {
    struct Row {
        const char* name;
        TlsaRecord record;
        bool want;
        std::string want_text;
    };
    const std::string d32(32, '\x01'), d64(64, '\x02');
    const std::vector<Row> rows = {
        {"DANE-EE SPKI SHA-256", {3, 1, 1, d32}, true, ""},
        {"DANE-TA cert SHA-512", {2, 0, 2, d64}, true, ""},
        {"DANE-EE full key", {3, 1, 0, "\x30\x59"}, true, "3 1 0 3059"},
        {"PKIX-TA: not for SMTP", {0, 0, 1, d32}, false, ""},
        {"PKIX-EE: not for SMTP", {1, 1, 1, d32}, false, ""},
        {"selector 2", {3, 2, 1, d32}, false, ""},
        {"matching type 3", {3, 1, 3, d32}, false, ""},
        {"SHA-256 of 31 bytes", {3, 1, 1, std::string(31, '\x01')}, false, ""},
        {"SHA-512 of 32 bytes", {3, 1, 2, d32}, false, ""},
        {"exact, empty", {3, 1, 0, ""}, false, ""},
    };
    for (const Row& r : rows) {
        EXPECT_EQ(usable_for_smtp(r.record), r.want) << r.name;
        if (!r.want_text.empty()) {
            EXPECT_EQ(tlsa_text(r.record), r.want_text) << r.name;
        }
    }
    EXPECT_EQ(tlsa_text({3, 1, 1, std::string("\x0f\xa0", 2)}), "3 1 1 0fa0");
}

}  // namespace
}  // namespace tlspolicy
