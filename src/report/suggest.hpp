// `report --suggest`: from the inbound messages of a window, the strictest
// [[partner]] rules every one of them met, ready to paste, and the stricter
// versions of the rules the policy has. Pure, like the tally: observations in,
// a Suggestions value out; report.cpp checks each rule with --against's code
// (Gatherer) and render/suggest.cpp writes it.
//
// Grouping (what a rule names): messages that no current partner rule selects
// are grouped by sending domain, a domain together with its subdomains when
// the parent domain sent too (no public suffix list: a parent that never sent
// is not guessed), as `senders = ["acme.example", ".acme.example"]`. Messages
// without a sender domain (the null sender <>, bounces) cannot be named by
// domain: they are grouped by client network, the /24 (IPv4) or /48 (IPv6)
// around the client, as `clients = [...]`. A rule never names client
// networks for a domain: a provider's network carries many domains, and a
// domain rule is what a contract names.
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/policy.hpp"
#include "report/probe_facts.hpp"
#include "report/tally.hpp"
#include "store/observation.hpp"
#include "store/observation_source.hpp"

namespace tlspolicy::report {

// What the messages a rule selects showed, added up.
struct Observed {
    std::int64_t messages = 0, plaintext = 0, first = 0, last = 0;
    std::set<std::string> clients, hosts;  // client addresses; MX hosts that saw them ("" not kept)
    std::optional<Strength> weakest;
    std::int64_t weakest_time = 0;
    std::optional<TlsVersion> oldest;     // of the TLS sessions
    std::optional<int> fewest_bits;       // of the TLS sessions
    bool all_aead_pfs = true;             // every TLS session AEAD with forward secrecy
    std::vector<bool> profile_fits;       // per all_profiles(): every TLS session allowed by it
    bool all_verified = true;             // every session with a client certificate the MTA verified
    std::set<std::string> subjects, issuers;
    void add(const Observation& o, std::int64_t count, std::int64_t first_time, std::int64_t last_time,
             const Strength& s, const CipherInfo& info);
};

// The cipher string suggested when every TLS 1.2-or-older session used an
// AEAD cipher with forward secrecy and no preset fits: OpenSSL words only.
inline constexpr std::string_view kAeadPfsCiphers =
    "ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AESCCM:DHE+AESGCM:DHE+CHACHA20:DHE+AESCCM";

// A rule's requirements as suggest reasons about them.
struct Wanted {
    bool require_tls = false;
    std::optional<TlsVersion> min_version;
    std::optional<int> min_cipher_bits;
    const Profile* profile = nullptr;
    std::string ciphers;       // an OpenSSL cipher string, "" none
    std::string ciphersuites;  // kept from an existing rule only
    bool require_client_cert = false;
    std::vector<std::string> cert_subjects, cert_issuers;  // as the file writes them
};
// The strictest requirements `seen` met (require_tls false: nothing else is
// worth requiring of a partner that also sends plaintext).
Wanted strictest(const Observed& seen);
Wanted wanted_of(const Requirements& req);
// `a` raised by whatever `b` requires more strictly; `changes` gets one line
// per key raised ("min_version TLSv1.2 -> TLSv1.3").
Wanted stricter_of(const Wanted& a, const Wanted& b, std::vector<std::string>* changes);

// One key of a rule: its TOML value is a JSON literal too (string, array of
// strings, boolean, integer), so every format prints it as it is.
struct RuleKey {
    std::string key, value;
};

struct Suggestion {
    enum class Kind { New, Change } kind = Kind::New;
    std::string name;
    std::vector<RuleKey> keys;           // name first, in the order a policy file writes them
    std::vector<std::string> changes;    // Change: what is raised
    int line = 0;                        // Change: where the rule starts in the policy file
    Observed seen;
    std::int64_t would_refuse = -1;      // from the --against check; -1: not checked
    std::optional<ProbeFacts> probe;     // the weekly probe's result for this rule name
    bool export_ready = false;           // the probe shows mail to it could require this rule's TLS
    std::string export_note;             // why or why not, one line
};

// A group or rule nothing is suggested for, and why.
struct Skipped {
    std::string name;  // a rule name, a domain or a client network
    std::string reason;
    Observed seen;
};

struct Suggestions {
    std::string database, since_text, host, policy_path;
    Window window;
    std::int64_t min_messages = 0;
    std::vector<Suggestion> rules;      // new rules, then changes; by messages, most first
    std::vector<Skipped> quiet;         // fewer messages than min_messages
    std::vector<Skipped> not_ready;     // plaintext seen, or the rule already refuses some
    std::vector<std::string> unchanged; // rules already as strict as what was seen
    std::vector<ProbeFacts> probes;     // every probe result read, by rule name
};

// Collects the sender-side inbound rows (RCPT and outbound rows are left
// out) of the Senders summary, or raw rows with weight 1, then groups them.
class Suggester {
public:
    Suggester(const Policy& current, std::int64_t min_messages) : current_(current), min_messages_(min_messages) {}
    void add(const Observation& o, const Weight& w);
    // The suggestions before their check; rows() are what the check judges.
    Suggestions finish(Window w);
    const std::vector<std::pair<Observation, Weight>>& rows() const { return rows_; }

private:
    const Policy& current_;
    std::int64_t min_messages_;
    Ciphers ciphers_;
    std::vector<std::pair<Observation, Weight>> rows_;
};

// The client network a null-sender message is grouped by: "203.0.113.0/24",
// "2001:db8:1::/48"; "" when the client is not an address.
std::string client_network(std::string_view client);

// The probe results for the suggested rules (by name), and for each the
// outbound verdict: ready when the probe is fresh (not older than the window),
// the server offered STARTTLS and accepted a version the rule allows.
void add_probe_facts(Suggestions& s, std::vector<ProbeFacts> probes);

}  // namespace tlspolicy::report
