// The command line: option parsing (CLI11, only here) and dispatch to the
// daemon, --check, explain, report, export, probe and ingest. Takes its streams as
// arguments so tests can run it in-process.
#pragma once
#include <iosfwd>

#include "milter/daemon.hpp"

namespace tlspolicy {

// The daemon is not part of libtlspolicy.a (it needs the libc shim, which
// only the program links): main.cpp passes it in. Without one, a command
// line that would start the daemon is refused.
using DaemonEntry = int (*)(const milter::DaemonOptions&);

// Exit codes: 0 fine, 1 the policy file has errors, 2 bad command line;
// probe adds 3 to 7 (cli/probe.hpp).
int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
            DaemonEntry daemon = nullptr);

}  // namespace tlspolicy
