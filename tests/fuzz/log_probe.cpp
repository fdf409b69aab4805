// The log, for the milter fuzz target: instead of syslog, every line the glue
// logs is checked. log.hpp promises lines arrive sanitised ("printable ASCII,
// no CR/LF"), and an "internal error" means an exception reached a callback's
// firewall: both are findings. Replaces src/milter/log.cpp in that target only.
#include <string_view>

#include "fuzz_support.hpp"
#include "milter/log.hpp"

namespace tlspolicy::log {
namespace {

void check(std::string_view line) {
    fuzz::require_printable(line, "a log line is not printable");
    fuzz::require(!line.starts_with("internal error"), "an exception reached a callback", line);
}

}  // namespace

void open(bool, bool) {}
void error(std::string_view line) { check(line); }
void warning(std::string_view line) { check(line); }
void info(std::string_view line) { check(line); }
void debug(std::string_view line) { check(line); }
bool debug_enabled() { return true; }  // -v on: its stage lines are checked too

}  // namespace tlspolicy::log
