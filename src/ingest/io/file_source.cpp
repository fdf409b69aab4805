// Log files followed like tail -F, and standard input (see line_source.hpp).
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/io/line_source.hpp"

namespace tlspolicy::ingest {
namespace {

constexpr std::size_t kChunk = 1 << 18;

std::string why() { return std::strerror(errno); }

// Hands out every complete line of `buf` (from `base`, its file offset), and
// removes them; returns the new base.
template <class Fn>
std::uint64_t complete_lines(std::string& buf, std::uint64_t base, bool& discarding, const Fn& emit) {
    std::size_t start = 0;
    const char* data = buf.data();
    while (start < buf.size()) {
        const void* nl = std::memchr(data + start, '\n', buf.size() - start);
        if (!nl) break;
        const std::size_t end = static_cast<std::size_t>(static_cast<const char*>(nl) - data);
        std::string_view l(data + start, end - start);
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        if (discarding) discarding = false;  // the end of a line too long to keep
        else emit(l, base + end + 1);
        start = end + 1;
    }
    buf.erase(0, start);
    return base + start;
}

}  // namespace

FileSource::FileSource(std::string path, bool follow, std::chrono::milliseconds rotation_grace)
    : path_(std::move(path)), follow_(follow), grace_(rotation_grace) {}

FileSource::~FileSource() { close_fd(); }

void FileSource::close_fd() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool FileSource::open_path(const std::string& path, std::uint64_t offset) {
    close_fd();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st{};
    if (::fstat(fd, &st) != 0 || ::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
        ::close(fd);
        return false;
    }
    fd_ = fd;
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    consumed_ = offset;
    buf_.clear();
    discarding_ = false;
    return true;
}

std::optional<LogPosition> FileSource::position() const {
    if (fd_ < 0) return std::nullopt;
    LogPosition p;
    p.kind = LogPosition::Kind::File;
    p.device = dev_;
    p.inode = ino_;
    p.offset = consumed_;
    return p;
}

void FileSource::open(const std::optional<LogPosition>& from) {
    const auto start_fresh = [&] {
        if (!open_path(path_, 0) && !follow_) throw SourceError("cannot open " + path_ + ": " + why());
    };
    if (!from || from->kind == LogPosition::Kind::None) return start_fresh();
    if (from->kind != LogPosition::Kind::File)
        throw SourceError("the checkpoint is a journald cursor, not a place in " + path_ +
                          ": give this log its own output (--output)");
    struct stat st{};
    if (::stat(path_.c_str(), &st) == 0 && st.st_dev == from->device && st.st_ino == from->inode) {
        if (static_cast<std::uint64_t>(st.st_size) < from->offset) {
            notes.push_back(path_ + " is shorter (" + std::to_string(st.st_size) + " bytes) than where the last run "
                            "stopped (" + std::to_string(from->offset) + "): it was truncated while the ingest was "
                            "stopped (copytruncate); lines written between then and the truncation are lost; "
                            "reading it from its beginning");
            return start_fresh();
        }
        if (!open_path(path_, from->offset)) throw SourceError("cannot open " + path_ + ": " + why());
        return;
    }
    // Rotated while we were stopped: the file we were reading under its new name.
    std::vector<std::string> candidates = {path_ + ".1", path_ + ".0"};
    const std::size_t slash = path_.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path_.substr(0, slash == 0 ? 1 : slash);
    const std::string base = (slash == std::string::npos ? path_ : path_.substr(slash + 1)) + "-";
    if (DIR* d = ::opendir(dir.c_str())) {
        std::vector<std::string> dated;
        while (const dirent* e = ::readdir(d))
            if (std::string_view(e->d_name).starts_with(base)) dated.push_back(dir + "/" + e->d_name);
        ::closedir(d);
        std::sort(dated.rbegin(), dated.rend());  // newest date first
        candidates.insert(candidates.end(), dated.begin(), dated.end());
    }
    for (const std::string& c : candidates) {
        if (::stat(c.c_str(), &st) != 0 || st.st_dev != from->device || st.st_ino != from->inode) continue;
        if (static_cast<std::uint64_t>(st.st_size) < from->offset || !open_path(c, from->offset)) break;
        notes.push_back(path_ + " was rotated while the ingest was stopped: reading the rest of " + c + " first");
        rotated_ = true;
        quiet_since_ = {};  // no grace: nobody writes to it any more
        return;
    }
    notes.push_back("the file read last (device " + std::to_string(from->device) + ", inode " +
                    std::to_string(from->inode) + ") is neither " + path_ + " nor a rotated copy of it (" + path_ +
                    ".1, .0, -DATE): what it got after offset " + std::to_string(from->offset) +
                    " is lost; reading " + path_ + " from its beginning");
    start_fresh();
}

void FileSource::hand_out(const LineFn& line, bool final) {
    const auto emit = [&](std::string_view l, std::uint64_t after) {
        LogPosition p;
        p.kind = LogPosition::Kind::File;
        p.device = dev_;
        p.inode = ino_;
        p.offset = after;
        line(l, p);
    };
    consumed_ = complete_lines(buf_, consumed_, discarding_, emit);
    if (buf_.size() > kMaxBufferedLine || (final && !buf_.empty())) {
        // A line too long to keep is handed out once (the reader counts it as
        // skipped) and dropped to its end; a rotated file's unended last line
        // is final.
        if (!discarding_) emit(buf_, consumed_ + buf_.size());
        consumed_ += buf_.size();
        buf_.clear();
        discarding_ = !final;
    }
}

bool FileSource::switch_to_new_file() {
    rotated_ = false;
    close_fd();
    buf_.clear();
    discarding_ = false;
    return open_path(path_, 0);
}

LineSource::Status FileSource::read(const LineFn& line) {
    if (fd_ < 0) {
        if (!open_path(path_, 0)) {
            if (follow_) return Status::Idle;  // not there yet: wait for it
            throw SourceError("cannot open " + path_ + ": " + why());
        }
    }
    static thread_local std::string chunk(kChunk, '\0');
    bool got = false;
    for (int round = 0; round < 64; ++round) {  // at most 16 MB, then the caller may commit
        const ssize_t n = ::read(fd_, chunk.data(), kChunk);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw SourceError("cannot read " + path_ + ": " + why());
        }
        if (n == 0) break;
        buf_.append(chunk.data(), static_cast<std::size_t>(n));
        hand_out(line, false);
        got = true;
    }
    const auto now = std::chrono::steady_clock::now();
    if (got) {
        quiet_since_ = now;
        return Status::Lines;
    }
    if (!rotated_) {
        struct stat st{};
        const bool named = ::stat(path_.c_str(), &st) == 0;
        if (follow_ && (!named || st.st_dev != dev_ || st.st_ino != ino_)) {
            rotated_ = true;  // renamed or removed: read the old file to its end first
            quiet_since_ = now;
            return Status::Idle;
        }
        struct stat mine{};
        if (::fstat(fd_, &mine) == 0 && static_cast<std::uint64_t>(mine.st_size) < consumed_ + buf_.size()) {
            // copytruncate: the same file, emptied; its unended line went with the copy.
            buf_.clear();
            discarding_ = false;
            consumed_ = 0;
            if (::lseek(fd_, 0, SEEK_SET) < 0) throw SourceError("cannot read " + path_ + ": " + why());
            return Status::Lines;
        }
        return follow_ ? Status::Idle : Status::End;
    }
    if (follow_ && now - quiet_since_ < grace_) return Status::Idle;
    hand_out(line, true);
    if (switch_to_new_file()) return Status::Lines;
    return follow_ ? Status::Idle : Status::End;
}

LineSource::Status StreamSource::read(const LineFn& line) {
    if (end_) return Status::End;
    static thread_local std::string chunk(kChunk, '\0');
    ssize_t n;
    do n = ::read(fd_, chunk.data(), kChunk);
    while (n < 0 && errno == EINTR);
    if (n < 0) throw SourceError("cannot read standard input: " + why());
    const LogPosition none;
    const auto emit = [&](std::string_view l, std::uint64_t) { line(l, none); };
    if (n == 0) {
        end_ = true;
        if (!buf_.empty()) emit(buf_, 0);  // the last line needs no line end
        buf_.clear();
        return Status::End;
    }
    buf_.append(chunk.data(), static_cast<std::size_t>(n));
    complete_lines(buf_, 0, discarding_, emit);
    if (buf_.size() > kMaxBufferedLine) {
        if (!discarding_) emit(buf_, 0);
        buf_.clear();
        discarding_ = true;
    }
    return Status::Lines;
}

}  // namespace tlspolicy::ingest
