// `ingest postfix|sendmail [--follow] [--journal] [--output FILE] [PATH|-]`:
// outbound deliveries from the MTA's own log, judged by the policy, into the
// observation store with its position (or as records with a checkpoint in
// FILE, or as JSON lines on standard output with --output -).
#pragma once
#include <iosfwd>
#include <string>

#include "config/config.hpp"

namespace tlspolicy {

struct IngestRequest {
    std::string mta;                // "postfix" or "sendmail"
    std::string path;               // a log file, "-" for standard input, "" with --journal
    bool follow = false;
    bool journal = false;
    std::string journal_directory;  // implies journal
    std::string output;             // "": the [observations] store; "-": standard output, no checkpoint
    std::string stats;              // a Prometheus textfile of the outbound counters; "": none
};

int ingest_command(const Config& config, const IngestRequest& request, std::ostream& out, std::ostream& err);

}  // namespace tlspolicy
