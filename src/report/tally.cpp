// The counting half of `report`: each sender-side observation is added to its
// partner rules and its sending domain, and judged again against a stricter
// policy with the same core the milter runs.
#include "report/tally.hpp"

#include <algorithm>
#include <tuple>

#include "core/address.hpp"
#include "core/verdict.hpp"
#include "tls/cipher_table.hpp"

namespace tlspolicy::report {

std::size_t column(TlsVersion v) {
    switch (v) {
        case TlsVersion::None: return 0;
        case TlsVersion::TLSv1_0: return 1;
        case TlsVersion::TLSv1_1: return 2;
        case TlsVersion::TLSv1_2: return 3;
        case TlsVersion::TLSv1_3: return 4;
        default: return 5;  // SSL 3.0 or a version we did not recognise
    }
}

bool Strength::weaker_than(const Strength& o) const {
    return std::tuple(version, bits, aead) < std::tuple(o.version, o.bits, o.aead);
}

bool weaker_first(const Strength& a, std::int64_t a_time, const Strength& b, std::int64_t b_time) {
    if (a.weaker_than(b)) return true;
    if (b.weaker_than(a)) return false;
    return std::tie(a_time, a.cipher) < std::tie(b_time, b.cipher);
}

std::string describe(const Strength& s) {
    if (s.version == TlsVersion::None) return "plaintext";
    return std::string(header_name(s.version)) + " " + (s.cipher.empty() ? "(no cipher name)" : s.cipher) + " (" +
           std::to_string(s.bits) + " bits, " + (s.aead ? "AEAD" : "not AEAD") + ")";
}

std::string Window::step_name() const {
    return step < 86400 ? "hour" : step == 86400 ? "day" : std::to_string(step / 86400) + " days";
}

Window make_window(std::int64_t now, std::int64_t duration) {
    constexpr std::int64_t kDay = 86400, kMaxBars = 180;
    Window w;
    w.since = std::max<std::int64_t>(0, now - duration);
    w.until = w.last = now;
    w.step = duration <= 2 * kDay ? 3600 : kDay * ((duration + kMaxBars * kDay - 1) / (kMaxBars * kDay));
    if (w.whole_days()) {
        w.since -= w.since % kDay;
        w.last = now - now % kDay + kDay - 1;
    }
    w.first = w.since / w.step * w.step;
    w.buckets = static_cast<int>((w.until - w.first) / w.step + 1);
    return w;
}

void Tally::add(const Observation& o, const Weight& w, const Strength& s, const Window* chart) {
    sessions += w.count;
    versions[column(o.version)] += w.count;
    if (chart) buckets[chart->bucket(o.time)][column(o.version)] += w.count;
    if (!weakest || weaker_first(s, w.first, *weakest, weakest_time)) {
        weakest = s;
        weakest_time = w.first;
    }
    if (weak(o.version)) last_weak = std::max(last_weak.value_or(w.last), w.last);
}

const CipherInfo& Ciphers::info(const std::string& name) {
    auto it = cache_.find(name);
    if (it == cache_.end()) it = cache_.emplace(name, cipher_table::lookup(name)).first;
    return it->second;
}

std::string_view domain_name(std::string_view sender) {
    return sender.empty() ? "<>" : address_domain(sender).empty() ? "(no domain)" : address_domain(sender);
}

std::vector<RuleRef> rule_kinds(const Observation& o, const Policy& current) {
    if (o.rule_kinds_known) return o.rules;
    std::vector<RuleRef> out;
    for (const RuleRef& r : o.rules) {
        const bool recipient = o.stage == Stage::Rcpt ||
                               std::any_of(current.recipients.begin(), current.recipients.end(),
                                           [&](const Rule& p) { return p.name == r.name; });
        out.push_back({r.name, recipient ? RuleKind::Recipient : r.name == "default" ? RuleKind::Defaults : RuleKind::Partner});
    }
    return out;
}

std::vector<std::string> sender_rules(const Observation& o, const Policy& current) {
    std::vector<std::string> out;
    for (const RuleRef& r : rule_kinds(o, current))
        if (!r.name.empty() && r.kind != RuleKind::Recipient && std::find(out.begin(), out.end(), r.name) == out.end())
            out.push_back(r.name);
    if (out.empty()) out.emplace_back("default");
    return out;
}

std::vector<VersionSpan> version_spans(std::vector<PolicyVersion> versions, std::int64_t since, std::int64_t until) {
    std::stable_sort(versions.begin(), versions.end(), [](const PolicyVersion& a, const PolicyVersion& b) {
        return std::tie(a.host, a.time) < std::tie(b.host, b.time);
    });
    // At each host a version lasts until the next one recorded there.
    std::vector<VersionSpan> spans;
    for (std::size_t i = 0; i < versions.size(); ++i) {
        const PolicyVersion& v = versions[i];
        const bool last = i + 1 == versions.size() || versions[i + 1].host != v.host;
        VersionSpan s{v.sha256, v.mode, std::max(v.time, since), last ? until : std::min(versions[i + 1].time, until),
                      last, {v.host}};
        if (s.from <= s.until && v.time <= until && (last || versions[i + 1].time > since)) spans.push_back(std::move(s));
    }
    // One span per file and mode while it is in force somewhere without a gap.
    std::stable_sort(spans.begin(), spans.end(), [](const VersionSpan& a, const VersionSpan& b) {
        return std::tie(a.sha256, a.mode, a.from) < std::tie(b.sha256, b.mode, b.from);
    });
    std::vector<VersionSpan> out;
    for (VersionSpan& s : spans) {
        if (!out.empty() && out.back().sha256 == s.sha256 && out.back().mode == s.mode && s.from <= out.back().until) {
            out.back().until = std::max(out.back().until, s.until);
            out.back().current = out.back().current || s.current;
            out.back().hosts.insert(s.hosts.begin(), s.hosts.end());
        } else {
            out.push_back(std::move(s));
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const VersionSpan& a, const VersionSpan& b) { return a.from < b.from; });
    return out;
}

namespace {

std::vector<Tally> sorted(std::map<std::string, Tally>&& by_name) {
    std::vector<Tally> out;
    for (auto& [name, t] : by_name) out.push_back(std::move(t));
    std::stable_sort(out.begin(), out.end(), [](const Tally& a, const Tally& b) { return a.sessions > b.sessions; });
    return out;
}

// The version as an MTA would report it, so that the core parses it back.
std::string_view macro_text(TlsVersion v) {
    return v == TlsVersion::None ? "" : v == TlsVersion::Unknown ? "unknown" : config_name(v);
}

void rejudge(const Policy& strict, const Observation& o, const Weight& w, Ciphers& ciphers,
             std::map<std::string, Offender>& out) {
    const CipherInfo& info = ciphers.info(o.cipher);
    TlsFacts tls = make_tls_facts(macro_text(o.version), o.cipher, std::to_string(o.cipher_bits),
                                  std::to_string(o.alg_bits), info);
    if (tls.encrypted()) tls.cert = o.cert;
    SessionFacts s = make_session(o.client, o.hostname, std::move(tls));
    Verdict v = decide_sender(strict, s, o.sender);
    Offender& f = out[o.sender];
    f.sessions += w.count;
    if (v.enforced == Decision::Accept) return;
    f.sender = o.sender.empty() ? "<>" : o.sender;
    f.domain = domain_name(o.sender);
    (v.enforced == Decision::Reject ? f.rejects : f.tempfails) += w.count;
    std::string reply = v.reply ? v.reply->line() : "";
    if (std::tie(w.last, reply) > std::tie(f.last_refused, f.reply)) {  // the latest; the same whatever the order
        f.last_refused = w.last;
        f.reply = std::move(reply);
    }
    for (const RuleOutcome& r : v.rules)
        if (r.failed() && r.rule->action == v.failed_action) {
            f.rules.insert(r.rule->name);  // the rule the core's reply names: the first of the worst
            break;
        }
}

}  // namespace

void Gatherer::add(const Observation& o) {
    const Weight one{1, o.time, o.time};
    add_rules(o, one);
    add_domain(o, one);
    add_sender(o, one);
}

void Gatherer::add_rules(const Observation& o, const Weight& w) {
    if (o.direction == Direction::Outbound) {
        const bool facts = o.transport == Transport::Tls || o.transport == Transport::Plaintext;
        if (!facts || o.delivery != DeliveryStatus::Sent) return;
        const Strength s = strength(o);
        for (const std::string& r : sender_rules(o, policy_)) {
            outbound_[r].name = r;
            outbound_[r].add(o, w, s, nullptr);
        }
        return;
    }
    if (o.stage == Stage::Rcpt) return;  // the sender side is every other stage (MAIL FROM, end of message)
    const Strength s = strength(o);
    for (const std::string& r : sender_rules(o, policy_)) {
        rules_[r].name = r;
        rules_[r].add(o, w, s, &w_);
    }
    any_host_ = any_host_ || !o.host.empty();
    hosts_[o.host].name = o.host.empty() ? "(not recorded)" : o.host;
    hosts_[o.host].add(o, w, s, nullptr);
}

void Gatherer::add_domain(const Observation& o, const Weight& w) {
    if (o.stage == Stage::Rcpt || o.direction == Direction::Outbound) return;
    const std::string domain(domain_name(o.sender));
    domains_[domain].name = domain;
    domains_[domain].add(o, w, strength(o), nullptr);  // no chart per domain: there may be thousands
}

void Gatherer::add_sender(const Observation& o, const Weight& w) {
    if (strict_ && o.stage != Stage::Rcpt && o.direction == Direction::Inbound) rejudge(*strict_, o, w, ciphers_, offenders_);
}

Strength Gatherer::strength(const Observation& o) {
    return {o.version, o.version == TlsVersion::None ? 0 : o.cipher_bits, ciphers_.info(o.cipher).aead, o.cipher};
}

Report Gatherer::finish() {
    Report rep;
    rep.window = w_;
    rep.rules = sorted(std::move(rules_));
    rep.domains = sorted(std::move(domains_));
    rep.outbound = sorted(std::move(outbound_));
    if (any_host_) rep.hosts = sorted(std::move(hosts_));  // rows of older schemas name none
    for (auto& [sender, f] : offenders_)
        if (f.refusals() > 0) rep.offenders.push_back(std::move(f));
    std::stable_sort(rep.offenders.begin(), rep.offenders.end(), [](const Offender& a, const Offender& b) {
        return std::tuple(a.refusals(), a.rejects, a.last_refused) > std::tuple(b.refusals(), b.rejects, b.last_refused);
    });
    return rep;
}

}  // namespace tlspolicy::report
