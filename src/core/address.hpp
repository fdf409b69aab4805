// Envelope addresses, domains and the selector entries that match them.
// Entries follow Postfix's TLS policy table convention: "example.com" is that
// domain only, ".example.com" every subdomain of it, "user@example.com" that one
// address. Everything is compared in lower case, and an address is matched in
// every spelling an MTA delivers to the same mailbox (see address_forms).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlspolicy {

// An envelope address as the MTA hands it over ("<User@Example.COM>", with
// optional source route, RFC 5322 quoting, comments and a trailing dot in the
// domain) in canonical form: lower case, no brackets, route or comments, the
// local part unquoted ("\"h\\r\"@x" is "hr@x"). The null sender "<>" becomes "".
std::string normalize_address(std::string_view raw);

// The domain part of a normalized address ("" when there is none).
std::string_view address_domain(std::string_view address);

// Every address that an MTA may deliver a normalized address to, the address
// itself first: without the address extension ("hr+x@d" -> "hr@d", at the
// first of `delimiters`, like Postfix's recipient_delimiter), and the address
// routed inside the local part ("hr%d@relay", "d!hr@relay", "hr@d@relay" ->
// "hr@d", as Postfix's percent hack, bang paths and routing do). A form may
// have no domain ("hr"): the MTA completes it with a domain of its own.
// Appends to `out`; each form once.
void address_forms(std::string_view address, std::string_view delimiters, std::vector<std::string>& out);

// A hostname or domain in canonical form: lower case, no trailing dot.
std::string normalize_domain(std::string_view raw);

enum class EntryKind { Domain, Subdomains, Address };

struct Entry {
    EntryKind kind;
    std::string key;  // "example.com" for Domain and Subdomains, "user@example.com" for Address
};

// Validates and normalizes a `senders`/`recipients` entry (addresses allowed) or
// a `hostnames` entry (allow_address = false). On failure returns nullopt with
// the reason and, where one is obvious, a "did you mean" in *error.
std::optional<Entry> parse_entry(std::string_view text, bool allow_address, std::string* error);

}  // namespace tlspolicy
