// The decision: which rules apply, which requirements hold, what to answer.
#include "core/verdict.hpp"

#include <algorithm>
#include <charconv>

#include "core/address.hpp"
#include "core/sanitize.hpp"
#include "core/text.hpp"

namespace tlspolicy {
namespace {

int parse_bits(std::string_view text) {
    int n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size() || n < 0 || n > 4096) return 0;
    return n;
}

const CipherListPtr& profile_list(const Profile& p, const TlsFacts& tls) {
    return tls.version == TlsVersion::TLSv1_3 ? p.tls13_suites : p.tls12_ciphers;
}

bool version_at_least(const TlsFacts& tls, TlsVersion min) {
    return tls.version != TlsVersion::Unknown && tls.version >= min;
}

bool allowed(const CipherListPtr& list, const TlsFacts& tls) { return list && list->allows(tls.cipher); }

std::string entry_text(const Entry& e) { return (e.kind == EntryKind::Subdomains ? "." : "") + e.key; }
const std::string& entry_text(const std::string& s) { return s; }

// "a", "a or b", "a, b or c", "a, b, c or 2 more": reply texts stay short.
template <class T>
std::string name_list(const std::vector<T>& names) {
    std::string out;
    const std::size_t shown = names.size() > 3 ? 3 : names.size();
    for (std::size_t i = 0; i < shown; ++i) {
        if (i > 0) out += (i + 1 == shown && names.size() == shown) ? " or " : ", ";
        out += entry_text(names[i]);
    }
    if (names.size() > shown) out += " or " + std::to_string(names.size() - shown) + " more";
    return out;
}

bool subject_allowed(const std::vector<Entry>& subjects, std::string_view cn) {
    const std::string name = normalize_domain(cn);
    for (const Entry& e : subjects) {
        if (e.kind == EntryKind::Domain && name == e.key) return true;
        if (e.kind == EntryKind::Subdomains && name.size() > e.key.size() && name.ends_with(e.key) &&
            name[name.size() - e.key.size() - 1] == '.')
            return true;
    }
    return false;
}

bool issuer_allowed(const std::vector<std::string>& issuers, std::string_view cn) {
    for (const std::string& i : issuers)
        if (iequals(i, cn)) return true;
    return false;
}

// The certificate requirements: verified first; the names only of a
// certificate that verified (the MTA vouches for nothing else).
void judge_cert(const Requirements& req, const ClientCert& cert, std::vector<CheckResult>& out) {
    if (!req.require_client_cert) return;
    const bool verified = cert.status == CertStatus::Verified;
    out.push_back({Check::ClientCert, verified});
    if (!verified) return;
    if (!req.cert_subjects.empty()) out.push_back({Check::CertSubject, subject_allowed(req.cert_subjects, cert.subject_cn)});
    if (!req.cert_issuers.empty()) out.push_back({Check::CertIssuer, issuer_allowed(req.cert_issuers, cert.issuer_cn)});
}

// Appends the requirements of `req` that apply to this session, each judged.
void judge(const Requirements& req, const TlsFacts& tls, std::vector<CheckResult>& out) {
    if (!tls.encrypted()) {
        if (req.require_tls) out.push_back({Check::RequireTls, false});
        judge_cert(req, ClientCert{}, out);
        return;
    }
    const bool tls13 = tls.version == TlsVersion::TLSv1_3;
    if (req.require_tls) out.push_back({Check::RequireTls, true});
    if (req.min_version) out.push_back({Check::MinVersion, version_at_least(tls, *req.min_version)});
    if (req.min_cipher_bits) out.push_back({Check::MinCipherBits, tls.cipher_bits >= *req.min_cipher_bits});
    if (req.ciphers && !tls13) out.push_back({Check::Ciphers, allowed(req.ciphers, tls)});
    if (req.ciphersuites && tls13) out.push_back({Check::Ciphersuites, allowed(req.ciphersuites, tls)});
    if (req.profile) {
        out.push_back({Check::ProfileVersion, version_at_least(tls, req.profile->min_version)});
        out.push_back({Check::ProfileCiphers, allowed(profile_list(*req.profile, tls), tls)});
    }
    judge_cert(req, tls.cert, out);
}

RuleOutcome judge_rule(const Rule& rule, const TlsFacts& tls) {
    RuleOutcome o;
    o.rule = &rule;
    judge(rule.req, tls, o.checks);
    return o;
}

Decision decision_for(Action a) {
    switch (a) {
        case Action::Reject: return Decision::Reject;
        case Action::Tempfail: return Decision::Tempfail;
        case Action::Annotate: return Decision::Accept;
    }
    return Decision::Accept;
}

// Sums up the outcomes: result, the most severe failing rule, and its reply.
void conclude(Verdict& v, const Policy& policy, const SessionFacts& session, std::string_view subject) {
    bool any_check = false;
    const RuleOutcome* worst = nullptr;
    for (const RuleOutcome& o : v.rules) {
        any_check |= !o.checks.empty();
        if (o.failed() && (!worst || o.rule->action > worst->rule->action)) worst = &o;
    }
    v.result = worst ? Result::Fail : any_check ? Result::Pass : Result::None;
    if (!worst) return;
    v.failed_action = worst->rule->action;
    v.enforced = decision_for(worst->rule->action);
    v.decision = policy.mode == Mode::Monitor ? Decision::Accept : v.enforced;
    if (v.enforced == Decision::Accept) return;

    Reply r;
    const bool reject = v.enforced == Decision::Reject;
    r.code = reject ? "550" : "450";
    r.status = reject ? "5.7.10" : "4.7.10";
    if (!worst->rule->reply.empty()) {
        r.text = sanitize_text(worst->rule->reply, kMaxReplyText);
    } else {
        Check c = Check::RequireTls;
        for (const CheckResult& cr : worst->checks)
            if (!cr.passed) {
                c = cr.check;
                break;
            }
        r.text = sanitize_text(wanted_text(*worst->rule, c) + " required for " + std::string(subject) + " (got " +
                                   got_text(session.tls, c) + ")",
                               kMaxReplyText);
    }
    v.reply = std::move(r);
}

}  // namespace

