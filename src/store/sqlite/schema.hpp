// The SQLite observation database on disk: its schema, how its version is recognised
// (PRAGMA application_id marks the file as ours, PRAGMA user_version numbers
// the schema), and how the writer and the reader open it. A file that is not
// ours, or that a newer release wrote, is refused and never modified.
#pragma once
#include <string>
#include <string_view>

#include "store/sqlite/sqlite.hpp"

namespace tlspolicy::store {

inline constexpr int kApplicationId = 0x544c5350;  // "TLSP"
int schema_version();                              // the newest schema this build knows

// For the writer: creates a new database, migrates an older one in one
// transaction, refuses a foreign or newer one (null, *error says which file,
// what is wrong and what to do). WAL journal, synchronous=NORMAL, busy timeout.
// `key`: the [observations] key that names the file, for the messages.
sqlite::Db open_for_writing(const std::string& path, std::string* error, std::string_view key = "database");

// For the reader: read-only; an empty (not yet created) database is fine and
// reads as no rows, so *empty is set instead of an error. An older schema is
// read as it is (*version says which: columns added later are missing).
// The raw columns in kColumns' order as a SELECT lists them from this file:
// a column it does not have yet reads as its fill ('none' AS cert_status, ...).
std::string raw_select_list(sqlite3* db);
// Whether every summary has the key this release keeps (else report reads
// the rows: the daemon builds the summaries when it next opens the file).
bool summaries_current(sqlite3* db);

sqlite::Db open_for_reading(const std::string& path, bool* empty, int* version, std::string* error,
                            std::string_view key = "database");

}  // namespace tlspolicy::store
