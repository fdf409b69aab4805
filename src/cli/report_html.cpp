// `report --format html`: one self-contained file (inline CSS, an inline SVG
// chart per partner rule, no script, nothing fetched).
#include <array>
#include <ctime>
#include <ostream>

#include "cli/report_render.hpp"

namespace tlspolicy::report_render {
namespace {

using report_tally::kColumns;
using report_tally::Window;

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

}  // namespace

namespace {
constexpr const char* kStyle = R"(body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.8em}
table{border-collapse:collapse;font-size:.9em}th,td{padding:.25em .6em;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:top}
th{background:#f3f3f3}.num{text-align:right;font-variant-numeric:tabular-nums}td.num,td.time{white-space:nowrap}td.weak{color:#b30000}
.notes{color:#555;font-size:.9em}.legend span{display:inline-block;margin-right:1.2em}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em}
td.reply{min-width:16em}figure{margin:1em 0}figcaption{font-weight:600}svg text{font-size:11px;fill:#444})";

}  // namespace

void write_html(const Report& r, std::ostream& out) {
    out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << html(title(r))
        << "</title>\n<style>\n" << kStyle << "\n</style>\n</head>\n<body>\n<h1>" << html(title(r)) << "</h1>\n";
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

}  // namespace tlspolicy::report_render
