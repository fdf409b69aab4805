// A fake ObservationSource for the report's tests: two MX hosts and one row
// of an older schema over four months before kNow, and the policy versions
// the hosts recorded. Rows are filtered by time as a real store does.
#pragma once
#include <vector>

#include "config/config.hpp"
#include "store/observation_source.hpp"
#include "summary_model.hpp"

namespace tlspolicy::fixture {

constexpr std::int64_t kNow = 1715169600;  // 2024-05-08T12:00:00Z
constexpr std::int64_t kDec1 = 1701388800, kJan20 = 1705708800, kFeb10 = 1707523200, kFeb20 = 1708387200,
                       kMar1 = 1709251200, kMar5 = 1709596800, kMar15 = 1710460800, kApr2 = 1712016000,
                       kApr20 = 1713571200, kMay1 = 1714521600;

inline std::shared_ptr<const Config> policy() {  // acme, globex, initech; recipient rule hr; monitor
    return load_config_file("tests/golden/report/policy.toml").config;
}

inline Observation row(std::int64_t time, const char* host, std::vector<RuleRef> rules, TlsVersion v,
                       Decision action = Decision::Accept, Decision would = Decision::Accept,
                       Stage stage = Stage::Mail) {
    static const std::map<TlsVersion, std::pair<const char*, int>> kCiphers{
        {TlsVersion::None, {"", 0}},
        {TlsVersion::TLSv1_0, {"ECDHE-RSA-AES256-SHA", 256}},
        {TlsVersion::TLSv1_2, {"ECDHE-RSA-AES128-GCM-SHA256", 128}},
        {TlsVersion::TLSv1_3, {"TLS_AES_256_GCM_SHA384", 256}}};
    Observation o;
    o.time = time;
    o.stage = stage;
    o.host = host;
    o.client = "203.0.113.10";
    o.sender = "alice@acme.example";
    if (stage == Stage::Rcpt) o.recipient = "hr@example.com";
    o.rules = std::move(rules);
    o.version = v;
    o.cipher = kCiphers.at(v).first;
    o.cipher_bits = o.alg_bits = kCiphers.at(v).second;
    o.action = action;
    o.would = would;
    return o;
}

inline Observation outbound(std::int64_t time, const char* host, std::vector<RuleRef> rules, TlsVersion v,
                            CertStatus cert, DeliveryStatus status = DeliveryStatus::Sent) {
    Observation o = row(time, host, std::move(rules), v, status == DeliveryStatus::Sent ? Decision::Accept
                                                                                         : Decision::Tempfail,
                        Decision::Accept, Stage::Message);
    o.direction = Direction::Outbound;
    o.client = o.sender = "";
    o.recipient = "bob@acme.example";
    o.transport = v == TlsVersion::None ? Transport::Plaintext : Transport::Tls;
    o.delivery = status;
    o.tls_reason = status != DeliveryStatus::Sent;
    o.relay_host = "mx.acme.example";
    o.relay_address = "192.0.2.25";
    o.cert.status = cert;
    o.cert_verification = cert == CertStatus::Verified ? "verified" : cert == CertStatus::Unverified ? "untrusted" : "";
    return o;
}

class FakeSource final : public ObservationSource {
public:
    FakeSource() {
        constexpr auto P = RuleKind::Partner, R = RuleKind::Recipient;
        constexpr auto A = Decision::Accept, J = Decision::Reject;
        rows = {
            row(kFeb10, "mx1", {{"acme", P}}, TlsVersion::TLSv1_3),
            row(kFeb20, "", {{"acme", P}}, TlsVersion::TLSv1_3),  // schema 2: no host, names only
            row(kMar5, "mx1", {{"acme", P}}, TlsVersion::TLSv1_0, A, J),
            row(kApr2, "mx1", {{"acme", P}}, TlsVersion::TLSv1_2),
            row(kApr20, "mx2", {{"hr", R}}, TlsVersion::TLSv1_2, A, J, Stage::Rcpt),
            row(kApr20 + 60, "mx2", {{"acme", P}, {"hr", R}}, TlsVersion::TLSv1_2),
            row(kMay1, "mx2", {{"acme", P}}, TlsVersion::None, J),
        };
        rows[1].rule_kinds_known = false;
        // Outbound deliveries to acme (`ingest`): sent over TLS 1.3 to a verified server, deferred for
        // TLS (no STARTTLS offered), sent over TLS 1.0 to an unverified one; and one to the defaults.
        rows.push_back(outbound(kApr2 + 60, "mx1", {{"acme", P}}, TlsVersion::TLSv1_3, CertStatus::Verified));
        rows.push_back(outbound(kApr20 + 120, "mx1", {{"acme", P}}, TlsVersion::None, CertStatus::None,
                                DeliveryStatus::Deferred));
        rows.push_back(outbound(kMay1 + 60, "mx2", {{"acme", P}}, TlsVersion::TLSv1_0, CertStatus::Unverified));
        rows.push_back(outbound(kMay1 + 120, "mx2", {{"default", RuleKind::Defaults}}, TlsVersion::TLSv1_3,
                                CertStatus::Verified));
        versions = {{kDec1, "mx1", std::string(64, 'a'), Mode::Monitor},
                    {kJan20, "mx2", std::string(64, 'a'), Mode::Monitor},
                    {kMar1, "mx1", std::string(64, 'b'), Mode::Enforce},
                    {kMar15, "mx2", std::string(64, 'b'), Mode::Enforce}};
    }
    std::string for_each(std::int64_t since, std::int64_t until,
                         const std::function<void(const Observation&)>& each) override {
        for (const Observation& o : rows)
            if (o.time >= since && o.time <= until) each(o);
        return "";
    }
    bool has_summaries() override { return summaries; }
    std::string for_each_summary(const SummaryQuery& q,
                                 const std::function<void(const Observation&, const Weight&)>& each) override {
        test::model_summary(rows, q, each);
        return "";
    }
    std::string policy_versions(std::int64_t since, std::int64_t until, std::vector<PolicyVersion>& out) override {
        out.clear();  // as the interface says: in the window, plus each host's last one before it
        std::map<std::string, PolicyVersion> before;
        for (const PolicyVersion& v : versions)
            if (v.time < since) before[v.host] = v;
        for (const auto& [host, v] : before) out.push_back(v);
        for (const PolicyVersion& v : versions)
            if (v.time >= since && v.time <= until) out.push_back(v);
        return "";
    }

    std::vector<Observation> rows;
    bool summaries = true;  // false: a database of an older release, read row by row
    std::vector<PolicyVersion> versions;
};

}  // namespace tlspolicy::fixture
