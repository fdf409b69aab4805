// report --suggest in text, TOML and JSON. The TOML is a policy file
// fragment: every rule ready to paste, everything else a comment, so the
// whole output can be appended to a file and --check passes.
#include "report/render/suggest.hpp"

#include <algorithm>
#include <array>
#include <ostream>
#include <sstream>

#include "report/render/common.hpp"

namespace tlspolicy::report {
namespace {

constexpr std::array<SuggestFormat, 3> kSuggestFormats{{
    {"text", render::write_suggest_text},
    {"toml", render::write_suggest_toml},
    {"json", render::write_suggest_json},
}};

std::string plural(std::int64_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string hosts_text(const std::set<std::string>& hosts) {
    if (hosts.empty()) return "";
    std::string s;
    for (const std::string& h : hosts) s += (s.empty() ? "" : ", ") + h;
    return " (MX hosts " + s + ")";
}

// The facts a rule's comment and the text format give, one per line.
std::vector<std::string> seen_lines(const Observed& o) {
    std::vector<std::string> l;
    l.push_back(plural(o.messages, "message") + " from " + plural(static_cast<std::int64_t>(o.clients.size()), "client") +
                hosts_text(o.hosts) + ", first " + render::iso_time(o.first) + ", last " + render::iso_time(o.last));
    if (o.weakest) l.push_back("weakest session: " + describe(*o.weakest) + ", " + render::iso_time(o.weakest_time));
    return l;
}

std::string suggest_title(const Suggestions& s) {
    return "tlspolicy-milter report --suggest: " + render::iso_time(s.window.since) + " to " +
           render::iso_time(s.window.until) + " (--since " + s.since_text + ", --min-messages " +
           std::to_string(s.min_messages) + ")";
}

std::string check_line(const Suggestion& r) {
    if (r.would_refuse < 0) return "not checked";
    return "checked as report --against would: " + plural(r.would_refuse, "would-be refusal") + " in the window";
}

void rule_block(const Suggestion& r, const std::string& policy_path, std::string_view prefix, std::ostream& out) {
    if (r.kind == Suggestion::Kind::Change) {
        out << prefix << "# CHANGE: replace rule " << r.name << " (" << policy_path << " line " << r.line
            << ") with this stricter version\n";
        for (const std::string& c : r.changes) out << prefix << "#   " << c << "\n";
    } else {
        out << prefix << "# NEW: " << r.name << "\n";
    }
    for (const std::string& l : seen_lines(r.seen)) out << prefix << "#   " << l << "\n";
    out << prefix << "#   " << check_line(r) << "\n";
    if (r.probe) out << prefix << "#   probe: " << describe(*r.probe) << "\n";
    if (!r.export_note.empty()) out << prefix << "#   outbound: " << r.export_note << "\n";
    out << prefix << "[[partner]]\n";
    for (const RuleKey& k : r.keys) out << prefix << k.key << " = " << k.value << "\n";
}

void skipped_lines(const char* heading, const std::vector<Skipped>& list, std::string_view prefix, std::ostream& out) {
    if (list.empty()) return;
    out << prefix << heading << "\n";
    for (const Skipped& k : list)
        out << prefix << "  " << k.name << ": " << k.reason << "; last " << render::iso_time(k.seen.last) << "\n";
}

void unchanged_lines(const Suggestions& s, std::string_view prefix, std::ostream& out) {
    if (s.unchanged.empty()) return;
    out << prefix << "Rules already as strict as every message of the window allows:";
    for (const std::string& r : s.unchanged) out << " " << r;
    out << "\n";
}

std::string json_strings(const std::set<std::string>& items) {
    std::string s = "[";
    for (const std::string& i : items) s += (s.size() > 1 ? ", " : "") + json_string(i);
    return s + "]";
}

std::string observed_json(const Observed& o) {
    std::string s = "{\"messages\": " + std::to_string(o.messages) + ", \"plaintext\": " + std::to_string(o.plaintext) +
                    ", \"clients\": " + std::to_string(o.clients.size()) + ", \"hosts\": " + json_strings(o.hosts) +
                    ", \"first\": " + json_string(render::iso_time(o.first)) + ", \"last\": " +
                    json_string(render::iso_time(o.last)) + ", \"weakest\": ";
    s += o.weakest ? json_string(describe(*o.weakest)) : "null";
    return s + "}";
}

std::string probe_json(const ProbeFacts& p) {
    std::string versions = "[";
    for (TlsVersion v : p.accepted) versions += (versions.size() > 1 ? ", " : "") + json_string(config_name(v));
    versions += "]";
    std::string s = "{\"rule\": " + json_string(p.rule);
    if (!p.problem.empty()) return s + ", \"problem\": " + json_string(p.problem) + "}";
    s += ", \"host\": " + json_string(p.host) + ", \"port\": " + std::to_string(p.port) + ", \"time\": " +
         json_string(p.time) + ", \"stale\": " + (p.stale ? "true" : "false") + ", \"starttls\": " +
         (p.starttls ? "true" : "false") + ", \"accepted\": " + versions;
    if (p.certificate)
        s += ", \"certificate\": {\"verified\": " + std::string(p.cert_verified ? "true" : "false") +
             ", \"name_matches\": " + (p.name_matches ? "true" : "false") + ", \"not_after\": " + json_string(p.not_after) + "}";
    else
        s += ", \"certificate\": null";
    return s + "}";
}

void skipped_json(const char* key, const std::vector<Skipped>& list, std::ostream& out) {
    out << "  \"" << key << "\": [";
    for (std::size_t i = 0; i < list.size(); ++i)
        out << (i ? "," : "") << "\n    {\"name\": " << json_string(list[i].name) << ", \"reason\": "
            << json_string(list[i].reason) << ", \"seen\": " << observed_json(list[i].seen) << "}";
    out << (list.empty() ? "" : "\n  ") << "],\n";
}

}  // namespace

const SuggestFormat* find_suggest_format(std::string_view name) {
    auto it = std::find_if(kSuggestFormats.begin(), kSuggestFormats.end(),
                           [&](const SuggestFormat& f) { return f.name == name; });
    return it == kSuggestFormats.end() ? nullptr : &*it;
}

std::vector<std::string> suggest_format_names() {
    std::vector<std::string> names;
    for (const SuggestFormat& f : kSuggestFormats) names.emplace_back(f.name);
    return names;
}

namespace render {

void write_suggest_text(const Suggestions& s, std::ostream& out) {
    out << suggest_title(s) << "\n";
    out << "Database: " << s.database << (s.host.empty() ? "" : ", host " + s.host) << "\n";
    out << "Policy: " << s.policy_path << "\n\n";
    if (s.rules.empty()) out << "Nothing to suggest: no group of messages met more than the policy asks.\n";
    else
        out << "Suggested rules (" << s.rules.size() << "): review, paste into the policy file, run --check, then "
            << "report --against over the same window.\n";
    for (const Suggestion& r : s.rules) {
        out << "\n";
        rule_block(r, s.policy_path, "  ", out);
    }
    out << "\n";
    unchanged_lines(s, "", out);
    skipped_lines("Not ready to require anything:", s.not_ready, "", out);
    skipped_lines("Too quiet to judge:", s.quiet, "", out);
    write_probes_text(s.probes, out);
}

void write_suggest_toml(const Suggestions& s, std::ostream& out) {
    out << "# " << suggest_title(s) << "\n";
    out << "# Database: " << s.database << (s.host.empty() ? "" : ", host " + s.host) << "; policy: " << s.policy_path
        << "\n";
    out << "# Review each rule, paste it into the policy file (a CHANGE replaces the rule of that name),\n"
        << "# run --check, then report --against over the same window.\n";
    for (const Suggestion& r : s.rules) {
        out << "\n";
        rule_block(r, s.policy_path, "", out);
    }
    std::ostringstream rest;
    unchanged_lines(s, "", rest);
    skipped_lines("Not ready to require anything:", s.not_ready, "", rest);
    skipped_lines("Too quiet to judge:", s.quiet, "", rest);
    write_probes_text(s.probes, rest);
    std::istringstream lines(rest.str());
    std::string line;
    bool first = true;
    while (std::getline(lines, line)) {
        if (first) out << "\n";
        first = false;
        out << (line.empty() ? "#" : "# " + line) << "\n";
    }
}

void write_suggest_json(const Suggestions& s, std::ostream& out) {
    out << "{\n  \"since\": " << json_string(iso_time(s.window.since)) << ",\n  \"until\": "
        << json_string(iso_time(s.window.until)) << ",\n  \"since_text\": " << json_string(s.since_text)
        << ",\n  \"min_messages\": " << s.min_messages << ",\n  \"database\": " << json_string(s.database)
        << ",\n  \"host\": " << json_string(s.host) << ",\n  \"policy\": " << json_string(s.policy_path)
        << ",\n  \"rules\": [";
    for (std::size_t i = 0; i < s.rules.size(); ++i) {
        const Suggestion& r = s.rules[i];
        out << (i ? "," : "") << "\n    {\"kind\": " << (r.kind == Suggestion::Kind::New ? "\"new\"" : "\"change\"")
            << ", \"name\": " << json_string(r.name) << ", \"line\": " << r.line << ",\n     \"rule\": {";
        for (std::size_t k = 0; k < r.keys.size(); ++k)
            out << (k ? ", " : "") << json_string(r.keys[k].key) << ": " << r.keys[k].value;
        out << "},\n     \"changes\": [";
        for (std::size_t k = 0; k < r.changes.size(); ++k) out << (k ? ", " : "") << json_string(r.changes[k]);
        out << "],\n     \"seen\": " << observed_json(r.seen) << ",\n     \"would_refuse\": " << r.would_refuse
            << ",\n     \"probe\": " << (r.probe ? probe_json(*r.probe) : "null") << ",\n     \"export_ready\": "
            << (r.export_ready ? "true" : "false") << ", \"export_note\": " << json_string(r.export_note) << "}";
    }
    out << (s.rules.empty() ? "" : "\n  ") << "],\n  \"unchanged\": [";
    for (std::size_t i = 0; i < s.unchanged.size(); ++i) out << (i ? ", " : "") << json_string(s.unchanged[i]);
    out << "],\n";
    skipped_json("not_ready", s.not_ready, out);
    skipped_json("quiet", s.quiet, out);
    out << "  \"probes\": " << probes_json(s.probes) << "\n}\n";
}

void write_probes_text(const std::vector<ProbeFacts>& probes, std::ostream& out) {
    if (probes.empty()) return;
    out << "Probe results (what each partner's server accepts):\n";
    for (const ProbeFacts& p : probes) out << "  " << p.rule << ": " << describe(p) << "\n";
}

std::string probes_json(const std::vector<ProbeFacts>& probes) {
    std::string s = "[";
    for (std::size_t i = 0; i < probes.size(); ++i) s += (i ? ", " : "") + probe_json(probes[i]);
    return s + "]";
}

void write_probes_html(const std::vector<ProbeFacts>& probes, std::ostream& out) {
    if (probes.empty()) return;
    out << "<h2>Probe results: what each partner's server accepts</h2>\n<ul>\n";
    for (const ProbeFacts& p : probes) out << "<li><b>" << html(p.rule) << "</b>: " << html(describe(p)) << "</li>\n";
    out << "</ul>\n";
}

}  // namespace render
}  // namespace tlspolicy::report
