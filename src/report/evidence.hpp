// What `report --evidence` counts: per partner rule and per protected-
// recipient rule, per calendar month (UTC) and direction, the messages and
// how they came (inbound) or went (outbound),
// the refusals, the weakest session, and the policy versions in force.
// Pure: observations and policy versions in, an Evidence value out.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "report/probe_facts.hpp"
#include "report/tally.hpp"

namespace tlspolicy::report {

struct Weakest {
    report::Strength strength;
    std::int64_t time = 0;
    std::string host;      // "" when the row names none
    bool refused = false;  // the session was refused
    bool would = false;    // monitor mode let it through; enforce would have refused it
};

// One calendar month of one rule in one direction, or the whole window (name
// "total"). Inbound: the messages partners sent us, as the milter decided
// them. Outbound: our deliveries to the partner, as `ingest` read them from
// the MTA's log.
struct Month {
    std::string name;                  // "2024-05"
    Direction direction = Direction::Inbound;
    std::int64_t from = 0, until = 0;  // the part of the month inside the window
    std::int64_t messages = 0;         // inbound: accepted messages the rule applied to; outbound: deliveries sent
    std::int64_t modern = 0, older = 0, plaintext = 0;  // of those: TLS 1.2 or newer, older TLS, none
    std::int64_t unknown = 0;          // outbound: sent, but the log gave no TLS facts (smtp_tls_loglevel 0)
    std::int64_t verified = 0;         // of those over TLS: a verified certificate (inbound the client's, outbound the server's)
    std::int64_t refused = 0;          // inbound refusals: at MAIL FROM (partner), at RCPT TO (recipient)
    std::int64_t would_refuse = 0;     // monitor mode let them through; enforce would have refused
    std::int64_t deferred_tls = 0;     // outbound attempts the MTA deferred because of TLS
    std::int64_t bounced_tls = 0;      // outbound attempts the MTA bounced because of TLS
    std::optional<Weakest> weakest;    // of every session counted here, refused ones too
    std::map<std::string, std::int64_t> hosts;  // messages per MX host ("" not recorded)
    std::vector<std::size_t> versions; // indices into Evidence::versions in force during the month
};

struct RuleEvidence {
    std::string name;
    RuleKind kind = RuleKind::Partner;  // Partner or Recipient
    bool in_policy = true;              // false: seen in the rows, gone from the current policy
    std::vector<Month> months;          // every month of the window, oldest first: inbound
    Month total;
    std::vector<Month> outbound_months; // the same months, outbound
    Month outbound_total;
    bool has_outbound = false;          // any outbound delivery counted: renderers show the outbound rows
};

struct Evidence {
    std::string database, since_text, host;  // host: the --host filter, "" for every host
    std::int64_t since = 0, until = 0;
    std::vector<RuleEvidence> rules;  // the current policy's order, then rules it no longer has
    std::vector<report::VersionSpan> versions;
    std::vector<ProbeFacts> probes;  // [probe] directory: what each partner's server accepts
};

class EvidenceTally {
public:
    EvidenceTally(const Policy& current, std::int64_t since, std::int64_t until);
    void add(const Observation& o);  // a raw row
    // A row of the Rules summary: `n.count` rows with o's facts, in o.time's month.
    void add(const Observation& o, const Weight& n);
    Evidence finish(std::vector<PolicyVersion> versions);

private:
    RuleEvidence& rule(const RuleRef& r);
    void count(RuleEvidence& e, const Observation& o, const Weight& n, bool message, bool refused, bool would);
    void count_outbound(RuleEvidence& e, const Observation& o, const Weight& n);

    const Policy& policy_;
    std::int64_t since_, until_;
    std::vector<Month> months_;  // the empty months every rule starts with
    std::vector<RuleEvidence> rules_;
    std::map<std::pair<RuleKind, std::string>, std::size_t> index_;
    report::Ciphers ciphers_;
};

}  // namespace tlspolicy::report
