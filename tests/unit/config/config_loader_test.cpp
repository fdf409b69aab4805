// The policy file loader: valid files give the right Policy, every kind of
// mistake gives its exact FILE:LINE:COLUMN diagnostic, all of them are reported,
// and the fast reader agrees with toml++ on every input.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/config_loader_internal.hpp"
#include "config/config_summary.hpp"
#include "config/schema.hpp"
#include "core/profile.hpp"
#include "core/tls_version.hpp"
#include "core/verdict.hpp"

namespace tlspolicy {
namespace {

std::vector<std::string> lines_of(const LoadResult& r) {
    std::vector<std::string> out;
    for (const Diagnostic& d : r.diagnostics) out.push_back(d.format());
    return out;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += "  " + l + "\n";
    return out.empty() ? "  (nothing)\n" : out;
}

LoadResult load(std::string_view text) { return load_config_text(text, "t.toml"); }

// A valid file with every section, as the SPEC's example.
constexpr const char* kFullConfig = R"([milter]
socket = "inet:8891@127.0.0.1"
mode = "monitor"
user = "tlspolicy-milter"
socket_mode = "0660"
pidfile = "/run/tlspolicy-milter/pid"
timeout = 120

[header]
name = "X-TLS-Policy"
authserv_id = "mx.example.com"
strip_forged = false

[stats]
file = "/var/lib/prometheus/tlspolicy.prom"
interval = 15

[observations]
database = "/var/lib/tlspolicy-milter/obs.sqlite"
keep_days = 30

[defaults]
require_tls = false
min_version = "TLSv1.2"
action = "annotate"

[[partner]]
name = "acme"
clients = ["203.0.113.0/24", "2001:db8:ace::/48"]
hostnames = ["mail.acme.example", ".acme.example"]
senders = ["acme.example", ".acme.example", "Billing@ACME.example"]
require_tls = true
min_version = "TLSv1.2"
min_cipher_bits = 128
action = "reject"
reply = "acme.example mail must use TLS 1.2 or newer, see contract 7.3"

[[recipient]]
name = "hr"
recipients = ["hr@example.com", "health.example.com"]
require_tls = true
min_version = "TLSv1.3"
profile = "bsi-tr-02102-2"
action = "reject"

[[partner]]
name = "beta"
senders = ["beta.example"]
require_tls = true
ciphers = "ECDHE+AESGCM"
ciphersuites = "TLS_AES_256_GCM_SHA384"
)";

TEST(ConfigLoad, FullFileGivesTheRightPolicy) {
    LoadResult r = load(kFullConfig);
    ASSERT_TRUE(r.ok()) << "got diagnostics:\n" << joined(lines_of(r));
    EXPECT_TRUE(r.diagnostics.empty()) << joined(lines_of(r));
    const Config& c = *r.config;
    EXPECT_EQ(c.path, "t.toml");
    EXPECT_EQ(c.milter.socket, "inet:8891@127.0.0.1");
    EXPECT_EQ(c.milter.user, "tlspolicy-milter");
    EXPECT_EQ(c.milter.socket_mode, 0660);
    EXPECT_EQ(c.milter.pidfile, "/run/tlspolicy-milter/pid");
    EXPECT_EQ(c.milter.timeout, 120);
    EXPECT_EQ(c.header.name, "X-TLS-Policy");
    EXPECT_EQ(c.header.authserv_id, "mx.example.com");
    EXPECT_FALSE(c.header.strip_forged);
    EXPECT_EQ(c.stats.file, "/var/lib/prometheus/tlspolicy.prom");
    EXPECT_EQ(c.stats.interval, 15);
    EXPECT_EQ(c.observations.database, "/var/lib/tlspolicy-milter/obs.sqlite");
    EXPECT_EQ(c.observations.keep_days, 30);

    const Policy& p = *c.policy;
    EXPECT_EQ(p.mode, Mode::Monitor);
    EXPECT_EQ(p.defaults.name, "default");
    EXPECT_EQ(p.defaults.kind, RuleKind::Defaults);
    EXPECT_EQ(p.defaults.line, 22);
    EXPECT_FALSE(p.defaults.req.require_tls);
    EXPECT_EQ(p.defaults.req.min_version, TlsVersion::TLSv1_2);
    EXPECT_EQ(p.defaults.action, Action::Annotate);

    ASSERT_EQ(p.partners.size(), 2u);
    const Rule& acme = p.partners[0];
    EXPECT_EQ(acme.name, "acme");
    EXPECT_EQ(acme.kind, RuleKind::Partner);
    EXPECT_EQ(acme.line, 27);
    EXPECT_TRUE(acme.req.require_tls);
    EXPECT_EQ(acme.req.min_version, TlsVersion::TLSv1_2);
    EXPECT_EQ(acme.req.min_cipher_bits, 128);
    EXPECT_EQ(acme.req.ciphers, nullptr);
    EXPECT_EQ(acme.req.profile, nullptr);
    EXPECT_EQ(acme.action, Action::Reject);
    EXPECT_EQ(acme.reply, "acme.example mail must use TLS 1.2 or newer, see contract 7.3");
    ASSERT_EQ(acme.clients.size(), 2u);
    EXPECT_EQ(acme.clients[0].to_string(), "203.0.113.0/24");
    EXPECT_EQ(acme.clients[1].to_string(), "2001:db8:ace::/48");
    ASSERT_EQ(acme.hostnames.size(), 2u);
    EXPECT_EQ(acme.hostnames[0].kind, EntryKind::Domain);
    EXPECT_EQ(acme.hostnames[1].kind, EntryKind::Subdomains);
    EXPECT_EQ(acme.hostnames[1].key, "acme.example");
    ASSERT_EQ(acme.senders.size(), 3u);
    EXPECT_EQ(acme.senders[2].kind, EntryKind::Address);
    EXPECT_EQ(acme.senders[2].key, "billing@acme.example");

    const Rule& beta = p.partners[1];
    EXPECT_EQ(beta.name, "beta");
    EXPECT_EQ(beta.line, 46);
    EXPECT_EQ(beta.action, Action::Tempfail) << "action defaults to tempfail";
    ASSERT_NE(beta.req.ciphers, nullptr);
    EXPECT_EQ(beta.req.ciphers->spec, "ECDHE+AESGCM");
    EXPECT_TRUE(beta.req.ciphers->allows("ECDHE-RSA-AES128-GCM-SHA256"));
    EXPECT_FALSE(beta.req.ciphers->allows("ECDHE-RSA-CHACHA20-POLY1305"));
    ASSERT_NE(beta.req.ciphersuites, nullptr);
    EXPECT_TRUE(beta.req.ciphersuites->allows("TLS_AES_256_GCM_SHA384"));

    ASSERT_EQ(p.recipients.size(), 1u);
    const Rule& hr = p.recipients[0];
    EXPECT_EQ(hr.name, "hr");
    EXPECT_EQ(hr.kind, RuleKind::Recipient);
    EXPECT_EQ(hr.line, 38);
    EXPECT_EQ(hr.req.min_version, TlsVersion::TLSv1_3);
    EXPECT_EQ(hr.req.profile, find_profile("bsi-tr-02102-2"));
    ASSERT_EQ(hr.recipients.size(), 2u);

    // The indexes are built: lookups find the rules.
    std::vector<Match> m;
    p.match_partners(std::nullopt, "", "someone@mail.acme.example", m);
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].rule, 0u);
    m.clear();
    p.match_partners(parse_ip("203.0.113.9"), "", "", m);
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].selector, Selector::Client);
    m.clear();
    p.match_recipients("hr@example.com", m);
    EXPECT_EQ(m.size(), 1u);
}

