// MTA-STS (RFC 8461) as text: the _mta-sts TXT record, the policy file served
// at https://mta-sts.DOMAIN/.well-known/mta-sts.txt, and the match of an MX
// host name against the policy's mx patterns. Pure parsing, no I/O.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlspolicy::mta_sts {

// One TXT record's text (its strings joined), parsed.
struct TxtRecord {
    bool valid = false;
    std::string id;     // 1 to 32 letters and digits
    std::string error;  // why not valid, for an operator
};
TxtRecord parse_txt(std::string_view text);

// The domain's TXT answer at _mta-sts: records not starting with "v=STSv1"
// are discarded; exactly one must be left and be valid (RFC 8461 3.1).
struct TxtLookup {
    bool found = false;        // a record starting with v=STSv1 exists
    TxtRecord record;          // valid only when exactly one such record is valid
    std::string text;          // that record, as published
    std::string error;         // why there is no usable record
};
TxtLookup choose_txt(const std::vector<std::string>& records);

enum class Mode { Enforce, Testing, None };
std::string_view mode_word(Mode m);  // "enforce", "testing", "none"

struct Policy {
    bool valid = false;
    Mode mode = Mode::None;
    long long max_age = 0;              // seconds
    std::vector<std::string> mx;        // patterns as written, lower case
    std::vector<std::string> warnings;  // accepted, but not as the RFC asks
    std::string error;                  // why not valid
};
// The policy body (RFC 8461 3.2): "key: value" lines, LF or CRLF.
Policy parse_policy(std::string_view body);

// RFC 8461 4.1: "mx.example.com" matches itself; "*.example.com" matches one
// more label on the left ("a.example.com", not "a.b.example.com" nor
// "example.com"). Case-insensitive; a trailing dot on the host is ignored.
bool mx_matches(std::string_view pattern, std::string_view host);
bool mx_covered(const std::vector<std::string>& patterns, std::string_view host);

}  // namespace tlspolicy::mta_sts
