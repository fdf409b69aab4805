// The PostgreSQL observation database: its schema (the row codec's columns,
// partitioned by month, and the summaries), numbered in a schema_version
// table, migrated under an advisory lock (several MX hosts may start at
// once). A database holding an `observations` table that is not ours, or a
// newer schema or columns, is refused.
#pragma once
#include <string>

#include "store/postgres/postgres.hpp"

namespace tlspolicy::store {

int postgres_schema_version();  // the newest this build knows

// For the writer: creates or migrates; false with *error set.
bool postgres_migrate(pg::Conn& db, const std::string& name, std::string* error);

// For the reader: whether every summary has the key this release keeps.
bool postgres_summaries_current(pg::Conn& db, bool* current, std::string* error);

// For the reader: *version 0 when nothing was created yet (reads as no rows).
bool postgres_inspect(pg::Conn& db, const std::string& name, int* version, std::string* error);

}  // namespace tlspolicy::store
