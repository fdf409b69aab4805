// `--format html`, both kinds: one self-contained page each (inline CSS,
// inline SVG charts, no script, nothing fetched).
//   report: a chart per partner rule of sessions per bucket, stacked by TLS version.
//   report --evidence: a page an auditor can keep; each bar is one month, the
//   shares of its messages over TLS 1.2 or newer, older TLS and plaintext,
//   stacked to 100%, refusals marked above it. Bars carry data-* attributes so
//   that a test can read them back.
#include <array>
#include <cctype>
#include <ctime>
#include <ostream>
#include <utility>

#include "report/render/common.hpp"
#include "report/render/suggest.hpp"
#include "report/render/formats.hpp"

namespace tlspolicy::report::render {

// ---- report ----
namespace {

using report::kColumns;
using report::Window;

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
    std::int64_t max = 1;
    for (const auto& [start, c] : t.buckets) {
        std::int64_t sum = 0;
        for (std::int64_t n : c) sum += n;
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
            const double h = plot_h * static_cast<double>(it->second[c]) / static_cast<double>(max);
            y -= h;
            out << "<rect x=\"" << fixed(x + slot * 0.1, 1) << "\" y=\"" << fixed(y, 1) << "\" width=\""
                << fixed(slot * 0.8, 1) << "\" height=\"" << fixed(h, 1) << "\" fill=\"" << kColours[c] << "\"/>";
        }
        out << "</g>\n";
    }
    out << "</svg>\n";
}

}  // namespace