TEST(ConfigLoad, EmptyFileGetsTheSchemaDefaults) {
    LoadResult r = load("");
    ASSERT_TRUE(r.ok()) << joined(lines_of(r));
    const Config& c = *r.config;
    EXPECT_EQ(c.milter.socket, "unix:/run/tlspolicy-milter/milter.sock");
    EXPECT_EQ(c.policy->mode, Mode::Enforce);
    EXPECT_EQ(c.milter.user, "");
    EXPECT_EQ(c.milter.socket_mode, 0660);
    EXPECT_EQ(c.milter.timeout, 300);
    EXPECT_EQ(c.header.name, "X-Transport-Security");
    EXPECT_EQ(c.header.authserv_id, "");
    EXPECT_TRUE(c.header.strip_forged);
    EXPECT_EQ(c.stats.file, "");
    EXPECT_EQ(c.stats.interval, 30);
    EXPECT_EQ(c.observations.keep_days, 90);
    EXPECT_EQ(c.policy->defaults.name, "default");
    EXPECT_FALSE(c.policy->defaults.req.require_tls);
    EXPECT_EQ(c.policy->defaults.action, Action::Tempfail);
    EXPECT_TRUE(c.policy->partners.empty());
    EXPECT_TRUE(c.policy->recipients.empty());
}

TEST(ConfigLoad, SocketForms) {
    for (const char* socket : {"unix:/run/m.sock", "local:/run/m.sock", "/run/m.sock", "inet:8891@127.0.0.1",
                               "inet:8891@localhost", "inet:8891", "inet6:8891@[::1]"}) {
        LoadResult r = load(std::string("[milter]\nsocket = \"") + socket + "\"\n");
        EXPECT_TRUE(r.ok()) << socket << ": got\n" << joined(lines_of(r));
    }
}

TEST(ConfigLoad, IdenticalCipherStringsShareOneExpansion) {
    std::string text;
    for (int i = 0; i < 3; ++i)
        text += "[[partner]]\nname = \"p" + std::to_string(i) + "\"\nsenders = [\"p" + std::to_string(i) +
                ".example\"]\nciphers = \"ECDHE+AESGCM\"\n";
    LoadResult r = load(text);
    ASSERT_TRUE(r.ok()) << joined(lines_of(r));
    const auto& p = r.config->policy->partners;
    EXPECT_EQ(p[0].req.ciphers, p[1].req.ciphers);
    EXPECT_EQ(p[1].req.ciphers, p[2].req.ciphers);
}

TEST(ConfigLoad, FileThatCannotBeRead) {
    LoadResult r = load_config_file("/nonexistent/tlspolicy.toml");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(lines_of(r), std::vector<std::string>{"/nonexistent/tlspolicy.toml: cannot open: No such file or directory"});
}

TEST(ConfigLoad, DiagnosticFormat) {
    EXPECT_EQ((Diagnostic{"a.toml", 3, 7, "bad", false}.format()), "a.toml:3:7: bad");
    EXPECT_EQ((Diagnostic{"a.toml", 3, 7, "meh", true}.format()), "a.toml:3:7: warning: meh");
    EXPECT_EQ((Diagnostic{"a.toml", 0, 0, "gone", false}.format()), "a.toml: gone");
}

// ---------------------------------------------------------------------------
// One mistake each: the exact diagnostics, in file order.

struct ErrorCase {
    const char* name;
    const char* toml;
    std::vector<std::string> want;
    bool loads = false;  // only warnings: the file still loads
};

// A partner that is fine on its own, to keep cases short.
#define PARTNER "[[partner]]\nname = \"acme\"\nsenders = [\"acme.example\"]\nrequire_tls = true\n"

