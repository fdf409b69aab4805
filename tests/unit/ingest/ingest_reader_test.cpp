// Reading the log and storing what it gives: a file followed like tail -F (a
// line cut at the end waits, a rotated file is read to its end before the new
// one, copytruncate starts over), the JSON-lines sink's all-or-nothing
// batches, and restarts after a crash at every batch that neither lose a
// record nor count one twice.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "ingest/io/file_sink.hpp"
#include "ingest/io/ingest_run.hpp"
#include "ingest/io/line_source.hpp"
#include "ingest/io/system_clock.hpp"
#include "ingest/record_json.hpp"
#include "ingest_test_util.hpp"
#include "golden.hpp"

namespace tlspolicy::ingest {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tlspolicy::ingest::testing;

class TempDir {
public:
    // In memory where there is /dev/shm: the sink's fdatasync() per batch
    // would cost the crash test seconds on a disk.
    TempDir() {
        std::string tmpl = fs::is_directory("/dev/shm") ? "/dev/shm/ingest-test.XXXXXX" : "/tmp/ingest-test.XXXXXX";
        path_ = ::mkdtemp(tmpl.data());
    }
    ~TempDir() { fs::remove_all(path_); }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

void append(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::app | std::ios::binary) << text;
}

std::uint64_t inode(const std::string& path) {
    struct stat st{};
    ::stat(path.c_str(), &st);
    return st.st_ino;
}

// Reads what a source hands out now (a few rounds, so that a rotation's grace
// can pass), as "line@offset" items.
std::vector<std::string> drain(LineSource& s, int rounds = 1) {
    std::vector<std::string> got;
    for (int i = 0; i < rounds; ++i) {
        for (;;) {
            const auto st = s.read([&](std::string_view l, const LogPosition& p) {
                got.push_back(std::string(l) + "@" + std::to_string(p.offset));
            });
            if (st != LineSource::Status::Lines) break;
        }
        if (rounds > 1) std::this_thread::sleep_for(15ms);
    }
    return got;
}

using Lines = std::vector<std::string>;

TEST(IngestFileSource, LineCutAtTheEndWaitsForItsEnd) {
    TempDir d;
    const std::string log = d / "mail.log";
    append(log, "one\ntwo-");
    FileSource s(log, true, 10ms);
    s.open(std::nullopt);
    EXPECT_EQ(drain(s), (Lines{"one@4"}));
    EXPECT_EQ(s.position()->offset, 4u);  // "two-" is not taken yet
    append(log, "part\nthree\n");
    EXPECT_EQ(drain(s), (Lines{"two-part@13", "three@19"}));
    // Not following: the unended line is left for the next run, too.
    append(log, "four");
    FileSource once(log, false);
    once.open(std::nullopt);
    EXPECT_EQ(drain(once).size(), 3u);
    EXPECT_EQ(once.position()->offset, 19u);
}

TEST(IngestFileSource, RotatedFileIsReadToItsEndFirst) {
    TempDir d;
    const std::string log = d / "mail.log";
    append(log, "a1\na2\n");
    FileSource s(log, true, 30ms);
    s.open(std::nullopt);
    EXPECT_EQ(drain(s), (Lines{"a1@3", "a2@6"}));
    const auto old_inode = inode(log);
    fs::rename(log, log + ".1");
    append(log, "b1\n");               // the new file
    append(log + ".1", "a3\na4-cut");  // the writer still had the old one open
    const Lines got = drain(s, 10);
    // The old file's last line had no end: it is final when the file is left.
    EXPECT_EQ(got, (Lines{"a3@9", "a4-cut@15", "b1@3"}));
    EXPECT_NE(s.position()->inode, old_inode);
    EXPECT_EQ(s.position()->inode, inode(log));
}

TEST(IngestFileSource, CopytruncateStartsOver) {
    TempDir d;
    const std::string log = d / "mail.log";
    append(log, "a1\na2\n");
    FileSource s(log, true, 10ms);
    s.open(std::nullopt);
    EXPECT_EQ(drain(s).size(), 2u);
    fs::copy_file(log, log + ".1");
    fs::resize_file(log, 0);
    append(log, "b1\n");
    EXPECT_EQ(drain(s, 3), (Lines{"b1@3"}));
}

TEST(IngestFileSource, CheckpointInARotatedFileIsFoundAgain) {
    TempDir d;
    const std::string log = d / "mail.log";
    append(log, "a1\na2\na3\n");
    LogPosition at;
    at.kind = LogPosition::Kind::File;
    struct stat st{};
    ::stat(log.c_str(), &st);
    at.device = st.st_dev;
    at.inode = st.st_ino;
    at.offset = 3;  // after a1
    fs::rename(log, log + ".1");
    append(log, "b1\n");
    FileSource s(log, false);
    s.open(at);
    ASSERT_EQ(s.notes.size(), 1u);
    EXPECT_NE(s.notes[0].find("rotated while the ingest was stopped"), std::string::npos) << s.notes[0];
    EXPECT_EQ(drain(s, 2), (Lines{"a2@6", "a3@9", "b1@3"}));

    // Gone altogether (compressed, deleted): said, and the new file read from its start.
    fs::remove(log + ".1");
    FileSource lost(log, false);
    lost.open(at);
    ASSERT_EQ(lost.notes.size(), 1u);
    EXPECT_NE(lost.notes[0].find("is lost"), std::string::npos) << lost.notes[0];
    EXPECT_EQ(drain(lost), (Lines{"b1@3"}));

    // Truncated while stopped: said, and read from its start.
    at.inode = inode(log);
    at.offset = 100;
    FileSource shorter(log, false);
    shorter.open(at);
    ASSERT_EQ(shorter.notes.size(), 1u);
    EXPECT_NE(shorter.notes[0].find("truncated"), std::string::npos) << shorter.notes[0];
}

TEST(IngestFileSource, OverlongLineIsHandedOutOnceAndDropped) {
    TempDir d;
    const std::string log = d / "mail.log";
    append(log, "a\n" + std::string(kMaxBufferedLine + 10, 'x'));
    FileSource s(log, true, 10ms);
    s.open(std::nullopt);
    std::vector<std::size_t> sizes;
    const auto take = [&](std::string_view l, const LogPosition&) { sizes.push_back(l.size()); };
    while (s.read(take) == LineSource::Status::Lines) {
    }
    append(log, std::string(100, 'y') + "\nb\n");
    while (s.read(take) == LineSource::Status::Lines) {
    }
    ASSERT_EQ(sizes.size(), 3u);
    EXPECT_EQ(sizes[0], 1u);
    EXPECT_GT(sizes[1], kMaxBufferedLine);  // the assembler counts it as skipped
    EXPECT_EQ(sizes[2], 1u);                // "b", the rest of the long line dropped
}

Checkpoint checkpoint(std::uint64_t offset, std::string state) {
    Checkpoint c;
    c.position.kind = LogPosition::Kind::File;
    c.position.device = 1;
    c.position.inode = 2;
    c.position.offset = offset;
    c.state = std::move(state);
    return c;
}

TEST(IngestFileSink, BatchesAreAllOrNothing) {
    TempDir d;
    const std::string out = d / "out.jsonl";
    OutboundDelivery r;
    r.queue_id = "Q1";
    r.recipient = "a \"quoted\" \\ one";
    {
        FileSink s(out);
        EXPECT_FALSE(s.committed());
        s.write(std::vector<OutboundDelivery>{r, r}, checkpoint(10, "tlspolicy-ingest-state 1 postfix\nseen\tmx x\n"));
        EXPECT_EQ(s.committed(), checkpoint(10, "tlspolicy-ingest-state 1 postfix\nseen\tmx x\n"));
    }
    // A batch cut short: records without their checkpoint line.
    append(out, record_json(r) + "\n" + record_json(r).substr(0, 20));
    {
        FileSink s(out);
        EXPECT_GT(s.cut_at_open(), 0u);
        EXPECT_EQ(s.committed(), checkpoint(10, "tlspolicy-ingest-state 1 postfix\nseen\tmx x\n"));
        s.write({}, checkpoint(20, "s"));
    }
    std::ifstream f(out);
    std::vector<std::string> lines;
    for (std::string l; std::getline(f, l);) lines.push_back(l);
    ASSERT_EQ(lines.size(), 5u);  // header, 2 records, 2 checkpoints
    EXPECT_EQ(lines[0], "{\"type\":\"tlspolicy-ingest-output\",\"version\":1}");
    EXPECT_NE(lines[1].find("\"recipient\":\"a \\\"quoted\\\" \\\\ one\""), std::string::npos) << lines[1];
    EXPECT_EQ(parse_checkpoint_json(lines[4]), checkpoint(20, "s"));

    const std::string foreign = d / "foreign";
    append(foreign, "precious\n");
    EXPECT_THROW(FileSink{foreign}, SinkError);
    EXPECT_EQ(tlspolicy::tests::read_file(foreign), "precious\n");
}

// A sink that fails its Nth write, as a crash between two batches would.
// (fail_at 0: never; it counts the writes.)
class CrashingSink final : public DeliverySink {
public:
    CrashingSink(DeliverySink& inner, int fail_at) : inner_(inner), fail_at_(fail_at) {}
    std::optional<Checkpoint> committed() override { return inner_.committed(); }
    void write(std::span<const OutboundDelivery> records, const Checkpoint& after) override {
        if (++writes == fail_at_) throw SinkError("crash");
        inner_.write(records, after);
    }
    int writes = 0;

private:
    DeliverySink& inner_;
    int fail_at_;
};

std::vector<std::string> records_of(const std::string& path) {
    std::ifstream f(path);
    std::vector<std::string> out;
    for (std::string l; std::getline(f, l);)
        if (l.starts_with("{\"type\":\"delivery\"")) out.push_back(l);
    return out;
}

TEST(IngestRun, CrashAtAnyBatchNeitherLosesNorCountsTwice) {
    TempDir d;
    const std::string log = d / "mail.log";
    const std::string corpus = tlspolicy::tests::read_file("tests/golden/ingest/postfix-3.7.log");
    ASSERT_FALSE(corpus.empty()) << "tests/golden/ingest/postfix-3.7.log under " << tlspolicy::tests::source_dir();
    append(log, corpus);
    // Batches of 1 record: a checkpoint between a delivery's recipients, whose
    // TLS line only the checkpoint's state still holds; of 2 and 3: others.
    for (std::size_t batch : {1, 2, 3}) {
        IngestOptions o;
        o.path = log;
        o.batch = batch;
        std::ostringstream err;
        const std::string clean_out = d / ("clean" + std::to_string(batch) + ".jsonl");
        int writes = 0;
        {
            FileSink file(clean_out);
            CrashingSink clean(file, 0);
            ASSERT_EQ(run_ingest(golden_policy(), o, clean, utc_clock(), err), 0) << err.str();
            writes = clean.writes;
        }
        const auto want = records_of(clean_out);
        ASSERT_EQ(want.size(), 16u) << err.str();
        ASSERT_GE(writes, static_cast<int>(16 / batch));
        for (int fail_at = 1; fail_at <= writes; ++fail_at) {
            const std::string out = d / ("crash" + std::to_string(batch) + "-" + std::to_string(fail_at) + ".jsonl");
            {
                FileSink inner(out);
                CrashingSink crashing(inner, fail_at);
                EXPECT_EQ(run_ingest(golden_policy(), o, crashing, utc_clock(), err), 1);
            }
            FileSink resumed(out);
            EXPECT_EQ(run_ingest(golden_policy(), o, resumed, utc_clock(), err), 0) << err.str();
            EXPECT_EQ(records_of(out), want) << "batch " << batch << ", crash at write " << fail_at;
        }
    }
}

TEST(IngestRun, WarnsOnceWhenNoTlsLineComes) {
    TempDir d;
    const std::string log = d / "mail.log";
    for (int i = 0; i < 30; ++i)
        append(log, "Dec  6 07:00:00 mx postfix/smtp[10]: Q" + std::to_string(i) +
                        ": to=<a@b.example>, relay=b.example[192.0.2.1]:25, delay=0, delays=0/0/0/0, dsn=2.0.0, "
                        "status=sent (ok)\n");
    IngestOptions o;
    o.path = log;
    std::ostringstream out, err;
    StreamSink sink(out);
    IngestCounts counts;
    ASSERT_EQ(run_ingest(golden_policy(), o, sink, utc_clock(), err, &counts), 0);
    EXPECT_EQ(counts.without_tls_facts, 30u);
    const std::string e = err.str();
    // Read in one go: the numbers at the end of what was read.
    const auto first = e.find("warning: 30 deliveries in 30 lines, and not one TLS line");
    EXPECT_NE(first, std::string::npos) << e;
    EXPECT_EQ(e.find("warning:", first + 1), std::string::npos) << "warned twice:\n" << e;
    EXPECT_NE(e.find("smtp_tls_loglevel = 1"), std::string::npos) << e;
    EXPECT_NE(e.find("30 deliveries (30 sent"), std::string::npos) << e;
}

// The machine's zone, hour by hour (cached): winter and summer time in
// Berlin, the hours of now and of the lines alternating as they do in a run.
TEST(IngestSystemClock, LocalOffsetsFollowTheZone) {
    const char* old = std::getenv("TZ");
    const std::string saved = old ? old : "";
    ::setenv("TZ", "Europe/Berlin", 1);
    ::tzset();
    SystemClock clock;
    for (int round = 0; round < 2; ++round) {
        EXPECT_EQ(clock.local_offset(epoch_seconds(2026, 12, 6, 7, 0, 0)), 3600);
        EXPECT_EQ(clock.local_offset(epoch_seconds(2026, 7, 6, 7, 0, 0)), 7200);
        EXPECT_EQ(clock.local_offset(epoch_seconds(2026, 12, 6, 8, 30, 0)), 3600);
    }
    if (old) ::setenv("TZ", saved.c_str(), 1);
    else ::unsetenv("TZ");
    ::tzset();
}

}  // namespace
}  // namespace tlspolicy::ingest
