// Envelope address normalization and selector entry validation.
#include "core/address.hpp"

#include "core/ip_address.hpp"
#include "core/text.hpp"

namespace tlspolicy {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool label_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Empty when `d` is a syntactically valid domain, else why not.
std::string domain_problem(std::string_view d) {
    if (d.empty()) return "the domain is empty";
    if (d.size() > 253) return "the domain is longer than 253 characters";
    std::size_t start = 0;
    while (start <= d.size()) {
        std::size_t dot = d.find('.', start);
        std::string_view label = d.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty()) return "it has an empty label (two dots in a row, or a dot at the end)";
        if (label.size() > 63) return "a label is longer than 63 characters";
        for (char c : label) {
            if (static_cast<unsigned char>(c) >= 0x80) return "it is not ASCII: write the A-label form (xn--...)";
            if (!label_char(c)) return std::string("it contains '") + c + "', which no host name has";
        }
        if (label.front() == '-' || label.back() == '-') return "a label starts or ends with '-'";
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return {};
}

// "hr@example.com." is hr@example.com: the domain (after the last '@') loses
// its trailing dots, however the '@' was written.
void strip_root_dots(std::string& address) {
    const std::size_t at = address.rfind('@');
    if (at == std::string::npos) return;
    while (address.size() > at + 1 && address.back() == '.') address.pop_back();
}

}  // namespace

std::string normalize_domain(std::string_view raw) {
    raw = trim(raw);
    if (!raw.empty() && raw.back() == '.') raw.remove_suffix(1);
    return lowercase(raw);
}

std::string normalize_address(std::string_view raw) {
    std::string_view a = trim(raw);
    if (a.size() >= 2 && a.front() == '<' && a.back() == '>') a = trim(a.substr(1, a.size() - 2));
    // RFC 5321 source route: "@relay1,@relay2:user@example.com".
    if (!a.empty() && a.front() == '@')
        if (auto colon = a.find(':'); colon != std::string_view::npos) a.remove_prefix(colon + 1);
    // The MTA reads RFC 5322 syntax here and delivers "hr", "\"hr\"", "h\\r" and
    // "hr(x)" alike: quotes and quoted pairs lose their quoting, comments and
    // unquoted white space go.
    std::string out;
    out.reserve(a.size());
    bool quoted = false;
    int comment = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const char c = a[i];
        if (c == '\\' && i + 1 < a.size()) {
            ++i;
            if (!comment) out += a[i];
        } else if (comment) {
            comment += c == '(' ? 1 : c == ')' ? -1 : 0;
        } else if (quoted) {
            if (c == '"') quoted = false;
            else out += c;
        } else if (c == '"') {
            quoted = true;
        } else if (c == '(') {
            comment = 1;
        } else if (c != ' ' && c != '\t') {
            out += c;
        }
    }
    strip_root_dots(out);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

void address_forms(std::string_view address, std::string_view delimiters, std::vector<std::string>& out) {
    std::string cur(address);
    // Each step leaves a shorter address, or one with '@' where it had none:
    // the loop ends within twice the address's length.
    for (;;) {
        out.push_back(cur);
        const std::size_t at = cur.rfind('@');
        const std::string_view local = std::string_view(cur).substr(0, at);
        const std::string_view at_domain = at == std::string::npos ? std::string_view{} : std::string_view(cur).substr(at);
        // Postfix splits at the first delimiter that is not the first character.
        if (auto d = local.find_first_of(delimiters, 1); !delimiters.empty() && d != std::string_view::npos)
            out.push_back(std::string(local.substr(0, d)).append(at_domain));
        std::string next;
        if (at != std::string::npos && local.find('@') != std::string_view::npos) {
            next = local;  // "hr@d@relay": relay routes it to hr@d
        } else if (auto p = local.rfind('%'); p != std::string_view::npos) {
            next = local;  // the percent hack: "hr%d@relay" is hr@d
            next[p] = '@';
        } else if (auto b = local.find('!'); b != std::string_view::npos) {
            next = std::string(local.substr(b + 1)) + "@" + std::string(local.substr(0, b));  // "d!hr" is hr@d
        } else {
            return;
        }
        strip_root_dots(next);
        cur = std::move(next);
    }
}

std::string_view address_domain(std::string_view address) {
    auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string_view{} : address.substr(at + 1);
}

std::optional<Entry> parse_entry(std::string_view text, bool allow_address, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<Entry> {
        if (error) *error = "'" + std::string(text) + "': " + std::move(why);
        return std::nullopt;
    };
    if (text.empty()) return fail("an entry may not be empty");
    for (char c : text)
        if (c == ' ' || c == '\t' || static_cast<unsigned char>(c) < 0x20)
            return fail("an entry may not contain spaces or control characters");
    if (text.starts_with("*.")) return fail("wildcards are not supported: did you mean '" + std::string(text.substr(1)) + "'?");
    if (text.front() == '[' || parse_ip(text))
        return fail("this is an IP address: put it in 'clients'");

    auto at = text.rfind('@');
    if (at != std::string_view::npos) {
        if (!allow_address) return fail("hostnames take host names, not addresses");
        if (at == 0)
            return fail("did you mean '" + std::string(text.substr(1)) + "' (that domain) or '." +
                        std::string(text.substr(1)) + "' (its subdomains)?");
        if (text.front() == '@')
            return fail("a source route never reaches the filter: write the address alone, '" +
                        std::string(text.substr(text.find(':') + 1)) + "'");
        std::string domain = normalize_domain(text.substr(at + 1));
        if (auto why = domain_problem(domain); !why.empty()) return fail(why);
        // The same canonical form as the envelope address it is compared with.
        std::string local = normalize_address(text.substr(0, at));
        if (local.empty()) return fail("the local part is empty");
        if (local.find('@') != std::string::npos)
            return fail("an address has one '@': write the mailbox it reaches, '" + local +
                        "' (its other spellings are matched too)");
        return Entry{EntryKind::Address, local + "@" + domain};
    }
    EntryKind kind = EntryKind::Domain;
    std::string_view domain_text = text;
    if (text.front() == '.') {
        kind = EntryKind::Subdomains;
        domain_text.remove_prefix(1);
    }
    if (!domain_text.empty() && domain_text.back() == '.') domain_text.remove_suffix(1);
    std::string domain = lowercase(domain_text);
    if (auto why = domain_problem(domain); !why.empty()) return fail(why);
    return Entry{kind, domain};
}

}  // namespace tlspolicy
