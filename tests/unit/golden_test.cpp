// The golden harness itself: a match passes, a difference fails, and
// UPDATE_GOLDEN=1 rewrites the file and still fails.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "golden.hpp"

namespace tlspolicy {
namespace {

namespace fs = std::filesystem;

class GoldenHarness : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("tpm-golden-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        std::ofstream(dir_ / "case.out", std::ios::binary) << "want\n";
    }
    void TearDown() override {
        ::unsetenv("UPDATE_GOLDEN");
        fs::remove_all(dir_);
    }
    fs::path dir_;
};

TEST_F(GoldenHarness, SameBytesPass) { tests::expect_golden(dir_ / "case.out", "want\n"); }

TEST_F(GoldenHarness, OtherBytesFail) {
    EXPECT_NONFATAL_FAILURE(tests::expect_golden(dir_ / "case.out", "got\n"), "differs from");
}

TEST_F(GoldenHarness, MissingFileFails) {
    EXPECT_NONFATAL_FAILURE(tests::expect_golden(dir_ / "none.out", "got\n"), "is missing");
}

TEST_F(GoldenHarness, UpdateRewritesAndFails) {
    ::setenv("UPDATE_GOLDEN", "1", 1);
    EXPECT_NONFATAL_FAILURE(tests::expect_golden(dir_ / "case.out", "got\n"), "passes no golden test");
    EXPECT_EQ(tests::read_file(dir_ / "case.out"), "got\n");
}

TEST(SourceTree, TestsRunAtItsTop) {
    EXPECT_TRUE(fs::is_directory("tests/golden")) << fs::current_path();
    EXPECT_EQ(fs::canonical(fs::current_path()), fs::canonical(tests::source_dir()));
}

}  // namespace
}  // namespace tlspolicy
