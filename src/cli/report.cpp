// `report`: tallies the stored sender-side decisions, re-judges them against
// a stricter policy with the same core the milter runs, and prints the result
// as text, CSV, JSON or HTML.
#include "cli/report.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <map>
#include <ostream>
#include <set>
#include <tuple>

#include "core/address.hpp"
#include "core/verdict.hpp"
#include "store/observation_source.hpp"
#include "tls/cipher_table.hpp"

namespace tlspolicy {
namespace {

// ------------------------------------------------------------------ the numbers

constexpr std::array<std::string_view, 6> kColumns{"none", "TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3", "other"};
using Counts = std::array<int, kColumns.size()>;

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

constexpr std::array<const char*, 4> kNotes{
    "a session is one sender-side decision (a message, or a transaction refused at MAIL FROM); "
    "it counts under every partner rule that applied to it",
    "shares by TLS version: none is plaintext; other is SSL 3.0 or an unrecognised version",
    "weak: plaintext, or TLS older than 1.2 (SSL 3.0 and unrecognised versions included)",
    "weakest cipher, weakest first: plaintext < older TLS version < fewer bits < not AEAD "
    "(a cipher name OpenSSL does not know counts as not AEAD)"};

bool weak(TlsVersion v) { return v < TlsVersion::TLSv1_2; }  // the enum is ordered, None first

struct Strength {
    TlsVersion version = TlsVersion::None;
    int bits = 0;
    bool aead = false;
    std::string cipher;
    bool weaker_than(const Strength& o) const {
        return std::tuple(version, bits, aead) < std::tuple(o.version, o.bits, o.aead);
    }
};

std::string describe(const Strength& s) {
    if (s.version == TlsVersion::None) return "plaintext";
    return std::string(header_name(s.version)) + " " + (s.cipher.empty() ? "(no cipher name)" : s.cipher) + " (" +
           std::to_string(s.bits) + " bits, " + (s.aead ? "AEAD" : "not AEAD") + ")";
}

// The report's time span and the chart's axis: hours for a window of two
// days or less, else UTC days, or several days each so that a chart has at
// most about 180 bars.
struct Window {
    std::int64_t since = 0, until = 0, step = 0, first = 0;
    int buckets = 0;
    std::int64_t bucket(std::int64_t t) const { return first + (t - first) / step * step; }
    std::string step_name() const {
        return step < 86400 ? "hour" : step == 86400 ? "day" : std::to_string(step / 86400) + " days";
    }
};

Window make_window(std::int64_t now, std::int64_t duration) {
    constexpr std::int64_t kDay = 86400, kMaxBars = 180;
    Window w;
    w.since = std::max<std::int64_t>(0, now - duration);
    w.until = now;
    w.step = duration <= 2 * kDay ? 3600 : kDay * ((duration + kMaxBars * kDay - 1) / (kMaxBars * kDay));
    w.first = w.since / w.step * w.step;
    w.buckets = static_cast<int>((w.until - w.first) / w.step + 1);
    return w;
}

// One line of the per-rule or per-domain table.
struct Tally {
    std::string name;
    int sessions = 0;
    Counts versions{};
    std::optional<Strength> weakest;
    std::optional<std::int64_t> last_weak;
    std::map<std::int64_t, Counts> buckets;  // for a chart: bucket start -> sessions by version

