// The connection behind `probe`: a non-blocking socket driven by poll(), so
// that no connect, read, write or handshake can outlive its deadline, and
// OpenSSL pinned to one protocol version per connection when asked.
#include "tls/connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace tlspolicy::probe {

const char* const kAllCiphers = "ALL:@SECLEVEL=0";  // TLS 1.0/1.1 need level 0 on OpenSSL 3
const char* const kAllSuites =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256:"
    "TLS_AES_128_CCM_8_SHA256";

namespace {

constexpr std::size_t kMaxLine = 2048;   // RFC 5321 says 512; be lenient, not unbounded
constexpr std::size_t kMaxLines = 200;

// Printable ASCII only: replies go to a terminal and into JSON.
std::string clean(std::string_view s) {
    std::string out;
    for (unsigned char c : s) out += (c >= 0x20 && c < 0x7f) ? char(c) : '?';
    return out;
}

int ms_left(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

// Waits for the socket to become readable/writable; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, ms_left(deadline));
        if (n > 0) return true;
        if (n == 0) return false;
        if (errno != EINTR) return true;  // let the next call report the error
    }
}

std::string openssl_errors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}

std::string name_text(X509_NAME* name) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (!bio) return {};
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string s(data, n > 0 ? static_cast<std::size_t>(n) : 0);
    BIO_free(bio);
    return clean(s);
}

std::string time_text(const ASN1_TIME* t) {
    std::tm tm{};
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return {};
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// The chain as presented, against the system trust store (the context's
// default paths), apart from the handshake's own verification, which DANE
// replaces when TLSA records are in play.
void verify_chain(SSL* ssl, X509* leaf, TlsSession& s) {
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    if (!ctx || X509_STORE_CTX_init(ctx, SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl)), leaf,
                                    SSL_get_peer_cert_chain(ssl)) != 1) {
        s.verify_error = "OpenSSL cannot verify: " + openssl_errors();
        X509_STORE_CTX_free(ctx);
        return;
    }
    X509_STORE_CTX_set_default(ctx, "ssl_server");
    s.verified = X509_verify_cert(ctx) == 1;
    if (!s.verified) s.verify_error = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
}

void dane_facts(SSL* ssl, TlsSession& s) {
    std::uint8_t usage = 0, selector = 0, mtype = 0;
    const unsigned char* data = nullptr;
    std::size_t len = 0;
    const int depth = SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, &data, &len);
    const long v = SSL_get_verify_result(ssl);
    s.dane_matched = depth >= 0 && v == X509_V_OK;
    if (!s.dane_matched) {
        s.dane_error = v == X509_V_OK ? "no TLSA record matches the presented chain" : X509_verify_cert_error_string(v);
        return;
    }
    s.dane_depth = depth;
    TlsaRecord r{usage, selector, mtype, std::string(reinterpret_cast<const char*>(data), len)};
    s.dane_record = tlsa_text(r);
}

void certificate_facts(SSL* ssl, const std::string& host, TlsSession& s) {
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (!cert) return;
    s.has_cert = true;
    s.subject = name_text(X509_get_subject_name(cert));
    s.issuer = name_text(X509_get_issuer_name(cert));
    s.not_after = time_text(X509_get0_notAfter(cert));
    verify_chain(ssl, cert, s);
    if (s.dane_checked) dane_facts(ssl, s);
    std::string bare = host;
    if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
    in6_addr a6;
    in_addr a4;
    if (inet_pton(AF_INET, bare.c_str(), &a4) == 1 || inet_pton(AF_INET6, bare.c_str(), &a6) == 1)
        s.name_matches = X509_check_ip_asc(cert, bare.c_str(), 0) == 1;
    else
        s.name_matches = X509_check_host(cert, bare.c_str(), bare.size(), 0, nullptr) == 1;
    X509_free(cert);
}

}  // namespace

std::string SmtpReply::first() const {
    return std::to_string(code) + (lines.empty() ? "" : " " + lines.front());
}

struct Connection::Impl {
    int fd = -1;
    SSL_CTX* ctx = nullptr;
    SSL* ssl = nullptr;
    std::string buffer;  // received, not yet consumed

    ~Impl() {
        if (ssl) SSL_free(ssl);
        if (ctx) SSL_CTX_free(ctx);
        if (fd >= 0) ::close(fd);
    }

