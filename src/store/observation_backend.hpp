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

    // Each call is one transaction: all rows or none.
    virtual bool write(const ObservationBatch& batch, std::string* error) = 0;
    virtual bool record_policies(const std::vector<PolicyVersion>& versions, std::string* error) = 0;
    // Deletes observations with time < before (unix seconds). Policy versions
    // stay: they are few, and a report needs the one in force at its start.
    virtual bool purge(std::int64_t before, std::string* error) = 0;
};

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
