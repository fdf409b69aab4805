// A delivery record judged by the partner table: the core's decide_outbound
// over the TLS facts the log gave, written into the record.
#pragma once
#include "core/policy.hpp"
#include "ingest/delivery.hpp"

namespace tlspolicy::ingest {

// Fills d.judgement. Deliveries whose transport is unknown or that had no
// connection are not judged (judged = false, no rules): the log says nothing
// of their TLS. A plaintext connection is judged as plaintext, a deferral
// included: Postfix's "TLS is required, but was not offered" fails
// require_tls, and the status says the MTA held the mail back.
void judge_delivery(const Policy& policy, OutboundDelivery& d);

}  // namespace tlspolicy::ingest
