// `report --suggest` on a store built here: which rules each partner gets
// (a table of named cases), that every suggestion loads (--check) and refuses
// none of the window's messages under --against, that a rule one step
// stricter refuses at least one, and golden output per format
// (tests/golden/suggest/; UPDATE_GOLDEN=1 rewrites them and fails).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "config/config.hpp"
#include "core/address.hpp"
#include "report/probe_facts.hpp"
#include "report/report.hpp"
#include "report/suggest.hpp"
#include "store/observation_source.hpp"
#include "store/observation_store.hpp"
#include "golden.hpp"

namespace tlspolicy {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = "tests/golden/suggest";
constexpr std::int64_t kNow = 1765022400;  // 2025-12-06T12:00:00Z
constexpr auto T10 = TlsVersion::TLSv1_0, T12 = TlsVersion::TLSv1_2, T13 = TlsVersion::TLSv1_3,
               PLAIN = TlsVersion::None;

struct Mail {
    int days_ago;
    const char* sender;
    const char* client;
    TlsVersion version;
    const char* cipher;
    int bits;
    int count = 1;
    const char* cert_cn = "";  // a verified client certificate with this subject CN
};

// The window is 30 days; one row 40 days back lies outside it.
const std::vector<Mail> kMail = {
    // always TLS 1.3: min_version TLSv1.3, mozilla-modern
    {20, "a@modern.example", "198.51.100.10", T13, "TLS_AES_256_GCM_SHA384", 256, 12},
    {2, "b@modern.example", "198.51.100.11", T13, "TLS_CHACHA20_POLY1305_SHA256", 256, 3},
    // TLS 1.2 with AEAD and PFS, and one TLS 1.0 session: nothing above TLS 1.0
    {25, "x@legacy.example", "192.0.2.30", T12, "ECDHE-RSA-AES128-GCM-SHA256", 128, 20},
    {9, "x@legacy.example", "192.0.2.30", T10, "ECDHE-RSA-AES256-SHA", 256},
    {40, "x@legacy.example", "192.0.2.30", TlsVersion::SSLv3, "DES-CBC3-SHA", 112},  // before the window
    // a domain and its subdomain: one rule for both; BSI TR-02102-2 fits
    {15, "p@acme.example", "203.0.113.5", T12, "ECDHE-RSA-AES256-GCM-SHA384", 256, 8},
    {3, "q@mail.acme.example", "203.0.113.6", T13, "TLS_AES_128_GCM_SHA256", 128, 4},
    // TLS 1.2 AEAD-PFS with ChaCha20: no preset but BSI-less AEAD ciphers
    {12, "n@chacha.example", "192.0.2.40", T12, "ECDHE-RSA-CHACHA20-POLY1305", 256, 11},
    // a verified client certificate, always the same
    {6, "c@certs.example", "192.0.2.50", T13, "TLS_AES_256_GCM_SHA384", 256, 10, "mx.certs.example"},
    // plaintext: not ready
    {4, "z@plain.example", "192.0.2.60", T12, "ECDHE-RSA-AES128-GCM-SHA256", 128, 10},
    {1, "z@plain.example", "192.0.2.60", PLAIN, "", 0},
    // too quiet
    {5, "once@quiet.example", "192.0.2.70", T13, "TLS_AES_256_GCM_SHA384", 256, 2},
    // AEAD with forward secrecy that no preset lists: the AEAD/PFS cipher string
    {11, "k@ccm.example", "192.0.2.45", T12, "ECDHE-ECDSA-AES256-CCM8", 256, 7},
    // bounces: grouped by client network; the rule takes every message from it
    {7, "", "100.64.1.80", T12, "ECDHE-RSA-AES256-GCM-SHA384", 256, 6},
    {8, "", "100.64.1.81", T12, "ECDHE-RSA-AES256-GCM-SHA384", 256, 6},
    {8, "b@bounces.example", "100.64.1.82", T12, "ECDHE-RSA-AES256-GCM-SHA384", 256, 1},
    // the current rule globex asks TLSv1; every message met TLS 1.2
    {10, "n@globex.example", "198.51.100.77", T12, "ECDHE-RSA-AES128-GCM-SHA256", 128, 15},
    // the current rule initech asks TLS; every message met TLS 1.2 with 128 bits (CBC: no preset)
    {10, "i@initech.example", "192.0.2.90", T12, "ECDHE-RSA-AES128-SHA", 128, 15},
    // the current rule hooli already asks all that was seen
    {10, "h@hooli.example", "192.0.2.95", T13, "TLS_AES_256_GCM_SHA384", 256, 15},
    // the current rule umbrella already refuses one of its messages
    {10, "u@umbrella.example", "192.0.2.96", T13, "TLS_AES_256_GCM_SHA384", 256, 15},
    {10, "u@umbrella.example", "192.0.2.96", T12, "ECDHE-RSA-AES256-GCM-SHA384", 256},
};

constexpr const char* kPolicy = R"([milter]
mode = "monitor"

[[partner]]
name = "globex"
senders = ["globex.example"]
min_version = "TLSv1"
action = "reject"

[[partner]]
name = "initech"
senders = ["initech.example"]
require_tls = true
action = "tempfail"

[[partner]]
name = "hooli"
senders = ["hooli.example"]
require_tls = true
min_version = "TLSv1.3"
min_cipher_bits = 256
profile = "mozilla-modern"
action = "reject"

[[partner]]
name = "umbrella"
senders = ["umbrella.example"]
require_tls = true
min_version = "TLSv1.3"
action = "reject"
)";

