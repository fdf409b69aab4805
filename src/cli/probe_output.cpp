// The host probe's JSON and text, written once for `probe HOST` and for each
// MX host of `probe --domain`.
#include "cli/probe_output.hpp"

#include <cstdio>
#include <ctime>
#include <ostream>

#include "cli/probe.hpp"
#include "core/tls_version.hpp"

namespace tlspolicy {
namespace {

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

}  // namespace

int host_exit_code(const probe::Report& r) {
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

std::string json_bool(bool b) { return b ? "true" : "false"; }

std::string utc_now() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string certificate_json(const probe::TlsSession& c) {
    return "{\"subject\": " + json_string(c.subject) + ", \"issuer\": " + json_string(c.issuer) +
           ", \"not_after\": " + json_string(c.not_after) + ", \"verified\": " + json_bool(c.verified) +
           ", \"verify_error\": " + json_string(c.verify_error) + ", \"name_matches\": " + json_bool(c.name_matches) + "}";
}

void write_host_json_fields(const probe::Report& r, std::ostream& out, std::string_view in) {
    out << in << "\"host\": " << json_string(r.target.host) << ",\n" << in << "\"port\": " << r.target.port << ",\n"
        << in << "\"address\": " << json_string(r.address) << ",\n" << in << "\"banner\": " << json_string(r.banner)
        << ",\n" << in << "\"ehlo\": " << json_string(r.ehlo) << ",\n" << in << "\"starttls\": "
        << json_bool(r.starttls_offered) << ",\n" << in << "\"error\": ";
    if (r.stopped == probe::Stage::Done)
        out << "null";
    else
        out << "{\"stage\": " << json_string(probe::stage_name(r.stopped)) << ", \"kind\": "
            << json_string(kind_name(r.error_kind)) << ", \"message\": " << json_string(r.error) << "}";
    out << ",\n" << in << "\"versions\": [";
    const char* sep = "\n";
    for (const probe::Attempt& a : r.attempts) {
        out << sep << in << "  {\"version\": " << json_string(config_name(a.version))
            << ", \"accepted\": " << json_bool(a.accepted);
        if (a.accepted)
            out << ", \"protocol\": " << json_string(a.tls.protocol) << ", \"cipher\": " << json_string(a.tls.cipher)
                << ", \"bits\": " << a.tls.bits << ", \"alg_bits\": " << a.tls.alg_bits;
        else
            out << ", \"stage\": " << json_string(probe::stage_name(a.stopped)) << ", \"kind\": "
                << json_string(kind_name(a.error_kind)) << ", \"message\": " << json_string(a.error);
        out << "}";
        sep = ",\n";
    }
    out << (r.attempts.empty() ? "" : "\n" + std::string(in)) << "],\n" << in << "\"certificate\": ";
    if (const probe::TlsSession* c = certificate_of(r))
        out << certificate_json(*c);
    else
        out << "null";
}

void write_host_text(const probe::Report& r, std::ostream& out, std::string_view in) {
    if (!r.banner.empty()) out << in << "greeting: " << r.banner << "\n";
    if (!r.ehlo.empty()) out << in << "EHLO: " << r.ehlo << (r.starttls_offered ? " (STARTTLS offered)" : " (no STARTTLS)") << "\n";
    if (r.stopped != probe::Stage::Done) out << in << "stopped at " << probe::stage_name(r.stopped) << ": " << r.error << "\n";
    for (const probe::Attempt& a : r.attempts) {
        std::string v(config_name(a.version));
        v.resize(8, ' ');
        out << in << "  " << v;
        if (a.accepted)
            out << "accepted  " << a.tls.cipher << " " << a.tls.bits << "/" << a.tls.alg_bits << " bits\n";
        else
            out << "refused   " << probe::stage_name(a.stopped) << ": " << a.error << "\n";
    }
    if (const probe::TlsSession* c = certificate_of(r)) {
        out << in << "certificate: " << c->subject << "\n" << in << "  issuer " << c->issuer << "\n" << in << "  not after "
            << c->not_after << "\n" << in << "  verifies against the system trust store: "
            << (c->verified ? "yes" : "no (" + c->verify_error + ")") << "\n" << in << "  matches " << r.target.host
            << ": " << (c->name_matches ? "yes" : "no") << "\n";
    }
}

}  // namespace tlspolicy
