// Decision log lines (see decision_log.hpp).
#include "core/decision_log.hpp"

#include "core/sanitize.hpp"

namespace tlspolicy {
namespace {

// One value without spaces or quotes, so a line splits cleanly on ' ' and '='.
std::string word(std::string_view v) {
    std::string s = sanitize_text(v, kMaxToken);
    for (char& c : s)
        if (c == ' ' || c == '"') c = '?';
    return s;
}

std::string quoted(std::string_view v) {
    std::string s = sanitize_text(v, kMaxReplyText);
    for (char& c : s)
        if (c == '"') c = '\'';
    return "\"" + s + "\"";
}

void common(std::string& out, const SessionFacts& s, std::string_view sender) {
    out += " client=" + (s.client_text.empty() ? std::string("unknown") : word(s.client_text));
    out += " hostname=" + (s.hostname.empty() ? std::string("unknown") : word(s.hostname));
    out += " sender=<" + word(sender) + ">";
}

void tls(std::string& out, const TlsFacts& t) {
    if (!t.encrypted()) {
        out += " version=none cipher=none bits=0/0";
        return;
    }
    out += " version=";
    out += header_name(t.version);
    out += " cipher=" + sanitize_token(t.cipher, kMaxToken);
    out += " bits=" + std::to_string(t.cipher_bits) + "/" + std::to_string(t.alg_bits);
    if (t.cert.status == CertStatus::None) return;
    out += " cert=";
    out += cert_status_name(t.cert.status);
    if (!t.cert.subject_cn.empty()) out += " cert_subject=" + word(t.cert.subject_cn);
    if (!t.cert.issuer_cn.empty()) out += " cert_issuer=" + word(t.cert.issuer_cn);
}

std::string prefix(std::string_view queue_id) {
    return (queue_id.empty() ? std::string("NOQUEUE") : word(queue_id)) + ":";
}

}  // namespace

std::string_view action_word(Decision action, Decision would) {
    if (would == Decision::Reject) return "would_reject";
    if (would == Decision::Tempfail) return "would_tempfail";
    return decision_name(action);
}

std::string_view action_word(const Verdict& v) {
    return action_word(v.decision, v.monitored() ? v.enforced : Decision::Accept);
}

std::string refusal_log_line(std::string_view queue_id, const SessionFacts& s, std::string_view sender,
                             std::string_view rcpt, const Verdict& v) {
    MessageOutcome m = summarize(v, {});
    std::string out = prefix(queue_id);
    out += rcpt.empty() ? " stage=mail" : " stage=rcpt";
    out += " action=";
    out += action_word(v);
    out += " result=";
    out += result_name(v.result);
    out += " policy=" + rule_names(m.rules);
    common(out, s, sender);
    if (!rcpt.empty()) out += " rcpt=<" + word(rcpt) + ">";
    tls(out, s.tls);
    if (v.reply) out += " reply=" + quoted(v.reply->line());
    return out;
}

std::string message_log_line(std::string_view queue_id, const SessionFacts& s, std::string_view sender,
                             std::size_t recipients, const MessageOutcome& m) {
    std::string out = prefix(queue_id);
    out += " stage=message action=";
    out += action_word(Decision::Accept, m.would);
    out += " result=";
    out += result_name(m.result);
    out += " policy=" + rule_names(m.rules);
    common(out, s, sender);
    if (recipients > 0) out += " rcpts=" + std::to_string(recipients);
    tls(out, s.tls);
    if (m.would_reply) out += " reply=" + quoted(m.would_reply->line());
    return out;
}

}  // namespace tlspolicy
