// The observation store as the ingest's sink (see store_sink.hpp).
#include "ingest/io/store_sink.hpp"

#include <ctime>

#include "ingest/store_record.hpp"

namespace tlspolicy::ingest {

StoreSink::StoreSink(std::unique_ptr<ObservationBackend> backend, std::string source, const Policy& policy,
                     std::string host)
    : backend_(std::move(backend)), source_(std::move(source)), policy_(policy), host_(std::move(host)) {
    std::string error;
    if (!backend_->open(&error)) throw SinkError(error);
}

StoreSink::~StoreSink() { backend_->close(); }

std::optional<Checkpoint> StoreSink::committed() {
    if (read_) return committed_;
    IngestPosition p;
    bool found = false;
    std::string error;
    if (!backend_->ingest_position(source_, &p, &found, &error))
        throw SinkError(backend_->name() + ": cannot read the ingest position of " + source_ + ": " + error);
    if (found) {
        committed_ = parse_checkpoint_text(p.position);
        if (!committed_)
            throw SinkError(backend_->name() + ": the ingest position of " + source_ +
                            " is unreadable; was it written by another program?");
    }
    read_ = true;
    return committed_;
}

void StoreSink::write(std::span<const OutboundDelivery> records, const Checkpoint& after) {
    ObservationBatch batch;
    for (const OutboundDelivery& d : records) batch.push_back(outbound_observation(policy_, d, host_));
    const IngestPosition position{source_, checkpoint_text(after), static_cast<std::int64_t>(std::time(nullptr))};
    std::string error;
    if (!backend_->write(batch, &position, &error)) {
        // A COMMIT whose answer was lost: the position shows whether it was kept.
        IngestPosition now;
        bool found = false;
        std::string again;
        if (!backend_->ingest_position(source_, &now, &found, &again) || !found || now != position)
            throw SinkError(backend_->name() + ": " + error + " (the batch was not stored; a restart reads it again)");
    }
    committed_ = after;
    read_ = true;
    rows_ += batch.size();
}

}  // namespace tlspolicy::ingest
