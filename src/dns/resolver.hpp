// DNS lookups for `probe --domain`: MX, TXT, TLSA and address records through
// the system's resolver (/etc/resolv.conf), each bounded by a deadline, with
// the resolver's AD bit. ldns stays in src/dns/resolver.cpp; callers see values.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/tlsa.hpp"

namespace tlspolicy::dns {

using Clock = std::chrono::steady_clock;

// How a lookup ended. NoData: the name exists, without records of the type.
enum class Status { Answer, NoData, NxDomain, ServFail, Refused, Timeout, Error };
std::string_view status_word(Status s);  // "answer", "nodata", "nxdomain", ...

template <class T>
struct Answer {
    Status status = Status::Error;
    // The resolver set the AD bit: it validated the answer with DNSSEC
    // (RFC 4035 3.2.3). Trusted as Postfix trusts it; see tlspolicy-milter(8).
    bool authenticated = false;
    std::string error;  // for Timeout and Error, and the rcode's meaning otherwise
    std::vector<T> records;
    bool ok() const { return status == Status::Answer || status == Status::NoData || status == Status::NxDomain; }
};

struct MxRecord {
    int preference = 0;
    std::string host;  // lower case, without the trailing dot ("" for a null MX ".")
};

class Resolver {
public:
    // The nameservers of a resolv.conf file (the system's: /etc/resolv.conf);
    // null with `error` set when it names none or cannot be read.
    static std::unique_ptr<Resolver> from_file(const std::string& path, std::string& error);
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // Every lookup ends by `deadline`: the time left is shared among the
    // nameservers and two tries each.
    Answer<MxRecord> mx(const std::string& name, Clock::time_point deadline);
    Answer<std::string> txt(const std::string& name, Clock::time_point deadline);  // each record's strings joined
    Answer<TlsaRecord> tlsa(const std::string& name, Clock::time_point deadline);
    Answer<std::string> a(const std::string& name, Clock::time_point deadline);     // "192.0.2.1"
    Answer<std::string> aaaa(const std::string& name, Clock::time_point deadline);  // "2001:db8::1"

    std::vector<std::string> nameservers() const;  // as resolv.conf names them

private:
    struct Impl;
    explicit Resolver(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace tlspolicy::dns
