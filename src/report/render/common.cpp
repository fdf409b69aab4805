// The pieces the renderers of both report kinds use: texts for times and
// numbers, notes, and the rows of the tables in each table syntax.
#include "report/render/common.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <ostream>

namespace tlspolicy::report::render {

using report::column;
using report::kColumns;

namespace {
constexpr std::array<const char*, 4> kNotes{
    "a session is one sender-side decision (a message, or a transaction refused at MAIL FROM); "
    "it counts under every partner rule that applied to it",
    "shares by TLS version: none is plaintext; other is SSL 3.0 or an unrecognised version",
    "weak: plaintext, or TLS older than 1.2 (SSL 3.0 and unrecognised versions included)",
    "weakest cipher, weakest first: plaintext < older TLS version < fewer bits < not AEAD "
    "(a cipher name OpenSSL does not know counts as not AEAD)"};
}  // namespace

std::span<const char* const> notes() { return kNotes; }

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

std::string percent(std::int64_t n, std::int64_t total) {
    return fixed(total ? 100.0 * static_cast<double>(n) / static_cast<double>(total) : 0.0, 1) + "%";
}
std::string share(std::int64_t n, std::int64_t total) {
    return fixed(total ? static_cast<double>(n) / static_cast<double>(total) : 0.0, 4);
}

std::string join(const std::set<std::string>& names) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ",") + n;
    return s;
}

std::string title(const Report& r) {
    return "tlspolicy-milter report: " + iso_time(r.window.since) + " to " + iso_time(r.window.until) +
           " (--since " + r.since_text + ")";
}

Row tally_cells(const Tally& t) {
    Row c{{t.name}, {std::to_string(t.sessions), Kind::Number}};
    for (std::size_t i = 0; i < kColumns.size(); ++i) {
        bool weak_share = t.versions[i] > 0 && i != column(TlsVersion::TLSv1_2) && i != column(TlsVersion::TLSv1_3);
        c.push_back({percent(t.versions[i], t.sessions), Kind::Number, weak_share});
    }
    c.push_back({t.weakest ? describe(*t.weakest) : "-", Kind::Text, t.weakest && report::weak(t.weakest->version)});
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

std::vector<std::string> version_header() { return {"policy sha256", "mode", "from", "until", "hosts"}; }

std::string hosts_list(const std::set<std::string>& hosts) {
    std::string s;
    for (const std::string& h : hosts) s += (s.empty() ? "" : ",") + (h.empty() ? std::string("(not recorded)") : h);
    return s;
}

std::vector<Row> version_rows(const std::vector<report::VersionSpan>& versions) {
    std::vector<Row> rows;
    for (const report::VersionSpan& v : versions)
        rows.push_back({{v.sha256},
                        {std::string(word(v.mode)), Kind::Text, v.mode == Mode::Monitor},
                        {iso_time(v.from), Kind::Time},
                        {v.current ? "still in force" : iso_time(v.until), Kind::Time},
                        {hosts_list(v.hosts)}});
    return rows;
}

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

void csv_row(const std::vector<std::string>& cells, std::ostream& out) {
    for (std::size_t i = 0; i < cells.size(); ++i) out << (i ? "," : "") << csv_field(cells[i]);
    out << "\r\n";
}

void csv_row(const Row& cells, std::ostream& out) {
    std::vector<std::string> texts;
    for (const Cell& c : cells) texts.push_back(c.text);
    csv_row(texts, out);
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

// ---- report --evidence ----
namespace {

constexpr std::array<const char*, 9> kEvidenceNotes{
    "a message is one accepted message; it counts under every partner rule that applied to its sender and "
    "every recipient rule that applied to one of its recipients",
    "TLS 1.2+, older TLS and plaintext are shares of those messages (older TLS includes SSL 3.0 and "
    "unrecognised versions)",
    "refused: transactions refused at MAIL FROM (partner rules) or recipients refused at RCPT TO (recipient "
    "rules); a sender that retries after a tempfail counts once per attempt",
    "would be refused: accepted in monitor mode, refused had the policy been enforced",
    "weakest session seen, of every session counted (refused ones included), weakest first: plaintext < older "
    "TLS version < fewer bits < not AEAD",
    "outbound rows (shown for rules with outbound deliveries in the window) count our deliveries to the "
    "partner's domains, one per recipient, as `ingest` read them from the MTA's log: messages are deliveries "
    "sent; no TLS facts: sent, but the log said nothing of TLS (smtp_tls_loglevel 0)",
    "verified cert: messages over TLS with a verified certificate (inbound the client's, outbound the server's)",
    "deferred or bounced for TLS: outbound attempts the MTA held back or returned because TLS failed or was "
    "missing; a deferral counts once per attempt",
    "months are calendar months in UTC; the first and the last are cut to the window"};

}  // namespace

std::string evidence_title(const Evidence& ev) {
    return "tlspolicy-milter evidence: " + iso_time(ev.since) + " to " + iso_time(ev.until) + " (--since " +
           ev.since_text + ")";
}

std::span<const char* const> evidence_notes() { return kEvidenceNotes; }

std::string rule_heading(const report::RuleEvidence& e) {
    return std::string(word(e.kind)) + " rule " + e.name +
           (e.in_policy ? "" : " (not in the current policy)");
}

std::vector<std::string> month_header() {
    return {"month", "direction", "messages", "TLS 1.2+", "older TLS", "plaintext", "no TLS facts", "verified cert",
            "refused", "would be refused", "deferred for TLS", "bounced for TLS", "weakest session seen", "hosts",
            "policy versions"};
}

std::string month_percent(std::int64_t n, const report::Month& m) { return m.messages ? percent(n, m.messages) : "-"; }

std::string weakest_text(const report::Month& m) {
    if (!m.weakest) return "-";
    const report::Weakest& w = *m.weakest;
    return report::describe(w.strength) + " at " + iso_time(w.time) + (w.host.empty() ? "" : " on " + w.host) +
           (w.refused ? (m.direction == Direction::Outbound ? " (not sent)" : " (refused)")
                      : w.would ? " (would be refused)" : "");
}

std::string hosts_text(const report::Month& m) {
    std::string s;
    for (const auto& [host, n] : m.hosts)
        s += (s.empty() ? "" : ", ") + (host.empty() ? std::string("(not recorded)") : host) + " " + std::to_string(n);
    return s.empty() ? "-" : s;
}

std::vector<const report::Month*> evidence_months(const report::RuleEvidence& e) {
    std::vector<const report::Month*> out;
    for (std::size_t i = 0; i < e.months.size(); ++i) {
        out.push_back(&e.months[i]);
        if (e.has_outbound) out.push_back(&e.outbound_months[i]);
    }
    out.push_back(&e.total);
    if (e.has_outbound) out.push_back(&e.outbound_total);
    return out;
}

}  // namespace tlspolicy::report::render
