// The policy core's decisions, one table row per sentence of the rules for
// matching and deciding in tlspolicy-milter.toml(5) (and the replies they produce).
#include <gtest/gtest.h>

#include "core/address.hpp"
#include "core/verdict.hpp"
#include "test_policy.hpp"

namespace tlspolicy {
namespace {

using namespace tlspolicy::testing;

Policy build_policy(Mode mode) {
    Policy p;
    p.mode = mode;
    p.defaults.name = "default";
    p.defaults.kind = RuleKind::Defaults;
    p.defaults.action = Action::Tempfail;  // require_tls = false: opportunistic
    auto partner = [&](const RuleSpec& s) { p.partners.push_back(make_rule(RuleKind::Partner, s)); };
    auto recipient = [&](const RuleSpec& s) { p.recipients.push_back(make_rule(RuleKind::Recipient, s)); };

    Requirements bits256;
    bits256.require_tls = true;
    bits256.min_cipher_bits = 256;
    Requirements ciphers;
    ciphers.ciphers = cipher_list({"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "FUTURE-CIPHER-X"});
    ciphers.ciphersuites = cipher_list({"TLS_AES_256_GCM_SHA384"});
    Requirements bsi;
    bsi.profile = find_profile("bsi-tr-02102-2");
    Requirements floor_only;  // min_version without require_tls: plaintext is not judged
    floor_only.min_version = TlsVersion::TLSv1_2;

    partner({.name = "acme",
             .clients = {"203.0.113.0/24", "2001:db8:acce::/48"},
             .hostnames = {"mail.acme.example", ".acme.example"},
             .senders = {"acme.example", ".acme.example"},
             .req = tls_at_least(TlsVersion::TLSv1_2),
             .action = Action::Reject});
    partner({.name = "billing", .senders = {"Billing@Globex.Example"}, .req = tls_at_least(TlsVersion::TLSv1_2), .action = Action::Reject});
    partner({.name = "globex-sub", .senders = {".globex.example"}, .req = tls_required(), .action = Action::Tempfail});
    partner({.name = "legacy", .clients = {"::ffff:198.51.100.0/120"}, .req = tls_at_least(TlsVersion::TLSv1_0), .action = Action::Annotate});
    partner({.name = "strict13", .hostnames = {"mx.strict.example"}, .req = tls_at_least(TlsVersion::TLSv1_3), .action = Action::Reject,
             .reply = "strict.example mail must use TLS 1.3, see contract 7.3"});
    partner({.name = "bits", .senders = {"bits.example"}, .req = bits256, .action = Action::Reject});
    partner({.name = "cipher", .senders = {"cipher.example"}, .req = ciphers, .action = Action::Tempfail});
    partner({.name = "bsi", .senders = {"bsi.example"}, .req = bsi, .action = Action::Reject});
    partner({.name = "v6only", .clients = {"2001:db8:6::/48"}, .req = tls_required(), .action = Action::Reject});
    partner({.name = "floor", .senders = {"floor.example"}, .req = floor_only, .action = Action::Reject});
    partner({.name = "open", .senders = {"open.example"}, .action = Action::Reject});
    partner({.name = "pct", .senders = {"pct.example"}, .req = tls_required(), .action = Action::Reject, .reply = "100% TLS\r\nplease"});
    recipient({.name = "hr", .recipients = {"hr@example.com", "health.example.com"}, .req = tls_at_least(TlsVersion::TLSv1_3), .action = Action::Reject});
    recipient({.name = "legal", .recipients = {".legal.example.com"}, .req = tls_required(), .action = Action::Tempfail});
    recipient({.name = "board", .recipients = {"board@example.com"}, .req = tls_required(), .action = Action::Annotate});
    recipient({.name = "hr-also", .recipients = {"hr@example.com"}, .req = tls_required(), .action = Action::Tempfail});
    p.build_indexes();
    return p;
}

const Policy& enforcing() {
    static const Policy p = build_policy(Mode::Enforce);
    return p;
}
const Policy& monitoring() {
    static const Policy p = build_policy(Mode::Monitor);
    return p;
}

struct Case {
    const char* name;
    const char* client;
    const char* hostname;
    const char* version;  // {tls_version}; "" plaintext
    const char* cipher;
    const char* bits;
    const char* sender;   // as the MTA hands it over
    const char* rcpt;     // nullptr: decide the sender stage
    const char* want_rules;
    const char* want_result;
    const char* want_decision;
    const char* want_reply;  // "" when no refusal
    Mode mode = Mode::Enforce;
};

constexpr const char* T12 = "TLSv1.2";
constexpr const char* C12 = "ECDHE-RSA-AES128-GCM-SHA256";
constexpr const char* C13 = "TLS_AES_256_GCM_SHA384";

const Case kCases[] = {
    // --- "example.com matches that domain only; .example.com every subdomain" ---
    {"domain_entry_matches_domain", "127.0.0.1", "", T12, C12, "128", "<x@acme.example>", nullptr, "acme", "pass", "accept", ""},
    {"dot_entry_matches_subdomain", "127.0.0.1", "", T12, C12, "128", "<x@eu.acme.example>", nullptr, "acme", "pass", "accept", ""},
    {"dot_entry_matches_deep_subdomain", "127.0.0.1", "", T12, C12, "128", "<x@a.b.c.acme.example>", nullptr, "acme", "pass", "accept", ""},
    {"dot_entry_not_the_domain_itself", "127.0.0.1", "", "", "", "", "<x@globex.example>", nullptr, "default", "none", "accept", ""},
    {"dot_entry_matches_only_subdomains", "127.0.0.1", "", "", "", "", "<x@mail.globex.example>", nullptr, "globex-sub", "fail", "tempfail", "450 4.7.10 TLS required for mail.globex.example (got plaintext)"},
    {"label_boundary_respected", "127.0.0.1", "", "", "", "", "<x@notglobex.example>", nullptr, "default", "none", "accept", ""},
    {"suffix_without_dot_no_match", "127.0.0.1", "", "", "", "", "<x@xacme.example>", nullptr, "default", "none", "accept", ""},
    {"parent_of_entry_no_match", "127.0.0.1", "", "", "", "", "<x@example>", nullptr, "default", "none", "accept", ""},
    {"other_tld_no_match", "127.0.0.1", "", "", "", "", "<x@acme.example.org>", nullptr, "default", "none", "accept", ""},
    // --- "An entry with @ matches that one address" ---
    {"address_entry_matches", "127.0.0.1", "", "TLSv1", "ECDHE-RSA-AES256-SHA", "256", "<billing@globex.example>", nullptr, "billing", "fail", "reject", "550 5.7.10 TLS 1.2 or newer required for globex.example (got TLS 1.0)"},
    {"address_entry_other_user", "127.0.0.1", "", "TLSv1", "ECDHE-RSA-AES256-SHA", "256", "<sales@globex.example>", nullptr, "default", "none", "accept", ""},
    {"address_entry_not_subdomain", "127.0.0.1", "", "", "", "", "<billing@eu.globex.example>", nullptr, "globex-sub", "fail", "tempfail", "450 4.7.10 TLS required for eu.globex.example (got plaintext)"},
    {"address_entry_passes_with_tls12", "127.0.0.1", "", T12, C12, "128", "<billing@globex.example>", nullptr, "billing", "pass", "accept", ""},
    // --- "Comparison is case-insensitive" ---
    {"case_insensitive_sender_domain", "127.0.0.1", "", "", "", "", "<X@ACME.Example>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS required for acme.example (got plaintext)"},
    {"case_insensitive_address", "127.0.0.1", "", T12, C12, "128", "<BILLING@GLOBEX.EXAMPLE>", nullptr, "billing", "pass", "accept", ""},
    {"case_insensitive_entry_written_upper", "127.0.0.1", "", "TLSv1.1", "ECDHE-RSA-AES256-SHA", "256", "<billing@globex.example>", nullptr, "billing", "fail", "reject", "550 5.7.10 TLS 1.2 or newer required for globex.example (got TLS 1.1)"},
    {"case_insensitive_hostname", "127.0.0.1", "MAIL.ACME.EXAMPLE", "", "", "", "<a@b.example>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS required for b.example (got plaintext)"},
    {"trailing_dot_domain", "127.0.0.1", "", "", "", "", "<x@acme.example.>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS required for acme.example (got plaintext)"},
    {"source_route_ignored", "127.0.0.1", "", "", "", "", "<@relay.example:x@acme.example>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS required for acme.example (got plaintext)"},
    // --- "The null sender <> matches no sender entry" ---
    {"null_sender_defaults", "127.0.0.1", "", "", "", "", "<>", nullptr, "default", "none", "accept", ""},
    {"null_sender_still_matches_client", "203.0.113.9", "", "", "", "", "<>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS required for 203.0.113.9 (got plaintext)"},
    {"null_sender_still_matches_hostname", "127.0.0.1", "mx.strict.example", T12, C12, "128", "<>", nullptr, "strict13", "fail", "reject", "550 5.7.10 strict.example mail must use TLS 1.3, see contract 7.3"},
    {"bare_sender_without_domain", "127.0.0.1", "", "", "", "", "<postmaster>", nullptr, "default", "none", "accept", ""},
    // --- "A [[partner]] rule applies when any of its clients, hostnames or senders matches" ---
    {"partner_by_client_only", "203.0.113.50", "", "TLSv1", "ECDHE-RSA-AES256-SHA", "256", "<x@unrelated.example>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS 1.2 or newer required for unrelated.example (got TLS 1.0)"},
    {"partner_by_hostname_only", "127.0.0.1", "mail.acme.example", "TLSv1", "ECDHE-RSA-AES256-SHA", "256", "<x@unrelated.example>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS 1.2 or newer required for unrelated.example (got TLS 1.0)"},
    {"partner_by_hostname_subdomain", "127.0.0.1", "out3.eu.acme.example", T12, C12, "128", "<x@unrelated.example>", nullptr, "acme", "pass", "accept", ""},
    {"hostname_entry_exact_only", "127.0.0.1", "strict.example", "", "", "", "<x@unrelated.example>", nullptr, "default", "none", "accept", ""},
    {"hostname_unknown_is_no_hostname", "127.0.0.1", "unknown", "", "", "", "<x@unrelated.example>", nullptr, "default", "none", "accept", ""},
    {"hostname_bracket_literal_ignored", "127.0.0.1", "[203.0.113.1]", "", "", "", "<x@unrelated.example>", nullptr, "default", "none", "accept", ""},
    {"partner_by_sender_only", "127.0.0.1", "", T12, C12, "128", "<x@acme.example>", nullptr, "acme", "pass", "accept", ""},
    {"partner_by_all_selectors_once", "203.0.113.1", "mail.acme.example", T12, C12, "128", "<x@acme.example>", nullptr, "acme", "pass", "accept", ""},
    // --- CIDRs, IPv4 and IPv6, IPv4-mapped IPv6 client addresses ---
    {"cidr_v4_first", "203.0.113.0", "", "", "", "", "<a@b.example>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS required for b.example (got plaintext)"},
    {"cidr_v4_last", "203.0.113.255", "", "", "", "", "<a@b.example>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS required for b.example (got plaintext)"},
    {"cidr_v4_outside", "203.0.114.0", "", "", "", "", "<a@b.example>", nullptr, "default", "none", "accept", ""},
    {"cidr_v4_below", "203.0.112.255", "", "", "", "", "<a@b.example>", nullptr, "default", "none", "accept", ""},
    {"cidr_v6_inside", "2001:db8:acce:ffff::25", "", "", "", "", "<a@b.example>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS required for b.example (got plaintext)"},
    {"cidr_v6_outside", "2001:db8:accf::25", "", "", "", "", "<a@b.example>", nullptr, "default", "none", "accept", ""},
    {"cidr_v6_other_rule", "2001:db8:6:1::1", "", "", "", "", "<a@b.example>", nullptr, "v6only", "fail", "reject", "550 5.7.10 TLS required for b.example (got plaintext)"},
    {"client_mapped_v6_matches_v4_block", "::ffff:203.0.113.7", "", "", "", "", "<a@b.example>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS required for b.example (got plaintext)"},
    {"client_mapped_v6_upper_hex", "::FFFF:203.0.113.7", "", "", "", "", "<a@b.example>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS required for b.example (got plaintext)"},
    {"mapped_entry_matches_v4_client", "198.51.100.20", "", "", "", "", "<a@b.example>", nullptr, "legacy", "fail", "accept", ""},
    {"mapped_entry_matches_mapped_client", "::ffff:198.51.100.20", "", "TLSv1", "AES128-SHA", "128", "<a@b.example>", nullptr, "legacy", "pass", "accept", ""},
    {"v4_client_not_in_v6_block", "32.1.13.184", "", "", "", "", "<a@b.example>", nullptr, "default", "none", "accept", ""},
    {"bracketed_client_address", "[203.0.113.3]", "", "", "", "", "<a@b.example>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS required for b.example (got plaintext)"},
    {"no_client_address", "", "", "", "", "", "<a@b.example>", nullptr, "default", "none", "accept", ""},
    // --- "[defaults] applies only when no partner rule matches" ---
    {"defaults_when_nothing_matches", "192.0.2.1", "mx.other.example", T12, C12, "128", "<a@other.example>", nullptr, "default", "none", "accept", ""},
    {"partner_replaces_defaults", "127.0.0.1", "", T12, C12, "128", "<x@acme.example>", nullptr, "acme", "pass", "accept", ""},
    // --- "Every rule that applies must be satisfied; the most severe action wins" ---
    {"two_partners_both_apply", "198.51.100.1", "", T12, C12, "128", "<billing@globex.example>", nullptr, "billing,legacy", "pass", "accept", ""},
    {"reject_beats_annotate", "198.51.100.1", "", "", "", "", "<billing@globex.example>", nullptr, "billing,legacy", "fail", "reject", "550 5.7.10 TLS required for globex.example (got plaintext)"},
    {"tempfail_beats_annotate", "198.51.100.1", "", "", "", "", "<x@eu.globex.example>", nullptr, "globex-sub,legacy", "fail", "tempfail", "450 4.7.10 TLS required for eu.globex.example (got plaintext)"},
    {"reject_beats_tempfail", "203.0.113.1", "", "", "", "", "<x@eu.globex.example>", nullptr, "acme,globex-sub", "fail", "reject", "550 5.7.10 TLS required for eu.globex.example (got plaintext)"},
    {"one_fails_one_passes", "198.51.100.1", "", "TLSv1", "AES128-SHA", "128", "<billing@globex.example>", nullptr, "billing,legacy", "fail", "reject", "550 5.7.10 TLS 1.2 or newer required for globex.example (got TLS 1.0)"},
    {"annotate_only_accepts_with_fail", "198.51.100.1", "", "", "", "", "<a@b.example>", nullptr, "legacy", "fail", "accept", ""},
    // --- "Requirements on the cipher apply to TLS sessions; require_tls decides plaintext" ---
    {"min_version_alone_ignores_plaintext", "127.0.0.1", "", "", "", "", "<a@floor.example>", nullptr, "floor", "none", "accept", ""},
    {"min_version_alone_judges_tls", "127.0.0.1", "", "TLSv1.1", "AES128-SHA", "128", "<a@floor.example>", nullptr, "floor", "fail", "reject", "550 5.7.10 TLS 1.2 or newer required for floor.example (got TLS 1.1)"},
    {"min_version_exact_passes", "127.0.0.1", "", T12, C12, "128", "<a@floor.example>", nullptr, "floor", "pass", "accept", ""},
    {"min_version_newer_passes", "127.0.0.1", "", "TLSv1.3", C13, "256", "<a@floor.example>", nullptr, "floor", "pass", "accept", ""},
    {"rule_without_requirements_none", "127.0.0.1", "", "", "", "", "<a@open.example>", nullptr, "open", "none", "accept", ""},
    {"min_cipher_bits_fails", "127.0.0.1", "", "TLSv1.3", "TLS_AES_128_GCM_SHA256", "128", "<a@bits.example>", nullptr, "bits", "fail", "reject", "550 5.7.10 a cipher of 256 bits or more required for bits.example (got 128 bits)"},
    {"min_cipher_bits_passes", "127.0.0.1", "", "TLSv1.3", C13, "256", "<a@bits.example>", nullptr, "bits", "pass", "accept", ""},
    {"min_cipher_bits_missing_macro_fails", "127.0.0.1", "", "TLSv1.3", C13, "", "<a@bits.example>", nullptr, "bits", "fail", "reject", "550 5.7.10 a cipher of 256 bits or more required for bits.example (got 0 bits)"},
    {"min_cipher_bits_plaintext_require_tls", "127.0.0.1", "", "", "", "", "<a@bits.example>", nullptr, "bits", "fail", "reject", "550 5.7.10 TLS required for bits.example (got plaintext)"},
    {"ciphers_allowed_tls12", "127.0.0.1", "", T12, C12, "128", "<a@cipher.example>", nullptr, "cipher", "pass", "accept", ""},
    {"ciphers_refused_tls12", "127.0.0.1", "", T12, "ECDHE-RSA-AES128-SHA", "128", "<a@cipher.example>", nullptr, "cipher", "fail", "tempfail", "450 4.7.10 an allowed TLS cipher required for cipher.example (got ECDHE-RSA-AES128-SHA)"},
    {"ciphers_unknown_literal_matches", "127.0.0.1", "", T12, "FUTURE-CIPHER-X", "256", "<a@cipher.example>", nullptr, "cipher", "pass", "accept", ""},
    {"ciphers_case_sensitive_names", "127.0.0.1", "", T12, "ecdhe-rsa-aes128-gcm-sha256", "128", "<a@cipher.example>", nullptr, "cipher", "fail", "tempfail", "450 4.7.10 an allowed TLS cipher required for cipher.example (got ecdhe-rsa-aes128-gcm-sha256)"},
    {"ciphersuites_allowed_tls13", "127.0.0.1", "", "TLSv1.3", C13, "256", "<a@cipher.example>", nullptr, "cipher", "pass", "accept", ""},
    {"ciphersuites_refused_tls13", "127.0.0.1", "", "TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256", "256", "<a@cipher.example>", nullptr, "cipher", "fail", "tempfail", "450 4.7.10 an allowed TLS 1.3 cipher suite required for cipher.example (got TLS_CHACHA20_POLY1305_SHA256)"},
    {"ciphers_plaintext_not_judged", "127.0.0.1", "", "", "", "", "<a@cipher.example>", nullptr, "cipher", "none", "accept", ""},
    {"profile_bsi_tls12_gcm_passes", "127.0.0.1", "", T12, C12, "128", "<a@bsi.example>", nullptr, "bsi", "pass", "accept", ""},
    {"profile_bsi_tls12_chacha_fails", "127.0.0.1", "", T12, "ECDHE-RSA-CHACHA20-POLY1305", "256", "<a@bsi.example>", nullptr, "bsi", "fail", "reject", "550 5.7.10 a cipher of profile bsi-tr-02102-2 required for bsi.example (got ECDHE-RSA-CHACHA20-POLY1305)"},
    {"profile_bsi_tls10_fails_version", "127.0.0.1", "", "TLSv1", "ECDHE-RSA-AES256-SHA", "256", "<a@bsi.example>", nullptr, "bsi", "fail", "reject", "550 5.7.10 TLS 1.2 or newer (profile bsi-tr-02102-2) required for bsi.example (got TLS 1.0)"},
    {"profile_bsi_tls13_gcm_passes", "127.0.0.1", "", "TLSv1.3", "TLS_AES_128_GCM_SHA256", "128", "<a@bsi.example>", nullptr, "bsi", "pass", "accept", ""},
    {"profile_bsi_tls13_chacha_fails", "127.0.0.1", "", "TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256", "256", "<a@bsi.example>", nullptr, "bsi", "fail", "reject", "550 5.7.10 a cipher of profile bsi-tr-02102-2 required for bsi.example (got TLS_CHACHA20_POLY1305_SHA256)"},
    {"profile_plaintext_not_judged", "127.0.0.1", "", "", "", "", "<a@bsi.example>", nullptr, "bsi", "none", "accept", ""},
    // --- version strings: TLSv1 ... TLSv1.3, TLSv1/SSLv3, SSLv3, NULL/empty ---
    {"version_tlsv1", "203.0.113.1", "", "TLSv1", "AES128-SHA", "128", "<a@b.example>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS 1.2 or newer required for b.example (got TLS 1.0)"},
    {"version_tlsv1_1", "203.0.113.1", "", "TLSv1.1", "AES128-SHA", "128", "<a@b.example>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS 1.2 or newer required for b.example (got TLS 1.1)"},
    {"version_tlsv1_2", "203.0.113.1", "", "TLSv1.2", C12, "128", "<a@b.example>", nullptr, "acme", "pass", "accept", ""},
    {"version_tlsv1_3", "203.0.113.1", "", "TLSv1.3", C13, "256", "<a@b.example>", nullptr, "acme", "pass", "accept", ""},
    {"version_sendmail_legacy", "203.0.113.1", "", "TLSv1/SSLv3", "DHE-RSA-AES256-SHA", "256", "<a@b.example>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS 1.2 or newer required for b.example (got TLS 1.0)"},
    {"version_sendmail_legacy_meets_tlsv1", "198.51.100.3", "", "TLSv1/SSLv3", "DHE-RSA-AES256-SHA", "256", "<a@b.example>", nullptr, "legacy", "pass", "accept", ""},
    {"version_sslv3_below_tlsv1", "198.51.100.3", "", "SSLv3", "DES-CBC3-SHA", "112", "<a@b.example>", nullptr, "legacy", "fail", "accept", ""},
    {"version_unknown_fails_min_version", "203.0.113.1", "", "TLSv9", "X", "128", "<a@b.example>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS 1.2 or newer required for b.example (got TLS version 'TLSv9')"},
    {"version_unknown_satisfies_require_tls", "127.0.0.1", "", "TLSv9", "X", "128", "<a@eu.globex.example>", nullptr, "globex-sub", "pass", "accept", ""},
    {"version_empty_is_plaintext", "203.0.113.1", "", "", "ECDHE-RSA-AES256-SHA", "256", "<a@b.example>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS required for b.example (got plaintext)"},
    // --- replies: reply override, sanitising ---
    {"reply_override", "127.0.0.1", "mx.strict.example", T12, C12, "128", "<a@strict.example>", nullptr, "strict13", "fail", "reject", "550 5.7.10 strict.example mail must use TLS 1.3, see contract 7.3"},
    {"reply_override_sanitised", "127.0.0.1", "", "", "", "", "<a@pct.example>", nullptr, "pct", "fail", "reject", "550 5.7.10 100% TLS??please"},
    {"reply_sender_domain_sanitised", "203.0.113.1", "", "", "", "", "<a@b.example\r\nX>", nullptr, "acme", "fail", "reject", "550 5.7.10 TLS required for b.example??x (got plaintext)"},
    // --- recipient rules: decided per RCPT TO, in addition to the sender side ---
    {"recipient_rule_address", "127.0.0.1", "", T12, C12, "128", "<x@acme.example>", "<hr@example.com>", "hr,hr-also", "fail", "reject", "550 5.7.10 TLS 1.3 or newer required for hr@example.com (got TLS 1.2)"},
    {"recipient_rule_address_passes", "127.0.0.1", "", "TLSv1.3", C13, "256", "<x@acme.example>", "<HR@Example.COM>", "hr,hr-also", "pass", "accept", ""},
    {"recipient_rule_domain", "127.0.0.1", "", "", "", "", "<>", "<nurse@health.example.com>", "hr", "fail", "reject", "550 5.7.10 TLS required for nurse@health.example.com (got plaintext)"},
    {"recipient_domain_entry_not_subdomain", "127.0.0.1", "", "", "", "", "<>", "<x@ward.health.example.com>", "", "none", "accept", ""},
    {"recipient_subdomain_entry", "127.0.0.1", "", "", "", "", "<>", "<x@ny.legal.example.com>", "legal", "fail", "tempfail", "450 4.7.10 TLS required for x@ny.legal.example.com (got plaintext)"},
    {"recipient_without_rule", "127.0.0.1", "", "", "", "", "<x@acme.example>", "<bob@example.com>", "", "none", "accept", ""},
    {"recipient_annotate", "127.0.0.1", "", "", "", "", "<>", "<board@example.com>", "board", "fail", "accept", ""},
    {"recipient_most_severe_of_two", "127.0.0.1", "", "", "", "", "<>", "<hr@example.com>", "hr,hr-also", "fail", "reject", "550 5.7.10 TLS required for hr@example.com (got plaintext)"},
    // --- mode = "monitor": never refuses ---
    {"monitor_reject_becomes_accept", "203.0.113.1", "", "TLSv1", "AES128-SHA", "128", "<a@b.example>", nullptr, "acme", "fail", "accept", "550 5.7.10 TLS 1.2 or newer required for b.example (got TLS 1.0)", Mode::Monitor},
    {"monitor_tempfail_becomes_accept", "127.0.0.1", "", "", "", "", "<a@eu.globex.example>", nullptr, "globex-sub", "fail", "accept", "450 4.7.10 TLS required for eu.globex.example (got plaintext)", Mode::Monitor},
    {"monitor_recipient_accept", "127.0.0.1", "", T12, C12, "128", "<>", "<hr@example.com>", "hr,hr-also", "fail", "accept", "550 5.7.10 TLS 1.3 or newer required for hr@example.com (got TLS 1.2)", Mode::Monitor},
    {"monitor_pass_stays_pass", "203.0.113.1", "", T12, C12, "128", "<a@b.example>", nullptr, "acme", "pass", "accept", "", Mode::Monitor},
};

std::string rule_names(const Verdict& v) {
    std::string s;
    for (const RuleOutcome& o : v.rules) s += (s.empty() ? "" : ",") + o.rule->name;
    return s;
}

class PolicyCase : public ::testing::TestWithParam<Case> {};

TEST_P(PolicyCase, Decides) {
    const Case& c = GetParam();
    const Policy& policy = c.mode == Mode::Monitor ? monitoring() : enforcing();
    CipherInfo info;  // the core does not need the cipher table to decide
    SessionFacts s = make_session(c.client, c.hostname, make_tls_facts(c.version, c.cipher, c.bits, "", info));
    std::string sender = normalize_address(c.sender);
    Verdict v = c.rcpt ? decide_recipient(policy, s, normalize_address(c.rcpt)) : decide_sender(policy, s, sender);
    EXPECT_EQ(rule_names(v), c.want_rules) << "rules: got " << rule_names(v) << ", want " << c.want_rules;
    EXPECT_EQ(word(v.result), c.want_result);
    EXPECT_EQ(word(v.decision), c.want_decision);
    EXPECT_EQ(v.reply ? v.reply->line() : "", c.want_reply);
    if (c.mode == Mode::Monitor) {
        EXPECT_EQ(v.monitored(), v.reply.has_value()) << "monitor mode must flag what it let through";
    }
}

INSTANTIATE_TEST_SUITE_P(Spec, PolicyCase, ::testing::ValuesIn(kCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// "Several messages on one connection are each decided afresh": the core keeps
// no state between decisions, so the same session gives each sender its own.
TEST(PolicyDecision, SameSessionDifferentSendersDecidedAfresh) {
    SessionFacts s = make_session("127.0.0.1", "", make_tls_facts("TLSv1", "AES128-SHA", "128", "", {}));
    EXPECT_EQ(decide_sender(enforcing(), s, "billing@globex.example").decision, Decision::Reject);
    EXPECT_EQ(decide_sender(enforcing(), s, "friend@other.example").decision, Decision::Accept);
    EXPECT_EQ(decide_sender(enforcing(), s, "billing@globex.example").decision, Decision::Reject);
}

TEST(PolicyDecision, MatchesSayWhichEntryMatched) {
    SessionFacts s = make_session("203.0.113.5", "mail.acme.example", {});
    Verdict v = decide_sender(enforcing(), s, "x@eu.acme.example");
    ASSERT_EQ(v.rules.size(), 1u);
    const auto& m = v.rules[0].matched_by;
    ASSERT_EQ(m.size(), 4u);  // every entry that matched, for explain
    EXPECT_EQ(m[0].selector, Selector::Client);
    EXPECT_EQ(m[0].entry, 0u);
    EXPECT_EQ(m[1].selector, Selector::Hostname);
    EXPECT_EQ(m[1].entry, 0u);  // mail.acme.example exactly
    EXPECT_EQ(m[2].selector, Selector::Hostname);
    EXPECT_EQ(m[2].entry, 1u);  // and .acme.example
    EXPECT_EQ(m[3].selector, Selector::Sender);
    EXPECT_EQ(m[3].entry, 1u);  // .acme.example, not acme.example
}

TEST(PolicyDecision, EveryRequirementIsReported) {
    SessionFacts s = make_session("127.0.0.1", "", make_tls_facts("TLSv1.1", "AES128-SHA", "128", "", {}));
    Verdict v = decide_sender(enforcing(), s, "billing@globex.example");
    ASSERT_EQ(v.rules.size(), 1u);
    ASSERT_EQ(v.rules[0].checks.size(), 2u);
    EXPECT_EQ(v.rules[0].checks[0].check, Check::RequireTls);
    EXPECT_TRUE(v.rules[0].checks[0].passed);
    EXPECT_EQ(v.rules[0].checks[1].check, Check::MinVersion);
    EXPECT_FALSE(v.rules[0].checks[1].passed);
}

}  // namespace
}  // namespace tlspolicy
