// Checks of a policy beyond each value's type and syntax (policy_checks.hpp).
#include "config/policy_checks.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "config/schema.hpp"
#include "core/text.hpp"
#include "store/database_url.hpp"
#include "store/spool_claim.hpp"

namespace tlspolicy {
namespace {

struct Reserved {
    std::string_view name;  // "Content-*": every name with that prefix
    std::string_view what;
    bool matches(std::string_view header) const {
        if (!name.ends_with('*')) return iequals(header, name);
        const std::string_view prefix = name.substr(0, name.size() - 1);
        return header.size() > prefix.size() && iequals(header.substr(0, prefix.size()), prefix);
    }
};

// Fields whose meaning belongs to the author, the MTAs on the way or a
// signature over them. Our header is inserted at the top and, with
// strip_forged, same-named headers that begin with our authserv-id are removed:
// with one of these names that would forge or delete them (RFC 5322 3.6,
// RFC 2045, RFC 6376, RFC 8601, RFC 8617, RFC 7208).
constexpr std::array kReserved{
    Reserved{"Date", "an RFC 5322 origination date field"},
    Reserved{"From", "an RFC 5322 originator field"},
    Reserved{"Sender", "an RFC 5322 originator field"},
    Reserved{"Reply-To", "an RFC 5322 originator field"},
    Reserved{"To", "an RFC 5322 destination field"},
    Reserved{"Cc", "an RFC 5322 destination field"},
    Reserved{"Bcc", "an RFC 5322 destination field"},
    Reserved{"Message-ID", "an RFC 5322 identification field"},
    Reserved{"In-Reply-To", "an RFC 5322 identification field"},
    Reserved{"References", "an RFC 5322 identification field"},
    Reserved{"Subject", "an RFC 5322 informational field"},
    Reserved{"Comments", "an RFC 5322 informational field"},
    Reserved{"Keywords", "an RFC 5322 informational field"},
    Reserved{"Resent-*", "an RFC 5322 resent field"},
    Reserved{"Return-Path", "an RFC 5322 trace field"},
    Reserved{"Received", "an RFC 5322 trace field"},
    Reserved{"Received-SPF", "a trace field (RFC 7208)"},
    Reserved{"Delivered-To", "a trace field"},
    Reserved{"MIME-Version", "a MIME field"},
    Reserved{"Content-*", "a MIME field"},
    Reserved{"DKIM-Signature", "a signature field (RFC 6376)"},
    Reserved{"DomainKey-Signature", "a signature field"},
    Reserved{"ARC-*", "an ARC field (RFC 8617)"},
    Reserved{"Authentication-Results", "the authentication results field (RFC 8601), which other filters on this host write"},
};

bool user_exists(const std::string& name, bool* known) {
    long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::string buf(size > 0 ? static_cast<std::size_t>(size) : 16384, '\0');
    passwd pw{};
    passwd* found = nullptr;
    int rc;
    while ((rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE && buf.size() < (1u << 20))
        buf.resize(buf.size() * 2);
    // An error (NSS unreachable) says nothing about the user: no warning then.
    *known = rc == 0;
    return found != nullptr;
}

}  // namespace

std::string header_name_problem(std::string_view name) {
    const std::string quoted = "'" + std::string(name) + "'";
    // RFC 5322 2.2: printable US-ASCII except ':'.
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < 0x7f && c != ':'; }))
        return "header name " + quoted + " is not a header field name (printable ASCII, no spaces or ':')";
    for (const Reserved& r : kReserved)
        if (r.matches(name))
            return "header name " + quoted + " is " + std::string(r.what) +
                   ": the milter would add its own and, with strip_forged, remove others; "
                   "choose a name of its own, such as \"X-Transport-Security\"";
    return {};
}

std::string plaintext_passes_warning(const Rule& r) {
    // Not [defaults]: it covers every other sender, and requiring TLS of
    // everyone breaks RFC 3207 on a public MX; refusing old TLS but not
    // plaintext there is a known choice (conf/examples/legacy-partner.toml).
    // A certificate requirement refuses plaintext by itself.
    if (r.kind == RuleKind::Defaults || r.req.require_tls || r.req.require_client_cert ||
        (r.action != Action::Reject && r.action != Action::Tempfail))
        return {};
    std::vector<std::string_view> set;  // the TLS-only requirements the rule has, in schema order
    for (const KeyDecl& k : schema())
        if (k.in(Section::Defaults) && k.role == KeyRole::TlsRequirement && !k.show_rule(r).empty())
            set.push_back(k.key);
    if (set.empty()) return {};
    std::string keys;
    for (std::size_t i = 0; i < set.size(); ++i)
        keys += (i == 0 ? "" : i + 1 == set.size() ? " and " : ", ") + std::string(set[i]);
    const std::string rule = (r.kind == RuleKind::Partner ? "partner '" : "recipient '") + r.name + "'";
    return rule + " has " + keys + " but not require_tls: " +
           (set.size() == 1 ? "it applies" : "they apply") + " to TLS sessions only, so plaintext passes and is not " +
           (r.action == Action::Reject ? "rejected" : "tempfailed") + "; add require_tls = true to refuse plaintext too";
}

std::vector<Diagnostic> host_warnings(const Config& config) {
    std::vector<Diagnostic> out;
    const std::string& user = config.milter.user;
    bool known = false;
    if (!user.empty() && !user_exists(user, &known) && known)
        out.push_back({config.path, config.milter.user_line, config.milter.user_column,
                       "user '" + user + "' does not exist on this host: the milter would not start; create it "
                       "(useradd --system " + user + ") or correct the name",
                       true});
    return out;
}

std::vector<Diagnostic> host_errors(const Config& config) {
    const ObservationSettings& o = config.observations;
    if (!is_postgres_url(o.database)) return {};
    std::string why = spool_problem(o.spool, config.milter.user);
    if (why.empty()) return {};
    if (why.ends_with('.')) why.pop_back();  // a sentence follows
    const bool stated = o.spool_line > 0;
    std::string text = stated ? "[observations] spool " + quoted(o.spool) + " cannot be used: "
                              : "[observations] spool is not set, and its default " + quoted(o.spool) +
                                    " cannot be used: ";
    text += why + ". A PostgreSQL store keeps observations in this local spool while the server is unreachable, "
                  "and the milter does not start without it";
    const std::string dir = o.spool.substr(0, std::max<std::size_t>(1, o.spool.find_last_of('/')));
    const std::string user = config.milter.user.empty() ? "the milter's user" : config.milter.user;
    const std::string elsewhere = ", or set " + std::string(stated ? "spool" : "[observations] spool") +
                                  " to a file in a directory that user may write";
    if (why.ends_with(" does not exist"))
        text += ": create it for " + user + " (install -d " +
                (config.milter.user.empty() ? "" : "-o " + config.milter.user + " ") + "-m 0750 " + dir + ")" +
                elsewhere;
    else if (why.starts_with("directory "))
        text += ": let " + user + " write there (chown " + (config.milter.user.empty() ? "USER" : config.milter.user) +
                " " + dir + ")" + elsewhere;
    return {{config.path, stated ? o.spool_line : o.database_line, stated ? o.spool_column : o.database_column,
             std::move(text), false}};
}

}  // namespace tlspolicy