    void add(const Observation& o, const Strength& s, const Window* chart) {
        ++sessions;
        ++versions[column(o.version)];
        if (chart) ++buckets[chart->bucket(o.time)][column(o.version)];
        if (!weakest || s.weaker_than(*weakest)) weakest = s;  // rows come oldest first: the first seen stays
        if (weak(o.version)) last_weak = o.time;
    }
};

// A sender the stricter policy would refuse.
struct Offender {
    std::string sender, domain;
    std::set<std::string> rules;  // the failing rule that decided, per session
    int rejects = 0, tempfails = 0, sessions = 0;
    std::int64_t last_refused = 0;
    std::string reply;  // of the most recent refusal
    int refusals() const { return rejects + tempfails; }
};

struct Report {
    std::string database, since_text, against;  // against: the stricter file, "" when none
    Window window;
    std::vector<Tally> rules, domains;
    std::vector<Offender> offenders;
};

class Ciphers {  // OpenSSL's word on each cipher name, asked once per name
public:
    const CipherInfo& info(const std::string& name) {
        auto it = cache_.find(name);
        if (it == cache_.end()) it = cache_.emplace(name, cipher_table::lookup(name)).first;
        return it->second;
    }

private:
    std::map<std::string, CipherInfo> cache_;
};

std::string_view domain_name(std::string_view sender) {
    return sender.empty() ? "<>" : address_domain(sender).empty() ? "(no domain)" : address_domain(sender);
}

// The partner rules a stored decision was made under: its policy= names,
// without the current policy's recipient rules (a session belongs to its
// sender side; recipient refusals are rows of their own).
std::vector<std::string> sender_rules(std::span<const RuleRef> rules, const Policy& policy) {
    std::vector<std::string> out;
    for (const RuleRef& r : rules) {
        bool recipient = std::any_of(policy.recipients.begin(), policy.recipients.end(),
                                     [&](const Rule& p) { return p.name == r.name; });
        if (!r.name.empty() && !recipient) out.push_back(r.name);
    }
    if (out.empty()) out.emplace_back("default");
    return out;
}

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

void rejudge(const Policy& strict, const Observation& o, Ciphers& ciphers, std::map<std::string, Offender>& out) {
    const CipherInfo& info = ciphers.info(o.cipher);
    TlsFacts tls = make_tls_facts(macro_text(o.version), o.cipher, std::to_string(o.cipher_bits),
                                  std::to_string(o.alg_bits), info);
    if (tls.encrypted()) tls.cert = o.cert;
    SessionFacts s = make_session(o.client, o.hostname, std::move(tls));
    Verdict v = decide_sender(strict, s, o.sender);
    Offender& f = out[o.sender];
    ++f.sessions;
    if (v.enforced == Decision::Accept) return;
    f.sender = o.sender.empty() ? "<>" : o.sender;
    f.domain = domain_name(o.sender);
    (v.enforced == Decision::Reject ? f.rejects : f.tempfails)++;
    f.last_refused = o.time;
    f.reply = v.reply ? v.reply->line() : "";
    for (const RuleOutcome& r : v.rules)
        if (r.failed() && r.rule->action == v.failed_action) {
            f.rules.insert(r.rule->name);  // the rule the core's reply names: the first of the worst
            break;
        }
}

// Tallies every sender-side observation as it streams past.
class Gatherer {
public:
    Gatherer(const Policy& policy, const Policy* strict, Window w) : policy_(policy), strict_(strict), w_(w) {}

    void add(const Observation& o) {
        if (o.stage == Stage::Rcpt) return;  // Mail and Message: the sender side
        const CipherInfo& info = ciphers_.info(o.cipher);
        Strength s{o.version, o.version == TlsVersion::None ? 0 : o.cipher_bits, info.aead, o.cipher};
        for (const std::string& r : sender_rules(o.rules, policy_)) {
            rules_[r].name = r;
            rules_[r].add(o, s, &w_);
        }
        const std::string domain(domain_name(o.sender));
        domains_[domain].name = domain;
        domains_[domain].add(o, s, nullptr);  // no chart per domain: there may be thousands
        if (strict_) rejudge(*strict_, o, ciphers_, offenders_);
    }

