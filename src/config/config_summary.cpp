// `--check` summary. Laid out like the policy file itself, one line per setting
// (named and ordered as in config/schema.cpp), then counts instead of rules, so
// it stays one screen for 100,000 rules. Golden tests pin the wording.
#include "config/config_summary.hpp"

#include <array>
#include <ostream>
#include <string>
#include <vector>

#include "config/schema.hpp"
#include "core/profile.hpp"

namespace tlspolicy {
namespace {

constexpr std::size_t kLabelWidth = 16;
constexpr std::size_t kNamesShown = 5;

void line(std::ostream& out, std::string_view label, std::string_view value) {
    out << label;
    if (!value.empty()) out << std::string(label.size() < kLabelWidth ? kLabelWidth - label.size() : 1, ' ') << value;
    out << '\n';
}

std::string toml_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string octal(int mode) {
    std::string digits;
    for (int i = 0; i < 4; ++i, mode /= 8) digits.insert(digits.begin(), char('0' + mode % 8));
    return digits;
}

// A [milter] or [header] setting as it is in effect.
std::string setting_text(const Config& c, const KeyDecl& k) {
    const std::string_view key = k.key;
    if (k.in(Section::Milter)) {
        if (key == "socket") return c.milter.socket;
        if (key == "mode") return std::string(mode_name(c.policy->mode));
        if (key == "user") return c.milter.user.empty() ? "(not set: stays the user it started as)" : c.milter.user;
        if (key == "socket_mode") return octal(c.milter.socket_mode.value_or(0660));
        if (key == "pidfile") return c.milter.pidfile.empty() ? "(not set)" : c.milter.pidfile;
        if (key == "timeout") return std::to_string(c.milter.timeout) + " s";
        if (key == "recipient_delimiter")
            return c.policy->recipient_delimiter.empty() ? "(none: extensions are not stripped)"
                                                          : toml_string(c.policy->recipient_delimiter);
    } else if (k.in(Section::Header)) {
        if (key == "name") return c.header.name;
        if (key == "authserv_id") return c.header.authserv_id.empty() ? "(not set: the MTA's name, macro j)" : c.header.authserv_id;
        if (key == "strip_forged") return c.header.strip_forged ? "true" : "false";
    }
    return "?";
}

// A rule's requirement or action as TOML text; empty when the rule leaves it out.
std::string rule_value(const Rule& r, const KeyDecl& k) {
    const std::string_view key = k.key;
    if (key == "require_tls") return r.req.require_tls ? "true" : "false";
    if (key == "min_version") return r.req.min_version ? toml_string(config_name(*r.req.min_version)) : "";
    if (key == "min_cipher_bits") return r.req.min_cipher_bits ? std::to_string(*r.req.min_cipher_bits) : "";
    if (key == "ciphers") return r.req.ciphers ? toml_string(r.req.ciphers->spec) : "";
    if (key == "ciphersuites") return r.req.ciphersuites ? toml_string(r.req.ciphersuites->spec) : "";
    if (key == "profile") return r.req.profile ? toml_string(r.req.profile->name) : "";
    if (key == "require_client_cert") return r.req.require_client_cert ? "true" : "";
    if (key == "cert_subjects" || key == "cert_issuers") {
        std::string out;
        for (const Entry& e : r.req.cert_subjects)
            if (key == "cert_subjects") out += (out.empty() ? "" : ", ") + toml_string((e.kind == EntryKind::Subdomains ? "." : "") + e.key);
        for (const std::string& i : r.req.cert_issuers)
            if (key == "cert_issuers") out += (out.empty() ? "" : ", ") + toml_string(i);
        return out.empty() ? "" : "[" + out + "]";
    }
    if (key == "action") return toml_string(action_name(r.action));
    if (key == "reply") return r.reply.empty() ? "" : toml_string(r.reply);
    return "?";
}

// ": IPv4 1, IPv6 1"; kinds with a zero count are left out.
std::string by_kind(std::initializer_list<std::pair<const char*, std::size_t>> kinds) {
    std::string out;
    for (const auto& [name, n] : kinds)
        if (n > 0) out += (out.empty() ? ": " : ", ") + std::string(name) + " " + std::to_string(n);
    return out;
}

// "2: IPv4 1, IPv6 1"
std::string counted(std::size_t total, std::initializer_list<std::pair<const char*, std::size_t>> kinds) {
    return std::to_string(total) + by_kind(kinds);
}

struct EntryCounts {
    std::size_t total = 0, domain = 0, subdomains = 0, address = 0;
    void add(const std::vector<Entry>& entries) {
        for (const Entry& e : entries) {
            ++total;
            ++(e.kind == EntryKind::Domain ? domain : e.kind == EntryKind::Subdomains ? subdomains : address);
        }
    }
    std::string text() const {
        return counted(total, {{"domain", domain}, {"subdomains", subdomains}, {"address", address}});
    }
};

std::string rule_count(const std::vector<Rule>& rules) {
    std::array<std::size_t, 3> by_action{};
    for (const Rule& r : rules) ++by_action[static_cast<std::size_t>(r.action)];
    const auto count = [&](Action a) { return by_action[static_cast<std::size_t>(a)]; };
    return std::to_string(rules.size()) + (rules.size() == 1 ? " rule" : " rules") +
           by_kind({{"reject", count(Action::Reject)}, {"tempfail", count(Action::Tempfail)}, {"annotate", count(Action::Annotate)}});
}

void print_profiles(const Policy& p, std::ostream& out) {
    bool any = false;
    for (const Profile& profile : all_profiles()) {
        std::vector<const Rule*> users;
        if (p.defaults.req.profile == &profile) users.push_back(&p.defaults);
        for (const auto* rules : {&p.partners, &p.recipients})
            for (const Rule& r : *rules)
                if (r.req.profile == &profile) users.push_back(&r);
        if (users.empty()) continue;
        if (!any) line(out, "profiles", "");
        any = true;
        std::string names;
        for (std::size_t i = 0; i < users.size() && i < kNamesShown; ++i) names += (i ? ", " : "") + users[i]->name;
        if (users.size() > kNamesShown) names += " and " + std::to_string(users.size() - kNamesShown) + " more";
        out << "  " << profile.name << ": " << names << '\n';
    }
    if (!any) line(out, "profiles", "none");
}

}  // namespace

void print_summary(const Config& c, std::ostream& out) {
    const Policy& p = *c.policy;
    out << c.path << ": OK\n";
    for (Section s : {Section::Milter, Section::Header}) {
        line(out, section_header(s), "");
        for (const KeyDecl& k : schema())
            if (k.in(s)) line(out, "  " + std::string(k.key), setting_text(c, k));
    }
    line(out, section_header(Section::Stats),
         c.stats.file.empty() ? "off" : c.stats.file + ", every " + std::to_string(c.stats.interval) + " s");
    line(out, section_header(Section::Observations),
         c.observations.database.empty()
             ? "off"
             : c.observations.database + ", kept " + std::to_string(c.observations.keep_days) + " days");

    std::string defaults;
    for (const KeyDecl& k : schema()) {
        if (!k.in(Section::Defaults)) continue;
        std::string value = rule_value(p.defaults, k);
        if (!value.empty()) defaults += (defaults.empty() ? "" : ", ") + std::string(k.key) + " = " + value;
    }
    line(out, section_header(Section::Defaults), defaults);

    std::size_t v4 = 0, v6 = 0;
    EntryCounts hostnames, senders, recipients;
    for (const Rule& r : p.partners) {
        for (const Cidr& block : r.clients) ++(block.network.v4 ? v4 : v6);
        hostnames.add(r.hostnames);
        senders.add(r.senders);
    }
    for (const Rule& r : p.recipients) recipients.add(r.recipients);
    line(out, section_header(Section::Partner), rule_count(p.partners));
    if (!p.partners.empty()) {
        line(out, "  clients", counted(v4 + v6, {{"IPv4", v4}, {"IPv6", v6}}));
        line(out, "  hostnames", hostnames.text());
        line(out, "  senders", senders.text());
    }
    line(out, section_header(Section::Recipient), rule_count(p.recipients));
    if (!p.recipients.empty()) line(out, "  recipients", recipients.text());
    print_profiles(p, out);
}

}  // namespace tlspolicy
