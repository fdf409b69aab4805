// The table of every policy file key. Add a key here first; the loader then
// refuses to load a file that uses it until it has a handler (a unit test walks
// the table), and the documentation test asks for its man page entry.
#include "config/schema.hpp"

#include <array>

namespace tlspolicy {
namespace {

constexpr SectionSet kRules = section_bit(Section::Defaults) | section_bit(Section::Partner) |
                              section_bit(Section::Recipient);
constexpr SectionSet kNamedRules = section_bit(Section::Partner) | section_bit(Section::Recipient);
constexpr SectionSet only(Section s) { return section_bit(s); }

constexpr std::array<std::string_view, 2> kModes{"enforce", "monitor"};
constexpr std::array<std::string_view, 3> kActions{"reject", "tempfail", "annotate"};
constexpr std::array<std::string_view, 4> kVersions{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
// Must equal the names in all_profiles() (src/core/profile.cpp); a unit test checks.
constexpr std::array<std::string_view, 3> kProfiles{"bsi-tr-02102-2", "mozilla-modern", "mozilla-intermediate"};

constexpr std::array<SectionDecl, 7> kSections{{
    {Section::Milter, "milter", false, "how the milter talks to the MTA"},
    {Section::Header, "header", false, "the header stamped on every accepted message"},
    {Section::Stats, "stats", false, "Prometheus counters for node_exporter's textfile collector"},
    {Section::Observations, "observations", false, "the SQLite store behind `report`"},
    {Section::Defaults, "defaults", false, "requirements when no [[partner]] rule matches the session"},
    {Section::Partner, "partner", true, "a rule for who sends to us: clients, hostnames, senders"},
    {Section::Recipient, "recipient", true, "a rule for which of our recipients need protection"},
}};

// clang-format off
constexpr std::array<KeyDecl, 30> kKeys{{
    // [milter]
    {only(Section::Milter), "socket", ValueType::String, {}, "\"unix:/run/tlspolicy-milter/milter.sock\"",
     "\"inet:8891@127.0.0.1\"", 0, 0, false,
     "where the MTA connects: unix:PATH, local:PATH, inet:PORT@HOST, inet6:PORT@HOST or an absolute path"},
    {only(Section::Milter), "mode", ValueType::String, kModes, "\"enforce\"", "\"monitor\"", 0, 0, false,
     "enforce refuses what falls short; monitor only logs and stamps what would have happened"},
    {only(Section::Milter), "user", ValueType::String, {}, "", "\"tlspolicy-milter\"", 0, 0, false,
     "user to run as once the socket is open; default: stay the user it started as"},
    {only(Section::Milter), "socket_mode", ValueType::String, {}, "\"0660\"", "\"0660\"", 0, 0, false,
     "octal permission bits of a unix socket (its group is postfix when that group exists)"},
    {only(Section::Milter), "pidfile", ValueType::String, {}, "", "\"/run/tlspolicy-milter/pid\"", 0, 0, false,
     "absolute path to write the process id to; default: none"},
    {only(Section::Milter), "timeout", ValueType::Integer, {}, "300", "300", 1, 86400, false,
     "seconds, libmilter I/O timeout"},
    {only(Section::Milter), "recipient_delimiter", ValueType::String, {}, "\"+\"", "\"+-\"", 0, 0, false,
     "characters that start an address extension at the MTA, like Postfix's recipient_delimiter"},
    // [header]
    {only(Section::Header), "name", ValueType::String, {}, "\"X-Transport-Security\"", "\"X-Transport-Security\"",
     0, 0, false, "the header field name"},
    {only(Section::Header), "authserv_id", ValueType::String, {}, "", "\"mx.example.com\"", 0, 0, false,
     "the name that opens the header; default: the MTA's own name (macro j)"},
    {only(Section::Header), "strip_forged", ValueType::Bool, {}, "true", "true", 0, 0, false,
     "remove incoming copies of the header that carry our authserv_id"},
    // [stats]
    {only(Section::Stats), "file", ValueType::String, {}, "",
     "\"/var/lib/prometheus/node-exporter/tlspolicy_milter.prom\"", 0, 0, false,
     "absolute path of the Prometheus text file; default: no metrics"},
    {only(Section::Stats), "interval", ValueType::Integer, {}, "30", "30", 1, 86400, false,
     "seconds between atomic rewrites of the file"},
    // [observations]
    {only(Section::Observations), "database", ValueType::String, {}, "",
     "\"/var/lib/tlspolicy-milter/observations.sqlite\"", 0, 0, false,
     "absolute path of the SQLite observation store; default: no store"},
    {only(Section::Observations), "keep_days", ValueType::Integer, {}, "90", "90", 1, 36500, false,
     "days after which observations are deleted"},
    // rule selectors
    {kNamedRules, "name", ValueType::String, {}, "", "\"acme\"", 0, 0, true,
     "the rule's name, unique, as the header and the logs show it (letters, digits, '.', '-', '_')"},
    {only(Section::Partner), "clients", ValueType::StringArray, {}, "", "[\"203.0.113.0/24\", \"2001:db8::/32\"]",
     0, 0, false, "client IP addresses or CIDR blocks, IPv4 and IPv6"},
    {only(Section::Partner), "hostnames", ValueType::StringArray, {}, "", "[\"mail.acme.example\", \".acme.example\"]",
     0, 0, false, "verified client host names: \"example.com\" that name, \".example.com\" every name below it"},
    {only(Section::Partner), "senders", ValueType::StringArray, {}, "",
     "[\"acme.example\", \".acme.example\", \"billing@acme.example\"]", 0, 0, false,
     "envelope senders: a domain, \".domain\" for its subdomains, or one address"},
    {only(Section::Recipient), "recipients", ValueType::StringArray, {}, "",
     "[\"hr@example.com\", \"health.example.com\"]", 0, 0, false,
     "envelope recipients: a domain, \".domain\" for its subdomains, or one address"},
    // requirements, shared by [defaults], [[partner]] and [[recipient]]
    {kRules, "require_tls", ValueType::Bool, {}, "false", "true", 0, 0, false,
     "refuse plaintext sessions"},
    {kRules, "min_version", ValueType::String, kVersions, "", "\"TLSv1.2\"", 0, 0, false,
     "oldest TLS version accepted"},
    {kRules, "min_cipher_bits", ValueType::Integer, {}, "", "128", 1, 256, false,
     "fewest secret bits the cipher in use may have"},
    {kRules, "ciphers", ValueType::String, {}, "", "\"ECDHE+AESGCM:ECDHE+CHACHA20\"", 0, 0, false,
     "OpenSSL cipher string: the ciphers allowed on TLS 1.2 and older"},
    {kRules, "ciphersuites", ValueType::String, {}, "", "\"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256\"",
     0, 0, false, "colon-separated TLS 1.3 cipher suites allowed"},
    {kRules, "profile", ValueType::String, kProfiles, "", "\"bsi-tr-02102-2\"", 0, 0, false,
     "a named preset of versions and ciphers"},
    {kRules, "require_client_cert", ValueType::Bool, {}, "false", "true", 0, 0, false,
     "refuse sessions whose client certificate the MTA did not verify"},
    {kRules, "cert_subjects", ValueType::StringArray, {}, "", "[\"mx1.acme.example\", \".acme.example\"]", 0, 0, false,
     "subject CNs of the verified client certificate: \"name\" that name, \".domain\" every name below it"},
    {kRules, "cert_issuers", ValueType::StringArray, {}, "", "[\"Acme Issuing CA 2\"]", 0, 0, false,
     "issuer CNs of the verified client certificate, exact but for case"},
    {kRules, "action", ValueType::String, kActions, "\"tempfail\"", "\"reject\"", 0, 0, false,
     "when a requirement fails: reject (5xx), tempfail (4xx) or annotate (accept, result=fail)"},
    {kRules, "reply", ValueType::String, {}, "", "\"acme.example mail must use TLS 1.2 or newer\"", 0, 0, false,
     "SMTP reply text instead of the generated one"},
}};
// clang-format on
static_assert(kKeys.back().key == "reply", "the array size must match the number of keys");
static_assert([] {
    for (std::size_t i = 0; i < kSections.size(); ++i)
        if (static_cast<std::size_t>(kSections[i].section) != i) return false;
    return true;
}(), "kSections must be in the order of enum Section");
static_assert(kKeys.size() <= 64, "the loader keeps per-key bitsets in a 64-bit word");

}  // namespace

std::span<const SectionDecl> schema_sections() { return kSections; }
std::span<const KeyDecl> schema() { return kKeys; }

const SectionDecl& section_decl(Section s) { return kSections[static_cast<std::size_t>(s)]; }

const SectionDecl* find_section(std::string_view name) {
    for (const SectionDecl& s : kSections)
        if (s.name == name) return &s;
    return nullptr;
}

const KeyDecl* find_key(Section s, std::string_view key) {
    for (const KeyDecl& k : kKeys)
        if (k.in(s) && k.key == key) return &k;
    return nullptr;
}

std::size_t key_index(const KeyDecl& k) { return static_cast<std::size_t>(&k - kKeys.data()); }

std::string section_header(Section s) {
    const SectionDecl& d = section_decl(s);
    return d.array ? "[[" + std::string(d.name) + "]]" : "[" + std::string(d.name) + "]";
}

std::string_view type_description(ValueType t) {
    switch (t) {
        case ValueType::String: return "a string";
        case ValueType::Bool: return "true or false";
        case ValueType::Integer: return "an integer";
        case ValueType::StringArray: return "an array of strings";
    }
    return "?";
}

}  // namespace tlspolicy
