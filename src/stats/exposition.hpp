// The Prometheus text exposition format's two pieces both stats files write
// (the milter's, stats/metrics.cpp, and the ingest's, stats/outbound_metrics.cpp).
#pragma once

#include <string>
#include <string_view>

namespace tlspolicy::exposition {

// A label value: \ " and newline escaped as the format wants.
inline std::string label(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

// A metric family's HELP and TYPE lines.
inline void family(std::string& out, const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n';
}

}  // namespace tlspolicy::exposition
