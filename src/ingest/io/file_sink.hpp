// A DeliverySink into a JSON-lines file: each write appends its records and
// then a checkpoint line, in one write() followed by fsync(). A batch cut
// short (a crash, a full disk) is recognised on the next open because no
// checkpoint line follows it, and cut off, so it is neither kept nor counted:
// the reader resumes from the last checkpoint and reads those lines again.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "ingest/sink.hpp"

namespace tlspolicy::ingest {

class FileSink final : public DeliverySink {
public:
    // Opens or creates `path` (mode 0640). Throws SinkError when it cannot, or
    // when the file is not one this sink wrote.
    explicit FileSink(std::string path);
    ~FileSink() override;
    FileSink(const FileSink&) = delete;
    FileSink& operator=(const FileSink&) = delete;

    std::optional<Checkpoint> committed() override { return committed_; }
    void write(std::span<const OutboundDelivery> records, const Checkpoint& after) override;
    // Bytes of an unfinished batch cut off when the file was opened.
    std::uint64_t cut_at_open() const { return cut_; }

private:
    std::string path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
    std::uint64_t cut_ = 0;
    std::optional<Checkpoint> committed_;
};

}  // namespace tlspolicy::ingest

namespace tlspolicy::ingest {

// Records as JSON lines on a stream (ingest without --output): nothing is
// kept, so there is no checkpoint to resume from.
class StreamSink final : public DeliverySink {
public:
    explicit StreamSink(std::ostream& out) : out_(out) {}
    std::optional<Checkpoint> committed() override { return std::nullopt; }
    void write(std::span<const OutboundDelivery> records, const Checkpoint& after) override;

private:
    std::ostream& out_;
};

}  // namespace tlspolicy::ingest
