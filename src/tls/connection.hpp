// A minimal SMTP client connection for `probe`: connect, read replies, send
// commands, upgrade with STARTTLS, every step bounded by a deadline. Sockets
// and OpenSSL stay in src/tls/smtp_client.cpp; callers see strings.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/tls_version.hpp"

namespace tlspolicy::probe {

using Clock = std::chrono::steady_clock;

// Why a step failed; the text says what happened, for an operator.
struct StepError {
    enum Kind { None, Timeout, Closed, NotSmtp, Socket, Tls } kind = None;
    std::string text;
    explicit operator bool() const { return kind != None; }
};

struct SmtpReply {
    int code = 0;
    std::vector<std::string> lines;  // text after "NNN-" / "NNN ", sanitised
    std::string first() const;       // "220 mx.example ESMTP" for messages
};

// What a TLS handshake produced.
struct TlsSession {
    std::string protocol;  // "TLSv1.2" as OpenSSL names it
    std::string cipher;
    int bits = 0, alg_bits = 0;
    bool has_cert = false;
    std::string subject, issuer, not_after;  // RFC 2253 names; not_after "2026-12-31T23:59:59Z"
    bool verified = false;                   // chain against the system trust store
    std::string verify_error;                // OpenSSL's reason when not verified
    bool name_matches = false;               // the certificate names the host we asked for
};

class SmtpConnection {
public:
    SmtpConnection();
    ~SmtpConnection();
    SmtpConnection(const SmtpConnection&) = delete;
    SmtpConnection& operator=(const SmtpConnection&) = delete;

    // Resolves and connects (numeric addresses without DNS). `address` gets the
    // address connected to, "192.0.2.1" or "[2001:db8::1]".
    StepError connect(const std::string& host, const std::string& port, Clock::time_point deadline,
                      std::string& address);
    StepError read_reply(SmtpReply& reply, Clock::time_point deadline);
    StepError send_line(const std::string& line, Clock::time_point deadline);
    // STARTTLS already answered 220: handshake pinned to `version`, offering
    // `ciphers` (OpenSSL string, TLS <= 1.2) and `suites` (TLS 1.3); SNI and
    // the name check use `host`.
    StepError start_tls(TlsVersion version, const std::string& ciphers, const std::string& suites,
                        const std::string& host, Clock::time_point deadline, TlsSession& session);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// What `probe` offers when not told otherwise: everything, legacy included.
extern const char* const kAllCiphers;
extern const char* const kAllSuites;

}  // namespace tlspolicy::probe
