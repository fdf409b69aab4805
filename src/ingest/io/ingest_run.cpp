// The ingest loop (see ingest_run.hpp).
#include "ingest/io/ingest_run.hpp"

#include <memory>
#include <ostream>
#include <thread>

#include "ingest/io/line_source.hpp"
#include "ingest/judge.hpp"

namespace tlspolicy::ingest {
namespace {

constexpr std::string_view kTag = "tlspolicy-milter ingest: ";

// What the records said, for the summary.
struct Tally {
    std::uint64_t status[3] = {}, transport[4] = {};
    void add(const OutboundDelivery& d) {
        ++status[static_cast<int>(d.status)];
        ++transport[static_cast<int>(d.transport)];
    }
};

void summary(std::ostream& err, const IngestCounts& c, const Tally& t) {
    err << kTag << c.lines() << " lines: " << c.deliveries << " deliveries (" << t.status[0] << " sent, "
        << t.status[1] << " deferred, " << t.status[2] << " bounced; " << t.transport[0] << " over TLS, "
        << t.transport[1] << " plaintext, " << t.transport[2] << " without a connection, " << t.transport[3]
        << " TLS unknown), " << c.tls_lines << " TLS lines; skipped " << c.skipped() << " (other programs "
        << c.other_programs << ", not syslog " << c.not_syslog << ", malformed " << c.malformed << ")";
    if (c.pending_dropped) err << "; " << c.pending_dropped << " pending TLS lines dropped at the bound";
    err << "\n";
}

void warn_tls_logging(std::ostream& err, Mta mta, const IngestCounts& c) {
    err << kTag << "warning: " << c.without_tls_facts << " deliveries in " << c.lines()
        << " lines, and not one TLS line from the " << (mta == Mta::Postfix ? "Postfix smtp client" : "Sendmail MTA")
        << ": they are recorded with TLS unknown. ";
    if (mta == Mta::Postfix)
        err << "Postfix logs TLS only with smtp_tls_loglevel = 1 or more (postconf -e smtp_tls_loglevel=1; "
               "postfix reload)";
    else
        err << "Sendmail logs STARTTLS=client only at LogLevel 9 (its default) or more (O LogLevel=9 in sendmail.cf)";
    err << ", and only for TLS it negotiates: a host that sends in plaintext only logs none either. "
           "See tlspolicy-milter(8), OUTBOUND.\n";
}

}  // namespace

std::vector<std::string> journal_matches(Mta mta) {
    if (mta == Mta::Postfix) return {"_COMM=smtp", "SYSLOG_IDENTIFIER=postfix/smtp"};
    return {"SYSLOG_IDENTIFIER=sm-mta", "SYSLOG_IDENTIFIER=sendmail"};
}

int run_ingest(const Policy& policy, const IngestOptions& o, DeliverySink& sink, const Clock& clock,
               std::ostream& err, IngestCounts* counts_out) {
    DeliveryAssembler assembler(o.mta, clock);
    Tally tally;
    bool warned = false;
    const auto finish = [&](int code) {
        if (!warned && !assembler.tls_logging_seen() && assembler.counts().without_tls_facts > 0)
            warn_tls_logging(err, o.mta, assembler.counts());
        summary(err, assembler.counts(), tally);
        if (counts_out) *counts_out = assembler.counts();
        return code;
    };
    try {
        std::optional<Checkpoint> cp = sink.committed();
        if (cp) {
            std::string why;
            if (!assembler.restore_state(cp->state, &why)) {
                err << kTag << "the checkpoint's state is unreadable (" << why
                    << "): is the output file another MTA's? Name another --output\n";
                return 1;
            }
        }
        std::unique_ptr<LineSource> source;
        if (o.journal) {
            if (cp && cp->position.kind == LogPosition::Kind::File) {
                err << kTag << "the checkpoint is a place in a log file, not a journald cursor: give the "
                              "journal its own --output\n";
                return 1;
            }
            auto j = std::make_unique<JournalSource>(journal_matches(o.mta), o.follow, o.journal_directory,
                                                     o.journalctl);
            j->open(cp && cp->position.kind == LogPosition::Kind::Journal ? std::optional(cp->position.cursor)
                                                                          : std::nullopt);
            source = std::move(j);
        } else if (o.path == "-") {
            if (cp)
                err << kTag << "note: standard input has no position to resume from: its records are added "
                               "after the output's last checkpoint (the same lines given twice count twice)\n";
            source = std::make_unique<StreamSource>(0);
        } else {
            auto f = std::make_unique<FileSource>(o.path, o.follow, o.rotation_grace);
            f->open(cp ? std::optional(cp->position) : std::nullopt);
            source = std::move(f);
        }

        std::vector<OutboundDelivery> records;
        std::size_t judged = 0;
        LogPosition position = cp ? cp->position : LogPosition{};
        bool moved = false;
        const auto commit = [&] {
            for (; judged < records.size(); ++judged) {
                judge_delivery(policy, records[judged]);
                tally.add(records[judged]);
            }
            sink.write(records, Checkpoint{position, assembler.save_state()});
            if (o.committed) o.committed(records, assembler.counts());
            records.clear();
            judged = 0;
            moved = false;
        };
        const LineSource::LineFn line = [&](std::string_view text, const LogPosition& after) {
            if (o.journal) {
                JournalEntry entry;
                if (parse_journal_json(text, entry)) {
                    assembler.feed(entry, records);
                    if (!entry.cursor.empty()) {
                        position.kind = LogPosition::Kind::Journal;
                        position.cursor = std::move(entry.cursor);
                    }
                } else {
                    assembler.feed(text, records);  // counted as not a syslog line
                }
            } else {
                assembler.feed(text, records);
                position = after;
            }
            moved = true;
            if (records.size() >= o.batch) commit();
        };
        for (;;) {
            const bool stopping = o.stop && *o.stop;
            const LineSource::Status st = stopping ? LineSource::Status::End : source->read(line);
            for (const std::string& note : source->notes) err << kTag << "note: " << note << "\n";
            source->notes.clear();
            if (!warned && !assembler.tls_logging_seen() &&
                assembler.counts().without_tls_facts >= kWarnWithoutTlsAfter) {
                warn_tls_logging(err, o.mta, assembler.counts());
                warned = true;
            }
            if (st == LineSource::Status::Lines) continue;
            if (auto now = source->position(); now && !(*now == position)) {
                position = *now;  // moved on without a line: a rotated file left behind
                moved = true;
            }
            if (moved || !records.empty()) commit();
            if (st == LineSource::Status::End) break;
            if (!o.journal) std::this_thread::sleep_for(o.idle_wait);  // journalctl's read waits by itself
        }
    } catch (const SourceError& e) {
        err << kTag << e.what() << "\n";
        return finish(1);
    } catch (const SinkError& e) {
        err << kTag << e.what() << "; nothing after the last checkpoint was kept: run again to resume\n";
        return finish(1);
    }
    return finish(0);
}

}  // namespace tlspolicy::ingest