const ErrorCase kErrorCases[] = {
    {"SyntaxErrorStopsAtItsPosition", "[milter\nsocket = \"x\"\n",
     {"t.toml:1:8: Error while parsing table header: expected ']', saw '\\n'"}},
    {"UnknownSectionWithSuggestion", "[partners]\nname = \"x\"\n",
     {"t.toml:1:1: unknown section [partners]: did you mean [[partner]]?"}},
    {"UnknownSection", "[logging]\nlevel = 3\n", {"t.toml:1:1: unknown section [logging]"}},
    {"UnknownKeyWithSuggestion", PARTNER "min_verison = \"TLSv1.2\"\n",
     {"t.toml:5:1: unknown key 'min_verison' in [[partner]]: did you mean 'min_version'?"}},
    {"UnknownKeyThatBelongsElsewhere", "[defaults]\nsocket = \"unix:/run/x\"\n",
     {"t.toml:2:1: unknown key 'socket' in [defaults]: it belongs in [milter]"}},
    {"UnknownKeyInSettings", "[milter]\ntmeout = 5\n",
     {"t.toml:2:1: unknown key 'tmeout' in [milter]: did you mean 'timeout'?"}},
    {"KeyOutsideAnySection", "mode = \"monitor\"\n",
     {"t.toml:1:1: key 'mode' is outside any section: it belongs in [milter]"}},
    {"UnknownKeyOutsideAnySection", "colour = \"blue\"\n", {"t.toml:1:1: unknown key 'colour' outside any section"}},
    {"PartnerWrittenAsTable", "[partner]\nname = \"acme\"\nsenders = [\"acme.example\"]\nrequire_tls = true\n",
     {"t.toml:1:1: [partner] must be written [[partner]]: one table per rule"}},
    {"MilterWrittenAsArray", "[[milter]]\nmode = \"monitor\"\n",
     {"t.toml:1:1: [[milter]] must be written [milter]: there is only one"}},
    {"SectionGivenAsValue", "partner = \"acme\"\n", {"t.toml:1:1: partner must be [[partner]] tables, got string"}},
    {"IntegerGivenAsString", "[defaults]\nmin_cipher_bits = \"128\"\n",
     {"t.toml:2:19: min_cipher_bits must be an integer, got string"}},
    {"BoolGivenAsString", "[defaults]\nrequire_tls = \"yes\"\n",
     {"t.toml:2:15: require_tls must be true or false, got string"}},
    {"StringGivenAsFloat", "[defaults]\nmin_version = 1.2\n",
     {"t.toml:2:15: min_version must be a string, got floating-point number"}},
    {"StringWhereArrayIsNeeded", "[[partner]]\nname = \"acme\"\nclients = \"203.0.113.0/24\"\nrequire_tls = true\n",
     {"t.toml:1:1: partner 'acme' has no clients, hostnames or senders: it can never match",
      "t.toml:3:11: clients must be an array of strings, got string: write [\"203.0.113.0/24\"]"}},
    {"ArrayEntryOfWrongType", PARTNER "clients = [\"203.0.113.0/24\", 7]\n",
     {"t.toml:5:30: clients entries must be strings, got integer"}},
    {"EmptyString", "[milter]\nuser = \"\"\n", {"t.toml:2:8: user must not be empty"}},
    {"EmptyEntry", PARTNER "hostnames = [\"\"]\n", {"t.toml:5:14: hostnames entries must not be empty"}},
    {"VersionThatDoesNotExist", "[defaults]\nmin_version = \"TLSv1.4\"\n",
     {"t.toml:2:15: unknown min_version 'TLSv1.4': use TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3"}},
    {"VersionInTheWrongCase", "[defaults]\nmin_version = \"tlsv1.2\"\n",
     {"t.toml:2:15: unknown min_version 'tlsv1.2': did you mean 'TLSv1.2'? (use TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)"}},
    {"CidrPrefixTooLong", PARTNER "clients = [\"10.0.0.0/33\"]\n",
     {"t.toml:5:12: clients: '10.0.0.0/33': prefix length 33 is larger than 32 for IPv4"}},
    {"CidrWithHostBits", PARTNER "clients = [\"203.0.113.7/24\"]\n",
     {"t.toml:5:12: clients: '203.0.113.7/24' has host bits set: did you mean '203.0.113.0/24'?"}},
    {"ClientThatIsNoAddress", PARTNER "clients = [\"mail.acme.example\"]\n",
     {"t.toml:5:12: clients: 'mail.acme.example' is not an IPv4 or IPv6 address or CIDR block"}},
    {"AddressInHostnames", PARTNER "hostnames = [\"postmaster@acme.example\"]\n",
     {"t.toml:5:14: hostnames: 'postmaster@acme.example': hostnames take host names, not addresses"}},
    {"WildcardSender", "[[partner]]\nname = \"acme\"\nsenders = [\"*.acme.example\"]\nrequire_tls = true\n",
     {"t.toml:3:12: senders: '*.acme.example': wildcards are not supported: did you mean '.acme.example'?"}},
    {"IpAddressAsRecipient", "[[recipient]]\nname = \"hr\"\nrecipients = [\"192.0.2.1\"]\nrequire_tls = true\n",
     {"t.toml:3:15: recipients: '192.0.2.1': this is an IP address: put it in 'clients'"}},
    {"CipherNameInTheWrongCase", "[defaults]\nciphers = \"ecdhe-rsa-aes128-gcm-sha256\"\n",
     {"t.toml:2:11: ciphers: 'ecdhe-rsa-aes128-gcm-sha256' selects no cipher; cipher names are case-sensitive, "
      "write 'ECDHE-RSA-AES128-GCM-SHA256'"}},
    {"Tls13SuiteInCiphers", "[defaults]\nciphers = \"TLS_AES_256_GCM_SHA384\"\n",
     {"t.toml:2:11: ciphers: 'TLS_AES_256_GCM_SHA384' is a TLS 1.3 suite; it belongs in `ciphersuites`, not `ciphers`"}},
    {"Tls12CipherInCiphersuites", "[defaults]\nciphersuites = \"ECDHE-RSA-AES128-GCM-SHA256\"\n",
     {"t.toml:2:16: ciphersuites: 'ECDHE-RSA-AES128-GCM-SHA256' is a TLS 1.2 cipher; it belongs in `ciphers`, not "
      "`ciphersuites`"}},
    {"UnknownProfile", "[defaults]\nprofile = \"bsi\"\n",
     {"t.toml:2:11: unknown profile 'bsi': use bsi-tr-02102-2, mozilla-modern or mozilla-intermediate"}},
    {"UnknownActionWithSuggestion", "[defaults]\naction = \"rejct\"\n",
     {"t.toml:2:10: unknown action 'rejct': did you mean 'reject'? (use reject, tempfail or annotate)"}},
    {"UnknownAction", "[defaults]\naction = \"bounce\"\n",
     {"t.toml:2:10: unknown action 'bounce': use reject, tempfail or annotate"}},
    {"UnknownMode", "[milter]\nmode = \"enforcing\"\n", {"t.toml:2:8: unknown mode 'enforcing': use enforce or monitor"}},
    {"DuplicateRuleNameAcrossKinds",
     "[[recipient]]\nname = \"acme\"\nrecipients = [\"hr@example.com\"]\nrequire_tls = true\n\n" PARTNER,
     {"t.toml:7:8: duplicate rule name 'acme' (first at line 2)"}},
    {"DuplicateRuleNameReportedAtEachRepeat", PARTNER PARTNER PARTNER,
     {"t.toml:6:8: duplicate rule name 'acme' (first at line 2)",
      "t.toml:10:8: duplicate rule name 'acme' (first at line 2)"}},
    {"RuleNamedDefault", "[[partner]]\nname = \"default\"\nsenders = [\"a.example\"]\nrequire_tls = true\n",
     {"t.toml:2:8: rule name 'default' is reserved for [defaults]"}},
    {"RuleNameWithComma", "[[partner]]\nname = \"acme,beta\"\nsenders = [\"a.example\"]\nrequire_tls = true\n",
     {"t.toml:2:8: rule name 'acme,beta' may only contain letters, digits, '.', '-' and '_'"}},
    {"RuleWithoutName", "[[partner]]\nsenders = [\"a.example\"]\nrequire_tls = true\n",
     {"t.toml:1:1: partner rule has no name"}},
    {"PartnerThatCanNeverMatch", "[[partner]]\nname = \"acme\"\nrequire_tls = true\n",
     {"t.toml:1:1: partner 'acme' has no clients, hostnames or senders: it can never match"}},
    {"PartnerWithOnlyEmptySelectors", "[[partner]]\nname = \"acme\"\nclients = []\nsenders = []\nrequire_tls = true\n",
     {"t.toml:1:1: partner 'acme' has no clients, hostnames or senders: it can never match"}},
    {"RecipientThatCanNeverMatch", "[[recipient]]\nname = \"hr\"\nrequire_tls = true\n",
     {"t.toml:1:1: recipient 'hr' has no recipients: it can never match"}},
    {"NegativeTimeout", "[milter]\ntimeout = -5\n", {"t.toml:2:11: timeout must be between 1 and 86400, got -5"}},
    {"ZeroInterval", "[stats]\nfile = \"/tmp/x.prom\"\ninterval = 0\n",
     {"t.toml:3:12: interval must be between 1 and 86400, got 0"}},
    {"ZeroKeepDays", "[observations]\nkeep_days = 0\n", {"t.toml:2:13: keep_days must be between 1 and 36500, got 0"}},
    {"CipherBitsOutOfRange", "[defaults]\nmin_cipher_bits = 512\n",
     {"t.toml:2:19: min_cipher_bits must be between 1 and 256, got 512"}},
    {"SocketOfUnknownForm", "[milter]\nsocket = \"tcp:25\"\n",
     {"t.toml:2:10: socket 'tcp:25': it is not unix:PATH, local:PATH, inet:PORT@HOST, inet6:PORT@HOST or an "
      "absolute path"}},
    {"SocketPortOutOfRange", "[milter]\nsocket = \"inet:99999@localhost\"\n",
     {"t.toml:2:10: socket 'inet:99999@localhost': the port must be a number from 1 to 65535"}},
    {"SocketWithoutHostAfterAt", "[milter]\nsocket = \"inet6:8891@\"\n",
     {"t.toml:2:10: socket 'inet6:8891@': the host after '@' is empty"}},
    {"SocketWithRelativePath", "[milter]\nsocket = \"unix:milter.sock\"\n",
     {"t.toml:2:10: socket 'unix:milter.sock': the path must be absolute"}},
    {"SocketPathLongerThanSunPath", "[milter]\nsocket = \"unix:/run/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/m.sock\"\n",
     {"t.toml:2:10: socket 'unix:/run/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/m.sock': the path is 108 bytes, longer than the 107 bytes a unix socket path can "
      "have: choose a shorter one"}},
    {"SocketModeNotOctal", "[milter]\nsocket_mode = \"0690\"\n",
     {"t.toml:2:15: socket_mode '0690' is not an octal mode like \"0660\""}},
    {"SocketModeAsInteger", "[milter]\nsocket_mode = 660\n",
     {"t.toml:2:15: socket_mode must be a string, got integer: write it in quotes, like \"0660\""}},
    {"RelativePidfile", "[milter]\npidfile = \"milter.pid\"\n",
     {"t.toml:2:11: pidfile 'milter.pid' must be an absolute path"}},
    {"HeaderNameWithColon", "[header]\nname = \"X-TLS:\"\n",
     {"t.toml:2:8: header name 'X-TLS:' is not a header field name (printable ASCII, no spaces or ':')"}},
    {"HeaderNameThatIsAnOriginatorField", "[header]\nname = \"From\"\n",
     {"t.toml:2:8: header name 'From' is an RFC 5322 originator field: the milter would add its own and, with "
      "strip_forged, remove others; choose a name of its own, such as \"X-Transport-Security\""}},
    {"HeaderNameThatIsATraceFieldInAnyCase", "[header]\nname = \"RECEIVED\"\n",
     {"t.toml:2:8: header name 'RECEIVED' is an RFC 5322 trace field: the milter would add its own and, with "
      "strip_forged, remove others; choose a name of its own, such as \"X-Transport-Security\""}},
    {"HeaderNameThatIsASignature", "[header]\nname = \"dkim-signature\"\n",
     {"t.toml:2:8: header name 'dkim-signature' is a signature field (RFC 6376): the milter would add its own and, "
      "with strip_forged, remove others; choose a name of its own, such as \"X-Transport-Security\""}},
    {"HeaderNameWithAReservedPrefix", "[header]\nname = \"arc-seal\"\n",
     {"t.toml:2:8: header name 'arc-seal' is an ARC field (RFC 8617): the milter would add its own and, with "
      "strip_forged, remove others; choose a name of its own, such as \"X-Transport-Security\""}},
    {"HeaderNameLikeAReservedPrefixIsFine", "[header]\nname = \"X-Content-Security\"\n", {}, true},
    {"HeaderNameAuthenticationResults", "[header]\nname = \"Authentication-Results\"\n",
     {"t.toml:2:8: header name 'Authentication-Results' is the authentication results field (RFC 8601), which "
      "other filters on this host write: the milter would add its own and, with strip_forged, remove others; "
      "choose a name of its own, such as \"X-Transport-Security\""}},
    {"HeaderNameThatIsNoFieldName", "[header]\nname = \"X TLS\"\n",
     {"t.toml:2:8: header name 'X TLS' is not a header field name (printable ASCII, no spaces or ':')"}},
    {"CipherRequirementWithoutRequireTlsIsAWarning",
     "[[partner]]\nname = \"acme\"\nsenders = [\"acme.example\"]\nmin_version = \"TLSv1.2\"\naction = \"reject\"\n",
     {"t.toml:1:1: warning: partner 'acme' has min_version but not require_tls: it applies to TLS sessions only, so "
      "plaintext passes and is not rejected; add require_tls = true to refuse plaintext too"},
     true},
    {"SeveralCipherRequirementsWithoutRequireTls",
     "[[recipient]]\nname = \"hr\"\nrecipients = [\"hr@example.com\"]\nmin_cipher_bits = 128\n"
     "profile = \"bsi-tr-02102-2\"\nrequire_tls = false\n",
     {"t.toml:1:1: warning: recipient 'hr' has min_cipher_bits and profile but not require_tls: they apply to TLS "
      "sessions only, so plaintext passes and is not tempfailed; add require_tls = true to refuse plaintext too"},
     true},
    // Annotating rules refuse nothing; [defaults] must not require TLS of everyone (RFC 3207).
    {"CipherRequirementOfAnAnnotatingRuleIsFine",
     "[[partner]]\nname = \"acme\"\nsenders = [\"acme.example\"]\nmin_version = \"TLSv1.2\"\naction = \"annotate\"\n",
     {}, true},
    {"CipherRequirementInDefaultsIsFine", "[defaults]\nmin_version = \"TLSv1.2\"\naction = \"reject\"\n", {}, true},
    {"AuthservIdWithSpace", "[header]\nauthserv_id = \"mx example\"\n",
     {"t.toml:2:15: authserv_id 'mx example' may only contain letters, digits, '.', '-', '_', '+' and '/'"}},
    {"ReplyWithLineBreak", PARTNER "reply = \"no TLS,\\r\\n250 ok\"\n",
     {"t.toml:5:9: reply may only contain printable ASCII: no line breaks, control characters or accents"}},
    {"ReplyWithAccent", PARTNER "reply = \"TLS erforderlich für acme\"\n",
     {"t.toml:5:9: reply may only contain printable ASCII: no line breaks, control characters or accents"}},
    {"RuleWithoutRequirementIsAWarning", "[[partner]]\nname = \"acme\"\nsenders = [\"acme.example\"]\n",
     {"t.toml:1:1: warning: partner 'acme' has no requirement: it only annotates"}, true},
    {"UnknownCipherNameIsAWarning", "[defaults]\nciphers = \"ECDHE+AESGCM:FOO-BAR-SHA256\"\n",
     {"t.toml:2:11: warning: ciphers: 'FOO-BAR-SHA256' is unknown to this OpenSSL; kept for exact matching"}, true},
    {"UnknownCipherWarnedOnceWhereFirstUsed",
     "[[partner]]\nname = \"a\"\nsenders = [\"a.example\"]\nciphersuites = \"TLS_FOO_SHA256\"\nrequire_tls = true\n"
     "[[partner]]\nname = \"b\"\nsenders = [\"b.example\"]\nciphersuites = \"TLS_FOO_SHA256\"\nrequire_tls = true\n",
     {"t.toml:4:16: warning: ciphersuites: 'TLS_FOO_SHA256' is unknown to this OpenSSL; kept for exact matching"},
     true},
    {"FiveDifferentMistakes",
     "[milter]\n"
     "mode = \"monitoring\"\n"
     "\n"
     "[defaults]\n"
     "min_version = \"TLSv1.4\"\n"
     "\n"
     "[[partner]]\n"
     "name = \"acme\"\n"
     "clients = [\"10.0.0.0/33\"]\n"
     "senders = [\"acme.example\"]\n"
     "min_verison = \"TLSv1.2\"\n"
     "\n"
     "[[partner]]\n"
     "name = \"acme\"\n"
     "senders = [\"acme.example\"]\n"
     "require_tls = true\n",
     {"t.toml:2:8: unknown mode 'monitoring': use enforce or monitor",
      "t.toml:5:15: unknown min_version 'TLSv1.4': use TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3",
      "t.toml:9:12: clients: '10.0.0.0/33': prefix length 33 is larger than 32 for IPv4",
      "t.toml:11:1: unknown key 'min_verison' in [[partner]]: did you mean 'min_version'?",
      "t.toml:14:8: duplicate rule name 'acme' (first at line 8)"}},
    // Client certificates.
    {"CertSubjectsEmpty", PARTNER "cert_subjects = []\n",
     {"t.toml:5:17: cert_subjects is empty: leave it out to accept any verified certificate"}},
    {"CertIssuersEmpty", PARTNER "cert_issuers = []\n",
     {"t.toml:5:16: cert_issuers is empty: leave it out to accept any verified certificate"}},
    {"CertSubjectNotAName", PARTNER "cert_subjects = [\"mx 1.acme.example\", \"192.0.2.1\", \"a@b.example\"]\n",
     {"t.toml:5:18: cert_subjects: 'mx 1.acme.example': an entry may not contain spaces or control characters",
      "t.toml:5:39: cert_subjects: '192.0.2.1': this is an IP address: put it in 'clients'",
      "t.toml:5:52: cert_subjects: 'a@b.example': hostnames take host names, not addresses"}},
    {"CertNamesWithClientCertOff", PARTNER "require_client_cert = false\ncert_issuers = [\"Acme CA\"]\n",
     {"t.toml:5:23: require_client_cert = false contradicts cert_subjects/cert_issuers of this rule, which need a "
      "verified certificate: remove one of them"}},
    {"RecipientDelimiterLetters", "[milter]\nrecipient_delimiter = \"+a\"\n",
     {"t.toml:2:23: recipient_delimiter '+a' may only hold punctuation characters, each once, like Postfix's "
      "recipient_delimiter"}},
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class ConfigError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigError, GivesExactDiagnostics) {
    const ErrorCase& c = GetParam();
    LoadResult r = load(c.toml);
    std::vector<std::string> got = lines_of(r);
    EXPECT_EQ(got, c.want) << "got:\n" << joined(got) << "want:\n" << joined(c.want);
    EXPECT_EQ(r.ok(), c.loads) << (c.loads ? "warnings must not stop loading" : "errors must stop loading");
}

