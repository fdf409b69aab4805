// Every unit test runs in the source tree, wherever the binary is started
// from: golden files, the man pages and the sample policy are read by paths
// relative to its top, and some outputs print such paths. golden.hpp's
// source_dir() finds it ($TLSPOLICY_SRCDIR, the working directory, or the
// tree the tests were compiled in).
#include <gtest/gtest.h>

#include "golden.hpp"

namespace {

class InSourceTree : public ::testing::Environment {
public:
    void SetUp() override { ASSERT_TRUE(tlspolicy::tests::in_source_dir()); }
};

[[maybe_unused]] ::testing::Environment* const kInSourceTree = ::testing::AddGlobalTestEnvironment(new InSourceTree);

}  // namespace
