// [observations]: what database accepts (a path or a PostgreSQL URL), the
// host and spool keys and their defaults; and the SHA-256 a policy version
// names its file by.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "tls/sha256.hpp"

namespace tlspolicy {
namespace {

TEST(ObservationConfig, Keys) {
    struct Case {
        const char* name;
        const char* toml;
        const char* want_error;  // "" when it loads
        const char* want_database = "";
        const char* want_host = "";
        const char* want_spool = "/var/lib/tlspolicy-milter/observation-spool.sqlite";
        int want_spool_max_rows = 1000000;
    };
    const Case cases[] = {
        {"sqlite path", "database = \"/var/lib/x/obs.sqlite\"", "", "/var/lib/x/obs.sqlite"},
        {"postgresql URL", "database = \"postgresql://tlspolicy@db.example.com/tlspolicy\"", "",
         "postgresql://tlspolicy@db.example.com/tlspolicy"},
        {"postgres URL", "database = \"postgres://db.example.com/tlspolicy?sslmode=verify-full\"", "",
         "postgres://db.example.com/tlspolicy?sslmode=verify-full"},
        {"relative path", "database = \"obs.sqlite\"", "must be an absolute path (SQLite) or a postgresql:// URL"},
        {"mysql URL", "database = \"mysql://db/x\"", "must be an absolute path (SQLite) or a postgresql:// URL"},
        {"host and spool", "host = \"mx1.example\"\nspool = \"/srv/spool.sqlite\"\nspool_max_rows = 500", "", "",
         "mx1.example", "/srv/spool.sqlite", 500},
        {"host with a space", "host = \"mx 1\"", "may only contain letters, digits"},
        {"relative spool", "spool = \"spool.sqlite\"", "must be an absolute path"},
        {"tiny spool", "spool_max_rows = 10", "spool_max_rows must be between 100 and 100000000"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        LoadResult r = load_config_text(std::string("[observations]\n") + c.toml + "\n", "t.toml");
        std::string errors;
        for (const Diagnostic& d : r.diagnostics) errors += d.format() + "\n";
        if (*c.want_error) {
            EXPECT_FALSE(r.ok());
            EXPECT_NE(errors.find(c.want_error), std::string::npos) << "got: " << errors;
            continue;
        }
        ASSERT_TRUE(r.ok()) << errors;
        EXPECT_EQ(r.config->observations.database, c.want_database);
        EXPECT_EQ(r.config->observations.host, c.want_host);
        EXPECT_EQ(r.config->observations.spool, c.want_spool);
        EXPECT_EQ(r.config->observations.spool_max_rows, c.want_spool_max_rows);
    }
}

TEST(PolicySha256, KnownDigests) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    std::string error;
    EXPECT_EQ(sha256_file_hex("/nonexistent/policy.toml", &error), "");
    EXPECT_NE(error.find("/nonexistent/policy.toml"), std::string::npos) << error;
}

}  // namespace
}  // namespace tlspolicy
