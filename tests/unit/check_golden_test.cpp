// Golden files for `--check`: each tests/golden/check/NAME.toml is loaded and
// what `--check` prints (every diagnostic, then the summary when the file loads)
// must equal NAME.out byte for byte. UPDATE_GOLDEN=1 rewrites the .out files;
// review the diff before committing it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/config_loader_internal.hpp"
#include "config/config_summary.hpp"

namespace tlspolicy {
namespace {

namespace fs = std::filesystem;

constexpr const char* kGoldenDir = "tests/golden/check";

// The source tree: $TLSPOLICY_SRCDIR, else the working directory (make runs the
// tests from the top of the tree), else wherever this file was compiled from.
fs::path source_dir() {
    if (const char* env = std::getenv("TLSPOLICY_SRCDIR"); env && *env) return env;
    if (fs::is_directory(kGoldenDir)) return fs::current_path();
    fs::path here = fs::path(__FILE__).parent_path().parent_path().parent_path();
    if (here.is_absolute() && fs::is_directory(here / kGoldenDir)) return here;
    return fs::current_path();
}

std::vector<std::string> golden_names() {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(source_dir() / kGoldenDir, ec))
        if (e.path().extension() == ".toml") names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

// Exactly what `tlspolicy-milter -c PATH --check` writes (stderr, then stdout).
std::string check_output(const LoadResult& r) {
    std::ostringstream out;
    for (const Diagnostic& d : r.diagnostics) out << d.format() << '\n';
    if (r.ok()) print_summary(*r.config, out);
    return out.str();
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

class CheckGolden : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override { ASSERT_EQ(::chdir(source_dir().c_str()), 0) << "cannot chdir to " << source_dir(); }
};

TEST_P(CheckGolden, OutputMatches) {
    const std::string toml = std::string(kGoldenDir) + "/" + GetParam() + ".toml";
    const std::string ref = std::string(kGoldenDir) + "/" + GetParam() + ".out";
    const std::string got = check_output(load_config_file(toml));
    if (const char* update = std::getenv("UPDATE_GOLDEN"); update && std::string(update) == "1") {
        std::ofstream(ref, std::ios::binary) << got;
        GTEST_SKIP() << "rewrote " << ref;
    }
    ASSERT_TRUE(fs::exists(ref)) << ref << " is missing; run with UPDATE_GOLDEN=1 to create it. got:\n" << got;
    const std::string want = read_file(ref);
    EXPECT_EQ(got, want) << "--check output for " << toml << "\ngot:\n" << got << "want (" << ref << "):\n" << want;
}

// toml++ alone prints the checked-in output too. For a file the fast reader
// takes, this holds the two readers to the same output; for one it leaves to
// toml++, it repeats OutputMatches through the other entry point. (It once
// compared toml++ with load_config_text, which is toml++ itself for those.)
TEST_P(CheckGolden, TomlplusplusMatchesTheGoldenFile) {
    const std::string toml = std::string(kGoldenDir) + "/" + GetParam() + ".toml";
    const std::string ref = std::string(kGoldenDir) + "/" + GetParam() + ".out";
    ASSERT_TRUE(fs::exists(ref)) << ref << " is missing";
    const std::string got = check_output(load_config_text_with_tomlplusplus(read_file(toml), toml));
    const std::string want = read_file(ref);
    EXPECT_EQ(got, want) << "toml++ only, for " << toml << "\ngot:\n" << got << "want (" << ref << "):\n" << want;
}

INSTANTIATE_TEST_SUITE_P(Check, CheckGolden, ::testing::ValuesIn(golden_names()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                             std::string name = param.param;
                             for (char& c : name)
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             return name;
                         });

TEST(CheckGoldenFiles, AreThere) {
    std::vector<std::string> names = golden_names();
    EXPECT_GE(names.size(), 8u) << "looked in " << (source_dir() / kGoldenDir);
    for (const char* required : {"five_mistakes", "full"})
        EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required << ".toml is missing";
}

// Both readers are exercised: the fast reader takes some golden files (so the
// toml++ comparison above holds two readers together) and leaves others to toml++.
TEST(CheckGoldenFiles, BothReadersAreExercised) {
    ASSERT_EQ(::chdir(source_dir().c_str()), 0);
    int fast = 0, slow = 0;
    for (const std::string& name : golden_names())
        ++(fast_reader_accepts(read_file(std::string(kGoldenDir) + "/" + name + ".toml")) ? fast : slow);
    EXPECT_GE(fast, 5) << "golden files the fast reader takes";
    EXPECT_GE(slow, 1) << "golden files left to toml++";
}

// The golden file that shows every mistake is reported, not only the first.
TEST(CheckGoldenFiles, FiveMistakesGiveFiveErrors) {
    ASSERT_EQ(::chdir(source_dir().c_str()), 0);
    LoadResult r = load_config_file(std::string(kGoldenDir) + "/five_mistakes.toml");
    EXPECT_FALSE(r.ok());
    ASSERT_EQ(r.diagnostics.size(), 5u);
    for (const Diagnostic& d : r.diagnostics) EXPECT_FALSE(d.warning) << d.format();
}

}  // namespace
}  // namespace tlspolicy
