// `explain` output, compared with tests/golden/explain/NAME.out for every
// NAME.args there (one argument per line, run against policy.toml).
// UPDATE_GOLDEN=1 rewrites the .out files and fails (golden.hpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.hpp"
#include "golden.hpp"

namespace tlspolicy {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = "tests/golden/explain";

TEST(ExplainGolden, EveryCase) {
    ASSERT_TRUE(tests::in_source_dir());
    int cases = 0;
    for (const auto& e : fs::directory_iterator(kDir)) {
        if (e.path().extension() != ".args") continue;
        ++cases;
        std::vector<std::string> args{"tlspolicy-milter", "-c", (kDir / "policy.toml").string()};
        std::ifstream in(e.path());
        for (std::string line; std::getline(in, line);) args.push_back(line);
        std::vector<const char*> argv;
        for (const auto& a : args) argv.push_back(a.c_str());
        std::ostringstream out, err;
        int rc = run_cli(static_cast<int>(argv.size()), argv.data(), out, err);
        std::string got = out.str() + err.str() + "exit " + std::to_string(rc) + "\n";
        fs::path ref = e.path();
        ref.replace_extension(".out");
        tests::expect_golden(ref, got, e.path().string());
    }
    EXPECT_GE(cases, 7);
}

}  // namespace
}  // namespace tlspolicy
