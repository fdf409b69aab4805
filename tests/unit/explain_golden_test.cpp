// `explain` output, compared with tests/golden/explain/NAME.out for every
// NAME.args there (one argument per line, run against policy.toml).
// UPDATE_GOLDEN=1 rewrites the .out files instead.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.hpp"

namespace tlspolicy {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = "tests/golden/explain";

std::string slurp(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

TEST(ExplainGolden, EveryCase) {
    ASSERT_TRUE(fs::is_directory(kDir)) << "run from the source tree's top directory";
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
        if (const char* update = std::getenv("UPDATE_GOLDEN"); update && std::string(update) == "1") {
            std::ofstream(ref) << got;
            ADD_FAILURE() << ref << " rewritten: UPDATE_GOLDEN=1 passes no golden test";
            continue;
        }
        EXPECT_EQ(got, slurp(ref)) << e.path() << ": got (left) differs from " << ref;
    }
    EXPECT_GE(cases, 7);
}

}  // namespace
}  // namespace tlspolicy
