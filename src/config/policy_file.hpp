// Reading the policy file into memory, refusing before any parser sees it
// what cannot be a policy file: a directory, a device or FIFO (/dev/zero
// never ends), or a file far larger than any policy.
#pragma once
#include <cstddef>
#include <optional>
#include <string>

#include "config/config.hpp"

namespace tlspolicy {

// A generated policy of 100,000 rules (tests/bench/policy_scale.cpp) is
// 12.1 MB; five times that leaves room for comments, long replies and many
// entries per rule, and still bounds what a reload may allocate.
inline constexpr std::size_t kMaxPolicyFileBytes = std::size_t{64} << 20;

// Fills `text` with the file's content, or says why not ("FILE: is a
// directory: ..."). Reads at most limit + 1 bytes, whatever the file claims.
std::optional<Diagnostic> read_policy_file(const std::string& path, std::string& text,
                                           std::size_t limit = kMaxPolicyFileBytes);

}  // namespace tlspolicy
