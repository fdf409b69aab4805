// TCP sockets that libmilter accepts from the MTA answer without delay: no
// Nagle on our replies, and an immediate ACK when a command will get no
// reply (see the .cpp for why, and how it reaches sockets libmilter owns).
#pragma once
#include <cstddef>
#include <cstdint>

namespace tlspolicy::milter {

// Turns the tuning on for every TCP connection accepted from now on. Unix
// sockets are left alone (they have no ACKs to delay).
void tune_tcp_connections();

// How many accepted connections were tuned, and how many immediate ACKs were
// asked for, for tests and benchmarks.
unsigned long tuned_tcp_connections();
unsigned long quick_acks();

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
    // the milter will not answer (the MTA then waits on our ACK, not on a reply).
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
