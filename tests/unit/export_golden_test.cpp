// `export postfix-tls-policy` output, compared with tests/golden/export/NAME.out
// for every NAME.toml there (stdout, then stderr, then the exit status).
// UPDATE_GOLDEN=1 rewrites the .out files and fails: review the diff, then run again.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.hpp"

namespace tlspolicy {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = "tests/golden/export";

std::string slurp(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

TEST(ExportGolden, EveryCase) {
    ASSERT_TRUE(fs::is_directory(kDir)) << "run from the source tree's top directory";
    int cases = 0;
    for (const auto& e : fs::directory_iterator(kDir)) {
        if (e.path().extension() != ".toml") continue;
        ++cases;
        const std::string path = e.path().string();
        const char* argv[] = {"tlspolicy-milter", "-c", path.c_str(), "export", "postfix-tls-policy"};
        std::ostringstream out, err;
        int rc = run_cli(5, argv, out, err);
        std::string got = out.str() + "--- stderr\n" + err.str() + "exit " + std::to_string(rc) + "\n";
        fs::path ref = e.path();
        ref.replace_extension(".out");
        if (const char* update = std::getenv("UPDATE_GOLDEN"); update && std::string(update) == "1") {
            std::ofstream(ref) << got;
            ADD_FAILURE() << ref << " rewritten: UPDATE_GOLDEN=1 passes no golden test";
            continue;
        }
        EXPECT_EQ(got, slurp(ref)) << path << ": got (left) differs from " << ref;
    }
    EXPECT_GE(cases, 3);
}

}  // namespace
}  // namespace tlspolicy
