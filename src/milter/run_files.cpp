// Pidfile and unix socket claims (see run_files.hpp). Who holds a socket is
// read from /proc/net/unix and /proc/PID/fd, as `ss -xlp` does.
#include "milter/run_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace tlspolicy::milter {
namespace {

// The pid written in a pidfile, or nullopt when the file is absent; errors in *why.
std::optional<pid_t> read_pidfile(const std::string& path, std::string* why) {
    int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        if (errno == ELOOP)
            *why = "pidfile " + path + " is a symbolic link: it is not followed; remove it or choose another pidfile";
        else
            *why = "cannot read pidfile " + path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    char buf[32] = {};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    long pid = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
    return pid > 0 ? std::optional<pid_t>(static_cast<pid_t>(pid)) : std::optional<pid_t>(0);
}

bool running(pid_t pid) { return pid > 0 && pid != getpid() && (kill(pid, 0) == 0 || errno == EPERM); }

// The process listening on the unix socket `path`, when /proc tells it.
std::optional<pid_t> listener_of(const std::string& path) {
    std::ifstream net("/proc/net/unix");
    std::string line, inode;
    std::getline(net, line);  // Num RefCount Protocol Flags Type St Inode Path
    while (std::getline(net, line)) {
        std::istringstream f(line);
        std::string num, refs, proto, flags, type, st, ino, p;
        if (f >> num >> refs >> proto >> flags >> type >> st >> ino >> p && p == path && flags == "00010000") {
            inode = ino;  // __SO_ACCEPTCON: the listening one
            break;
        }
    }
    if (inode.empty()) return std::nullopt;
    const std::string want = "socket:[" + inode + "]";
    DIR* proc = opendir("/proc");
    if (!proc) return std::nullopt;
    std::optional<pid_t> found;
    while (dirent* e = readdir(proc)) {
        if (found) break;
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end) continue;
        std::string dir = std::string("/proc/") + e->d_name + "/fd";
        DIR* fds = opendir(dir.c_str());
        if (!fds) continue;
        while (dirent* fd = readdir(fds)) {
            char target[64];
            ssize_t n = readlink((dir + "/" + fd->d_name).c_str(), target, sizeof target - 1);
            if (n > 0 && std::string(target, static_cast<std::size_t>(n)) == want) {
                found = static_cast<pid_t>(pid);
                break;
            }
        }
        closedir(fds);
    }
    closedir(proc);
    return found;
}

}  // namespace

std::string pidfile_problem(const std::string& path) {
    std::string why;
    std::optional<pid_t> pid = read_pidfile(path, &why);
    if (!why.empty()) return why;
    if (pid && running(*pid))
        return "pidfile " + path + " names process " + std::to_string(*pid) +
               ", which is running: is tlspolicy-milter already running? Stop it first, or remove " + path +
               " if that process is something else";
    return {};
}

std::string write_pidfile(const std::string& path) {
    std::string tmp = path + ".XXXXXX";
    int fd = mkstemp(tmp.data());
    if (fd < 0) return "cannot write pidfile " + path + ": " + std::strerror(errno);
    const std::string text = std::to_string(getpid()) + "\n";
    bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fchmod(fd, 0644) == 0;
    int err = errno;
    ok = close(fd) == 0 && ok;
    if (ok && rename(tmp.c_str(), path.c_str()) == 0) return {};
    if (ok) err = errno;
    unlink(tmp.c_str());
    return "cannot write pidfile " + path + ": " + std::strerror(err);
}

std::string remove_pidfile(const std::string& path) {
    std::string why;
    std::optional<pid_t> pid = read_pidfile(path, &why);
    if (!pid || *pid != getpid()) return {};  // gone, or no longer ours: leave it
    if (unlink(path.c_str()) == 0) return {};
    return "cannot remove pidfile " + path + ": " + std::strerror(errno) +
           " (the next start finds process " + std::to_string(getpid()) + " gone and replaces it)";
}

std::string claim_unix_socket(const std::string& path, bool* removed_stale) {
    *removed_stale = false;
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return {};
        return "cannot check " + path + ": " + std::strerror(errno);
    }
    if (!S_ISSOCK(st.st_mode))
        return path + " exists and is not a socket: remove it or choose another socket path";
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);  // length checked by socket_problem
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return std::string("cannot create a socket: ") + std::strerror(errno);
    int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    int err = errno;
    close(fd);
    if (rc != 0 && err == ECONNREFUSED) {  // nobody listens: a leftover of a process that died
        if (unlink(path.c_str()) != 0) return "cannot remove stale socket " + path + ": " + std::strerror(errno);
        *removed_stale = true;
        return {};
    }
    if (rc != 0 && err != EAGAIN) return "cannot check socket " + path + ": " + std::strerror(err);
    std::optional<pid_t> holder = listener_of(path);
    return "another process" + (holder ? " (process " + std::to_string(*holder) + ")" : std::string()) +
           " is listening on unix:" + path +
           ": is tlspolicy-milter already running? Stop it first, or choose another socket";
}

}  // namespace tlspolicy::milter
