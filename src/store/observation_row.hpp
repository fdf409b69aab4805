// One observation as a row of either backend, and the one table of its
// columns: name, type, the value rows written before the column existed
// read as, and how the column enters each summary's key. Both backends, their
// migrations (a column missing from a database is added with its fill; a
// summary whose key changed is rebuilt from the raw rows) and the summaries'
// SQL (store/summary_sql.hpp) are made from this table: a new fact is one
// line in kColumns. Each value is spelled by the word tables of the core
// (core/words.hpp) or the functions below. No database API here: backends
// bind and fetch the Cells put_row and get_columns exchange.
#pragma once
#include <array>
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
// Unknown words read as the first value of each table: none, none, accept, inbound.
CertStatus parse_cert_status(std::string_view text);
Result parse_result(std::string_view text);
Decision parse_decision(std::string_view text);
Direction parse_direction(std::string_view text);

// An outbound fact's word; "" in an inbound row, which has no such fact.
template <class E>
std::string_view outbound_word(const Observation& o, E value) {
    return o.direction == Direction::Outbound ? word(value) : std::string_view();
}

// A value as a backend binds or fetches it: an integer or a text (a view:
// valid until the next value is made or the next row fetched), or NULL.
struct Cell {
    std::int64_t integer = 0;
    std::string_view text{};
    bool null = false;
};

enum class ColumnType : std::uint8_t { Integer, Text };

// The summaries kept beside the raw rows, maintained as rows are written
// (each batch upserts them) and read by `report`: each counts the rows of
// one key, with the first and last time. Their grain, and why three:
//   Rules:   per day, host, direction and rule list, the TLS facts and what
//            was done: `report`'s rule, host and chart tables and every
//            number of --evidence. Grows with rules x days x hosts x facts.
//   Domains: per day, host, direction and sending domain, the TLS facts:
//            `report`'s domain table. Grows with domains x days x hosts.
//   Senders: per day, host and direction, every fact a selector or a
//            requirement can test (client, verified hostname, sender,
//            recipient of a RCPT row, TLS and certificate facts): --against
//            judges each again, exactly. Grows with the distinct senders and
//            their clients per day.
enum class Summary : std::uint8_t { Rules, Domains, Senders };
inline constexpr std::array kSummaries{Summary::Rules, Summary::Domains, Summary::Senders};
std::string_view summary_table(Summary s);  // "summary_rules", ...

// How a column enters a summary's key.
enum class Key : std::uint8_t {
    No,      // not at all: the summary adds rows that differ in it
    AsIs,    // as it is
    Day,     // time: the start of its UTC day (unix seconds), as column "day"
    Domain,  // sender: "@" and its domain; "" for <> (domain_name() reads it as the sender did)
    Marked,  // rule_refs: "?" where NULL (rows of SQLite schemas 1-2, which kept names only)
};

struct Column {
    std::string_view name;
    ColumnType type;
    // What rows written before the column existed hold, as SQL: the DEFAULT of
    // the column a migration adds, and what a reader of an older database
    // reads. "" for the columns of the first schema, which every database has.
    std::string_view fill;
    std::array<Key, kSummaries.size()> keys;  // in the Rules, Domains and Senders summaries
    Cell (*put)(const Observation& o, std::string& scratch);  // scratch: storage for a made-up text
    void (*get)(Observation& o, const Cell& c);
};

namespace columns {
constexpr Key N = Key::No, A = Key::AsIs;
constexpr Cell text(std::string_view t) { return {0, t, false}; }
constexpr Cell integer(std::int64_t i) { return {i, {}, false}; }
}  // namespace columns

