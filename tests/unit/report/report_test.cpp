// `report` on a database built here from a fixed list of observations: known
// numbers, golden output per format (tests/golden/report/NAME.FORMAT;
// UPDATE_GOLDEN=1 rewrites them and fails, golden.hpp), the weakness order, and --against listing
// exactly the senders the stricter policy refuses.
#include <gtest/gtest.h>

#include <map>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.hpp"
#include "report/report.hpp"
#include "store/observation_row.hpp"
#include "store/sqlite/schema.hpp"
#include "store/observation_store.hpp"
#include "golden.hpp"

namespace tlspolicy {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = "tests/golden/report";
constexpr std::int64_t kNow = 1715169600;  // 2024-05-08T12:00:00Z

struct Session {
    int hours_ago;
    const char* sender;
    const char* client;
    TlsVersion version;
    const char* cipher;
    int bits;
    const char* rules;
    Stage stage = Stage::Mail;
};

constexpr auto T10 = TlsVersion::TLSv1_0, T11 = TlsVersion::TLSv1_1, T12 = TlsVersion::TLSv1_2,
               T13 = TlsVersion::TLSv1_3, PLAIN = TlsVersion::None;

// Three partners and the rest, over the week before kNow.
const std::vector<Session> kWeek = {
    {150, "alice@acme.example", "203.0.113.10", T13, "TLS_AES_256_GCM_SHA384", 256, "acme"},
    {100, "alice@acme.example", "203.0.113.10", T13, "TLS_AES_256_GCM_SHA384", 256, "acme"},
    {20, "alice@acme.example", "203.0.113.10", T13, "TLS_AES_256_GCM_SHA384", 256, "acme,hr"},
    {120, "bob@acme.example", "203.0.113.11", T10, "ECDHE-RSA-AES256-SHA", 256, "acme"},
    {50, "bob@acme.example", "203.0.113.11", T10, "ECDHE-RSA-AES256-SHA", 256, "acme"},
    {30, "bob@acme.example", "203.0.113.11", T12, "ECDHE-RSA-AES128-GCM-SHA256", 128, "acme"},
    {30, "bob@acme.example", "203.0.113.11", T12, "ECDHE-RSA-AES128-GCM-SHA256", 128, "hr", Stage::Rcpt},
    {70, "billing@mail.acme.example", "203.0.113.12", PLAIN, "", 0, "acme"},
    {140, "news@globex.example", "198.51.100.5", T12, "ECDHE-RSA-AES128-SHA256", 128, "globex"},
    {90, "news@globex.example", "198.51.100.5", T12, "ECDHE-RSA-AES128-SHA256", 128, "globex"},
    {40, "news@globex.example", "198.51.100.5", T12, "ECDHE-RSA-AES256-GCM-SHA384", 256, "globex"},
    {10, "news@globex.example", "198.51.100.5", T12, "ECDHE-RSA-AES256-GCM-SHA384", 256, "globex"},
    {60, "ops@globex.example", "198.51.100.6", T11, "ECDHE-RSA-AES128-SHA", 128, "globex"},
    {80, "peter@initech.example", "192.0.2.20", T12, "ECDHE-RSA-AES128-GCM-SHA256", 128, "initech"},
    {5, "peter@initech.example", "192.0.2.20", T12, "ECDHE-RSA-AES128-GCM-SHA256", 128, "initech"},
    {3, "milton@initech.example", "192.0.2.21", T13, "TLS_CHACHA20_POLY1305_SHA256", 256, "initech"},
    {110, "", "192.0.2.7", PLAIN, "", 0, "default"},
    {2, "", "192.0.2.7", PLAIN, "", 0, "default"},
    {1, "friend@example.org", "192.0.2.8", T13, "TLS_AES_128_GCM_SHA256", 128, "default"},
    {200, "alice@acme.example", "203.0.113.10", T10, "DES-CBC3-SHA", 112, "acme"},  // before the window
};

struct TempDb {
    fs::path dir;
    std::string path;
    explicit TempDb(const std::vector<Session>& sessions) {
        std::string tmpl = (fs::temp_directory_path() / "report-XXXXXX").string();
        dir = mkdtemp(tmpl.data());
        path = (dir / "observations.sqlite").string();
        ObservationStore store({.path = path, .keep_days = 36500},
                               [](std::string_view line) { ADD_FAILURE() << "store: " << line; });
        for (const Session& s : sessions) {
            Observation o;
            o.time = kNow - s.hours_ago * 3600;
            o.stage = s.stage;
            o.client = s.client;
            o.sender = s.sender;
            o.rules = store::parse_rules(s.rules);
            for (RuleRef& r : o.rules)  // as the milter records it: hr is a [[recipient]] rule
                if (r.name == "hr") r.kind = RuleKind::Recipient;
            o.version = s.version;
            o.cipher = s.cipher;
            o.cipher_bits = o.alg_bits = s.bits;
            o.result = s.version < T12 ? Result::Fail : Result::Pass;
            store.enqueue(std::move(o));
        }
    }
    ~TempDb() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

std::shared_ptr<const Config> policy() {
    LoadResult r = load_config_file((kDir / "policy.toml").string());
    EXPECT_TRUE(r.ok());
    return r.config;
}

// The report's output with the temporary database's path made stable.
std::string run(const TempDb& db, const std::string& format, const std::string& since, const std::string& against,
                int* rc = nullptr) {
    std::ostringstream out, err;
    ReportOptions opt;
    opt.since = since;
    opt.format = format;
    opt.against = against;
    opt.database = db.path;
    opt.now = kNow;
    int code = run_report(*policy(), opt, out, err);
    if (rc) *rc = code;
    std::string s = out.str() + err.str();
    for (std::size_t p; (p = s.find(db.path)) != std::string::npos;) s.replace(p, db.path.size(), "DATABASE");
    return s;
}

// RFC 4180: fields, quoted with "" inside quotes; records end in CRLF.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
    std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
    bool quoted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') rows.back().back() += text[++i];
            else if (c == '"') quoted = false;
            else rows.back().back() += c;
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            rows.back().emplace_back();
        } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
            ++i;
            rows.emplace_back(1);
        } else {
            rows.back().back() += c;
        }
    }
    if (rows.back() == std::vector<std::string>(1)) rows.pop_back();
    return rows;
}

