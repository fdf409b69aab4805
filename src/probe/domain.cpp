// The order of `probe --domain`: MX, then MTA-STS's TXT record and policy,
// TLS-RPT, then per MX host its addresses, TLSA records and the STARTTLS
// probe (with the TLSA records when DANE applies), then the verdicts that
// need all of it: which hosts the policy covers, DANE for the domain.
#include "probe/domain.hpp"

#include <algorithm>

namespace tlspolicy::probe {
namespace {

constexpr std::size_t kPolicyLimit = 64 * 1024;  // RFC 8461 3.3 suggests senders stop there

template <class T>
Lookup lookup_of(const std::string& name, std::string type, const dns::Answer<T>& a) {
    return {name, std::move(type), a.status, a.authenticated, a.error};
}

struct Lookups {
    dns::Resolver& resolver;
    const DomainTarget& target;
    Clock::time_point step() const { return Clock::now() + std::chrono::milliseconds(target.step_timeout_ms); }

    // A and AAAA of `host`; secure when both answers carry the AD bit.
    std::vector<std::string> addresses(const std::string& host, std::vector<Lookup>& lookups, bool& secure) {
        dns::Answer<std::string> v4 = resolver.a(host, step());
        lookups.push_back(lookup_of(host, "A", v4));
        std::vector<std::string> out = v4.records;
        secure = v4.ok() && v4.authenticated;
        if (v4.status == dns::Status::Timeout) return secure = false, out;  // the same resolver will not do better
        dns::Answer<std::string> v6 = resolver.aaaa(host, step());
        lookups.push_back(lookup_of(host, "AAAA", v6));
        out.insert(out.end(), v6.records.begin(), v6.records.end());
        secure = secure && v6.ok() && v6.authenticated;
        return out;
    }
};

void look_up_tlsa(Lookups& dns, MxHost& h, bool mx_secure) {
    TlsaFacts& f = h.tlsa;
    f.name = "_25._tcp." + h.name;
    dns::Answer<TlsaRecord> a = dns.resolver.tlsa(f.name, dns.step());
    f.lookup = lookup_of(f.name, "TLSA", a);
    f.records = a.records;
    if (!a.ok()) {
        f.why_not = "the TLSA lookup failed (" + a.error + "); RFC 7672 2.2 has a DANE sender defer the mail then";
        return;
    }
    if (f.records.empty()) return;
    if (!a.authenticated)
        f.why_not = "the TLSA records are not DNSSEC-validated (no AD bit from the resolver: an unsigned zone, "
                    "or a resolver that does not validate)";
    else if (!mx_secure)
        f.why_not = "the MX answer is not DNSSEC-validated, so the host name itself could be forged (RFC 7672 2.2.1)";
    else if (!h.addresses_secure)
        f.why_not = "the host's address records are not DNSSEC-validated (RFC 7672 2.2.2)";
    else if (std::none_of(f.records.begin(), f.records.end(), usable_for_smtp))
        f.why_not = "no record is usable for SMTP: usage 2 or 3, selector 0 or 1, matching type 0, 1 or 2 "
                    "with a digest of the right length (RFC 7672 3.1.3)";
    else
        f.usable = true;
}

void look_up_sts(Lookups& dns, const std::string& domain, StsFacts& s) {
    const std::string txt_name = "_mta-sts." + domain;
    dns::Answer<std::string> txt = dns.resolver.txt(txt_name, dns.step());
    s.txt_lookup = lookup_of(txt_name, "TXT", txt);
    if (!txt.ok()) {
        s.status = StsStatus::LookupFailed;
        s.problems.push_back("the TXT lookup of " + txt_name + " failed: " + txt.error);
        return;
    }
    s.txt = mta_sts::choose_txt(txt.records);
    if (!s.txt.found) return;  // no MTA-STS: not a problem
    if (!s.txt.record.valid) {
        s.status = StsStatus::InvalidTxt;
        s.problems.push_back(txt_name + ": " + s.txt.error + "; senders then assume no policy (RFC 8461 3.1)");
        return;
    }
    const std::string host = "mta-sts." + domain;
    s.url = "https://" + host + "/.well-known/mta-sts.txt";
    bool secure = false;
    const std::vector<std::string> addresses = dns.addresses(host, s.address_lookups, secure);
    if (addresses.empty()) {
        s.status = StsStatus::FetchFailed;
        const Lookup& l = s.address_lookups.front();
        s.problems.push_back("the TXT record announces a policy, but " + host + " has no address (" +
                             std::string(dns::status_word(l.status)) + (l.error.empty() ? "" : ": " + l.error) + ")");
        return;
    }
    // The connect, handshake, request and response each get a step.
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(4 * dns.target.step_timeout_ms);
    for (const std::string& a : addresses) {
        s.address = a;
        s.response = https_get(host, a, "/.well-known/mta-sts.txt", kPolicyLimit, dns.target.step_timeout_ms, deadline);
        if (s.response.stopped != HttpsResponse::Connect) break;
    }
    s.fetched = true;
    const HttpsResponse& r = s.response;
    if (r.stopped != HttpsResponse::Done) {
        s.status = StsStatus::FetchFailed;
        s.problems.push_back("the TXT record announces a policy, but " + s.url + " could not be fetched (" +
                             std::string(step_name(r.stopped)) + ": " + r.error.text + ")");
        return;
    }
    if (!r.tls.verified) {
        s.status = StsStatus::Certificate;
        s.problems.push_back("the certificate of " + host + " does not verify (" + r.tls.verify_error +
                             "): senders treat the policy as not fetched (RFC 8461 3.3)");
    } else if (!r.tls.name_matches) {
        s.status = StsStatus::Certificate;
        s.problems.push_back("the certificate of " + host + " does not name " + host +
                             ": senders treat the policy as not fetched (RFC 8461 3.3)");
    }
    if (r.status != 200) {
        if (s.status == StsStatus::None) s.status = StsStatus::HttpStatus;
        s.problems.push_back(s.url + " answered '" + r.status_line + "'; only 200 counts, redirects are not followed (RFC 8461 3.3)");
        return;
    }
    if (r.content_type.rfind("text/plain", 0) != 0)
        s.problems.push_back(s.url + " is served as '" + r.content_type + "', not text/plain (RFC 8461 3.2)");
    s.policy = mta_sts::parse_policy(r.body);
    if (!s.policy.valid) {
        if (s.status == StsStatus::None) s.status = StsStatus::InvalidPolicy;
        s.problems.push_back("the policy at " + s.url + " is not valid: " + s.policy.error);
    }
    for (const std::string& w : s.policy.warnings) s.problems.push_back("the policy: " + w);
    if (s.status == StsStatus::None) s.status = StsStatus::Ok;
}

// Which MX hosts the policy covers and whether an enforcing sender would
// deliver to each (RFC 8461 4.1, 4.2).
void judge_sts(DomainReport& r) {
    StsFacts& s = r.sts;
    if (!s.policy.valid) return;
    bool every_host_ok = !r.hosts.empty();
    for (MxHost& h : r.hosts) {
        h.sts_covered = mta_sts::mx_covered(s.policy.mx, h.name);
        if (!h.sts_covered) {
            s.uncovered.push_back(h.name);
            every_host_ok = false;
            if (s.policy.mode != mta_sts::Mode::None)
                s.problems.push_back("MX host " + h.name + " is not covered by the policy's mx patterns: an enforcing "
                                     "sender does not deliver there (RFC 8461 4.1)");
            continue;
        }
        const TlsSession* t = h.session();
        if (s.policy.mode == mta_sts::Mode::None) continue;
        if (!t) {
            every_host_ok = false;
            s.problems.push_back("MX host " + h.name + " accepted no TLS session, which the policy requires");
        } else if (!t->verified || !t->name_matches) {
            every_host_ok = false;
            s.problems.push_back("MX host " + h.name + "'s certificate " +
                                 (!t->verified ? "does not verify (" + t->verify_error + ")" : "does not name " + h.name) +
                                 ": an enforcing sender does not deliver there (RFC 8461 4.2)");
        }
    }
    s.enforce_ready = s.status == StsStatus::Ok && s.policy.mode == mta_sts::Mode::Enforce && every_host_ok;
}

void judge_dane(DomainReport& r) {
    DaneFacts& d = r.dane;
    bool any_records = false, any_usable = false, any_insecure = false, all_usable_matched = true, all_usable = true;
    for (const MxHost& h : r.hosts) {
        const TlsaFacts& f = h.tlsa;
        if (!f.lookup.name.empty() && !(f.lookup.status == dns::Status::Answer || f.lookup.status == dns::Status::NoData ||
                                        f.lookup.status == dns::Status::NxDomain)) {
            d.status = DaneStatus::Error;
            d.problems.push_back(h.name + ": " + f.why_not);
            continue;
        }
        any_records |= !f.records.empty();
        if (!f.usable) {
            all_usable = false;
            if (!f.records.empty()) {
                any_insecure |= !f.lookup.dnssec;
                d.problems.push_back(h.name + ": TLSA records not used: " + f.why_not);
            }
            continue;
        }
        any_usable = true;
        const TlsSession* t = h.session();
        if (!t) {
            all_usable_matched = false;
            d.problems.push_back(h.name + ": DANE applies, but no TLS session could be checked against its TLSA records");
        } else if (!t->dane_matched) {
            all_usable_matched = false;
            d.problems.push_back(h.name + ": the presented certificate matches none of its TLSA records (" + t->dane_error +
                                 "); a DANE sender does not deliver there (RFC 7672 3)");
        }
    }
    if (d.status == DaneStatus::Error) return;
    if (!any_records) d.status = DaneStatus::None;
    else if (!any_usable) d.status = any_insecure ? DaneStatus::Insecure : DaneStatus::Unusable;
    else if (!all_usable_matched) d.status = DaneStatus::Mismatch;
    else if (!all_usable) d.status = DaneStatus::Partial;
    else d.status = DaneStatus::Ok;
}

MxHost mx_host(const std::string& name, int preference) {
    MxHost h;
    h.name = name, h.preference = preference;
    return h;
}

}  // namespace

const TlsSession* MxHost::session() const {
    if (!probed) return nullptr;
    for (auto it = probe.attempts.rbegin(); it != probe.attempts.rend(); ++it)
        if (it->accepted) return &it->tls;
    return nullptr;
}

std::string_view status_word(StsStatus s) {
    switch (s) {
        case StsStatus::Ok: return "ok";
        case StsStatus::None: return "none";
        case StsStatus::LookupFailed: return "lookup_failed";
        case StsStatus::InvalidTxt: return "invalid_txt";
        case StsStatus::FetchFailed: return "fetch_failed";
        case StsStatus::Certificate: return "certificate";
        case StsStatus::HttpStatus: return "http_status";
        case StsStatus::InvalidPolicy: return "invalid_policy";
    }
    return "?";
}

std::string_view status_word(DaneStatus s) {
    switch (s) {
        case DaneStatus::Ok: return "ok";
        case DaneStatus::Partial: return "partial";
        case DaneStatus::Mismatch: return "mismatch";
        case DaneStatus::Insecure: return "insecure";
        case DaneStatus::Unusable: return "unusable";
        case DaneStatus::None: return "none";
        case DaneStatus::Error: return "error";
    }
    return "?";
}

DomainReport run_domain(const DomainTarget& target) {
    DomainReport r;
    r.target = target;
    std::unique_ptr<dns::Resolver> resolver = dns::Resolver::from_file(target.resolv_conf, r.resolver_error);
    if (!resolver) return r;
    r.nameservers = resolver->nameservers();
    Lookups dns{*resolver, target};
    dns::Answer<dns::MxRecord> mx = resolver->mx(target.domain, dns.step());
    r.mx_lookup = lookup_of(target.domain, "MX", mx);
    if (mx.status == dns::Status::Timeout) return r;  // a resolver that does not answer: no more waiting on it
    if (mx.status == dns::Status::Answer) {
        std::stable_sort(mx.records.begin(), mx.records.end(),
                         [](const dns::MxRecord& a, const dns::MxRecord& b) { return a.preference < b.preference; });
        r.null_mx = mx.records.size() == 1 && mx.records.front().host.empty();
        for (const dns::MxRecord& m : mx.records) {
            if (m.host.empty()) continue;
            if (r.hosts.size() >= target.max_hosts) {
                r.hosts_not_probed.push_back(m.host);
                continue;
            }
            if (std::none_of(r.hosts.begin(), r.hosts.end(), [&](const MxHost& h) { return h.name == m.host; }))
                r.hosts.push_back(mx_host(m.host, m.preference));
        }
    } else if (mx.status == dns::Status::NoData) {
        r.implicit_mx = true;  // RFC 5321 5.1: the domain is its own mail host
        r.hosts.push_back(mx_host(target.domain, 0));
    }
    if (mx.status == dns::Status::NxDomain || !mx.ok()) return r;
    look_up_sts(dns, target.domain, r.sts);
    const std::string rpt_name = "_smtp._tls." + target.domain;
    dns::Answer<std::string> rpt = resolver->txt(rpt_name, dns.step());
    r.rpt_lookup = lookup_of(rpt_name, "TXT", rpt);
    if (rpt.ok()) r.rpt = tls_rpt::choose(rpt.records);
    else r.rpt.error = "the TXT lookup failed: " + rpt.error;
    const bool mx_secure = mx.authenticated;
    for (MxHost& h : r.hosts) {
        h.addresses = dns.addresses(h.name, h.address_lookups, h.addresses_secure);
        look_up_tlsa(dns, h, mx_secure);
        if (h.addresses.empty()) continue;
        Target t;
        t.host = h.name;
        t.address = h.addresses.front();
        t.step_timeout_ms = target.step_timeout_ms;
        t.total_timeout_ms = target.step_timeout_ms * 12;
        t.helo = target.helo;
        if (h.tlsa.usable) t.tlsa = h.tlsa.records;
        h.probe = run(t);
        h.probed = true;
    }
    judge_sts(r);
    judge_dane(r);
    return r;
}

DomainSecurity security_of(const DomainReport& r, std::string probed_at) {
    DomainSecurity d;
    d.probed_at = std::move(probed_at);
    if (std::none_of(r.hosts.begin(), r.hosts.end(), [](const MxHost& h) { return h.probed; })) {
        d.why_not.push_back("no MX host could be probed: " +
                            (r.resolver_error.empty() ? std::string(dns::status_word(r.mx_lookup.status)) : r.resolver_error));
        return d;
    }
    d.dane = r.dane.status == DaneStatus::Ok;
    d.mta_sts_enforce = r.sts.enforce_ready;
    if (d.mta_sts_enforce) d.mx_patterns = r.sts.policy.mx;
    std::string dane = "DANE " + std::string(status_word(r.dane.status));
    if (!r.dane.problems.empty()) dane += ": " + r.dane.problems.front();
    std::string sts = "MTA-STS " + std::string(status_word(r.sts.status));
    if (r.sts.status == StsStatus::Ok) sts += ", mode " + std::string(mta_sts::mode_word(r.sts.policy.mode));
    if (!r.sts.problems.empty()) sts += ": " + r.sts.problems.front();
    d.why_not = {dane, sts};
    return d;
}

}  // namespace tlspolicy::probe