// toml++ alone must give the same diagnostics, whichever reader load() used.
TEST_P(ConfigError, TomlplusplusGivesTheSame) {
    const ErrorCase& c = GetParam();
    std::vector<std::string> slow = lines_of(load_config_text_with_tomlplusplus(c.toml, "t.toml"));
    EXPECT_EQ(slow, c.want) << "toml++ only:\n" << joined(slow) << "want:\n" << joined(c.want);
}

INSTANTIATE_TEST_SUITE_P(Config, ConfigError, ::testing::ValuesIn(kErrorCases),
                         [](const auto& param) { return std::string(param.param.name); });

// ---------------------------------------------------------------------------
// The fast reader: takes the plain subset, leaves everything else to toml++,
// and both always agree.

struct ReaderCase {
    const char* name;
    const char* toml;
    bool fast;  // the fast reader takes it
};

const ReaderCase kReaderCases[] = {
    {"PlainFile", "[milter]\nmode = \"monitor\" # comment\n\n[[partner]]\nname = \"a\"\nsenders = [\"a.example\"]\n", true},
    {"CrLfLineEnds", "[milter]\r\nmode = \"monitor\"\r\ntimeout = 60\r\n", true},
    {"MultiLineArrayWithComments", PARTNER "clients = [\n  \"192.0.2.0/24\", # first\n  \"2001:db8::/32\",\n]\n", true},
    {"LiteralStringsAndEscapes", "[header]\nname = 'X-TLS'\nauthserv_id = \"mx\\\\example\"\n", true},
    {"IndentedKeysAndHeaders", "  [milter]\n\tmode = \"monitor\"\n", true},
    {"NegativeZero", "[milter]\ntimeout = -0\n", true},
    {"NoNewlineAtEnd", "[milter]\nmode = \"monitor\"", true},
    {"InlineTable", "milter = { mode = \"monitor\" }\n", false},
    {"DottedKey", "milter.mode = \"monitor\"\n", false},
    {"DottedHeader", "[milter.extra]\nx = 1\n", false},
    {"QuotedKey", "[milter]\n\"mode\" = \"monitor\"\n", false},
    {"SpacedHeader", "[ milter ]\nmode = \"monitor\"\n", false},
    {"UnicodeEscape", "[header]\nauthserv_id = \"mx\\u0041\"\n", false},
    {"NonAsciiComment", "# Größe\n[milter]\nmode = \"monitor\"\n", true},
    {"NonAsciiStringsCountCharactersNotBytes", PARTNER "hostnames = [\"größe.example\", \"x..example\"]\n", true},
    {"MalformedUtf8", "# \xc0\xaf\n[milter]\nmode = \"monitor\"\n", false},
    {"Utf8Surrogate", "[header]\nauthserv_id = \"\xed\xa0\x80\"\n", false},
    {"TruncatedUtf8AtEnd", "# \xe2\x80", false},
    {"MultiLineString", "[header]\nauthserv_id = \"\"\"mx\"\"\"\n", false},
    {"HexInteger", "[milter]\ntimeout = 0x10\n", false},
    {"UnderscoreInteger", "[milter]\ntimeout = 1_000\n", false},
    {"Float", "[milter]\ntimeout = 1.5\n", false},
    {"DateTime", "[milter]\ntimeout = 1979-05-27T07:32:00Z\n", false},
    {"DuplicateKeyIsASyntaxError", "[milter]\nmode = \"monitor\"\nmode = \"enforce\"\n", false},
    {"DuplicateTableIsASyntaxError", "[milter]\nmode = \"monitor\"\n[milter]\ntimeout = 5\n", false},
    {"TableThenArrayIsASyntaxError", "[partner]\nname = \"a\"\n[[partner]]\nname = \"b\"\n", false},
    {"RootKeyThenTable", "milter = 5\n[milter]\nmode = \"monitor\"\n", false},
    {"UnterminatedString", "[milter]\nmode = \"monitor\n", false},
    {"UnterminatedArray", PARTNER "clients = [\"192.0.2.1\"\n", false},
    {"ValueMissing", "[milter]\nmode =\n", false},
    {"TrailingGarbage", "[milter]\nmode = \"monitor\" x\n", false},
    {"ControlCharInString", "[milter]\nmode = \"mon\x01itor\"\n", false},
    {"LoneCarriageReturn", "[milter]\rmode = \"monitor\"\n", false},
    {"NestedArray", PARTNER "clients = [[\"192.0.2.1\"]]\n", true},
    {"DeeplyNestedArray", "[milter]\ntimeout = [[[[[[[[[[[[1]]]]]]]]]]]]\n", false},
    {"ArrayOfInlineTables", "partner = [{ name = \"a\", senders = [\"a.example\"] }]\n", false},
    {"ByteOrderMark", "\xEF\xBB\xBF[milter]\nmode = \"monitor\"\n", false},
};

