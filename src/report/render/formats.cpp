// The one table of report formats.
#include "report/render/formats.hpp"

#include <algorithm>
#include <array>

namespace tlspolicy::report {
namespace {

constexpr std::array<Format, 4> kFormats{{
    {"text", "aligned tables", render::write_text, render::write_text_evidence},
    {"csv", "RFC 4180, one table", render::write_csv, render::write_csv_evidence},
    {"json", "one object, stable keys", render::write_json, render::write_json_evidence},
    {"html", "one self-contained page with charts", render::write_html, render::write_html_evidence},
}};

}  // namespace

std::span<const Format> formats() { return kFormats; }

const Format* find_format(std::string_view name) {
    auto it = std::find_if(kFormats.begin(), kFormats.end(), [&](const Format& f) { return f.name == name; });
    return it == kFormats.end() ? nullptr : &*it;
}

std::vector<std::string> format_names() {
    std::vector<std::string> names;
    for (const Format& f : kFormats) names.emplace_back(f.name);
    return names;
}

std::string format_help() {
    std::string s;
    for (const Format& f : kFormats) s += (s.empty() ? "" : ", ") + std::string(f.name) + " (" + std::string(f.what) + ")";
    return s;
}

}  // namespace tlspolicy::report
