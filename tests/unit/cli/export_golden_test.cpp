// `export postfix-tls-policy` output, compared with tests/golden/export/NAME.out
// for every NAME.toml there (stdout, then stderr, then the exit status).
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
const fs::path kDir = "tests/golden/export";

TEST(ExportGolden, EveryCase) {
    ASSERT_TRUE(tests::in_source_dir());
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
        tests::expect_golden(ref, got, path);
    }
    EXPECT_GE(cases, 3);
}

}  // namespace
}  // namespace tlspolicy
