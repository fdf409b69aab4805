// The JSON-lines sink (see file_sink.hpp).
#include "ingest/io/file_sink.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ostream>

#include "ingest/record_json.hpp"

namespace tlspolicy::ingest {
namespace {

// The first line of every file this sink writes: what it is, and that it may
// be cut back to its last checkpoint.
constexpr std::string_view kHeader = "{\"type\":\"tlspolicy-ingest-output\",\"version\":1}\n";

std::string why() { return std::strerror(errno); }

bool read_at(int fd, std::uint64_t offset, std::size_t n, std::string& out) {
    out.resize(n);
    std::size_t got = 0;
    while (got < n) {
        const ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += static_cast<std::size_t>(r);
    }
    return true;
}

}  // namespace

FileSink::FileSink(std::string path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0) throw SinkError("cannot open " + path_ + ": " + why());
    struct stat st{};
    if (::fstat(fd_, &st) != 0) throw SinkError("cannot stat " + path_ + ": " + why());
    const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
    std::string head;
    if (size > 0 && (size < kHeader.size() || !read_at(fd_, 0, kHeader.size(), head) || head != kHeader))
        throw SinkError(path_ + " is not a file that ingest --output wrote (its first line is not " +
                        std::string(kHeader.substr(0, kHeader.size() - 1)) + "): name another file");
    // The last checkpoint line: read backwards a block at a time; a line
    // counts only when its line end is in the file.
    std::uint64_t end = size;  // lines before `end` are complete or not yet looked at
    std::string tail;          // the bytes from `end` to the end of what was looked at
    std::uint64_t keep = 0;    // where the kept part of the file ends
    for (std::uint64_t block = 1 << 20; end > 0 && !committed_;) {
        const std::uint64_t from = end > block ? end - block : 0;
        std::string chunk;
        if (!read_at(fd_, from, static_cast<std::size_t>(end - from), chunk))
            throw SinkError("cannot read " + path_ + ": " + why());
        std::string text = chunk + tail;
        // Lines wholly inside text, last first; the first may be cut (unless from == 0).
        std::size_t stop = text.size();
        while (!committed_) {
            const std::size_t nl = stop == 0 ? std::string::npos : text.rfind('\n', stop - 1);
            const std::size_t line_end = nl;  // the line ends at nl
            if (nl == std::string::npos) break;
            const std::size_t start_nl = nl == 0 ? std::string::npos : text.rfind('\n', nl - 1);
            if (start_nl == std::string::npos && from != 0) break;  // its start is in an earlier block
            const std::size_t start = start_nl == std::string::npos ? 0 : start_nl + 1;
            if (auto c = parse_checkpoint_json(std::string_view(text).substr(start, line_end - start))) {
                committed_ = std::move(c);
                keep = from + line_end + 1;
            }
            stop = start;
        }
        tail = text.substr(0, stop);
        end = from;
    }
    if (!committed_) keep = std::min<std::uint64_t>(size, kHeader.size());
    if (keep < size) {
        if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0)
            throw SinkError("cannot cut the unfinished batch off " + path_ + ": " + why());
        cut_ = size - keep;
    }
    size_ = keep;
    if (size_ == 0) {
        if (::write(fd_, kHeader.data(), kHeader.size()) != static_cast<ssize_t>(kHeader.size()) || ::fsync(fd_) != 0)
            throw SinkError("cannot write " + path_ + ": " + why());
        size_ = kHeader.size();
    }
}

FileSink::~FileSink() {
    if (fd_ >= 0) ::close(fd_);
}

void FileSink::write(std::span<const OutboundDelivery> records, const Checkpoint& after) {
    std::string batch;
    for (const OutboundDelivery& d : records) {
        batch += record_json(d);
        batch += '\n';
    }
    batch += checkpoint_json(after);
    batch += '\n';
    std::size_t done = 0;
    while (done < batch.size()) {
        const ssize_t n = ::write(fd_, batch.data() + done, batch.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string reason = why();
            // All or nothing: what went in of this batch comes out again.
            if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
            }
            throw SinkError("cannot write " + path_ + ": " + reason);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fdatasync(fd_) != 0) {
        const std::string reason = why();
        if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
        }
        throw SinkError("cannot write " + path_ + ": " + reason);
    }
    size_ += batch.size();
    committed_ = after;
}

void StreamSink::write(std::span<const OutboundDelivery> records, const Checkpoint&) {
    for (const OutboundDelivery& d : records) out_ << record_json(d) << '\n';
    out_.flush();
    if (!out_) throw SinkError("cannot write the records to standard output");
}

}  // namespace tlspolicy::ingest
