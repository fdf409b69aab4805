// The observation store as the mail path sees it: enqueue() hands one
// decision to a bounded in-memory queue and returns at once; a background
// writer thread drains the queue into the database in batches, through an
// ObservationBackend (a SQLite file or a PostgreSQL server).
//
// A SQLite file that fails drops the batch, counted: losing a row of
// statistics is better than delaying mail. A PostgreSQL server that is
// unreachable or failing costs nothing either: batches wait in a bounded
// local spool (a SQLite file that survives a restart) and are sent, oldest
// first, once the server is back. Only a full queue or a full spool drops.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store/observation.hpp"
#include "store/observation_backend.hpp"
#include "store/policy_hosts.hpp"
#include "store/spool.hpp"

namespace tlspolicy {

struct StoreOptions {
    std::string path{};                        // [observations] database: a SQLite path or a postgresql:// URL
    int keep_days = 90;                        // [observations] keep_days
    std::string host{};                        // [observations] host: set on every row; "" keeps the MTA's name
    std::string spool{};                       // [observations] spool: the spool file of a remote database
    std::size_t spool_max_rows = 1000000;      // [observations] spool_max_rows
    std::size_t capacity = 65536;              // queued observations before enqueue drops
    // The writer gathers a batch for this long, or until batch_rows wait, so a
    // busy MX costs a transaction per batch, not per message (flush() cuts it short).
    std::chrono::milliseconds batch_window = std::chrono::milliseconds(50);
    std::size_t batch_rows = 1024;
    // Reopen after a failure. A refused connection costs the writer thread a
    // moment, an unreachable host at most db_timeout: never the mail path.
    std::chrono::milliseconds retry_interval = std::chrono::seconds(5);
    std::chrono::milliseconds log_interval = std::chrono::minutes(5);     // at most one failure message per
    std::chrono::milliseconds purge_interval = std::chrono::hours(1);     // retention runs at start and then
    // How long a policy version recorded before any mail waits for the MTA's
    // name from an observation before it takes this machine's hostname.
    std::chrono::milliseconds policy_host_wait = std::chrono::minutes(10);
    std::size_t drain_batch = 1000;            // spooled rows sent per transaction
    std::chrono::milliseconds db_timeout = std::chrono::seconds(10);  // a server's answer, connect included
    std::function<void()> before_write{};      // test hook: runs on the writer before each batch
};

class ObservationStore {
public:
    // `log` receives failure and recovery messages, from the writer thread.
    // The backend is chosen by options.path (make_backend).
    ObservationStore(StoreOptions options, std::function<void(std::string_view)> log);
    ObservationStore(StoreOptions options, std::unique_ptr<ObservationBackend> backend,
                     std::function<void(std::string_view)> log);
    ~ObservationStore();  // writes (or spools) what is queued, then stops the writer
    ObservationStore(const ObservationStore&) = delete;
    ObservationStore& operator=(const ObservationStore&) = delete;

    // The mail path: takes the lock only to push. False when dropped.
    bool enqueue(Observation&& o) noexcept;

    // At start and at each reload: the policy in force from v.time on. Never
    // waits for the database. v.host: [observations] host when set; else the
    // host of the observations (macro j), from the first one that brings it
    // when none came yet; gethostname() after policy_host_wait or at stop.
    void record_policy(PolicyVersion v);

    // Waits until everything enqueued before the call is written, spooled or
    // dropped (a policy version may still wait for its host).
    void flush();

    std::uint64_t written() const { return written_.load(std::memory_order_relaxed); }
    std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }  // queue or spool full, disk failed
    std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }  // failed opens and writes
    std::uint64_t spooled() const { return spooled_.load(std::memory_order_relaxed); }  // rows waiting in the spool

private:
    using Clock = std::chrono::steady_clock;

    void run();
    Clock::time_point next_wake() const;
    void write(ObservationBatch& batch);
    void deliver(const ObservationBatch& batch);
    void to_spool(const ObservationBatch& batch);
    void drain();
    void store_policies();
    bool ensure_open();
    bool ensure_spool(bool quiet = false);
    void purge();
    void fail(const std::string& what, std::size_t lost);
    void recovered();
    bool note(const std::string& message);
    void say(const std::string& message) noexcept;
    void report_drops();

    const StoreOptions opt_;
    const std::function<void(std::string_view)> log_;
    const std::unique_ptr<ObservationBackend> backend_;

    // Shared with the mail path, under mu_.
    std::mutex mu_;
    std::condition_variable wake_;  // the writer: work, flush or stop
    std::condition_variable done_;  // flush(): a batch was finished
    std::deque<Observation> queue_;  // grows in small blocks: no big copy or page-in under the lock
    std::vector<PolicyVersion> policy_queue_;
    std::uint64_t accepted_ = 0;    // ever enqueued (observations and policy versions)
    std::uint64_t finished_ = 0;    // of those, handled by the writer
    std::uint64_t flushes_ = 0;     // flush() calls, which end a batch window at once
    bool stop_ = false;

    std::atomic<std::uint64_t> written_{0}, dropped_{0}, failures_{0}, spooled_{0};
    std::atomic<std::uint64_t> full_drops_{0};  // the part of dropped_ that enqueue refused

    // The writer thread's own.
    const std::unique_ptr<Spool> spool_;
    PolicyHosts hosts_;               // the host each policy version belongs to
    bool open_ = false;
    std::vector<PolicyVersion> ready_;  // policy versions to record
    Clock::time_point next_open_{}, next_purge_{}, next_log_{}, next_full_log_{}, next_spool_log_{}, next_spool_open_{};
    std::uint64_t dropped_unlogged_ = 0;  // dropped by the writer since its last message
    std::uint64_t full_drops_logged_ = 0;
    std::uint64_t spool_drops_ = 0, spool_drops_logged_ = 0;
    bool failing_ = false;
    std::string spool_error_;  // why the spool last failed to open

    std::thread writer_;  // last: starts once everything above is ready
};

}  // namespace tlspolicy
