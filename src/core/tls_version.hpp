// TLS protocol versions: what the MTA reports in {tls_version}, what the policy
// file names in min_version, and how the header and replies spell them.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace tlspolicy {

// Ordered: a higher value is a newer protocol. None means plaintext; Unknown is
// a TLS session whose version string we do not recognise (it satisfies
// require_tls but no min_version).
enum class TlsVersion : std::uint8_t { None, Unknown, SSLv3, TLSv1_0, TLSv1_1, TLSv1_2, TLSv1_3 };

// The spelling the policy file accepts: "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3".
std::optional<TlsVersion> parse_config_version(std::string_view text);

// What an MTA puts in {tls_version}. NULL/empty is plaintext (Sendmail resets
// the macro to "" per envelope); Sendmail's legacy "TLSv1/SSLv3" can not prove
// more than TLS 1.0 and is taken as that.
TlsVersion parse_macro_version(std::string_view text);

std::string_view config_name(TlsVersion v);  // "TLSv1.2" (as in the policy file)
std::string_view header_name(TlsVersion v);  // "TLS1_2", "none", "unknown"
std::string_view human_name(TlsVersion v);   // "TLS 1.2", "plaintext"

}  // namespace tlspolicy