    // Appends what arrives before the deadline to `buffer`.
    StepError receive(Clock::time_point deadline) {
        char chunk[4096];
        for (;;) {
            if (ssl) {
                ERR_clear_error();
                int n = SSL_read(ssl, chunk, sizeof chunk);
                if (n > 0) return buffer.append(chunk, static_cast<std::size_t>(n)), StepError{};
                int err = SSL_get_error(ssl, n);
                if (err == SSL_ERROR_ZERO_RETURN) return {StepError::Closed, "the server closed the TLS session"};
                if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
                    std::string e = openssl_errors();
                    return {StepError::Tls, e.empty() ? "the server closed the connection" : "TLS error: " + e};
                }
                if (!wait_for(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) return {StepError::Timeout, ""};
                continue;
            }
            ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n > 0) return buffer.append(chunk, static_cast<std::size_t>(n)), StepError{};
            if (n == 0) return {StepError::Closed, "the server closed the connection"};
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) return {StepError::Socket, std::strerror(errno)};
            if (!wait_for(fd, POLLIN, deadline)) return {StepError::Timeout, ""};
        }
    }
};

Connection::Connection() : impl_(std::make_unique<Impl>()) {}
Connection::~Connection() = default;

StepError Connection::connect(const std::string& host, const std::string& port, Clock::time_point deadline,
                                  std::string& address) {
    std::string bare = host;
    if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    // getaddrinfo() has no deadline of its own; the resolver's timeouts bound it.
    if (int rc = ::getaddrinfo(bare.c_str(), port.c_str(), &hints, &found); rc != 0)
        return {StepError::Socket, "cannot resolve " + host + " port " + port + ": " + gai_strerror(rc)};
    StepError last{StepError::Socket, "no address for " + host};
    for (addrinfo* ai = found; ai; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        char text[INET6_ADDRSTRLEN] = "?";
        const void* a = ai->ai_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr)
                                                 : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr);
        inet_ntop(ai->ai_family, a, text, sizeof text);
        address = ai->ai_family == AF_INET6 ? "[" + std::string(text) + "]" : text;
        int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            if (!wait_for(fd, POLLOUT, deadline)) {
                ::close(fd);
                last = {StepError::Timeout, "no TCP connection to " + address + " port " + port};
                continue;
            }
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            rc = err == 0 ? 0 : -1;
            errno = err;
        }
        if (rc == 0) {
            impl_->fd = fd;
            freeaddrinfo(found);
            return {};
        }
        last = {StepError::Socket, "cannot connect to " + address + " port " + port + ": " + std::strerror(errno)};
        ::close(fd);
    }
    freeaddrinfo(found);
    return last;
}

StepError Connection::read_reply(SmtpReply& reply, Clock::time_point deadline) {
    reply = {};
    for (;;) {
        const std::size_t eol = impl_->buffer.find('\n');
        if (eol == std::string::npos) {
            if (impl_->buffer.size() > kMaxLine)
                return {StepError::NotSmtp, "a line longer than " + std::to_string(kMaxLine) + " bytes: '" +
                                                clean(impl_->buffer.substr(0, 60)) + "...'"};
            if (StepError e = impl_->receive(deadline)) {
                if (e.kind == StepError::Closed && !impl_->buffer.empty())
                    return {StepError::NotSmtp, "an unterminated line '" + clean(impl_->buffer.substr(0, 80)) + "'"};
                return e;
            }
            continue;
        }
        std::string line = impl_->buffer.substr(0, eol);
        impl_->buffer.erase(0, eol + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const bool code_ok = line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
                             std::isdigit(static_cast<unsigned char>(line[1])) &&
                             std::isdigit(static_cast<unsigned char>(line[2])) && line[0] >= '2' && line[0] <= '5' &&
                             (line.size() == 3 || line[3] == ' ' || line[3] == '-');
        if (!code_ok) return {StepError::NotSmtp, "'" + clean(line.substr(0, 80)) + "' is not an SMTP reply"};
        const int code = std::stoi(line.substr(0, 3));
        if (reply.code != 0 && code != reply.code)
            return {StepError::NotSmtp, "a multi-line reply changes its code (" + clean(line.substr(0, 80)) + ")"};
        reply.code = code;
        reply.lines.push_back(clean(line.size() > 4 ? line.substr(4) : ""));
        if (line.size() == 3 || line[3] == ' ') return {};
        if (reply.lines.size() > kMaxLines) return {StepError::NotSmtp, "a reply of more than 200 lines"};
    }
}

StepError Connection::send_line(const std::string& line, Clock::time_point deadline) {
    return send_bytes(line + "\r\n", deadline);
}

StepError Connection::read_to_end(std::string& out, std::size_t limit, bool& truncated, Clock::time_point deadline) {
    truncated = false;
    for (;;) {
        if (impl_->buffer.size() > limit) {
            truncated = true;
            impl_->buffer.resize(limit);
            break;
        }
        StepError e = impl_->receive(deadline);
        if (e.kind == StepError::Closed) break;
        if (e) return e;
    }
    out = std::move(impl_->buffer);
    impl_->buffer.clear();
    return {};
}

StepError Connection::send_bytes(const std::string& data, Clock::time_point deadline) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        if (impl_->ssl) {
            ERR_clear_error();
            int n = SSL_write(impl_->ssl, data.data() + sent, static_cast<int>(data.size() - sent));
            if (n > 0) {
                sent += static_cast<std::size_t>(n);
                continue;
            }
            int err = SSL_get_error(impl_->ssl, n);
            if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
                return {StepError::Tls, "TLS error while sending: " + openssl_errors()};
            if (!wait_for(impl_->fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
                return {StepError::Timeout, ""};
            continue;
        }
        ssize_t n = ::send(impl_->fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_for(impl_->fd, POLLOUT, deadline)) return {StepError::Timeout, ""};
        } else if (errno != EINTR) {
            return {StepError::Socket, std::string("cannot send: ") + std::strerror(errno)};
        }
    }
    return {};
}

