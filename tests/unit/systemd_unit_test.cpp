// contrib/tlspolicy-milter.service: `systemctl reload` must check the policy
// file before it sends SIGHUP, with the same file the service runs on, so a
// broken file fails the reload visibly instead of being only logged.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "golden.hpp"

namespace {

using tlspolicy::tests::read_file;
using tlspolicy::tests::source_dir;

constexpr const char* kUnit = "contrib/tlspolicy-milter.service";

// The values of every `KEY=` line, in file order.
std::vector<std::string> values_of(const std::string& key) {
    std::istringstream in(read_file(source_dir() / kUnit));
    EXPECT_FALSE(in.str().empty()) << kUnit << " is missing or empty under " << source_dir();
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

}  // namespace
