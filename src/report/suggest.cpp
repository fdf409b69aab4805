// The logic of `report --suggest`: group the window's inbound messages the
// way a [[partner]] rule names them (see suggest.hpp), add up what each
// group's messages met, and turn that into rules: new ones, and the stricter
// versions of the current policy's partner rules.
#include "report/suggest.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <tuple>

#include "core/address.hpp"
#include "core/escape.hpp"
#include "core/ip_address.hpp"
#include "core/verdict.hpp"

namespace tlspolicy::report {
namespace {

// The version as an MTA reports it, so that the core parses it back (as --against does).
std::string_view macro_text(TlsVersion v) {
    return v == TlsVersion::None ? "" : v == TlsVersion::Unknown ? "unknown" : config_name(v);
}

TlsFacts facts_of(const Observation& o, const CipherInfo& info) {
    TlsFacts tls = make_tls_facts(macro_text(o.version), o.cipher, std::to_string(o.cipher_bits),
                                  std::to_string(o.alg_bits), info);
    if (tls.encrypted()) tls.cert = o.cert;
    return tls;
}

std::string toml_array(const std::vector<std::string>& items) {
    std::string s = "[";
    for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + json_string(items[i]);
    return s + "]";
}

std::string entry_text(const Entry& e) { return (e.kind == EntryKind::Subdomains ? "." : "") + e.key; }

template <class T, class F>
std::vector<std::string> texts(const std::vector<T>& items, F f) {
    std::vector<std::string> out;
    for (const T& i : items) out.push_back(f(i));
    return out;
}

// A rule name from a domain or a network: letters, digits, '.', '-', '_' only.
std::string rule_name(std::string_view from, const Policy& current, const std::set<std::string>& taken) {
    std::string name;
    for (char c : from) name += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_') ? c : '-';
    auto used = [&](const std::string& n) {
        if (taken.contains(n)) return true;
        return std::any_of(current.partners.begin(), current.partners.end(), [&](const Rule& r) { return r.name == n; }) ||
               std::any_of(current.recipients.begin(), current.recipients.end(), [&](const Rule& r) { return r.name == n; });
    };
    std::string candidate = name;
    for (int i = 2; used(candidate); ++i) candidate = name + "-" + std::to_string(i);
    return candidate;
}

// The requirement keys of `w`, as a policy file writes them.
void requirement_keys(const Wanted& w, std::vector<RuleKey>& keys) {
    if (w.require_tls) keys.push_back({"require_tls", "true"});
    if (w.min_version) keys.push_back({"min_version", json_string(config_name(*w.min_version))});
    if (w.min_cipher_bits) keys.push_back({"min_cipher_bits", std::to_string(*w.min_cipher_bits)});
    if (!w.ciphers.empty()) keys.push_back({"ciphers", json_string(w.ciphers)});
    if (!w.ciphersuites.empty()) keys.push_back({"ciphersuites", json_string(w.ciphersuites)});
    if (w.profile) keys.push_back({"profile", json_string(w.profile->name)});
    // cert_subjects and cert_issuers imply it; written anyway, so the rule reads plainly.
    if (w.require_client_cert) keys.push_back({"require_client_cert", "true"});
    if (!w.cert_subjects.empty()) keys.push_back({"cert_subjects", toml_array(w.cert_subjects)});
    if (!w.cert_issuers.empty()) keys.push_back({"cert_issuers", toml_array(w.cert_issuers)});
}

// A group of messages no current rule selects, and the rule that would name it.
struct Group {
    std::string label;  // the domain or the network
    std::vector<std::string> senders, clients;
};

// Domains as a rule names them: a domain and its subdomains under the
// shortest parent that sent too.
std::vector<Group> domain_groups(const std::set<std::string>& domains) {
    std::map<std::string, std::set<std::string>> by_root;
    for (const std::string& d : domains) {
        std::string root = d;
        for (std::size_t dot = d.find('.'); dot != std::string::npos; dot = d.find('.', dot + 1))
            if (domains.contains(d.substr(dot + 1))) root = d.substr(dot + 1);  // later dots: shorter parents
        by_root[root].insert(d);
    }
    std::vector<Group> out;
    for (const auto& [root, members] : by_root) {
        Group g{root, {root}, {}};
        if (members.size() > 1) g.senders.push_back("." + root);
        out.push_back(std::move(g));
    }
    return out;
}

struct Candidate {
    Rule selectors;                    // the rule as the core matches it: selectors only
    const Rule* existing = nullptr;    // a current partner rule, or null for a new one
    std::string label;
    Observed seen;
    std::int64_t existing_fails = 0;  // messages the current rule already refuses
};

}  // namespace

void Observed::add(const Observation& o, std::int64_t count, std::int64_t first_time, std::int64_t last_time,
                   const Strength& s, const CipherInfo& info) {
    if (messages == 0 || first_time < first) first = first_time;
    last = std::max(last, last_time);
    messages += count;
    if (!o.client.empty()) clients.insert(o.client);
    if (!o.host.empty()) hosts.insert(o.host);
    if (!weakest || weaker_first(s, first_time, *weakest, weakest_time)) {
        weakest = s;
        weakest_time = first_time;
    }
    if (profile_fits.empty()) profile_fits.assign(all_profiles().size(), true);
    if (o.version == TlsVersion::None) {
        plaintext += count;
        all_verified = false;
        return;
    }
    oldest = std::min(oldest.value_or(o.version), o.version);
    fewest_bits = std::min(fewest_bits.value_or(o.cipher_bits), o.cipher_bits);
    const bool tls13 = o.version == TlsVersion::TLSv1_3;
    if (!tls13 && !(info.aead && info.forward_secrecy)) all_aead_pfs = false;
    for (std::size_t i = 0; i < all_profiles().size(); ++i) {
        const Profile& p = all_profiles()[i];
        const CipherListPtr& list = tls13 ? p.tls13_suites : p.tls12_ciphers;
        if (o.version == TlsVersion::Unknown || o.version < p.min_version || !list || !list->allows(o.cipher))
            profile_fits[i] = false;
    }
    if (o.cert.status != CertStatus::Verified) all_verified = false;
    subjects.insert(o.cert.subject_cn);
    issuers.insert(o.cert.issuer_cn);
}

Wanted strictest(const Observed& seen) {
    Wanted w;
    if (seen.messages == 0 || seen.plaintext > 0) return w;
    w.require_tls = true;
    if (seen.oldest && *seen.oldest >= TlsVersion::TLSv1_0) w.min_version = *seen.oldest;
    if (seen.fewest_bits && *seen.fewest_bits > 0) w.min_cipher_bits = *seen.fewest_bits;
    // The first preset that allows every session: modern (TLS 1.3 only), then
    // BSI TR-02102-2 (the guideline German operators answer to), then intermediate.
    for (std::string_view name : {"mozilla-modern", "bsi-tr-02102-2", "mozilla-intermediate"})
        for (std::size_t i = 0; i < seen.profile_fits.size() && !w.profile; ++i)
            if (seen.profile_fits[i] && all_profiles()[i].name == name) w.profile = &all_profiles()[i];
    const bool any_tls12 = seen.oldest && *seen.oldest < TlsVersion::TLSv1_3;
    if (!w.profile && any_tls12 && seen.all_aead_pfs) w.ciphers = std::string(kAeadPfsCiphers);
    if (seen.all_verified) {
        w.require_client_cert = true;
        if (seen.subjects.size() == 1 && !seen.subjects.begin()->empty()) w.cert_subjects = {*seen.subjects.begin()};
        if (seen.issuers.size() == 1 && !seen.issuers.begin()->empty()) w.cert_issuers = {*seen.issuers.begin()};
    }
    return w;
}

Wanted wanted_of(const Requirements& req) {
    Wanted w;
    w.require_tls = req.require_tls;
    w.min_version = req.min_version;
    w.min_cipher_bits = req.min_cipher_bits;
    w.profile = req.profile;
    if (req.ciphers) w.ciphers = req.ciphers->spec;
    if (req.ciphersuites) w.ciphersuites = req.ciphersuites->spec;
    w.require_client_cert = req.require_client_cert;
    w.cert_subjects = texts(req.cert_subjects, entry_text);
    w.cert_issuers = req.cert_issuers;
    return w;
}

Wanted stricter_of(const Wanted& a, const Wanted& b, std::vector<std::string>* changes) {
    Wanted w = a;
    auto note = [&](std::string line) {
        if (changes) changes->push_back(std::move(line));
    };
    if (b.require_tls && !a.require_tls) {
        w.require_tls = true;
        note("require_tls false -> true");
    }
    // The version the rule asks for, a preset's included.
    auto floor = [](const Wanted& x) {
        std::optional<TlsVersion> v = x.min_version;
        if (x.profile && (!v || *v < x.profile->min_version)) v = x.profile->min_version;
        return v;
    };
    if (b.min_version && (!floor(a) || *floor(a) < *b.min_version)) {
        note("min_version " + std::string(a.min_version ? config_name(*a.min_version) : "(none)") + " -> " +
             std::string(config_name(*b.min_version)));
        w.min_version = b.min_version;
    }
    if (b.min_cipher_bits && (!a.min_cipher_bits || *a.min_cipher_bits < *b.min_cipher_bits)) {
        note("min_cipher_bits " + (a.min_cipher_bits ? std::to_string(*a.min_cipher_bits) : "(none)") + " -> " +
             std::to_string(*b.min_cipher_bits));
        w.min_cipher_bits = b.min_cipher_bits;
    }
    if (b.profile && !a.profile) {
        note("profile (none) -> " + std::string(b.profile->name));
        w.profile = b.profile;
    }
    if (!b.ciphers.empty() && a.ciphers.empty() && !w.profile) {
        note("ciphers (none) -> \"" + b.ciphers + "\"");
        w.ciphers = b.ciphers;
    }
    if (b.require_client_cert && !a.require_client_cert) {
        note("require_client_cert false -> true");
        w.require_client_cert = true;
    }
    if (!b.cert_subjects.empty() && a.cert_subjects.empty()) {
        note("cert_subjects (any) -> " + toml_array(b.cert_subjects));
        w.cert_subjects = b.cert_subjects;
    }
    if (!b.cert_issuers.empty() && a.cert_issuers.empty()) {
        note("cert_issuers (any) -> " + toml_array(b.cert_issuers));
        w.cert_issuers = b.cert_issuers;
    }
    return w;
}

std::string client_network(std::string_view client) {
    std::optional<IpAddress> ip = parse_ip(client);
    if (!ip) return "";
    Cidr c{*ip, ip->v4 ? 24 : 48};
    const std::size_t keep = ip->v4 ? 3 : 6;
    for (std::size_t i = keep; i < c.network.bytes.size(); ++i) c.network.bytes[i] = 0;
    return c.to_string();
}

void Suggester::add(const Observation& o, const Weight& w) {
    if (o.stage == Stage::Rcpt || o.direction != Direction::Inbound) return;
    rows_.emplace_back(o, w);
}

Suggestions Suggester::finish(Window window) {
    Suggestions out;
    out.window = window;
    out.min_messages = min_messages_;

    // The messages no current partner rule selects, by sender domain or, without one, by client network.
    std::set<std::string> domains, networks;
    std::vector<Match> hits;
    for (const auto& [o, w] : rows_) {
        hits.clear();
        current_.match_partners(parse_ip(o.client), o.hostname, o.sender, hits);
        if (!hits.empty()) continue;
        const std::string domain(address_domain(o.sender));
        if (!domain.empty()) domains.insert(domain);
        else if (std::string net = client_network(o.client); !net.empty()) networks.insert(net);
    }

    // Every candidate rule, new and current, as the core would match it.
    std::vector<Candidate> candidates;
    std::set<std::string> taken;
    for (const Rule& r : current_.partners) {
        Candidate c;
        c.selectors.name = r.name;
        c.selectors.kind = RuleKind::Partner;
        c.selectors.clients = r.clients;
        c.selectors.hostnames = r.hostnames;
        c.selectors.senders = r.senders;
        c.existing = &r;
        c.label = r.name;
        candidates.push_back(std::move(c));
    }
    auto add_new = [&](std::string label, const std::vector<std::string>& senders, const std::vector<std::string>& clients) {
        Candidate c;
        c.selectors.name = rule_name(label, current_, taken);
        taken.insert(c.selectors.name);
        c.selectors.kind = RuleKind::Partner;
        for (const std::string& s : senders)
            if (auto e = parse_entry(s, true, nullptr)) c.selectors.senders.push_back(*e);
        for (const std::string& n : clients)
            if (auto cidr = parse_cidr(n, nullptr)) c.selectors.clients.push_back(*cidr);
        c.label = std::move(label);
        candidates.push_back(std::move(c));
    };
    for (const Group& g : domain_groups(domains)) add_new(g.label, g.senders, {});
    for (const std::string& net : networks) add_new(net, {}, {net});

    Policy matcher;
    for (const Candidate& c : candidates) matcher.partners.push_back(c.selectors);
    matcher.build_indexes();
    for (const auto& [o, w] : rows_) {
        hits.clear();
        matcher.match_partners(parse_ip(o.client), o.hostname, o.sender, hits);
        if (hits.empty()) continue;
        const CipherInfo& info = ciphers_.info(o.cipher);
        const Strength s{o.version, o.version == TlsVersion::None ? 0 : o.cipher_bits, info.aead, o.cipher};
        std::optional<TlsFacts> tls;
        std::uint32_t previous = std::numeric_limits<std::uint32_t>::max();
        for (const Match& m : hits) {
            if (m.rule == previous) continue;  // a rule at most once per message
            previous = m.rule;
            Candidate& c = candidates[m.rule];
            c.seen.add(o, w.count, w.first, w.last, s, info);
            if (c.existing) {
                if (!tls) tls = facts_of(o, info);
                const std::vector<CheckResult> checks = judge_requirements(c.existing->req, *tls);
                if (std::any_of(checks.begin(), checks.end(), [](const CheckResult& r) { return !r.passed; }))
                    c.existing_fails += w.count;
            }
        }
    }

    for (Candidate& c : candidates) {
        if (c.seen.messages == 0) continue;  // a current rule nobody sent under: nothing to learn
        const std::string what = c.existing ? "rule " + c.label : c.label;
        if (c.seen.messages < min_messages_) {
            out.quiet.push_back({what, std::to_string(c.seen.messages) + " message" + (c.seen.messages == 1 ? "" : "s") +
                                           ", fewer than --min-messages " + std::to_string(min_messages_),
                                 c.seen});
            continue;
        }
        if (c.existing && c.existing_fails > 0) {
            out.not_ready.push_back({what, "already refuses " + std::to_string(c.existing_fails) +
                                               " of its messages; see report --against",
                                     c.seen});
            continue;
        }
        if (c.seen.plaintext > 0) {
            out.not_ready.push_back({what, std::to_string(c.seen.plaintext) + " of " + std::to_string(c.seen.messages) +
                                               " messages in plaintext: nothing can be required yet",
                                     c.seen});
            continue;
        }
        Suggestion s;
        s.name = c.selectors.name;
        s.seen = c.seen;
        s.keys.push_back({"name", json_string(s.name)});
        if (!c.selectors.clients.empty())
            s.keys.push_back({"clients", toml_array(texts(c.selectors.clients, [](const Cidr& x) { return x.to_string(); }))});
        if (!c.selectors.hostnames.empty()) s.keys.push_back({"hostnames", toml_array(texts(c.selectors.hostnames, entry_text))});
        if (!c.selectors.senders.empty()) s.keys.push_back({"senders", toml_array(texts(c.selectors.senders, entry_text))});
        const Wanted seen = strictest(c.seen);
        if (c.existing) {
            s.kind = Suggestion::Kind::Change;
            s.line = c.existing->line;
            const Wanted merged = stricter_of(wanted_of(c.existing->req), seen, &s.changes);
            if (s.changes.empty()) {
                out.unchanged.push_back(c.label);
                continue;
            }
            requirement_keys(merged, s.keys);
            s.keys.push_back({"action", json_string(word(c.existing->action))});
            if (!c.existing->reply.empty()) s.keys.push_back({"reply", json_string(c.existing->reply)});
        } else {
            requirement_keys(seen, s.keys);
            // tempfail first: a mistake delays mail for a day instead of bouncing it.
            s.keys.push_back({"action", json_string("tempfail")});
        }
        out.rules.push_back(std::move(s));
    }
    std::stable_sort(out.rules.begin(), out.rules.end(), [](const Suggestion& a, const Suggestion& b) {
        return std::tuple(a.kind, -a.seen.messages, a.name) < std::tuple(b.kind, -b.seen.messages, b.name);
    });
    auto by_messages = [](const Skipped& a, const Skipped& b) {
        return std::tuple(-a.seen.messages, a.name) < std::tuple(-b.seen.messages, b.name);
    };
    std::stable_sort(out.quiet.begin(), out.quiet.end(), by_messages);
    std::stable_sort(out.not_ready.begin(), out.not_ready.end(), by_messages);
    return out;
}

void add_probe_facts(Suggestions& s, std::vector<ProbeFacts> probes) {
    std::sort(probes.begin(), probes.end(), [](const ProbeFacts& a, const ProbeFacts& b) { return a.rule < b.rule; });
    for (Suggestion& r : s.rules) {
        // Only domain entries are destinations: a rule of client networks has no outbound side.
        if (std::none_of(r.keys.begin(), r.keys.end(), [](const RuleKey& k) { return k.key == "senders"; })) continue;
        auto it = std::find_if(probes.begin(), probes.end(), [&](const ProbeFacts& p) { return p.rule == r.name; });
        if (it == probes.end()) {
            r.export_note = "no probe result: list \"" + r.name + " MX-HOST\" in the probe targets to learn whether mail to it could require TLS";
            continue;
        }
        r.probe = *it;
        const ProbeFacts& p = *it;
        // The version the suggested rule asks for (a preset's included); none: any.
        std::optional<TlsVersion> floor;
        for (const RuleKey& k : r.keys) {
            if (k.key == "min_version") floor = parse_config_version(k.value.substr(1, k.value.size() - 2));
            if (k.key == "profile")
                if (const Profile* pr = find_profile(k.value.substr(1, k.value.size() - 2)))
                    floor = std::max(floor.value_or(pr->min_version), pr->min_version);
        }
        const bool version_ok = std::any_of(p.accepted.begin(), p.accepted.end(),
                                            [&](TlsVersion v) { return !floor || v >= *floor; });
        if (!p.problem.empty()) r.export_note = "probe result unusable: " + p.problem;
        else if (p.stale) r.export_note = "probe result of " + p.time + " is older than the window: probe again before exporting";
        else if (!p.starttls) r.export_note = "its server offered no STARTTLS: leave it out of export";
        else if (!version_ok)
            r.export_note = "its server accepts only " + accepted_text(p) + ": leave it out of export";
        else {
            r.export_ready = true;
            r.export_note = "its server accepts " + accepted_text(p) + ": export postfix-tls-policy can require it" +
                            (p.cert_verified && p.name_matches ? " (certificate verifies and matches)" : " (encrypt only: certificate does not verify or match)");
        }
    }
    s.probes = std::move(probes);
}

}  // namespace tlspolicy::report