TEST(ReportGolden, EveryFormat) {
    struct Case {
        const char* name;
        const char* format;
        const char* since;
        const char* against;
    };
    const Case cases[] = {
        {"week.txt", "text", "7d", ""},
        {"week.csv", "csv", "7d", ""},
        {"week.json", "json", "7d", ""},
        {"week.html", "html", "7d", ""},
        {"against.txt", "text", "7d", "tests/golden/report/stricter.toml"},
        {"against.csv", "csv", "7d", "tests/golden/report/stricter.toml"},
        {"against.json", "json", "7d", "tests/golden/report/stricter.toml"},
        {"against.html", "html", "7d", "tests/golden/report/stricter.toml"},
        {"day.html", "html", "1d", ""},
        {"empty.txt", "text", "30m", ""},
    };
    ASSERT_TRUE(tests::in_source_dir());
    TempDb db(kWeek);
    for (const Case& c : cases) {
        int rc = -1;
        std::string got = run(db, c.format, c.since, c.against, &rc);
        EXPECT_EQ(rc, 0) << c.name << ": " << got;
        tests::expect_golden(kDir / c.name, got, c.name);
    }
}

TEST(Report, KnownNumbersPerRuleAndDomain) {
    struct Want {
        const char* section;
        const char* name;
        const char* sessions;
        const char* plaintext_share;
        const char* weakest_version;
        const char* last_weak;
    };
    const Want wants[] = {
        {"rule", "acme", "7", "0.1429", "none", "2024-05-06T10:00:00Z"},
        {"rule", "globex", "5", "0.0000", "TLS1_1", "2024-05-06T00:00:00Z"},
        {"rule", "default", "3", "0.6667", "none", "2024-05-08T10:00:00Z"},
        {"rule", "initech", "3", "0.0000", "TLS1_2", ""},
        {"domain", "acme.example", "6", "0.0000", "TLS1_0", "2024-05-06T10:00:00Z"},
        {"domain", "globex.example", "5", "0.0000", "TLS1_1", "2024-05-06T00:00:00Z"},
        {"domain", "initech.example", "3", "0.0000", "TLS1_2", ""},
        {"domain", "<>", "2", "1.0000", "none", "2024-05-08T10:00:00Z"},
        {"domain", "example.org", "1", "0.0000", "TLS1_3", ""},
        {"domain", "mail.acme.example", "1", "1.0000", "none", "2024-05-05T14:00:00Z"},
    };
    TempDb db(kWeek);
    auto rows = parse_csv(run(db, "csv", "7d", ""));
    ASSERT_EQ(rows.size(), std::size(wants) + 1) << "a header and one line per rule and domain, in this order";
    const auto& head = rows[0];
    auto col = [&](const char* name) { return std::find(head.begin(), head.end(), name) - head.begin(); };
    for (std::size_t i = 0; i < std::size(wants); ++i) {
        const Want& w = wants[i];
        const auto& got = rows[i + 1];
        EXPECT_EQ(got[col("section")] + " " + got[col("name")], std::string(w.section) + " " + w.name) << "line " << i + 1;
        EXPECT_EQ(got[col("sessions")], w.sessions) << w.name;
        EXPECT_EQ(got[col("plaintext_share")], w.plaintext_share) << w.name;
        EXPECT_EQ(got[col("weakest_version")], w.weakest_version) << w.name;
        EXPECT_EQ(got[col("last_weak")], w.last_weak) << w.name;
    }
}

