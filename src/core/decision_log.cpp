// Decision log lines (see decision_log.hpp).
#include "core/decision_log.hpp"

#include "core/sanitize.hpp"

namespace tlspolicy {
namespace {

// One value without spaces or quotes, so a line splits cleanly on ' ' and '='.
std::string log_token(std::string_view v) {
    std::string s = sanitize_text(v, kMaxToken);
    for (char& c : s)
        if (c == ' ' || c == '"') c = '?';
    return s;
}

// A free text (the reply) in double quotes, which it cannot contain.
std::string log_quoted(std::string_view v) {
    std::string s = sanitize_text(v, kMaxReplyText);
    for (char& c : s)
        if (c == '"') c = '\'';
    return "\"" + s + "\"";
}

void common(std::string& out, const SessionFacts& s, std::string_view sender) {
    out += " client=" + (s.client_text.empty() ? std::string("unknown") : log_token(s.client_text));
    out += " hostname=" + (s.hostname.empty() ? std::string("unknown") : log_token(s.hostname));
    out += " sender=<" + log_token(sender) + ">";
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
    out += word(t.cert.status);
    if (!t.cert.subject_cn.empty()) out += " cert_subject=" + log_token(t.cert.subject_cn);
    if (!t.cert.issuer_cn.empty()) out += " cert_issuer=" + log_token(t.cert.issuer_cn);
}

std::string prefix(std::string_view queue_id) {
    return (queue_id.empty() ? std::string("NOQUEUE") : log_token(queue_id)) + ":";
}

}  // namespace

std::string_view action_word(Decision action, Decision would) {
    if (would == Decision::Reject) return "would_reject";
    if (would == Decision::Tempfail) return "would_tempfail";
    return word(action);
}

std::string_view action_word(const Verdict& v) {
    return action_word(v.decision, v.monitored() ? v.enforced : Decision::Accept);
}

std::string refusal_log_line(std::string_view queue_id, const SessionFacts& s, std::string_view sender,
                             std::string_view rcpt, const Verdict& v) {
    MessageOutcome m = summarize(v, {});
    std::string out = prefix(queue_id);
    out += " stage=";
    out += word(rcpt.empty() ? Stage::Mail : Stage::Rcpt);
    out += " action=";
    out += action_word(v);
    out += " result=";
    out += word(v.result);
    out += " policy=" + rule_names(m.rules);
    common(out, s, sender);
    if (!rcpt.empty()) out += " rcpt=<" + log_token(rcpt) + ">";
    tls(out, s.tls);
    if (v.reply) out += " reply=" + log_quoted(v.reply->line());
    return out;
}

std::string message_log_line(std::string_view queue_id, const SessionFacts& s, std::string_view sender,
                             std::size_t recipients, const MessageOutcome& m) {
    std::string out = prefix(queue_id);
    out += " stage=";
    out += word(Stage::Message);
    out += " action=";
    out += action_word(Decision::Accept, m.would);
    out += " result=";
    out += word(m.result);
    out += " policy=" + rule_names(m.rules);
    common(out, s, sender);
    if (recipients > 0) out += " rcpts=" + std::to_string(recipients);
    tls(out, s.tls);
    if (m.would_reply) out += " reply=" + log_quoted(m.would_reply->line());
    return out;
}

}  // namespace tlspolicy
