// A client connection for `probe`: connect, read SMTP replies, send lines or
// bytes, upgrade to TLS (after STARTTLS, or at once for HTTPS), every step
// bounded by a deadline. Sockets and OpenSSL stay in src/tls/connection.cpp;
// callers see strings.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/tls_version.hpp"
#include "core/tlsa.hpp"

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
    // DANE (RFC 7672), when usable TLSA records were given: OpenSSL's own
    // check of the presented chain against them (DANE-EE: the leaf, without
    // name or expiry checks; DANE-TA: a chain to the trust anchor that names the host).
    bool dane_checked = false;  // at least one record was usable
    bool dane_matched = false;
    int dane_depth = -1;        // 0: the leaf matched; more: a certificate up the chain
    std::string dane_record;    // the record that matched, "3 1 1 ab..."
    std::string dane_error;     // why no record matched
};

// What to ask of a TLS handshake.
struct TlsRequest {
    TlsVersion version = TlsVersion::None;  // pinned; None: what the library allows by default
    std::string ciphers, suites;            // pinned versions: OpenSSL lists (TLS <= 1.2, TLS 1.3)
    std::string host;                       // SNI and the name check; an address: no SNI
    std::vector<TlsaRecord> tlsa;           // check the chain against these too (DANE)
};

class Connection {
public:
    Connection();
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Resolves and connects (numeric addresses without DNS). `address` gets the
    // address connected to, "192.0.2.1" or "[2001:db8::1]".
    StepError connect(const std::string& host, const std::string& port, Clock::time_point deadline,
                      std::string& address);
    StepError read_reply(SmtpReply& reply, Clock::time_point deadline);
    StepError send_line(const std::string& line, Clock::time_point deadline);  // adds CRLF
    StepError send_bytes(const std::string& data, Clock::time_point deadline);
    // Everything the server sends until it closes, at most `limit` bytes (then
    // `truncated` is set and the rest is not read).
    StepError read_to_end(std::string& out, std::size_t limit, bool& truncated, Clock::time_point deadline);
    // The TLS handshake (after STARTTLS was answered 220, or at once); a
    // certificate that does not verify is reported in `session`, never fatal.
    StepError start_tls(const TlsRequest& request, Clock::time_point deadline, TlsSession& session);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// What `probe` offers when not told otherwise: everything, legacy included.
extern const char* const kAllCiphers;
extern const char* const kAllSuites;

}  // namespace tlspolicy::probe
