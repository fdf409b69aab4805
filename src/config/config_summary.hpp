// The one-screen summary `--check` prints for a policy file that loads: the
// daemon settings, the defaults, and what the rules select and require.
#pragma once
#include <iosfwd>

#include "config/config.hpp"

namespace tlspolicy {

void print_summary(const Config& config, std::ostream& out);

}  // namespace tlspolicy