// In the order of the tables on disk (SQLite appends what a migration adds).
inline constexpr Column kColumns[] = {
    {"time", ColumnType::Integer, "", {Key::Day, Key::Day, Key::Day},
     [](const Observation& o, std::string&) { return columns::integer(o.time); },
     [](Observation& o, const Cell& c) { o.time = c.integer; }},
    {"stage", ColumnType::Text, "", {columns::A, columns::A, columns::A},
     [](const Observation& o, std::string&) { return columns::text(word(o.stage)); },
     [](Observation& o, const Cell& c) { o.stage = parse_stage(c.text); }},
    {"queue_id", ColumnType::Text, "", {columns::N, columns::N, columns::N},
     [](const Observation& o, std::string&) { return columns::text(o.queue_id); },
     [](Observation& o, const Cell& c) { o.queue_id = c.text; }},
    {"client", ColumnType::Text, "", {columns::N, columns::N, columns::A},
     [](const Observation& o, std::string&) { return columns::text(o.client); },
     [](Observation& o, const Cell& c) { o.client = c.text; }},
    {"hostname", ColumnType::Text, "", {columns::N, columns::N, columns::A},
     [](const Observation& o, std::string&) { return columns::text(o.hostname); },
     [](Observation& o, const Cell& c) { o.hostname = c.text; }},
    {"sender", ColumnType::Text, "", {columns::N, Key::Domain, columns::A},
     [](const Observation& o, std::string&) { return columns::text(o.sender); },
     [](Observation& o, const Cell& c) { o.sender = c.text; }},
    {"sender_domain", ColumnType::Text, "", {columns::N, columns::N, columns::N},  // written for SQL readers; read from sender
     [](const Observation& o, std::string&) { return columns::text(address_domain(o.sender)); },
     [](Observation&, const Cell&) {}},
    {"recipient", ColumnType::Text, "", {columns::N, columns::N, columns::A},
     [](const Observation& o, std::string&) { return columns::text(o.recipient); },
     [](Observation& o, const Cell& c) { o.recipient = c.text; }},
    {"rules", ColumnType::Text, "", {columns::A, columns::N, columns::N},  // the header's policy=; before rule_refs
     [](const Observation& o, std::string& s) { return columns::text(s = rule_names(o.rules)); },
     [](Observation& o, const Cell& c) {
         o.rules = parse_rules(c.text);
         o.rule_kinds_known = false;
     }},
    {"tls_version", ColumnType::Text, "", {columns::A, columns::A, columns::A},
     [](const Observation& o, std::string&) { return columns::text(header_name(o.version)); },
     [](Observation& o, const Cell& c) { o.version = parse_version(c.text); }},
    {"cipher", ColumnType::Text, "", {columns::A, columns::A, columns::A},
     [](const Observation& o, std::string&) { return columns::text(o.cipher); },
     [](Observation& o, const Cell& c) { o.cipher = c.text; }},
    {"cipher_bits", ColumnType::Integer, "", {columns::A, columns::A, columns::A},
     [](const Observation& o, std::string&) { return columns::integer(o.cipher_bits); },
     [](Observation& o, const Cell& c) { o.cipher_bits = static_cast<int>(c.integer); }},
    {"alg_bits", ColumnType::Integer, "", {columns::N, columns::N, columns::A},
     [](const Observation& o, std::string&) { return columns::integer(o.alg_bits); },
     [](Observation& o, const Cell& c) { o.alg_bits = static_cast<int>(c.integer); }},
    {"result", ColumnType::Text, "", {columns::A, columns::N, columns::N},
     [](const Observation& o, std::string&) { return columns::text(word(o.result)); },
     [](Observation& o, const Cell& c) { o.result = parse_result(c.text); }},
    {"action", ColumnType::Text, "", {columns::A, columns::N, columns::N},
     [](const Observation& o, std::string&) { return columns::text(word(o.action)); },
     [](Observation& o, const Cell& c) { o.action = parse_decision(c.text); }},
    {"would", ColumnType::Text, "", {columns::A, columns::N, columns::N},
     [](const Observation& o, std::string&) { return columns::text(word(o.would)); },
     [](Observation& o, const Cell& c) { o.would = parse_decision(c.text); }},
    {"cert_status", ColumnType::Text, "'none'", {columns::A, columns::N, columns::A},
     [](const Observation& o, std::string&) { return columns::text(word(o.cert.status)); },
     [](Observation& o, const Cell& c) { o.cert.status = parse_cert_status(c.text); }},
    {"cert_subject", ColumnType::Text, "''", {columns::N, columns::N, columns::A},
     [](const Observation& o, std::string&) { return columns::text(o.cert.subject_cn); },
     [](Observation& o, const Cell& c) { o.cert.subject_cn = c.text; }},
    {"cert_issuer", ColumnType::Text, "''", {columns::N, columns::N, columns::A},
     [](const Observation& o, std::string&) { return columns::text(o.cert.issuer_cn); },
     [](Observation& o, const Cell& c) { o.cert.issuer_cn = c.text; }},
    {"rule_refs", ColumnType::Text, "NULL", {Key::Marked, columns::N, columns::N},
     [](const Observation& o, std::string& s) { return columns::text(s = rule_refs_text(o.rules)); },
     [](Observation& o, const Cell& c) {
         if (c.null || c.text == "?") return;
         o.rules = parse_rule_refs(c.text);
         o.rule_kinds_known = true;
     }},
    {"host", ColumnType::Text, "''", {columns::A, columns::A, columns::A},
     [](const Observation& o, std::string&) { return columns::text(o.host); },
     [](Observation& o, const Cell& c) { o.host = c.text; }},
    // The milter decides inbound mail only: every row before this column was inbound.
    {"direction", ColumnType::Text, "'inbound'", {columns::A, columns::A, columns::A},
     [](const Observation& o, std::string&) { return columns::text(word(o.direction)); },
     [](Observation& o, const Cell& c) { o.direction = parse_direction(c.text); }},
    // Outbound deliveries (`ingest`): "" and 0 in inbound rows, and in every
    // row written before outbound rows were kept, which were all inbound.
    {"transport", ColumnType::Text, "''", {columns::A, columns::N, columns::N},
     [](const Observation& o, std::string&) { return columns::text(outbound_word(o, o.transport)); },
     [](Observation& o, const Cell& c) { o.transport = from_word<Transport>(c.text).value_or(Transport::Unknown); }},
    {"delivery", ColumnType::Text, "''", {columns::A, columns::N, columns::N},
     [](const Observation& o, std::string&) { return columns::text(outbound_word(o, o.delivery)); },
     [](Observation& o, const Cell& c) { o.delivery = from_word<DeliveryStatus>(c.text).value_or(DeliveryStatus::Sent); }},
    {"tls_reason", ColumnType::Integer, "0", {columns::A, columns::N, columns::N},
     [](const Observation& o, std::string&) { return columns::integer(o.tls_reason ? 1 : 0); },
     [](Observation& o, const Cell& c) { o.tls_reason = c.integer != 0; }},
    {"recipient_domain", ColumnType::Text, "''", {columns::N, columns::N, columns::N},  // written for SQL readers; read from recipient
     [](const Observation& o, std::string&) { return columns::text(address_domain(o.recipient)); },
     [](Observation&, const Cell&) {}},
    {"relay_host", ColumnType::Text, "''", {columns::N, columns::N, columns::N},
     [](const Observation& o, std::string&) { return columns::text(o.relay_host); },
     [](Observation& o, const Cell& c) { o.relay_host = c.text; }},
    {"relay_address", ColumnType::Text, "''", {columns::N, columns::N, columns::N},
     [](const Observation& o, std::string&) { return columns::text(o.relay_address); },
     [](Observation& o, const Cell& c) { o.relay_address = c.text; }},
    {"cert_verification", ColumnType::Text, "''", {columns::N, columns::N, columns::N},
     [](const Observation& o, std::string&) { return columns::text(o.cert_verification); },
     [](Observation& o, const Cell& c) { o.cert_verification = c.text; }},
};
inline constexpr std::size_t kColumnCount = std::size(kColumns);

// "time, stage, ..., direction": every column, in kColumns' order.
const std::string& column_list();
// The index in kColumns of `name`, or kColumnCount.
std::size_t column_index(std::string_view name);

// Calls put(i, cell) for each column i of kColumns in order. A text cell may
// point into storage the next column reuses: copy it before returning.
template <class Put>
void put_row(const Observation& o, Put&& put) {
    std::string scratch;
    for (std::size_t i = 0; i < kColumnCount; ++i) put(i, kColumns[i].put(o, scratch));
}

// The reverse: o from the cells get(0), get(1), ... of the columns `cols`
// (indices into kColumns, in kColumns' order), e.g. a summary's key. Columns
// not among them keep o's values. A NULL rule_refs (SQLite schemas 1-2) leaves
// the names of the rules column, kinds unknown.
template <class Get>
void get_columns(std::span<const std::size_t> cols, const Get& get, Observation& o) {
    for (std::size_t i = 0; i < cols.size(); ++i) kColumns[cols[i]].get(o, get(i));
}

// Every column, 0..kColumnCount-1: a raw row.
std::span<const std::size_t> all_columns();

}  // namespace tlspolicy::store
