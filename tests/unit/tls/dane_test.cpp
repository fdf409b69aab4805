// DANE (RFC 7672) as the probe checks it: a real TLS handshake on loopback to
// a server presenting tests/unit/data/dane/mx.pem (leaf, then its CA), with
// TLSA records whose data was computed apart with openssl and sha256sum
// (data/dane/README). One row per usage, selector and matching type, and the
// name rules: DANE-EE ignores names, DANE-TA needs the host's.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "tls/connection.hpp"
#include "golden.hpp"

namespace tlspolicy {
namespace {

const char* const kLeafCert256 = "0d69d28f9bf6e224456090b2bfaa15619cf4093174c8b4b94c1e2f2b45112540";
const char* const kLeafSpki256 = "ce7876b32a940ceea74544eed3a1b3cc133f8c4d42ae780b2b60510c5ec1f49e";
const char* const kLeafSpki512 =
    "0e5811048635a270f39f72a16d0d78c71aa076db368505c02e332b1e5447df1a5e259290bf682efc977c8f308ada63ebe4c09c67e2e3545d7897dc2ac334597c";
const char* const kLeafSpkiFull =
    "3059301306072a8648ce3d020106082a8648ce3d030107034200040340e7edc756e0c83b17477da79a96199cd976e10d03d32c268dc16c27df2b6d"
    "848e21a2c3e51cdc2835b62c36849f2462dc52aa8a84e2db55e51dc283d13266";
const char* const kCaCert256 = "f623717762049f7092f185fbaef9f0a6b383c91df2a28fe9be1967368c706493";
const char* const kCaSpki256 = "ff5374d6f1de5e63960b12d95a35541abd155d32104f8d1c1a6ed12c75ca346e";
const char* const kOtherSpki256 = "0af2a416165a29059d0fc0a58306154993777216797b1c45db8597873237283c";

std::filesystem::path data_dir() { return tests::source_dir() / "tests/unit/data/dane"; }

TlsaRecord tlsa(int usage, int selector, int mtype, const std::string& hex) {
    TlsaRecord r{static_cast<std::uint8_t>(usage), static_cast<std::uint8_t>(selector), static_cast<std::uint8_t>(mtype), ""};
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) r.data += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return r;
}

// One TLS server connection on 127.0.0.1 presenting `chain`; handshakes once.
class OneShotServer {
public:
    explicit OneShotServer(const std::string& chain) {
        ctx_ = SSL_CTX_new(TLS_server_method());
        const std::string key = chain.substr(0, chain.size() - 4) + ".key";
        ok_ = SSL_CTX_use_certificate_chain_file(ctx_, chain.c_str()) == 1 &&
              SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) == 1;
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        ok_ = ok_ && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 1) == 0 &&
              ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0;
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] {
            const int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            SSL* ssl = SSL_new(ctx_);
            SSL_set_fd(ssl, c);
            if (SSL_accept(ssl) == 1) {
                char buf[64];
                while (SSL_read(ssl, buf, sizeof buf) > 0) {
                }
            }
            SSL_free(ssl);
            ::close(c);
        });
    }
    ~OneShotServer() {
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        ::close(fd_);
        SSL_CTX_free(ctx_);
    }
    bool ok() const { return ok_; }
    std::string port() const { return std::to_string(port_); }

private:
    SSL_CTX* ctx_ = nullptr;
    int fd_ = -1;
    int port_ = 0;
    bool ok_ = false;
    std::thread thread_;
};

TEST(Dane, MatchingThePresentedChain) {
    std::signal(SIGPIPE, SIG_IGN);  // the server may still write session tickets after the client has gone
    struct Row {
        const char* name;
        std::string host;  // the TLSA base domain and SNI
        std::vector<TlsaRecord> records;
        bool want_checked, want_matched;
        int want_depth;
    };
    const std::vector<Row> rows = {
        {"DANE-EE SPKI SHA-256", "mx.example", {tlsa(3, 1, 1, kLeafSpki256)}, true, true, 0},
        {"DANE-EE certificate SHA-256", "mx.example", {tlsa(3, 0, 1, kLeafCert256)}, true, true, 0},
        {"DANE-EE SPKI SHA-512", "mx.example", {tlsa(3, 1, 2, kLeafSpki512)}, true, true, 0},
        {"DANE-EE SPKI in full", "mx.example", {tlsa(3, 1, 0, kLeafSpkiFull)}, true, true, 0},
        {"DANE-EE ignores the name", "other.example", {tlsa(3, 1, 1, kLeafSpki256)}, true, true, 0},
        {"DANE-TA CA certificate", "mx.example", {tlsa(2, 0, 1, kCaCert256)}, true, true, 1},
        {"DANE-TA CA key", "mx.example", {tlsa(2, 1, 1, kCaSpki256)}, true, true, 1},
        {"DANE-TA wants the host's name", "other.example", {tlsa(2, 0, 1, kCaCert256)}, true, false, -1},
        {"another certificate's key", "mx.example", {tlsa(3, 1, 1, kOtherSpki256)}, true, false, -1},
        {"one of two records matches", "mx.example", {tlsa(3, 1, 1, kOtherSpki256), tlsa(3, 1, 1, kLeafSpki256)}, true, true, 0},
        {"the leaf's key as a trust anchor", "mx.example", {tlsa(2, 1, 1, kOtherSpki256)}, true, false, -1},
        {"PKIX-TA only: nothing usable", "mx.example", {tlsa(0, 0, 1, kCaCert256)}, false, false, -1},
        {"no records", "mx.example", {}, false, false, -1},
    };
    for (const Row& r : rows) {
        SCOPED_TRACE(r.name);
        OneShotServer server((data_dir() / "mx.pem").string());
        ASSERT_TRUE(server.ok()) << "cannot serve " << (data_dir() / "mx.pem");
        probe::Connection conn;
        std::string address;
        const auto deadline = probe::Clock::now() + std::chrono::seconds(5);
        ASSERT_FALSE(conn.connect("127.0.0.1", server.port(), deadline, address));
        probe::TlsSession s;
        probe::TlsRequest req;
        req.host = r.host;
        req.tlsa = r.records;
        const probe::StepError e = conn.start_tls(req, deadline, s);
        ASSERT_FALSE(e) << e.text;
        EXPECT_EQ(s.dane_checked, r.want_checked);
        EXPECT_EQ(s.dane_matched, r.want_matched) << s.dane_error;
        EXPECT_EQ(s.dane_depth, r.want_depth);
        if (r.want_matched) {
            EXPECT_EQ(s.dane_record.substr(0, 6), tlsa_text(r.records.back()).substr(0, 6));
        }
        if (r.want_checked && !r.want_matched) {
            EXPECT_FALSE(s.dane_error.empty());
        }
        // The system trust store does not know the test CA, with or without DANE.
        EXPECT_FALSE(s.verified);
        EXPECT_EQ(s.name_matches, r.host == "mx.example");
    }
}

}  // namespace
}  // namespace tlspolicy
