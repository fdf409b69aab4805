// `probe`: runs src/tls/probe and prints what it found; with --partner, judges
// the server's offer by the rule's requirements with the core's own checks.
#include "cli/probe.hpp"

#include <algorithm>
#include <ctime>
#include <ostream>

#include "core/escape.hpp"
#include "core/verdict.hpp"
#include "tls/cipher_table.hpp"
#include "tls/probe.hpp"

namespace tlspolicy {
namespace {

// "mx.example", "mx.example:2525", "192.0.2.1:25", "[2001:db8::1]:25", "2001:db8::1".
bool parse_target(const std::string& text, std::string& host, std::string& port, std::string& error) {
    host = text, port = "25";
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string::npos) return error = "'" + text + "': a '[' without ']'", false;
        host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') return error = "'" + text + "': want [ADDRESS]:PORT", false;
            port = text.substr(close + 2);
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        host = text.substr(0, text.find(':'));
        port = text.substr(text.find(':') + 1);
    }
    const bool port_ok = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos &&
                         std::stoi(port) > 0 && std::stoi(port) < 65536;
    if (host.empty()) return error = "'" + text + "' names no host", false;
    if (!port_ok) return error = "'" + port + "' is not a port number (1 to 65535)", false;
    return true;
}

bool is_cert_check(Check c) { return c == Check::ClientCert || c == Check::CertSubject || c == Check::CertIssuer; }
bool is_cipher_check(Check c) {
    return c == Check::MinCipherBits || c == Check::Ciphers || c == Check::Ciphersuites || c == Check::ProfileCiphers;
}

TlsFacts facts_of(const probe::TlsSession& s) {
    CipherInfo info = cipher_table::lookup(s.cipher);
    TlsFacts t = make_tls_facts(s.protocol, s.cipher, std::to_string(s.bits), std::to_string(s.alg_bits), info);
    return t;
}

// Only the ciphers the rule allows at this version, strongest spelling kept
// simple: sorted names. Empty when none is left.
std::string offer_for(const Requirements& q, bool tls13) {
    const CipherListPtr& own = tls13 ? q.ciphersuites : q.ciphers;
    const CipherListPtr prof = q.profile ? (tls13 ? q.profile->tls13_suites : q.profile->tls12_ciphers) : nullptr;
    CipherListPtr base = own ? own : prof;
    if (!base) base = (tls13 ? cipher_table::expand_ciphersuites(probe::kAllSuites)
                             : cipher_table::expand_ciphers("ALL:COMPLEMENTOFALL")).list;
    if (!base) return {};
    std::vector<std::string> names;
    for (const std::string& n : base->names) {
        const CipherInfo info = cipher_table::lookup(n);
        if (!info.known || info.tls13 != tls13 || (prof && !prof->allows(n))) continue;
        if (q.min_cipher_bits && info.bits < *q.min_cipher_bits) continue;
        names.push_back(n);
    }
    std::sort(names.begin(), names.end());
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ":") + n;
    if (!out.empty() && !tls13) out += ":@SECLEVEL=0";
    return out;
}

struct PartnerVerdict {
    bool met = false;
    std::vector<std::string> lines;  // one per version judged, and notes
};

std::string judged(const Rule& rule, const TlsFacts& facts, const std::vector<CheckResult>& checks, bool& pass) {
    pass = true;
    std::string s;
    for (const CheckResult& c : checks) {
        if (is_cert_check(c.check) || c.passed) continue;
        pass = false;
        s += (s.empty() ? "" : "; ") + std::string(word(c.check)) + " wants " + wanted_text(rule, c.check) +
             ", got " + got_text(facts, c.check);
    }
    return pass ? "meets the requirements" : s;
}