    Report finish() {
        Report rep;
        rep.window = w_;
        rep.rules = sorted(std::move(rules_));
        rep.domains = sorted(std::move(domains_));
        for (auto& [sender, f] : offenders_)
            if (f.refusals() > 0) rep.offenders.push_back(std::move(f));
        std::stable_sort(rep.offenders.begin(), rep.offenders.end(), [](const Offender& a, const Offender& b) {
            return std::tuple(a.refusals(), a.rejects, a.last_refused) >
                   std::tuple(b.refusals(), b.rejects, b.last_refused);
        });
        return rep;
    }

private:
    const Policy& policy_;
    const Policy* strict_;
    Window w_;
    Ciphers ciphers_;
    std::map<std::string, Tally> rules_, domains_;
    std::map<std::string, Offender> offenders_;  // by sender: the sort's last key
};

// ------------------------------------------------------------------ formatting

std::string iso_time(std::int64_t t) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string fixed(double v, int decimals) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string percent(int n, int total) { return fixed(total ? 100.0 * n / total : 0.0, 1) + "%"; }
std::string share(int n, int total) { return fixed(total ? double(n) / total : 0.0, 4); }

std::string join(const std::set<std::string>& names) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ",") + n;
    return s;
}

std::string title(const Report& r) {
    return "tlspolicy-milter report: " + iso_time(r.window.since) + " to " + iso_time(r.window.until) +
           " (--since " + r.since_text + ")";
}

// A table cell. Numbers are right-aligned; in HTML weak values stand out,
// numbers and times never wrap, and a reply gets room to be read.
enum class Kind { Text, Number, Time, Reply };
struct Cell {
    std::string text;
    Kind kind = Kind::Text;
    bool weak = false;
    bool number() const { return kind == Kind::Number; }
};
using Row = std::vector<Cell>;

Row tally_cells(const Tally& t) {
    Row c{{t.name}, {std::to_string(t.sessions), Kind::Number}};
    for (std::size_t i = 0; i < kColumns.size(); ++i) {
        bool weak_share = t.versions[i] > 0 && i != column(TlsVersion::TLSv1_2) && i != column(TlsVersion::TLSv1_3);
        c.push_back({percent(t.versions[i], t.sessions), Kind::Number, weak_share});
    }
    c.push_back({t.weakest ? describe(*t.weakest) : "-", Kind::Text, t.weakest && weak(t.weakest->version)});
    c.push_back({t.last_weak ? iso_time(*t.last_weak) : "-", Kind::Time});
    return c;
}

std::vector<std::string> tally_header(const char* first) {
    std::vector<std::string> h{first, "sessions"};
    for (auto c : kColumns) h.emplace_back(c);
    h.insert(h.end(), {"weakest cipher seen", "last weak session"});
    return h;
}

std::vector<std::string> offender_header() {
    return {"sender", "domain", "rule", "would reject", "would tempfail", "of sessions", "last refused", "reply"};
}

Row offender_cells(const Offender& f) {
    return {{f.sender},
            {f.domain},
            {join(f.rules)},
            {std::to_string(f.rejects), Kind::Number},
            {std::to_string(f.tempfails), Kind::Number},
            {std::to_string(f.sessions), Kind::Number},
            {iso_time(f.last_refused), Kind::Time},
            {f.reply, Kind::Reply}};
}

// Two spaces between columns; a header is aligned like its column.
void text_table(const std::vector<std::string>& head, const std::vector<Row>& rows, std::ostream& out) {
    std::vector<std::size_t> width(head.size());
    for (std::size_t i = 0; i < head.size(); ++i) width[i] = head[i].size();
    for (const Row& r : rows)
        for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].text.size());
    auto line = [&](auto text_of, auto right_of) {
        std::string s;
        for (std::size_t i = 0; i < head.size(); ++i) {
            const std::string& t = text_of(i);
            std::string pad(width[i] - t.size(), ' ');
            s += (i ? "  " : "") + (right_of(i) ? pad + t : t + (i + 1 < head.size() ? pad : ""));
        }
        out << s << "\n";
    };
    line([&](std::size_t i) -> const std::string& { return head[i]; },
         [&](std::size_t i) { return !rows.empty() && rows[0][i].number(); });
    for (const Row& r : rows)
        line([&](std::size_t i) -> const std::string& { return r[i].text; }, [&](std::size_t i) { return r[i].number(); });
}

