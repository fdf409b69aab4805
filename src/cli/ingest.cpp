// `ingest`: the request checked, signals taken over for a clean stop, then the
// ingest loop of src/ingest/io with the observation store, a file or a
// stream as its sink.
#include "cli/ingest.hpp"

#include <chrono>
#include <csignal>
#include <functional>
#include <ostream>

#include "ingest/io/file_sink.hpp"
#include "ingest/io/ingest_run.hpp"
#include "ingest/io/store_sink.hpp"
#include "ingest/io/system_clock.hpp"
#include "stats/outbound_metrics.hpp"
#include "stats/stats_file.hpp"

namespace tlspolicy {
namespace {

volatile std::sig_atomic_t g_stop = 0;
extern "C" void stop_ingest(int) { g_stop = 1; }

// SIGTERM, SIGINT and SIGHUP stop the loop after a last checkpoint; no
// SA_RESTART, so a wait in progress ends at once.
class StopSignals {
public:
    StopSignals() {
        struct sigaction sa{};
        sa.sa_handler = stop_ingest;
        sigemptyset(&sa.sa_mask);
        for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &old_[i]);
    }
    ~StopSignals() {
        for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &old_[i], nullptr);
    }

private:
    static constexpr int kSignals[3] = {SIGTERM, SIGINT, SIGHUP};
    struct sigaction old_[3];
};

// The log an ingest position belongs to: one each, by MTA and path (or journal).
std::string source_name(const IngestRequest& r) {
    if (r.journal || !r.journal_directory.empty())
        return r.mta + ":journal" + (r.journal_directory.empty() ? "" : ":" + r.journal_directory);
    return r.mta + ":" + r.path;
}

}  // namespace

int ingest_command(const Config& config, const IngestRequest& r, std::ostream& out, std::ostream& err) {
    ingest::IngestOptions o;
    o.mta = r.mta == "sendmail" ? ingest::Mta::Sendmail : ingest::Mta::Postfix;
    o.journal = r.journal || !r.journal_directory.empty();
    o.journal_directory = r.journal_directory;
    o.path = r.path;
    o.follow = r.follow;
    if (o.journal && !r.path.empty()) {
        err << "ingest: --journal reads journald; a log file (" << r.path << ") is another source: give one\n";
        return 2;
    }
    if (!o.journal && r.path.empty()) {
        err << "ingest: name the MTA's log file (/var/log/mail.log), - for standard input, or --journal\n";
        return 2;
    }
    if (o.follow && r.path == "-") {
        err << "ingest: --follow follows a file or the journal; standard input is read to its end anyway\n";
        return 2;
    }
    g_stop = 0;
    StopSignals signals;
    o.stop = &g_stop;
    ingest::SystemClock clock;
    // --stats: the file after each batch the sink kept, at most once a second, and at the end.
    OutboundMetrics metrics;
    std::chrono::steady_clock::time_point next_stats{};
    const auto write_stats = [&](bool now) {
        if (r.stats.empty() || (!now && std::chrono::steady_clock::now() < next_stats)) return;
        next_stats = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        std::string error;
        if (!write_file_atomically(r.stats, metrics.render(), &error))
            err << "tlspolicy-milter ingest: --stats " << r.stats << ": " << error << "\n";
    };
    o.committed = [&](std::span<const ingest::OutboundDelivery> stored, const ingest::IngestCounts& counts) {
        metrics.count(stored);
        metrics.set_lines(counts);
        write_stats(false);
    };
    struct AtEnd {
        std::function<void()> f;
        ~AtEnd() { f(); }
    } at_end{[&] { write_stats(true); }};
    try {
        if (r.output.empty()) {
            if (config.observations.database.empty()) {
                err << "ingest: " << config.path << " sets no [observations] database: set one to keep outbound "
                    << "deliveries beside inbound mail, or write them with --output FILE (--output - for standard "
                    << "output)\n";
                return 2;
            }
            ingest::StoreSink sink(make_backend(config.observations.database, std::chrono::seconds(10)),
                                   source_name(r), *config.policy, config.observations.host);
            return ingest::run_ingest(*config.policy, o, sink, clock, err);
        }
        if (r.output == "-") {
            ingest::StreamSink sink(out);
            return ingest::run_ingest(*config.policy, o, sink, clock, err);
        }
        ingest::FileSink sink(r.output);
        if (sink.cut_at_open() > 0)
            err << "tlspolicy-milter ingest: note: " << r.output << " ended in a batch without its checkpoint (a "
                << "run that stopped while writing): its " << sink.cut_at_open() << " bytes were cut off; the "
                << "lines are read again\n";
        return ingest::run_ingest(*config.policy, o, sink, clock, err);
    } catch (const ingest::SinkError& e) {
        err << "tlspolicy-milter ingest: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace tlspolicy