bool RuleOutcome::failed() const {
    for (const CheckResult& c : checks)
        if (!c.passed) return true;
    return false;
}

std::vector<CheckResult> judge_requirements(const Requirements& req, const TlsFacts& tls) {
    std::vector<CheckResult> out;
    judge(req, tls, out);
    return out;
}

std::string wanted_text(const Rule& rule, Check check) {
    const Requirements& q = rule.req;
    switch (check) {
        case Check::RequireTls: return "TLS";
        case Check::MinVersion: return std::string(human_name(*q.min_version)) + " or newer";
        case Check::MinCipherBits: return "a cipher of " + std::to_string(*q.min_cipher_bits) + " bits or more";
        case Check::Ciphers: return "an allowed TLS cipher";
        case Check::Ciphersuites: return "an allowed TLS 1.3 cipher suite";
        case Check::ProfileVersion:
            return std::string(human_name(q.profile->min_version)) + " or newer (profile " +
                   std::string(q.profile->name) + ")";
        case Check::ProfileCiphers: return "a cipher of profile " + std::string(q.profile->name);
        case Check::ClientCert: return "verified client certificate";
        case Check::CertSubject: return "client certificate for " + name_list(q.cert_subjects);
        case Check::CertIssuer: return "client certificate issued by " + name_list(q.cert_issuers);
    }
    return "?";
}

