// Atomic file replacement (see stats_file.hpp).
#include "stats/stats_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <cerrno>
#include <cstring>

namespace tlspolicy {

bool write_file_atomically(const std::string& path, std::string_view text, std::string* error) {
    // A name of its own per call (mkstemp): two writers at once, such as the
    // stats thread and the final write at shutdown, never share a temporary.
    std::string tmp = path + ".tmp.XXXXXX";
    auto fail = [&](const char* what) {
        if (error) *error = std::string(what) + " " + tmp + ": " + std::strerror(errno);
        return false;
    };
    int fd = mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0) return fail("cannot create");
    if (fchmod(fd, 0644) != 0) {  // mkstemp makes it 0600; node_exporter may run as another user
        int saved = errno;
        close(fd);
        unlink(tmp.c_str());
        errno = saved;
        return fail("cannot chmod");
    }
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int saved = errno;
            close(fd);
            unlink(tmp.c_str());
            errno = saved;
            return fail("cannot write");
        }
        done += static_cast<std::size_t>(n);
    }
    if (close(fd) != 0) {
        unlink(tmp.c_str());
        return fail("cannot write");
    }
    if (rename(tmp.c_str(), path.c_str()) != 0) {
        int saved = errno;
        unlink(tmp.c_str());
        errno = saved;
        if (error) *error = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

}  // namespace tlspolicy