PartnerVerdict judge_partner(const Rule& rule, const probe::Report& r, const probe::Target& target,
                             probe::Clock::time_point deadline) {
    PartnerVerdict v;
    const Requirements& q = rule.req;
    if (q.require_client_cert)
        v.lines.push_back("not judged: the client certificate requirements concern the partner's client, which a probe of its server cannot see");
    if (r.attempts.empty() || std::none_of(r.attempts.begin(), r.attempts.end(), [](auto& a) { return a.accepted; })) {
        v.met = !q.require_tls && !q.require_client_cert;
        v.lines.push_back(v.met ? "no TLS, and the rule accepts plaintext" : "cannot be met: the rule requires TLS and no TLS session was possible");
        return v;
    }
    for (const probe::Attempt& a : r.attempts) {
        if (!a.accepted) continue;
        const TlsFacts facts = facts_of(a.tls);
        std::vector<CheckResult> checks = judge_requirements(q, facts);
        bool pass = false;
        std::string line = std::string(config_name(a.version)) + " " + a.tls.cipher + ": " + judged(rule, facts, checks, pass);
        const bool only_ciphers = !pass && std::all_of(checks.begin(), checks.end(), [](const CheckResult& c) {
            return c.passed || is_cipher_check(c.check) || is_cert_check(c.check);
        });
        v.lines.push_back(line);
        if (pass) v.met = true;
        if (!only_ciphers) continue;
        // The server chose a cipher the rule does not allow; would it agree to one it does?
        const bool tls13 = a.version == TlsVersion::TLSv1_3;
        const std::string offer = offer_for(q, tls13);
        if (offer.empty()) {
            v.lines.push_back(std::string(config_name(a.version)) + ": no cipher known to OpenSSL meets the rule here");
            continue;
        }
        probe::Attempt b = probe::try_version(target, a.version, offer, offer, deadline);
        if (!b.accepted) {
            v.lines.push_back(std::string(config_name(a.version)) + " offering only the rule's ciphers: refused (" + b.error + ")");
            continue;
        }
        const TlsFacts f2 = facts_of(b.tls);
        bool pass2 = false;
        v.lines.push_back(std::string(config_name(a.version)) + " offering only the rule's ciphers: " + b.tls.cipher + ": " +
                          judged(rule, f2, judge_requirements(q, f2), pass2));
        if (pass2) v.met = true;
    }
    return v;
}

int exit_code(const probe::Report& r) {
    switch (r.stopped) {
        case probe::Stage::Connect: return kProbeConnectFailed;
        case probe::Stage::Banner: return kProbeNotSmtp;
        case probe::Stage::Ehlo: return r.error_kind == probe::StepError::None && !r.ehlo.empty() ? kProbeNoStarttls : kProbeNotSmtp;
        default: break;
    }
    for (const probe::Attempt& a : r.attempts)
        if (a.accepted) return 0;
    return kProbeNoTls;
}

std::string_view kind_name(probe::StepError::Kind k) {
    switch (k) {
        case probe::StepError::None: return "refused";
        case probe::StepError::Timeout: return "timeout";
        case probe::StepError::Closed: return "closed";
        case probe::StepError::NotSmtp: return "not_smtp";
        case probe::StepError::Socket: return "socket";
        case probe::StepError::Tls: return "tls";
    }
    return "?";
}

const probe::TlsSession* certificate_of(const probe::Report& r) {
    for (auto it = r.attempts.rbegin(); it != r.attempts.rend(); ++it)
        if (it->accepted && it->tls.has_cert) return &it->tls;
    return nullptr;
}

std::string utc_now() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

void print_json(const probe::Report& r, const Rule* rule, const PartnerVerdict& pv, int code, std::ostream& out) {
    out << "{\n  \"time\": " << json_string(utc_now()) << ",\n  \"host\": " << json_string(r.target.host)
        << ",\n  \"port\": " << r.target.port << ",\n  \"address\": " << json_string(r.address)
        << ",\n  \"banner\": " << json_string(r.banner) << ",\n  \"ehlo\": " << json_string(r.ehlo)
        << ",\n  \"starttls\": " << (r.starttls_offered ? "true" : "false") << ",\n  \"error\": ";
    if (r.stopped == probe::Stage::Done)
        out << "null";
    else
        out << "{\"stage\": " << json_string(probe::stage_name(r.stopped)) << ", \"kind\": "
            << json_string(kind_name(r.error_kind)) << ", \"message\": " << json_string(r.error) << "}";
    out << ",\n  \"versions\": [";
    const char* sep = "\n";
    for (const probe::Attempt& a : r.attempts) {
        out << sep << "    {\"version\": " << json_string(config_name(a.version))
            << ", \"accepted\": " << (a.accepted ? "true" : "false");
        if (a.accepted)
            out << ", \"protocol\": " << json_string(a.tls.protocol) << ", \"cipher\": " << json_string(a.tls.cipher)
                << ", \"bits\": " << a.tls.bits << ", \"alg_bits\": " << a.tls.alg_bits;
        else
            out << ", \"stage\": " << json_string(probe::stage_name(a.stopped)) << ", \"kind\": "
                << json_string(kind_name(a.error_kind)) << ", \"message\": " << json_string(a.error);
        out << "}";
        sep = ",\n";
    }
    out << (r.attempts.empty() ? "" : "\n  ") << "],\n  \"certificate\": ";
    if (const probe::TlsSession* c = certificate_of(r))
        out << "{\"subject\": " << json_string(c->subject) << ", \"issuer\": " << json_string(c->issuer)
            << ", \"not_after\": " << json_string(c->not_after) << ", \"verified\": " << (c->verified ? "true" : "false")
            << ", \"verify_error\": " << json_string(c->verify_error)
            << ", \"name_matches\": " << (c->name_matches ? "true" : "false") << "}";
    else
        out << "null";
    if (rule) {
        out << ",\n  \"partner\": {\"name\": " << json_string(rule->name) << ", \"met\": " << (pv.met ? "true" : "false")
            << ", \"details\": [";
        for (std::size_t i = 0; i < pv.lines.size(); ++i) out << (i ? ", " : "") << json_string(pv.lines[i]);
        out << "]}";
    }
    out << ",\n  \"exit\": " << code << "\n}\n";
}

