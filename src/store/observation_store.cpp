// The bounded queue, the writer thread behind it, and the spool in front of a
// remote backend. Nothing here knows which database it writes to.
#include "store/observation_store.hpp"

#include <algorithm>
#include <ctime>

namespace tlspolicy {
namespace {

// "30s", or "250ms" for the short intervals of tests.
std::string seconds(std::chrono::milliseconds d) {
    return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s" : std::to_string(d.count()) + "ms";
}

constexpr int kDrainChunksPerRound = 10;  // then the queue gets its turn

}  // namespace

ObservationStore::ObservationStore(StoreOptions options, std::function<void(std::string_view)> log)
    : ObservationStore(options, make_backend(options.path, options.db_timeout), std::move(log)) {}

ObservationStore::ObservationStore(StoreOptions options, std::unique_ptr<ObservationBackend> backend,
                                   std::function<void(std::string_view)> log)
    : opt_(std::move(options)),
      log_(log ? std::move(log) : [](std::string_view) {}),
      backend_(std::move(backend)),
      spool_(make_spool(opt_.spool, opt_.spool_max_rows)),
      hosts_(opt_.host, opt_.policy_host_wait) {
    writer_ = std::thread([this] { run(); });
}

ObservationStore::~ObservationStore() {
    {
        std::lock_guard lk(mu_);
        stop_ = true;
    }
    wake_.notify_one();
    writer_.join();
}

bool ObservationStore::enqueue(Observation&& o) noexcept {
    try {
        bool wake = false;
        {
            std::lock_guard lk(mu_);
            if (queue_.size() >= opt_.capacity || stop_) {
                dropped_.fetch_add(1, std::memory_order_relaxed);
                full_drops_.fetch_add(1, std::memory_order_relaxed);
                return false;
            }
            queue_.push_back(std::move(o));
            ++accepted_;
            // Wake the writer for the first row (it then gathers a batch) and
            // for a full batch; a wake-up per row would cost a context switch each.
            wake = queue_.size() == 1 || queue_.size() == opt_.batch_rows;
        }
        if (wake) wake_.notify_one();
        return true;
    } catch (...) {  // bad_alloc: drop it like a full queue
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
}

void ObservationStore::record_policy(PolicyVersion v) {
    {
        std::lock_guard lk(mu_);
        policy_queue_.push_back(std::move(v));
        ++accepted_;
    }
    wake_.notify_one();
}

void ObservationStore::flush() {
    std::unique_lock lk(mu_);
    const std::uint64_t target = accepted_;
    ++flushes_;
    wake_.notify_one();
    done_.wait(lk, [&] { return finished_ >= target; });
}

void ObservationStore::run() {
    ObservationBatch batch;
    std::vector<PolicyVersion> policies;
    ensure_open();
    if (backend_->remote() && ensure_spool()) spooled_.store(spool_->rows(), std::memory_order_relaxed);
    for (bool stopping = false; !stopping;) {
        {
            std::unique_lock lk(mu_);
            wake_.wait_until(lk, next_wake(), [&] { return stop_ || !queue_.empty() || !policy_queue_.empty(); });
            if (!stop_ && !queue_.empty() && opt_.batch_window.count() > 0) {
                const std::uint64_t flushes = flushes_;
                wake_.wait_for(lk, opt_.batch_window,
                               [&] { return stop_ || flushes_ != flushes || queue_.size() >= opt_.batch_rows; });
            }
            batch.swap(queue_);  // O(1): the mail path waits for nothing but this
            policies.swap(policy_queue_);
            stopping = stop_ && queue_.empty();  // nothing can be enqueued after stop_
        }
        for (PolicyVersion& p : policies) hosts_.add(std::move(p), Clock::now());
        if (!batch.empty() && opt_.before_write) opt_.before_write();
        if (!opt_.host.empty())
            for (Observation& o : batch) o.host = opt_.host;
        hosts_.resolve(batch, Clock::now(), stopping, ready_);
        if (!ready_.empty()) store_policies();
        if (!batch.empty()) write(batch);
        if (backend_->remote()) drain();
        if (open_ && Clock::now() >= next_purge_) purge();
        if (!open_ && Clock::now() >= next_open_) ensure_open();  // an idle store notices recovery too
        report_drops();
        {
            std::lock_guard lk(mu_);
            finished_ += batch.size() + policies.size();
        }
        done_.notify_all();
        batch.clear();
        policies.clear();
    }
}

// The next time the writer has something to do without being woken.
ObservationStore::Clock::time_point ObservationStore::next_wake() const {
    Clock::time_point t = open_ ? next_purge_ : next_open_;
    if (auto deadline = hosts_.next_deadline()) t = std::min(t, *deadline);
    if (!ready_.empty()) t = std::min(t, Clock::now() + opt_.retry_interval);
    if (backend_->remote() && (spool_->rows() > 0 || spool_->has_policies()))  // keep draining
        t = std::min(t, !spool_->is_open() ? next_spool_open_ : open_ ? Clock::now() : next_open_);
    return t;
}

// Records ready_ in the database; a remote one that is away gets them
// through the spool, a local one that fails keeps them for the next round.
void ObservationStore::store_policies() {
    std::string error;
    const bool direct = !backend_->remote() || (spool_->rows() == 0 && !spool_->has_policies());
    if (direct && ensure_open()) {
        if (backend_->record_policies(ready_, &error)) {
            ready_.clear();
            return;
        }
        fail(backend_->name() + ": recording the policy version failed: " + error, 0);
    }
    if (backend_->remote() && ensure_spool()) {
        if (spool_->append(ready_, &error)) ready_.clear();
        else note(error);
    }
}

void ObservationStore::write(ObservationBatch& batch) {
    if (backend_->remote()) return deliver(batch);
    if (!ensure_open()) {
        dropped_.fetch_add(batch.size(), std::memory_order_relaxed);
        dropped_unlogged_ += batch.size();
        return;
    }
    std::string error;
    if (!backend_->write(batch, nullptr, &error)) {
        fail(backend_->name() + ": writing observations failed: " + error, batch.size());
        return;
    }
    written_.fetch_add(batch.size(), std::memory_order_relaxed);
    recovered();
}

// A remote backend: straight to the server when nothing waits in the spool
// (else this batch would overtake older ones), to the spool otherwise.
void ObservationStore::deliver(const ObservationBatch& batch) {
    if (spool_->rows() == 0 && ensure_open()) {
        std::string error;
        if (backend_->write(batch, nullptr, &error)) {
            written_.fetch_add(batch.size(), std::memory_order_relaxed);
            recovered();
            return;
        }
        fail(backend_->name() + ": writing observations failed: " + error, 0);
    }
    to_spool(batch);
}

void ObservationStore::to_spool(const ObservationBatch& batch) {
    std::size_t appended = 0;
    std::string error;
    if (ensure_spool() && !spool_->append(batch, &appended, &error)) note(error);
    const std::size_t lost = batch.size() - appended;
    dropped_.fetch_add(lost, std::memory_order_relaxed);
    spool_drops_ += lost;
    spooled_.store(spool_->rows(), std::memory_order_relaxed);
}

// Sends the oldest spooled rows, a few chunks per round, each chunk one
// transaction there and then one deletion here. A crash between the two sends
// that chunk again after the restart: at least once, never lost.
void ObservationStore::drain() {
    if ((spool_->rows() == 0 && !spool_->has_policies()) || !ensure_spool() || !ensure_open()) return;
    std::string error;
    std::int64_t last = 0;
    if (spool_->has_policies()) {
        std::vector<PolicyVersion> versions;
        if (!spool_->policies(versions, &last, &error)) return (void)note(error);
        if (!backend_->record_policies(versions, &error))
            return fail(backend_->name() + ": recording policy versions failed: " + error, 0);
        if (!spool_->remove_policies_through(last, &error)) return (void)note(error);
    }
    ObservationBatch chunk;
    for (int i = 0; i < kDrainChunksPerRound && spool_->rows() > 0; ++i) {
        if (!spool_->oldest(opt_.drain_batch, chunk, &last, &error)) return (void)note(error);
        if (chunk.empty()) break;
        if (!backend_->write(chunk, nullptr, &error))
            return fail(backend_->name() + ": writing spooled observations failed: " + error, 0);
        written_.fetch_add(chunk.size(), std::memory_order_relaxed);
        if (!spool_->remove_through(last, chunk.size(), &error)) return (void)note(error);
        spooled_.store(spool_->rows(), std::memory_order_relaxed);
    }
    recovered();
}

// Opens (or reopens) the backend when it is closed and a retry is due.
bool ObservationStore::ensure_open() {
    std::string why;  // set when the open database was taken away under us
    if (open_ && !backend_->still_open(&why)) {
        open_ = false;
        next_open_ = {};  // try again at once
    }
    if (open_) return true;
    if (Clock::now() < next_open_) return false;
    std::string error;
    if (!backend_->open(&error)) {
        next_open_ = Clock::now() + opt_.retry_interval;
        fail(why.empty() ? error : error + " (" + why + ")", 0);
        return false;
    }
    open_ = true;
    if (!why.empty()) note(backend_->name() + ": " + why + "; reopened it");
    next_purge_ = Clock::now();  // retention runs at every (re)open
    return true;
}

// The spool file, opened on first need and reopened (at most once per
// retry_interval) after a failure.
// `quiet`: the caller tells of a failure itself (spool_error_ says why).
bool ObservationStore::ensure_spool(bool quiet) {
    if (spool_->is_open()) return true;
    if (Clock::now() < next_spool_open_) return false;
    if (spool_->open(&spool_error_)) return true;
    next_spool_open_ = Clock::now() + opt_.retry_interval;
    if (!quiet)
        note(spool_error_ + " (the spool of " + backend_->name() + ": while that is unreachable, observations are dropped)");
    return false;
}

// Deletes the months older than keep_days (retention_cutoff).
void ObservationStore::purge() {
    next_purge_ = Clock::now() + opt_.purge_interval;
    std::string error;
    if (!backend_->purge(retention_cutoff(std::time(nullptr), opt_.keep_days), &error))
        fail(backend_->name() + ": deleting old observations failed: " + error, 0);
}

// A failed open, write or purge: count it, close the backend so that a
// later batch reopens it, and log at most once per log_interval.
void ObservationStore::fail(const std::string& what, std::size_t lost) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    dropped_.fetch_add(lost, std::memory_order_relaxed);
    dropped_unlogged_ += lost;
    failing_ = true;
    if (open_) {
        backend_->close();
        open_ = false;
        next_open_ = Clock::now() + opt_.retry_interval;
    }
    std::string lost_text =
        dropped_unlogged_ ? std::to_string(dropped_unlogged_) + " observations dropped since the last message; " : "";
    // Only a spool that is open holds anything: never claim one that is not.
    if (backend_->remote())
        lost_text += ensure_spool(true) ? "observations wait in the spool " + spool_->path() + "; "
                                        : "the spool " + spool_->path() + " cannot be used either (" + spool_error_ +
                                              "): observations are dropped; ";
    if (note(what + " (" + lost_text + "retrying every " + seconds(opt_.retry_interval) + ")")) dropped_unlogged_ = 0;
}

// After a successful write: says so once after a failure.
void ObservationStore::recovered() {
    if (!failing_ || (backend_->remote() && spool_->rows() > 0)) return;
    failing_ = false;
    say(backend_->name() + ": observations are written again; " + std::to_string(dropped_unlogged_) +
        " dropped since the last message");
    dropped_unlogged_ = 0;
}

// Logs unless something was logged less than log_interval ago. A logger that
// throws must not end the writer thread.
bool ObservationStore::note(const std::string& message) {
    if (Clock::now() < next_log_) return false;
    next_log_ = Clock::now() + opt_.log_interval;
    say(message);
    return true;
}

void ObservationStore::say(const std::string& message) noexcept {
    try {
        log_(message);
    } catch (...) {
    }
}

// Drops at enqueue happen on the mail path, which must not log, and a full
// spool may drop at every batch: the writer tells, at most once per
// log_interval each.
void ObservationStore::report_drops() {
    const std::uint64_t n = full_drops_.load(std::memory_order_relaxed);
    if (n != full_drops_logged_ && Clock::now() >= next_full_log_) {
        next_full_log_ = Clock::now() + opt_.log_interval;
        say(backend_->name() + ": the observation queue was full (" + std::to_string(opt_.capacity) + "); " +
            std::to_string(n - full_drops_logged_) + " observations dropped since the last message");
        full_drops_logged_ = n;
    }
    if (spool_drops_ != spool_drops_logged_ && Clock::now() >= next_spool_log_) {
        next_spool_log_ = Clock::now() + opt_.log_interval;
        say(spool_->path() + ": the spool was full (" + std::to_string(spool_->max_rows()) + " rows) or failed while " +
            backend_->name() + " was unreachable; " + std::to_string(spool_drops_ - spool_drops_logged_) +
            " observations dropped since the last message");
        spool_drops_logged_ = spool_drops_;
    }
}

}  // namespace tlspolicy