void PrintTo(const ReaderCase& c, std::ostream* os) { *os << c.name; }

class ConfigReader : public ::testing::TestWithParam<ReaderCase> {};

TEST_P(ConfigReader, AgreesWithTomlplusplus) {
    const ReaderCase& c = GetParam();
    EXPECT_EQ(fast_reader_accepts(c.toml), c.fast) << (c.fast ? "the fast reader should take this"
                                                              : "this must be left to toml++");
    LoadResult fast = load(c.toml);
    LoadResult slow = load_config_text_with_tomlplusplus(c.toml, "t.toml");
    EXPECT_EQ(lines_of(fast), lines_of(slow)) << "load_config_text:\n"
                                              << joined(lines_of(fast)) << "toml++ only:\n"
                                              << joined(lines_of(slow));
    ASSERT_EQ(fast.ok(), slow.ok());
    if (fast.ok()) {
        std::ostringstream a, b;
        print_summary(*fast.config, a);
        print_summary(*slow.config, b);
        EXPECT_EQ(a.str(), b.str());
    }
}

INSTANTIATE_TEST_SUITE_P(Config, ConfigReader, ::testing::ValuesIn(kReaderCases),
                         [](const auto& param) { return std::string(param.param.name); });

TEST(ConfigReader, FullConfigTakesTheFastPath) { EXPECT_TRUE(fast_reader_accepts(kFullConfig)); }

