// The one harness for golden files and the one file reader of the tests.
//   source_dir()     the source tree: $TLSPOLICY_SRCDIR, else the working
//                    directory when it is the top of the tree (make runs the
//                    tests there), else the tree this file was compiled in.
//   in_source_dir()  chdir there, for tests whose output names relative paths.
//   read_file(p)     the whole file, bytes as they are ("" when unreadable).
//   expect_golden(ref, got)  got must equal the file byte for byte. With
//                    UPDATE_GOLDEN=1 the file is rewritten AND the test fails,
//                    so a run that rewrites never passes: review the diff,
//                    then run again without it.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tlspolicy::tests {

namespace fs = std::filesystem;

inline fs::path source_dir() {
    if (const char* env = std::getenv("TLSPOLICY_SRCDIR"); env && *env) return env;
    if (fs::is_directory("tests/golden")) return fs::current_path();
#ifdef TLSPOLICY_TEST_SRCDIR  // the Makefile's: the tree these tests were compiled in
    if (fs::is_directory(fs::path(TLSPOLICY_TEST_SRCDIR) / "tests/golden")) return TLSPOLICY_TEST_SRCDIR;
#endif
    return fs::current_path();
}

// For ASSERT_TRUE(in_source_dir()) at the start of a test.
inline ::testing::AssertionResult in_source_dir() {
    const fs::path dir = source_dir();
    if (::chdir(dir.c_str()) != 0) return ::testing::AssertionFailure() << "cannot chdir to " << dir;
    if (!fs::is_directory("tests/golden"))
        return ::testing::AssertionFailure() << dir << " has no tests/golden: set TLSPOLICY_SRCDIR to the source tree";
    return ::testing::AssertionSuccess();
}

inline std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline bool updating_golden() {
    const char* update = std::getenv("UPDATE_GOLDEN");
    return update && std::string(update) == "1";
}

// `what` names the case in the failure message.
inline void expect_golden(const fs::path& ref, const std::string& got, const std::string& what = "") {
    const std::string name = what.empty() ? ref.string() : what;
    if (updating_golden()) {
        std::ofstream(ref, std::ios::binary) << got;
        ADD_FAILURE() << ref << " rewritten: UPDATE_GOLDEN=1 passes no golden test; review the diff, run again";
        return;
    }
    if (!fs::exists(ref)) {
        ADD_FAILURE() << ref << " is missing (UPDATE_GOLDEN=1 writes it); " << name << " gave:\n" << got;
        return;
    }
    EXPECT_EQ(got, read_file(ref)) << name << ": got (left) differs from " << ref;
}

}  // namespace tlspolicy::tests
