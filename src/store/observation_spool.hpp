// The local spool in front of a remote database (PostgreSQL): while the
// server is unreachable or failing, the writer thread appends batches here
// and later sends them in the order they came. It is a SQLite observation
// database of its own (same schema, rows ordered by id), so it survives a
// restart of the milter and a crash between two batches. Bounded: rows that
// do not fit are refused and the store counts them as dropped.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "store/observation_backend.hpp"
#include "store/sqlite.hpp"

namespace tlspolicy {

class ObservationSpool {
public:
    ObservationSpool(std::string path, std::size_t max_rows) : path_(std::move(path)), max_rows_(max_rows) {}

    const std::string& path() const { return path_; }
    std::size_t max_rows() const { return max_rows_; }
    // Opens (creating or migrating) the file; true when already open.
    bool open(std::string* error);
    bool is_open() const { return bool(db_); }
    void close() { db_.reset(); }

    std::size_t rows() const { return rows_; }  // observations waiting
    bool has_policies() const { return policies_ > 0; }

    // Appends the oldest rows of `batch` that fit under max_rows, in one
    // transaction; *appended says how many (the rest are the caller's drops).
    bool append(const ObservationBatch& batch, std::size_t* appended, std::string* error);
    // Policy versions are few and always kept (no bound).
    bool append(const std::vector<PolicyVersion>& versions, std::string* error);

    // The oldest `limit` observations, and the id to pass to remove_through
    // once they were sent.
    bool oldest(std::size_t limit, ObservationBatch& out, std::int64_t* last_id, std::string* error);
    bool remove_through(std::int64_t last_id, std::size_t count, std::string* error);
    // All waiting policy versions, oldest first; then removed once sent.
    bool policies(std::vector<PolicyVersion>& out, std::int64_t* last_id, std::string* error);
    bool remove_policies_through(std::int64_t last_id, std::string* error);

private:
    bool fail(std::string* error);

    const std::string path_;
    const std::size_t max_rows_;
    sqlite::Db db_;
    std::size_t rows_ = 0, policies_ = 0;
};

}  // namespace tlspolicy
