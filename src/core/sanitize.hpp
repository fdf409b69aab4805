// Text that came from the network (macros, addresses) is cleaned here before it
// reaches an SMTP reply, a header or a log line: printable ASCII only, bounded.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace tlspolicy {

inline constexpr std::size_t kMaxToken = 255;      // addresses, names, macro values
inline constexpr std::size_t kMaxReplyText = 400;  // an SMTP reply line is at most 512 octets

// Free text: CR, LF, other control characters and non-ASCII bytes become '?';
// cut to max bytes (marked with "...").
std::string sanitize_text(std::string_view in, std::size_t max);

// One header token (cipher name, version, authserv-id): only [A-Za-z0-9._+/-]
// survive, anything else becomes '_'; empty becomes "none".
std::string sanitize_token(std::string_view in, std::size_t max);
// True when sanitize_token would return `in` unchanged (checks, no copy).
bool is_clean_token(std::string_view in, std::size_t max);

// libmilter's smfi_setreply treats '%' as a format character: double it.
std::string escape_percent(std::string_view in);

}  // namespace tlspolicy
