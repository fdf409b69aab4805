// `--check` as the command line runs it: what it says about
// this host (a [milter] user that does not exist) is a warning with the
// user's FILE:LINE:COLUMN and exit 0; the loader itself stays host-independent.
#include <gtest/gtest.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "config/config.hpp"
#include "config/policy_checks.hpp"

namespace tlspolicy {
namespace {

namespace fs = std::filesystem;

// A name no system creates; the test is void if this host has it.
constexpr const char* kMissingUser = "tlspolicy-test-no-such-user";

struct CliRun {
    int rc;
    std::string out, err;
};

CliRun check(const std::string& toml) {
    std::string path = (fs::temp_directory_path() / "check_cli_test.XXXXXX").string();
    const int fd = ::mkstemp(path.data());
    EXPECT_GE(fd, 0);
    ::close(fd);
    std::ofstream(path) << toml;
    const char* argv[] = {"tlspolicy-milter", "-c", path.c_str(), "--check"};
    std::ostringstream out, err;
    const int rc = run_cli(4, argv, out, err);
    fs::remove(path);
    // The path is random: name it FILE.
    std::string e = err.str();
    for (std::size_t at; (at = e.find(path)) != std::string::npos;) e.replace(at, path.size(), "FILE");
    return {rc, out.str(), e};
}

TEST(CheckHost, MissingUserIsAWarningAtItsPosition) {
    ASSERT_EQ(::getpwnam(kMissingUser), nullptr) << kMissingUser << " exists on this host";
    CliRun r = check(std::string("[milter]\nmode = \"monitor\"\nuser   = \"") + kMissingUser + "\"\n");
    EXPECT_EQ(r.rc, 0) << "a warning must not fail --check";
    EXPECT_EQ(r.err, std::string("FILE:3:10: warning: user '") + kMissingUser +
                         "' does not exist on this host: the milter would not start; create it (useradd --system " +
                         kMissingUser + ") or correct the name\n");
    EXPECT_NE(r.out.find(": OK\n"), std::string::npos) << "the summary still follows:\n" << r.out;
}

// Printed in file order among the file's own warnings.
TEST(CheckHost, MissingUserWarningIsInFileOrder) {
    CliRun r = check(std::string("[milter]\nuser = \"") + kMissingUser +
                     "\"\n[[partner]]\nname = \"a\"\nsenders = [\"a.example\"]\n");
    EXPECT_EQ(r.rc, 0);
    const auto user = r.err.find("FILE:2:8: warning: user");
    const auto rule = r.err.find("FILE:3:1: warning: partner 'a' has no requirement");
    ASSERT_NE(user, std::string::npos) << r.err;
    ASSERT_NE(rule, std::string::npos) << r.err;
    EXPECT_LT(user, rule) << r.err;
}

TEST(CheckHost, ExistingUserOrNoneGivesNoWarning) {
    for (const char* toml : {"[milter]\nuser = \"root\"\n", "[milter]\nmode = \"monitor\"\n"}) {
        CliRun r = check(toml);
        EXPECT_EQ(r.rc, 0);
        EXPECT_EQ(r.err, "") << toml;
    }
}

// The loader leaves the host out, so that --check's golden files and reloads
// say the same on every host.
TEST(CheckHost, LoaderDoesNotLookAtTheHost) {
    LoadResult r = load_config_text(std::string("[milter]\nuser = \"") + kMissingUser + "\"\n", "t.toml");
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.diagnostics.empty());
    std::vector<Diagnostic> w = host_warnings(*r.config);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_TRUE(w[0].warning);
    EXPECT_EQ(w[0].line, 2);
    EXPECT_EQ(w[0].column, 8);
}

}  // namespace
}  // namespace tlspolicy
