// A DeliverySink into the observation store (ingest without --output): each
// write is one transaction of the backend holding the batch's rows, their
// summaries and the ingest position, so a restart resumes from the last one
// committed and nothing is lost or counted twice. Both backends (SQLite,
// PostgreSQL), as [observations] database names them.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/policy.hpp"
#include "ingest/sink.hpp"
#include "store/observation_backend.hpp"

namespace tlspolicy::ingest {

class StoreSink final : public DeliverySink {
public:
    // `source` names the log ("postfix:/var/log/mail.log"): one position
    // each. `host`: [observations] host, "" for the log's own host names.
    // Opens (and migrates) the database; throws SinkError when it cannot.
    StoreSink(std::unique_ptr<ObservationBackend> backend, std::string source, const Policy& policy,
              std::string host = {});
    ~StoreSink() override;
    StoreSink(const StoreSink&) = delete;
    StoreSink& operator=(const StoreSink&) = delete;

    std::optional<Checkpoint> committed() override;
    void write(std::span<const OutboundDelivery> records, const Checkpoint& after) override;

    std::uint64_t rows_written() const { return rows_; }

private:
    std::unique_ptr<ObservationBackend> backend_;
    std::string source_;
    const Policy& policy_;
    std::string host_;
    std::optional<Checkpoint> committed_;
    bool read_ = false;
    std::uint64_t rows_ = 0;
};

}  // namespace tlspolicy::ingest
