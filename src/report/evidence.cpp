// The counting half of `report --evidence`. Outbound rows (`ingest`) count
// apart, beside the inbound ones (count_outbound). A row at end of message (stage
// other than Rcpt, action accept) is a message for every partner and
// recipient rule it lists; a refused sender-side row is a refusal at MAIL
// FROM; a Rcpt row is a recipient refusal, or with `would` set in monitor
// mode a would-be one.
#include "report/evidence.hpp"

#include <algorithm>
#include <ctime>

namespace tlspolicy::report {
namespace {

using report::Strength;

std::int64_t next_month(std::int64_t t, std::string* name) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m", &tm);
    *name = buf;
    std::tm next{};
    next.tm_year = tm.tm_mon == 11 ? tm.tm_year + 1 : tm.tm_year;
    next.tm_mon = (tm.tm_mon + 1) % 12;
    next.tm_mday = 1;
    return timegm(&next);
}

// The weakest, whatever order the sessions come in: of equally weak ones the
// first seen, and of those the first by cipher, host, refused, would.
bool before(const Weakest& a, const Weakest& b) {
    if (a.strength.weaker_than(b.strength)) return true;
    if (b.strength.weaker_than(a.strength)) return false;
    return std::tie(a.time, a.strength.cipher, a.host, a.refused, a.would) <
           std::tie(b.time, b.strength.cipher, b.host, b.refused, b.would);
}

void note_weakest(Month& m, const Weakest& w) {
    if (!m.weakest || before(w, *m.weakest)) m.weakest = w;
}

}  // namespace

EvidenceTally::EvidenceTally(const Policy& current, std::int64_t since, std::int64_t until)
    : policy_(current), since_(since), until_(until) {
    for (std::int64_t from = since; from <= until;) {
        Month m;
        m.from = from;
        const std::int64_t next = next_month(from, &m.name);
        m.until = std::min(next - 1, until);
        months_.push_back(std::move(m));
        from = next;
    }
    for (const Rule& r : current.partners) rule({r.name, RuleKind::Partner});
    for (const Rule& r : current.recipients) rule({r.name, RuleKind::Recipient});
}

RuleEvidence& EvidenceTally::rule(const RuleRef& r) {
    auto [it, added] = index_.try_emplace({r.kind, r.name}, rules_.size());
    if (added) {
        RuleEvidence e;
        e.name = r.name;
        e.kind = r.kind;
        e.in_policy = rules_.size() < policy_.partners.size() + policy_.recipients.size();
        e.months = months_;
        e.total.name = "total";
        e.total.from = since_;
        e.total.until = until_;
        e.outbound_months = months_;
        for (Month& m : e.outbound_months) m.direction = Direction::Outbound;
        e.outbound_total = e.total;
        e.outbound_total.direction = Direction::Outbound;
        rules_.push_back(std::move(e));
    }
    return rules_[it->second];
}

void EvidenceTally::count(RuleEvidence& e, const Observation& o, const Weight& n, bool message, bool refused,
                          bool would) {
    auto month = std::upper_bound(e.months.begin(), e.months.end(), o.time,
                                  [](std::int64_t t, const Month& m) { return t < m.from; });
    if (month == e.months.begin()) return;  // before the window: the source keeps to it
    const CipherInfo& info = ciphers_.info(o.cipher);
    Weakest w{{o.version, o.version == TlsVersion::None ? 0 : o.cipher_bits, info.aead, o.cipher},
              n.first, o.host, refused, would};
    for (Month* m : {&*std::prev(month), &e.total}) {
        if (message) {
            m->messages += n.count;
            (o.version == TlsVersion::None ? m->plaintext : report::weak(o.version) ? m->older : m->modern) += n.count;
            m->verified += o.version != TlsVersion::None && o.cert.status == CertStatus::Verified ? n.count : 0;
            m->hosts[o.host] += n.count;
        }
        m->refused += refused ? n.count : 0;
        m->would_refuse += would ? n.count : 0;
        note_weakest(*m, w);
    }
}

