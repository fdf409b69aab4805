// Delivery records and checkpoints as JSON lines: what `ingest --output FILE`
// keeps and what `ingest` prints without it. One object per line.
#pragma once
#include <string>
#include <string_view>

#include "ingest/delivery.hpp"
#include "ingest/sink.hpp"

namespace tlspolicy::ingest {

// {"type":"delivery","mta":"postfix","time":"2026-12-06T07:02:40.123456Z",...}
std::string record_json(const OutboundDelivery& d);
// {"type":"checkpoint","position":"file 2049 1234 5678","state":"..."}
std::string checkpoint_json(const Checkpoint& c);
// The checkpoint of a line checkpoint_json() wrote; nullopt for any other line.
std::optional<Checkpoint> parse_checkpoint_json(std::string_view line);

// "2026-12-06T07:02:40Z" (with ".123456" when usec is not 0).
std::string iso_time(std::int64_t seconds, std::int32_t usec);

}  // namespace tlspolicy::ingest
