// `report` reading a fake ObservationSource: rows from several MX hosts and
// the policy versions they recorded, as a shared (PostgreSQL) store holds
// them. Checks the --host filter, the per-host table and the versions shown.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "report/report.hpp"
#include "report_source_fixture.hpp"
#include "golden.hpp"

namespace tlspolicy {
namespace {

using fixture::kNow;

std::string run(const ReportOptions& base, const std::string& format, const std::string& host) {
    fixture::FakeSource source;
    std::ostringstream out, err;
    ReportOptions opt = base;
    opt.format = format;
    opt.host = host;
    opt.since = opt.since.empty() ? "120d" : opt.since;
    opt.now = kNow;
    opt.database = "FAKE";
    EXPECT_EQ(run_report(*fixture::policy(), opt, source, out, err), 0) << err.str();
    return out.str() + err.str();
}

TEST(ReportSource, PerHostTableAndHostFilter) {
    struct Case {
        const char* name;
        std::string host;
        std::string want;  // "section,name,sessions" lines of the CSV, in order
    };
    const Case cases[] = {
        {"every host", "",
         "rule,acme,6\ndomain,acme.example,6\nhost,mx1,3\nhost,mx2,2\nhost,(not recorded),1\n"
         "outbound_rule,acme,2\noutbound_rule,default,1\n"},  // deliveries sent; the deferral is not one
        {"mx1 only", "mx1", "rule,acme,3\ndomain,acme.example,3\nhost,mx1,3\noutbound_rule,acme,1\n"},
        {"a host that saw nothing", "mx9", ""},
    };
    for (const Case& c : cases) {
        std::istringstream csv(run({}, "csv", c.host));
        std::string got, line;
        std::getline(csv, line);  // the header
        while (std::getline(csv, line)) {
            std::size_t third = line.find(',', line.find(',') + 1);
            got += line.substr(0, line.find(',', third + 1)) + "\n";
        }
        EXPECT_EQ(got, c.want) << c.name;
        const std::string text = run({}, "text", c.host);
        if (!c.host.empty()) {
            EXPECT_NE(text.find("\nhost: " + c.host + "\n"), std::string::npos) << c.name;
        }
    }
}

TEST(ReportSource, ShowsThePolicyVersionsInForce) {
    struct Case {
        const char* name;
        std::string host;
        std::vector<std::string> want;  // the lines after "Policy versions in force"
    };
    const std::string a(64, 'a'), b(64, 'b');
    const Case cases[] = {
        {"every host", "",
         {"policy sha256" + std::string(51, ' ') + "  mode     from                  until                 hosts",
          a + "  monitor  2024-01-09T00:00:00Z  2024-03-15T00:00:00Z  mx1,mx2",  // the window starts at 00:00
          b + "  enforce  2024-03-01T00:00:00Z  still in force        mx1,mx2"}},
        {"mx2 only", "mx2",
         {"policy sha256" + std::string(51, ' ') + "  mode     from                  until                 hosts",
          a + "  monitor  2024-01-20T00:00:00Z  2024-03-15T00:00:00Z  mx2",
          b + "  enforce  2024-03-15T00:00:00Z  still in force        mx2"}},
    };
    for (const Case& c : cases) {
        std::istringstream text(run({}, "text", c.host));
        std::vector<std::string> got;
        bool in = false;
        for (std::string line; std::getline(text, line);) {
            if (in && line.empty()) break;
            if (in) got.push_back(line);
            in = in || line == "Policy versions in force";
        }
        EXPECT_EQ(got, c.want) << c.name;
    }
}

// tests/golden/report/evidence*.FORMAT (golden.hpp: UPDATE_GOLDEN=1 rewrites them and fails).
TEST(ReportSource, EvidenceGoldenEveryFormat) {
    struct Case {
        const char* name;
        const char* format;
        std::string host;
    };
    const Case cases[] = {
        {"evidence.txt", "text", ""},     {"evidence.csv", "csv", ""}, {"evidence.json", "json", ""},
        {"evidence.html", "html", ""},    {"evidence-mx1.txt", "text", "mx1"},
    };
    ASSERT_TRUE(tests::in_source_dir());
    const std::filesystem::path dir = "tests/golden/report";
    ReportOptions opt;
    opt.evidence = true;
    for (const Case& c : cases) {
        tests::expect_golden(dir / c.name, run(opt, c.format, c.host), c.name);
    }
}

TEST(ReportSource, EvidenceHtmlIsOneSelfContainedPageWithAChartPerRule) {
    ReportOptions opt;
    opt.evidence = true;
    const std::string html = run(opt, "html", "");
    for (const char* banned : {"http://", "https://", "<script", "<link", "<img", "@import", "url("})
        EXPECT_EQ(html.find(banned), std::string::npos) << "found " << banned;
    std::size_t charts = 0;
    for (std::size_t p = 0; (p = html.find("<svg class=\"chart\"", p)) != std::string::npos; ++p) ++charts;
    EXPECT_EQ(charts, 5u) << "acme, globex, initech and the recipient rule hr inbound; acme outbound too";
    std::size_t outbound = 0;
    for (std::size_t p = 0; (p = html.find("<svg class=\"chart\" data-direction=\"outbound\"", p)) != std::string::npos; ++p)
        ++outbound;
    EXPECT_EQ(outbound, 1u) << "acme only: the one rule with outbound deliveries";
}

TEST(ReportSource, EvidenceRefusesAgainst) {
    fixture::FakeSource source;
    std::ostringstream out, err;
    ReportOptions opt;
    opt.evidence = true;
    opt.against = "tests/golden/report/stricter.toml";
    opt.database = "FAKE";
    EXPECT_EQ(run_report(*fixture::policy(), opt, source, out, err), 2);
    EXPECT_NE(err.str().find("--evidence and --against"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace tlspolicy
