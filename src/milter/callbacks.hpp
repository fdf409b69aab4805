// The libmilter callbacks: turn macros into facts, ask the policy core, apply
// its verdict. Nothing else is decided here.
#pragma once
#include <functional>

#include "stats/metrics.hpp"
#include "store/observation.hpp"

namespace tlspolicy::milter {

// Every decision is logged, counted here, and handed to the observation sink
// when one is set (the observation store's enqueue: it must never block).
Metrics& metrics();
void set_observation_sink(std::function<void(Observation&&)> sink);

// smfi_register with our callbacks; false (and logged) on failure.
bool register_filter();

// Connections between negotiate and close, for a clean stop.
int active_connections();

}  // namespace tlspolicy::milter