void write_text(const Report& r, std::ostream& out) {
    out << title(r) << "\ndatabase: " << r.database << "\n";
    for (const char* n : kNotes) out << "  " << n << "\n";
    if (r.rules.empty()) out << "\nno sessions in this window\n";
    for (auto [heading, tallies, first] : {std::tuple("By partner rule", &r.rules, "rule"),
                                           std::tuple("By sending domain", &r.domains, "domain")}) {
        if (tallies->empty()) continue;
        out << "\n" << heading << "\n";
        std::vector<Row> rows;
        for (const Tally& t : *tallies) rows.push_back(tally_cells(t));
        text_table(tally_header(first), rows, out);
    }
    if (r.against.empty()) return;
    out << "\nWould be refused by " << r.against << " (sender-side rules, as enforce mode answers)\n";
    if (r.offenders.empty()) out << "no sender would be refused\n";
    std::vector<Row> rows;
    for (const Offender& f : r.offenders) rows.push_back(offender_cells(f));
    if (!rows.empty()) text_table(offender_header(), rows, out);
}

std::string csv_field(std::string_view s) {
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

void csv_row(const std::vector<std::string>& cells, std::ostream& out) {
    for (std::size_t i = 0; i < cells.size(); ++i) out << (i ? "," : "") << csv_field(cells[i]);
    out << "\r\n";
}

void csv_row(const Row& cells, std::ostream& out) {
    std::vector<std::string> texts;
    for (const Cell& c : cells) texts.push_back(c.text);
    csv_row(texts, out);
}

void write_csv(const Report& r, std::ostream& out) {
    if (!r.against.empty()) {
        csv_row({"sender", "domain", "rule", "would_reject", "would_tempfail", "sessions", "last_refused", "reply"}, out);
        for (const Offender& f : r.offenders) csv_row(offender_cells(f), out);
        return;
    }
    std::vector<std::string> head{"section", "name", "sessions"};
    for (auto c : kColumns) head.emplace_back(c);
    head.insert(head.end(), {"plaintext_share", "weakest_version", "weakest_cipher", "weakest_bits", "weakest_aead",
                             "last_weak"});
    csv_row(head, out);
    for (auto [section, tallies] : {std::pair("rule", &r.rules), std::pair("domain", &r.domains)})
        for (const Tally& t : *tallies) {
            std::vector<std::string> c{section, t.name, std::to_string(t.sessions)};
            for (int n : t.versions) c.push_back(std::to_string(n));
            c.push_back(share(t.versions[0], t.sessions));
            const Strength* w = t.weakest ? &*t.weakest : nullptr;
            c.push_back(w ? std::string(header_name(w->version)) : "");
            c.push_back(w ? w->cipher : "");
            c.push_back(w ? std::to_string(w->bits) : "");
            c.push_back(w ? (w->aead ? "yes" : "no") : "");
            c.push_back(t.last_weak ? iso_time(*t.last_weak) : "");
            csv_row(c, out);
        }
}

std::string json_string(std::string_view s) {
    std::string q = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            q += '\\';
            q += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            q += buf;
        } else {
            q += c;
        }
    }
    return q + "\"";
}

std::string json_tally(const Tally& t) {
    std::string s = "{\"name\": " + json_string(t.name) + ", \"sessions\": " + std::to_string(t.sessions) +
                    ", \"versions\": {";
    for (std::size_t i = 0; i < kColumns.size(); ++i)
        s += (i ? ", " : "") + json_string(kColumns[i]) + ": " + std::to_string(t.versions[i]);
    s += "}, \"plaintext_share\": " + share(t.versions[0], t.sessions) + ", \"weakest\": ";
    if (t.weakest)
        s += "{\"version\": " + json_string(header_name(t.weakest->version)) + ", \"cipher\": " +
             json_string(t.weakest->cipher) + ", \"bits\": " + std::to_string(t.weakest->bits) +
             ", \"aead\": " + (t.weakest->aead ? "true" : "false") + "}";
    else
        s += "null";
    return s + ", \"last_weak\": " + (t.last_weak ? json_string(iso_time(*t.last_weak)) : "null") + "}";
}

