// A PostgreSQL server for unit tests: `make run-pg` starts one
// (tests/e2e/pg_fixture.py) and sets TLSPOLICY_TEST_PG to its URL; each test
// makes a database of its own on it. Without the variable a test fails,
// saying how to run it; TLSPOLICY_TEST_PG=skip skips it on purpose. Suites
// named Postgres* run under `make run-pg` only.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>

#include "store/postgres/postgres.hpp"

namespace tlspolicy::test {

// The server's URL, or "" after failing or skipping the test.
inline std::string server_url() {
    const char* url = std::getenv("TLSPOLICY_TEST_PG");
    if (url && std::string(url) == "skip") return "";
    if (!url || !*url) {
        ADD_FAILURE() << "TLSPOLICY_TEST_PG is not set: run `make run-pg` (it starts a private PostgreSQL), or set "
                         "TLSPOLICY_TEST_PG=postgresql://... to a server, or TLSPOLICY_TEST_PG=skip to skip on purpose";
        return "";
    }
    return url;
}

inline std::string with_database(const std::string& url, const std::string& db) {
    const std::size_t query = url.find('?');
    const std::string base = url.substr(0, query);
    return base.substr(0, base.rfind('/') + 1) + db + (query == std::string::npos ? "" : url.substr(query));
}

// A fresh, empty database on the test server; its URL. `create` false: only
// the name (a database that does not exist yet).
inline std::string fresh_database(const std::string& url, const std::string& name, bool create = true) {
    static std::atomic<int> n{0};
    const std::string db = "t_" + name + "_" + std::to_string(getpid()) + "_" + std::to_string(n++);
    if (create) {
        pg::Conn admin(url, std::chrono::seconds(10));
        std::string error;
        EXPECT_TRUE(admin.connect(&error)) << error;
        EXPECT_TRUE(admin.exec("CREATE DATABASE " + db, &error)) << error;
    }
    return with_database(url, db);
}

inline std::string query(const std::string& url, const std::string& sql) {
    pg::Conn c(url, std::chrono::seconds(10));
    pg::Result r;
    std::string error;
    EXPECT_TRUE(c.connect(&error)) << error;
    EXPECT_TRUE(c.exec(sql, {}, &r, &error)) << error;
    std::string out;
    for (int i = 0; i < r.rows(); ++i) out += (i ? "\n" : "") + r.text(i, 0);
    return out;
}

}  // namespace tlspolicy::test

// In a test: `url` the server's URL; else the test has failed or is skipped.
#define NEED_SERVER(url)                                             \
    const std::string url = ::tlspolicy::test::server_url();         \
    if (url.empty()) {                                               \
        if (!HasFailure()) GTEST_SKIP() << "TLSPOLICY_TEST_PG=skip"; \
        return;                                                      \
    }
