// `probe` refuses what it cannot use before it opens any connection: a target
// that is not HOST[:PORT], a rule name the policy file does not have, a
// timeout out of range. Exit 2 and a sentence that says what to write.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.hpp"

namespace tlspolicy {
namespace {

struct Row {
    std::vector<std::string> args;  // after "-c policy probe"
    int want_exit;
    std::string want_err;           // a substring of stderr
};

TEST(ProbeCli, RefusesUnusableRequests) {
    const std::string policy = std::string(::testing::TempDir()) + "probe_cli_policy.toml";
    {
        std::ofstream f(policy);
        f << "[[partner]]\nname = \"acme\"\nsenders = [\"acme.example\"]\nrequire_tls = true\n";
    }
    const std::vector<Row> rows = {
        {{"probe", "[::1"}, 2, "a '[' without ']'"},
        {{"probe", "[::1]x"}, 2, "want [ADDRESS]:PORT"},
        {{"probe", "mx.example:0"}, 2, "'0' is not a port number (1 to 65535)"},
        {{"probe", "mx.example:70000"}, 2, "is not a port number"},
        {{"probe", "mx.example:smtp"}, 2, "'smtp' is not a port number"},
        {{"probe", ":25"}, 2, "names no host"},
        {{"probe", "127.0.0.1", "--partner", "globex"}, 2, "no [[partner]] rule named 'globex'"},
        {{"probe", "127.0.0.1", "--timeout", "0"}, 2, "--timeout"},
        {{"probe", "127.0.0.1", "--format", "xml"}, 2, "--format"},
        {{"--check", "probe", "127.0.0.1"}, 2, "--check and probe are separate requests"},
        {{"export", "postfix"}, 2, "format"},
        {{"--check", "export", "postfix-tls-policy"}, 2, "--check and export are separate requests"},
    };
    for (const Row& row : rows) {
        std::vector<std::string> args{"tlspolicy-milter", "-c", policy};
        args.insert(args.end(), row.args.begin(), row.args.end());
        std::vector<const char*> argv;
        for (const auto& a : args) argv.push_back(a.c_str());
        std::ostringstream out, err;
        const int rc = run_cli(static_cast<int>(argv.size()), argv.data(), out, err);
        EXPECT_EQ(rc, row.want_exit) << row.args.back() << "\n" << err.str();
        EXPECT_NE(err.str().find(row.want_err), std::string::npos)
            << "stderr of " << row.args.back() << " lacks '" << row.want_err << "':\n" << err.str();
        EXPECT_EQ(out.str().find("probe "), std::string::npos) << "nothing is probed: " << out.str();
    }
}

}  // namespace
}  // namespace tlspolicy
