// What `probe HOST` prints about one host, shared with `probe --domain`,
// which prints the same for each MX host inside its own output.
#pragma once
#include <iosfwd>
#include <string>
#include <string_view>

#include "core/escape.hpp"  // json_string
#include "tls/probe.hpp"

namespace tlspolicy {

std::string json_bool(bool b);
std::string utc_now();  // "2026-01-31T12:00:00Z"

// The certificate object: subject, issuer, not_after, verified, verify_error, name_matches.
std::string certificate_json(const probe::TlsSession& c);

// The fields of a host probe from "host" to "certificate", one per line,
// each after `indent`, separated by ",\n"; no braces around them.
void write_host_json_fields(const probe::Report& r, std::ostream& out, std::string_view indent);

// The text lines of a host probe, each after `indent`.
void write_host_text(const probe::Report& r, std::ostream& out, std::string_view indent);

// The exit code a host probe earns: 0, or kProbeConnectFailed .. kProbeNoTls.
int host_exit_code(const probe::Report& r);

}  // namespace tlspolicy
