// Prometheus counters and the atomic metrics file.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <unistd.h>

#include "stats/metrics.hpp"
#include "store/observation_row.hpp"
#include "stats/stats_file.hpp"
#include "golden.hpp"

namespace tlspolicy {
namespace {

// "acme,hr" as rules of a partner kind; the vector lives to the end of the
// full expression that counts it.
std::vector<RuleRef> refs(std::string_view names) { return store::parse_rules(names); }

Counted obs(TlsVersion v, const char* cipher, std::span<const RuleRef> rules, Result r, Decision action,
            Decision would = Decision::Accept, Stage stage = Stage::Mail) {
    return {stage, action, would, r, v, cipher, rules};
}

bool has_line(const std::string& text, const std::string& line) {
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        if (l == line) return true;
    return false;
}

TEST(Metrics, CountsByEveryDimension) {
    Metrics m;
    m.count(obs(TlsVersion::TLSv1_2, "ECDHE-RSA-AES128-GCM-SHA256", refs("acme"), Result::Pass, Decision::Accept));
    m.count(obs(TlsVersion::TLSv1_2, "ECDHE-RSA-AES128-GCM-SHA256", refs("acme"), Result::Pass, Decision::Accept));
    m.count(obs(TlsVersion::TLSv1_0, "ECDHE-RSA-AES256-SHA", refs("acme"), Result::Fail, Decision::Reject));
    m.count(obs(TlsVersion::None, "", refs("default"), Result::None, Decision::Accept));
    m.count(obs(TlsVersion::TLSv1_2, "X", refs("acme,hr"), Result::Fail, Decision::Accept, Decision::Reject));
    m.count(obs(TlsVersion::TLSv1_2, "X", refs("hr"), Result::Fail, Decision::Tempfail, Decision::Accept, Stage::Rcpt));
    m.count_reload(true);
    m.count_reload(false);
    m.count_reload(true);
    m.set_observation_counts(10, 3, 7);
    std::string t = m.render();
    const char* want[] = {
        "tlspolicy_milter_decisions_total{stage=\"mail\",action=\"accept\",result=\"pass\"} 2",
        "tlspolicy_milter_decisions_total{stage=\"mail\",action=\"reject\",result=\"fail\"} 1",
        "tlspolicy_milter_decisions_total{stage=\"mail\",action=\"accept\",result=\"none\"} 1",
        "tlspolicy_milter_decisions_total{stage=\"mail\",action=\"would_reject\",result=\"fail\"} 1",
        "tlspolicy_milter_decisions_total{stage=\"rcpt\",action=\"tempfail\",result=\"fail\"} 1",
        "tlspolicy_milter_tls_version_total{version=\"TLS1_2\"} 4",
        "tlspolicy_milter_tls_version_total{version=\"TLS1_0\"} 1",
        "tlspolicy_milter_tls_version_total{version=\"none\"} 1",
        "tlspolicy_milter_cipher_total{cipher=\"ECDHE-RSA-AES128-GCM-SHA256\"} 2",
        "tlspolicy_milter_cipher_total{cipher=\"none\"} 1",
        "tlspolicy_milter_rule_total{rule=\"acme\",result=\"pass\"} 2",
        "tlspolicy_milter_rule_total{rule=\"acme\",result=\"fail\"} 2",
        "tlspolicy_milter_rule_total{rule=\"hr\",result=\"fail\"} 2",
        "tlspolicy_milter_rule_total{rule=\"default\",result=\"none\"} 1",
        "tlspolicy_milter_reloads_total 2",
        "tlspolicy_milter_reload_failures_total 1",
        "tlspolicy_milter_observations_written_total 10",
        "tlspolicy_milter_observations_dropped_total 3",
        "tlspolicy_milter_observation_spool_rows 7",
        "# TYPE tlspolicy_milter_observation_spool_rows gauge",
        "# TYPE tlspolicy_milter_decisions_total counter",
    };
    for (const char* line : want) EXPECT_TRUE(has_line(t, line)) << "missing: " << line << "\nin:\n" << t;
}

TEST(Metrics, HostileCipherNamesCannotBreakTheFormat) {
    Metrics m;
    m.count(obs(TlsVersion::TLSv1_2, "A\"}\n evil 1", refs("r"), Result::Pass, Decision::Accept));
    std::string t = m.render();
    EXPECT_TRUE(has_line(t, "tlspolicy_milter_cipher_total{cipher=\"A____evil_1\"} 1")) << t;
}

TEST(Metrics, CipherLabelsAreBounded) {
    Metrics m;
    for (int i = 0; i < 1000; ++i)
        m.count(obs(TlsVersion::TLSv1_2, ("C" + std::to_string(i)).c_str(), refs("r"), Result::Pass, Decision::Accept));
    std::string t = m.render();
    EXPECT_TRUE(has_line(t, "tlspolicy_milter_cipher_total{cipher=\"other\"} 744")) << t.substr(0, 200);
}

TEST(StatsFile, ReplacedAtomically) {
    auto dir = std::filesystem::temp_directory_path() / ("tpm-stats-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto path = (dir / "m.prom").string();
    std::string error;
    ASSERT_TRUE(write_file_atomically(path, "a 1\n", &error)) << error;
    ASSERT_TRUE(write_file_atomically(path, "a 2\n", &error)) << error;
    EXPECT_EQ(tests::read_file(path), "a 2\n");
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1) << "no temporary file left behind";
    EXPECT_FALSE(write_file_atomically((dir / "missing" / "m.prom").string(), "x", &error));
    EXPECT_NE(error.find("cannot create"), std::string::npos) << error;
    std::filesystem::remove_all(dir);
}

// At shutdown the stats thread and the final write may run at once: each
// writer needs a temporary of its own, or one renames the other's away (its
// own rename then fails) or publishes a file the other is still writing.
TEST(StatsFile, ConcurrentWritersEachLeaveAWholeFile) {
    auto dir = std::filesystem::temp_directory_path() / ("tpm-stats-mt-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "m.prom").string();
    constexpr int kThreads = 4, kWrites = 300;
    std::vector<std::string> texts;
    for (int t = 0; t < kThreads; ++t) texts.push_back(std::string(4096 + t, static_cast<char>('a' + t)) + "\n");
    std::atomic<int> failed{0};
    std::vector<std::string> errors(kThreads);
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t)
        writers.emplace_back([&, t] {
            for (int i = 0; i < kWrites; ++i)
                if (!write_file_atomically(path, texts[t], &errors[t])) ++failed;
        });
    for (auto& w : writers) w.join();
    EXPECT_EQ(failed.load(), 0) << "e.g. " << errors[0] << errors[1] << errors[2] << errors[3];
    const std::string content = tests::read_file(path);
    EXPECT_NE(std::find(texts.begin(), texts.end(), content), texts.end())
        << "a mixed or partial file of " << content.size() << " bytes";
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1) << "no temporary file left behind";
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tlspolicy
