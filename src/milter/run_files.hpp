// The files a running milter owns: its pidfile and its unix socket. Neither is
// ever taken from a process that still uses it, so a second instance started by
// mistake refuses to start instead of cutting the first one off from the MTA.
#pragma once
#include <sys/types.h>

#include <string>

namespace tlspolicy::milter {

// "" when `path` is free to write: absent, or naming a process that is gone
// (or ourselves). Otherwise what is wrong and what to do: the pidfile names a
// running process, is a symbolic link, or cannot be read.
std::string pidfile_problem(const std::string& path);

// Writes our process id to `path` atomically (a temporary file renamed over
// it), so that no reader ever sees a half-written file. "" or the error.
std::string write_pidfile(const std::string& path);

// Removes `path` if it still names this process; "" or why it could not.
std::string remove_pidfile(const std::string& path);

// Prepares a unix socket path for binding. Absent: fine. A socket nothing
// answers on (connect() is refused): stale, removed, and *removed_stale set.
// A socket someone answers on, or anything else: the reason not to start,
// naming the listening process when /proc tells it.
std::string claim_unix_socket(const std::string& path, bool* removed_stale);

}  // namespace tlspolicy::milter
