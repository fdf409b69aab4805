// journald through journalctl (see line_source.hpp). journalctl is run as a
// child with its output on a pipe; its errors are kept for the message when
// it fails.
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ingest/io/line_source.hpp"

extern char** environ;

namespace tlspolicy::ingest {

JournalSource::JournalSource(std::vector<std::string> matches, bool follow, std::string directory,
                             std::string journalctl)
    : matches_(std::move(matches)), follow_(follow), directory_(std::move(directory)),
      journalctl_(std::move(journalctl)) {}

JournalSource::~JournalSource() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
    }
    if (out_ >= 0) ::close(out_);
    if (err_ >= 0) ::close(err_);
}

void JournalSource::open(const std::optional<std::string>& after_cursor) {
    // --all: fields over 4096 bytes are not replaced by null; --no-tail: with
    // --follow, from the first entry, not the last ten.
    argv_ = {journalctl_, "--output=json", "--all", "--no-pager", "--quiet"};
    if (follow_) argv_.insert(argv_.end(), {"--follow", "--no-tail"});
    if (!directory_.empty()) argv_.push_back("--directory=" + directory_);
    if (after_cursor) argv_.push_back("--after-cursor=" + *after_cursor);
    for (std::size_t i = 0; i < matches_.size(); ++i) {
        if (i > 0) argv_.push_back("+");  // any of them
        argv_.push_back(matches_[i]);
    }
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw SourceError(std::string("pipe: ") + std::strerror(errno));
    if (::pipe2(err, O_CLOEXEC) != 0) {
        ::close(out[0]);
        ::close(out[1]);
        throw SourceError(std::string("pipe: ") + std::strerror(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::vector<char*> args;
    for (std::string& a : argv_) args.push_back(a.data());
    args.push_back(nullptr);
    const int rc = ::posix_spawnp(&pid_, journalctl_.c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
    if (rc != 0) {
        pid_ = -1;
        throw SourceError("cannot run " + journalctl_ + ": " + std::strerror(rc));
    }
}

void JournalSource::finish() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    char chunk[4096];
    ssize_t n;
    while ((n = ::read(err_, chunk, sizeof chunk)) > 0 && errors_.size() < 4096)
        errors_.append(chunk, static_cast<std::size_t>(n));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        while (!errors_.empty() && (errors_.back() == '\n' || errors_.back() == ' ')) errors_.pop_back();
        throw SourceError(journalctl_ + " failed (" +
                          (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                             : "signal " + std::to_string(WTERMSIG(status))) +
                          ")" + (errors_.empty() ? "" : ": " + errors_));
    }
}

LineSource::Status JournalSource::read(const LineFn& line) {
    if (pid_ < 0) return Status::End;
    pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
    const int ready = ::poll(fds, 2, 250);
    if (ready < 0 && errno != EINTR) throw SourceError(std::string("poll: ") + std::strerror(errno));
    if (ready <= 0) return Status::Idle;
    char chunk[1 << 16];
    if (fds[1].revents & POLLIN) {  // keep what it complains about, bounded
        const ssize_t n = ::read(err_, chunk, sizeof chunk);
        if (n > 0 && errors_.size() < 4096) errors_.append(chunk, static_cast<std::size_t>(n));
    }
    if (!(fds[0].revents & (POLLIN | POLLHUP))) return Status::Idle;
    const ssize_t n = ::read(out_, chunk, sizeof chunk);
    if (n < 0) {
        if (errno == EINTR) return Status::Idle;
        throw SourceError(std::string("cannot read from journalctl: ") + std::strerror(errno));
    }
    const LogPosition none;
    if (n == 0) {
        if (!buf_.empty()) line(buf_, none);
        buf_.clear();
        finish();
        return Status::End;
    }
    buf_.append(chunk, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = buf_.find('\n', start)) != std::string::npos; start = nl + 1)
        line(std::string_view(buf_).substr(start, nl - start), none);
    buf_.erase(0, start);
    if (buf_.size() > kMaxBufferedLine) {  // no entry is this long: give up on it
        line(buf_, none);
        buf_.clear();
    }
    return Status::Lines;
}

}  // namespace tlspolicy::ingest