struct Store {
    fs::path dir;
    std::string path;
    // `outbound`: the same facts written as outbound deliveries (ingest's rows).
    explicit Store(const std::vector<Mail>& mail, const std::vector<Mail>& outbound = {}) {
        std::string tmpl = (fs::temp_directory_path() / "suggest-XXXXXX").string();
        dir = mkdtemp(tmpl.data());
        path = (dir / "observations.sqlite").string();
        ObservationStore store({.path = path, .keep_days = 36500},
                               [](std::string_view line) { ADD_FAILURE() << "store: " << line; });
        for (const Mail& m : mail)
            for (int i = 0; i < m.count; ++i) {
                Observation o;
                o.time = kNow - m.days_ago * 86400 - i * 60;
                o.stage = Stage::Message;
                o.client = m.client;
                o.sender = m.sender;
                o.host = i % 2 ? "mx2" : "mx1";
                o.version = m.version;
                o.cipher = m.cipher;
                o.cipher_bits = o.alg_bits = m.bits;
                if (*m.cert_cn) o.cert = {CertStatus::Verified, m.cert_cn, "Test Issuing CA"};
                o.result = Result::None;
                store.enqueue(std::move(o));
            }
        for (const Mail& m : outbound)
            for (int i = 0; i < m.count; ++i) {
                Observation o;
                o.time = kNow - m.days_ago * 86400 - i * 60 - 30;
                o.stage = Stage::Message;
                o.direction = Direction::Outbound;
                o.client = m.client;
                o.sender = m.sender;
                o.recipient = std::string("rcpt@") + std::string(address_domain(m.sender));
                o.host = "mx1";
                o.transport = m.version == PLAIN ? Transport::Plaintext : Transport::Tls;
                o.version = m.version;
                o.cipher = m.cipher;
                o.cipher_bits = o.alg_bits = m.bits;
                o.result = Result::None;
                store.enqueue(std::move(o));
            }
    }
    ~Store() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

std::shared_ptr<const Config> load(const std::string& text, const std::string& path = "policy.toml") {
    LoadResult r = load_config_text(text, path);
    for (const Diagnostic& d : r.diagnostics)
        if (!d.warning) ADD_FAILURE() << d.format() << "\n" << text;
    return r.config;
}

std::string run(const Store& db, const Config& config, const std::string& format, const std::string& against = "",
                bool suggest = true, int* rc = nullptr) {
    std::ostringstream out, err;
    ReportOptions opt;
    opt.since = "30d";
    opt.format = format;
    opt.suggest = suggest;
    opt.against = against;
    opt.min_messages = 5;
    opt.database = db.path;
    opt.now = kNow;
    int code = run_report(config, opt, out, err);
    if (rc) *rc = code;
    EXPECT_EQ(code, 0) << err.str();
    std::string s = out.str() + err.str();
    for (std::size_t p; (p = s.find(db.path)) != std::string::npos;) s.replace(p, db.path.size(), "DATABASE");
    return s;
}

// The rules of a --suggest toml output: name -> key -> value.
std::map<std::string, std::map<std::string, std::string>> rules_of(const std::string& toml) {
    std::map<std::string, std::map<std::string, std::string>> out;
    std::istringstream in(toml);
    std::string line, name;
    std::map<std::string, std::string> keys;
    auto flush = [&] {
        if (!name.empty()) out[name] = keys;
        keys.clear();
        name.clear();
    };
    while (std::getline(in, line)) {
        if (line == "[[partner]]") flush();
        auto eq = line.find(" = ");
        if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
        keys[line.substr(0, eq)] = line.substr(eq + 3);
        if (line.substr(0, eq) == "name") name = line.substr(eq + 4, line.size() - eq - 5);
    }
    flush();
    return out;
}

std::string rule_toml(const std::map<std::string, std::string>& keys) {
    std::string s = "[[partner]]\n";
    for (const char* k : {"name", "clients", "senders", "require_tls", "min_version", "min_cipher_bits", "ciphers",
                          "profile", "require_client_cert", "cert_subjects", "cert_issuers", "action", "reply"})
        if (keys.contains(k)) s += std::string(k) + " = " + keys.at(k) + "\n";
    return s;
}

// The number of would-be refusals --against reports for `file` (its CSV offender rows' refusals).
std::int64_t refusals_against(const Store& db, const Config& config, const std::string& rules) {
    fs::path file = db.dir / "against.toml";
    std::ofstream(file) << rules;
    std::ostringstream out, err;
    ReportOptions opt;
    opt.since = "30d";
    opt.format = "json";
    opt.against = file.string();
    opt.database = db.path;
    opt.now = kNow;
    EXPECT_EQ(run_report(config, opt, out, err), 0) << err.str();
    std::int64_t n = 0;
    const std::string s = out.str();
    for (const std::string key : {"\"would_reject\": ", "\"would_tempfail\": "})
        for (std::size_t p = 0; (p = s.find(key, p)) != std::string::npos; ++p) n += std::stoll(s.substr(p + key.size()));
    EXPECT_NE(s.find("\"would_refuse\": ["), std::string::npos) << s;  // the list these numbers come from
    return n;
}

TEST(ReportSuggest, EachPartnerGetsWhatEveryMessageMet) {
    ASSERT_TRUE(tests::in_source_dir());
    Store db(kMail);
    auto config = load(kPolicy);
    const std::string out = run(db, *config, "toml");
    auto rules = rules_of(out);
    struct Case {
        const char* rule;
        const char* key;
        const char* want;  // "" : the key is absent
    } cases[] = {
        {"modern.example", "min_version", "\"TLSv1.3\""},
        {"modern.example", "profile", "\"mozilla-modern\""},
        {"modern.example", "min_cipher_bits", "256"},
        {"modern.example", "senders", "[\"modern.example\"]"},
        {"legacy.example", "min_version", "\"TLSv1\""},
        {"legacy.example", "require_tls", "true"},
        {"legacy.example", "profile", ""},
        {"legacy.example", "ciphers", ""},  // ECDHE-RSA-AES256-SHA is not AEAD
        {"acme.example", "senders", "[\"acme.example\", \".acme.example\"]"},
        {"acme.example", "min_version", "\"TLSv1.2\""},
        {"acme.example", "profile", "\"bsi-tr-02102-2\""},
        {"acme.example", "min_cipher_bits", "128"},
        {"chacha.example", "profile", "\"mozilla-intermediate\""},
        {"chacha.example", "ciphers", ""},
        {"ccm.example", "ciphers", "\"ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AESCCM:DHE+AESGCM:DHE+CHACHA20:DHE+AESCCM\""},
        {"ccm.example", "profile", ""},
        {"certs.example", "profile", "\"mozilla-modern\""},
        {"certs.example", "require_client_cert", "true"},
        {"certs.example", "cert_subjects", "[\"mx.certs.example\"]"},
        {"certs.example", "cert_issuers", "[\"Test Issuing CA\"]"},
        {"modern.example", "require_client_cert", ""},
        {"100.64.1.0-24", "clients", "[\"100.64.1.0/24\"]"},
        {"100.64.1.0-24", "senders", ""},
        {"100.64.1.0-24", "min_version", "\"TLSv1.2\""},
        {"globex", "min_version", "\"TLSv1.2\""},
        {"globex", "require_tls", "true"},
        {"globex", "action", "\"reject\""},
        {"initech", "min_version", "\"TLSv1.2\""},
        {"initech", "ciphers", ""},  // ECDHE-RSA-AES128-SHA is not AEAD
        {"modern.example", "action", "\"tempfail\""},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::string(c.rule) + " " + c.key);
        ASSERT_TRUE(rules.contains(c.rule));
        const auto& keys = rules.at(c.rule);
        if (*c.want) EXPECT_EQ(keys.contains(c.key) ? keys.at(c.key) : "(absent)", c.want);
        else EXPECT_FALSE(keys.contains(c.key)) << keys.at(c.key);
    }
    for (const char* none : {"plain.example", "quiet.example", "hooli", "umbrella", "bounces.example"})
        EXPECT_FALSE(rules.contains(none)) << none;
    EXPECT_NE(out.find("Rules already as strict as every message of the window allows: hooli"), std::string::npos) << out;
    EXPECT_NE(out.find("rule umbrella: already refuses 1 of its messages"), std::string::npos) << out;
    EXPECT_NE(out.find("plain.example: 1 of 11 messages in plaintext"), std::string::npos) << out;
    EXPECT_NE(out.find("quiet.example: 2 messages, fewer than --min-messages 5"), std::string::npos) << out;
}

