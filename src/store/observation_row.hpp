// One observation as a row of either backend: the same columns in the same
// order for SQLite (schema 3) and PostgreSQL, each spelled by the word tables
// of the core (core/words.hpp) or by the functions below, so that both store
// and read every fact alike. No database API here: the backends bind and
// fetch the values put_row and get_row hand them.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"
#include "store/observation.hpp"

namespace tlspolicy::store {

// Rows written before Stage::Message existed spell the end of message "mail":
// they read as Mail, which report takes as the sender side, as it always did.
// Any other unknown word reads as Mail too.
Stage parse_stage(std::string_view text);
// The rules column, "acme,hr". Schemas 1 and 2 keep no kinds: "default" reads
// as the [defaults] rule, every other name as a partner rule.
std::vector<RuleRef> parse_rules(std::string_view text);
// The rule_refs column (schema 3, and PostgreSQL): each rule with its kind, in
// order, "partner:acme,recipient:hr". Rule names hold no ':' or ','.
std::string rule_refs_text(std::span<const RuleRef> rules);
std::vector<RuleRef> parse_rule_refs(std::string_view text);
TlsVersion parse_version(std::string_view header_name);  // "TLS1_2" -> TLSv1_2; unknown words: Unknown
// Unknown words read as the first value of each table: none, none, accept.
CertStatus parse_cert_status(std::string_view text);
Result parse_result(std::string_view text);
Decision parse_decision(std::string_view text);

inline constexpr int kRowColumns = 21;
inline constexpr const char* kRowColumnList =
    "time, stage, queue_id, client, hostname, sender, sender_domain, recipient, rules, tls_version, cipher,"
    " cipher_bits, alg_bits, result, action, would, cert_status, cert_subject, cert_issuer, rule_refs, host";

// Calls put(index, value) for each column, index 0..kRowColumns-1, value a
// std::string_view or a std::int64_t.
template <class Put>
void put_row(const Observation& o, Put&& put) {
    put(0, std::int64_t{o.time});
    put(1, word(o.stage));
    put(2, std::string_view(o.queue_id));
    put(3, std::string_view(o.client));
    put(4, std::string_view(o.hostname));
    put(5, std::string_view(o.sender));
    const std::string domain(address_domain(o.sender));
    put(6, std::string_view(domain));
    put(7, std::string_view(o.recipient));
    const std::string names = rule_names(o.rules);  // the header's policy=, for readers of the column
    put(8, std::string_view(names));
    put(9, header_name(o.version));
    put(10, std::string_view(o.cipher));
    put(11, std::int64_t{o.cipher_bits});
    put(12, std::int64_t{o.alg_bits});
    put(13, word(o.result));
    put(14, word(o.action));
    put(15, word(o.would));
    put(16, word(o.cert.status));
    put(17, std::string_view(o.cert.subject_cn));
    put(18, std::string_view(o.cert.issuer_cn));
    const std::string refs = rule_refs_text(o.rules);
    put(19, std::string_view(refs));
    put(20, std::string_view(o.host));
}

// The reverse, from a row selected with kRowColumnList (sender_domain is read
// and ignored). get.text(i), get.integer(i), get.null(i) read column i.
// A NULL rule_refs is a row of SQLite schemas 1-2: names only.
template <class Get>
void get_row(const Get& get, Observation& o) {
    o.time = get.integer(0);
    o.stage = parse_stage(get.text(1));
    o.queue_id = get.text(2);
    o.client = get.text(3);
    o.hostname = get.text(4);
    o.sender = get.text(5);
    o.recipient = get.text(7);
    o.rule_kinds_known = !get.null(19);
    o.rules = o.rule_kinds_known ? parse_rule_refs(get.text(19)) : parse_rules(get.text(8));
    o.version = parse_version(get.text(9));
    o.cipher = get.text(10);
    o.cipher_bits = static_cast<int>(get.integer(11));
    o.alg_bits = static_cast<int>(get.integer(12));
    o.result = parse_result(get.text(13));
    o.action = parse_decision(get.text(14));
    o.would = parse_decision(get.text(15));
    o.cert.status = parse_cert_status(get.text(16));
    o.cert.subject_cn = get.text(17);
    o.cert.issuer_cn = get.text(18);
    o.host = get.text(20);
}

}  // namespace tlspolicy::store
