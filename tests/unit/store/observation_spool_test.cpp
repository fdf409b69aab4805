// The spool in front of a remote database, with a fake server that can be
// taken away: batches wait in the spool while it is away and are sent in
// order when it is back; a full spool drops and counts; the spool survives
// the store being destroyed and made again (a milter restart). Also where a
// policy version takes its host from.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>

#include "store/sqlite/source.hpp"
#include "store/observation_store.hpp"
#include "store/spool_claim.hpp"
#include "store_test_util.hpp"

namespace tlspolicy {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::observation;

// What the fake server holds; outlives the stores that write to it.
struct FakeServer {
    std::atomic<bool> up{true};
    std::mutex mu;
    std::vector<std::string> queue_ids;  // in the order they arrived
    std::vector<PolicyVersion> versions;
    std::vector<std::string> ids() {
        std::lock_guard lk(mu);
        return queue_ids;
    }
    std::vector<PolicyVersion> policies() {
        std::lock_guard lk(mu);
        return versions;
    }
};

class FakeRemote final : public ObservationBackend {
public:
    explicit FakeRemote(std::shared_ptr<FakeServer> s) : s_(std::move(s)) {}
    const std::string& name() const override { return name_; }
    bool remote() const override { return true; }
    bool open(std::string* error) override {
        open_ = s_->up;
        if (!open_) *error = name_ + ": cannot connect: connection refused";
        return open_;
    }
    bool still_open(std::string*) override { return open_ && s_->up; }
    void close() override { open_ = false; }
    bool write(const ObservationBatch& batch, const IngestPosition*, std::string* error) override {
        if (!s_->up) return down(error);
        std::lock_guard lk(s_->mu);
        for (const Observation& o : batch) s_->queue_ids.push_back(o.queue_id);
        return true;
    }
    bool record_policies(const std::vector<PolicyVersion>& v, std::string* error) override {
        if (!s_->up) return down(error);
        std::lock_guard lk(s_->mu);
        s_->versions.insert(s_->versions.end(), v.begin(), v.end());
        return true;
    }
    bool ingest_position(const std::string&, IngestPosition*, bool* found, std::string*) override {
        *found = false;
        return true;
    }
    bool purge(std::int64_t, std::string*) override { return true; }

private:
    bool down(std::string* error) {
        *error = "server closed the connection unexpectedly";
        return false;
    }
    std::shared_ptr<FakeServer> s_;
    std::string name_ = "postgresql://fake/tlspolicy";
    bool open_ = false;
};

StoreOptions spool_options(const test::StoreDir& dir, std::size_t max_rows = 1000) {
    StoreOptions o;
    o.path = "postgresql://fake/tlspolicy";
    o.spool = dir.file("spool.sqlite");
    o.spool_max_rows = max_rows;
    o.retry_interval = 20ms;
    o.drain_batch = 7;  // several chunks, one of them short
    return o;
}

// Enqueues queue ids first..first+n-1 in batches of 5, flushing after each.
void send(ObservationStore& store, int first, int n) {
    for (int i = first; i < first + n; ++i) {
        store.enqueue(observation(test::now_s(), "Q" + std::to_string(i)));
        if ((i - first) % 5 == 4) store.flush();
    }
    store.flush();
}

std::vector<std::string> ids(int first, int n) {
    std::vector<std::string> out;
    for (int i = first; i < first + n; ++i) out.push_back("Q" + std::to_string(i));
    return out;
}

TEST(ObservationSpool, FillsWhileServerIsAwayAndDrainsInOrder) {
    test::StoreDir dir;
    test::StoreLog log;
    auto server = std::make_shared<FakeServer>();
    ObservationStore store(spool_options(dir), std::make_unique<FakeRemote>(server), log.sink());
    send(store, 0, 10);
    ASSERT_TRUE(eventually([&] { return server->ids().size() == 10; }));

    server->up = false;
    send(store, 10, 40);
    EXPECT_EQ(store.spooled(), 40u);
    EXPECT_EQ(store.dropped(), 0u);
    EXPECT_EQ(store.written(), 10u);
    EXPECT_TRUE(log.has("observations wait in the spool " + dir.file("spool.sqlite"))) << log.get().front();

    server->up = true;
    send(store, 50, 10);  // arrive while the spool drains: after it, never before
    ASSERT_TRUE(eventually([&] { return store.spooled() == 0 && server->ids().size() == 60; }))
        << "spooled " << store.spooled() << ", sent " << server->ids().size();
    EXPECT_EQ(server->ids(), ids(0, 60));
    EXPECT_EQ(store.written(), 60u);
    EXPECT_EQ(store.dropped(), 0u);
    EXPECT_TRUE(log.has("observations are written again"));
}

TEST(ObservationSpool, FullSpoolDropsTheNewestAndCountsThem) {
    test::StoreDir dir;
    test::StoreLog log;
    auto server = std::make_shared<FakeServer>();
    server->up = false;
    ObservationStore store(spool_options(dir, 20), std::make_unique<FakeRemote>(server), log.sink());
    send(store, 0, 50);
    EXPECT_EQ(store.spooled(), 20u);
    EXPECT_EQ(store.dropped(), 30u);
    ASSERT_TRUE(eventually([&] { return log.has("the spool was full (20 rows)"); }));
    EXPECT_TRUE(log.has("observations dropped since the last message"));

    server->up = true;
    ASSERT_TRUE(eventually([&] { return store.spooled() == 0; }));
    EXPECT_EQ(server->ids(), ids(0, 20)) << "the oldest are kept";
}

TEST(ObservationSpool, SurvivesARestartAndIsSentAfterIt) {
    test::StoreDir dir;
    auto server = std::make_shared<FakeServer>();
    server->up = false;
    {
        ObservationStore store(spool_options(dir), std::make_unique<FakeRemote>(server), nullptr);
        send(store, 0, 25);
        store.record_policy({test::now_s(), "mx1", "ab12", Mode::Monitor});
        store.flush();
        EXPECT_EQ(store.spooled(), 25u);
    }  // the milter stops while the server is away
    EXPECT_TRUE(server->ids().empty());

    server->up = true;
    ObservationStore store(spool_options(dir), std::make_unique<FakeRemote>(server), nullptr);
    EXPECT_TRUE(eventually([&] { return server->ids().size() == 25; }));
    send(store, 25, 5);
    ASSERT_TRUE(eventually([&] { return server->ids().size() == 30; }));
    EXPECT_EQ(server->ids(), ids(0, 30));
    ASSERT_EQ(server->policies().size(), 1u);
    EXPECT_EQ(server->policies()[0], (PolicyVersion{server->policies()[0].time, "mx1", "ab12", Mode::Monitor}));
    EXPECT_EQ(store.spooled(), 0u);
}

TEST(ObservationSpool, UnopenableSpoolDropsAndSaysSo) {
    test::StoreDir dir;
    test::StoreLog log;
    auto server = std::make_shared<FakeServer>();
    server->up = false;
    StoreOptions opt = spool_options(dir);
    opt.spool = dir.file("no-such-dir/spool.sqlite");
    opt.log_interval = 0ms;
    ObservationStore store(opt, std::make_unique<FakeRemote>(server), log.sink());
    send(store, 0, 5);
    EXPECT_EQ(store.dropped(), 5u);
    EXPECT_TRUE(log.has(dir.file("no-such-dir/spool.sqlite"))) << log.get().front();
    EXPECT_TRUE(log.has("the spool " + dir.file("no-such-dir/spool.sqlite") + " cannot be used either")) << log.get().front();
    EXPECT_FALSE(log.has("wait in the spool")) << "no line may claim a spool that does not exist: " << log.get().front();
}

// A second process on the same spool is refused, naming the first; the
// claim creates the spool, and ends with its holder.
TEST(SpoolClaim, SecondClaimIsRefusedNamingTheFirst) {
    test::StoreDir dir;
    const std::string path = dir.file("spool.sqlite");
    std::string error;
    auto first = claim_spool(path, "pid 101, config /etc/a.toml, socket unix:/run/a.sock", &error);
    ASSERT_TRUE(first) << error;
    EXPECT_TRUE(std::filesystem::exists(path)) << "claimed means opened once: the file exists";
    EXPECT_FALSE(claim_spool(path, "pid 202", &error));
    EXPECT_EQ(error, "the spool " + path + " is in use by another tlspolicy-milter (pid 101, config /etc/a.toml, "
                     "socket unix:/run/a.sock): two instances must not share a spool; give each its own "
                     "[observations] spool");
    first.reset();
    EXPECT_TRUE(claim_spool(path, "pid 202", &error)) << error;
}

TEST(SpoolClaim, MissingDirectoryIsRefusedNamingIt) {
    test::StoreDir dir;
    std::string error;
    EXPECT_FALSE(claim_spool(dir.file("gone/spool.sqlite"), "pid 1", &error));
    EXPECT_EQ(error, "cannot create the spool's lock file " + dir.file("gone/spool.sqlite.lock") +
                         ": No such file or directory; does directory " + dir.file("gone") +
                         " exist, writable by this user?");
}

// Where a policy version's host comes from.
TEST(PolicyVersionHost, Rules) {
    struct Case {
        const char* name;
        std::string config_host;       // [observations] host
        std::string observation_host;  // macro j, as the glue sets it; "" for no mail
        std::string want;              // "*": this machine's hostname
    };
    const Case cases[] = {
        {"config wins over macro j", "mx1", "mta.example", "mx1"},
        {"first observation brings macro j", "", "mta.example", "mta.example"},
        {"no mail before the wait ends: gethostname", "", "", "*"},
    };
    char hostname[256] = {};
    gethostname(hostname, sizeof hostname - 1);
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        test::StoreDir dir;
        auto server = std::make_shared<FakeServer>();
        StoreOptions opt = spool_options(dir);
        opt.host = c.config_host;
        opt.policy_host_wait = 100ms;
        ObservationStore store(opt, std::make_unique<FakeRemote>(server), nullptr);
        store.record_policy({test::now_s(), "", "ab12", Mode::Enforce});
        store.flush();
        if (!c.observation_host.empty()) {
            if (c.config_host.empty()) {
                EXPECT_TRUE(server->policies().empty()) << "it waits for the MTA's name";
            }
            store.enqueue(observation(test::now_s(), "Q1", c.observation_host));
            store.flush();
        }
        ASSERT_TRUE(eventually([&] { return server->policies().size() == 1; }));
        EXPECT_EQ(server->policies()[0].host, c.want == "*" ? std::string(hostname) : c.want);
    }
}

}  // namespace
}  // namespace tlspolicy
