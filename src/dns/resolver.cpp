// The resolver behind src/dns/resolver.hpp: ldns as a stub resolver that asks
// the nameservers of resolv.conf with the DO bit set, falls back to TCP for
// truncated answers, and reads the AD bit of what comes back.
#include "dns/resolver.hpp"

#include <arpa/inet.h>

// Not <ldns/ldns.h>: its DNSSEC parts pull in OpenSSL's headers, which live
// in src/tls/ only (tests/include-rooms).
#include <ldns/dname.h>
#include <ldns/error.h>
#include <ldns/packet.h>
#include <ldns/rdata.h>
#include <ldns/resolver.h>
#include <ldns/rr.h>

#include <algorithm>
#include <cctype>

namespace tlspolicy::dns {
namespace {

constexpr std::size_t kMaxNameservers = 3;  // as glibc's resolver: the rest are never asked
constexpr int kTriesEach = 2;

// An address rdf (A or AAAA, as resolv.conf's nameservers are kept) as text.
std::string address_text(const ldns_rdf* rdf) {
    char text[INET6_ADDRSTRLEN] = "";
    if (ldns_rdf_size(rdf) == 4) inet_ntop(AF_INET, ldns_rdf_data(rdf), text, sizeof text);
    if (ldns_rdf_size(rdf) == 16) inet_ntop(AF_INET6, ldns_rdf_data(rdf), text, sizeof text);
    return text;
}

// A domain name rdf (length-prefixed labels) as "mx1.example.com", lower
// case, without the root's dot; a byte that is not a host name's is escaped
// so that it cannot pass for one. ldns's own printer lives beside its
// OpenSSL parts (ldns/host2str.h).
std::string host_name(const ldns_rdf* rdf) {
    static const char* hex = "0123456789abcdef";
    const std::uint8_t* d = ldns_rdf_data(rdf);
    const std::size_t size = ldns_rdf_size(rdf);
    std::string out;
    for (std::size_t i = 0; i < size && d[i] != 0;) {
        const std::size_t len = d[i++];
        if (!out.empty()) out += '.';
        for (std::size_t k = 0; k < len && i < size; ++k, ++i) {
            const unsigned char c = d[i];
            if (std::isalnum(c) || c == '-' || c == '_') out += static_cast<char>(std::tolower(c));
            else out += "\\x", out += hex[c >> 4], out += hex[c & 15];
        }
    }
    return out;
}

// The first byte of a small integer field (TLSA's usage, selector, type).
std::uint8_t byte_of(const ldns_rdf* rdf) { return ldns_rdf_size(rdf) >= 1 ? ldns_rdf_data(rdf)[0] : 0; }

struct PacketOwner {
    ldns_pkt* p = nullptr;
    ~PacketOwner() { ldns_pkt_free(p); }
};

}  // namespace

std::string_view status_word(Status s) {
    switch (s) {
        case Status::Answer: return "answer";
        case Status::NoData: return "nodata";
        case Status::NxDomain: return "nxdomain";
        case Status::ServFail: return "servfail";
        case Status::Refused: return "refused";
        case Status::Timeout: return "timeout";
        case Status::Error: return "error";
    }
    return "?";
}

struct Resolver::Impl {
    ldns_resolver* res = nullptr;
    ~Impl() {
        if (res) ldns_resolver_deep_free(res);
    }