std::string json_offender(const Offender& f) {
    std::string rules;
    for (const auto& n : f.rules) rules += (rules.empty() ? "" : ", ") + json_string(n);
    return "{\"sender\": " + json_string(f.sender) + ", \"domain\": " + json_string(f.domain) + ", \"rules\": [" +
           rules + "], \"would_reject\": " + std::to_string(f.rejects) + ", \"would_tempfail\": " +
           std::to_string(f.tempfails) + ", \"sessions\": " + std::to_string(f.sessions) +
           ", \"last_refused\": " + json_string(iso_time(f.last_refused)) + ", \"reply\": " + json_string(f.reply) + "}";
}

template <class T, class F>
void json_list(const char* key, const std::vector<T>& items, F item, std::ostream& out) {
    out << "  " << json_string(key) << ": [";
    for (std::size_t i = 0; i < items.size(); ++i) out << (i ? ",\n    " : "\n    ") << item(items[i]);
    out << (items.empty() ? "]" : "\n  ]");
}

void write_json(const Report& r, std::ostream& out) {
    out << "{\n  \"window\": {\"since\": " << json_string(iso_time(r.window.since))
        << ", \"until\": " << json_string(iso_time(r.window.until)) << ", \"seconds\": "
        << r.window.until - r.window.since << "},\n  \"database\": " << json_string(r.database)
        << ",\n  \"notes\": [";
    for (std::size_t i = 0; i < kNotes.size(); ++i) out << (i ? ",\n    " : "\n    ") << json_string(kNotes[i]);
    out << "\n  ],\n";
    json_list("rules", r.rules, json_tally, out);
    out << ",\n";
    json_list("domains", r.domains, json_tally, out);
    out << ",\n  \"against\": " << (r.against.empty() ? "null" : json_string(r.against)) << ",\n";
    if (r.against.empty())
        out << "  \"would_refuse\": null";
    else
        json_list("would_refuse", r.offenders, json_offender, out);
    out << "\n}\n";
}

// ------------------------------------------------------------------ HTML

std::string html(std::string_view s) {
    std::string e;
    for (char c : s) {
        switch (c) {
            case '&': e += "&amp;"; break;
            case '<': e += "&lt;"; break;
            case '>': e += "&gt;"; break;
            case '"': e += "&quot;"; break;
            default: e += c;
        }
    }
    return e;
}

// Colours by version, and the stacking order of the chart's bars (strongest at the bottom).
constexpr std::array<const char*, kColumns.size()> kColours{"#d73027", "#fc8d59", "#fee08b",
                                                             "#91cf60", "#1a9850", "#8c8c8c"};
constexpr std::array<std::size_t, kColumns.size()> kStack{4, 3, 2, 1, 5, 0};

// Several years need the year under a bar, which leaves room for fewer labels.
bool long_labels(const Window& w) { return w.until - w.since > 180 * 86400; }

// "05-03", "2024-05-03" or "14:00" under a bar; the full date (and hour) in its tooltip.
std::string bucket_label(std::int64_t t, const Window& w, bool tooltip) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    const char* format = w.step < 86400         ? (tooltip ? "%Y-%m-%d %H:00" : "%H:00")
                         : tooltip || long_labels(w) ? "%Y-%m-%d"
                                                     : "%m-%d";
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

