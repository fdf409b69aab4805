// The local spool in front of a remote database (PostgreSQL): while the
// server is unreachable or failing, the writer thread appends batches here
// and later sends them in the order they came. Bounded: rows that do not fit
// are refused and the store counts them as dropped. The one implementation
// is a SQLite observation database of its own (store/sqlite/spool.cpp: same
// schema, rows ordered by id), so it survives a restart of the milter and a
// crash between two batches.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/observation_backend.hpp"

namespace tlspolicy {

class Spool {
public:
    virtual ~Spool() = default;

    virtual const std::string& path() const = 0;
    virtual std::size_t max_rows() const = 0;
    // Opens (creating or migrating) the file; true when already open.
    virtual bool open(std::string* error) = 0;
    virtual bool is_open() const = 0;
    virtual void close() = 0;

    virtual std::size_t rows() const = 0;  // observations waiting
    virtual bool has_policies() const = 0;

    // Appends the oldest rows of `batch` that fit under max_rows, in one
    // transaction; *appended says how many (the rest are the caller's drops).
    virtual bool append(const ObservationBatch& batch, std::size_t* appended, std::string* error) = 0;
    // Policy versions are few and always kept (no bound).
    virtual bool append(const std::vector<PolicyVersion>& versions, std::string* error) = 0;

    // The oldest `limit` observations, and the id to pass to remove_through
    // once they were sent.
    virtual bool oldest(std::size_t limit, ObservationBatch& out, std::int64_t* last_id, std::string* error) = 0;
    virtual bool remove_through(std::int64_t last_id, std::size_t count, std::string* error) = 0;
    // All waiting policy versions, oldest first; then removed once sent.
    virtual bool policies(std::vector<PolicyVersion>& out, std::int64_t* last_id, std::string* error) = 0;
    virtual bool remove_policies_through(std::int64_t last_id, std::string* error) = 0;
};

// The spool file `path` (opened on first use), holding at most max_rows observations.
std::unique_ptr<Spool> make_spool(std::string path, std::size_t max_rows);

}  // namespace tlspolicy
