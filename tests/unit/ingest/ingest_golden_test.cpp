// The golden corpus of mail log lines (tests/golden/ingest/*.log: Postfix 3.7
// and Sendmail 8.17 as the e2e clients logged them, and the other shapes of
// their sources, each with where it comes from) through the assembler and the
// judgement, compared with NAME.out: one line per record, then the counts.
// UPDATE_GOLDEN=1 rewrites the .out files and fails (golden.hpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ingest/judge.hpp"
#include "ingest_test_util.hpp"
#include "golden.hpp"

namespace tlspolicy::ingest {
namespace {

namespace fs = std::filesystem;
using namespace tlspolicy::ingest::testing;
const fs::path kDir = "tests/golden/ingest";

// What a corpus file gives: lines starting with '#' are its comments.
std::string run(const fs::path& log, Mta mta) {
    DeliveryAssembler a(mta, utc_clock());
    std::vector<OutboundDelivery> records;
    std::istringstream in(tlspolicy::tests::read_file(log));
    for (std::string line; std::getline(in, line);)
        if (!line.starts_with("#")) a.feed(line, records);
    std::string out;
    for (OutboundDelivery& d : records) {
        judge_delivery(golden_policy(), d);
        out += describe(d) + "\n";
    }
    return out + "counts: " + describe(a.counts()) + "\n";
}

TEST(IngestGolden, EveryCorpusFile) {
    ASSERT_TRUE(tlspolicy::tests::in_source_dir());
    int cases = 0;
    for (const auto& e : fs::directory_iterator(kDir)) {
        if (e.path().extension() != ".log") continue;
        ++cases;
        const std::string name = e.path().filename().string();
        const Mta mta = name.starts_with("sendmail") ? Mta::Sendmail : Mta::Postfix;
        const std::string got = run(e.path(), mta);
        fs::path ref = e.path();
        ref.replace_extension(".out");
        tlspolicy::tests::expect_golden(ref, got, e.path().string());
    }
    EXPECT_GE(cases, 4);
}

// Every record's text is printable and bounded, whatever the corpus holds.
TEST(IngestGolden, RecordsArePrintableAndBounded) {
    for (const auto& e : fs::directory_iterator(kDir)) {
        if (e.path().extension() != ".log") continue;
        const Mta mta = e.path().filename().string().starts_with("sendmail") ? Mta::Sendmail : Mta::Postfix;
        DeliveryAssembler a(mta, utc_clock());
        std::vector<OutboundDelivery> records;
        std::istringstream in(tlspolicy::tests::read_file(e.path()));
        for (std::string line; std::getline(in, line);) a.feed(line, records);
        for (const OutboundDelivery& d : records)
            for (const std::string* s : {&d.host, &d.queue_id, &d.recipient, &d.domain, &d.relay_host,
                                         &d.relay_address, &d.tls_version, &d.cipher, &d.cert_verification, &d.dsn,
                                         &d.reason}) {
                EXPECT_LE(s->size(), s == &d.reason ? kMaxReason : kMaxToken) << *s;
                for (unsigned char c : *s) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << e.path() << ": " << *s;
            }
    }
}

}  // namespace
}  // namespace tlspolicy::ingest
