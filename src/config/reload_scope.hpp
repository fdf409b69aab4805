// What a reload can change: every key the schema marks Reload::Restart keeps
// its running value until the milter restarts (the socket is open, privileges
// are dropped, the store's writer runs). The reload says which of them changed.
#pragma once
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/schema.hpp"

namespace tlspolicy {

// The restart-only keys whose value in `loaded` differs from `running`, in
// schema order. Values are compared as --check shows them.
std::vector<const KeyDecl*> restart_only_changes(const Config& running, const Config& loaded);

// "reload: [milter] socket_mode, timeout take effect only on restart", or ""
// when no restart-only key changed.
std::string restart_only_warning(const Config& running, const Config& loaded);

// Every restart-only key: "[milter] socket, user, ...; [observations] database,
// keep_days", as the man pages list them.
std::string restart_only_keys();

}  // namespace tlspolicy