TEST(ReportSuggest, EverySuggestionLoadsAndRefusesNoneWhileOneStepStricterRefusesSome) {
    ASSERT_TRUE(tests::in_source_dir());
    Store db(kMail);
    auto config = load(kPolicy);
    const std::string toml = run(db, *config, "toml");
    // The whole output pasted after the policy, the rules it changes taken out: --check's loader takes it.
    std::string pasted = kPolicy;
    for (const char* changed : {"globex", "initech"}) {
        const auto at = pasted.find(std::string("[[partner]]\nname = \"") + changed + "\"");
        ASSERT_NE(at, std::string::npos);
        pasted.erase(at, pasted.find("\n\n", at) + 2 - at);
    }
    ASSERT_TRUE(load(pasted + "\n" + toml, "pasted.toml")) << toml;
    EXPECT_EQ(refusals_against(db, *config, toml), 0) << toml;

    const auto rules = rules_of(toml);
    ASSERT_GE(rules.size(), 6u);
    static constexpr const char* kVersions[] = {"\"TLSv1\"", "\"TLSv1.1\"", "\"TLSv1.2\"", "\"TLSv1.3\""};
    for (const auto& [name, keys] : rules) {
        SCOPED_TRACE(name);
        EXPECT_EQ(refusals_against(db, *config, rule_toml(keys)), 0);
        // One step stricter on each axis the rule names: each refuses at least one message.
        std::vector<std::map<std::string, std::string>> stricter;
        if (keys.contains("min_version") && keys.at("min_version") != kVersions[3]) {
            auto k = keys;
            for (int i = 0; i < 3; ++i)
                if (keys.at("min_version") == kVersions[i]) k["min_version"] = kVersions[i + 1];
            stricter.push_back(k);
        }
        if (keys.contains("min_cipher_bits") && keys.at("min_cipher_bits") != "256") {  // 256 is the most there is
            auto k = keys;
            k["min_cipher_bits"] = std::to_string(std::stoi(keys.at("min_cipher_bits")) + 1);
            stricter.push_back(k);
        }
        if (!keys.contains("require_client_cert")) {
            auto k = keys;
            k["require_client_cert"] = "true";
            stricter.push_back(k);
        }
        if (keys.contains("cert_subjects")) {
            auto k = keys;
            k["cert_subjects"] = "[\"other.example\"]";
            stricter.push_back(k);
        }
        EXPECT_FALSE(stricter.empty());
        for (const auto& k : stricter) EXPECT_GE(refusals_against(db, *config, rule_toml(k)), 1) << rule_toml(k);
    }
}

