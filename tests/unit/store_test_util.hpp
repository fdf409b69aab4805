// What the store tests share: a temp dir, a log catcher, an observation.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store/observation.hpp"
#include "store/observation_row.hpp"
#include "store/sqlite/schema.hpp"

namespace tlspolicy::test {

namespace fs = std::filesystem;

struct StoreDir {
    fs::path path;
    StoreDir() {
        std::string tmpl = (fs::temp_directory_path() / "obs-store-XXXXXX").string();
        path = mkdtemp(tmpl.data());
    }
    ~StoreDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const char* name) const { return (path / name).string(); }
};

struct StoreLog {
    std::mutex mu;
    std::vector<std::string> lines;
    std::function<void(std::string_view)> sink() {
        return [this](std::string_view l) {
            std::lock_guard lk(mu);
            lines.emplace_back(l);
        };
    }
    std::vector<std::string> get() {
        std::lock_guard lk(mu);
        return lines;
    }
    bool has(std::string_view what) {
        for (const std::string& l : get())
            if (l.find(what) != std::string::npos) return true;
        return false;
    }
};

inline std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

inline Observation observation(std::int64_t time, std::string queue_id, std::string host = "") {
    Observation o;
    o.time = time;
    o.queue_id = std::move(queue_id);
    o.client = "203.0.113.5";
    o.hostname = "mail.acme.example";
    o.sender = "a@acme.example";
    o.rules = {{"acme", RuleKind::Partner}, {"hr", RuleKind::Recipient}};
    o.host = std::move(host);
    o.version = TlsVersion::TLSv1_2;
    o.cipher = "ECDHE-RSA-AES128-GCM-SHA256";
    o.cipher_bits = 128;
    o.alg_bits = 128;
    o.result = Result::Pass;
    return o;
}

// Polls `done` until it holds or `limit` passes.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

}  // namespace tlspolicy::test
