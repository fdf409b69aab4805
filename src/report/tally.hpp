// What `report` counts as observations stream past: per partner rule, per
// sending domain and per MX host, and with a stricter policy the senders it
// would refuse. Pure: observations in, a Report value out; no I/O.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/cipher_info.hpp"
#include "core/policy.hpp"
#include "store/observation.hpp"
#include "store/observation_source.hpp"

namespace tlspolicy::report {

// The share columns, one per TLS version; "none" is plaintext.
constexpr std::array<std::string_view, 6> kColumns{"none", "TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3", "other"};
using Counts = std::array<std::int64_t, kColumns.size()>;
std::size_t column(TlsVersion v);

// Plaintext, or TLS older than 1.2 (SSL 3.0 and unrecognised versions included).
inline bool weak(TlsVersion v) { return v < TlsVersion::TLSv1_2; }  // the enum is ordered, None first

// A session's strength, weakest first: plaintext < older version < fewer bits < not AEAD.
struct Strength {
    TlsVersion version = TlsVersion::None;
    int bits = 0;
    bool aead = false;
    std::string cipher;
    bool weaker_than(const Strength& o) const;
};
// The weakest of several sessions, the same whichever order they come in:
// the weakest strength; of equally weak ones the first seen (`time`), and of
// those seen in the same second the cipher name first in byte order.
bool weaker_first(const Strength& a, std::int64_t a_time, const Strength& b, std::int64_t b_time);
std::string describe(const Strength& s);  // "plaintext", "TLS1_2 NAME (128 bits, AEAD)"

// The report's time span and the chart's axis: hours for a window of two
// days or less, else UTC days, or several days each so that a chart has at
// most about 180 bars. A longer window is whole UTC days, as the summaries
// count: it starts at 00:00 of the day `duration` reaches back to, and takes
// the rows of until's whole day (a clock a little ahead dates some later).
struct Window {
    std::int64_t since = 0, until = 0, step = 0, first = 0;
    std::int64_t last = 0;  // the last second whose rows count: until, or the end of its day
    int buckets = 0;
    std::int64_t bucket(std::int64_t t) const { return first + (t - first) / step * step; }
    bool whole_days() const { return step >= 86400; }
    std::string step_name() const;
};
Window make_window(std::int64_t now, std::int64_t duration);

// One line of the per-rule, per-domain or per-host table.
struct Tally {
    std::string name;
    std::int64_t sessions = 0;
    Counts versions{};
    std::optional<Strength> weakest;
    std::int64_t weakest_time = 0;  // when it was first seen
    std::optional<std::int64_t> last_weak;
    std::map<std::int64_t, Counts> buckets;  // for a chart: bucket start -> sessions by version
    // `w.count` sessions with o's facts, the first and last at w.first and w.last.
    void add(const Observation& o, const Weight& w, const Strength& s, const Window* chart);
};

// A sender the stricter policy would refuse.
struct Offender {
    std::string sender, domain;
    std::set<std::string> rules;  // the failing rule that decided, per session
    std::int64_t rejects = 0, tempfails = 0, sessions = 0;
    std::int64_t last_refused = 0;
    std::string reply;  // of the most recent refusal (of those in the same second, the last in byte order)
    std::int64_t refusals() const { return rejects + tempfails; }
};

// A policy file in force: one hash and mode, over the span it was in force
// at any of `hosts` within the window.
struct VersionSpan {
    std::string sha256;
    Mode mode = Mode::Enforce;
    std::int64_t from = 0, until = 0;  // clipped to the window
    bool current = false;              // still in force at the window's end
    std::set<std::string> hosts;
};
// The recorded versions (as ObservationSource gives them) as spans: at each
// host a version lasts until the next one recorded there; one span per file
// and mode while it is in force somewhere without a gap. Oldest first.
std::vector<VersionSpan> version_spans(std::vector<PolicyVersion> versions, std::int64_t since, std::int64_t until);

struct Report {
    std::string database, since_text, against, host;  // against: the stricter file; host: the --host filter
    Window window;
    std::vector<Tally> rules, domains, hosts;  // hosts: empty when no row names its MX host
    // Outbound deliveries sent (`ingest`), per partner rule of their destination, by the TLS of the
    // connection; those the log gave no TLS facts for are left out. Empty when there are none.
    std::vector<Tally> outbound;
    std::vector<Offender> offenders;
    std::vector<VersionSpan> versions;
};

// The rules of a stored decision with their kind: as recorded, or, for rows
// of older schemas that kept names only, guessed from the current policy (a
// name it has as a recipient rule is one; on a RCPT row every rule is).
std::vector<RuleRef> rule_kinds(const Observation& o, const Policy& current);

// The partner rules a sender-side decision was made under ("default" when
// none): a session belongs to its sender side; recipient refusals are rows
// of their own.
std::vector<std::string> sender_rules(const Observation& o, const Policy& current);

class Ciphers {  // OpenSSL's word on each cipher name, asked once per name
public:
    const CipherInfo& info(const std::string& name);

private:
    std::map<std::string, CipherInfo> cache_;
};

std::string_view domain_name(std::string_view sender);  // "<>", "(no domain)" or the domain

// Tallies every sender-side observation (RCPT rows are recipient refusals
// and not sessions of their own): a raw row at a time, or the rows of the
// summaries, each summary row with its weight: the Rules summary for the
// rule and host tables and the chart, Domains for the domain table, Senders
// for the senders a stricter policy refuses.
class Gatherer {
public:
    Gatherer(const Policy& policy, const Policy* strict, Window w) : policy_(policy), strict_(strict), w_(w) {}
    void add(const Observation& o);  // a raw row: each of the three below, with weight 1
    void add_rules(const Observation& o, const Weight& w);
    void add_domain(const Observation& o, const Weight& w);
    void add_sender(const Observation& o, const Weight& w);  // nothing without a stricter policy
    bool judges() const { return strict_ != nullptr; }
    Report finish();

private:
    Strength strength(const Observation& o);

    const Policy& policy_;
    const Policy* strict_;
    Window w_;
    Ciphers ciphers_;
    std::map<std::string, Tally> rules_, domains_, hosts_, outbound_;
    bool any_host_ = false;
    std::map<std::string, Offender> offenders_;  // by sender: the sort's last key
};

}  // namespace tlspolicy::report
