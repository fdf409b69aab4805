// SMTP TLS Reporting (RFC 8460): the _smtp._tls TXT record that says where a
// domain wants reports of failed TLS sessions sent. Pure parsing, no I/O.
#pragma once
#include <string>
#include <vector>

namespace tlspolicy::tls_rpt {

struct Record {
    bool found = false;             // a record beginning with v=TLSRPTv1 exists
    bool valid = false;
    std::string text;               // the record as published
    std::vector<std::string> rua;   // mailto: and https: URIs, in order
    std::string error;              // why there is no usable record
};

// From the TXT answer (each record's strings joined): records not beginning
// with "v=TLSRPTv1" are discarded; exactly one must be left (RFC 8460 3).
Record choose(const std::vector<std::string>& records);

}  // namespace tlspolicy::tls_rpt