// Stacked bars of sessions per bucket, one colour per TLS version.
void svg_chart(const Tally& t, const Window& w, std::ostream& out) {
    const double width = 760, height = 180, left = 40, right = 10, top = 12, bottom = 24;
    const double plot_w = width - left - right, plot_h = height - top - bottom, slot = plot_w / w.buckets;
    int max = 1;
    for (const auto& [start, c] : t.buckets) {
        int sum = 0;
        for (int n : c) sum += n;
        max = std::max(max, sum);
    }
    out << "<svg width=\"" << width << "\" height=\"" << height
        << "\" viewBox=\"0 0 " << width << " " << height << "\" role=\"img\" aria-label=\"TLS versions of "
        << html(t.name) << " sessions over time\">\n";
    out << "<line x1=\"" << left << "\" y1=\"" << top << "\" x2=\"" << width - right << "\" y2=\"" << top
        << "\" stroke=\"#ddd\"/><line x1=\"" << left << "\" y1=\"" << top + plot_h << "\" x2=\"" << width - right
        << "\" y2=\"" << top + plot_h << "\" stroke=\"#888\"/>\n";
    out << "<text x=\"" << left - 6 << "\" y=\"" << top + 4 << "\" text-anchor=\"end\">" << max << "</text><text x=\""
        << left - 6 << "\" y=\"" << top + plot_h << "\" text-anchor=\"end\">0</text>\n";
    const int labels = long_labels(w) ? 8 : 12, label_every = (w.buckets + labels - 1) / labels;
    for (int i = 0; i < w.buckets; ++i) {
        const std::int64_t start = w.first + i * w.step;
        const double x = left + i * slot;
        if (i % label_every == 0)
            out << "<text x=\"" << fixed(x + slot / 2, 1) << "\" y=\"" << height - 6 << "\" text-anchor=\"middle\">"
                << bucket_label(start, w, false) << "</text>\n";
        auto it = t.buckets.find(start);
        if (it == t.buckets.end()) continue;
        double y = top + plot_h;
        out << "<g><title>" << bucket_label(start, w, true) << ":";
        for (std::size_t c : kStack)
            if (it->second[c]) out << " " << kColumns[c] << " " << it->second[c];
        out << "</title>";
        for (std::size_t c : kStack) {
            if (!it->second[c]) continue;
            const double h = plot_h * it->second[c] / max;
            y -= h;
            out << "<rect x=\"" << fixed(x + slot * 0.1, 1) << "\" y=\"" << fixed(y, 1) << "\" width=\""
                << fixed(slot * 0.8, 1) << "\" height=\"" << fixed(h, 1) << "\" fill=\"" << kColours[c] << "\"/>";
        }
        out << "</g>\n";
    }
    out << "</svg>\n";
}

void html_table(const std::vector<std::string>& head, const std::vector<Row>& rows, std::ostream& out) {
    out << "<table>\n<tr>";
    for (std::size_t i = 0; i < head.size(); ++i)
        out << "<th" << (!rows.empty() && rows[0][i].number() ? " class=\"num\"" : "") << ">" << html(head[i]) << "</th>";
    out << "</tr>\n";
    for (const Row& r : rows) {
        out << "<tr>";
        for (const Cell& c : r) {
            static constexpr const char* kClass[] = {"", "num", "time", "reply"};
            std::string cls = kClass[static_cast<int>(c.kind)];
            if (c.weak) cls += cls.empty() ? "weak" : " weak";
            out << "<td" << (cls.empty() ? "" : " class=\"" + cls + "\"") << ">" << html(c.text) << "</td>";
        }
        out << "</tr>\n";
    }
    out << "</table>\n";
}

