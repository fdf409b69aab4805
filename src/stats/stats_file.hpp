// Writes the metrics file for node_exporter's textfile collector atomically:
// a temporary file in the same directory, then rename(2), so a scrape never
// reads half a file. Each call has a temporary of its own, so concurrent
// writers each leave a whole file (the last rename wins).
#pragma once
#include <string>
#include <string_view>

namespace tlspolicy {

// False with the reason in *error when the file could not be written.
bool write_file_atomically(const std::string& path, std::string_view text, std::string* error);

}  // namespace tlspolicy