std::string got_text(const TlsFacts& tls, Check check) {
    if (!tls.encrypted()) return "plaintext";
    switch (check) {
        case Check::RequireTls:
        case Check::MinVersion:
        case Check::ProfileVersion:
            return tls.version == TlsVersion::Unknown ? "TLS version '" + tls.version_text + "'"
                                                      : std::string(human_name(tls.version));
        case Check::MinCipherBits: return std::to_string(tls.cipher_bits) + " bits";
        case Check::Ciphers:
        case Check::Ciphersuites:
        case Check::ProfileCiphers: return tls.cipher.empty() ? "no cipher name" : tls.cipher;
        case Check::ClientCert:
            switch (tls.cert.status) {
                case CertStatus::None: return "none";
                case CertStatus::Unverified: return "an unverified certificate";
                case CertStatus::Unknown: return "no verified certificate";
                case CertStatus::Verified: return "a verified certificate";
            }
            return "?";
        case Check::CertSubject: return "CN=" + (tls.cert.subject_cn.empty() ? "(none)" : tls.cert.subject_cn);
        case Check::CertIssuer: return "issuer CN=" + (tls.cert.issuer_cn.empty() ? "(none)" : tls.cert.issuer_cn);
    }
    return "?";
}

SessionFacts make_session(std::string_view client_address, std::string_view hostname, TlsFacts tls) {
    SessionFacts s;
    s.client_text = sanitize_text(client_address, kMaxToken);
    s.client = parse_ip(client_address);
    if (!hostname.empty() && hostname != "unknown" && hostname.front() != '[')
        s.hostname = normalize_domain(sanitize_text(hostname, kMaxToken));
    s.tls = std::move(tls);
    return s;
}

TlsFacts make_tls_facts(std::string_view version, std::string_view cipher, std::string_view cipher_bits,
                        std::string_view alg_bits, const CipherInfo& info) {
    TlsFacts t;
    t.version = parse_macro_version(version);
    if (!t.encrypted()) return t;
    t.version_text = sanitize_token(version, kMaxToken);
    t.cipher = sanitize_token(cipher, kMaxToken);
    t.cipher_bits = parse_bits(cipher_bits);
    t.alg_bits = parse_bits(alg_bits);
    if (t.alg_bits == 0) t.alg_bits = info.alg_bits;
    return t;
}

Verdict decide_sender(const Policy& policy, const SessionFacts& session, std::string_view sender) {
    Verdict v;
    v.stage = Stage::Mail;
    std::vector<Match> matches;
    policy.match_partners(session.client, session.hostname, sender, matches);
    for (const Match& m : matches) {
        if (v.rules.empty() || v.rules.back().rule != &policy.partners[m.rule])
            v.rules.push_back(judge_rule(policy.partners[m.rule], session.tls));
        v.rules.back().matched_by.push_back(m);
    }
    if (v.rules.empty()) v.rules.push_back(judge_rule(policy.defaults, session.tls));
    std::string_view domain = address_domain(sender);
    conclude(v, policy, session, !domain.empty() ? domain : !session.client_text.empty() ? std::string_view(session.client_text) : "this session");
    return v;
}

Verdict decide_recipient(const Policy& policy, const SessionFacts& session, std::string_view recipient) {
    Verdict v;
    v.stage = Stage::Rcpt;
    std::vector<Match> matches;
    policy.match_recipients(recipient, matches);
    for (const Match& m : matches) {
        if (v.rules.empty() || v.rules.back().rule != &policy.recipients[m.rule])
            v.rules.push_back(judge_rule(policy.recipients[m.rule], session.tls));
        v.rules.back().matched_by.push_back(m);
    }
    conclude(v, policy, session, recipient);
    return v;
}

std::string rule_names(std::span<const RuleRef> rules) {
    std::string out;
    for (auto it = rules.begin(); it != rules.end(); ++it) {
        // A partner and a recipient rule may share a name: it is shown once.
        if (std::any_of(rules.begin(), it, [&](const RuleRef& r) { return r.name == it->name; })) continue;
        if (!out.empty()) out += ',';
        out += it->name;
    }
    return out;
}

}  // namespace tlspolicy
