// Reads the policy file for load_config_file (see policy_file.hpp): the same
// path for --check, explain, report, the daemon's start and every reload.
#include "config/policy_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tlspolicy {
namespace {

// "64 MiB", or the bytes when the limit is not a whole number of MiB.
std::string size_text(std::size_t bytes) {
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
    return std::to_string(bytes) + " bytes";
}

}  // namespace

std::optional<Diagnostic> read_policy_file(const std::string& path, std::string& text, std::size_t limit) {
    auto problem = [&](std::string message) { return Diagnostic{path, 0, 0, std::move(message), false}; };
    auto failed = [&](const char* what) { return problem(std::string(what) + ": " + std::strerror(errno)); };
    // O_NONBLOCK: opening a FIFO must not wait for a writer before we can refuse it.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return failed("cannot open");
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return failed("cannot read");
    if (S_ISDIR(st.st_mode))
        return problem("is a directory: give the policy file itself, such as -c " + path +
                       (path.ends_with('/') ? "" : "/") + "tlspolicy-milter.toml");
    if (!S_ISREG(st.st_mode))
        return problem("is not a regular file (a device, FIFO or socket): give the path of the policy file");
    const std::string too_large = "is larger than " + size_text(limit) +
                                  ", far more than a policy file needs (100,000 rules take about 12 MB): "
                                  "check that -c names the policy file";
    if (static_cast<std::size_t>(st.st_size) > limit) return problem(too_large);
    text.clear();
    text.reserve(static_cast<std::size_t>(st.st_size));
    // The size fstat gave may be wrong (/proc files say 0) or grow: the loop
    // stops one byte past the limit whatever the file holds.
    char buf[1 << 16];
    while (text.size() <= limit) {
        const std::size_t want = std::min(sizeof buf, limit + 1 - text.size());
        const ssize_t n = ::read(fd, buf, want);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return failed("cannot read");
        if (n == 0) return std::nullopt;
        text.append(buf, static_cast<std::size_t>(n));
    }
    text.clear();
    return problem(too_large);
}

}  // namespace tlspolicy
