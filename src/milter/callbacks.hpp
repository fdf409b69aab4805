// The libmilter callbacks: turn macros into facts, ask the policy core, apply
// its verdict. Nothing else is decided here.
#pragma once

namespace tlspolicy::milter {

// smfi_register with our callbacks; false (and logged) on failure.
bool register_filter();

// Connections between negotiate and close, for a clean stop.
int active_connections();

}  // namespace tlspolicy::milter
