// `--check` with a PostgreSQL store: the local spool must be usable by the
// milter's user (an error at the spool's FILE:LINE:COLUMN, or at the
// database's when the spool is left at its default, naming the path and
// what to do), and the URL's password is shown as ***. A SQLite store needs
// no spool.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/cli.hpp"
#include "config/config.hpp"
#include "config/policy_checks.hpp"
#include "store_test_util.hpp"

namespace tlspolicy {
namespace {

struct CliRun {
    int rc;
    std::string out, err;
};

// --check of `toml`, written to DIR/policy.toml; DIR reads as "DIR".
CliRun check(const test::StoreDir& dir, const std::string& toml) {
    const std::string path = dir.file("policy.toml");
    std::ofstream(path) << toml;
    const char* argv[] = {"tlspolicy-milter", "-c", path.c_str(), "--check"};
    std::ostringstream out, err;
    const int rc = run_cli(4, argv, out, err);
    auto anon = [&](std::string s) {
        for (std::size_t at; (at = s.find(dir.path.string())) != std::string::npos;) s.replace(at, dir.path.string().size(), "DIR");
        return s;
    };
    return {rc, anon(out.str()), anon(err.str())};
}

std::string observations(const std::string& database, const std::string& spool, const std::string& user = "") {
    return (user.empty() ? "" : "[milter]\nuser = \"" + user + "\"\n") + "[observations]\ndatabase = \"" + database +
           "\"\n" + (spool.empty() ? "" : "spool = \"" + spool + "\"\n");
}

constexpr const char* kUrl = "postgresql://tlspolicy:s3cret@127.0.0.1:1/tlspolicy";
constexpr const char* kWhy =
    ". A PostgreSQL store keeps observations in this local spool while the server is unreachable, and the milter "
    "does not start without it";

TEST(CheckSpool, EachCase) {
    test::StoreDir dir;
    ASSERT_EQ(mkdir(dir.file("locked").c_str(), 0700), 0);
    std::ofstream(dir.file("foreign.sqlite")) << "not a database, some other program's file\n";
    // The directory the milter's user may not write: as root, for user
    // nobody (root itself may write anywhere); else for ourselves.
    const bool root = geteuid() == 0;
    if (!root) chmod(dir.file("locked").c_str(), 0500);
    struct Case {
        const char* name;
        std::string toml;
        int want_rc;
        std::string want_err;  // exactly
        std::string want_out;  // a line of the summary, "" for none
    };
    const Case cases[] = {
        {"usable spool: the summary names it, the password is ***", observations(kUrl, dir.file("spool.sqlite")), 0, "",
         "[observations]  postgresql://tlspolicy:***@127.0.0.1:1/tlspolicy, kept 90 days, spool DIR/spool.sqlite\n"},
        {"spool in a directory that does not exist", observations(kUrl, dir.file("gone/spool.sqlite")), 1,
         "DIR/policy.toml:3:9: [observations] spool 'DIR/gone/spool.sqlite' cannot be used: directory DIR/gone does "
         "not exist" + std::string(kWhy) + ": create it for the milter's user (install -d -m 0750 DIR/gone), or set "
         "spool to a file in a directory that user may write\n",
         ""},
        {"spool in a directory the milter's user may not write",
         observations(kUrl, dir.file("locked/spool.sqlite"), root ? "nobody" : ""), 1,
         std::string(root ? "DIR/policy.toml:5:9" : "DIR/policy.toml:3:9") +
             ": [observations] spool 'DIR/locked/spool.sqlite' cannot be used: directory DIR/locked is not writable by " +
             (root ? "user 'nobody'" : "this user") + " (Permission denied)" + kWhy + ": let " +
             (root ? "nobody" : "the milter's user") + " write there (chown " + (root ? "nobody" : "USER") +
             " DIR/locked), or set spool to a file in a directory that user may write\n",
         ""},
        {"a file that is not a spool", observations(kUrl, dir.file("foreign.sqlite")), 1,
         "DIR/policy.toml:3:9: [observations] spool 'DIR/foreign.sqlite' cannot be used: DIR/foreign.sqlite: not a "
         "tlspolicy-milter observation database (file is not a database (code 26)). Set [observations] spool to "
         "another file, or move this one away. The file was left unchanged" + std::string(kWhy) + "\n",
         ""},
        {"SQLite needs no spool", observations("/var/lib/x/observations.sqlite", dir.file("gone/spool.sqlite")), 0, "",
         "[observations]  /var/lib/x/observations.sqlite, kept 90 days\n"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        CliRun r = check(dir, c.toml);
        EXPECT_EQ(r.rc, c.want_rc) << r.err;
        EXPECT_EQ(r.err, c.want_err);
        if (!c.want_out.empty()) {
            EXPECT_NE(r.out.find(c.want_out), std::string::npos) << r.out;
        }
        EXPECT_EQ(r.out.find("s3cret"), std::string::npos) << r.out;
        EXPECT_EQ(r.err.find("s3cret"), std::string::npos) << r.err;
    }
    EXPECT_FALSE(std::filesystem::exists(dir.file("spool.sqlite"))) << "--check creates nothing";
}

// Left at its default, the spool is still required: the error stands at the
// database key, which is what asks for it.
TEST(CheckSpool, DefaultSpoolIsCheckedAtTheDatabaseKey) {
    test::StoreDir dir;
    LoadResult r = load_config_text(std::string("[observations]\nkeep_days = 30\ndatabase = \"") + kUrl + "\"\n", "t.toml");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.config->observations.spool, "/var/lib/tlspolicy-milter/observation-spool.sqlite");
    EXPECT_EQ(r.config->observations.spool_line, 0) << "a default has no place in the file";
    Config c = *r.config;
    c.observations.spool = dir.file("gone/observation-spool.sqlite");  // a default whose directory is missing
    std::vector<Diagnostic> errors = host_errors(c);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_FALSE(errors[0].warning);
    EXPECT_EQ(errors[0].line, 3);
    EXPECT_EQ(errors[0].column, 12);
    EXPECT_EQ(errors[0].message, "[observations] spool is not set, and its default '" + c.observations.spool +
                                     "' cannot be used: directory " + dir.file("gone") + " does not exist" + kWhy +
                                     ": create it for the milter's user (install -d -m 0750 " + dir.file("gone") +
                                     "), or set [observations] spool to a file in a directory that user may write");
}

}  // namespace
}  // namespace tlspolicy
