// Which restart-only keys a reload changed (config/reload_scope.hpp): a pure
// comparison of the running Config with the newly loaded one, and the warning
// the daemon logs from it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/reload_scope.hpp"
#include "config/schema.hpp"

namespace tlspolicy {
namespace {

struct ReloadCase {
    const char* name;
    const char* running;  // the policy file at start
    const char* loaded;   // the policy file at reload
    std::vector<std::string> want_keys;  // "[milter] timeout", in schema order
    const char* want_warning;            // "" when nothing restart-only changed
};

constexpr const char* kRules = "[[partner]]\nname = \"a\"\nsenders = [\"a.example\"]\nrequire_tls = true\n";

const ReloadCase kCases[] = {
    {"SameFile", "[milter]\ntimeout = 60\n", "[milter]\ntimeout = 60\n", {}, ""},
    {"DefaultWrittenOut", "", "[milter]\ntimeout = 300\nsocket_mode = \"0660\"\n", {}, ""},
    {"SameModeWrittenInThreeDigits", "[milter]\nsocket_mode = \"0660\"\n", "[milter]\nsocket_mode = \"660\"\n", {}, ""},
    {"LiveKeysOnly", "",
     "[milter]\nmode = \"monitor\"\nrecipient_delimiter = \"-\"\n[header]\nname = \"X-TLS\"\n"
     "[stats]\nfile = \"/tmp/s.prom\"\ninterval = 5\n[defaults]\nmin_version = \"TLSv1.2\"\n",
     {}, ""},
    {"RulesOnly", "", kRules, {}, ""},
    {"Timeout", "[milter]\ntimeout = 300\n", "[milter]\ntimeout = 60\n", {"[milter] timeout"},
     "reload: [milter] timeout takes effect only on restart"},
    {"TimeoutAndSocketMode", "", "[milter]\ntimeout = 60\nsocket_mode = \"0600\"\n",
     {"[milter] socket_mode", "[milter] timeout"},
     "reload: [milter] socket_mode, timeout take effect only on restart"},
    {"Socket", "[milter]\nsocket = \"inet:8891@127.0.0.1\"\n", "[milter]\nsocket = \"inet:8892@127.0.0.1\"\n",
     {"[milter] socket"}, "reload: [milter] socket takes effect only on restart"},
    {"UserRemoved", "[milter]\nuser = \"postfix\"\n", "", {"[milter] user"},
     "reload: [milter] user takes effect only on restart"},
    {"PidfileAdded", "", "[milter]\npidfile = \"/run/t.pid\"\n", {"[milter] pidfile"},
     "reload: [milter] pidfile takes effect only on restart"},
    {"StoreTurnedOn", "", "[observations]\ndatabase = \"/var/lib/t.sqlite\"\nkeep_days = 30\n",
     {"[observations] database", "[observations] keep_days"},
     "reload: [observations] database, keep_days take effect only on restart"},
    {"TwoSectionsAndLiveKeys", "[milter]\nmode = \"enforce\"\n",
     "[milter]\nmode = \"monitor\"\npidfile = \"/run/t.pid\"\n[observations]\nkeep_days = 7\n",
     {"[milter] pidfile", "[observations] keep_days"},
     "reload: [milter] pidfile; [observations] keep_days take effect only on restart"},
};

void PrintTo(const ReloadCase& c, std::ostream* os) { *os << c.name; }

std::shared_ptr<const Config> load_ok(const char* text) {
    LoadResult r = load_config_text(text, "t.toml");
    EXPECT_TRUE(r.ok()) << text;
    return r.config;
}

class ConfigReload : public ::testing::TestWithParam<ReloadCase> {};

TEST_P(ConfigReload, NamesTheRestartOnlyKeysThatChanged) {
    const ReloadCase& c = GetParam();
    auto running = load_ok(c.running), loaded = load_ok(c.loaded);
    ASSERT_TRUE(running && loaded);
    std::vector<std::string> got;
    for (const KeyDecl* k : restart_only_changes(*running, *loaded)) {
        for (const SectionDecl& s : schema_sections())
            if (k->in(s.section)) got.push_back(section_header(s.section) + " " + std::string(k->key));
    }
    EXPECT_EQ(got, c.want_keys);
    EXPECT_EQ(restart_only_warning(*running, *loaded), c.want_warning);
}

INSTANTIATE_TEST_SUITE_P(Config, ConfigReload, ::testing::ValuesIn(kCases),
                         [](const auto& param) { return std::string(param.param.name); });

// Only daemon settings can be restart-only: a reload swaps the whole policy.
TEST(ConfigReloadScope, RestartOnlyKeysAreDaemonSettings) {
    EXPECT_EQ(restart_only_keys(),
              "[milter] socket, user, socket_mode, pidfile, timeout; [observations] database, keep_days, host, spool, spool_max_rows");
    for (const KeyDecl& k : schema()) {
        if (k.reload == Reload::Restart) {
            EXPECT_TRUE(k.in(Section::Milter) || k.in(Section::Observations)) << k.key;
        }
    }
}

}  // namespace
}  // namespace tlspolicy
