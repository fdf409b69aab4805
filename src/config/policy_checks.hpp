// Checks of a policy beyond each value's type and syntax: header names the
// milter must never write or remove, rules that do not do what they seem to,
// and settings this host cannot honour. The loader and --check call them.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace tlspolicy {

// Why `name` cannot be the milter's header, "" when it can: it must be an
// RFC 5322 field name, and not one of the fields the milter would corrupt by
// inserting its own copy and (strip_forged) removing others: originator,
// destination, trace, MIME, signature and authentication fields.
std::string header_name_problem(std::string_view name);

// The warning for a refusing [[partner]] or [[recipient]] rule (reject or
// tempfail) with requirements on the cipher but not require_tls, which
// plaintext sessions pass; "" if none.
std::string plaintext_passes_warning(const Rule& rule);

// Warnings about what the file names on this host, at --check: the
// [milter] user that does not exist (the milter would not start). They depend
// on the host, so the loader, whose output must not, leaves them out.
std::vector<Diagnostic> host_warnings(const Config& config);

// Errors about what the file needs of this host, at --check: the local spool
// of a PostgreSQL store that the milter ([milter] user, else the user running
// --check) could not create or write, its default included. The daemon
// refuses to start on those too.
std::vector<Diagnostic> host_errors(const Config& config);

}  // namespace tlspolicy
