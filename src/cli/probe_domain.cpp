// `probe --domain`: runs src/probe/domain and prints its facts as text or as
// the JSON object tlspolicy-milter(8) documents (schema 1: fields are only
// ever added; a change of meaning gets a new schema number).
#include <algorithm>
#include <ostream>
#include <utility>
#include <vector>

#include "cli/probe.hpp"
#include "cli/probe_output.hpp"
#include "core/text.hpp"
#include "probe/domain.hpp"

namespace tlspolicy {
namespace {

using probe::DomainReport;
using probe::MxHost;

// "Example.COM." -> "example.com"; empty when it is not a domain name in
// ASCII (an internationalised name goes in its xn-- form).
std::string domain_name(std::string d, std::string& why) {
    if (!d.empty() && d.back() == '.') d.pop_back();
    d = lowercase(d);
    if (d.empty() || d.size() > 253) return why = "a domain name has 1 to 253 characters", "";
    std::size_t label = 0;
    for (char c : d) {
        if (c == '.') {
            if (label == 0) return why = "an empty label (two dots, or a leading dot)", "";
            label = 0;
            continue;
        }
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) return why = "only letters, digits, '-' and '_' (an internationalised name in its xn-- form)", "";
        if (++label > 63) return why = "a label longer than 63 characters", "";
    }
    if (d.find('.') == std::string::npos) return why = "a mail domain has at least two labels", "";
    return d;
}

// --- JSON -------------------------------------------------------------------

using Fields = std::vector<std::pair<std::string, std::string>>;  // key, JSON text

std::string object(const Fields& f) {
    std::string s = "{";
    for (std::size_t i = 0; i < f.size(); ++i) s += (i ? ", " : "") + json_string(f[i].first) + ": " + f[i].second;
    return s + "}";
}

std::string strings(const std::vector<std::string>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + json_string(v[i]);
    return s + "]";
}

std::string lookup_json(const probe::Lookup& l) {
    if (l.name.empty()) return "null";
    return object({{"name", json_string(l.name)}, {"type", json_string(l.type)},
                   {"status", json_string(dns::status_word(l.status))}, {"dnssec", json_bool(l.dnssec)},
                   {"error", json_string(l.error)}});
}

std::string lookups_json(const std::vector<probe::Lookup>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + lookup_json(v[i]);
    return s + "]";
}

std::vector<std::string> tlsa_texts(const std::vector<TlsaRecord>& v) {
    std::vector<std::string> out;
    for (const TlsaRecord& r : v) out.push_back(tlsa_text(r));
    return out;
}

void write_host_json(const MxHost& h, std::ostream& out) {
    const std::string in = "      ";
    out << "    {\n" << in << "\"name\": " << json_string(h.name) << ",\n" << in << "\"preference\": " << h.preference
        << ",\n" << in << "\"addresses\": " << strings(h.addresses) << ",\n" << in << "\"addresses_dnssec\": "
        << json_bool(h.addresses_secure) << ",\n" << in << "\"address_lookups\": " << lookups_json(h.address_lookups)
        << ",\n" << in << "\"tlsa\": "
        << object({{"lookup", lookup_json(h.tlsa.lookup)}, {"records", strings(tlsa_texts(h.tlsa.records))},
                   {"usable", json_bool(h.tlsa.usable)}, {"why_not", json_string(h.tlsa.why_not)}})
        << ",\n" << in << "\"dane\": ";
    const probe::TlsSession* t = h.session();
    if (t && t->dane_checked)
        out << object({{"matched", json_bool(t->dane_matched)},
                       {"depth", t->dane_matched ? std::to_string(t->dane_depth) : "null"},
                       {"record", t->dane_matched ? json_string(t->dane_record) : "null"},
                       {"error", json_string(t->dane_error)}});
    else
        out << "null";
    out << ",\n" << in << "\"mta_sts_covered\": " << json_bool(h.sts_covered) << ",\n" << in << "\"probe\": ";
    if (h.probed) {
        out << "{\n";
        write_host_json_fields(h.probe, out, in + "  ");
        out << "\n" << in << "}";
    } else {
        out << "null";
    }
    out << ",\n" << in << "\"exit\": " << (h.probed ? host_exit_code(h.probe) : kProbeConnectFailed) << "\n    }";
}

std::string sts_json(const probe::StsFacts& s) {
    const mta_sts::TxtLookup& t = s.txt;
    std::string policy = "null";
    if (!s.url.empty()) {
        // The same fields whether or not a request was made: the stage says how far it got.
        const probe::HttpsResponse& r = s.response;
        const bool done = s.fetched && r.stopped == probe::HttpsResponse::Done;
        const bool parsed = done && r.status == 200;
        std::string stage = "null", error = json_string(r.error.text);
        if (!s.fetched) stage = "\"address\"", error = json_string(s.problems.empty() ? "" : s.problems.back());
        else if (!done) stage = json_string(probe::step_name(r.stopped));
        policy = object({
            {"url", json_string(s.url)},
            {"address", json_string(s.address)},
            {"address_lookups", lookups_json(s.address_lookups)},
            {"stage", stage},
            {"error", error},
            {"http_status", done ? std::to_string(r.status) : "null"},
            {"content_type", json_string(r.content_type)},
            {"certificate", s.fetched && r.tls.has_cert ? certificate_json(r.tls) : "null"},
            {"valid", json_bool(parsed && s.policy.valid)},
            {"invalid", json_string(parsed ? s.policy.error : "")},
            {"mode", parsed && s.policy.valid ? json_string(mta_sts::mode_word(s.policy.mode)) : "null"},
            {"max_age", parsed && s.policy.valid ? std::to_string(s.policy.max_age) : "null"},
            {"mx", strings(parsed ? s.policy.mx : std::vector<std::string>{})},
        });
    }
    return object({
        {"status", json_string(probe::status_word(s.status))},
        {"mode", s.status == probe::StsStatus::Ok ? json_string(mta_sts::mode_word(s.policy.mode)) : "null"},
        {"enforce_ready", json_bool(s.enforce_ready)},
        {"uncovered", strings(s.uncovered)},
        {"txt", object({{"lookup", lookup_json(s.txt_lookup)}, {"found", json_bool(t.found)}, {"record", json_string(t.text)},
                        {"valid", json_bool(t.record.valid)}, {"id", json_string(t.record.id)}, {"error", json_string(t.error)}})},
        {"policy", policy},
        {"problems", strings(s.problems)},
    });
}

void print_json(const DomainReport& r, int code, std::ostream& out) {
    out << "{\n  \"schema\": 1,\n  \"time\": " << json_string(utc_now()) << ",\n  \"domain\": "
        << json_string(r.target.domain) << ",\n  \"resolver\": "
        << object({{"nameservers", strings(r.nameservers)},
                    {"error", r.resolver_error.empty() ? "null" : json_string(r.resolver_error)}})
        << ",\n  \"mx\": "
        << object({{"lookup", lookup_json(r.mx_lookup)}, {"implicit", json_bool(r.implicit_mx)},
                   {"null_mx", json_bool(r.null_mx)}, {"not_probed", strings(r.hosts_not_probed)}})
        << ",\n  \"hosts\": [";
    for (std::size_t i = 0; i < r.hosts.size(); ++i) {
        out << (i ? ",\n" : "\n");
        write_host_json(r.hosts[i], out);
    }
    out << (r.hosts.empty() ? "" : "\n  ") << "],\n  \"mta_sts\": " << sts_json(r.sts) << ",\n  \"dane\": "
        << object({{"status", json_string(probe::status_word(r.dane.status))}, {"problems", strings(r.dane.problems)}})
        << ",\n  \"tls_rpt\": "
        << object({{"lookup", lookup_json(r.rpt_lookup)}, {"found", json_bool(r.rpt.found)}, {"valid", json_bool(r.rpt.valid)},
                   {"record", json_string(r.rpt.text)}, {"rua", strings(r.rpt.rua)}, {"error", json_string(r.rpt.error)}})
        << ",\n  \"exit\": " << code << "\n}\n";
}

// --- text -------------------------------------------------------------------

std::string dnssec_text(const probe::Lookup& l) { return l.dnssec ? "DNSSEC-validated" : "not DNSSEC-validated"; }

std::string lookup_text(const probe::Lookup& l) {
    std::string s(dns::status_word(l.status));
    if (!l.error.empty() && l.status != dns::Status::NxDomain) s += ": " + l.error;
    return s;
}

void print_text(const DomainReport& r, std::ostream& out) {
    out << "probe --domain " << r.target.domain;
    if (!r.nameservers.empty()) {
        out << " (resolver";
        for (const std::string& n : r.nameservers) out << " " << n;
        out << ")";
    }
    out << "\n";
    if (!r.resolver_error.empty()) {
        out << "no lookups: " << r.resolver_error << "\n";
        return;
    }
    out << "MX: ";
    if (r.mx_lookup.status == dns::Status::Answer && !r.null_mx) {
        for (std::size_t i = 0; i < r.hosts.size(); ++i) out << (i ? ", " : "") << r.hosts[i].preference << " " << r.hosts[i].name;
        out << " (" << dnssec_text(r.mx_lookup) << ")\n";
    } else if (r.implicit_mx) {
        out << "none, so the domain itself (implicit MX, RFC 5321 5.1; " << dnssec_text(r.mx_lookup) << ")\n";
    } else if (r.null_mx) {
        out << "null MX (RFC 7505): the domain accepts no mail\n";
    } else {
        out << lookup_text(r.mx_lookup) << "\n";
        return;  // nothing else was looked up
    }
    for (const std::string& h : r.hosts_not_probed) out << "  not probed (more than " << r.target.max_hosts << " hosts): " << h << "\n";
    for (const MxHost& h : r.hosts) {
        out << "\nMX host " << h.name;
        if (!h.addresses.empty()) {
            out << " [";
            for (std::size_t i = 0; i < h.addresses.size(); ++i) out << (i ? " " : "") << h.addresses[i];
            out << "] (addresses " << (h.addresses_secure ? "DNSSEC-validated" : "not DNSSEC-validated") << ")";
        }
        out << "\n";
        if (h.addresses.empty()) {
            out << "  no address:";
            for (const probe::Lookup& l : h.address_lookups) out << " " << l.type << " " << lookup_text(l) << ";";
            out << "\n";
        }
        if (h.probed) write_host_text(h.probe, out, "  ");
        out << "  TLSA " << h.tlsa.name << ": ";
        if (h.tlsa.records.empty()) out << lookup_text(h.tlsa.lookup) << "\n";
        else {
            out << dnssec_text(h.tlsa.lookup) << "\n";
            for (const TlsaRecord& t : h.tlsa.records) out << "    " << tlsa_text(t) << "\n";
        }
        const probe::TlsSession* t = h.session();
        if (h.tlsa.usable && t && t->dane_checked)
            out << "  DANE: " << (t->dane_matched ? "the certificate matches " + t->dane_record : "no match: " + t->dane_error) << "\n";
        else if (!h.tlsa.why_not.empty())
            out << "  DANE: does not apply: " << h.tlsa.why_not << "\n";
        if (r.sts.policy.valid) out << "  MTA-STS policy covers it: " << (h.sts_covered ? "yes" : "no") << "\n";
    }
    const probe::StsFacts& s = r.sts;
    out << "\nMTA-STS: " << probe::status_word(s.status);
    if (s.policy.valid) out << ", mode " << mta_sts::mode_word(s.policy.mode) << ", max_age " << s.policy.max_age;
    out << "\n";
    if (s.txt.found) out << "  TXT _mta-sts." << r.target.domain << ": " << s.txt.text << "\n";
    if (s.fetched) {
        const probe::HttpsResponse& h = s.response;
        out << "  policy " << s.url << " (" << s.address << "): ";
        if (h.stopped != probe::HttpsResponse::Done) out << probe::step_name(h.stopped) << ": " << h.error.text << "\n";
        else out << h.status_line << ", " << (h.content_type.empty() ? "no content type" : h.content_type) << "\n";
        if (h.tls.has_cert)
            out << "  policy certificate: " << h.tls.subject << ", not after " << h.tls.not_after << ", verifies: "
                << (h.tls.verified ? "yes" : "no (" + h.tls.verify_error + ")") << ", names mta-sts." << r.target.domain
                << ": " << (h.tls.name_matches ? "yes" : "no") << "\n";
        if (s.policy.valid) {
            out << "  mx patterns:";
            for (const std::string& m : s.policy.mx) out << " " << m;
            out << "\n";
        }
    }
    if (s.status != probe::StsStatus::None)
        out << "  an enforcing sender can deliver to every MX host: " << (s.enforce_ready ? "yes" : "no") << "\n";
    for (const std::string& p : s.problems) out << "  problem: " << p << "\n";
    out << "\nDANE: " << probe::status_word(r.dane.status) << "\n";
    for (const std::string& p : r.dane.problems) out << "  problem: " << p << "\n";
    out << "\nTLS-RPT: ";
    if (r.rpt.valid) {
        out << "reports to";
        for (const std::string& u : r.rpt.rua) out << " " << u;
        out << "\n";
    } else {
        out << (r.rpt.found ? "invalid: " : "none: ") << r.rpt.error << "\n";
    }
}

int exit_code(const DomainReport& r) {
    if (std::none_of(r.hosts.begin(), r.hosts.end(), [](const MxHost& h) { return h.probed; })) return kProbeNoMailHost;
    for (const MxHost& h : r.hosts) {
        const int c = h.probed ? host_exit_code(h.probe) : kProbeConnectFailed;  // no address: no connection
        if (c != 0) return c;  // the most preferred host that fails decides
    }
    return 0;
}

}  // namespace

int probe_domain_command(const ProbeOptions& o, std::ostream& out, std::ostream& err) {
    probe::DomainTarget target;
    std::string why;
    target.domain = domain_name(o.domain, why);
    if (target.domain.empty()) {
        err << "probe: --domain '" << o.domain << "' is not a mail domain: " << why << "\n";
        return 2;
    }
    target.step_timeout_ms = o.timeout * 1000;
    target.helo = o.helo;
    const DomainReport report = probe::run_domain(target);
    const int code = exit_code(report);
    if (o.format == "json")
        print_json(report, code, out);
    else
        print_text(report, out);
    return code;
}

}  // namespace tlspolicy
