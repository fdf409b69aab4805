// `report`: reads the observation store through ObservationSource, hands
// each summary row (or each raw row) to the tally (tally.hpp, or evidence.hpp
// with --evidence) and the result to the renderer of the chosen format
// (render/formats.hpp).
#include "report/report.hpp"

#include <charconv>
#include <functional>
#include <ostream>
#include <sstream>

#include "report/evidence.hpp"
#include "report/render/formats.hpp"
#include "report/render/suggest.hpp"
#include "report/suggest.hpp"
#include "report/tally.hpp"
#include "store/database_url.hpp"

namespace tlspolicy {
namespace {

constexpr const char* kSinceDefault = "7d";
constexpr const char* kEvidenceSinceDefault = "90d";

// What the options say, checked before the store is read.
struct Request {
    std::string since, database;
    std::int64_t duration = 0;
    const report::Format* format = nullptr;
    const report::SuggestFormat* suggest_format = nullptr;
    std::shared_ptr<const Config> strict;
};

int prepare(const Config& config, const ReportOptions& opt, Request& req, std::ostream& err) {
    req.since = !opt.since.empty()            ? opt.since
                : opt.evidence || opt.suggest ? kEvidenceSinceDefault
                                              : kSinceDefault;
    auto duration = parse_duration(req.since);
    if (!duration) {
        err << "report: --since '" << req.since << "' is not a duration such as 90m, 12h, 7d or 2w\n";
        return 2;
    }
    req.duration = *duration;
    if (opt.suggest) {
        if (opt.evidence || !opt.against.empty()) {
            err << "report: --suggest is a report of its own: run it without --evidence and --against\n";
            return 2;
        }
        if (opt.min_messages < 1) {
            err << "report: --min-messages must be 1 or more\n";
            return 2;
        }
        req.suggest_format = report::find_suggest_format(opt.format);
        if (!req.suggest_format) {
            std::string names;
            for (const std::string& f : report::suggest_format_names()) names += (names.empty() ? "" : ", ") + f;
            err << "report: --suggest --format '" << opt.format << "' is not one of " << names << "\n";
            return 2;
        }
    }
    req.format = report::find_format(opt.format);
    if (!req.format && !req.suggest_format) {
        std::string names;
        for (const report::Format& f : report::formats()) names += (names.empty() ? "" : ", ") + std::string(f.name);
        err << "report: --format '" << opt.format << "' is not one of " << names << "\n";
        return 2;
    }
    if (opt.evidence && !opt.against.empty()) {
        err << "report: --evidence and --against are separate reports: run one, then the other\n";
        return 2;
    }
    req.database = opt.database.empty() ? config.observations.database : opt.database;
    if (req.database.empty()) {
        err << "report: " << config.path << " sets no [observations] database; set one, or pass --database\n";
        return 1;
    }
    if (!opt.against.empty()) {
        LoadResult loaded = load_config_file(opt.against);
        for (const Diagnostic& d : loaded.diagnostics) err << d.format() << '\n';
        if (!loaded.ok()) return 1;
        req.strict = loaded.config;
    }
    return 0;
}

// The versions of the window, at the --host host only when one is given.
std::string versions_of(ObservationSource& source, std::int64_t since, std::int64_t until, const std::string& host,
                        std::vector<PolicyVersion>& out) {
    std::string error = source.policy_versions(since, until, out);
    if (!host.empty()) std::erase_if(out, [&](const PolicyVersion& v) { return v.host != host; });
    return error;
}

int failed(const std::string& error, std::ostream& err) {
    err << "report: " << error << "\n";
    return 1;
}

// Where the numbers come from: the summaries, except for a window of two
// days or less (its chart is hourly; the summaries keep days) and with --raw;
// or the rows of a database this release has not migrated yet.
bool from_rows(const ReportOptions& opt, const report::Window& w, ObservationSource& source, std::ostream& err) {
    if (opt.raw || !w.whole_days()) return true;
    if (source.has_summaries()) return false;
    err << "report: note: the database has no summaries of this release yet (the milter builds them when it next "
           "opens it): reading every row, which takes longer\n";
    return true;
}

// The rows of the window, of the --host host when one is given.
std::string each_row(ObservationSource& source, const report::Window& w, const std::string& host,
                     const std::function<void(const Observation&)>& each) {
    return source.for_each(w.since, w.last, [&](const Observation& o) {
        if (host.empty() || o.host == host) each(o);
    });
}

// The domain and sender tables name no host: the server adds the hosts' rows up.
std::string each_summary_row(ObservationSource& source, store::Summary s, const report::Window& w,
                             const ReportOptions& opt, store::Buckets buckets,
                             const std::function<void(const Observation&, const Weight&)>& each) {
    return source.for_each_summary({s, w.since, w.last, opt.host, buckets, s == store::Summary::Rules}, each);
}

// The probe results in [probe] directory, if set; a directory that cannot be read is a note, not a failure.
std::vector<report::ProbeFacts> probe_results(const Config& config, const report::Window& w, std::ostream& err) {
    std::vector<report::ProbeFacts> probes;
    if (config.probe.directory.empty()) return probes;
    std::string error = report::read_probe_directory(config.probe.directory, w.since, probes);
    if (!error.empty()) err << "report: note: " << error << "\n";
    return probes;
}

// Each suggested rule judged with --against's code (the Gatherer) over the
// window's rows, loaded from the very TOML an operator pastes. A rule that
// would refuse anything is withdrawn (the grouping should make that impossible).
int check_suggestions(const Config& config, report::Suggestions& s, const report::Suggester& sg, std::ostream& err) {
    if (s.rules.empty()) return 0;
    std::ostringstream toml;
    for (const report::Suggestion& r : s.rules) {
        toml << "[[partner]]\n";
        for (const report::RuleKey& k : r.keys) toml << k.key << " = " << k.value << "\n";
    }
    LoadResult loaded = load_config_text(toml.str(), "(suggested rules)");
    if (!loaded.ok()) {
        for (const Diagnostic& d : loaded.diagnostics) err << "report: suggested rules do not load: " << d.format() << '\n';
        return 1;
    }
    report::Gatherer g(*config.policy, loaded.config->policy.get(), s.window);
    for (const auto& [o, w] : sg.rows()) g.add_sender(o, w);
    const report::Report checked = g.finish();
    for (report::Suggestion& r : s.rules) {
        r.would_refuse = 0;
        for (const report::Offender& f : checked.offenders)
            if (f.rules.contains(r.name)) r.would_refuse += f.refusals();
    }
    for (auto it = s.rules.begin(); it != s.rules.end();) {
        if (it->would_refuse == 0) {
            ++it;
            continue;
        }
        s.not_ready.push_back({it->name, "withdrawn: report --against would refuse " + std::to_string(it->would_refuse) +
                                             " of its messages", it->seen});
        it = s.rules.erase(it);
    }
    return 0;
}

int run_suggest(const Config& config, const ReportOptions& opt, const Request& req, ObservationSource& source,
                std::ostream& out, std::ostream& err) {
    const report::Window w = report::make_window(opt.now, req.duration);
    report::Suggester sg(*config.policy, opt.min_messages);
    std::string error;
    if (from_rows(opt, w, source, err))
        error = each_row(source, w, opt.host, [&](const Observation& o) { sg.add(o, {1, o.time, o.time}); });
    else  // per host, so that each rule's comment can name the MX hosts that saw it
        error = source.for_each_summary({store::Summary::Senders, w.since, w.last, opt.host, {}, true},
                                        [&](const Observation& o, const Weight& n) { sg.add(o, n); });
    if (!error.empty()) return failed(error, err);
    report::Suggestions s = sg.finish(w);
    if (int rc = check_suggestions(config, s, sg, err)) return rc;
    report::add_probe_facts(s, probe_results(config, w, err));
    s.database = redact_database(req.database);
    s.since_text = req.since;
    s.host = opt.host;
    s.policy_path = config.path;
    req.suggest_format->write(s, out);
    return 0;
}

int run(const Config& config, const ReportOptions& opt, const Request& req, ObservationSource& source,
        std::ostream& out, std::ostream& err) {
    if (opt.suggest) return run_suggest(config, opt, req, source, out, err);
    const report::Window w = report::make_window(opt.now, req.duration);
    const bool rows = from_rows(opt, w, source, err);
    std::vector<PolicyVersion> versions;
    std::string error;
    if (opt.evidence) {
        report::EvidenceTally tally(*config.policy, w.since, w.until);
        if (rows)
            error = each_row(source, w, opt.host, [&](const Observation& o) { tally.add(o); });
        else
            error = each_summary_row(source, store::Summary::Rules, w, opt, {store::Buckets::Kind::Months},
                                     [&](const Observation& o, const Weight& n) { tally.add(o, n); });
        if (error.empty()) error = versions_of(source, w.since, w.until, opt.host, versions);
        if (!error.empty()) return failed(error, err);
        report::Evidence ev = tally.finish(std::move(versions));
        ev.database = redact_database(req.database);
        ev.since_text = req.since;
        ev.host = opt.host;
        ev.probes = probe_results(config, w, err);
        req.format->evidence(ev, out);
        return 0;
    }
    report::Gatherer g(*config.policy, req.strict ? req.strict->policy.get() : nullptr, w);
    if (rows) {
        error = each_row(source, w, opt.host, [&](const Observation& o) { g.add(o); });
    } else {
        error = each_summary_row(source, store::Summary::Rules, w, opt, {store::Buckets::Kind::Step, w.first, w.step},
                                 [&](const Observation& o, const Weight& n) { g.add_rules(o, n); });
        if (error.empty())
            error = each_summary_row(source, store::Summary::Domains, w, opt, {},
                                     [&](const Observation& o, const Weight& n) { g.add_domain(o, n); });
        if (error.empty() && g.judges())
            error = each_summary_row(source, store::Summary::Senders, w, opt, {},
                                     [&](const Observation& o, const Weight& n) { g.add_sender(o, n); });
    }
    if (error.empty()) error = versions_of(source, w.since, w.until, opt.host, versions);
    if (!error.empty()) return failed(error, err);
    report::Report r = g.finish();
    r.database = redact_database(req.database);
    r.since_text = req.since;
    r.against = opt.against;
    r.host = opt.host;
    r.versions = report::version_spans(std::move(versions), w.since, w.until);
    req.format->report(r, out);
    return 0;
}

}  // namespace

std::optional<std::int64_t> parse_duration(std::string_view text) {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || n <= 0 || end + 1 != text.data() + text.size()) return std::nullopt;
    const std::int64_t unit = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400
                             : *end == 'w' ? 7 * 86400 : 0;
    if (unit == 0 || n > 100LL * 366 * 86400 / unit) return std::nullopt;  // a century is enough
    return n * unit;
}

int run_report(const Config& config, const ReportOptions& opt, std::ostream& out, std::ostream& err) {
    Request req;
    if (int rc = prepare(config, opt, req, err)) return rc;
    std::string error;
    std::unique_ptr<ObservationSource> source = open_observation_source(req.database, &error);
    if (!source) {
        err << "report: " << error << "\n";
        return 1;
    }
    return run(config, opt, req, *source, out, err);
}

int run_report(const Config& config, const ReportOptions& opt, ObservationSource& source, std::ostream& out,
               std::ostream& err) {
    Request req;
    if (int rc = prepare(config, opt, req, err)) return rc;
    return run(config, opt, req, source, out, err);
}

}  // namespace tlspolicy