TEST(Report, WeakestCipherFollowsTheDocumentedOrder) {
    struct Case {
        const char* name;
        std::vector<Session> sessions;
        const char* want_version;
        const char* want_cipher;
    };
    const Case cases[] = {
        {"plaintext is weakest of all",
         {{3, "a@x.example", "192.0.2.1", T10, "DES-CBC3-SHA", 112, "default"},
          {2, "a@x.example", "192.0.2.1", PLAIN, "", 0, "default"}},
         "none", ""},
        {"an older version is weaker than fewer bits",
         {{3, "a@x.example", "192.0.2.1", T12, "ECDHE-RSA-AES128-SHA256", 128, "default"},
          {2, "a@x.example", "192.0.2.1", T11, "ECDHE-RSA-AES256-SHA", 256, "default"}},
         "TLS1_1", "ECDHE-RSA-AES256-SHA"},
        {"fewer bits are weaker than not AEAD",
         {{3, "a@x.example", "192.0.2.1", T12, "ECDHE-RSA-AES256-SHA384", 256, "default"},
          {2, "a@x.example", "192.0.2.1", T12, "ECDHE-RSA-AES128-GCM-SHA256", 128, "default"}},
         "TLS1_2", "ECDHE-RSA-AES128-GCM-SHA256"},
        {"not AEAD is weaker at equal bits",
         {{3, "a@x.example", "192.0.2.1", T12, "ECDHE-RSA-AES128-GCM-SHA256", 128, "default"},
          {2, "a@x.example", "192.0.2.1", T12, "ECDHE-RSA-AES128-SHA256", 128, "default"}},
         "TLS1_2", "ECDHE-RSA-AES128-SHA256"},
        {"a cipher OpenSSL does not know counts as not AEAD",
         {{3, "a@x.example", "192.0.2.1", T12, "ECDHE-RSA-AES128-GCM-SHA256", 128, "default"},
          {2, "a@x.example", "192.0.2.1", T12, "MADE-UP-CIPHER", 128, "default"}},
         "TLS1_2", "MADE-UP-CIPHER"},
        {"a tie keeps the first seen",
         {{3, "a@x.example", "192.0.2.1", T13, "TLS_AES_256_GCM_SHA384", 256, "default"},
          {2, "a@x.example", "192.0.2.1", T13, "TLS_CHACHA20_POLY1305_SHA256", 256, "default"}},
         "TLS1_3", "TLS_AES_256_GCM_SHA384"},
    };
    for (const Case& c : cases) {
        TempDb db(c.sessions);
        auto rows = parse_csv(run(db, "csv", "7d", ""));
        ASSERT_EQ(rows.size(), 3u) << c.name;  // header, rule default, domain x.example
        const auto& head = rows[0];
        auto col = [&](const char* name) { return std::find(head.begin(), head.end(), name) - head.begin(); };
        EXPECT_EQ(rows[2][col("weakest_version")], c.want_version) << c.name;
        EXPECT_EQ(rows[2][col("weakest_cipher")], c.want_cipher) << c.name;
    }
}