// Small random edits of a valid file with the characters TOML cares about: the
// fast reader must never take a text toml++ reads differently or refuses.
TEST(ConfigReader, MutatedFilesAgreeWithTomlplusplus) {
    static constexpr char kAlphabet[] = "\"'[]=,#\n\r \t.\\{}-01a_+:\x01\xc3\xb6\xe2\x80\xf0\x9f";
    const char* env = std::getenv("CONFIG_FUZZ_ROUNDS");
    const int rounds = env ? std::atoi(env) : 1000;
    std::mt19937 rng(20240611);
    const std::string bases[] = {
        kFullConfig,
        "# comment\r\n[milter]\r\nmode = 'monitor' # trailing\r\ntimeout = -0\r\n"
        "[[partner]]\nname = \"a\\\"b\"\nclients = [ # open\n  \"192.0.2.0/24\",\n\t\"::1\" , ]\n"
        "senders = [\"\\tx.example\", 'y.example']\nrequire_tls = false\n",
        "# Größe: 🔒\n[[partner]] # ü\nname = \"ä\"\nsenders = [\"ö.example\", \"x.example\", 'é']\n"
        "reply = \"TLS erforderlich – siehe Vertrag\"\nrequire_tls = true\n",
    };
    for (const std::string& base : bases) ASSERT_TRUE(fast_reader_accepts(base)) << base;
    int fast_taken = 0;
    for (int round = 0; round < rounds; ++round) {
        std::string text = bases[round % std::size(bases)];
        const int edits = 1 + static_cast<int>(rng() % 3);
        for (int e = 0; e < edits; ++e) {
            const std::size_t at = rng() % (text.size() + 1);
            const char c = kAlphabet[rng() % (sizeof kAlphabet - 1)];
            switch (rng() % 3) {
                case 0: text.insert(at, 1, c); break;
                case 1: if (at < text.size()) text.erase(at, 1); break;
                default: if (at < text.size()) text[at] = c; break;
            }
        }
        fast_taken += fast_reader_accepts(text);
        std::vector<std::string> fast = lines_of(load(text));
        std::vector<std::string> slow = lines_of(load_config_text_with_tomlplusplus(text, "t.toml"));
        ASSERT_EQ(fast, slow) << "round " << round << ", text:\n"
                              << text << "\nload_config_text:\n"
                              << joined(fast) << "toml++ only:\n"
                              << joined(slow);
    }
    EXPECT_GT(fast_taken, 0) << "no mutated text took the fast path: the test proves nothing";
}