TEST(ReportSuggest, GoldenPerFormat) {
    ASSERT_TRUE(tests::in_source_dir());
    Store db(kMail);
    std::string policy = std::string(kPolicy) + "\n[probe]\ndirectory = \"" +
                         (fs::current_path() / kDir / "probes").string() + "\"\n";
    auto config = load(policy, "policy.toml");
    for (const char* format : {"text", "toml", "json"}) {
        std::string got = run(db, *config, format);
        const std::string probes = (fs::current_path() / kDir / "probes").string();
        for (std::size_t p; (p = got.find(probes)) != std::string::npos;) got.replace(p, probes.size(), "PROBES");
        tests::expect_golden(kDir / (std::string("suggest.") + format), got, format);
    }
}

TEST(ReportSuggest, EvidenceShowsWhatEachPartnersServerAccepts) {
    ASSERT_TRUE(tests::in_source_dir());
    Store db(kMail);
    const std::string probes = (fs::current_path() / kDir / "probes").string();
    auto config = load(std::string(kPolicy) + "\n[probe]\ndirectory = \"" + probes + "\"\n");
    for (const char* format : {"text", "json", "html"}) {
        SCOPED_TRACE(format);
        std::ostringstream out, err;
        ReportOptions opt;
        opt.evidence = true;
        opt.since = "30d";
        opt.format = format;
        opt.database = db.path;
        opt.now = kNow;
        ASSERT_EQ(run_report(*config, opt, out, err), 0) << err.str();
        const std::string s = out.str();
        const bool json = std::string(format) == "json";
        EXPECT_NE(s.find(json ? R"("host": "mx.globex.example", "port": 25, "time": "2025-11-30T03:00:00Z", "stale": false)"
                              : "mx.globex.example:25 on 2025-11-30T03:00:00Z: accepts TLSv1.2, TLSv1.3; certificate verifies"),
                  std::string::npos) << s;
        EXPECT_NE(s.find(json ? "\"stale\": true" : "2025-10-01T03:00:00Z (stale)"), std::string::npos);
    }
}

