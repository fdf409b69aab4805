// The export mapping, rules in and table lines out: one row per sentence of the
// man page's "Both directions" section. Cipher grades are made up here, so a
// row fails only for a mapping reason, not for the local OpenSSL's lists.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "core/postfix_tls_policy.hpp"
#include "test_policy.hpp"

namespace tlspolicy {
namespace {

using namespace tlspolicy::testing;

const std::vector<CipherGrade> kGrades = {
    {"medium", {{"DES-LIKE", 112}, {"AES128-LIKE", 128}, {"AES256-LIKE", 256}}},
    {"high", {{"AES128-LIKE", 128}, {"AES256-LIKE", 256}}},
};

Requirements with(Requirements q, auto&& change) {
    change(q);
    return q;
}

Requirements bits(int n) {
    return with(tls_required(), [n](Requirements& q) { q.min_cipher_bits = n; });
}

struct Row {
    std::string name;
    std::vector<RuleSpec> partners;
    std::map<std::string, std::string> want_lines;  // key -> value, exactly these keys
    std::vector<std::string> want_comments;         // substrings some comment holds
    std::vector<std::string> want_keys_in_order{};  // when order matters
};

std::vector<Row> rows() {
    return {
        {"domain and subdomains, require_tls and min_version",
         {{.name = "acme", .senders = {"acme.example", ".acme.example"}, .req = tls_at_least(TlsVersion::TLSv1_2)}},
         {{"acme.example", "encrypt protocols=>=TLSv1.2"}, {".acme.example", "encrypt protocols=>=TLSv1.2"}},
         {"acme.example: rule acme (line 0)"}},
        {"a rule that lets plaintext pass exports nothing",
         {{.name = "floor", .senders = {"floor.example"}, .req = with(Requirements{}, [](Requirements& q) { q.min_version = TlsVersion::TLSv1_2; })}},
         {},
         {}},
        {"an address is skipped with a comment",
         {{.name = "billing", .senders = {"billing@globex.example"}, .req = tls_required()}},
         {},
         {"billing@globex.example of billing (line 0): skipped"}},
        {"the same domain in two rules: the stricter wins, said in a comment",
         {{.name = "a", .senders = {"same.example"}, .req = tls_at_least(TlsVersion::TLSv1_2)},
          {.name = "b", .senders = {"same.example"}, .req = tls_at_least(TlsVersion::TLSv1_3)}},
         {{"same.example", "encrypt protocols=>=TLSv1.3"}},
         {"rules a (line 0), b (line 0) cover it; the strictest requirement of each kind applies"}},
        {"a parent's .domain entry covers a subdomain's own rule",
         {{.name = "parent", .senders = {".example.org"}, .req = tls_required()},
          {.name = "child", .senders = {"a.example.org"}, .req = with(Requirements{}, [](Requirements& q) { q.min_version = TlsVersion::TLSv1_3; })}},
         {{".example.org", "encrypt"}, {"a.example.org", "encrypt protocols=>=TLSv1.3"}},
         {}},
        {"a bare domain does not cover its subdomains",
         {{.name = "exact", .senders = {"example.net"}, .req = tls_required()},
          {.name = "subs", .senders = {".example.net"}, .req = with(Requirements{}, [](Requirements& q) { q.min_version = TlsVersion::TLSv1_3; })}},
         {{"example.net", "encrypt"}},
         {}},
        {"min_cipher_bits 128: every high cipher has it", {{.name = "b", .senders = {"b.example"}, .req = bits(128)}},
         {{"b.example", "encrypt ciphers=high"}}, {}},
        {"min_cipher_bits 112: medium is enough", {{.name = "b", .senders = {"b.example"}, .req = bits(112)}},
         {{"b.example", "encrypt ciphers=medium"}}, {}},
        {"min_cipher_bits 256: no grade, a comment", {{.name = "b", .senders = {"b.example"}, .req = bits(256)}},
         {{"b.example", "encrypt"}}, {"not expressed: min_cipher_bits 256"}},
        {"a cipher list holding all of high maps onto high",
         {{.name = "c", .senders = {"c.example"},
           .req = with(tls_required(), [](Requirements& q) { q.ciphers = cipher_list({"AES128-LIKE", "AES256-LIKE", "OTHER"}); })}},
         {{"c.example", "encrypt ciphers=high"}}, {}},
        {"a narrower cipher list: no grade, a comment naming it",
         {{.name = "c", .senders = {"c.example"},
           .req = with(tls_required(), [](Requirements& q) { q.ciphers = cipher_list({"AES256-LIKE"}); })}},
         {{"c.example", "encrypt"}}, {"not expressed: ciphers \"AES256-LIKE\" of c (line 0)"}},
        {"TLS 1.3 only: TLS 1.2 cipher lists do not matter",
         {{.name = "c", .senders = {"c.example"},
           .req = with(tls_at_least(TlsVersion::TLSv1_3), [](Requirements& q) { q.ciphers = cipher_list({"AES256-LIKE"}); })}},
         {{"c.example", "encrypt protocols=>=TLSv1.3"}}, {}},
        {"ciphersuites cannot be set per destination",
         {{.name = "s", .senders = {"s.example"},
           .req = with(tls_required(), [](Requirements& q) { q.ciphersuites = cipher_list({"TLS_AES_256_GCM_SHA384"}); })}},
         {{"s.example", "encrypt"}}, {"not expressed: ciphersuites \"TLS_AES_256_GCM_SHA384\""}},
        {"a profile gives its version, its lists a comment",
         {{.name = "p", .senders = {"p.example"}, .req = with(tls_required(), [](Requirements& q) { q.profile = find_profile("mozilla-modern"); })}},
         {{"p.example", "encrypt protocols=>=TLSv1.3"}}, {"not expressed: profile mozilla-modern of p (line 0)"}},
        {"a client certificate requirement needs TLS; the certificate itself is a comment",
         {{.name = "cert", .senders = {"cert.example"}, .req = with(Requirements{}, [](Requirements& q) { q.require_client_cert = true; })}},
         {{"cert.example", "encrypt"}}, {"client certificate requirements"}},
        {"annotate-only rules still export encrypt, with a comment",
         {{.name = "soft", .senders = {"soft.example"}, .req = tls_required(), .action = Action::Annotate}},
         {{"soft.example", "encrypt"}}, {"only annotate inbound mail"}},
        {"TLS required but no sender domain",
         {{.name = "ip", .clients = {"192.0.2.0/24"}, .req = tls_required()}},
         {}, {"ip (line 0) requires TLS but names no sender domain"}},
        {"keys come in file order",
         {{.name = "z", .senders = {"z.example", "a.example"}, .req = tls_required()},
          {.name = "m", .senders = {"m.example", "z.example"}, .req = tls_required()}},
         {{"z.example", "encrypt"}, {"a.example", "encrypt"}, {"m.example", "encrypt"}}, {},
         {"z.example", "a.example", "m.example"}},
    };
}

TEST(PostfixTlsPolicy, Table) {
    for (const Row& row : rows()) {
        SCOPED_TRACE(row.name);
        Policy p;
        for (const RuleSpec& s : row.partners) p.partners.push_back(make_rule(RuleKind::Partner, s));
        p.build_indexes();
        std::map<std::string, std::string> got;
        std::vector<std::string> order, comments;
        for (const PolicyTableItem& item : postfix_tls_policy(p, kGrades)) {
            comments.insert(comments.end(), item.comments.begin(), item.comments.end());
            if (item.key.empty()) continue;
            EXPECT_TRUE(got.emplace(item.key, item.value).second) << "key " << item.key << " twice";
            order.push_back(item.key);
        }
        EXPECT_EQ(got, row.want_lines);
        for (const std::string& want : row.want_comments) {
            bool found = false;
            for (const std::string& c : comments) found |= c.find(want) != std::string::npos;
            EXPECT_TRUE(found) << "no comment holds '" << want << "'";
        }
        if (!row.want_keys_in_order.empty()) {
            EXPECT_EQ(order, row.want_keys_in_order);
        }
    }
}

// What postmap reads: comments start a line with '#', every other non-empty
// line is "key<TAB>value" with no '#' in it.
TEST(PostfixTlsPolicy, WrittenTableIsPostmapSyntax) {
    Policy p;
    p.defaults.req = tls_required();
    p.partners.push_back(make_rule(RuleKind::Partner, {.name = "a", .senders = {"a.example", "x@a.example"}, .req = bits(256)}));
    p.build_indexes();
    std::ostringstream out;
    write_postfix_tls_policy(p, kGrades, "policy.toml", out);
    const std::string text = out.str();
    EXPECT_NE(text.find("exported by tlspolicy-milter from policy.toml"), std::string::npos);
    EXPECT_NE(text.find("smtp_tls_security_level = encrypt"), std::string::npos) << "[defaults] requiring TLS is explained";
    std::istringstream in(text);
    int entries = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        ++entries;
        EXPECT_EQ(line, "a.example\tencrypt");
    }
    EXPECT_EQ(entries, 1);
    EXPECT_EQ(text.find("mode = monitor"), std::string::npos);
    p.mode = Mode::Monitor;
    std::ostringstream monitored;
    write_postfix_tls_policy(p, kGrades, "policy.toml", monitored);
    EXPECT_NE(monitored.str().find("# mode = monitor: inbound, nothing is refused yet"), std::string::npos);
}

}  // namespace
}  // namespace tlspolicy
