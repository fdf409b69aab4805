// contrib/tlspolicy-milter.service: `systemctl reload` must check the policy
// file before it sends SIGHUP, with the same file the service runs on, so a
// broken file fails the reload visibly instead of being only logged.
// contrib/tlspolicy-ingest.service: checks the file it runs on before it
// starts, follows, and writes the observation store (SQLite in its state
// directory, or PostgreSQL over TCP, which its sandbox must allow).
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "golden.hpp"

namespace {

using tlspolicy::tests::read_file;
using tlspolicy::tests::source_dir;

constexpr const char* kUnit = "contrib/tlspolicy-milter.service";
constexpr const char* kIngestUnit = "contrib/tlspolicy-ingest.service";

// The values of every `KEY=` line, in file order.
std::vector<std::string> values_of(const std::string& key, const char* unit = kUnit) {
    std::istringstream in(read_file(source_dir() / unit));
    EXPECT_FALSE(in.str().empty()) << unit << " is missing or empty under " << source_dir();
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
        if (line.rfind(key + "=", 0) == 0) out.push_back(line.substr(key.size() + 1));
    return out;
}

// "-c PATH" in a command line, or "".
std::string config_of(const std::string& command) {
    const auto at = command.find(" -c ");
    if (at == std::string::npos) return {};
    const auto end = command.find(' ', at + 4);
    return command.substr(at + 4, end == std::string::npos ? std::string::npos : end - at - 4);
}

TEST(SystemdUnit, ReloadChecksTheFileBeforeSignalling) {
    const std::vector<std::string> start = values_of("ExecStart");
    const std::vector<std::string> reload = values_of("ExecReload");
    ASSERT_EQ(start.size(), 1u);
    ASSERT_EQ(reload.size(), 2u) << "want the --check, then the HUP";
    EXPECT_NE(reload[0].find("/tlspolicy-milter "), std::string::npos) << reload[0];
    EXPECT_NE(reload[0].find(" --check"), std::string::npos) << reload[0];
    EXPECT_FALSE(config_of(start[0]).empty()) << start[0];
    EXPECT_EQ(config_of(reload[0]), config_of(start[0])) << "the reload must check the file the service runs on";
    EXPECT_EQ(reload[1], "/bin/kill -HUP $MAINPID");
}

TEST(SystemdUnit, IngestChecksFollowsAndWritesTheStore) {
    const std::vector<std::string> pre = values_of("ExecStartPre", kIngestUnit);
    const std::vector<std::string> start = values_of("ExecStart", kIngestUnit);
    ASSERT_EQ(pre.size(), 1u);
    ASSERT_EQ(start.size(), 1u);
    EXPECT_NE(pre[0].find(" --check"), std::string::npos) << pre[0];
    EXPECT_FALSE(config_of(start[0]).empty()) << start[0];
    EXPECT_EQ(config_of(pre[0]), config_of(start[0]));
    for (const char* part : {" ingest postfix ", " --follow"})
        EXPECT_NE(start[0].find(part), std::string::npos) << part << " in " << start[0];
    EXPECT_EQ(start[0].find("--output"), std::string::npos) << "the store, not a file: " << start[0];
    EXPECT_EQ(values_of("StateDirectory", kIngestUnit), std::vector<std::string>{"tlspolicy-milter"});
    // A PostgreSQL store is a TCP connection away.
    EXPECT_EQ(values_of("PrivateNetwork", kIngestUnit), std::vector<std::string>{});
    const std::vector<std::string> families = values_of("RestrictAddressFamilies", kIngestUnit);
    ASSERT_EQ(families.size(), 1u);
    for (const char* family : {"AF_UNIX", "AF_INET", "AF_INET6"})
        EXPECT_NE(families[0].find(family), std::string::npos) << family << " in " << families[0];
}

}  // namespace
