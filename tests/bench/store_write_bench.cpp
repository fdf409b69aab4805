// How many observations a second one database takes from several milters'
// store writers: prints figures, not a test (tests/bench/store/, BENCHMARKS.md
// "Issue 23").
//
// Each writer is an ObservationStore of its own (its own host name, writer
// thread, connection, batches and summary upserts), exactly what one milter
// runs; the mail path is replaced by a loop that enqueues generated
// observations as fast as the queue takes them (a full queue: wait 1 ms and
// offer the same row again, so nothing is dropped). On two cores the milters
// themselves cannot produce more than ~3,000 messages a second between them
// (BENCHMARKS.md "Issue 15"), so this measures the store's write path alone.
//
//   store_write_bench URL [--writers 4] [--rows 200000] [--day UNIXTIME]
//
// The rows spread over one day (partition) and 2,000 sending domains, 40 of
// them partners with 40 % of the mail, TLS none/1.0/1.1/1.2/1.3 =
// 3/2/2/65/28 %, as tests/bench/store/gen-observations makes them.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/observation_store.hpp"

using namespace tlspolicy;
using Clock = std::chrono::steady_clock;

namespace {

Observation make(std::uint64_t g, int writer, std::int64_t day) {
    const std::uint64_t h = (g * 2654435761u) % 1000003u;
    const std::uint64_t v = (g * 40503u) % 100u;
    const bool partner = h % 10 < 4;
    const std::uint64_t dom = partner ? h % 40 : 40 + h % 1960;
    Observation o;
    o.time = day + static_cast<std::int64_t>(g % 86400);
    o.stage = Stage::Message;
    o.queue_id = "Q" + std::to_string(writer) + "x" + std::to_string(g);
    o.client = "10." + std::to_string(dom % 250) + "." + std::to_string(h % 250) + "." + std::to_string(g % 250);
    o.sender = "u" + std::to_string(h % 50) + "@d" + std::to_string(dom) + ".example";
    o.rules = {partner ? RuleRef{"p" + std::to_string(dom), RuleKind::Partner} : RuleRef{"default", RuleKind::Defaults}};
    o.host = "mx" + std::to_string(writer) + ".bench.example";
    o.version = v < 3 ? TlsVersion::None : v < 5 ? TlsVersion::TLSv1_0 : v < 7 ? TlsVersion::TLSv1_1
              : v < 72 ? TlsVersion::TLSv1_2 : TlsVersion::TLSv1_3;
    if (o.version != TlsVersion::None) {
        o.cipher = o.version == TlsVersion::TLSv1_3 ? "TLS_AES_256_GCM_SHA384" : "ECDHE-RSA-AES128-GCM-SHA256";
        o.cipher_bits = o.alg_bits = o.version == TlsVersion::TLSv1_3 ? 256 : 128;
    }
    const bool fail = partner && v < 7;
    o.result = partner ? (fail ? Result::Fail : Result::Pass) : Result::None;
    o.action = fail ? Decision::Reject : Decision::Accept;
    if (fail) o.stage = Stage::Mail, o.queue_id.clear();
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: store_write_bench URL [--writers 4] [--rows 200000] [--day UNIXTIME]\n");
        return 2;
    }
    const std::string url = argv[1];
    int writers = 4;
    std::uint64_t rows = 200000;
    std::int64_t day = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
    day -= day % 86400;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--writers")) writers = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--rows")) rows = std::strtoull(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--day")) day = std::atoll(argv[i + 1]);
        else { std::fprintf(stderr, "store_write_bench: unknown option %s\n", argv[i]); return 2; }
    }
    std::vector<std::unique_ptr<ObservationStore>> stores;
    for (int w = 0; w < writers; ++w) {
        StoreOptions o;
        o.path = url;
        o.keep_days = 400;  // no retention during the run
        o.host = "mx" + std::to_string(w) + ".bench.example";
        o.spool = "/tmp/store_write_bench." + std::to_string(getpid()) + "." + std::to_string(w) + ".spool";
        stores.push_back(std::make_unique<ObservationStore>(o, [w](std::string_view m) {
            std::fprintf(stderr, "writer %d: %.*s\n", w, static_cast<int>(m.size()), m.data());
        }));
    }
    // Opening and migrating happen on the first batch: one row each, flushed, first.
    for (int w = 0; w < writers; ++w) stores[w]->enqueue(make(0, w, day));
    for (auto& s : stores) s->flush();
    std::vector<std::uint64_t> waits(static_cast<std::size_t>(writers), 0);
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w)
        threads.emplace_back([&, w] {
            for (std::uint64_t g = 1; g <= rows; ++g)
                while (!stores[w]->enqueue(make(g, w, day))) {
                    ++waits[static_cast<std::size_t>(w)];
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                }
            stores[w]->flush();
        });
    for (auto& t : threads) t.join();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::uint64_t written = 0, dropped = 0, spooled = 0, waited = 0;
    for (int w = 0; w < writers; ++w) {
        written += stores[w]->written() - 1;
        dropped += stores[w]->dropped();
        spooled += stores[w]->spooled();
        waited += waits[static_cast<std::size_t>(w)];
    }
    std::printf("writers %d  rows %llu  written %llu  dropped %llu  spooled %llu  %.2f s  %.0f rows/s"
                "  (queue full %llu times)\n",
                writers, static_cast<unsigned long long>(rows * static_cast<std::uint64_t>(writers)),
                static_cast<unsigned long long>(written), static_cast<unsigned long long>(dropped),
                static_cast<unsigned long long>(spooled), secs, static_cast<double>(written) / secs,
                static_cast<unsigned long long>(waited));
    stores.clear();
    for (int w = 0; w < writers; ++w)
        std::remove(("/tmp/store_write_bench." + std::to_string(getpid()) + "." + std::to_string(w) + ".spool").c_str());
    return written == rows * static_cast<std::uint64_t>(writers) ? 0 : 1;
}
