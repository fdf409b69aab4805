// TCP sockets that libmilter accepts from the MTA answer without delay: no
// Nagle on our replies, and an ACK for every command at once (see the .cpp
// for why, and how it reaches sockets that libmilter owns).
#pragma once

namespace tlspolicy::milter {

// Turns the tuning on for every TCP connection accepted from now on. Unix
// sockets are left alone (they have no ACKs to delay).
void tune_tcp_connections();

// How many accepted connections were tuned, for tests and the debug log.
unsigned long tuned_tcp_connections();

}  // namespace tlspolicy::milter