TEST(ReportSuggest, ProbeResultsAreReadAndStaleOnesSaySo) {
    auto p = report::parse_probe_json(R"({"time": "2025-11-30T03:00:00Z", "host": "mx.globex.example", "port": 25,
        "starttls": true, "error": null, "versions": [{"version": "TLSv1.2", "accepted": true},
        {"version": "TLSv1.3", "accepted": true}, {"version": "TLSv1", "accepted": false}],
        "certificate": {"subject": "mx.globex.example", "issuer": "CA", "not_after": "2026-03-01T00:00:00Z",
        "verified": true, "verify_error": "", "name_matches": true}, "partner": {"name": "globex", "met": true}})",
                                      nullptr);
    ASSERT_TRUE(p);
    EXPECT_EQ(report::accepted_text(*p), "TLSv1.2, TLSv1.3");
    EXPECT_TRUE(p->cert_verified && p->name_matches);
    EXPECT_EQ(p->not_after, "2026-03-01T00:00:00Z");
    EXPECT_EQ(p->partner_met, true);
    p->stale = true;
    EXPECT_NE(report::describe(*p).find("(stale)"), std::string::npos);
    std::string error;
    EXPECT_FALSE(report::parse_probe_json("{\"host\": \"x\"}", &error));
    EXPECT_FALSE(report::parse_probe_json("{\"time\": ", &error));
}

