// The one running configuration of the process: set by the daemon at start
// and at every reload (and by the glue tests), read by each new connection.
#include "milter/snapshot.hpp"

namespace tlspolicy::milter {

Snapshot& running_config() {
    static Snapshot s;
    return s;
}

}  // namespace tlspolicy::milter
