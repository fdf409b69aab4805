// The bounded queue and the SQLite writer thread behind it.
#include "store/observation_store.hpp"

#include <sys/stat.h>

#include <ctime>

#include "core/address.hpp"
#include "store/observation_schema.hpp"

namespace tlspolicy {
namespace {

constexpr const char* kInsert =
    "INSERT INTO observations (time, stage, queue_id, client, hostname, sender, sender_domain, recipient,"
    " rules, tls_version, cipher, cipher_bits, alg_bits, result, action, would, cert_status, cert_subject,"
    " cert_issuer) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";

void bind(sqlite::Stmt& s, const Observation& o) {
    s.bind(1, o.time);
    s.bind(2, store::stage_text(o.stage));
    s.bind(3, o.queue_id);
    s.bind(4, o.client);
    s.bind(5, o.hostname);
    s.bind(6, o.sender);
    s.bind(7, address_domain(o.sender));
    s.bind(8, o.recipient);
    s.bind(9, rule_names(o.rules));  // TODO(issue 13): the kinds, schema 3
    s.bind(10, header_name(o.version));
    s.bind(11, o.cipher);
    s.bind(12, std::int64_t{o.cipher_bits});
    s.bind(13, std::int64_t{o.alg_bits});
    s.bind(14, result_name(o.result));
    s.bind(15, decision_name(o.action));
    s.bind(16, decision_name(o.would));
    s.bind(17, cert_status_name(o.cert.status));
    s.bind(18, o.cert.subject_cn);
    s.bind(19, o.cert.issuer_cn);
}

// "30s", or "250ms" for the short intervals of tests.
std::string seconds(std::chrono::milliseconds d) {
    return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s" : std::to_string(d.count()) + "ms";
}

}  // namespace

ObservationStore::ObservationStore(StoreOptions options, std::function<void(std::string_view)> log)
    : opt_(std::move(options)), log_(log ? std::move(log) : [](std::string_view) {}) {
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
        {
            std::lock_guard lk(mu_);
            if (queue_.size() >= opt_.capacity || stop_) {
                dropped_.fetch_add(1, std::memory_order_relaxed);
                full_drops_.fetch_add(1, std::memory_order_relaxed);
                return false;
            }
            queue_.push_back(std::move(o));
            ++accepted_;
        }
        wake_.notify_one();  // no system call when the writer is busy, not waiting
        return true;
    } catch (...) {  // bad_alloc: drop it like a full queue
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
}

void ObservationStore::flush() {
    std::unique_lock lk(mu_);
    const std::uint64_t target = accepted_;
    wake_.notify_one();
    done_.wait(lk, [&] { return finished_ >= target; });
}

void ObservationStore::run() {
    std::deque<Observation> batch;
    ensure_open();
    for (;;) {
        {
            std::unique_lock lk(mu_);
            wake_.wait_until(lk, db_ ? next_purge_ : next_open_, [&] { return stop_ || !queue_.empty(); });
            if (stop_ && queue_.empty()) return;
            batch.swap(queue_);  // O(1): the mail path waits for nothing but this
        }
        if (!batch.empty()) {
            if (opt_.before_write) opt_.before_write();
            write(batch);
        }
        if (db_ && Clock::now() >= next_purge_) purge();
        if (!db_ && Clock::now() >= next_open_) ensure_open();  // an idle store notices recovery too
        report_full_queue();
        {
            std::lock_guard lk(mu_);
            finished_ += batch.size();
        }
        done_.notify_all();
        batch.clear();
    }
}

// Opens (or reopens) the database when it is closed and a retry is due.
bool ObservationStore::ensure_open() {
    std::string why;  // set when the open file was taken away under us
    if (db_ && replaced()) {
        db_.reset();
        next_open_ = {};  // try the path again at once
        why = "the database file was removed or replaced while open";
    }
    if (db_) return true;
    if (Clock::now() < next_open_) return false;
    std::string error;
    db_ = store::open_for_writing(opt_.path, &error);
    struct stat st {};
    if (db_ && stat(opt_.path.c_str(), &st) != 0) {
        db_.reset();
        error = opt_.path + ": the database file disappeared right after opening it";
    }
    if (!db_) {
        next_open_ = Clock::now() + opt_.retry_interval;
        fail(why.empty() ? error : error + " (" + why + ")", 0);
        return false;
    }
    if (!why.empty()) note(opt_.path + ": " + why + "; reopened it");
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    next_purge_ = Clock::now();  // retention runs at every (re)open
    return true;
}

// SQLite keeps writing to an unlinked file without error: look at the path.
bool ObservationStore::replaced() const {
    struct stat st {};
    return stat(opt_.path.c_str(), &st) != 0 || st.st_dev != dev_ || st.st_ino != ino_;
}

void ObservationStore::write(const std::deque<Observation>& batch) {
    if (!ensure_open()) {
        dropped_.fetch_add(batch.size(), std::memory_order_relaxed);
        dropped_unlogged_ += batch.size();
        return;
    }
    std::string error;
    bool ok = sqlite::exec(db_.get(), "BEGIN", &error);
    if (ok) {
        sqlite::Stmt insert(db_.get(), kInsert);
        ok = insert.ok();
        for (std::size_t i = 0; ok && i < batch.size(); ++i) {
            bind(insert, batch[i]);
            ok = insert.step() == SQLITE_DONE;
            insert.reset();
        }
        if (!ok) error = sqlite::last_error(db_.get());
    }
    ok = ok && sqlite::exec(db_.get(), "COMMIT", &error);
    if (!ok) {
        std::string ignored;
        sqlite::exec(db_.get(), "ROLLBACK", &ignored);
        fail(opt_.path + ": writing observations failed: " + error, batch.size());
        return;
    }
    written_.fetch_add(batch.size(), std::memory_order_relaxed);
    if (failing_) {
        failing_ = false;
        say(opt_.path + ": observations are written again; " + std::to_string(dropped_unlogged_) +
            " dropped since the last message");
        dropped_unlogged_ = 0;
    }
}

// Deletes rows older than keep_days.
void ObservationStore::purge() {
    next_purge_ = Clock::now() + opt_.purge_interval;
    sqlite::Stmt del(db_.get(), "DELETE FROM observations WHERE time < ?1");
    if (del.ok()) {
        del.bind(1, std::int64_t{std::time(nullptr)} - std::int64_t{opt_.keep_days} * 86400);
        if (del.step() == SQLITE_DONE) return;
    }
    fail(opt_.path + ": deleting old observations failed: " + sqlite::last_error(db_.get()), 0);
}

// A failed open, write or purge: count it, close the database so that a
// later batch reopens it, and log at most once per log_interval.
void ObservationStore::fail(const std::string& what, std::size_t lost) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    dropped_.fetch_add(lost, std::memory_order_relaxed);
    dropped_unlogged_ += lost;
    failing_ = true;
    if (db_) {
        db_.reset();
        next_open_ = Clock::now() + opt_.retry_interval;
    }
    std::string lost_text =
        dropped_unlogged_ ? std::to_string(dropped_unlogged_) + " observations dropped since the last message; " : "";
    if (note(what + " (" + lost_text + "retrying every " + seconds(opt_.retry_interval) + ")"))
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

// Drops at enqueue happen on the mail path, which must not log: the writer
// tells, at most once per log_interval.
void ObservationStore::report_full_queue() {
    const std::uint64_t n = full_drops_.load(std::memory_order_relaxed);
    if (n == full_drops_logged_ || Clock::now() < next_full_log_) return;
    next_full_log_ = Clock::now() + opt_.log_interval;
    say(opt_.path + ": the observation queue was full (" + std::to_string(opt_.capacity) + "); " +
        std::to_string(n - full_drops_logged_) + " observations dropped since the last message");
    full_drops_logged_ = n;
}

}  // namespace tlspolicy
