// The pieces every report renderer uses: texts for times and numbers,
// escaping, and the rows of the report's tables in each table syntax.
#include "cli/report_render.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <ostream>

namespace tlspolicy::report_render {

using report_tally::column;
using report_tally::kColumns;

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

std::string csv_field(std::string_view s) {
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
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

Row tally_cells(const Tally& t) {
    Row c{{t.name}, {std::to_string(t.sessions), Kind::Number}};
    for (std::size_t i = 0; i < kColumns.size(); ++i) {
        bool weak_share = t.versions[i] > 0 && i != column(TlsVersion::TLSv1_2) && i != column(TlsVersion::TLSv1_3);
        c.push_back({percent(t.versions[i], t.sessions), Kind::Number, weak_share});
    }
    c.push_back({t.weakest ? describe(*t.weakest) : "-", Kind::Text, t.weakest && report_tally::weak(t.weakest->version)});
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

std::vector<Row> version_rows(const std::vector<report_tally::VersionSpan>& versions) {
    std::vector<Row> rows;
    for (const report_tally::VersionSpan& v : versions)
        rows.push_back({{v.sha256},
                        {std::string(mode_name(v.mode)), Kind::Text, v.mode == Mode::Monitor},
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

}  // namespace tlspolicy::report_render
