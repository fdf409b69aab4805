// Building our header and recognising forged copies of it.
#include "core/header_stamp.hpp"

#include "core/sanitize.hpp"
#include "core/text.hpp"

namespace tlspolicy {
namespace {

void add(const Verdict& v, MessageOutcome& m) {
    for (const RuleOutcome& o : v.rules) {
        const std::string& n = o.rule->name;
        bool seen = false;  // a rule is named once even when it applied at several stages
        for (std::size_t pos = 0; !seen && pos < m.rules.size();) {
            std::size_t end = m.rules.find(',', pos);
            if (end == std::string::npos) end = m.rules.size();
            seen = std::string_view(m.rules).substr(pos, end - pos) == n;
            pos = end + 1;
        }
        if (!seen) {
            if (!m.rules.empty()) m.rules += ',';
            m.rules += n;
        }
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
    if (m.rules.empty()) m.rules = "default";
    return m;
}

std::string header_value(std::string_view authserv_id, const TlsFacts& tls, const Verdict& sender,
                         std::span<const Verdict> recipients) {
    MessageOutcome m = summarize(sender, recipients);
    std::string out = sanitize_token(authserv_id, kMaxToken);
    out += "; version=";
    if (tls.encrypted()) {
        out += header_name(tls.version);
        out += " cipher=" + sanitize_token(tls.cipher, kMaxToken);
        out += " bits=" + std::to_string(tls.cipher_bits) + "/" + std::to_string(tls.alg_bits);
    } else {
        out += "none cipher=none bits=0/0";
    }
    out += "; policy=" + m.rules + " result=";
    out += result_name(m.result);
    return out;
}

bool claims_authserv_id(std::string_view value, std::string_view authserv_id) {
    std::size_t i = 0;
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t' || value[i] == '\r' || value[i] == '\n')) ++i;
    std::size_t end = value.find(';', i);
    std::string_view id = value.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
    while (!id.empty() && (id.back() == ' ' || id.back() == '\t')) id.remove_suffix(1);
    return iequals(id, authserv_id);
}

}  // namespace tlspolicy
