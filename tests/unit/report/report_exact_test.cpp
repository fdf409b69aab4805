// The summaries are exact: over generated rows (every kind of decision,
// several hosts, senders, clients, certificates, months, ties within a
// second), `report`, `report --evidence`, `report --suggest` and `report --against` with a
// stricter policy (client, hostname, sender and certificate selectors)
// print the same from the summaries as from a full scan of the raw rows
// (--raw), on SQLite and on PostgreSQL, each after a migration from the
// previous schema: half the rows were written by it, half since, with
// outbound deliveries among them.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../store/legacy_store.hpp"
#include "../store/pg_test_util.hpp"
#include "report/report.hpp"
#include "store/observation_store.hpp"
#include "store/sqlite/sqlite.hpp"
#include "store_test_util.hpp"

namespace tlspolicy {
namespace {

constexpr const char* kPolicy = R"(
[milter]
mode = "monitor"
[defaults]
require_tls = false
action = "tempfail"
[[partner]]
name = "acme"
senders = ["acme.example", ".acme.example"]
require_tls = true
action = "reject"
[[partner]]
name = "globex"
clients = ["198.51.100.0/24"]
require_tls = true
action = "tempfail"
[[recipient]]
name = "hr"
recipients = ["hr@example.com"]
require_tls = true
min_version = "TLSv1.3"
action = "reject"
)";

// Stricter on every fact a selector or a requirement can test.
constexpr const char* kStricter = R"(
[milter]
mode = "enforce"
[defaults]
require_tls = false
action = "annotate"
[[partner]]
name = "acme"
senders = ["acme.example", ".acme.example", "billing@d3.example"]
require_tls = true
min_version = "TLSv1.2"
action = "reject"
[[partner]]
name = "nets"
clients = ["198.51.100.0/25", "2001:db8::/120"]
require_tls = true
min_version = "TLSv1.2"
min_cipher_bits = 256
action = "tempfail"
[[partner]]
name = "hosts"
hostnames = [".d2.example"]
ciphers = "ECDHE+AESGCM"
ciphersuites = "TLS_AES_256_GCM_SHA384"
action = "reject"
[[partner]]
name = "certs"
senders = ["d4.example"]
cert_subjects = [".d4.example"]
cert_issuers = ["Good CA"]
action = "reject"
reply = "d4.example must present its certificate"
)";

// A deterministic stream of numbers.
struct Lcg {
    std::uint64_t x = 0x9e3779b97f4a7c15ULL;
    std::uint64_t next(std::uint64_t n) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        return (x >> 33) % n;
    }
};

// Sessions in the same second that only a tie-break orders, each pair
// written in the order the tie-break does not prefer: the weakest session of
// a rule and month (plaintext on two hosts, one refused), of a domain (two
// ciphers of one strength), and a sender's latest refusal (two replies).
void add_ties(std::vector<Observation>& out, std::int64_t t) {
    Observation o;
    o.time = t;
    o.client = "203.0.113.9";
    o.sender = "tie@acme.example";
    o.rules = {{"acme", RuleKind::Partner}};
    o.stage = Stage::Message;
    o.host = "mx2";
    out.push_back(o);  // plaintext, accepted on mx2; then refused on mx1: mx1 sorts first
    o.host = "mx1";
    o.stage = Stage::Mail;
    o.action = Decision::Reject;
    out.push_back(o);
    o = {};
    o.time = t;
    o.client = "203.0.113.9";
    o.sender = "t@tie.example";
    o.rules = {{"default", RuleKind::Defaults}};
    o.stage = Stage::Message;
    o.host = "mx2";
    o.version = TlsVersion::TLSv1_0;
    o.cipher_bits = o.alg_bits = 256;
    o.cipher = "ECDHE-RSA-AES256-SHA";  // then AES256-SHA, of the same strength: it sorts first
    out.push_back(o);
    o.cipher = "AES256-SHA";
    out.push_back(o);
    o.sender = "tie@d4.example";      // refused by hosts and certs (hosts' reply: the first of the worst),
    o.hostname = "mail.d2.example";  // then by certs alone (its own reply): of two replies in one second
    out.push_back(o);                // the later in byte order wins, not the later row
    o.hostname = "";
    out.push_back(o);
}

