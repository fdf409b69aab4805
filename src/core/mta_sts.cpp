// RFC 8461's grammar for the TXT record (section 3.1) and the policy file
// (section 3.2), and its MX pattern rule (section 4.1). Errors name the part
// that is wrong, since an operator forwards them to the partner.
#include "core/mta_sts.hpp"

#include <cctype>

#include "core/text.hpp"

namespace tlspolicy::mta_sts {
namespace {

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_wsp(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
    return s;
}

// Printable for messages: the record may hold anything.
std::string shown(std::string_view s) {
    std::string out;
    for (unsigned char c : s.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? char(c) : '?';
    return quoted(s.size() > 80 ? out + "..." : out);
}

// sts-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
bool ext_name(std::string_view n) {
    if (n.empty() || n.size() > 32 || !is_alnum(n[0])) return false;
    for (char c : n)
        if (!is_alnum(c) && c != '_' && c != '-' && c != '.') return false;
    return true;
}

// sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E): printable, no ';' or '='.
bool ext_value(std::string_view v) {
    if (v.empty()) return false;
    for (unsigned char c : v)
        if (c < 0x21 || c > 0x7e || c == ';' || c == '=') return false;
    return true;
}

// sts-policy-mx-value = ["*."] Domain (RFC 8461 3.2, Domain as in RFC 5321
// 4.1.2): labels of letters, digits and inner hyphens.
bool mx_pattern(std::string_view v) {
    if (v.substr(0, 2) == "*.") v.remove_prefix(2);
    if (!v.empty() && v.back() == '.') v.remove_suffix(1);  // as DNS writes it: tolerated
    if (v.empty() || v.size() > 253) return false;
    std::size_t start = 0;
    for (;;) {
        const std::size_t dot = v.find('.', start);
        const std::string_view label = v.substr(start, dot == std::string_view::npos ? v.npos : dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        for (char c : label)
            if (!is_alnum(c) && c != '-') return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

}  // namespace

std::string_view mode_word(Mode m) {
    switch (m) {
        case Mode::Enforce: return "enforce";
        case Mode::Testing: return "testing";
        case Mode::None: return "none";
    }
    return "?";
}

namespace {

TxtRecord parse_txt_fields(std::string_view text) {
    TxtRecord r;
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    for (;;) {
        const std::size_t semi = text.find(';', start);
        fields.push_back(trim(text.substr(start, semi == std::string_view::npos ? text.npos : semi - start)));
        if (semi == std::string_view::npos) break;
        start = semi + 1;
    }
    // A trailing ";" (and blanks after it) is allowed: one empty last field.
    if (fields.size() > 1 && fields.back().empty()) fields.pop_back();
    if (fields.front() != "v=STSv1") return r.error = "does not begin with v=STSv1", r;
    if (text.substr(0, 7) != "v=STSv1") return r.error = "blanks before v=STSv1", r;
    for (std::size_t i = 1; i < fields.size(); ++i) {
        const std::string_view f = fields[i];
        const std::size_t eq = f.find('=');
        if (f.empty()) return r.error = "an empty field (two ';' in a row)", r;
        if (eq == std::string_view::npos) return r.error = "field " + shown(f) + " has no '='", r;
        const std::string_view name = f.substr(0, eq), value = f.substr(eq + 1);
        if (name == "id") {
            if (!r.id.empty()) return r.error = "more than one id field", r;
            if (value.empty() || value.size() > 32) return r.error = "id must be 1 to 32 letters or digits, got " + shown(value), r;
            for (char c : value)
                if (!is_alnum(c)) return r.error = "id must be 1 to 32 letters or digits, got " + shown(value), r;
            r.id = std::string(value);
        } else if (!ext_name(name) || !ext_value(value)) {
            return r.error = "field " + shown(f) + " is not name=value as RFC 8461 allows", r;
        }
    }
    if (r.id.empty()) return r.error = "no id field", r;
    r.valid = true;
    return r;
}

}  // namespace

TxtRecord parse_txt(std::string_view text) {
    TxtRecord r = parse_txt_fields(text);
    if (!r.valid) r.id.clear();  // an id means a usable record
    return r;
}

TxtLookup choose_txt(const std::vector<std::string>& records) {
    TxtLookup out;
    std::vector<const std::string*> sts;
    for (const std::string& t : records)
        if (std::string_view(t).substr(0, 7) == "v=STSv1") sts.push_back(&t);
    if (sts.empty()) return out.error = "no TXT record beginning with v=STSv1", out;
    out.found = true;
    if (sts.size() > 1) return out.error = std::to_string(sts.size()) + " TXT records begin with v=STSv1; RFC 8461 wants exactly one", out;
    out.text = *sts.front();
    out.record = parse_txt(out.text);
    if (!out.record.valid) out.error = "the TXT record " + out.record.error;
    return out;
}

Policy parse_policy(std::string_view body) {
    Policy p;
    bool version = false, have_mode = false, have_age = false;
    std::size_t line_no = 0, start = 0;
    auto fail = [&](std::string why) {
        p.error = "line " + std::to_string(line_no) + ": " + std::move(why);
        return p;
    };
    while (start < body.size()) {
        std::size_t eol = body.find('\n', start);
        std::string_view line = body.substr(start, eol == std::string_view::npos ? body.npos : eol - start);
        start = eol == std::string_view::npos ? body.size() : eol + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (trim(line).empty()) continue;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return fail(shown(line) + " is not 'key: value'");
        const std::string_view key = line.substr(0, colon), value = trim(line.substr(colon + 1));
        if (key.empty() || trim(key) != key) return fail("the key " + shown(key) + " has blanks or is empty");
        if (key == "version") {
            if (version) { p.warnings.push_back("line " + std::to_string(line_no) + ": version repeated, the first counts"); continue; }
            if (value != "STSv1") return fail("version must be STSv1, got " + shown(value));
            version = true;
        } else if (key == "mode") {
            if (have_mode) { p.warnings.push_back("line " + std::to_string(line_no) + ": mode repeated, the first counts"); continue; }
            if (value == "enforce") p.mode = Mode::Enforce;
            else if (value == "testing") p.mode = Mode::Testing;
            else if (value == "none") p.mode = Mode::None;
            else return fail("mode must be enforce, testing or none, got " + shown(value));
            have_mode = true;
        } else if (key == "max_age") {
            if (have_age) { p.warnings.push_back("line " + std::to_string(line_no) + ": max_age repeated, the first counts"); continue; }
            if (value.empty() || value.size() > 10 || value.find_first_not_of("0123456789") != std::string_view::npos)
                return fail("max_age must be 1 to 10 digits (seconds), got " + shown(value));
            p.max_age = std::stoll(std::string(value));
            if (p.max_age > 31557600)
                p.warnings.push_back("max_age " + std::to_string(p.max_age) + " is above RFC 8461's 31557600 (one year)");
            have_age = true;
        } else if (key == "mx") {
            if (!mx_pattern(value)) return fail("mx must be one host name or *.domain pattern, got " + shown(value));
            p.mx.push_back(lowercase(value));
        } else if (!ext_name(key)) {
            return fail("the key " + shown(key) + " is not a policy field name");
        }  // other extension fields are ignored, as RFC 8461 says
    }
    if (!version) return p.error = "no version field ('version: STSv1')", p;
    if (!have_mode) return p.error = "no mode field", p;
    if (!have_age) return p.error = "no max_age field", p;
    if (p.mx.empty() && p.mode != Mode::None) return p.error = "no mx field (only mode none may go without)", p;
    p.valid = true;
    return p;
}

bool mx_matches(std::string_view pattern, std::string_view host) {
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    if (!pattern.empty() && pattern.back() == '.') pattern.remove_suffix(1);
    if (pattern.empty() || host.empty()) return false;
    if (pattern.substr(0, 2) != "*.") return iequals(pattern, host);
    const std::string_view parent = pattern.substr(2);
    const std::size_t dot = host.find('.');
    // Exactly one label in place of the "*": not empty, and the rest is the parent.
    return dot != std::string_view::npos && dot > 0 && !parent.empty() && iequals(host.substr(dot + 1), parent);
}

bool mx_covered(const std::vector<std::string>& patterns, std::string_view host) {
    for (const std::string& p : patterns)
        if (mx_matches(p, host)) return true;
    return false;
}

}  // namespace tlspolicy::mta_sts
