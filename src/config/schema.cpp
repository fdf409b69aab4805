// The table of every policy file key. A key is added here, with its man
// page entry (man/tlspolicy-milter.toml.5) and a line in the sample config
// (conf/tlspolicy-milter.toml); the documentation test asks for both.
#include "config/schema.hpp"

#include <array>

#include "config/key_handlers.hpp"

namespace tlspolicy {
namespace {

using namespace key_handlers;

constexpr SectionSet kRules = section_bit(Section::Defaults) | section_bit(Section::Partner) |
                              section_bit(Section::Recipient);
constexpr SectionSet kNamedRules = section_bit(Section::Partner) | section_bit(Section::Recipient);
constexpr SectionSet only(Section s) { return section_bit(s); }

constexpr std::array<std::string_view, 2> kModes{"enforce", "monitor"};
constexpr std::array<std::string_view, 3> kActions{"reject", "tempfail", "annotate"};
constexpr std::array<std::string_view, 4> kVersions{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
// Must equal the names in all_profiles() (src/core/profile.cpp); a unit test checks.
constexpr std::array<std::string_view, 3> kProfiles{"bsi-tr-02102-2", "mozilla-modern", "mozilla-intermediate"};

constexpr std::array<SectionDecl, 8> kSections{{
    {Section::Milter, "milter", false, "how the milter talks to the MTA"},
    {Section::Header, "header", false, "the header stamped on every accepted message"},
    {Section::Stats, "stats", false, "Prometheus counters for node_exporter's textfile collector"},
    {Section::Observations, "observations", false, "the observation store behind `report`: SQLite or PostgreSQL"},
    {Section::Probe, "probe", false, "where the weekly probe of partners' servers keeps its results for `report`"},
    {Section::Defaults, "defaults", false, "requirements when no [[partner]] rule matches the session"},
    {Section::Partner, "partner", true, "a rule for who sends to us: clients, hostnames, senders"},
    {Section::Recipient, "recipient", true, "a rule for which of our recipients need protection"},
}};

// clang-format off
constexpr KeyDecl kKeys[] = {
    // [milter]
    {.sections = only(Section::Milter), .key = "socket", .type = ValueType::String,
     .default_toml = "\"unix:/run/tlspolicy-milter/milter.sock\"", .example_toml = "\"inet:8891@127.0.0.1\"",
     .doc = "where the MTA connects: unix:PATH, local:PATH, inet:PORT@HOST, inet6:PORT@HOST or an absolute path",
     .apply = set_socket, .show_setting = show_text<&Config::milter, &MilterSettings::socket>,
     .reload = Reload::Restart},
    {.sections = only(Section::Milter), .key = "mode", .type = ValueType::String, .choices = kModes,
     .default_toml = "\"enforce\"", .example_toml = "\"monitor\"",
     .doc = "enforce refuses what falls short; monitor only logs and stamps what would have happened",
     .apply = set_mode, .show_setting = show_mode},
    {.sections = only(Section::Milter), .key = "user", .type = ValueType::String, .example_toml = "\"tlspolicy-milter\"",
     .doc = "user to run as once the socket is open; default: stay the user it started as",
     .apply = set_user,
     .show_setting = [](const Config& c) {
         return c.milter.user.empty() ? std::string("(not set: stays the user it started as)") : c.milter.user; },
     .reload = Reload::Restart},
    {.sections = only(Section::Milter), .key = "socket_mode", .type = ValueType::String, .default_toml = "\"0660\"",
     .example_toml = "\"0660\"",
     .doc = "octal permission bits of a unix socket (its group is postfix when that group exists)",
     .apply = set_socket_mode, .show_setting = show_socket_mode, .reload = Reload::Restart,
     .wrong_type_hint = "write it in quotes, like \"0660\""},
    {.sections = only(Section::Milter), .key = "pidfile", .type = ValueType::String,
     .example_toml = "\"/run/tlspolicy-milter/pid\"", .doc = "absolute path to write the process id to; default: none",
     .apply = set_absolute_path<&Config::milter, &MilterSettings::pidfile>,
     .show_setting = [](const Config& c) { return c.milter.pidfile.empty() ? std::string("(not set)") : c.milter.pidfile; },
     .reload = Reload::Restart},
    {.sections = only(Section::Milter), .key = "timeout", .type = ValueType::Integer, .default_toml = "300",
     .example_toml = "300", .min = 1, .max = 86400, .doc = "seconds, libmilter I/O timeout",
     .apply = set_integer<&Config::milter, &MilterSettings::timeout>,
     .show_setting = [](const Config& c) { return std::to_string(c.milter.timeout) + " s"; },
     .reload = Reload::Restart},
    {.sections = only(Section::Milter), .key = "recipient_delimiter", .type = ValueType::String, .default_toml = "\"+\"",
     .example_toml = "\"+-\"",
     .doc = "characters that start an address extension at the MTA, like Postfix's recipient_delimiter",
     .apply = set_recipient_delimiter, .show_setting = show_recipient_delimiter},
    // [header]
    {.sections = only(Section::Header), .key = "name", .type = ValueType::String,
     .default_toml = "\"X-Transport-Security\"", .example_toml = "\"X-Transport-Security\"",
     .doc = "the header field name",
     .apply = set_header_name, .show_setting = show_text<&Config::header, &HeaderSettings::name>},
    {.sections = only(Section::Header), .key = "authserv_id", .type = ValueType::String,
     .example_toml = "\"mx.example.com\"", .doc = "the name that opens the header; default: the MTA's own name (macro j)",
     .apply = set_authserv_id,
     .show_setting = [](const Config& c) {
         return c.header.authserv_id.empty() ? std::string("(not set: the MTA's name, macro j)") : c.header.authserv_id; }},
    {.sections = only(Section::Header), .key = "strip_forged", .type = ValueType::Bool, .default_toml = "true",
     .example_toml = "true", .doc = "remove incoming copies of the header that carry our authserv_id",
     .apply = set_bool<&Config::header, &HeaderSettings::strip_forged>,
     .show_setting = show_bool<&Config::header, &HeaderSettings::strip_forged>},
    // [stats]
    {.sections = only(Section::Stats), .key = "file", .type = ValueType::String,
     .example_toml = "\"/var/lib/prometheus/node-exporter/tlspolicy_milter.prom\"",
     .doc = "absolute path of the Prometheus text file; default: no metrics",
     .apply = set_absolute_path<&Config::stats, &StatsSettings::file>,
     .show_setting = show_text<&Config::stats, &StatsSettings::file>},
    {.sections = only(Section::Stats), .key = "interval", .type = ValueType::Integer, .default_toml = "30",
     .example_toml = "30", .min = 1, .max = 86400, .doc = "seconds between atomic rewrites of the file",
     .apply = set_integer<&Config::stats, &StatsSettings::interval>,
     .show_setting = show_integer<&Config::stats, &StatsSettings::interval>},
    // [observations]
    {.sections = only(Section::Observations), .key = "database", .type = ValueType::String,
     .example_toml = "\"/var/lib/tlspolicy-milter/observations.sqlite\"",
     .doc = "absolute path of a SQLite file, or a postgresql:// URL; default: no store",
     .apply = set_observation_database,
     .show_setting = show_observation_database, .reload = Reload::Restart},
    {.sections = only(Section::Observations), .key = "keep_days", .type = ValueType::Integer, .default_toml = "90",
     .example_toml = "90", .min = 1, .max = 36500, .doc = "days of observations kept at least; older whole UTC months are deleted",
     .apply = set_integer<&Config::observations, &ObservationSettings::keep_days>,
     .show_setting = show_integer<&Config::observations, &ObservationSettings::keep_days>, .reload = Reload::Restart},
    {.sections = only(Section::Observations), .key = "host", .type = ValueType::String, .example_toml = "\"mx1\"",
     .doc = "the host name each observation and policy version is recorded under; default: the MTA's name (macro j)",
     .apply = set_observation_host,
     .show_setting = show_text<&Config::observations, &ObservationSettings::host>, .reload = Reload::Restart},
    {.sections = only(Section::Observations), .key = "spool", .type = ValueType::String,
     .default_toml = "\"/var/lib/tlspolicy-milter/observation-spool.sqlite\"",
     .example_toml = "\"/var/lib/tlspolicy-milter/observation-spool.sqlite\"",
     .doc = "absolute path of the local spool that holds observations while PostgreSQL is unreachable",
     .apply = set_observation_spool,
     .show_setting = show_text<&Config::observations, &ObservationSettings::spool>, .reload = Reload::Restart},
    {.sections = only(Section::Observations), .key = "spool_max_rows", .type = ValueType::Integer,
     .default_toml = "1000000", .example_toml = "1000000", .min = 100, .max = 100000000,
     .doc = "observations the spool holds at most; newer ones are dropped and counted",
     .apply = set_integer<&Config::observations, &ObservationSettings::spool_max_rows>,
     .show_setting = show_integer<&Config::observations, &ObservationSettings::spool_max_rows>, .reload = Reload::Restart},
    // [probe]
    {.sections = only(Section::Probe), .key = "directory", .type = ValueType::String,
     .example_toml = "\"/var/lib/tlspolicy-milter/probes\"",
     .doc = "absolute path of the directory the weekly probe writes RULE.json to; report --suggest and --evidence read it",
     .apply = set_absolute_path<&Config::probe, &ProbeSettings::directory>,
     .show_setting = show_text<&Config::probe, &ProbeSettings::directory>},
    // rule selectors
    {.sections = kNamedRules, .key = "name", .type = ValueType::String, .example_toml = "\"acme\"", .required = true,
     .doc = "the rule's name, unique, as the header and the logs show it (letters, digits, '.', '-', '_')",
     .role = KeyRole::Name, .apply = set_rule_name},
    {.sections = only(Section::Partner), .key = "clients", .type = ValueType::StringArray,
     .example_toml = "[\"203.0.113.0/24\", \"2001:db8::/32\"]",
     .doc = "client IP addresses or CIDR blocks, IPv4 and IPv6", .role = KeyRole::Selector, .apply = set_clients},
    {.sections = only(Section::Partner), .key = "hostnames", .type = ValueType::StringArray,
     .example_toml = "[\"mail.acme.example\", \".acme.example\"]",
     .doc = "verified client host names: \"example.com\" that name, \".example.com\" every name below it",
     .role = KeyRole::Selector, .apply = set_entries<&Rule::hostnames, false>},
    {.sections = only(Section::Partner), .key = "senders", .type = ValueType::StringArray,
     .example_toml = "[\"acme.example\", \".acme.example\", \"billing@acme.example\"]",
     .doc = "envelope senders: a domain, \".domain\" for its subdomains, or one address",
     .role = KeyRole::Selector, .apply = set_entries<&Rule::senders, true>},
    {.sections = only(Section::Recipient), .key = "recipients", .type = ValueType::StringArray,
     .example_toml = "[\"hr@example.com\", \"health.example.com\"]",
     .doc = "envelope recipients: a domain, \".domain\" for its subdomains, or one address",
     .role = KeyRole::Selector, .apply = set_entries<&Rule::recipients, true>},
    // requirements, shared by [defaults], [[partner]] and [[recipient]]
    {.sections = kRules, .key = "require_tls", .type = ValueType::Bool, .default_toml = "false", .example_toml = "true",
     .doc = "refuse plaintext sessions", .role = KeyRole::Requirement,
     .apply = set_requirement_bool<&Requirements::require_tls>, .show_rule = show_require_tls},
    {.sections = kRules, .key = "min_version", .type = ValueType::String, .choices = kVersions,
     .example_toml = "\"TLSv1.2\"", .doc = "oldest TLS version accepted", .role = KeyRole::TlsRequirement,
     .apply = set_min_version, .show_rule = show_min_version},
    {.sections = kRules, .key = "min_cipher_bits", .type = ValueType::Integer, .example_toml = "128", .min = 1,
     .max = 256, .doc = "fewest secret bits the cipher in use may have", .role = KeyRole::TlsRequirement,
     .apply = set_min_cipher_bits, .show_rule = show_min_cipher_bits},
    {.sections = kRules, .key = "ciphers", .type = ValueType::String, .example_toml = "\"ECDHE+AESGCM:ECDHE+CHACHA20\"",
     .doc = "OpenSSL cipher string: the ciphers allowed on TLS 1.2 and older", .role = KeyRole::TlsRequirement,
     .apply = set_ciphers, .show_rule = show_ciphers},
    {.sections = kRules, .key = "ciphersuites", .type = ValueType::String,
     .example_toml = "\"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256\"",
     .doc = "colon-separated TLS 1.3 cipher suites allowed", .role = KeyRole::TlsRequirement,
     .apply = set_ciphersuites, .show_rule = show_ciphersuites},
    {.sections = kRules, .key = "profile", .type = ValueType::String, .choices = kProfiles,
     .example_toml = "\"bsi-tr-02102-2\"", .doc = "a named preset of versions and ciphers",
     .role = KeyRole::TlsRequirement, .apply = set_profile, .show_rule = show_profile},
    {.sections = kRules, .key = "require_client_cert", .type = ValueType::Bool, .default_toml = "false",
     .example_toml = "true", .doc = "refuse sessions whose client certificate the MTA did not verify",
     .role = KeyRole::Requirement, .apply = set_require_client_cert, .show_rule = show_require_client_cert},
    {.sections = kRules, .key = "cert_subjects", .type = ValueType::StringArray,
     .example_toml = "[\"mx1.acme.example\", \".acme.example\"]",
     .doc = "subject CNs of the verified client certificate: \"name\" that name, \".domain\" every name below it",
     .role = KeyRole::CertName, .apply = set_cert_subjects, .show_rule = show_cert_subjects},
    {.sections = kRules, .key = "cert_issuers", .type = ValueType::StringArray, .example_toml = "[\"Acme Issuing CA 2\"]",
     .doc = "issuer CNs of the verified client certificate, exact but for case", .role = KeyRole::CertName,
     .apply = set_cert_issuers, .show_rule = show_cert_issuers},
    {.sections = kRules, .key = "action", .type = ValueType::String, .choices = kActions, .default_toml = "\"tempfail\"",
     .example_toml = "\"reject\"",
     .doc = "when a requirement fails: reject (5xx), tempfail (4xx) or annotate (accept, result=fail)",
     .role = KeyRole::Outcome, .apply = set_action, .show_rule = show_action},
    {.sections = kRules, .key = "reply", .type = ValueType::String,
     .example_toml = "\"acme.example mail must use TLS 1.2 or newer\"",
     .doc = "SMTP reply text instead of the generated one", .role = KeyRole::Outcome, .apply = set_reply,
     .show_rule = show_reply},
};
// clang-format on
static_assert([] {
    for (std::size_t i = 0; i < kSections.size(); ++i)
        if (static_cast<std::size_t>(kSections[i].section) != i) return false;
    return true;
}(), "kSections must be in the order of enum Section");
static_assert(std::size(kKeys) <= 64, "the loader keeps per-key bitsets in a 64-bit word");

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

std::size_t key_index(const KeyDecl& k) { return static_cast<std::size_t>(&k - kKeys); }

std::string section_header(Section s) {
    const SectionDecl& d = section_decl(s);
    return d.array ? "[[" + std::string(d.name) + "]]" : "[" + std::string(d.name) + "]";
}

std::string keys_by_section(std::span<const KeyDecl* const> keys) {
    std::string out;
    for (const SectionDecl& s : kSections) {
        std::string names;
        for (const KeyDecl* k : keys)
            if (k->in(s.section)) names += (names.empty() ? "" : ", ") + std::string(k->key);
        if (!names.empty()) out += (out.empty() ? "" : "; ") + section_header(s.section) + " " + names;
    }
    return out;
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
