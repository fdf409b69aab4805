// The HTTPS client behind the MTA-STS policy fetch: a request with
// Connection: close, the response read to its end (bounded), the status line
// and the two headers RFC 8461 cares about, chunked bodies decoded.
#include "tls/https_get.hpp"

#include <algorithm>
#include <cctype>

namespace tlspolicy::probe {
namespace {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string printable(std::string_view s) {
    std::string out;
    for (unsigned char c : s.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? char(c) : '?';
    return out;
}

// Transfer-Encoding: chunked (RFC 9112 7.1); false when malformed.
bool dechunk(std::string_view in, std::string& out) {
    out.clear();
    for (;;) {
        const std::size_t eol = in.find("\r\n");
        if (eol == std::string_view::npos) return false;
        std::string_view size_text = in.substr(0, eol);
        size_text = size_text.substr(0, size_text.find(';'));  // chunk extensions
        std::size_t size = 0;
        if (size_text.empty() || size_text.size() > 8) return false;
        for (char c : size_text) {
            if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
            size = size * 16 + static_cast<std::size_t>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10));
        }
        in.remove_prefix(eol + 2);
        if (size == 0) return true;
        if (in.size() < size + 2 || in.substr(size, 2) != "\r\n") return false;
        out.append(in.substr(0, size));
        in.remove_prefix(size + 2);
    }
}

}  // namespace

std::string_view step_name(HttpsResponse::Step s) {
    switch (s) {
        case HttpsResponse::Connect: return "connect";
        case HttpsResponse::Handshake: return "TLS handshake";
        case HttpsResponse::Request: return "request";
        case HttpsResponse::Response: return "response";
        case HttpsResponse::Done: return "done";
    }
    return "?";
}

HttpsResponse https_get(const std::string& host, const std::string& address, const std::string& path,
                        std::size_t limit, int step_ms, Clock::time_point deadline) {
    HttpsResponse r;
    auto step = [&] { return std::min(deadline, Clock::now() + std::chrono::milliseconds(step_ms)); };
    auto fail = [&](HttpsResponse::Step s, StepError e, std::string_view waiting_for) {
        if (e.kind == StepError::Timeout && e.text.empty())
            e.text = "no " + std::string(waiting_for) + " within " + std::to_string(step_ms / 1000) + " s";
        r.stopped = s, r.error = std::move(e);
        return r;
    };
    Connection conn;
    std::string connected;
    if (StepError e = conn.connect(address.empty() ? host : address, "443", step(), connected))
        return fail(HttpsResponse::Connect, e, "TCP connection");
    TlsRequest tls;
    tls.host = host;
    if (StepError e = conn.start_tls(tls, step(), r.tls)) return fail(HttpsResponse::Handshake, e, "TLS handshake");
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host +
                                "\r\nUser-Agent: tlspolicy-milter probe\r\nAccept: text/plain\r\nConnection: close\r\n\r\n";
    if (StepError e = conn.send_bytes(request, step())) return fail(HttpsResponse::Request, e, "room to send the request");
    std::string raw;
    bool truncated = false;
    const std::size_t head_room = 16 * 1024;  // status line and headers
    if (StepError e = conn.read_to_end(raw, limit + head_room, truncated, step()))
        return fail(HttpsResponse::Response, e, "complete response");
    const std::size_t head_end = raw.find("\r\n\r\n");
    if (head_end == std::string::npos)
        return fail(HttpsResponse::Response, {StepError::NotSmtp, raw.empty() ? "an empty response" : "a response without the end of its headers"}, "");
    const std::string_view head(raw.data(), head_end);
    const std::string_view status_line = head.substr(0, head.find("\r\n"));
    r.status_line = printable(status_line);
    if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || !std::isdigit(static_cast<unsigned char>(status_line[9])))
        return fail(HttpsResponse::Response, {StepError::NotSmtp, "not an HTTP response: '" + r.status_line + "'"}, "");
    r.status = std::stoi(std::string(status_line.substr(9, 3)));
    bool chunked = false;
    long long length = -1;
    for (std::size_t at = head.find("\r\n"); at != std::string_view::npos;) {
        const std::size_t next = head.find("\r\n", at + 2);
        const std::string_view line = head.substr(at + 2, next == std::string_view::npos ? head.npos : next - at - 2);
        at = next;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string name = lower(std::string(line.substr(0, colon)));
        std::string value(line.substr(colon + 1));
        value.erase(0, value.find_first_not_of(" \t"));
        value.erase(value.find_last_not_of(" \t") + 1);
        if (name == "content-type") r.content_type = lower(printable(value));
        if (name == "transfer-encoding") chunked = lower(value).find("chunked") != std::string::npos;
        if (name == "content-length" && !value.empty() && value.size() < 12 &&
            value.find_first_not_of("0123456789") == std::string::npos)
            length = std::stoll(value);
    }
    const std::string_view rest = std::string_view(raw).substr(head_end + 4);
    if (chunked) {
        if (!dechunk(rest, r.body))
            return fail(HttpsResponse::Response, {StepError::Closed, truncated ? "a body over " + std::to_string(limit) + " bytes" : "a chunked body cut short or malformed"}, "");
    } else {
        r.body = std::string(rest);
        if (length >= 0 && static_cast<long long>(r.body.size()) < length)
            return fail(HttpsResponse::Response, {StepError::Closed, truncated ? "a body over " + std::to_string(limit) + " bytes"
                                                                   : "the body ended after " + std::to_string(r.body.size()) + " of " + std::to_string(length) + " bytes"}, "");
        if (length >= 0) r.body.resize(static_cast<std::size_t>(length));
    }
    if (r.body.size() > limit)
        return fail(HttpsResponse::Response, {StepError::NotSmtp, "a body over " + std::to_string(limit) + " bytes"}, "");
    return r;
}

}  // namespace tlspolicy::probe
