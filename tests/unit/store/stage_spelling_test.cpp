// How the store spells a decision's stage, both ways; rows written before
// Stage::Message existed spelled the end of message "mail" and still read.
#include <gtest/gtest.h>

#include "store/observation_row.hpp"

namespace tlspolicy {
namespace {

TEST(StageSpelling, EachStageItsOwnWord) {
    struct Case {
        Stage stage;
        std::string_view want;
    };
    const Case cases[] = {{Stage::Mail, "mail"}, {Stage::Rcpt, "rcpt"}, {Stage::Message, "message"}};
    for (const Case& c : cases) {
        EXPECT_EQ(word(c.stage), c.want);
        EXPECT_EQ(store::parse_stage(c.want), c.stage) << c.want;
    }
}

TEST(StageSpelling, OldEndOfMessageRowsReadAsMail) {
    // Before "message", the end-of-message row was stored as "mail": report
    // counts Mail and Message alike as the sender side, so nothing changes.
    EXPECT_EQ(store::parse_stage("mail"), Stage::Mail);
    EXPECT_EQ(store::parse_stage(""), Stage::Mail);
}

}  // namespace
}  // namespace tlspolicy
