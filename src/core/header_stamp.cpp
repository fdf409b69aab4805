// Building our header and recognising forged copies of it.
#include "core/header_stamp.hpp"

#include "core/sanitize.hpp"
#include "core/text.hpp"

namespace tlspolicy {
namespace {

void add_rules(const Verdict& v, std::string& names, Result& result) {
    for (const RuleOutcome& o : v.rules) {
        const std::string& n = o.rule->name;
        bool seen = false;  // a rule named once even when it applied at several stages
        for (std::size_t pos = 0; !seen && pos < names.size();) {
            std::size_t end = names.find(',', pos);
            if (end == std::string::npos) end = names.size();
            seen = std::string_view(names).substr(pos, end - pos) == n;
            pos = end + 1;
        }
        if (!seen) {
            if (!names.empty()) names += ',';
            names += n;
        }
    }
    if (v.result == Result::Fail || (v.result == Result::Pass && result == Result::None)) result = v.result;
}

}  // namespace

std::string header_value(std::string_view authserv_id, const TlsFacts& tls, const Verdict& sender,
                         std::span<const Verdict> recipients) {
    std::string names;
    Result result = Result::None;
    add_rules(sender, names, result);
    for (const Verdict& r : recipients) add_rules(r, names, result);

    std::string out = sanitize_token(authserv_id, kMaxToken);
    out += "; version=";
    if (tls.encrypted()) {
        out += header_name(tls.version);
        out += " cipher=" + sanitize_token(tls.cipher, kMaxToken);
        out += " bits=" + std::to_string(tls.cipher_bits) + "/" + std::to_string(tls.alg_bits);
    } else {
        out += "none cipher=none bits=0/0";
    }
    out += "; policy=" + (names.empty() ? std::string("default") : names);
    out += " result=";
    out += result_name(result);
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
