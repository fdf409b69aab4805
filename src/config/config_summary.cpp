// `--check` summary. Laid out like the policy file itself, one line per setting
// (named, ordered and shown by its entry in config/schema.cpp), then counts
// instead of rules, so it stays one screen for 100,000 rules. Golden tests pin
// the wording.
#include "config/config_summary.hpp"

#include <array>
#include <ostream>
#include <string>
#include <vector>

#include "config/schema.hpp"
#include "core/profile.hpp"
#include "store/database_url.hpp"

namespace tlspolicy {
namespace {

constexpr std::size_t kLabelWidth = 16;
constexpr std::size_t kNamesShown = 5;

void line(std::ostream& out, std::string_view label, std::string_view value) {
    out << label;
    if (!value.empty()) out << std::string(label.size() < kLabelWidth ? kLabelWidth - label.size() : 1, ' ') << value;
    out << '\n';
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
            if (k.in(s)) line(out, "  " + std::string(k.key), k.show_setting(c));
    }
    line(out, section_header(Section::Stats),
         c.stats.file.empty() ? "off" : c.stats.file + ", every " + std::to_string(c.stats.interval) + " s");
    const ObservationSettings& obs = c.observations;
    line(out, section_header(Section::Observations),
         obs.database.empty() ? "off"
                              : redact_database(obs.database) + ", kept " + std::to_string(obs.keep_days) + " days" +
                                    (is_postgres_url(obs.database) ? ", spool " + obs.spool : ""));

    std::string defaults;
    for (const KeyDecl& k : schema()) {
        if (!k.in(Section::Defaults)) continue;
        std::string value = k.show_rule(p.defaults);
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
