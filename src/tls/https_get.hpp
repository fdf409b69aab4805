// One HTTPS GET for the MTA-STS policy (RFC 8461 3.3): HTTP/1.1 over TLS to a
// given address with the host's name for SNI and the certificate check, no
// redirects followed, the body bounded, every step timed out.
#pragma once
#include <string>

#include "tls/connection.hpp"

namespace tlspolicy::probe {

struct HttpsResponse {
    enum Step { Connect, Handshake, Request, Response, Done } stopped = Done;
    StepError error;          // why it stopped before Done
    TlsSession tls;           // the server's certificate, when the handshake completed
    int status = 0;           // 200, 404, ...
    std::string status_line;  // "HTTP/1.1 200 OK", printable
    std::string content_type; // as sent, lower case
    std::string body;
};
std::string_view step_name(HttpsResponse::Step s);  // "connect", "TLS handshake", ...

// GET https://HOST/PATH from `address` port 443; a body over `limit` bytes is
// an error. Each step ends by its own timeout (`step_ms`) and by `deadline`.
HttpsResponse https_get(const std::string& host, const std::string& address, const std::string& path,
                        std::size_t limit, int step_ms, Clock::time_point deadline);

}  // namespace tlspolicy::probe
