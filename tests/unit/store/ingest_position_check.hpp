// What every backend promises an ingest: its position in the log it reads
// is written in the same transaction as the rows read up to there, so a
// batch that fails leaves neither; each source keeps its own position.
// Shared by the SQLite and the PostgreSQL tests.
#pragma once
#include <gtest/gtest.h>

#include <functional>

#include "store/observation_backend.hpp"
#include "store_test_util.hpp"

namespace tlspolicy::test {

// `b` is open; `rows` counts its observations; `refuse` makes it refuse a
// position "refused" from then on (a trigger or a CHECK constraint).
inline void ingest_position_commits_with_its_rows(ObservationBackend& b, const std::function<std::int64_t()>& rows,
                                                  const std::function<void()>& refuse) {
    const std::int64_t t = now_s() - 60;
    const std::string source = "postfix:/var/log/mail.log";
    std::string error;
    IngestPosition got;
    bool found = true;
    ASSERT_TRUE(b.ingest_position(source, &got, &found, &error)) << error;
    EXPECT_FALSE(found) << "nothing written yet";

    const IngestPosition first{source, "inode 12 offset 4096", t};
    ASSERT_TRUE(b.write({observation(t, "Q1"), observation(t, "Q2")}, &first, &error)) << error;
    ASSERT_TRUE(b.ingest_position(source, &got, &found, &error)) << error;
    EXPECT_TRUE(found);
    EXPECT_EQ(got, first);

    const IngestPosition other{"sendmail:-", "cursor s=1;i=2", t};
    ASSERT_TRUE(b.write({}, &other, &error)) << error << ": a position alone (a stretch of log without deliveries)";
    ASSERT_TRUE(b.write({observation(t, "Q3")}, nullptr, &error)) << error << ": rows alone (the milter)";
    const IngestPosition second{source, "inode 12 offset 8192", t + 1};
    ASSERT_TRUE(b.write({observation(t + 1, "Q4")}, &second, &error)) << error;
    ASSERT_TRUE(b.ingest_position(source, &got, &found, &error)) << error;
    EXPECT_EQ(got, second) << "replaced, not added";
    ASSERT_TRUE(b.ingest_position(other.source, &got, &found, &error)) << error;
    EXPECT_EQ(got, other) << "each source its own";
    EXPECT_EQ(rows(), 4);

    refuse();
    const IngestPosition refused{source, "refused", t + 2};
    EXPECT_FALSE(b.write({observation(t + 2, "Q5"), observation(t + 2, "Q6")}, &refused, &error))
        << "the position could not be written";
    if (!b.still_open(&error)) {
        ASSERT_TRUE(b.open(&error)) << error;
    }
    EXPECT_EQ(rows(), 4) << "so its rows were not either";
    ASSERT_TRUE(b.ingest_position(source, &got, &found, &error)) << error;
    EXPECT_EQ(got, second) << "and the position stands where the last committed rows left it";
}

}  // namespace tlspolicy::test