std::vector<Observation> generate(std::int64_t now, int n, bool names_only_rows) {
    struct Tls {
        TlsVersion version;
        const char* cipher;
        int bits;
    };
    // Pairs of equal strength under other names: ties the reports must break alike.
    const Tls tls[] = {{TlsVersion::None, "", 0},
                       {TlsVersion::TLSv1_0, "ECDHE-RSA-AES256-SHA", 256},
                       {TlsVersion::TLSv1_0, "AES256-SHA", 256},
                       {TlsVersion::TLSv1_1, "ECDHE-RSA-AES128-SHA", 128},
                       {TlsVersion::TLSv1_2, "ECDHE-RSA-AES128-GCM-SHA256", 128},
                       {TlsVersion::TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256", 128},
                       {TlsVersion::TLSv1_2, "ECDHE-RSA-AES256-GCM-SHA384", 256},
                       {TlsVersion::TLSv1_3, "TLS_AES_256_GCM_SHA384", 256},
                       {TlsVersion::TLSv1_3, "TLS_CHACHA20_POLY1305_SHA256", 256}};
    const char* senders[] = {"a@acme.example", "b@mail.acme.example", "billing@d3.example", "x@d2.example",
                             "y@d4.example",   "",                    "postmaster",         "z@d5.example"};
    const char* clients[] = {"198.51.100.7", "198.51.100.200", "203.0.113.5", "2001:db8::12", "2001:db8::1:5"};
    const char* hosts[] = {"mx1", "mx2", "mx3", ""};
    constexpr auto P = RuleKind::Partner, R = RuleKind::Recipient, D = RuleKind::Defaults;
    const std::vector<RuleRef> rules[] = {{{"acme", P}}, {{"globex", P}}, {{"default", D}}, {{"acme", P}, {"hr", R}},
                                          {{"oldpartner", P}}, {{"default", D}, {"hr", R}}};
    Lcg r;
    std::vector<Observation> out;
    std::int64_t t = now - 200 * 86400;
    const std::int64_t today = now - now % 86400;
    for (int i = 0; i < n; ++i) {
        Observation o;
        // Mostly forward in time, some in the same second, a few later today than now.
        if (r.next(5) != 0) t += static_cast<std::int64_t>(r.next(2 * 200 * 86400 / n));
        o.time = i % 97 == 0 ? today + 86399 - static_cast<std::int64_t>(r.next(60)) : std::min(t, now);
        const Tls& s = tls[r.next(std::size(tls))];
        o.version = s.version;
        o.cipher = s.cipher;
        o.cipher_bits = s.bits;
        o.alg_bits = r.next(4) == 0 ? 256 : s.bits;
        o.sender = senders[r.next(std::size(senders))];
        o.client = clients[r.next(std::size(clients))];
        o.hostname = r.next(3) == 0 ? "" : "mail." + std::string(address_domain(o.sender).empty() ? "d2.example" : address_domain(o.sender));
        o.host = hosts[r.next(names_only_rows ? 4 : 3)];
        if (o.version != TlsVersion::None && r.next(3) == 0)
            o.cert = {r.next(2) ? CertStatus::Verified : CertStatus::Unverified, "mx.d4.example",
                      r.next(2) ? "Good CA" : "Other CA"};
        const std::uint64_t kind = r.next(10);
        o.stage = kind < 2 ? Stage::Mail : kind < 3 ? Stage::Rcpt : Stage::Message;
        o.rules = o.stage == Stage::Rcpt ? std::vector<RuleRef>{{"hr", R}} : rules[r.next(std::size(rules))];
        if (o.stage == Stage::Rcpt) o.recipient = "hr@example.com";
        o.action = o.stage == Stage::Message ? Decision::Accept : r.next(2) ? Decision::Reject : Decision::Tempfail;
        if (o.stage == Stage::Rcpt && r.next(2)) o.action = Decision::Accept;
        o.would = o.action == Decision::Accept && r.next(4) == 0 ? Decision::Reject : Decision::Accept;
        o.result = o.action != Decision::Accept || o.would != Decision::Accept ? Result::Fail : Result::Pass;
        o.queue_id = o.stage == Stage::Message ? "Q" + std::to_string(i) : "";
        o.rule_kinds_known = !(names_only_rows && r.next(6) == 0);
        out.push_back(std::move(o));
        if (i % 100 == 50) add_ties(out, out.back().time + 1);
    }
    return out;
}

// Outbound deliveries as `ingest` stores them: every transport and outcome,
// deferrals and bounces for TLS, verified and unverified servers, to acme's
// domains, to the defaults, on two hosts, over 200 days.
std::vector<Observation> generate_outbound(std::int64_t now, int n) {
    constexpr auto P = RuleKind::Partner, D = RuleKind::Defaults;
    const Transport transports[] = {Transport::Tls, Transport::Tls, Transport::Plaintext, Transport::NoConnection,
                                    Transport::Unknown};
    const DeliveryStatus statuses[] = {DeliveryStatus::Sent, DeliveryStatus::Sent, DeliveryStatus::Deferred,
                                       DeliveryStatus::Bounced};
    Lcg r;
    std::vector<Observation> out;
    for (int i = 0; i < n; ++i) {
        Observation o;
        o.direction = Direction::Outbound;
        o.stage = Stage::Message;
        o.time = now - static_cast<std::int64_t>(r.next(200 * 86400));
        o.transport = transports[r.next(std::size(transports))];
        o.delivery = statuses[r.next(std::size(statuses))];
        o.tls_reason = o.delivery != DeliveryStatus::Sent && r.next(2) == 0;
        o.recipient = r.next(3) ? "rcpt@acme.example" : "rcpt@elsewhere.example";
        o.rules = o.recipient == "rcpt@acme.example" ? std::vector<RuleRef>{{"acme", P}} : std::vector<RuleRef>{{"default", D}};
        o.host = r.next(2) ? "mx1" : "mx2";
        o.relay_host = "mx.acme.example";
        o.relay_address = "192.0.2.25";
        if (o.transport == Transport::Tls) {
            o.version = r.next(3) == 0 ? TlsVersion::TLSv1_0 : TlsVersion::TLSv1_3;
            o.cipher = o.version == TlsVersion::TLSv1_3 ? "TLS_AES_256_GCM_SHA384" : "ECDHE-RSA-AES256-SHA";
            o.cipher_bits = o.alg_bits = 256;
            o.cert.status = r.next(2) ? CertStatus::Verified : CertStatus::Unverified;
            o.cert_verification = o.cert.status == CertStatus::Verified ? "verified" : "untrusted";
        }
        o.result = o.transport == Transport::Plaintext ? Result::Fail : Result::Pass;
        o.action = o.delivery == DeliveryStatus::Sent ? Decision::Accept : Decision::Tempfail;
        out.push_back(std::move(o));
    }
    return out;
}

std::string write_file(const test::StoreDir& dir, const char* name, const char* text) {
    const std::string path = dir.file(name);
    std::ofstream(path) << text;
    return path;
}

// Every report, from the summaries and from the rows: the same bytes.
void expect_summaries_exact(const std::string& database, std::int64_t now, const test::StoreDir& dir) {
    LoadResult policy = load_config_text(kPolicy, "policy.toml");
    ASSERT_TRUE(policy.ok());
    const std::string stricter = write_file(dir, "stricter.toml", kStricter);
    auto source = open_observation_source(database, nullptr);
    ASSERT_TRUE(source);
    ASSERT_TRUE(source->has_summaries()) << "migrated: the summaries are there";
    struct Kind {
        const char* name;
        bool evidence;
        bool against;
        const char* format;
        bool suggest = false;
    };
    const Kind kinds[] = {{"report", false, false, "json"}, {"report text", false, false, "text"},
                          {"evidence", true, false, "json"}, {"evidence text", true, false, "text"},
                          {"against", false, true, "json"}, {"suggest", false, false, "json", true},
                          {"suggest toml", false, false, "toml", true}};
    int compared = 0;
    for (const char* since : {"3d", "10d", "45d", "200d", "400d"})
        for (const char* host : {"", "mx2"})
            for (const Kind& k : kinds) {
                SCOPED_TRACE(std::string(k.name) + " --since " + since + (*host ? " --host " : "") + host);
                ReportOptions opt{.since = since, .format = k.format, .against = k.against ? stricter : "",
                                  .database = database, .now = now, .host = host, .evidence = k.evidence,
                                  .suggest = k.suggest, .min_messages = 3};
                std::ostringstream summary_out, summary_err, rows_out, rows_err;
                ASSERT_EQ(run_report(*policy.config, opt, summary_out, summary_err), 0) << summary_err.str();
                opt.raw = true;
                ASSERT_EQ(run_report(*policy.config, opt, rows_out, rows_err), 0) << rows_err.str();
                EXPECT_EQ(summary_err.str(), rows_err.str()) << "no note: the summaries were read";
                EXPECT_EQ(summary_out.str(), rows_out.str());
                ++compared;
            }
    EXPECT_EQ(compared, 70);
}

TEST(ReportExact, SummariesMatchEveryRowOnSqliteAfterMigration) {
    test::StoreDir dir;
    const std::string path = dir.file("observations.sqlite");
    const std::int64_t now = test::now_s();
    const std::vector<Observation> rows = generate(now, 3000, true);
    const std::size_t half = rows.size() / 2;
    {
        std::string error;
        sqlite::Db db = sqlite::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &error);
        ASSERT_TRUE(db) << error;
        ASSERT_TRUE(sqlite::exec(db.get(), test::kSqliteSchemaThree, &error)) << error;
        ASSERT_TRUE(sqlite::exec(db.get(), test::legacy_inserts(std::span(rows).first(half)), &error)) << error;
    }
    {
        ObservationStore store({.path = path, .keep_days = 400}, [](std::string_view l) { ADD_FAILURE() << l; });
        for (std::size_t i = half; i < rows.size(); ++i) {
            Observation o = rows[i];
            o.rule_kinds_known = true;  // a writer of this release records kinds
            store.enqueue(std::move(o));
            if (i % 200 == 0) store.flush();  // batches of all sizes
        }
        for (Observation& o : generate_outbound(now, 500)) store.enqueue(std::move(o));
    }
    expect_summaries_exact(path, now, dir);
}

TEST(PostgresReportExact, SummariesMatchEveryRowAfterMigration) {
    NEED_SERVER(server);
    test::StoreDir dir;
    const std::string url = test::fresh_database(server, "exact");
    const std::int64_t now = test::now_s();
    const std::vector<Observation> rows = generate(now, 3000, false);
    const std::size_t half = rows.size() / 2;
    test::query(url, test::kPostgresSchemaOne);
    test::query(url, test::legacy_inserts(std::span(rows).first(half)));
    {
        ObservationStore store({.path = url, .keep_days = 400, .spool = dir.file("spool.sqlite")},
                               [](std::string_view l) { ADD_FAILURE() << l; });
        for (std::size_t i = half; i < rows.size(); ++i) {
            store.enqueue(Observation(rows[i]));
            if (i % 200 == 0) store.flush();
        }
        for (Observation& o : generate_outbound(now, 500)) store.enqueue(std::move(o));
    }
    expect_summaries_exact(url, now, dir);
}

}  // namespace
}  // namespace tlspolicy