void print_text(const probe::Report& r, const Rule* rule, const PartnerVerdict& pv, std::ostream& out) {
    out << "probe " << r.target.host << " port " << r.target.port;
    if (!r.address.empty()) out << " (" << r.address << ")";
    out << "\n";
    if (!r.banner.empty()) out << "greeting: " << r.banner << "\n";
    if (!r.ehlo.empty()) out << "EHLO: " << r.ehlo << (r.starttls_offered ? " (STARTTLS offered)" : " (no STARTTLS)") << "\n";
    if (r.stopped != probe::Stage::Done) out << "stopped at " << probe::stage_name(r.stopped) << ": " << r.error << "\n";
    for (const probe::Attempt& a : r.attempts) {
        std::string v(config_name(a.version));
        v.resize(8, ' ');
        out << "  " << v;
        if (a.accepted)
            out << "accepted  " << a.tls.cipher << " " << a.tls.bits << "/" << a.tls.alg_bits << " bits\n";
        else
            out << "refused   " << probe::stage_name(a.stopped) << ": " << a.error << "\n";
    }
    if (const probe::TlsSession* c = certificate_of(r)) {
        out << "certificate: " << c->subject << "\n  issuer " << c->issuer << "\n  not after " << c->not_after
            << "\n  verifies against the system trust store: " << (c->verified ? "yes" : "no (" + c->verify_error + ")")
            << "\n  matches " << r.target.host << ": " << (c->name_matches ? "yes" : "no") << "\n";
    }
    if (rule) {
        out << "partner " << rule->name << ": requirements " << (pv.met ? "can be met" : "cannot be met") << "\n";
        for (const std::string& l : pv.lines) out << "  " << l << "\n";
    }
}

}  // namespace

int probe_command(const Config& config, const ProbeOptions& o, std::ostream& out, std::ostream& err) {
    probe::Target target;
    std::string error;
    if (!parse_target(o.target, target.host, target.port, error)) {
        err << "probe: " << error << "\n";
        return 2;
    }
    const Rule* rule = nullptr;
    if (!o.partner.empty()) {
        for (const Rule& r : config.policy->partners)
            if (r.name == o.partner) rule = &r;
        if (!rule) {
            err << "probe: no [[partner]] rule named '" << o.partner << "' in " << config.path << "; its partner rules are:";
            for (const Rule& r : config.policy->partners) err << " " << r.name;
            err << "\n";
            return 2;
        }
    }
    target.helo = o.helo;
    target.step_timeout_ms = o.timeout * 1000;
    target.total_timeout_ms = o.timeout * 1000 * 12;  // at most 12 waits end to end
    // The extra handshakes of --partner share the probe's total time.
    const auto deadline = probe::Clock::now() + std::chrono::milliseconds(target.total_timeout_ms);
    const probe::Report report = probe::run(target);
    int code = exit_code(report);
    PartnerVerdict pv;
    if (rule) {
        pv = judge_partner(*rule, report, target, deadline);
        if (code == 0 && !pv.met) code = kProbePartnerNotMet;
    }
    if (o.format == "json")
        print_json(report, rule, pv, code, out);
    else
        print_text(report, rule, pv, out);
    return code;
}

}  // namespace tlspolicy