TEST(ReportSuggest, RefusesOptionsThatDoNotGoWithIt) {
    Store db({});
    auto config = load(kPolicy);
    struct Case {
        const char* name;
        const char* format;
        bool evidence;
        const char* against;
        std::int64_t min_messages;
        const char* want_error;
    } cases[] = {
        {"csv", "csv", false, "", 10, "--suggest --format 'csv' is not one of text, toml, json"},
        {"evidence", "text", true, "", 10, "--suggest is a report of its own"},
        {"against", "text", false, "x.toml", 10, "--suggest is a report of its own"},
        {"no messages", "text", false, "", 0, "--min-messages must be 1 or more"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        std::ostringstream out, err;
        ReportOptions opt;
        opt.suggest = true;
        opt.format = c.format;
        opt.evidence = c.evidence;
        opt.against = c.against;
        opt.min_messages = c.min_messages;
        opt.database = db.path;
        opt.now = kNow;
        EXPECT_EQ(run_report(*config, opt, out, err), 2);
        EXPECT_NE(err.str().find(c.want_error), std::string::npos) << err.str();
    }
    // toml is --suggest's only: the plain report refuses it.
    std::ostringstream out, err;
    ReportOptions opt;
    opt.format = "toml";
    opt.database = db.path;
    EXPECT_EQ(run_report(*config, opt, out, err), 2);
}

// ingest writes outbound deliveries into the same store: none of them is an
// inbound message. Rows that would make modern.example not ready (plaintext),
// lower legacy.example's min_version and make a rule of their own
// (outbound.example) change nothing, read from the summaries or the rows.
TEST(ReportSuggest, OutboundDeliveriesAreNotInboundMessages) {
    ASSERT_TRUE(tests::in_source_dir());
    const std::vector<Mail> outbound = {
        {3, "a@modern.example", "198.51.100.10", PLAIN, "", 0, 4},
        {5, "x@legacy.example", "192.0.2.30", TlsVersion::SSLv3, "DES-CBC3-SHA", 112, 3},
        {6, "o@outbound.example", "192.0.2.120", T13, "TLS_AES_256_GCM_SHA384", 256, 12},
    };
    Store inbound_only(kMail), both(kMail, outbound);
    {
        std::string error;
        auto source = open_observation_source(both.path, &error);
        ASSERT_TRUE(source) << error;
        int rows = 0;
        ASSERT_EQ(source->for_each(kNow - 30 * 86400, kNow,
                                   [&](const Observation& o) { rows += o.direction == Direction::Outbound; }),
                  "");
        EXPECT_EQ(rows, 4 + 3 + 12);  // stored, and read back as outbound
    }
    auto config = load(kPolicy);
    for (bool raw : {false, true})
        for (const char* format : {"text", "toml", "json"}) {
            SCOPED_TRACE(std::string(format) + (raw ? " --raw" : ""));
            std::string got[2];
            const Store* stores[] = {&inbound_only, &both};
            for (int i = 0; i < 2; ++i) {
                std::ostringstream out, err;
                ReportOptions opt;
                opt.suggest = true;
                opt.raw = raw;
                opt.since = "30d";
                opt.format = format;
                opt.min_messages = 5;
                opt.database = stores[i]->path;
                opt.now = kNow;
                ASSERT_EQ(run_report(*config, opt, out, err), 0) << err.str();
                got[i] = out.str();
                const std::string& path = stores[i]->path;
                for (std::size_t p; (p = got[i].find(path)) != std::string::npos;) got[i].replace(p, path.size(), "DB");
            }
            EXPECT_EQ(got[1], got[0]);
            EXPECT_EQ(got[1].find("outbound.example"), std::string::npos) << got[1];
        }
}

TEST(ReportSuggest, ClientNetworks) {
    EXPECT_EQ(report::client_network("192.0.2.81"), "192.0.2.0/24");
    EXPECT_EQ(report::client_network("2001:db8:1:2::5"), "2001:db8:1::/48");
    EXPECT_EQ(report::client_network("unknown"), "");
}

}  // namespace
}  // namespace tlspolicy
