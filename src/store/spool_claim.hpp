// Before a PostgreSQL store starts: is its local spool usable, and is it
// ours alone? --check asks spool_problem() (nothing is created); the daemon
// claims the spool at start (a lock beside it, and one real open) and refuses
// to start when it cannot, so that no outage finds the spool missing.
#pragma once
#include <memory>
#include <string>

namespace tlspolicy {

// What stands in the way of `user` ("" = this process's user) using the
// spool file `path`: its directory must exist and take new files from that
// user (the spool, its lock, SQLite's -wal and -shm files beside it), and
// an existing file must be writable and a spool of ours (not another program's
// database, not one a newer release wrote). "" when usable; else the reason,
// beginning with the path or directory it names. Creates nothing.
std::string spool_problem(const std::string& path, const std::string& user);

// What `path` holds when it exists: "" for a spool this release can use
// (or an empty file); else why not. Implemented by the spool's database
// (store/sqlite/spool.cpp); reads only.
std::string spool_file_problem(const std::string& path);

// A spool claimed by this process: the lock on PATH.lock, held until the
// claim is destroyed (or the process ends, which the kernel notices).
class SpoolClaim {
public:
    explicit SpoolClaim(int fd) : fd_(fd) {}
    ~SpoolClaim();
    SpoolClaim(const SpoolClaim&) = delete;
    SpoolClaim& operator=(const SpoolClaim&) = delete;

private:
    int fd_;
};

// Locks PATH.lock (a second process with the same spool is refused, naming
// the first by what it wrote there: `who`, e.g. "pid 12, config FILE,
// socket SPEC"), then opens the spool once, creating it. Null with *error set
// (the path, what is wrong, what to do) when either fails.
std::unique_ptr<SpoolClaim> claim_spool(const std::string& path, const std::string& who, std::string* error);

}  // namespace tlspolicy
