// Building our header and recognising forged copies of it.
#include "core/header_stamp.hpp"

#include <algorithm>

#include "core/sanitize.hpp"
#include "core/text.hpp"

namespace tlspolicy {
namespace {

void add(const Verdict& v, MessageOutcome& m) {
    for (const RuleOutcome& o : v.rules) {
        // A rule is kept once even when it applied at several stages.
        RuleRef ref{o.rule->name, o.rule->kind};
        if (std::find(m.rules.begin(), m.rules.end(), ref) == m.rules.end()) m.rules.push_back(std::move(ref));
    }
    if (v.result == Result::Fail || (v.result == Result::Pass && m.result == Result::None)) m.result = v.result;
    if (v.monitored() && v.enforced > m.would) {
        m.would = v.enforced;
        m.would_reply = v.reply ? &*v.reply : nullptr;
    }
}

}  // namespace

MessageOutcome summarize(const Verdict& sender, std::span<const Verdict> recipients) {
    MessageOutcome m;
    add(sender, m);
    for (const Verdict& r : recipients) add(r, m);
    if (m.rules.empty()) m.rules.push_back({"default", RuleKind::Defaults});
    return m;
}

std::string header_value(std::string_view authserv_id, const TlsFacts& tls, const Verdict& sender,
                         std::span<const Verdict> recipients) {
    return header_value(authserv_id, tls, summarize(sender, recipients));
}

std::string header_value(std::string_view authserv_id, const TlsFacts& tls, const MessageOutcome& m) {
    std::string out = sanitize_token(authserv_id, kMaxToken);
    out += "; version=";
    if (tls.encrypted()) {
        out += header_name(tls.version);
        out += " cipher=" + sanitize_token(tls.cipher, kMaxToken);
        out += " bits=" + std::to_string(tls.cipher_bits) + "/" + std::to_string(tls.alg_bits);
    } else {
        out += "none cipher=none bits=0/0";
    }
    out += "; policy=" + rule_names(m.rules) + " result=";
    out += word(m.result);
    return out;
}

namespace {

// RFC 2045 token characters, and '/' (an authserv_id we accept may hold it).
bool id_char(char c) {
    return c > ' ' && c < 0x7f && std::string_view("()<>@,;:\\\"[]?=").find(c) == std::string_view::npos;
}

std::string canonical_id(std::string id) {
    while (!id.empty() && id.back() == '.') id.pop_back();
    for (char& c : id) c = ascii_lower(c);
    return id;
}

}  // namespace

std::string authserv_id_of(std::string_view v) {
    std::size_t i = 0;
    // CFWS: white space, line folding and comments, which nest and take quoted pairs.
    for (int depth = 0; i < v.size(); ++i) {
        const char c = v[i];
        if (depth > 0 && c == '\\') ++i;
        else if (c == '(') ++depth;
        else if (depth > 0 && c == ')') --depth;
        else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
    }
    std::string id;
    if (i < v.size() && v[i] == '"') {
        for (++i; i < v.size() && v[i] != '"'; ++i) {
            if (v[i] == '\\' && i + 1 < v.size()) ++i;
            id += v[i];
        }
        // A quoted id holds what a token may; anything else is no id of ours.
        if (!std::all_of(id.begin(), id.end(), id_char)) return {};
    } else {
        while (i < v.size() && id_char(v[i])) id += v[i++];
    }
    return canonical_id(std::move(id));
}

bool claims_authserv_id(std::string_view value, std::string_view authserv_id) {
    const std::string ours = canonical_id(std::string(authserv_id));
    return !ours.empty() && authserv_id_of(value) == ours;
}

}  // namespace tlspolicy