// ---------------------------------------------------------------------------
// The schema table itself.

// Checked here, not by a static_assert: comparing a function's address with
// null is not a constant expression under the sanitizers' build.
TEST(ConfigSchema, EveryKeyAppliesEverySettingShowsRulesReloadLive) {
    for (const KeyDecl& k : schema()) {
        EXPECT_NE(k.apply, nullptr) << k.key << ": no apply function";
        const bool setting = k.role == KeyRole::Setting;
        EXPECT_EQ(setting, k.show_setting != nullptr) << k.key << ": a setting shows itself in --check, a rule key does not";
        if (!setting) {
            EXPECT_EQ(k.reload, Reload::Live) << k.key << ": a reload swaps the whole policy";
        }
    }
}

TEST(ConfigSchema, KeysAreUniquePerSectionAndDocumented) {
    for (const SectionDecl& s : schema_sections()) {
        std::vector<std::string_view> seen;
        for (const KeyDecl& k : schema()) {
            if (!k.in(s.section)) continue;
            EXPECT_EQ(std::count(seen.begin(), seen.end(), k.key), 0) << k.key << " twice in " << s.name;
            seen.push_back(k.key);
            EXPECT_FALSE(k.doc.empty()) << k.key << " has no documentation";
            EXPECT_FALSE(k.example_toml.empty()) << k.key << " has no example";
            EXPECT_EQ(find_key(s.section, k.key), &k);
        }
        EXPECT_EQ(find_section(s.name), &s);
    }
    EXPECT_EQ(find_key(Section::Milter, "min_version"), nullptr);
}

