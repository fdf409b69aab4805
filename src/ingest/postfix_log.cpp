// Postfix smtp client lines (see postfix_log.hpp). Left to right, each field
// where log_adhoc() puts it; a recipient address is read with its quoting,
// so that a quoted local part holding ">, relay=" cannot pose as a field.
#include "ingest/postfix_log.hpp"

#include "ingest/delivery.hpp"

namespace tlspolicy::ingest {
namespace {

bool take(std::string_view& s, std::string_view prefix) {
    if (!s.starts_with(prefix)) return false;
    s.remove_prefix(prefix.size());
    return true;
}

bool number(std::string_view s, int& out, int max = 1000000) {
    if (s.empty() || s.size() > 9) return false;
    int v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    if (v > max) return false;
    out = v;
    return true;
}

// The address inside "<...>" at the start of `s` (which starts after '<'):
// a quoted local part may hold anything but an unescaped quote; the rest
// runs to the first '>'. Returns the length up to (not including) '>'.
std::size_t address_end(std::string_view s) {
    std::size_t i = 0;
    if (!s.empty() && s[0] == '"') {
        for (i = 1; i < s.size(); ++i) {
            if (s[i] == '\\') ++i;
            else if (s[i] == '"') break;
        }
        if (i >= s.size()) return std::string_view::npos;
        ++i;
    }
    const std::size_t gt = s.find('>', i);
    return gt;
}

// "KEY=<address>" at the start of s; the address without brackets.
bool bracketed(std::string_view& s, std::string_view key, std::string_view& out) {
    if (!take(s, key)) return false;
    const std::size_t end = address_end(s);
    if (end == std::string_view::npos) return false;
    out = s.substr(0, end);
    s.remove_prefix(end + 1);
    return true;
}

}  // namespace

bool parse_peer(std::string_view text, Peer& out) {
    out = Peer{};
    const std::size_t open = text.find('[');
    if (open == std::string_view::npos || open == 0) return false;
    const std::size_t close = text.find(']', open);
    if (close == std::string_view::npos || close == open + 1) return false;
    out.host = text.substr(0, open);
    out.address = text.substr(open + 1, close - open - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return true;
    return take(rest, ":") && number(rest, out.port, 65535);
}

bool parse_postfix_tls(std::string_view m, PostfixTlsLine& out) {
    out = PostfixTlsLine{};
    for (std::string_view level : {"Verified ", "Trusted ", "Untrusted ", "Anonymous "})
        if (take(m, level)) {
            out.level = level.substr(0, level.size() - 1);
            break;
        }
    if (!take(m, "TLS connection ")) return false;
    if (take(m, "reused to ")) out.reused = true;
    else if (!take(m, "established to ")) return false;
    const std::size_t colon = m.find(": ");
    if (colon == std::string_view::npos) return false;
    out.peer = m.substr(0, colon);
    if (!parse_peer(out.peer, out.parsed)) return false;
    m.remove_prefix(colon + 2);
    const std::size_t sp = m.find(' ');
    if (sp == std::string_view::npos || sp == 0) return false;
    out.protocol = m.substr(0, sp);
    m.remove_prefix(sp);
    if (!take(m, " with cipher ")) return false;
    const std::size_t paren = m.find(" (");
    if (paren == std::string_view::npos || paren == 0) return false;
    out.cipher = m.substr(0, paren);
    m.remove_prefix(paren + 2);
    const std::size_t slash = m.find('/'), bits = m.find(" bits)");
    if (slash == std::string_view::npos || bits == std::string_view::npos || slash > bits) return false;
    return number(m.substr(0, slash), out.used_bits, kMaxLoggedBits) &&
           number(m.substr(slash + 1, bits - slash - 1), out.alg_bits, kMaxLoggedBits);
}

StatusParse parse_postfix_status(std::string_view m, PostfixStatusLine& out) {
    out = PostfixStatusLine{};
    const std::size_t colon = m.find(": to=<");
    if (colon == std::string_view::npos || colon == 0 || colon > 32) return StatusParse::NotStatus;
    for (char c : m.substr(0, colon))
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            return StatusParse::NotStatus;
    out.queue_id = m.substr(0, colon);
    m.remove_prefix(colon + 2);
    if (!bracketed(m, "to=<", out.recipient)) return StatusParse::Malformed;
    if (m.starts_with(", orig_to=<")) {
        m.remove_prefix(2);
        if (!bracketed(m, "orig_to=<", out.orig_recipient)) return StatusParse::Malformed;
    }
    if (!take(m, ", relay=")) return StatusParse::Malformed;
    std::size_t comma = m.find(", ");
    if (comma == std::string_view::npos) return StatusParse::Malformed;
    out.relay = m.substr(0, comma);
    if (out.relay != "none" && !parse_peer(out.relay, out.parsed)) {
        // lmtp and unix-domain relays ("private/dovecot-lmtp") have no address.
        out.parsed = Peer{};
        out.parsed.host = out.relay;
    }
    m.remove_prefix(comma + 2);
    // "key=value, " fields in log_adhoc()'s order, unknown keys skipped (a
    // later Postfix may add some, as 3.10 added tls=), up to "status=".
    while (!m.starts_with("status=")) {
        comma = m.find(", ");
        const std::size_t eq = m.find('=');
        if (comma == std::string_view::npos || eq == std::string_view::npos || eq > comma)
            return StatusParse::Malformed;
        const std::string_view key = m.substr(0, eq), value = m.substr(eq + 1, comma - eq - 1);
        if (key == "conn_use" && !number(value, out.conn_use)) return StatusParse::Malformed;
        if (key == "dsn") out.dsn = value;
        m.remove_prefix(comma + 2);
    }
    m.remove_prefix(7);
    const std::size_t sp = m.find(" (");
    if (sp == std::string_view::npos || sp == 0 || m.back() != ')') return StatusParse::Malformed;
    out.status = m.substr(0, sp);
    out.reason = m.substr(sp + 2, m.size() - sp - 3);
    return StatusParse::Status;
}

bool is_postfix_smtp_client(std::string_view program) {
    const std::size_t slash = program.rfind('/');
    if (slash == std::string_view::npos || slash == 0) return false;
    return program.substr(slash + 1) == "smtp";
}

}  // namespace tlspolicy::ingest