StepError Connection::start_tls(const TlsRequest& req, Clock::time_point deadline, TlsSession& session) {
    // Plaintext that arrived after the 220 must not be read as if it came
    // under TLS (the STARTTLS injection of CVE-2011-0411): drop it.
    impl_->buffer.clear();
    ERR_clear_error();
    int v = 0;
    switch (req.version) {
        case TlsVersion::None: break;
        case TlsVersion::TLSv1_0: v = TLS1_VERSION; break;
        case TlsVersion::TLSv1_1: v = TLS1_1_VERSION; break;
        case TlsVersion::TLSv1_2: v = TLS1_2_VERSION; break;
        case TlsVersion::TLSv1_3: v = TLS1_3_VERSION; break;
        default: return {StepError::Tls, "no such TLS version to try"};
    }
    SSL_CTX* ctx = impl_->ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return {StepError::Tls, "OpenSSL cannot create a context: " + openssl_errors()};
    if (v != 0) {
        SSL_CTX_set_min_proto_version(ctx, v);
        SSL_CTX_set_max_proto_version(ctx, v);
        // A probe wants to see what the server does, not to refuse old servers.
        SSL_CTX_set_options(ctx, SSL_OP_LEGACY_SERVER_CONNECT);
        SSL_CTX_set_security_level(ctx, 0);
        if (v < TLS1_3_VERSION && SSL_CTX_set_cipher_list(ctx, req.ciphers.c_str()) != 1)
            return {StepError::Tls, "no TLS 1.2 or older cipher to offer ('" + req.ciphers + "')"};
        if (v == TLS1_3_VERSION && SSL_CTX_set_ciphersuites(ctx, req.suites.c_str()) != 1)
            return {StepError::Tls, "no TLS 1.3 suite to offer ('" + req.suites + "')"};
    }
    SSL_CTX_set_default_verify_paths(ctx);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // judged afterwards, never fatal
    // Many servers (HTTPS ones above all) close without TLS's close_notify;
    // the caller knows from the content whether it got everything.
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    const bool dane = !req.tlsa.empty() && SSL_CTX_dane_enable(ctx) > 0;
    SSL* ssl = impl_->ssl = SSL_new(ctx);
    if (!ssl || SSL_set_fd(ssl, impl_->fd) != 1) return {StepError::Tls, "OpenSSL: " + openssl_errors()};
    const std::string& host = req.host;
    in6_addr a6;
    in_addr a4;
    const bool named = !host.empty() && inet_pton(AF_INET, host.c_str(), &a4) != 1 &&
                       inet_pton(AF_INET6, host.c_str(), &a6) != 1 && host.front() != '[';
    if (named) SSL_set_tlsext_host_name(ssl, host.c_str());
    // DANE for SMTP (RFC 7672): the TLSA base domain is the MX host, which a
    // DANE-TA chain must name; a DANE-EE match needs no name (section 3.2.1).
    if (dane && named && SSL_dane_enable(ssl, host.c_str()) > 0) {
        SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
        for (const TlsaRecord& r : req.tlsa)
            if (usable_for_smtp(r) &&
                SSL_dane_tlsa_add(ssl, r.usage, r.selector, r.mtype,
                                  reinterpret_cast<const unsigned char*>(r.data.data()), r.data.size()) > 0)
                session.dane_checked = true;
        ERR_clear_error();
    }
    for (;;) {
        ERR_clear_error();
        int rc = SSL_connect(ssl);
        if (rc == 1) break;
        int err = SSL_get_error(ssl, rc);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            if (!wait_for(impl_->fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
                return {StepError::Timeout, ""};
            continue;
        }
        std::string e = openssl_errors();
        if (e.empty()) e = err == SSL_ERROR_SYSCALL ? "the server closed the connection during the handshake"
                                                    : "handshake failed (SSL error " + std::to_string(err) + ")";
        return {StepError::Tls, e};
    }
    const SSL_CIPHER* c = SSL_get_current_cipher(ssl);
    session.protocol = SSL_get_version(ssl);
    session.cipher = c ? SSL_CIPHER_get_name(c) : "";
    session.bits = c ? SSL_CIPHER_get_bits(c, &session.alg_bits) : 0;
    certificate_facts(ssl, host, session);
    return {};
}

}  // namespace tlspolicy::probe
