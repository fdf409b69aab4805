// The milter socket specification ("unix:/path", "inet:PORT@HOST", ...): one
// check shared by the policy file's [milter] socket and the -p option, so the
// command line can never open what the file would refuse.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace tlspolicy {

// The longest unix socket path: sockaddr_un's sun_path holds 108 bytes with
// the terminating NUL on Linux. A longer one cannot be bound at all.
std::size_t max_unix_socket_path();

// Why `spec` is not a socket the milter can listen on, or "" when it is.
// Accepted: unix:PATH, local:PATH, an absolute PATH, inet:PORT@HOST,
// inet6:PORT@HOST (and inet:PORT, inet6:PORT: every address).
std::string socket_problem(std::string_view spec);

// The path of a unix socket spec, or "" for an inet one.
std::string unix_socket_path(std::string_view spec);

}  // namespace tlspolicy
