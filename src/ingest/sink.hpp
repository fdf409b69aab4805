// Where delivery records go, with the log position they bring the reader to.
// A sink stores both at once or neither, and hands back the last position it
// stored: the reader resumes there after a restart, so that no line is lost
// and none is counted twice. (The observation store is such a sink; so is
// io/file_sink for a JSON-lines file.)
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

#include "ingest/delivery.hpp"

namespace tlspolicy::ingest {

// A place in the MTA's log: the first byte not yet read of a file (by its
// identity, not its name: a rotated file keeps its inode), or the journald
// entry last read.
struct LogPosition {
    enum class Kind : std::uint8_t { None, File, Journal };
    Kind kind = Kind::None;  // None: standard input, which cannot be resumed
    std::uint64_t device = 0, inode = 0, offset = 0;
    std::string cursor;      // journald's __CURSOR
    bool operator==(const LogPosition&) const = default;
};

// What a restart needs: the position, and the state that lines after it
// depend on (DeliveryAssembler::save_state(): TLS lines whose deliveries come
// later), taken at the same line.
struct Checkpoint {
    LogPosition position;
    std::string state;
    bool operator==(const Checkpoint&) const = default;
};

class SinkError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

class DeliverySink {
public:
    virtual ~DeliverySink() = default;
    // The checkpoint of the last write that was stored; nullopt before the first.
    virtual std::optional<Checkpoint> committed() = 0;
    // Stores `records` and `after` together: once it returns, both are kept;
    // when it throws SinkError, neither is (and committed() still says the
    // previous checkpoint). `records` may be empty: the position still moves.
    virtual void write(std::span<const OutboundDelivery> records, const Checkpoint& after) = 0;
};

// One line of text for a position, and back: "file DEV INODE OFFSET",
// "journal CURSOR", "none".
std::string position_text(const LogPosition& p);
std::optional<LogPosition> parse_position(std::string_view text);

}  // namespace tlspolicy::ingest
