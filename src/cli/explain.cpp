// `explain`: runs the same core decision the milter runs, with the facts given
// on the command line, and prints every step of it.
#include "cli/explain.hpp"

#include <unistd.h>

#include <ostream>

#include "core/address.hpp"
#include "core/header_stamp.hpp"
#include "core/sanitize.hpp"
#include "core/transaction.hpp"
#include "core/verdict.hpp"
#include "tls/cipher_table.hpp"

namespace tlspolicy {
namespace {

std::string entry_text(const Entry& e) { return e.kind == EntryKind::Subdomains ? "." + e.key : e.key; }

std::string selector_entry(const Rule& rule, const Match& m) {
    switch (m.selector) {
        case Selector::Client: return rule.clients[m.entry].to_string();
        case Selector::Hostname: return entry_text(rule.hostnames[m.entry]);
        case Selector::Sender: return entry_text(rule.senders[m.entry]);
        case Selector::Recipient: return entry_text(rule.recipients[m.entry]);
    }
    return "?";
}

std::string_view kind_name(RuleKind k) {
    switch (k) {
        case RuleKind::Defaults: return "defaults";
        case RuleKind::Partner: return "partner";
        case RuleKind::Recipient: return "recipient";
    }
    return "?";
}

// "an allowed TLS cipher (ECDHE+AESGCM; unknown to OpenSSL: FOO-BAR)"
std::string list_note(const CipherListPtr& list) {
    if (!list) return {};
    std::string s = " (" + list->spec;
    if (!list->unknown.empty()) {
        s += "; unknown to OpenSSL:";
        for (const auto& n : list->unknown) s += " " + n;
    }
    return s + ")";
}

void print_verdict(const Verdict& v, const SessionFacts& s, std::ostream& out) {
    for (const RuleOutcome& o : v.rules) {
        const Rule& r = *o.rule;
        out << "  rule " << r.name << " (" << kind_name(r.kind) << ", line " << r.line << ", action "
            << word(r.action) << ")";
        if (o.matched_by.empty()) {
            out << ": no partner rule matched\n";
        } else {
            out << " matched by";
            const char* sep = " ";
            for (const Match& m : o.matched_by) {
                out << sep << word(m.selector) << " " << selector_entry(r, m);
                sep = ", ";
            }
            out << "\n";
        }
        if (o.checks.empty()) out << "    no requirement applies to this session\n";
        for (const CheckResult& c : o.checks) {
            std::string wanted = wanted_text(r, c.check);
            if (c.check == Check::Ciphers) wanted += list_note(r.req.ciphers);
            if (c.check == Check::Ciphersuites) wanted += list_note(r.req.ciphersuites);
            out << "    " << (c.passed ? "pass" : "FAIL") << "  " << word(c.check) << ": want " << wanted
                << ", got " << got_text(s.tls, c.check) << "\n";
        }
    }
    out << "  result " << word(v.result);
    if (v.failed_action) out << ", action " << word(*v.failed_action);
    out << " -> " << word(v.decision);
    if (v.monitored()) out << " (monitor mode: would " << word(v.enforced) << ")";
    out << "\n";
    if (v.reply) out << "  " << (v.monitored() ? "reply in enforce mode: " : "reply: ") << v.reply->line() << "\n";
}

// explain's stand-in for the MTA's name (macro j) in the authserv-id.
std::string local_hostname() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0) return {};  // choose_authserv_id falls back
    return buf;
}

}  // namespace

int explain(const Config& config, const ExplainRequest& req, std::ostream& out, std::ostream& err) {
    const Policy& policy = *config.policy;
    if (!req.client.empty() && !parse_ip(req.client)) {
        err << "explain: --client '" << req.client << "' is not an IPv4 or IPv6 address\n";
        return 2;
    }
    if (!req.tls_version.empty() && parse_macro_version(req.tls_version) == TlsVersion::Unknown)
        err << "explain: note: '" << req.tls_version << "' is not a TLS version an MTA reports "
            << "(TLSv1, TLSv1.1, TLSv1.2, TLSv1.3); treated as an unknown TLS version\n";

    CipherInfo info = cipher_table::lookup(req.cipher);
    std::string bits = req.cipher_bits ? std::to_string(*req.cipher_bits) : std::to_string(info.bits);
    TlsFacts tls = make_tls_facts(req.tls_version, req.cipher, bits, "", info);
    if (tls.encrypted()) {
        for (CertStatus st : {CertStatus::None, CertStatus::Unverified, CertStatus::Verified, CertStatus::Unknown})
            if (word(st) == req.client_cert) tls.cert.status = st;
        tls.cert.subject_cn = sanitize_text(req.cert_subject, kMaxToken);
        tls.cert.issuer_cn = sanitize_text(req.cert_issuer, kMaxToken);
    }
    SessionFacts s = make_session(req.client, req.hostname, std::move(tls));

    out << "policy " << config.path << " (mode " << word(policy.mode) << ")\n";
    out << "session: client " << (s.client_text.empty() ? "unknown" : s.client_text) << ", hostname "
        << (s.hostname.empty() ? "unknown" : s.hostname) << ", ";
    if (!s.tls.encrypted()) {
        out << "plaintext\n";
    } else {
        out << human_name(s.tls.version) << " " << (s.tls.cipher.empty() ? "(no cipher name)" : s.tls.cipher) << " "
            << s.tls.cipher_bits << "/" << s.tls.alg_bits << " bits";
        if (!req.cipher.empty() && !info.known)
            out << " (cipher unknown to the local OpenSSL: bits as reported)";
        else if (info.known)
            out << (info.aead ? ", AEAD" : ", not AEAD") << (info.forward_secrecy ? ", forward secrecy" : ", no forward secrecy");
        out << "\n";
        if (s.tls.cert.status != CertStatus::None || !s.tls.cert.subject_cn.empty())
            out << "client certificate: " << word(s.tls.cert.status) << ", subject CN "
                << (s.tls.cert.subject_cn.empty() ? "(none)" : s.tls.cert.subject_cn) << ", issuer CN "
                << (s.tls.cert.issuer_cn.empty() ? "(none)" : s.tls.cert.issuer_cn) << "\n";
    }

    Transaction t;
    const Verdict& mail = t.begin(policy, std::move(s), normalize_address(req.sender));
    out << "\nMAIL FROM:<" << t.sender() << ">\n";
    print_verdict(mail, t.session(), out);
    if (mail.decision != Decision::Accept) {
        out << "\nthe transaction ends here: no recipient is asked for and no header is stamped\n";
        return 0;
    }

    for (const std::string& raw : req.recipients) {
        std::string rcpt = normalize_address(raw);
        out << "\nRCPT TO:<" << rcpt << ">\n";
        const Verdict& v = t.add_recipient(rcpt);
        if (v.rules.empty())
            out << "  no recipient rule matched -> accept\n";
        else
            print_verdict(v, t.session(), out);
    }
    if (!req.recipients.empty() && t.accepted_recipients() == 0) {
        out << "\nno recipient accepted: no message, no header\n";
        return 0;
    }
    const std::string host = local_hostname();
    out << "\nheader:\n" << config.header.name << ": " << t.finish(choose_authserv_id(config.header.authserv_id, host)).header
        << "\n";
    return 0;
}

}  // namespace tlspolicy
