// Logging for the daemon: syslog (facility mail), and stderr as well in the
// foreground. Lines are already sanitised by whoever builds them.
#pragma once
#include <string_view>

namespace tlspolicy::log {

void open(bool foreground, bool verbose);
void error(std::string_view line);
void warning(std::string_view line);
void info(std::string_view line);
void debug(std::string_view line);  // only with -v

// Whether -v is on: one relaxed atomic load. Callers test it before building
// a debug line, so that the mail path builds no strings when it is off.
bool debug_enabled();

}  // namespace tlspolicy::log