// An outbound delivery attempt: a sent one is a message, by how it went (or
// unknown when the log gave no TLS facts); a deferral or bounce for TLS is
// counted as such. Every attempt over a connection the log describes (TLS or
// plaintext) is a session for the weakest.
void EvidenceTally::count_outbound(RuleEvidence& e, const Observation& o, const Weight& n) {
    auto month = std::upper_bound(e.outbound_months.begin(), e.outbound_months.end(), o.time,
                                  [](std::int64_t t, const Month& m) { return t < m.from; });
    if (month == e.outbound_months.begin()) return;
    e.has_outbound = true;
    const bool facts = o.transport == Transport::Tls || o.transport == Transport::Plaintext;
    const bool sent = o.delivery == DeliveryStatus::Sent;
    const CipherInfo& info = ciphers_.info(o.cipher);
    Weakest w{{o.version, o.version == TlsVersion::None ? 0 : o.cipher_bits, info.aead, o.cipher},
              n.first, o.host, !sent, false};
    for (Month* m : {&*std::prev(month), &e.outbound_total}) {
        if (sent) {
            m->messages += n.count;
            if (!facts) m->unknown += n.count;
            else (o.version == TlsVersion::None ? m->plaintext : report::weak(o.version) ? m->older : m->modern) += n.count;
            m->verified += facts && o.version != TlsVersion::None && o.cert.status == CertStatus::Verified ? n.count : 0;
            m->hosts[o.host] += n.count;
        }
        m->deferred_tls += o.tls_reason && o.delivery == DeliveryStatus::Deferred ? n.count : 0;
        m->bounced_tls += o.tls_reason && o.delivery == DeliveryStatus::Bounced ? n.count : 0;
        if (facts) note_weakest(*m, w);
    }
}

void EvidenceTally::add(const Observation& o) { add(o, Weight{1, o.time, o.time}); }

void EvidenceTally::add(const Observation& o, const Weight& n) {
    if (o.direction == Direction::Outbound) {
        for (const RuleRef& r : o.rules)
            if (r.kind != RuleKind::Defaults) count_outbound(rule(r), o, n);
        return;
    }
    const bool rcpt = o.stage == Stage::Rcpt;
    const bool refused = o.action != Decision::Accept;
    const bool would = !refused && o.would != Decision::Accept;
    for (const RuleRef& r : report::rule_kinds(o, policy_)) {
        if (r.kind == RuleKind::Defaults) continue;
        if (rcpt) {
            // A RCPT row says what happened to that recipient only; one that
            // neither refused nor would have refused is no evidence of either.
            if (r.kind == RuleKind::Recipient && (refused || would)) count(rule(r), o, n, false, refused, would);
        } else {
            // The sender side's `would` speaks for the partner rules; a
            // recipient rule's would-be refusal has its RCPT row.
            count(rule(r), o, n, !refused, refused, would && r.kind == RuleKind::Partner);
        }
    }
}

Evidence EvidenceTally::finish(std::vector<PolicyVersion> versions) {
    Evidence ev;
    ev.since = since_;
    ev.until = until_;
    ev.versions = report::version_spans(std::move(versions), since_, until_);
    for (RuleEvidence& e : rules_) {
        for (std::vector<Month>* months : {&e.months, &e.outbound_months})
            for (Month& m : *months)
                for (std::size_t i = 0; i < ev.versions.size(); ++i)
                    if (ev.versions[i].from <= m.until && ev.versions[i].until >= m.from) m.versions.push_back(i);
        for (std::size_t i = 0; i < ev.versions.size(); ++i) {
            e.total.versions.push_back(i);
            e.outbound_total.versions.push_back(i);
        }
    }
    ev.rules = std::move(rules_);
    // Rules the current policy no longer has, by kind and name after those it has.
    const std::size_t current = policy_.partners.size() + policy_.recipients.size();
    std::sort(ev.rules.begin() + static_cast<std::ptrdiff_t>(std::min(current, ev.rules.size())), ev.rules.end(),
              [](const RuleEvidence& a, const RuleEvidence& b) {
                  return std::tie(a.kind, a.name) < std::tie(b.kind, b.name);
              });
    return ev;
}

}  // namespace tlspolicy::report
