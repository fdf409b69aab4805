// Where the writer thread puts observations: one interface, one class per
// database (store/sqlite/: a SQLite file; store/postgres/: a PostgreSQL
// server). A new backend is a room of its own beside those two, with its
// backend, source and schema, and a branch in store/open.cpp. The queue, the
// spool, the retries and the counting live in ObservationStore and are the
// same for every backend.
// Only the writer thread calls a backend.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "store/database_url.hpp"
#include "store/observation.hpp"
#include "store/observation_source.hpp"

namespace tlspolicy {

using ObservationBatch = std::deque<Observation>;

// Where an ingest stands in the log it reads (an MTA's delivery log): kept
// in the database and written in the same transaction as the rows read up to
// there, so that after a restart it reads on from exactly there: no row is
// lost or counted twice.
struct IngestPosition {
    std::string source;    // which log, e.g. "postfix:/var/log/mail.log"; one position each
    std::string position;  // where in it, in the ingest's own words (inode and offset, a journal cursor)
    std::int64_t time = 0; // unix seconds: when it got there
    bool operator==(const IngestPosition&) const = default;
};

class ObservationBackend {
public:
    virtual ~ObservationBackend() = default;

    // For log lines: the path, or the URL without a password.
    virtual const std::string& name() const = 0;
    // A server that may be away for a while: batches then wait in the local
    // spool instead of being dropped.
    virtual bool remote() const = 0;

    // Opens or connects, and creates or migrates the schema. False with
    // *error set (naming the database and what to do).
    virtual bool open(std::string* error) = 0;
    // Open, and still the database that was opened; false with *why set when
    // it was taken away (a SQLite file removed or replaced under us).
    virtual bool still_open(std::string* why) = 0;
    virtual void close() = 0;

    // Each call is one transaction: all rows, their summaries and `position`
    // (when not null: replaces the one of its source), or none of them.
    virtual bool write(const ObservationBatch& batch, const IngestPosition* position, std::string* error) = 0;
    // The position last written for `source`; *found false when none was.
    // After a write that failed, ask again once reconnected: a COMMIT whose
    // answer was lost (the connection broke just then) shows here.
    virtual bool ingest_position(const std::string& source, IngestPosition* out, bool* found, std::string* error) = 0;
    virtual bool record_policies(const std::vector<PolicyVersion>& versions, std::string* error) = 0;
    // Deletes observations with time < before, and summary days before it
    // (unix seconds, the start of a UTC month: retention_cutoff()). PostgreSQL
    // drops the monthly partitions wholly before it. Policy versions stay:
    // they are few, and a report needs the one in force at its start.
    virtual bool purge(std::int64_t before, std::string* error) = 0;
};

// Retention by whole months: what keep_days keeps at `now` (unix seconds)
// begins with the UTC month that holds now - keep_days; everything before
// that month goes. So at least keep_days are kept, and at most a month more.
std::int64_t retention_cutoff(std::int64_t now, int keep_days);
// The start of the UTC month that holds t (unix seconds).
std::int64_t month_start(std::int64_t t);

// `database` as [observations] database gives it: a postgresql:// or
// postgres:// URL (is_postgres_url), or else a SQLite path.
// `timeout` bounds every wait for a server (connect, each statement).
std::unique_ptr<ObservationBackend> make_sqlite_backend(const std::string& path);
std::unique_ptr<ObservationBackend> make_postgres_backend(const std::string& url, std::chrono::milliseconds timeout);
std::unique_ptr<ObservationBackend> make_backend(const std::string& database, std::chrono::milliseconds timeout);

// The readers of each (open_observation_source picks one).
std::unique_ptr<ObservationSource> open_sqlite_source(const std::string& path);
std::unique_ptr<ObservationSource> open_postgres_source(const std::string& url, std::string* error);

}  // namespace tlspolicy
