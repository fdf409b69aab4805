// Reads back the probe's JSON (src/cli/probe.cpp print_json writes it): a
// small JSON reader that keeps what report shows, and the directory scan.
#include "report/probe_facts.hpp"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <sstream>

namespace tlspolicy::report {
namespace {

// A JSON value, as much of RFC 8259 as a probe result uses; \u escapes
// outside ASCII come back as '?' (the fields report reads are names and times).
struct Json {
    enum class Type { Null, Bool, Number, String, Array, Object } type = Type::Null;
    bool boolean = false;
    double number = 0;
    std::string text;
    std::vector<Json> items;
    std::map<std::string, Json> members;
    const Json* get(const std::string& key) const {
        auto it = members.find(key);
        return it == members.end() ? nullptr : &it->second;
    }
};

class Reader {
public:
    explicit Reader(std::string_view t) : t_(t) {}
    bool document(Json& out) {
        if (!value(out, 0)) return false;
        space();
        return i_ == t_.size();
    }

private:
    void space() {
        while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\r' || t_[i_] == '\t')) ++i_;
    }
    bool literal(std::string_view word) {
        if (t_.substr(i_, word.size()) != word) return false;
        i_ += word.size();
        return true;
    }
    bool string(std::string& out) {
        if (i_ >= t_.size() || t_[i_] != '"') return false;
        for (++i_; i_ < t_.size(); ++i_) {
            char c = t_[i_];
            if (c == '"') {
                ++i_;
                return true;
            }
            if (c != '\\') {
                out += c;
                continue;
            }
            if (++i_ >= t_.size()) return false;
            switch (t_[i_]) {
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'u': {
                    if (i_ + 4 >= t_.size()) return false;
                    unsigned v = static_cast<unsigned>(std::stoul(std::string(t_.substr(i_ + 1, 4)), nullptr, 16));
                    out += v < 0x80 ? static_cast<char>(v) : '?';
                    i_ += 4;
                    break;
                }
                default: out += t_[i_];
            }
        }
        return false;
    }
    bool value(Json& out, int depth) {
        if (depth > 16) return false;
        space();
        if (i_ >= t_.size()) return false;
        const char c = t_[i_];
        if (c == '"') {
            out.type = Json::Type::String;
            return string(out.text);
        }
        if (c == '{' || c == '[') {
            const bool object = c == '{';
            out.type = object ? Json::Type::Object : Json::Type::Array;
            ++i_;
            space();
            if (i_ < t_.size() && t_[i_] == (object ? '}' : ']')) return ++i_, true;
            for (;;) {
                Json item;
                std::string key;
                if (object) {
                    space();
                    if (!string(key)) return false;
                    space();
                    if (i_ >= t_.size() || t_[i_++] != ':') return false;
                }
                if (!value(item, depth + 1)) return false;
                if (object) out.members[key] = std::move(item);
                else out.items.push_back(std::move(item));
                space();
                if (i_ >= t_.size()) return false;
                const char next = t_[i_++];
                if (next == (object ? '}' : ']')) return true;
                if (next != ',') return false;
            }
        }
        if (literal("true")) return out.type = Json::Type::Bool, out.boolean = true, true;
        if (literal("false")) return out.type = Json::Type::Bool, true;
        if (literal("null")) return true;
        std::size_t end = i_;
        while (end < t_.size() && std::string_view("+-.eE0123456789").find(t_[end]) != std::string_view::npos) ++end;
        if (end == i_) return false;
        out.type = Json::Type::Number;
        out.number = std::strtod(std::string(t_.substr(i_, end - i_)).c_str(), nullptr);
        i_ = end;
        return true;
    }

