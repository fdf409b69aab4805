// The running configuration. Each connection pins the snapshot it started
// with; a reload swaps in a new one atomically, so sessions in flight finish
// on the policy they began with.
#pragma once
#include <atomic>
#include <memory>

#include "config/config.hpp"

namespace tlspolicy::milter {

class Snapshot {
public:
    std::shared_ptr<const Config> get() const { return current_.load(std::memory_order_acquire); }
    void set(std::shared_ptr<const Config> c) { current_.store(std::move(c), std::memory_order_release); }

private:
    std::atomic<std::shared_ptr<const Config>> current_;
};

Snapshot& running_config();

}  // namespace tlspolicy::milter
