// The whole configuration file as loaded: daemon settings plus the policy.
// Plain data, filled by the loader (config_loader.cpp). Defaults are the
// schema's (config/schema.cpp): the loader stores them for every key a file
// leaves out, so the members here start empty.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/policy.hpp"

namespace tlspolicy {

struct MilterSettings {
    std::string socket;
    std::string user;          // empty: keep the user we started as
    int user_line = 0, user_column = 0;  // where user is written, for --check's host warnings
    int socket_mode = 0;       // octal permission bits for unix sockets
    std::string pidfile;
    int timeout = 0;           // seconds, libmilter I/O timeout
};

struct HeaderSettings {
    std::string name;
    std::string authserv_id;   // empty: the MTA's own name (macro j)
    bool strip_forged = false;
};

struct StatsSettings {
    std::string file;          // empty: no metrics file
    int interval = 0;
};

struct ObservationSettings {
    std::string database;      // empty: no observation store; else a SQLite path or a postgresql:// URL
    int keep_days = 0;
    std::string host;          // empty: the MTA's name (macro j)
    std::string spool;         // the local spool of a PostgreSQL store
    int spool_max_rows = 0;
    // Where database and spool are written, for --check's host errors; a
    // spool left at its default has line 0 (the database line then speaks for it).
    int database_line = 0, database_column = 0, spool_line = 0, spool_column = 0;
};

// Where the weekly probe (contrib/tlspolicy-probe-partners) keeps one JSON
// file per partner rule, RULE.json, for report to read.
struct ProbeSettings {
    std::string directory;  // empty: no probe results
};

struct Config {
    std::string path;
    MilterSettings milter;
    HeaderSettings header;
    StatsSettings stats;
    ObservationSettings observations;
    ProbeSettings probe;
    std::shared_ptr<const Policy> policy;
};

// One problem in a policy file, printed as FILE:LINE:COLUMN: message.
struct Diagnostic {
    std::string file;
    int line = 0;
    int column = 0;
    std::string message;
    bool warning = false;
    std::string format() const;
};

struct LoadResult {
    std::shared_ptr<const Config> config;   // null when there were errors
    std::vector<Diagnostic> diagnostics;    // every problem found, in file order
    bool ok() const { return config != nullptr; }
};

LoadResult load_config_file(const std::string& path);
LoadResult load_config_text(std::string_view text, const std::string& path);

}  // namespace tlspolicy
