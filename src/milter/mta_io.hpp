// The pure parts of the I/O on the connections libmilter accepts from the
// MTA: fewer system calls per milter command, and over TCP no delayed-ACK
// waits. libc_shim.cpp says why, and how it reaches sockets libmilter owns.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace tlspolicy::milter {

// Bytes read from the kernel beyond what libmilter asked for, handed out to
// its next reads in order. Pure: the read() wrapper owns one per connection.
class ReadAhead {
public:
    std::size_t size() const { return bytes_.size() - at_; }
    // Copies up to `count` bytes from the front to `to`; returns how many.
    // Here, not in mta_io.cpp: read() calls it about 50 times a message, and
    // inlined it costs a third of the instructions of a call.
    std::size_t take(void* to, std::size_t count) {
        const std::size_t n = std::min(count, size());
        std::memcpy(to, bytes_.data() + at_, n);
        at_ += n;
        if (at_ == bytes_.size()) clear();
        return n;
    }
    // Appends bytes read from the kernel.
    void keep(const char* from, std::size_t n);
    void clear() {
        bytes_.clear();  // keeps its capacity for the connection's next batch
        at_ = 0;
    }

private:
    std::string bytes_;
    std::size_t at_ = 0;  // bytes_[0, at_) were handed out
};

// Follows the milter commands in the bytes the MTA sends on one connection
// (4-byte length, command character, payload), to tell which commands the
// milter will answer. Pure: the read() wrapper feeds it.
class CommandTracker {
public:
    // The protocol flags (SMFIP_*) the milter's negotiation reply gave; until
    // then every command the MTA may leave unanswered counts as unanswered.
    void negotiated(std::uint32_t protocol);
    bool negotiation_known() const { return known_; }

    // Takes the next bytes read. True when they end exactly after a command
    // that needs an ACK from us at once: one the milter will not answer
    // (the MTA then waits on our ACK, not on a reply) and after which the
    // connection goes on.
    bool feed(const unsigned char* data, std::size_t n);

private:
    bool answered(unsigned char command) const;

    std::uint32_t protocol_ = 0;
    std::uint32_t remaining_ = 0;  // payload bytes of the current command still to come
    unsigned char header_[5] = {};
    std::uint8_t have_ = 0;        // header bytes seen of the current command
    bool known_ = false;
};

}  // namespace tlspolicy::milter
