// Where log lines come from: a file (followed across rotation like tail -F),
// standard input, or journald through journalctl. Each line comes with the
// position just after it, so the reader can hand a sink exactly the lines it
// has taken in.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "ingest/sink.hpp"

namespace tlspolicy::ingest {

class SourceError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

class LineSource {
public:
    enum class Status { Lines, Idle, End };
    // A line without its line end, and the position after it (for journald
    // the caller takes the entry's cursor instead).
    using LineFn = std::function<void(std::string_view line, const LogPosition& after)>;
    virtual ~LineSource() = default;
    // Hands out what can be read now. Lines: some came, call again; Idle:
    // nothing new yet (following); End: nothing more will come.
    virtual Status read(const LineFn& line) = 0;
    // Where the source stands now, past every line handed out: it may move
    // without a line (a rotated file left for the new one). Files only.
    virtual std::optional<LogPosition> position() const { return std::nullopt; }
    // Things an operator should know (a rotated file missed while stopped),
    // taken out as they are read.
    std::vector<std::string> notes;
};

// A log file. `follow`: at its end, wait for more, and when the name points
// to another file (renamed away, logrotate's default) read the old one to its
// end first (until it has not grown for `rotation_grace`), then the new one
// from its beginning; a file that shrank (copytruncate) is read again from its
// beginning. A line not yet ended at the end of the file is not handed out
// until its end comes (or, for a rotated file, the file is left).
class FileSource final : public LineSource {
public:
    FileSource(std::string path, bool follow,
               std::chrono::milliseconds rotation_grace = std::chrono::milliseconds(2000));
    ~FileSource() override;
    FileSource(const FileSource&) = delete;
    FileSource& operator=(const FileSource&) = delete;
    // Where to start: `from` from a checkpoint (a file identity and offset),
    // else the beginning. A checkpoint whose file was rotated away while the
    // reader was stopped is found again as PATH.1, PATH.0 or PATH-*, read to
    // its end, then PATH.
    void open(const std::optional<LogPosition>& from);
    Status read(const LineFn& line) override;
    std::optional<LogPosition> position() const override;

private:
    bool open_path(const std::string& path, std::uint64_t offset);
    void close_fd();
    bool switch_to_new_file();
    void hand_out(const LineFn& line, bool final);

    std::string path_;
    bool follow_;
    std::chrono::milliseconds grace_;
    int fd_ = -1;
    std::uint64_t dev_ = 0, ino_ = 0;
    std::uint64_t consumed_ = 0;  // file offset of the first byte not handed out
    std::string buf_;             // bytes read after consumed_
    bool discarding_ = false;     // inside a line too long to keep: drop up to its end
    bool rotated_ = false;        // the name points elsewhere: finish this file first
    std::chrono::steady_clock::time_point quiet_since_{};
};

// An open descriptor read to its end (standard input): no position to resume from.
class StreamSource final : public LineSource {
public:
    explicit StreamSource(int fd) : fd_(fd) {}
    Status read(const LineFn& line) override;

private:
    int fd_;
    std::string buf_;
    bool discarding_ = false;
    bool end_ = false;
};

// journald, through `journalctl -o json` (what systemd documents as its
// stable interface): the entries any of `matches` ("FIELD=value") selects,
// after the checkpoint's cursor. Lines are JSON objects; the caller parses them.
class JournalSource final : public LineSource {
public:
    JournalSource(std::vector<std::string> matches, bool follow, std::string directory,
                  std::string journalctl = "journalctl");
    ~JournalSource() override;
    JournalSource(const JournalSource&) = delete;
    JournalSource& operator=(const JournalSource&) = delete;
    void open(const std::optional<std::string>& after_cursor);
    Status read(const LineFn& line) override;
    std::vector<std::string> argv() const { return argv_; }

private:
    void finish();
    std::vector<std::string> matches_;
    bool follow_;
    std::string directory_, journalctl_;
    std::vector<std::string> argv_;
    pid_t pid_ = -1;
    int out_ = -1, err_ = -1;
    std::string buf_, errors_;
};

// The log lines of a file this long are skipped up to their end.
inline constexpr std::size_t kMaxBufferedLine = 65536;

}  // namespace tlspolicy::ingest
