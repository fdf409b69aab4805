// A delivery record as an observation of the store: direction outbound, one
// row per recipient per attempt, the judgement's rules and result, the
// outcome as the action. Pure: a record in, a row out.
#pragma once
#include <string>
#include <string_view>

#include "core/policy.hpp"
#include "ingest/delivery.hpp"
#include "ingest/sink.hpp"
#include "store/observation.hpp"

namespace tlspolicy::ingest {

// `host`: [observations] host when set, which names every row; else the
// record's own host. A record the log gave no TLS facts for (not judged) is
// still counted under the partner rules of its destination, with result none,
// so that the evidence counts every delivery of a partner.
Observation outbound_observation(const Policy& policy, const OutboundDelivery& d, std::string_view host = {});

// The ingest position of the store as the text of a checkpoint (position,
// then a newline, then the assembler's state), and back.
std::string checkpoint_text(const Checkpoint& c);
std::optional<Checkpoint> parse_checkpoint_text(std::string_view text);

}  // namespace tlspolicy::ingest
