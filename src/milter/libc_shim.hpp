// The one place where the milter works around libmilter below libc: see
// libc_shim.cpp for what it changes and why. Linked into the daemon program
// and the glue tests only, never into libtlspolicy.a (tests/libc-shim-guard).
#pragma once
#include <string>

namespace tlspolicy::milter::libc_shim {

// Until install() every interposed function is libc's own. After it:
// connections accepted from the MTA get read-ahead (and, over TCP,
// TCP_NODELAY and timely ACKs), and libmilter's signal thread no longer
// waits for SIGHUP, SIGUSR1, SIGTERM and SIGINT, which the daemon's own
// thread takes. Call once, before smfi_main.
void install();

// libmilter's listening descriptor, looked for once after smfi_opensocket();
// -1 when none was found.
int find_listener();

// Stops new connections while sessions in flight go on: the listening
// descriptor `fd` is replaced (dup2) by a decoy that nobody connects to.
// "" when done, else why not.
std::string swap_listener_for_decoy(int fd);

}  // namespace tlspolicy::milter::libc_shim
