// The observation store as the mail path sees it: enqueue() hands one
// decision to a bounded in-memory queue and returns at once; a background
// writer thread drains the queue into SQLite in batches. When the queue is
// full or the disk fails, observations are dropped and counted: losing a row
// of statistics is better than delaying mail.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "store/observation.hpp"
#include "store/sqlite.hpp"

namespace tlspolicy {

struct StoreOptions {
    std::string path{};                        // [observations] database
    int keep_days = 90;                        // [observations] keep_days
    std::size_t capacity = 65536;              // queued observations before enqueue drops
    std::chrono::milliseconds retry_interval = std::chrono::seconds(30);  // reopen after a failure
    std::chrono::milliseconds log_interval = std::chrono::minutes(5);     // at most one failure message per
    std::chrono::milliseconds purge_interval = std::chrono::hours(1);     // retention runs at start and then
    std::function<void()> before_write{};      // test hook: runs on the writer before each batch
};

class ObservationStore {
public:
    // `log` receives failure and recovery messages, from the writer thread.
    ObservationStore(StoreOptions options, std::function<void(std::string_view)> log);
    ~ObservationStore();  // writes what is queued, then stops the writer
    ObservationStore(const ObservationStore&) = delete;
    ObservationStore& operator=(const ObservationStore&) = delete;

    // The mail path: takes the lock only to push. False when dropped.
    bool enqueue(Observation&& o) noexcept;

    // Waits until everything enqueued before the call is written or dropped.
    void flush();

    std::uint64_t written() const { return written_.load(std::memory_order_relaxed); }
    std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }  // queue full or disk failed
    std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }  // failed opens and writes

private:
    using Clock = std::chrono::steady_clock;

    void run();
    void write(const std::deque<Observation>& batch);
    bool ensure_open();
    bool replaced() const;
    void purge();
    void fail(const std::string& what, std::size_t lost);
    bool note(const std::string& message);
    void say(const std::string& message) noexcept;
    void report_full_queue();

    const StoreOptions opt_;
    const std::function<void(std::string_view)> log_;

    // Shared with the mail path, under mu_.
    std::mutex mu_;
    std::condition_variable wake_;  // the writer: work, flush or stop
    std::condition_variable done_;  // flush(): a batch was finished
    std::deque<Observation> queue_;  // grows in small blocks: no big copy or page-in under the lock
    std::uint64_t accepted_ = 0;    // ever enqueued
    std::uint64_t finished_ = 0;    // of those, written or dropped by the writer
    bool stop_ = false;

    std::atomic<std::uint64_t> written_{0}, dropped_{0}, failures_{0};
    std::atomic<std::uint64_t> full_drops_{0};  // the part of dropped_ that enqueue refused

    // The writer thread's own.
    sqlite::Db db_;
    std::uint64_t dev_ = 0, ino_ = 0;  // the file db_ has open, to notice it removed or replaced
    Clock::time_point next_open_{}, next_purge_{}, next_log_{}, next_full_log_{};
    std::uint64_t dropped_unlogged_ = 0;  // dropped by the writer since its last message
    std::uint64_t full_drops_logged_ = 0;
    bool failing_ = false;

    std::thread writer_;  // last: starts once everything above is ready
};

}  // namespace tlspolicy