TEST(Report, AgainstListsExactlyTheSendersTheStricterPolicyRefuses) {
    struct Want {
        const char* sender;
        const char* rule;
        const char* would_reject;
        const char* would_tempfail;
        const char* sessions;
        const char* reply;
    };
    // Worst first: most refusals, then most rejects, then most recent.
    const Want wants[] = {
        {"peter@initech.example", "initech", "2", "0", "2", "550 5.7.10 initech.example mail must use TLS 1.3, see contract 7.3"},
        {"bob@acme.example", "acme", "2", "0", "3", "550 5.7.10 TLS 1.2 or newer required for acme.example (got TLS 1.0)"},
        {"billing@mail.acme.example", "acme", "1", "0", "1", "550 5.7.10 TLS required for mail.acme.example (got plaintext)"},
        {"ops@globex.example", "globex", "0", "1", "1", "450 4.7.10 TLS 1.2 or newer required for globex.example (got TLS 1.1)"},
    };
    TempDb db(kWeek);
    auto rows = parse_csv(run(db, "csv", "7d", "tests/golden/report/stricter.toml"));
    ASSERT_EQ(rows.size(), std::size(wants) + 1);
    for (std::size_t i = 0; i < std::size(wants); ++i) {
        const Want& w = wants[i];
        std::vector<std::string> want{w.sender, "", w.rule, w.would_reject, w.would_tempfail, w.sessions, "", w.reply};
        std::vector<std::string> got = rows[i + 1];
        ASSERT_EQ(got.size(), want.size());
        got[1] = got[6] = "";  // domain and time: covered by the golden files
        EXPECT_EQ(got, want) << "line " << i + 1;
    }
}

// A stricter policy that adds certificate requirements: only the sessions
// without a verified certificate of the right name would have been refused.
TEST(Report, AgainstAStricterPolicyWithCertificateRequirements) {
    TempDb db({});
    {
        ObservationStore store({.path = db.path, .keep_days = 36500},
                               [](std::string_view line) { ADD_FAILURE() << "store: " << line; });
        struct {
            const char* sender;
            ClientCert cert;
        } rows[] = {
            {"ok@certs.example", {CertStatus::Verified, "mx1.certs.example", "Certs CA"}},
            {"wrongcn@certs.example", {CertStatus::Verified, "mail.other.example", "Certs CA"}},
            {"selfsigned@certs.example", {CertStatus::Unverified, "mx1.certs.example", "mx1.certs.example"}},
            {"none@certs.example", {CertStatus::None, "", ""}},
            {"postfix@certs.example", {CertStatus::Unknown, "", ""}},
            {"other@else.example", {CertStatus::None, "", ""}},
        };
        for (const auto& r : rows) {
            Observation o;
            o.time = kNow - 3600;
            o.sender = r.sender;
            o.rules = store::parse_rules("default");
            o.version = TlsVersion::TLSv1_3;
            o.cipher = "TLS_AES_256_GCM_SHA384";
            o.cipher_bits = o.alg_bits = 256;
            o.cert = r.cert;
            store.enqueue(std::move(o));
        }
    }
    const std::string stricter = (db.dir / "stricter.toml").string();
    std::ofstream(stricter) << "[[partner]]\nname = \"certs\"\nsenders = [\"certs.example\"]\n"
                               "cert_subjects = [\"mx1.certs.example\"]\naction = \"reject\"\n";
    auto csv = parse_csv(run(db, "csv", "7d", stricter));
    std::map<std::string, std::string> replies;
    for (std::size_t i = 1; i < csv.size(); ++i) replies[csv[i][0]] = csv[i].back();
    const std::map<std::string, std::string> want{
        {"wrongcn@certs.example", "550 5.7.10 client certificate for mx1.certs.example required for certs.example (got CN=mail.other.example)"},
        {"selfsigned@certs.example", "550 5.7.10 verified client certificate required for certs.example (got an unverified certificate)"},
        {"none@certs.example", "550 5.7.10 verified client certificate required for certs.example (got none)"},
        {"postfix@certs.example", "550 5.7.10 verified client certificate required for certs.example (got no verified certificate)"},
    };
    EXPECT_EQ(replies, want);
}

