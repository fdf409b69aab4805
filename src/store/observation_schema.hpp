// The observation database on disk: its schema, how its version is recognised
// (PRAGMA application_id marks the file as ours, PRAGMA user_version numbers
// the schema), and how the writer and the reader open it. A file that is not
// ours, or that a newer release wrote, is refused and never modified.
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/observation.hpp"
#include "store/sqlite.hpp"

namespace tlspolicy::store {

inline constexpr int kApplicationId = 0x544c5350;  // "TLSP"
int schema_version();                              // the newest schema this build knows

// For the writer: creates a new database, migrates an older one in one
// transaction, refuses a foreign or newer one (null, *error says which file,
// what is wrong and what to do). WAL journal, synchronous=NORMAL, busy timeout.
sqlite::Db open_for_writing(const std::string& path, std::string* error);

// For the reader: read-only; an empty (not yet created) database is fine and
// reads as no rows, so *empty is set instead of an error. An older schema is
// read as it is (*version says which: columns added later are missing).
sqlite::Db open_for_reading(const std::string& path, bool* empty, int* version, std::string* error);

// Column spellings, readable with the sqlite3 shell: the header's words.
std::string_view stage_text(Stage s);  // "mail", "rcpt"
Stage parse_stage(std::string_view text);
// The rules column, "acme,hr". Schemas 1 and 2 keep no kinds: "default" reads
// as the [defaults] rule, every other name as a partner rule.
std::vector<RuleRef> parse_rules(std::string_view text);
// The rule_refs column (schema 3, and PostgreSQL): each rule with its kind, in
// order, "partner:acme,recipient:hr". Rule names hold no ':' or ','.
std::string rule_refs_text(std::span<const RuleRef> rules);
std::vector<RuleRef> parse_rule_refs(std::string_view text);
TlsVersion parse_version(std::string_view header_name);  // "TLS1_2" -> TLSv1_2; unknown words: Unknown
CertStatus parse_cert_status(std::string_view text);
Result parse_result(std::string_view text);
Decision parse_decision(std::string_view text);

}  // namespace tlspolicy::store
