// The pidfile and unix socket claims: a running process's pidfile or socket
// is never taken, a stale one is, and a symbolic link is not followed.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "milter/run_files.hpp"
#include "golden.hpp"

namespace tlspolicy::milter {
namespace {

namespace fs = std::filesystem;

class RunFiles : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/run-files-test.XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string path(const std::string& name) const { return dir_ + "/" + name; }
    static void write(const std::string& p, const std::string& text) { std::ofstream(p) << text; }
    static std::string read(const std::string& p) { return tests::read_file(p); }
    // A unix socket bound at p; listening or, when !listen, closed at once (stale).
    static int bound_socket(const std::string& p, bool listening) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strcpy(a.sun_path, p.c_str());
        EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        if (listening) {
            EXPECT_EQ(listen(fd, 1), 0);
            return fd;
        }
        close(fd);
        return -1;
    }
    std::string dir_;
};

pid_t dead_pid() {
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, nullptr, 0);
    return child;
}

TEST_F(RunFiles, PidfileProblems) {
    struct Case {
        const char* name;
        std::string content;  // "" : no file
        std::string want;     // "" : free to write; else a substring of the problem
    };
    const Case cases[] = {
        {"absent", "", ""},
        {"names_a_running_process", "1\n", "names process 1, which is running: is tlspolicy-milter already running?"},
        {"names_a_process_that_is_gone", std::to_string(dead_pid()) + "\n", ""},
        {"names_ourselves", std::to_string(getpid()) + "\n", ""},
        {"garbage", "not a pid\n", ""},
    };
    for (const Case& c : cases) {
        const std::string p = path(std::string(c.name) + ".pid");
        if (!c.content.empty()) write(p, c.content);
        std::string got = pidfile_problem(p);
        if (c.want.empty()) EXPECT_EQ(got, "") << c.name;
        else EXPECT_NE(got.find(c.want), std::string::npos) << c.name << ": got " << got;
    }
}

TEST_F(RunFiles, PidfileSymlinkIsRefusedAndNeverWrittenThrough) {
    const std::string target = path("target"), link = path("link.pid");
    write(target, "keep\n");
    ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
    EXPECT_EQ(pidfile_problem(link),
              "pidfile " + link + " is a symbolic link: it is not followed; remove it or choose another pidfile");
    EXPECT_EQ(write_pidfile(link), "");  // replaces the link itself
    EXPECT_EQ(read(target), "keep\n");
    struct stat st {};
    ASSERT_EQ(lstat(link.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(RunFiles, PidfileWrittenWholeAndRemovedOnlyWhileOurs) {
    const std::string p = path("milter.pid");
    ASSERT_EQ(write_pidfile(p), "");
    EXPECT_EQ(read(p), std::to_string(getpid()) + "\n");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 1) << "a temporary file is left";
    EXPECT_EQ(remove_pidfile(p), "");
    EXPECT_FALSE(fs::exists(p));

    write(p, "1\n");  // another instance's by now
    EXPECT_EQ(remove_pidfile(p), "");
    EXPECT_EQ(read(p), "1\n");
}

TEST_F(RunFiles, UnixSocketClaims) {
    bool removed = true;
    EXPECT_EQ(claim_unix_socket(path("absent.sock"), &removed), "");
    EXPECT_FALSE(removed);

    const std::string stale = path("stale.sock");
    bound_socket(stale, false);
    EXPECT_EQ(claim_unix_socket(stale, &removed), "");
    EXPECT_TRUE(removed);
    EXPECT_FALSE(fs::exists(stale));

    const std::string live = path("live.sock");
    int fd = bound_socket(live, true);
    EXPECT_EQ(claim_unix_socket(live, &removed),
              "another process (process " + std::to_string(getpid()) + ") is listening on unix:" + live +
                  ": is tlspolicy-milter already running? Stop it first, or choose another socket");
    EXPECT_FALSE(removed);
    EXPECT_TRUE(fs::exists(live));
    close(fd);

    const std::string file = path("file.sock");
    write(file, "x");
    EXPECT_EQ(claim_unix_socket(file, &removed),
              file + " exists and is not a socket: remove it or choose another socket path");
    EXPECT_TRUE(fs::exists(file));
}

}  // namespace
}  // namespace tlspolicy::milter