TEST(Report, HtmlIsOneSelfContainedFile) {
    TempDb db(kWeek);
    std::string html = run(db, "html", "7d", "tests/golden/report/stricter.toml");
    for (const char* banned : {"http://", "https://", "<script", "<link", "<img", "@import", "url("})
        EXPECT_EQ(html.find(banned), std::string::npos) << "found " << banned;
    EXPECT_NE(html.find("<style>"), std::string::npos);
    std::size_t charts = 0;
    for (std::size_t p = 0; (p = html.find("<svg", p)) != std::string::npos; ++p) ++charts;
    EXPECT_EQ(charts, 4u) << "one chart per partner rule (acme, globex, initech, default)";
}

TEST(Report, RefusesBadOptionsAndUnusableDatabases) {
    struct Case {
        const char* name;
        std::vector<std::string> args;
        int want_rc;
        const char* want_err;
    };
    const std::string policy = (kDir / "policy.toml").string();
    const Case cases[] = {
        {"a duration without unit", {"report", "--since", "7"}, 2, "--since '7' is not a duration"},
        {"an unknown unit", {"report", "--since", "7y"}, 2, "--since '7y' is not a duration"},
        {"an unknown format", {"report", "--format", "xml"}, 2, "--format"},
        {"a missing database", {"report", "--database", "/nonexistent/obs.sqlite"}, 1, "/nonexistent/obs.sqlite"},
        {"a broken stricter policy", {"report", "--against", "/nonexistent/stricter.toml"}, 1, "/nonexistent/stricter.toml"},
    };
    for (const Case& c : cases) {
        std::vector<std::string> args{"tlspolicy-milter", "-c", policy};
        args.insert(args.end(), c.args.begin(), c.args.end());
        std::vector<const char*> argv;
        for (const auto& a : args) argv.push_back(a.c_str());
        std::ostringstream out, err;
        int rc = run_cli(static_cast<int>(argv.size()), argv.data(), out, err);
        EXPECT_EQ(rc, c.want_rc) << c.name << ": " << err.str();
        EXPECT_NE(err.str().find(c.want_err), std::string::npos) << c.name << ": got " << err.str();
    }
}

TEST(Report, ParsesDurations) {
    const std::pair<const char*, std::optional<std::int64_t>> cases[] = {
        {"90s", 90}, {"90m", 5400}, {"12h", 43200}, {"7d", 604800}, {"2w", 1209600},
        {"0d", std::nullopt}, {"-1d", std::nullopt}, {"d", std::nullopt}, {"7", std::nullopt}, {"7dd", std::nullopt},
        {"99999999w", std::nullopt}};
    for (const auto& [text, want] : cases) EXPECT_EQ(parse_duration(text), want) << text;
}

}  // namespace
}  // namespace tlspolicy
