// The long-running milter: socket, privileges, detaching, signals, reload.
#pragma once
#include <string>

namespace tlspolicy::milter {

struct DaemonOptions {
    std::string config_path;
    bool foreground = false;
    bool verbose = false;
    std::string socket;   // overrides [milter] socket when not empty
    std::string user;     // overrides [milter] user
    std::string pidfile;  // overrides [milter] pidfile
};

// Runs until SIGTERM/SIGINT. Returns the process exit code.
int run_daemon(const DaemonOptions& options);

}  // namespace tlspolicy::milter
