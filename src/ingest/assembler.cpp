// Log lines to delivery records (see assembler.hpp): which TLS line belongs to
// which delivery, and what the record says when none does.
#include "ingest/assembler.hpp"

#include <algorithm>

#include "core/address.hpp"
#include "core/sanitize.hpp"
#include "core/text.hpp"
#include "ingest/postfix_log.hpp"
#include "ingest/sendmail_log.hpp"
#include "ingest/tls_reason.hpp"

namespace tlspolicy::ingest {
namespace {

// A key part or a state field: printable, no tab or space, lower case, bounded.
std::string clean(std::string_view s) {
    std::string out;
    out.reserve(std::min<std::size_t>(s.size(), kMaxToken));
    for (char c : s.substr(0, kMaxToken)) {
        const auto u = static_cast<unsigned char>(c);
        out += (u <= 0x20 || u >= 0x7f) ? '?' : ascii_lower(c);
    }
    return out;
}

std::string token(std::string_view s) { return sanitize_token(s, kMaxToken); }
std::string text(std::string_view s) { return s.empty() ? std::string() : sanitize_text(s, kMaxToken); }

// Postfix's word for the server certificate (lower case, as kept): Trusted
// is a chain that verified without a name check (levels may and encrypt),
// Verified one whose name matched too (verify, secure, dane).
CertStatus postfix_cert(std::string_view level) {
    if (level == "verified" || level == "trusted") return CertStatus::Verified;
    if (level == "untrusted") return CertStatus::Unverified;
    if (level == "anonymous") return CertStatus::None;
    return CertStatus::Unknown;  // Postfix < 2.5 does not say
}

// Sendmail's verify= for the server's certificate (kept in lower case), as
// the milter reads {verify}.
CertStatus sendmail_cert(std::string_view verify) {
    if (verify.empty()) return CertStatus::Unknown;
    std::string upper(verify);
    for (char& c : upper)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return make_client_cert(upper, "", "", "", "").status;
}

// Sendmail's stat= when connect() failed (its errstring() of the errno, and
// of a failed host lookup): the attempt had no SMTP session. Sendmail still
// writes relay=host. [address] then.
bool sendmail_no_connection(std::string_view stat) {
    for (std::string_view s : {"Deferred: Connection refused by ", "Deferred: Connection timed out with ",
                               "Deferred: Network is unreachable", "Deferred: No route to host",
                               "Deferred: Name server: ", "Host unknown"})
        if (stat.starts_with(s)) return true;
    return false;
}

void fill_recipient(OutboundDelivery& d, std::string_view recipient) {
    d.recipient = text(recipient);
    d.domain = text(address_domain(normalize_address(recipient)));
}

}  // namespace

std::string DeliveryAssembler::key(std::string_view host, std::int64_t pid, std::string_view relay) const {
    std::string k = clean(host);
    k += ' ';
    k += std::to_string(pid);
    if (mta_ == Mta::Sendmail) {
        k += ' ';
        k += clean(relay);
    }
    return k;
}

DeliveryAssembler::Pending* DeliveryAssembler::find(const std::string& k, std::int64_t when) {
    auto it = pending_.find(k);
    if (it == pending_.end()) return nullptr;
    if (when - it->second.time > kPendingMaxAge) {  // a stale line, not a loss
        pending_.erase(it);
        return nullptr;
    }
    it->second.used = ++clock_tick_;
    return &it->second;
}

void DeliveryAssembler::put(std::string k, Pending p) {
    p.used = ++clock_tick_;
    dropped_.erase(k);
    if (!pending_.contains(k) && pending_.size() >= kMaxPending) {
        // Stale lines go first; then the process that logged least recently.
        std::erase_if(pending_, [&](const auto& e) { return p.time - e.second.time > kPendingMaxAge; });
        if (pending_.size() >= kMaxPending) {
            auto oldest = std::min_element(pending_.begin(), pending_.end(),
                                           [](const auto& a, const auto& b) { return a.second.used < b.second.used; });
            if (dropped_order_.size() >= kMaxPending) {
                dropped_.erase(dropped_order_.front());
                dropped_order_.pop_front();
            }
            dropped_.insert_or_assign(oldest->first, std::string());
            dropped_order_.push_back(oldest->first);
            pending_.erase(oldest);
            ++counts_.pending_dropped;
        }
    }
    pending_.insert_or_assign(std::move(k), std::move(p));
}

void DeliveryAssembler::drop(const std::string& k) { pending_.erase(k); }

bool DeliveryAssembler::lost(const std::string& k, std::string_view queue_id) {
    auto it = dropped_.find(k);
    if (it == dropped_.end()) return false;
    // The dropped line belonged to the first delivery that comes along, and
    // to its other recipients; a later delivery is a later connection.
    if (it->second.empty()) it->second = std::string(queue_id);
    if (it->second == queue_id) return true;
    dropped_.erase(it);
    return false;
}

void DeliveryAssembler::take_tls(OutboundDelivery& d, const Pending& p) const {
    d.transport = Transport::Tls;
    d.tls_version = p.protocol;
    d.cipher = p.cipher;
    d.cipher_bits = p.used_bits;
    d.alg_bits = p.alg_bits;
    d.cert_verification = p.verification;
}

void DeliveryAssembler::feed(std::string_view raw, std::vector<OutboundDelivery>& out) {
    SyslogLine l;
    if (raw.size() > kMaxLineLength || !split_syslog_line(raw, l)) {
        ++counts_.not_syslog;
        return;
    }
    line(l, -1, out);
}

void DeliveryAssembler::feed(const JournalEntry& e, std::vector<OutboundDelivery>& out) {
    if (e.message.size() > kMaxLineLength || e.identifier.empty() || e.realtime_usec < 0) {
        ++counts_.not_syslog;
        return;
    }
    SyslogLine l;
    l.host = e.hostname;
    l.program = e.identifier;
    l.pid = e.pid;
    l.message = e.message;
    line(l, e.realtime_usec, out);
}

void DeliveryAssembler::line(const SyslogLine& l, std::int64_t exact_usec, std::vector<OutboundDelivery>& out) {
    const bool ours = mta_ == Mta::Postfix ? is_postfix_smtp_client(l.program) : is_sendmail_mta(l.program);
    if (!ours) {
        ++counts_.other_programs;
        return;
    }
    std::int64_t when = 0;
    std::int32_t usec = 0;
    if (exact_usec >= 0) {
        when = exact_usec / 1000000;
        usec = static_cast<std::int32_t>(exact_usec % 1000000);
    } else {
        when = resolve_time(l.time, clock_);
        usec = l.time.usec;
    }
    if (mta_ == Mta::Postfix) postfix(l, when, usec, out);
    else sendmail(l, when, usec, out);
}

void DeliveryAssembler::postfix(const SyslogLine& l, std::int64_t when, std::int32_t usec,
                                std::vector<OutboundDelivery>& out) {
    const std::string k = key(l.host, l.pid, "");
    PostfixTlsLine tls;
    if (parse_postfix_tls(l.message, tls)) {
        ++counts_.tls_lines;
        Pending p;
        p.protocol = token(tls.protocol);
        p.cipher = token(tls.cipher);
        p.verification = clean(tls.level);
        p.used_bits = tls.used_bits;
        p.alg_bits = tls.alg_bits;
        p.peer = clean(tls.peer);
        p.time = when;
        put(k, std::move(p));
        if (tls_seen_.size() < 256) tls_seen_.insert(clean(l.host) + ' ' + clean(l.program));
        return;
    }
    PostfixStatusLine s;
    switch (parse_postfix_status(l.message, s)) {
        case StatusParse::NotStatus: ++counts_.agent_lines; return;
        case StatusParse::Malformed: ++counts_.malformed; return;
        case StatusParse::Status: break;
    }
    OutboundDelivery d;
    if (s.status == "sent") d.status = DeliveryStatus::Sent;
    else if (s.status == "deferred" || s.status == "SOFTBOUNCE") d.status = DeliveryStatus::Deferred;
    else if (s.status == "bounced") d.status = DeliveryStatus::Bounced;
    else if (s.status == "deliverable" || s.status == "undeliverable") {  // address verification probes
        ++counts_.agent_lines;
        ++counts_.not_smtp;
        return;
    } else {
        ++counts_.malformed;
        return;
    }
    ++counts_.delivery_lines;
    d.mta = Mta::Postfix;
    d.time = when;
    d.time_usec = usec;
    d.host = text(l.host);
    d.queue_id = std::string(s.queue_id);
    fill_recipient(d, s.recipient);
    d.conn_use = s.conn_use;
    d.dsn = text(s.dsn);
    d.reason = sanitize_text(s.reason, kMaxReason);
    d.tls_reason = d.status != DeliveryStatus::Sent && postfix_tls_reason(s.reason);
    if (s.relay == "none") {
        d.transport = Transport::NoConnection;
    } else {
        d.relay_host = text(normalize_domain(s.parsed.host));
        d.relay_address = text(s.parsed.address);
        d.relay_port = s.parsed.port;
        Pending* p = find(k, when);
        if (p && p->peer == clean(s.relay) && (p->queue_id.empty() || p->queue_id == s.queue_id)) {
            p->queue_id = std::string(s.queue_id);  // its later recipients, not the next delivery's
            take_tls(d, *p);
            d.server_cert = postfix_cert(p->verification);
        } else {
            if (p) drop(k);  // an earlier connection's line, spent
            if (lost(k, s.queue_id)) {
                d.transport = Transport::Unknown;
            } else {
                d.transport = tls_seen_.contains(clean(l.host) + ' ' + clean(l.program)) ? Transport::Plaintext
                                                                                          : Transport::Unknown;
            }
        }
    }
    if (d.transport == Transport::Unknown) ++counts_.without_tls_facts;
    ++counts_.deliveries;
    out.push_back(std::move(d));
}

void DeliveryAssembler::sendmail(const SyslogLine& l, std::int64_t when, std::int32_t usec,
                                 std::vector<OutboundDelivery>& out) {
    SendmailTlsLine tls;
    if (parse_sendmail_tls(l.message, tls)) {
        ++counts_.tls_lines;
        if (tls.error && tls.relay.empty()) {
            // No relay named: every connection of this process is suspect.
            const std::string prefix = key(l.host, l.pid, "");
            for (auto& [k, p] : pending_)
                if (k.starts_with(prefix)) p.failed = true;
            return;
        }
        Pending p;
        p.failed = tls.error;
        if (!tls.error) {
            p.protocol = token(tls.version);
            p.cipher = token(tls.cipher);
            p.verification = clean(tls.verify);
            p.used_bits = tls.used_bits;
            p.alg_bits = tls.alg_bits;
            if (tls_seen_.size() < 256) tls_seen_.insert(clean(l.host) + ' ' + clean(l.program));
        }
        p.peer = clean(normalize_domain(tls.relay));
        p.time = when;
        std::string k = key(l.host, l.pid, p.peer);  // before p is moved
        put(std::move(k), std::move(p));
        return;
    }
    SendmailStatusLine s;
    switch (parse_sendmail_status(l.message, s)) {
        case SendmailParse::NotStatus: ++counts_.agent_lines; return;
        case SendmailParse::Malformed: ++counts_.malformed; return;
        case SendmailParse::Status: break;
    }
    if (!is_sendmail_smtp_mailer(s.mailer) || s.stat == "queued") {  // local delivery, or not an attempt
        ++counts_.agent_lines;
        ++counts_.not_smtp;
        return;
    }
    DeliveryStatus status;
    if (!s.dsn.empty() && s.dsn[0] == '2') status = DeliveryStatus::Sent;
    else if (!s.dsn.empty() && s.dsn[0] == '4') status = DeliveryStatus::Deferred;
    else if (!s.dsn.empty() && s.dsn[0] == '5') status = DeliveryStatus::Bounced;
    else if (s.stat.starts_with("Sent")) status = DeliveryStatus::Sent;
    else if (s.stat.starts_with("Deferred")) status = DeliveryStatus::Deferred;
    else status = DeliveryStatus::Bounced;
    ++counts_.delivery_lines;
    const std::string relay = clean(normalize_domain(s.relay_host));
    const std::string k = key(l.host, l.pid, relay);
    Transport transport = Transport::Unknown;
    const Pending* p = nullptr;
    if (s.relay_address.empty() || sendmail_no_connection(s.stat)) {
        transport = Transport::NoConnection;
    } else if ((p = find(k, when)) != nullptr) {
        transport = p->failed ? Transport::Plaintext : Transport::Tls;
    } else if (lost(k, s.queue_id)) {
        transport = Transport::Unknown;
    } else if (tls_seen_.contains(clean(l.host) + ' ' + clean(l.program))) {
        transport = Transport::Plaintext;
    }
    for (std::string_view recipient : s.recipients) {
        OutboundDelivery d;
        d.mta = Mta::Sendmail;
        d.time = when;
        d.time_usec = usec;
        d.host = text(l.host);
        d.queue_id = std::string(s.queue_id);
        fill_recipient(d, recipient);
        d.relay_host = text(normalize_domain(s.relay_host));
        d.relay_address = text(s.relay_address);
        d.status = status;
        d.dsn = text(s.dsn);
        d.reason = sanitize_text(s.stat, kMaxReason);
        d.tls_reason = status != DeliveryStatus::Sent && sendmail_tls_reason(s.stat);
        d.transport = transport;
        if (transport == Transport::Tls) {
            take_tls(d, *p);
            d.server_cert = sendmail_cert(p->verification);
        }
        if (transport == Transport::Unknown) ++counts_.without_tls_facts;
        ++counts_.deliveries;
        out.push_back(std::move(d));
    }
}

// The state as text: a first line naming the format, then one line per
// pending TLS line, dropped key and program seen logging TLS. Fields are
// tab-separated and were cleaned on the way in (no tab, space or newline).
std::string DeliveryAssembler::save_state() const {
    std::string out = "tlspolicy-ingest-state 1 ";
    out += word(mta_);
    out += '\n';
    std::vector<std::string> seen(tls_seen_.begin(), tls_seen_.end());
    std::sort(seen.begin(), seen.end());  // the same state, the same text
    for (const std::string& s : seen) out += "seen\t" + s + '\n';
    std::vector<const std::pair<const std::string, Pending>*> order;
    for (const auto& e : pending_) order.push_back(&e);
    std::sort(order.begin(), order.end(), [](auto a, auto b) { return a->second.used < b->second.used; });
    for (const auto* e : order) {
        const Pending& p = e->second;
        out += "pending\t" + e->first + '\t' + std::to_string(p.time) + '\t' + (p.failed ? "1" : "0") + '\t' +
               (p.queue_id.empty() ? "-" : p.queue_id) + '\t' + p.peer + '\t' + (p.protocol.empty() ? "-" : p.protocol) +
               '\t' + (p.cipher.empty() ? "-" : p.cipher) + '\t' + std::to_string(p.used_bits) + '\t' +
               std::to_string(p.alg_bits) + '\t' + (p.verification.empty() ? "-" : p.verification) + '\n';
    }
    for (const std::string& k : dropped_order_) {
        auto it = dropped_.find(k);
        if (it != dropped_.end()) out += "lost\t" + k + '\t' + (it->second.empty() ? "-" : it->second) + '\n';
    }
    return out;
}

namespace {

std::vector<std::string_view> fields(std::string_view line) {
    std::vector<std::string_view> out;
    for (std::size_t start = 0;;) {
        const std::size_t tab = line.find('\t', start);
        out.push_back(line.substr(start, tab - start));
        if (tab == std::string_view::npos) return out;
        start = tab + 1;
    }
}

bool to_int(std::string_view s, std::int64_t& out) {
    if (s.empty() || s.size() > 18) return false;
    bool neg = s[0] == '-';
    if (neg) s.remove_prefix(1);
    if (s.empty()) return false;
    std::int64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    out = neg ? -v : v;
    return true;
}

std::string dash(std::string_view s) { return s == "-" ? std::string() : std::string(s); }

}  // namespace

bool DeliveryAssembler::restore_state(std::string_view text_in, std::string* error) {
    auto fail = [&](std::size_t n, const std::string& why) {
        if (error) *error = "state line " + std::to_string(n) + ": " + why;
        return false;
    };
    const std::string header = "tlspolicy-ingest-state 1 " + std::string(word(mta_));
    std::size_t n = 0;
    decltype(pending_) pending;
    decltype(dropped_) dropped;
    decltype(dropped_order_) dropped_order;
    decltype(tls_seen_) seen;
    std::uint64_t tick = 0;
    for (std::size_t start = 0; start < text_in.size();) {
        std::size_t end = text_in.find('\n', start);
        if (end == std::string_view::npos) end = text_in.size();
        const std::string_view l = text_in.substr(start, end - start);
        start = end + 1;
        ++n;
        if (n == 1) {
            if (l != header) return fail(n, "not '" + header + "' (state of another MTA or format)");
            continue;
        }
        const auto f = fields(l);
        if (f[0] == "seen" && f.size() == 2 && seen.size() < 256) {
            seen.insert(std::string(f[1]));
        } else if (f[0] == "pending" && f.size() == 11 && pending.size() < kMaxPending) {
            Pending p;
            std::int64_t used = 0, alg = 0;
            if (!to_int(f[2], p.time) || (f[3] != "0" && f[3] != "1") || !to_int(f[8], used) || !to_int(f[9], alg) ||
                used < 0 || used > kMaxLoggedBits || alg < 0 || alg > kMaxLoggedBits)
                return fail(n, "a pending line with a bad number");
            p.failed = f[3] == "1";
            p.queue_id = dash(f[4]);
            p.peer = std::string(f[5]);
            p.protocol = dash(f[6]);
            p.cipher = dash(f[7]);
            p.used_bits = static_cast<int>(used);
            p.alg_bits = static_cast<int>(alg);
            p.verification = dash(f[10]);
            p.used = ++tick;
            pending.insert_or_assign(std::string(f[1]), std::move(p));
        } else if (f[0] == "lost" && f.size() == 3 && dropped.size() < kMaxPending) {
            if (dropped.insert_or_assign(std::string(f[1]), dash(f[2])).second) dropped_order.emplace_back(f[1]);
        } else {
            return fail(n, "not a state line");
        }
    }
    if (n == 0) return fail(1, "empty");
    pending_ = std::move(pending);
    dropped_ = std::move(dropped);
    dropped_order_ = std::move(dropped_order);
    tls_seen_ = std::move(seen);
    clock_tick_ = tick;
    return true;
}

}  // namespace tlspolicy::ingest
