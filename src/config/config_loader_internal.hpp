// Entry points the unit tests use to hold the two TOML readers to the same
// output; not for the rest of the program.
#pragma once
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace tlspolicy {

// Reads with toml++ only, bypassing the plain reader.
LoadResult load_config_text_with_tomlplusplus(std::string_view text, const std::string& path);

// Whether the plain reader takes the whole text (else toml++ reads it).
bool fast_reader_accepts(std::string_view text);

}  // namespace tlspolicy