    std::string_view t_;
    std::size_t i_ = 0;
};

std::string text_of(const Json* j) { return j && j->type == Json::Type::String ? j->text : ""; }
bool bool_of(const Json* j) { return j && j->type == Json::Type::Bool && j->boolean; }

}  // namespace

std::optional<std::int64_t> parse_utc_time(std::string_view text) {
    std::tm tm{};
    std::istringstream in{std::string(text)};
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
    if (in.fail() || text.size() != 20) return std::nullopt;
    return static_cast<std::int64_t>(timegm(&tm));
}

std::optional<ProbeFacts> parse_probe_json(std::string_view text, std::string* error) {
    Json doc;
    try {
        if (!Reader(text).document(doc) || doc.type != Json::Type::Object) {
            if (error) *error = "not one JSON object";
            return std::nullopt;
        }
    } catch (const std::exception&) {  // a malformed \u escape
        if (error) *error = "not one JSON object";
        return std::nullopt;
    }
    ProbeFacts p;
    p.time = text_of(doc.get("time"));
    p.host = text_of(doc.get("host"));
    auto when = parse_utc_time(p.time);
    if (!when || p.host.empty()) {
        if (error) *error = "not a probe result (no \"time\" or \"host\")";
        return std::nullopt;
    }
    p.unix_time = *when;
    if (const Json* port = doc.get("port"); port && port->type == Json::Type::Number)
        p.port = static_cast<std::int64_t>(port->number);
    p.starttls = bool_of(doc.get("starttls"));
    if (const Json* e = doc.get("error"); e && e->type == Json::Type::Object)
        p.error = text_of(e->get("stage")) + ": " + text_of(e->get("message"));
    if (const Json* vs = doc.get("versions"); vs && vs->type == Json::Type::Array)
        for (const Json& v : vs->items)
            if (bool_of(v.get("accepted")))
                if (auto version = parse_config_version(text_of(v.get("version")))) p.accepted.push_back(*version);
    std::sort(p.accepted.begin(), p.accepted.end());
    if (const Json* c = doc.get("certificate"); c && c->type == Json::Type::Object) {
        p.certificate = true;
        p.not_after = text_of(c->get("not_after"));
        p.cert_verified = bool_of(c->get("verified"));
        p.name_matches = bool_of(c->get("name_matches"));
        p.verify_error = text_of(c->get("verify_error"));
    }
    if (const Json* partner = doc.get("partner"); partner && partner->type == Json::Type::Object)
        p.partner_met = bool_of(partner->get("met"));
    return p;
}

std::string accepted_text(const ProbeFacts& p) {
    std::string s;
    for (TlsVersion v : p.accepted) s += (s.empty() ? "" : ", ") + std::string(config_name(v));
    return s.empty() ? "none" : s;
}

std::string describe(const ProbeFacts& p) {
    if (!p.problem.empty()) return p.problem;
    std::string s = p.host + ":" + std::to_string(p.port) + " on " + p.time + (p.stale ? " (stale)" : "") + ": ";
    if (!p.starttls) return s + "no STARTTLS" + (p.error.empty() ? "" : " (" + p.error + ")");
    s += "accepts " + accepted_text(p);
    if (p.certificate)
        s += std::string("; certificate ") + (p.cert_verified ? "verifies" : "does not verify (" + p.verify_error + ")") +
             ", " + (p.name_matches ? "matches" : "does not match") + " the name, expires " + p.not_after;
    return s;
}

std::string read_probe_directory(const std::string& directory, std::int64_t since, std::vector<ProbeFacts>& out) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::directory_iterator it(directory, ec);
    if (ec) return "[probe] directory " + directory + ": " + ec.message();
    std::vector<fs::path> files;
    for (const fs::directory_entry& e : it)
        if (e.path().extension() == ".json" && e.path().filename().string().front() != '.') files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        std::string error;
        std::optional<ProbeFacts> p = in ? parse_probe_json(text.str(), &error) : std::nullopt;
        if (!p) {
            p.emplace();
            p->problem = f.string() + ": " + (in ? error : "cannot be read");
        }
        p->rule = f.stem().string();
        p->stale = p->problem.empty() && p->unix_time < since;
        out.push_back(std::move(*p));
    }
    return "";
}

}  // namespace tlspolicy::report
