// The spool (store/spool.hpp) as a SQLite observation database.
#pragma once
#include "store/spool.hpp"
#include "store/sqlite/sqlite.hpp"

namespace tlspolicy {

class SqliteSpool final : public Spool {
public:
    SqliteSpool(std::string path, std::size_t max_rows) : path_(std::move(path)), max_rows_(max_rows) {}

    const std::string& path() const override { return path_; }
    std::size_t max_rows() const override { return max_rows_; }
    bool open(std::string* error) override;
    bool is_open() const override { return bool(db_); }
    void close() override { db_.reset(); }

    std::size_t rows() const override { return rows_; }
    bool has_policies() const override { return policies_ > 0; }

    bool append(const ObservationBatch& batch, std::size_t* appended, std::string* error) override;
    bool append(const std::vector<PolicyVersion>& versions, std::string* error) override;
    bool oldest(std::size_t limit, ObservationBatch& out, std::int64_t* last_id, std::string* error) override;
    bool remove_through(std::int64_t last_id, std::size_t count, std::string* error) override;
    bool policies(std::vector<PolicyVersion>& out, std::int64_t* last_id, std::string* error) override;
    bool remove_policies_through(std::int64_t last_id, std::string* error) override;

private:
    bool fail(std::string* error);

    const std::string path_;
    const std::size_t max_rows_;
    sqlite::Db db_;
    std::size_t rows_ = 0, policies_ = 0;
};

}  // namespace tlspolicy
