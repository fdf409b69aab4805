// The socket specification check shared by [milter] socket and -p: every
// form libmilter accepts passes, and each mistake gets its own reason.
#include <gtest/gtest.h>

#include <string>

#include "config/socket_spec.hpp"

namespace tlspolicy {
namespace {

struct Case {
    const char* name;
    std::string spec;
    std::string want_problem;  // "" when the spec is fine
    std::string want_path;     // the unix socket path, "" for inet
};

TEST(SocketSpec, Table) {
    const std::string path107 = "/" + std::string(106, 'p');
    const Case cases[] = {
        {"unix", "unix:/run/m.sock", "", "/run/m.sock"},
        {"local", "local:/run/m.sock", "", "/run/m.sock"},
        {"bare_absolute_path", "/run/m.sock", "", "/run/m.sock"},
        {"longest_path_that_fits", "unix:" + path107, "", path107},
        {"inet_with_host", "inet:8891@127.0.0.1", "", ""},
        {"inet_without_host", "inet:8891", "", ""},
        {"inet6", "inet6:8891@::1", "", ""},
        {"unix_empty_path_would_be_abstract", "unix:", "the path is empty", ""},
        {"local_empty_path", "local:", "the path is empty", ""},
        {"unix_relative", "unix:run/m.sock", "the path must be absolute", "run/m.sock"},
        {"bare_relative", "m.sock", "it is not unix:PATH, local:PATH, inet:PORT@HOST, inet6:PORT@HOST or an absolute path", ""},
        {"path_one_byte_too_long", "unix:/" + std::string(107, 'p'),
         "the path is 108 bytes, longer than the 107 bytes a unix socket path can have: choose a shorter one",
         "/" + std::string(107, 'p')},
        {"port_not_a_number", "inet:abc@127.0.0.1", "the port must be a number from 1 to 65535", ""},
        {"port_zero", "inet:0@127.0.0.1", "the port must be a number from 1 to 65535", ""},
        {"port_too_big", "inet6:65536@::1", "the port must be a number from 1 to 65535", ""},
        {"port_missing", "inet:@127.0.0.1", "the port must be a number from 1 to 65535", ""},
        {"host_empty", "inet:8891@", "the host after '@' is empty", ""},
        {"unknown_scheme", "tcp:25", "it is not unix:PATH, local:PATH, inet:PORT@HOST, inet6:PORT@HOST or an absolute path", ""},
    };
    EXPECT_EQ(max_unix_socket_path(), 107u);
    for (const Case& c : cases) {
        EXPECT_EQ(socket_problem(c.spec), c.want_problem) << c.name;
        EXPECT_EQ(unix_socket_path(c.spec), c.want_path) << c.name;
    }
}

}  // namespace
}  // namespace tlspolicy