constexpr const char* kStyle = R"(body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.8em}
table{border-collapse:collapse;font-size:.9em}th,td{padding:.25em .6em;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:top}
th{background:#f3f3f3}.num{text-align:right;font-variant-numeric:tabular-nums}td.num,td.time{white-space:nowrap}td.weak{color:#b30000}
.notes{color:#555;font-size:.9em}.legend span{display:inline-block;margin-right:1.2em}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em}
td.reply{min-width:16em}figure{margin:1em 0}figcaption{font-weight:600}svg text{font-size:11px;fill:#444})";

void write_html(const Report& r, std::ostream& out) {
    out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << html(title(r))
        << "</title>\n<style>\n" << kStyle << "\n</style>\n</head>\n<body>\n<h1>" << html(title(r)) << "</h1>\n";
    out << "<p class=\"notes\">database " << html(r.database) << "</p>\n<ul class=\"notes\">\n";
    for (const char* n : kNotes) out << "<li>" << html(n) << "</li>\n";
    out << "</ul>\n";
    if (r.rules.empty()) out << "<p>No sessions in this window.</p>\n";
    auto table = [&](const char* heading, const std::vector<Tally>& tallies, const char* first) {
        std::vector<Row> rows;
        for (const Tally& t : tallies) rows.push_back(tally_cells(t));
        out << "<h2>" << heading << "</h2>\n";
        html_table(tally_header(first), rows, out);
    };
    if (!r.rules.empty()) {
        table("By partner rule", r.rules, "rule");
        out << "<h2>TLS versions over time, by partner rule (sessions per " << r.window.step_name()
            << ", UTC)</h2>\n<p class=\"legend\">";
        for (std::size_t c : kStack) out << "<span><i style=\"background:" << kColours[c] << "\"></i>" << kColumns[c] << "</span>";
        out << "</p>\n";
        for (const Tally& t : r.rules) {
            out << "<figure>\n<figcaption>" << html(t.name) << "</figcaption>\n";
            svg_chart(t, r.window, out);
            out << "</figure>\n";
        }
        table("By sending domain", r.domains, "domain");
    }
    if (!r.against.empty()) {
        out << "<h2>Would be refused by " << html(r.against) << "</h2>\n<p class=\"notes\">sender-side rules, as enforce mode answers</p>\n";
        std::vector<Row> rows;
        for (const Offender& f : r.offenders) rows.push_back(offender_cells(f));
        if (rows.empty()) out << "<p>No sender would be refused.</p>\n";
        else html_table(offender_header(), rows, out);
    }
    out << "</body>\n</html>\n";
}

}  // namespace

std::optional<std::int64_t> parse_duration(std::string_view text) {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || n <= 0 || end + 1 != text.data() + text.size()) return std::nullopt;
    const std::int64_t unit = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400
                             : *end == 'w' ? 7 * 86400 : 0;
    if (unit == 0 || n > 100LL * 366 * 86400 / unit) return std::nullopt;  // a century is enough
    return n * unit;
}

int report(const Config& config, const ReportOptions& opt, std::ostream& out, std::ostream& err) {
    auto duration = parse_duration(opt.since);
    if (!duration) {
        err << "report: --since '" << opt.since << "' is not a duration such as 90m, 12h, 7d or 2w\n";
        return 2;
    }
    static const std::map<std::string, void (*)(const Report&, std::ostream&), std::less<>> kWriters{
        {"text", write_text}, {"csv", write_csv}, {"json", write_json}, {"html", write_html}};
    auto writer = kWriters.find(opt.format);
    if (writer == kWriters.end()) {
        err << "report: --format '" << opt.format << "' is not one of text, csv, json, html\n";
        return 2;
    }
    const std::string database = opt.database.empty() ? config.observations.database : opt.database;
    if (database.empty()) {
        err << "report: " << config.path << " sets no [observations] database; set one, or pass --database\n";
        return 1;
    }
    std::shared_ptr<const Config> strict;
    if (!opt.against.empty()) {
        LoadResult loaded = load_config_file(opt.against);
        for (const Diagnostic& d : loaded.diagnostics) err << d.format() << '\n';
        if (!loaded.ok()) return 1;
        strict = loaded.config;
    }
    Window w = make_window(opt.now, *duration);
    Gatherer g(*config.policy, strict ? strict->policy.get() : nullptr, w);
    std::string error;
    std::unique_ptr<ObservationSource> source = open_observation_source(database, &error);
    if (source) error = source->for_each(w.since, w.until, [&](const Observation& o) { g.add(o); });
    if (!error.empty()) {
        err << "report: " << error << "\n";
        return 1;
    }
    Report r = g.finish();
    r.database = database;
    r.since_text = opt.since;
    r.against = opt.against;
    writer->second(r, out);
    return 0;
}

}  // namespace tlspolicy
