// The policy as the core sees it: rules with their selectors and requirements,
// indexed for lookup. Built once by the config loader, then immutable and shared
// (a std::shared_ptr<const Policy> per connection) until the next reload.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/cipher_info.hpp"
#include "core/ip_address.hpp"
#include "core/profile.hpp"
#include "core/selector_index.hpp"
#include "core/tls_version.hpp"
#include "core/words.hpp"

namespace tlspolicy {

// Ordered by severity: when several rules fail, the highest wins.
enum class Action : std::uint8_t { Annotate, Tempfail, Reject };
inline constexpr Word<Action> kActionWords[] = {
    {Action::Annotate, "annotate"}, {Action::Tempfail, "tempfail"}, {Action::Reject, "reject"}};
constexpr std::span<const Word<Action>> words(Action) { return kActionWords; }

enum class Mode : std::uint8_t { Enforce, Monitor };
inline constexpr Word<Mode> kModeWords[] = {{Mode::Enforce, "enforce"}, {Mode::Monitor, "monitor"}};
constexpr std::span<const Word<Mode>> words(Mode) { return kModeWords; }

enum class RuleKind : std::uint8_t { Defaults, Partner, Recipient };
inline constexpr Word<RuleKind> kRuleKindWords[] = {
    {RuleKind::Defaults, "defaults"}, {RuleKind::Partner, "partner"}, {RuleKind::Recipient, "recipient"}};
constexpr std::span<const Word<RuleKind>> words(RuleKind) { return kRuleKindWords; }

// What a rule demands of a session. The cipher requirements apply to TLS
// sessions only; require_tls decides plaintext. A client certificate
// requirement fails in plaintext too: no certificate comes without TLS.
struct Requirements {
    bool require_tls = false;
    std::optional<TlsVersion> min_version;
    std::optional<int> min_cipher_bits;
    CipherListPtr ciphers;        // TLS <= 1.2 sessions; null: no requirement
    CipherListPtr ciphersuites;   // TLS 1.3 sessions; null: no requirement
    const Profile* profile = nullptr;
    bool require_client_cert = false;       // implied by cert_subjects and cert_issuers
    std::vector<Entry> cert_subjects;       // subject CN, domain conventions; empty: any
    std::vector<std::string> cert_issuers;  // issuer CN as written, exact but for case; empty: any
    bool empty() const {
        return !require_tls && !min_version && !min_cipher_bits && !ciphers && !ciphersuites && !profile &&
               !require_client_cert;
    }
};

struct Rule {
    std::string name;             // "default" for [defaults]
    RuleKind kind = RuleKind::Defaults;
    Requirements req;
    Action action = Action::Tempfail;
    std::string reply;            // overrides the default reply text when not empty
    // Selectors in canonical form, as explain and --check show them.
    std::vector<Cidr> clients;
    std::vector<Entry> hostnames;
    std::vector<Entry> senders;
    std::vector<Entry> recipients;
    int line = 0;                 // where the rule starts in the policy file
};

class Policy {
public:
    Mode mode = Mode::Enforce;
    // Characters that start an address extension at the MTA (Postfix
    // recipient_delimiter, Sendmail "+detail"): "hr+x@" is matched as hr@.
    std::string recipient_delimiter = "+";
    Rule defaults;                // name "default", kind Defaults
    std::vector<Rule> partners;
    std::vector<Rule> recipients;

    // Call once after the rules are in place; lookups need it.
    void build_indexes();

    // Which partner rules a session/sender selects, and which recipient rules a
    // recipient selects. Each hit says which selector entry matched. Results are
    // ordered by rule position in the file, each rule at most once.
    void match_partners(const std::optional<IpAddress>& client, std::string_view hostname,
                        std::string_view sender, std::vector<Match>& out) const;
    void match_recipients(std::string_view recipient, std::vector<Match>& out) const;
    // Partner rules whose `senders` domain entries cover a destination domain
    // (normalized, bare): the partners mail we send to that domain goes to.
    // Address entries name a sender's mailbox, not a destination: never hit.
    void match_destinations(std::string_view domain, std::vector<Match>& out) const;

private:
    CidrIndex client_index_;
    NameIndex hostname_index_;
    NameIndex sender_index_;
    NameIndex recipient_index_;
};

}  // namespace tlspolicy