    // Sends one question; fills `out` with status, AD bit and the answer
    // section's records of `type` handed to `each`.
    template <class T, class Each>
    Answer<T> ask(const std::string& name, ldns_rr_type type, Clock::time_point deadline, Each each) {
        Answer<T> out;
        const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
        const std::size_t servers = std::max<std::size_t>(1, ldns_resolver_nameserver_count(res));
        if (left <= 0) {
            out.status = Status::Timeout, out.error = "no time left for this lookup";
            return out;
        }
        const long long per_try = std::max(1000LL, left / static_cast<long long>(servers * kTriesEach));
        timeval tv{static_cast<time_t>(per_try / 1000000), static_cast<suseconds_t>(per_try % 1000000)};
        ldns_resolver_set_timeout(res, tv);
        const std::string absolute = name.empty() || name.back() != '.' ? name + "." : name;
        ldns_rdf* qname = ldns_dname_new_frm_str(absolute.c_str());
        if (!qname) {
            out.error = "'" + name + "' is not a domain name";
            return out;
        }
        PacketOwner pkt;
        const ldns_status st = ldns_resolver_send(&pkt.p, res, qname, type, LDNS_RR_CLASS_IN, LDNS_RD);
        ldns_rdf_deep_free(qname);
        if (st != LDNS_STATUS_OK || !pkt.p) {
            const bool timeout = st == LDNS_STATUS_NETWORK_ERR || st == LDNS_STATUS_RES_NO_NS || Clock::now() >= deadline;
            out.status = timeout ? Status::Timeout : Status::Error;
            out.error = timeout ? "no answer from the resolver (" + std::string(ldns_get_errorstr_by_id(st)) + ")"
                                : ldns_get_errorstr_by_id(st);
            return out;
        }
        out.authenticated = ldns_pkt_ad(pkt.p);
        switch (ldns_pkt_get_rcode(pkt.p)) {
            case LDNS_RCODE_NOERROR: break;
            case LDNS_RCODE_NXDOMAIN: out.status = Status::NxDomain, out.error = "no such domain"; return out;
            case LDNS_RCODE_SERVFAIL:
                out.status = Status::ServFail;
                out.error = "the resolver failed (SERVFAIL: a validating resolver says so for a DNSSEC failure too)";
                return out;
            case LDNS_RCODE_REFUSED: out.status = Status::Refused, out.error = "the resolver refused the query"; return out;
            default: out.error = "the resolver answered with rcode " + std::to_string(ldns_pkt_get_rcode(pkt.p)); return out;
        }
        if (ldns_rr_list* rrs = ldns_pkt_rr_list_by_type(pkt.p, type, LDNS_SECTION_ANSWER)) {
            for (std::size_t i = 0; i < ldns_rr_list_rr_count(rrs); ++i) each(ldns_rr_list_rr(rrs, i), out.records);
            ldns_rr_list_deep_free(rrs);
        }
        out.status = out.records.empty() ? Status::NoData : Status::Answer;
        return out;
    }
};

Resolver::Resolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Resolver::~Resolver() = default;

std::unique_ptr<Resolver> Resolver::from_file(const std::string& path, std::string& error) {
    auto impl = std::make_unique<Impl>();
    const ldns_status st = ldns_resolver_new_frm_file(&impl->res, path.c_str());
    if (st != LDNS_STATUS_OK || !impl->res) {
        error = "cannot use " + path + ": " + ldns_get_errorstr_by_id(st);
        impl->res = nullptr;
        return nullptr;
    }
    while (ldns_resolver_nameserver_count(impl->res) > kMaxNameservers)
        ldns_rdf_deep_free(ldns_resolver_pop_nameserver(impl->res));
    if (ldns_resolver_nameserver_count(impl->res) == 0) {
        error = path + " names no nameserver";
        return nullptr;
    }
    ldns_resolver* r = impl->res;
    ldns_resolver_set_recursive(r, true);
    ldns_resolver_set_dnssec(r, true);  // DO: a validating resolver then says AD
    ldns_resolver_set_edns_udp_size(r, 1232);
    ldns_resolver_set_fallback(r, true);  // truncated over UDP: ask again over TCP
    ldns_resolver_set_retry(r, kTriesEach);
    ldns_resolver_set_retrans(r, 0);  // no sleeping between tries: the deadline is ours
    ldns_resolver_set_defnames(r, false);
    ldns_resolver_set_dnsrch(r, false);
    ldns_resolver_set_random(r, false);  // in resolv.conf's order, as glibc asks them
    return std::unique_ptr<Resolver>(new Resolver(std::move(impl)));
}

std::vector<std::string> Resolver::nameservers() const {
    std::vector<std::string> out;
    ldns_rdf** ns = ldns_resolver_nameservers(impl_->res);
    for (std::size_t i = 0; i < ldns_resolver_nameserver_count(impl_->res); ++i) out.push_back(address_text(ns[i]));
    return out;
}

Answer<MxRecord> Resolver::mx(const std::string& name, Clock::time_point deadline) {
    return impl_->ask<MxRecord>(name, LDNS_RR_TYPE_MX, deadline, [](ldns_rr* rr, std::vector<MxRecord>& out) {
        if (ldns_rr_rd_count(rr) < 2) return;
        out.push_back({ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)), host_name(ldns_rr_rdf(rr, 1))});
    });
}

Answer<std::string> Resolver::txt(const std::string& name, Clock::time_point deadline) {
    return impl_->ask<std::string>(name, LDNS_RR_TYPE_TXT, deadline, [](ldns_rr* rr, std::vector<std::string>& out) {
        std::string joined;  // a TXT record's character-strings, each a length byte and its bytes
        for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
            const ldns_rdf* f = ldns_rr_rdf(rr, i);
            const std::size_t size = ldns_rdf_size(f);
            if (size < 1) continue;
            const std::uint8_t* d = ldns_rdf_data(f);
            joined.append(reinterpret_cast<const char*>(d + 1), std::min<std::size_t>(d[0], size - 1));
        }
        out.push_back(std::move(joined));
    });
}

Answer<TlsaRecord> Resolver::tlsa(const std::string& name, Clock::time_point deadline) {
    return impl_->ask<TlsaRecord>(name, LDNS_RR_TYPE_TLSA, deadline, [](ldns_rr* rr, std::vector<TlsaRecord>& out) {
        if (ldns_rr_rd_count(rr) < 4) return;
        TlsaRecord t;
        t.usage = byte_of(ldns_rr_rdf(rr, 0));
        t.selector = byte_of(ldns_rr_rdf(rr, 1));
        t.mtype = byte_of(ldns_rr_rdf(rr, 2));
        const ldns_rdf* data = ldns_rr_rdf(rr, 3);
        t.data.assign(reinterpret_cast<const char*>(ldns_rdf_data(data)), ldns_rdf_size(data));
        out.push_back(std::move(t));
    });
}

Answer<std::string> Resolver::a(const std::string& name, Clock::time_point deadline) {
    return impl_->ask<std::string>(name, LDNS_RR_TYPE_A, deadline, [](ldns_rr* rr, std::vector<std::string>& out) {
        const ldns_rdf* f = ldns_rr_rdf(rr, 0);
        char text[INET_ADDRSTRLEN];
        if (f && ldns_rdf_size(f) == 4 && inet_ntop(AF_INET, ldns_rdf_data(f), text, sizeof text)) out.emplace_back(text);
    });
}

Answer<std::string> Resolver::aaaa(const std::string& name, Clock::time_point deadline) {
    return impl_->ask<std::string>(name, LDNS_RR_TYPE_AAAA, deadline, [](ldns_rr* rr, std::vector<std::string>& out) {
        const ldns_rdf* f = ldns_rr_rdf(rr, 0);
        char text[INET6_ADDRSTRLEN];
        if (f && ldns_rdf_size(f) == 16 && inet_ntop(AF_INET6, ldns_rdf_data(f), text, sizeof text)) out.emplace_back(text);
    });
}

}  // namespace tlspolicy::dns