TEST(ConfigSchema, ChoicesMatchWhatTheCoreAccepts) {
    const KeyDecl* profile = find_key(Section::Defaults, "profile");
    ASSERT_NE(profile, nullptr);
    std::vector<std::string_view> want, got(profile->choices.begin(), profile->choices.end());
    for (const Profile& p : all_profiles()) want.push_back(p.name);
    EXPECT_EQ(got, want) << "schema.cpp kProfiles and all_profiles() differ";
    for (std::string_view v : find_key(Section::Defaults, "min_version")->choices)
        EXPECT_TRUE(parse_config_version(v)) << v;
    for (std::string_view a : find_key(Section::Defaults, "action")->choices) EXPECT_TRUE(from_word<Action>(a)) << a;
    for (std::string_view m : find_key(Section::Milter, "mode")->choices) EXPECT_TRUE(from_word<Mode>(m)) << m;
}

// explain names each failed check by its key (kCheckWords in src/core, which
// may not see the schema): each name is a requirement the schema declares.
TEST(ConfigSchema, CheckNamesAreRequirementKeys) {
    for (const Word<Check>& w : kCheckWords) {
        const std::string_view name = w.word;
        const std::string_view key = name.substr(0, name.find(' '));  // "profile (version)" -> profile
        const KeyDecl* k = find_key(Section::Defaults, key);
        ASSERT_NE(k, nullptr) << "kCheckWords says '" << name << "', not a key of [defaults]";
        EXPECT_NE(k->role, KeyRole::Outcome) << name;
    }
}

// Every key's example, all in one file, loads without a diagnostic: each key has
// a handler and each example is valid. The defaults are checked the same way.
TEST(ConfigSchema, EveryExampleAndDefaultLoads) {
    for (bool defaults : {false, true}) {
        std::string text;
        for (const SectionDecl& s : schema_sections()) {
            text += s.array ? "[[" + std::string(s.name) + "]]\n" : "[" + std::string(s.name) + "]\n";
            for (const KeyDecl& k : schema()) {
                if (!k.in(s.section)) continue;
                std::string_view value = defaults && !k.default_toml.empty() ? k.default_toml : k.example_toml;
                // require_tls = false under the other keys' examples would be a warning (plaintext passes
                // them); require_client_cert = false beside cert_subjects an error (they need a certificate).
                if (k.key == "require_tls" || k.key == "require_client_cert") value = k.example_toml;
                text += std::string(k.key) + " = " + std::string(value) + "\n";
            }
            if (s.section == Section::Recipient) text += "\n";
        }
        // Two rules named by the same example would clash.
        auto second = text.rfind("name = \"acme\"");
        text.replace(second, 13, "name = \"hr\"");
        LoadResult r = load(text);
        EXPECT_TRUE(r.diagnostics.empty()) << (defaults ? "defaults" : "examples") << ":\n"
                                           << text << "got:\n"
                                           << joined(lines_of(r));
    }
}

// A key added to [milter], [header] or [defaults] must be shown by --check too.
TEST(ConfigSummary, EverySettingAndRequirementIsShown) {
    LoadResult r = load(kFullConfig);
    ASSERT_TRUE(r.ok()) << joined(lines_of(r));
    std::ostringstream out;
    print_summary(*r.config, out);
    const std::string text = out.str();
    EXPECT_EQ(text.find(" ?\n"), std::string::npos) << "a setting has no summary text:\n" << text;
    for (const KeyDecl& k : schema()) {
        if (!k.in(Section::Milter) && !k.in(Section::Header)) continue;
        EXPECT_NE(text.find("  " + std::string(k.key) + " "), std::string::npos) << k.key << " missing:\n" << text;
    }
    EXPECT_NE(text.find("[defaults]      require_tls = false, min_version = \"TLSv1.2\", action = \"annotate\"\n"),
              std::string::npos)
        << text;
}

// ---------------------------------------------------------------------------

// A generated policy of many rules must load in time linear in its size; a
// quadratic step would take minutes here. (100,000 rules: see the report.)
TEST(ConfigLoad, ManyRulesLoadQuickly) {
    constexpr int kRules = 20000;
    std::string text = "[defaults]\nrequire_tls = false\n";
    for (int i = 0; i < kRules; ++i) {
        std::string n = std::to_string(i);
        text += "[[partner]]\nname = \"p" + n + "\"\nclients = [\"10." + std::to_string(i >> 8) + "." +
                std::to_string(i & 255) + ".0/24\"]\nsenders = [\"p" + n + ".example\", \".p" + n +
                ".example\"]\nrequire_tls = true\nmin_version = \"TLSv1.2\"\nciphers = \"ECDHE+AESGCM\"\n"
                "action = \"reject\"\n";
    }
    auto start = std::chrono::steady_clock::now();
    LoadResult r = load(text);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(r.ok()) << joined(lines_of(r));
    EXPECT_EQ(r.config->policy->partners.size(), std::size_t(kRules));
    EXPECT_LT(seconds, 3.0) << kRules << " rules took " << seconds << " s";
}

}  // namespace
}  // namespace tlspolicy
