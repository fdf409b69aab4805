// The ingest parser's speed: a generated mail.log (tests/bench/ingest/
// gen-maillog) read the way `ingest PATH` reads it, in three passes side by
// side: the lines only (read and split), through the assembler (records),
// and through the assembler and the outbound judgement against a policy of
// 1,000 partner rules. One thread; prints lines/s of wall and CPU time.
// Usage: ingest_bench MAIL.LOG
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/policy.hpp"
#include "ingest/assembler.hpp"
#include "ingest/io/line_source.hpp"
#include "ingest/judge.hpp"

using namespace tlspolicy;
using namespace tlspolicy::ingest;

namespace {

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

Policy thousand_partners() {
    Policy p;
    p.defaults.name = "default";
    for (int i = 0; i < 1000; ++i) {
        Rule r;
        r.name = "partner" + std::to_string(i);
        r.kind = RuleKind::Partner;
        r.req.require_tls = true;
        r.req.min_version = TlsVersion::TLSv1_2;
        r.senders.push_back(*parse_entry("dest" + std::to_string(i * 2) + ".example", true, nullptr));
        p.partners.push_back(std::move(r));
    }
    p.build_indexes();
    return p;
}

struct Pass {
    const char* name;
    int level;  // 0 split, 1 assemble, 2 assemble and judge
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: ingest_bench MAIL.LOG\n");
        return 2;
    }
    const Policy policy = thousand_partners();
    const FixedClock clock(epoch_seconds(2026, 12, 31, 0, 0, 0), 0);
    for (const Pass& pass : {Pass{"read and split lines", 0}, Pass{"assemble records", 1},
                             Pass{"assemble and judge (1,000 rules)", 2}}) {
        FileSource source(argv[1], false);
        source.open(std::nullopt);
        DeliveryAssembler assembler(Mta::Postfix, clock);
        std::vector<OutboundDelivery> records;
        std::uint64_t lines = 0, bytes = 0, deliveries = 0, failed = 0;
        const auto t0 = std::chrono::steady_clock::now();
        const double c0 = cpu_seconds();
        const LineSource::LineFn fn = [&](std::string_view l, const LogPosition&) {
            ++lines;
            bytes += l.size() + 1;
            if (pass.level == 0) return;
            assembler.feed(l, records);
            if (records.size() >= 1000) {
                for (OutboundDelivery& d : records) {
                    if (pass.level == 2) {
                        judge_delivery(policy, d);
                        failed += d.judgement.result == Result::Fail;
                    }
                }
                deliveries += records.size();
                records.clear();
            }
        };
        while (source.read(fn) != LineSource::Status::End) {
        }
        for (OutboundDelivery& d : records)
            if (pass.level == 2) judge_delivery(policy, d);
        deliveries += records.size();
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double cpu = cpu_seconds() - c0;
        std::printf("%-34s %10llu lines %8.1f MB %9llu deliveries  wall %6.2f s  cpu %6.2f s  %9.0f lines/s (wall)  "
                    "%9.0f lines/s (cpu)\n",
                    pass.name, static_cast<unsigned long long>(lines), static_cast<double>(bytes) / 1e6,
                    static_cast<unsigned long long>(deliveries), wall, cpu, static_cast<double>(lines) / wall,
                    static_cast<double>(lines) / cpu);
        if (pass.level >= 1 && assembler.counts().lines() != lines) {
            std::fprintf(stderr, "ingest_bench: the assembler counted %llu lines of %llu\n",
                         static_cast<unsigned long long>(assembler.counts().lines()),
                         static_cast<unsigned long long>(lines));
            return 1;
        }
        if (pass.level == 2) std::printf("  (%llu deliveries judged fail)\n", static_cast<unsigned long long>(failed));
    }
    return 0;
}
