// Envelope addresses, domains and the selector entries that match them.
// Entries follow Postfix's TLS policy table convention: "example.com" is that
// domain only, ".example.com" every subdomain of it, "user@example.com" that one
// address. Everything is compared in lower case.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace tlspolicy {

// An envelope address as the MTA hands it over ("<User@Example.COM>", with
// optional source route and trailing dot) in canonical lower case without
// brackets. The null sender "<>" becomes "".
std::string normalize_address(std::string_view raw);

// The domain part of a normalized address ("" when there is none).
std::string_view address_domain(std::string_view address);

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
