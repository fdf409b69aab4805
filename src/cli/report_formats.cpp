// The one table of report formats.
#include "cli/report_formats.hpp"

#include <algorithm>
#include <array>

#include "cli/report_evidence_render.hpp"

namespace tlspolicy {
namespace {

constexpr std::array<ReportFormat, 4> kFormats{{
    {"text", "aligned tables", report_render::write_text, report_render::write_text_evidence},
    {"csv", "RFC 4180, one table", report_render::write_csv, report_render::write_csv_evidence},
    {"json", "one object, stable keys", report_render::write_json, report_render::write_json_evidence},
    {"html", "one self-contained page with charts", report_render::write_html, report_render::write_html_evidence},
}};

}  // namespace

std::span<const ReportFormat> report_formats() { return kFormats; }

const ReportFormat* find_report_format(std::string_view name) {
    auto it = std::find_if(kFormats.begin(), kFormats.end(), [&](const ReportFormat& f) { return f.name == name; });
    return it == kFormats.end() ? nullptr : &*it;
}

std::vector<std::string> report_format_names() {
    std::vector<std::string> names;
    for (const ReportFormat& f : kFormats) names.emplace_back(f.name);
    return names;
}

std::string report_format_help() {
    std::string s;
    for (const ReportFormat& f : kFormats) s += (s.empty() ? "" : ", ") + std::string(f.name) + " (" + std::string(f.what) + ")";
    return s;
}

}  // namespace tlspolicy
