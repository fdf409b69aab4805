// Socket specifications (see socket_spec.hpp).
#include "config/socket_spec.hpp"

#include <sys/un.h>

#include <charconv>

namespace tlspolicy {

std::size_t max_unix_socket_path() { return sizeof(sockaddr_un{}.sun_path) - 1; }

std::string unix_socket_path(std::string_view spec) {
    for (std::string_view prefix : {"unix:", "local:"})
        if (spec.starts_with(prefix)) return std::string(spec.substr(prefix.size()));
    if (spec.starts_with('/')) return std::string(spec);
    return {};
}

std::string socket_problem(std::string_view s) {
    if (s.starts_with("unix:") || s.starts_with("local:") || s.starts_with('/')) {
        const std::string path = unix_socket_path(s);
        if (path.empty()) return "the path is empty";
        if (path.front() != '/') return "the path must be absolute";
        if (path.size() > max_unix_socket_path())
            return "the path is " + std::to_string(path.size()) + " bytes, longer than the " +
                   std::to_string(max_unix_socket_path()) + " bytes a unix socket path can have: choose a shorter one";
        return {};
    }
    if (s.starts_with("inet:") || s.starts_with("inet6:")) {
        std::string_view rest = s.substr(s.find(':') + 1);
        std::size_t at = rest.find('@');
        std::string_view port = rest.substr(0, at);
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value < 1 || value > 65535)
            return "the port must be a number from 1 to 65535";
        if (at != std::string_view::npos && at + 1 == rest.size()) return "the host after '@' is empty";
        return {};
    }
    return "it is not unix:PATH, local:PATH, inet:PORT@HOST, inet6:PORT@HOST or an absolute path";
}

}  // namespace tlspolicy
