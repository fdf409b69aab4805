// `report`: reads the observation store through ObservationSource, hands
// each row to the tally (report_tally) and the result to the renderer of the
// chosen format (report_formats).
#include "cli/report.hpp"

#include <charconv>
#include <ostream>

#include "cli/report_formats.hpp"
#include "cli/report_tally.hpp"
#include "store/observation_source.hpp"

namespace tlspolicy {

using report_tally::Gatherer;
using report_tally::Report;
using report_tally::Window;

std::optional<std::int64_t> parse_duration(std::string_view text) {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || n <= 0 || end + 1 != text.data() + text.size()) return std::nullopt;
    const std::int64_t unit = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400
                             : *end == 'w' ? 7 * 86400 : 0;
    if (unit == 0 || n > 100LL * 366 * 86400 / unit) return std::nullopt;  // a century is enough
    return n * unit;
}

int report(const Config& config, const ReportOptions& opt, std::ostream& out, std::ostream& err) {
    auto duration = parse_duration(opt.since);
    if (!duration) {
        err << "report: --since '" << opt.since << "' is not a duration such as 90m, 12h, 7d or 2w\n";
        return 2;
    }
    const ReportFormat* format = find_report_format(opt.format);
    if (!format) {
        std::string names;
        for (const ReportFormat& f : report_formats()) names += (names.empty() ? "" : ", ") + std::string(f.name);
        err << "report: --format '" << opt.format << "' is not one of " << names << "\n";
        return 2;
    }
    const std::string database = opt.database.empty() ? config.observations.database : opt.database;
    if (database.empty()) {
        err << "report: " << config.path << " sets no [observations] database; set one, or pass --database\n";
        return 1;
    }
    std::shared_ptr<const Config> strict;
    if (!opt.against.empty()) {
        LoadResult loaded = load_config_file(opt.against);
        for (const Diagnostic& d : loaded.diagnostics) err << d.format() << '\n';
        if (!loaded.ok()) return 1;
        strict = loaded.config;
    }
    Window w = report_tally::make_window(opt.now, *duration);
    Gatherer g(*config.policy, strict ? strict->policy.get() : nullptr, w);
    std::string error;
    std::unique_ptr<ObservationSource> source = open_observation_source(database, &error);
    if (source) error = source->for_each(w.since, w.until, [&](const Observation& o) { g.add(o); });
    if (!error.empty()) {
        err << "report: " << error << "\n";
        return 1;
    }
    Report r = g.finish();
    r.database = database;
    r.since_text = opt.since;
    r.against = opt.against;
    format->report(r, out);
    return 0;
}

}  // namespace tlspolicy
