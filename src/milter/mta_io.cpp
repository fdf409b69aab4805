// The pure parts of the MTA connection I/O: the bytes read ahead of
// libmilter (ReadAhead) and the milter commands followed in them
// (CommandTracker). No system calls here; src/milter/libc_shim.cpp, which
// owns the libc entry points libmilter calls, uses them per connection.
#include "milter/mta_io.hpp"

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include <algorithm>
#include <cstring>

namespace tlspolicy::milter {

void ReadAhead::keep(const char* from, std::size_t n) {
    if (size() == 0) clear();
    bytes_.append(from, n);
}

void CommandTracker::negotiated(std::uint32_t protocol) {
    protocol_ = protocol;
    known_ = true;
}

bool CommandTracker::answered(unsigned char command) const {
    std::uint32_t no_reply = 0;  // the flag that lets the milter leave `command` unanswered
    switch (command) {
    // QUIT: libmilter closes the connection at once, and the FIN carries the
    // ACK; an immediate one would be a packet more per connection.
    case SMFIC_QUIT: return true;
    // ABORT too gets no reply, and the MTA's next command (after STARTTLS, the
    // new HELO's macros) may follow it sooner than the delayed ACK would.
    case SMFIC_MACRO: case SMFIC_ABORT: case SMFIC_QUIT_NC: return false;
    case SMFIC_CONNECT: no_reply = SMFIP_NR_CONN; break;
    case SMFIC_HELO: no_reply = SMFIP_NR_HELO; break;
    case SMFIC_MAIL: no_reply = SMFIP_NR_MAIL; break;
    case SMFIC_RCPT: no_reply = SMFIP_NR_RCPT; break;
    case SMFIC_DATA: no_reply = SMFIP_NR_DATA; break;
    case SMFIC_UNKNOWN: no_reply = SMFIP_NR_UNKN; break;
    case SMFIC_HEADER: no_reply = SMFIP_NR_HDR; break;
    case SMFIC_EOH: no_reply = SMFIP_NR_EOH; break;
    case SMFIC_BODY: no_reply = SMFIP_NR_BODY; break;
    default: return true;  // negotiation, end of message, anything new
    }
    // Before the flags are known, assume no reply: an ACK too many costs a
    // packet, one too few costs 40 ms.
    return known_ && (protocol_ & no_reply) == 0;
}

bool CommandTracker::feed(const unsigned char* data, std::size_t n) {
    bool unanswered_last = false;
    while (n > 0) {
        if (have_ < sizeof header_) {
            const std::size_t take = std::min<std::size_t>(sizeof header_ - have_, n);
            std::memcpy(header_ + have_, data, take);
            have_ = static_cast<std::uint8_t>(have_ + take);
            data += take;
            n -= take;
            if (have_ < sizeof header_) return false;  // a command begun, not finished
            const std::uint32_t length = std::uint32_t{header_[0]} << 24 | std::uint32_t{header_[1]} << 16 |
                                         std::uint32_t{header_[2]} << 8 | header_[3];
            remaining_ = length > 0 ? length - 1 : 0;  // the length counts the command character
        } else {
            const std::size_t take = std::min<std::size_t>(remaining_, n);
            remaining_ -= static_cast<std::uint32_t>(take);
            data += take;
            n -= take;
        }
        if (remaining_ == 0) {  // one command complete
            unanswered_last = !answered(header_[4]);
            have_ = 0;
        } else {
            unanswered_last = false;
        }
    }
    return unanswered_last;
}

}  // namespace tlspolicy::milter
