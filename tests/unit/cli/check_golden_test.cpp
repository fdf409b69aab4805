// Golden files for `--check`: each tests/golden/check/NAME.toml is loaded and
// what `--check` prints (every diagnostic, then the summary when the file loads)
// must equal NAME.out byte for byte (golden.hpp: UPDATE_GOLDEN=1 rewrites the
// .out files and fails).
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
#include "golden.hpp"

namespace tlspolicy {
namespace {

namespace fs = std::filesystem;
using tests::expect_golden;
using tests::in_source_dir;
using tests::read_file;
using tests::source_dir;

constexpr const char* kGoldenDir = "tests/golden/check";

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

class CheckGolden : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override { ASSERT_TRUE(in_source_dir()); }
};

TEST_P(CheckGolden, OutputMatches) {
    const std::string toml = std::string(kGoldenDir) + "/" + GetParam() + ".toml";
    const std::string ref = std::string(kGoldenDir) + "/" + GetParam() + ".out";
    expect_golden(ref, check_output(load_config_file(toml)), "--check output for " + toml);
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
    ASSERT_TRUE(in_source_dir());
    int fast = 0, slow = 0;
    for (const std::string& name : golden_names())
        ++(fast_reader_accepts(read_file(std::string(kGoldenDir) + "/" + name + ".toml")) ? fast : slow);
    EXPECT_GE(fast, 5) << "golden files the fast reader takes";
    EXPECT_GE(slow, 1) << "golden files left to toml++";
}

// The golden file that shows every mistake is reported, not only the first.
TEST(CheckGoldenFiles, FiveMistakesGiveFiveErrors) {
    ASSERT_TRUE(in_source_dir());
    LoadResult r = load_config_file(std::string(kGoldenDir) + "/five_mistakes.toml");
    EXPECT_FALSE(r.ok());
    ASSERT_EQ(r.diagnostics.size(), 5u);
    for (const Diagnostic& d : r.diagnostics) EXPECT_FALSE(d.warning) << d.format();
}

}  // namespace
}  // namespace tlspolicy
