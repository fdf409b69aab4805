// The spool's checks and its lock: POSIX only (the spool file itself is
// looked at by store/sqlite/spool.cpp).
#include "store/spool_claim.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/text.hpp"
#include "store/spool.hpp"

namespace tlspolicy {
namespace {

std::string parent_of(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

// errno of access(path, mode) as `user`, 0 when allowed. Root asking for
// another user asks in a child that became that user, so that its groups,
// ACLs and read-only mounts count as they will for the daemon.
int access_as(const std::string& user, const std::string& path, int mode) {
    const passwd* pw = user.empty() || geteuid() != 0 ? nullptr : getpwnam(user.c_str());
    if (!pw || pw->pw_uid == 0) return access(path.c_str(), mode) == 0 ? 0 : errno;
    const uid_t uid = pw->pw_uid;
    const gid_t gid = pw->pw_gid;
    int n = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    if (getgrouplist(pw->pw_name, gid, groups.data(), &n) < 0) {
        groups.resize(static_cast<std::size_t>(n));
        if (getgrouplist(pw->pw_name, gid, groups.data(), &n) < 0) n = 0;
    }
    const pid_t child = fork();
    if (child < 0) return errno;
    if (child == 0) {
        if (setgroups(static_cast<std::size_t>(n), groups.data()) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
            _exit(EPERM);
        _exit(access(path.c_str(), mode) == 0 ? 0 : errno);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : EPERM;
}

std::string by_whom(const std::string& user) { return user.empty() ? "this user" : "user " + quoted(user); }

}  // namespace

std::string spool_problem(const std::string& path, const std::string& user) {
    const std::string dir = parent_of(path);
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0)
        return errno == ENOENT ? "directory " + dir + " does not exist" : dir + ": " + std::strerror(errno);
    if (!S_ISDIR(st.st_mode)) return dir + " is not a directory";
    if (int e = access_as(user, dir, W_OK | X_OK))
        return "directory " + dir + " is not writable by " + by_whom(user) + " (" + std::strerror(e) + ")";
    for (const std::string& file : {path, path + ".lock"}) {
        if (stat(file.c_str(), &st) != 0) {
            if (errno == ENOENT) continue;
            return file + ": " + std::strerror(errno);
        }
        if (!S_ISREG(st.st_mode)) return file + " is not a regular file";
        if (int e = access_as(user, file, R_OK | W_OK))
            return file + " is not writable by " + by_whom(user) + " (" + std::strerror(e) + ")";
    }
    if (access(path.c_str(), F_OK) == 0) return spool_file_problem(path);
    return "";
}

SpoolClaim::~SpoolClaim() { close(fd_); }

std::unique_ptr<SpoolClaim> claim_spool(const std::string& path, const std::string& who, std::string* error) {
    const std::string lock = path + ".lock";
    const int fd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        *error = "cannot create the spool's lock file " + lock + ": " + std::strerror(errno) +
                 "; does directory " + parent_of(path) + " exist, writable by this user?";
        return nullptr;
    }
    auto claim = std::make_unique<SpoolClaim>(fd);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char holder[512] = {};
        const ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
        std::string first = n > 0 ? std::string(holder, static_cast<std::size_t>(n)) : "";
        while (!first.empty() && first.back() == '\n') first.pop_back();
        *error = "the spool " + path + " is in use by another tlspolicy-milter (" +
                 (first.empty() ? "its lock " + lock + " is held" : first) +
                 "): two instances must not share a spool; give each its own [observations] spool";
        return nullptr;
    }
    const std::string text = who + "\n";
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
        *error = "cannot write the spool's lock file " + lock + ": " + std::strerror(errno);
        return nullptr;
    }
    // One real open, as the user the daemon runs as: what --check could only
    // foresee (the file created, migrated, written) happens now, not at the
    // first outage.
    std::unique_ptr<Spool> spool = make_spool(path, 1);
    if (!spool->open(error)) return nullptr;
    return claim;
}

}  // namespace tlspolicy
