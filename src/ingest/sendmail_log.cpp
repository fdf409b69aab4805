// Sendmail lines (see sendmail_log.hpp).
#include "ingest/sendmail_log.hpp"

#include "ingest/delivery.hpp"

namespace tlspolicy::ingest {
namespace {

bool take(std::string_view& s, std::string_view prefix) {
    if (!s.starts_with(prefix)) return false;
    s.remove_prefix(prefix.size());
    return true;
}

bool number(std::string_view s, int& out) {
    if (s.empty() || s.size() > 6) return false;
    int v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    if (v > kMaxLoggedBits) return false;
    out = v;
    return true;
}

// The value of "key=" up to the next ", " (or the end).
std::string_view field(std::string_view s, std::string_view key) {
    std::size_t at = 0;
    for (;;) {
        at = s.find(key, at);
        if (at == std::string_view::npos) return {};
        if (at == 0 || (at >= 2 && s[at - 2] == ',' && s[at - 1] == ' ')) break;
        at += key.size();
    }
    std::string_view v = s.substr(at + key.size());
    return v.substr(0, v.find(", "));
}

// Splits "<a@x>,<b@y>" (quotes and brackets respected) into addresses.
bool split_recipients(std::string_view list, std::vector<std::string_view>& out) {
    std::size_t start = 0;
    bool quoted = false;
    int depth = 0;
    for (std::size_t i = 0; i <= list.size(); ++i) {
        const char c = i < list.size() ? list[i] : ',';
        if (c == '"' && (i == 0 || list[i - 1] != '\\')) quoted = !quoted;
        if (quoted && i < list.size()) continue;
        if (c == '<') ++depth;
        if (c == '>') --depth;
        if (c == ',' && depth == 0) {
            std::string_view a = list.substr(start, i - start);
            if (a.size() >= 2 && a.front() == '<' && a.back() == '>') a = a.substr(1, a.size() - 2);
            if (!a.empty()) out.push_back(a);
            start = i + 1;
        }
    }
    return !quoted && depth == 0 && !out.empty();
}

}  // namespace

bool parse_sendmail_tls(std::string_view m, SendmailTlsLine& out) {
    out = SendmailTlsLine{};
    if (!take(m, "STARTTLS=client, ")) return false;
    if (m.starts_with("error:")) {
        out.error = true;
        out.relay = field(m, "relay=");
        return true;
    }
    if (!m.starts_with("relay=")) return false;
    out.relay = field(m, "relay=");
    out.version = field(m, "version=");
    out.verify = field(m, "verify=");
    out.cipher = field(m, "cipher=");
    const std::string_view bits = field(m, "bits=");
    const std::size_t slash = bits.find('/');
    if (out.relay.empty() || out.version.empty() || slash == std::string_view::npos) return false;
    return number(bits.substr(0, slash), out.alg_bits) && number(bits.substr(slash + 1), out.used_bits);
}

SendmailParse parse_sendmail_status(std::string_view m, SendmailStatusLine& out) {
    out = SendmailStatusLine{};
    const std::size_t colon = m.find(": to=");
    if (colon == std::string_view::npos || colon == 0 || colon > 32) return SendmailParse::NotStatus;
    for (char c : m.substr(0, colon))
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            return SendmailParse::NotStatus;
    out.queue_id = m.substr(0, colon);
    m.remove_prefix(colon + 5);
    // The list ends where the first field after it starts; logdelivery()
    // always writes delay= (ctladdr= before it when there is one).
    std::size_t end = std::string_view::npos;
    for (std::string_view next : {", ctladdr=", ", delay="}) {
        const std::size_t at = m.find(next);
        if (at != std::string_view::npos && at < end) end = at;
    }
    if (end == std::string_view::npos) return SendmailParse::Malformed;
    std::string_view list = m.substr(0, end), rest = m.substr(end + 2);
    if (list.ends_with(" [more]")) list.remove_suffix(7);
    if (list.ends_with(",")) list.remove_suffix(1);
    if (!split_recipients(list, out.recipients)) return SendmailParse::Malformed;
    // stat= is last and may hold anything, ", " included.
    const std::size_t stat = rest.find("stat=");
    if (stat == std::string_view::npos || (stat > 0 && rest.substr(stat - 2, 2) != ", ")) return SendmailParse::Malformed;
    out.stat = rest.substr(stat + 5);
    const std::string_view fields = rest.substr(0, stat);
    out.mailer = field(fields, "mailer=");
    out.dsn = field(fields, "dsn=");
    const std::string_view relay = field(fields, "relay=");
    const std::size_t open = relay.find(" [");
    if (open != std::string_view::npos && relay.back() == ']') {
        out.relay_host = relay.substr(0, open);
        out.relay_address = relay.substr(open + 2, relay.size() - open - 3);
    } else {
        out.relay_host = relay;
    }
    if (out.stat.empty() || out.mailer.empty()) return SendmailParse::Malformed;
    return SendmailParse::Status;
}

bool is_sendmail_smtp_mailer(std::string_view mailer) {
    return mailer == "esmtp" || mailer == "smtp" || mailer == "smtp8" || mailer == "dsmtp" || mailer == "relay";
}

bool is_sendmail_mta(std::string_view program) { return program == "sendmail" || program == "sm-mta"; }

}  // namespace tlspolicy::ingest