namespace {
constexpr const char* kReportStyle = R"(body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.8em}
table{border-collapse:collapse;font-size:.9em}th,td{padding:.25em .6em;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:top}
th{background:#f3f3f3}.num{text-align:right;font-variant-numeric:tabular-nums}td.num,td.time{white-space:nowrap}td.weak{color:#b30000}
.notes{color:#555;font-size:.9em}.legend span{display:inline-block;margin-right:1.2em}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em}
td.reply{min-width:16em}figure{margin:1em 0}figcaption{font-weight:600}svg text{font-size:11px;fill:#444})";

}  // namespace

void write_html(const Report& r, std::ostream& out) {
    out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << html(title(r))
        << "</title>\n<style>\n" << kReportStyle << "\n</style>\n</head>\n<body>\n<h1>" << html(title(r)) << "</h1>\n";
    out << "<p class=\"notes\">database " << html(r.database) << (r.host.empty() ? "" : "; host " + html(r.host))
        << "</p>\n<ul class=\"notes\">\n";
    for (const char* n : notes()) out << "<li>" << html(n) << "</li>\n";
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
        if (!r.hosts.empty()) table("By MX host", r.hosts, "host");
    }
    if (!r.outbound.empty()) table(kOutboundHeading, r.outbound, "rule");
    out << "<h2>Policy versions in force</h2>\n";
    if (r.versions.empty()) out << "<p>" << html(kNoVersions) << "</p>\n";
    else html_table(version_header(), version_rows(r.versions), out);
    if (!r.against.empty()) {
        out << "<h2>Would be refused by " << html(r.against) << "</h2>\n<p class=\"notes\">sender-side rules, as enforce mode answers</p>\n";
        std::vector<Row> rows;
        for (const Offender& f : r.offenders) rows.push_back(offender_cells(f));
        if (rows.empty()) out << "<p>No sender would be refused.</p>\n";
        else html_table(offender_header(), rows, out);
    }
    out << "</body>\n</html>\n";
}


// ---- report --evidence ----
namespace {

using report::Month;
using report::RuleEvidence;

constexpr const char* kEvidenceStyle = R"(body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#222;max-width:60em}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}
table{border-collapse:collapse;font-size:.75em;width:100%}th,td{padding:.2em .3em;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:top}
td{overflow-wrap:anywhere}td.num,td.time,td:first-child{white-space:nowrap;overflow-wrap:normal}
th{background:#f3f3f3}.num{text-align:right;font-variant-numeric:tabular-nums}td.weak{color:#b30000}
.notes{color:#555;font-size:.9em}.legend span{display:inline-block;margin-right:1.2em}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em}
figure{margin:1em 0}svg.chart{display:block;width:100%;max-width:720px;height:auto}svg text{font-size:11px;fill:#444}
code{overflow-wrap:anywhere}@media print{h2{break-before:auto}section{break-inside:avoid}})";

constexpr std::array<std::pair<const char*, const char*>, 3> kParts{{
    {"modern", "#1a9850"}, {"older", "#fc8d59"}, {"plaintext", "#d73027"}}};  // bottom to top
constexpr const char* kRefusedColour = "#7f0000";
constexpr const char* kWouldColour = "#e08214";

std::string anchor(const RuleEvidence& e) {
    std::string a = std::string(word(e.kind)) + "-";
    for (char c : e.name) a += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return a;
}

// 100%-stacked bars per month, with a mark for refusals above each bar
// (outbound: for deliveries deferred or bounced for TLS).
void chart(const RuleEvidence& e, const std::vector<Month>& months, std::ostream& out) {
    const double width = 720, height = 200, left = 44, right = 10, top = 28, bottom = 28;
    const double plot_w = width - left - right, plot_h = height - top - bottom;
    const double slot = plot_w / static_cast<double>(months.size());
    const bool outbound = &months == &e.outbound_months;
    out << "<svg class=\"chart\" data-direction=\"" << (outbound ? "outbound" : "inbound") << "\" viewBox=\"0 0 "
        << width << " " << height << "\" role=\"img\" aria-label=\""
        << html(outbound ? "Transport of mail to " + e.name + " per month" : "Transport of " + e.name + " mail per month")
        << "\">\n";
    out << "<rect class=\"plot-area\" x=\"" << left << "\" y=\"" << top << "\" width=\"" << plot_w << "\" height=\""
        << plot_h << "\" fill=\"#f7f7f7\"/>\n";
    for (auto [share, label] : {std::pair(0.0, "0%"), std::pair(0.5, "50%"), std::pair(1.0, "100%")})
        out << "<text x=\"" << left - 6 << "\" y=\"" << fixed(top + plot_h * (1 - share) + 4, 1)
            << "\" text-anchor=\"end\">" << label << "</text>\n";
    for (std::size_t i = 0; i < months.size(); ++i) {
        const Month& m = months[i];
        const double x = left + static_cast<double>(i) * slot, cx = x + slot / 2;
        out << "<g class=\"month\" data-month=\"" << m.name << "\" data-messages=\"" << m.messages << "\">";
        out << "<title>" << html(m.name) << ": " << m.messages << (outbound ? " deliveries sent, " : " messages, ")
            << percent(m.modern, m.messages) << " TLS 1.2+, " << percent(m.older, m.messages) << " older TLS, "
            << percent(m.plaintext, m.messages) << " plaintext; ";
        if (outbound)
            out << m.deferred_tls << " deferred and " << m.bounced_tls << " bounced for TLS</title>\n";
        else
            out << m.refused << " refused, " << m.would_refuse << " would be refused</title>\n";
        double y = top + plot_h;
        const std::int64_t counts[] = {m.modern, m.older, m.plaintext};
        for (std::size_t p = 0; p < kParts.size(); ++p) {
            if (!counts[p]) continue;
            const double h = plot_h * static_cast<double>(counts[p]) / static_cast<double>(m.messages);
            y -= h;
            out << "<rect class=\"bar\" data-part=\"" << kParts[p].first << "\" data-share=\""
                << share(counts[p], m.messages) << "\" x=\"" << fixed(x + slot * 0.15, 2) << "\" y=\"" << fixed(y, 2)
                << "\" width=\"" << fixed(slot * 0.7, 2) << "\" height=\"" << fixed(h, 2) << "\" fill=\""
                << kParts[p].second << "\"/>";
        }
        if (!m.messages)
            out << "<text x=\"" << fixed(cx, 1) << "\" y=\"" << top + plot_h / 2 << "\" text-anchor=\"middle\">no mail</text>";
        // Outbound, a deferral or bounce for TLS is the MTA's refusal to send.
        const std::int64_t refused = outbound ? m.deferred_tls + m.bounced_tls : m.refused;
        const std::int64_t would = outbound ? 0 : m.would_refuse;
        if (refused || would) {
            out << "<g class=\"refusals\" data-refused=\"" << refused << "\" data-would=\"" << would
                << "\"><circle cx=\"" << fixed(cx - 14, 1) << "\" cy=\"" << top - 12 << "\" r=\"5\" fill=\""
                << (refused ? kRefusedColour : kWouldColour) << "\"/><text x=\"" << fixed(cx - 6, 1) << "\" y=\""
                << top - 8 << "\">" << (refused ? refused : would) << (refused && would ? "+" : "")
                << (refused && would ? std::to_string(would) : "") << "</text></g>";
        }
        out << "<text x=\"" << fixed(cx, 1) << "\" y=\"" << height - 10 << "\" text-anchor=\"middle\">" << m.name
            << "</text></g>\n";
    }
    out << "</svg>\n";
}

Row month_cells(const Month& m, const std::vector<report::VersionSpan>& versions) {
    std::string policy;
    for (std::size_t i : m.versions)
        policy += (policy.empty() ? "" : " ") + versions[i].sha256.substr(0, 12) + "/" +
                  std::string(word(versions[i].mode));
    const bool out = m.direction == Direction::Outbound;
    return {{m.name},
            {std::string(word(m.direction))},
            {std::to_string(m.messages), Kind::Number},
            {month_percent(m.modern, m), Kind::Number},
            {month_percent(m.older, m), Kind::Number, m.older > 0},
            {month_percent(m.plaintext, m), Kind::Number, m.plaintext > 0},
            {out ? month_percent(m.unknown, m) : "-", Kind::Number},
            {month_percent(m.verified, m), Kind::Number},
            {out ? "-" : std::to_string(m.refused), Kind::Number},
            {out ? "-" : std::to_string(m.would_refuse), Kind::Number},
            {out ? std::to_string(m.deferred_tls) : "-", Kind::Number, m.deferred_tls > 0},
            {out ? std::to_string(m.bounced_tls) : "-", Kind::Number, m.bounced_tls > 0},
            {weakest_text(m), Kind::Text, m.weakest && report::weak(m.weakest->strength.version)},
            {hosts_text(m)},
            {policy.empty() ? "-" : policy}};
}

}  // namespace

void write_html_evidence(const Evidence& ev, std::ostream& out) {
    const std::string heading = evidence_title(ev);
    out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>"
        << html(heading) << "</title>\n<style>\n" << kEvidenceStyle << "\n</style>\n</head>\n<body>\n<h1>" << html(heading)
        << "</h1>\n<p class=\"notes\">database " << html(ev.database) << "; hosts: "
        << html(ev.host.empty() ? "all" : ev.host) << "</p>\n<ul class=\"notes\">\n";
    for (const char* n : evidence_notes()) out << "<li>" << html(n) << "</li>\n";
    out << "</ul>\n<h2>Policy versions in force</h2>\n";
    if (ev.versions.empty()) out << "<p>" << html(kNoVersions) << "</p>\n";
    else html_table(version_header(), version_rows(ev.versions), out);
    out << "<p class=\"legend\">";
    for (auto [part, colour] : kParts)
        out << "<span><i style=\"background:" << colour << "\"></i>"
            << (part == std::string_view("modern") ? "TLS 1.2 or newer" : part == std::string_view("older") ? "older TLS" : "plaintext")
            << "</span>";
    out << "<span><i style=\"background:" << kRefusedColour << ";border-radius:50%\"></i>refused (+ would be)</span>"
        << "<span><i style=\"background:" << kWouldColour << ";border-radius:50%\"></i>would be refused (monitor)</span></p>\n";
    if (ev.rules.empty()) out << "<p>No partner or recipient rule in the policy or the observations.</p>\n";
    for (const RuleEvidence& e : ev.rules) {
        out << "<section class=\"rule\" id=\"" << anchor(e) << "\" data-rule=\"" << html(e.name) << "\" data-kind=\""
            << word(e.kind) << "\">\n<h2>" << html(rule_heading(e)) << "</h2>\n<figure>\n";
        chart(e, e.months, out);
        out << "</figure>\n";
        if (e.has_outbound) {
            out << "<figure class=\"outbound\">\n";
            chart(e, e.outbound_months, out);
            out << "<figcaption>Outbound: our deliveries to " << html(e.name) << ", as the MTA logged them</figcaption>\n"
                << "</figure>\n";
        }
        std::vector<Row> rows;
        for (const Month* m : evidence_months(e)) rows.push_back(month_cells(*m, ev.versions));
        html_table(month_header(), rows, out);
        out << "</section>\n";
    }
    write_probes_html(ev.probes, out);  // render/suggest.cpp; nothing without probe results
    out << "</body>\n</html>\n";
}

}  // namespace tlspolicy::report::render
