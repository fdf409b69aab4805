// core/words.hpp: word() and from_word() over every table, and the fast path
// of word() (a table in its enum's order answers by index) beside the loop
// that serves a table in any other order.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/client_cert.hpp"
#include "core/delivery.hpp"
#include "core/policy.hpp"
#include "core/selector_index.hpp"
#include "core/stage_plan.hpp"
#include "core/verdict.hpp"
#include "core/words.hpp"

namespace tlspolicy {

// A table listed out of its enum's order, and one that leaves a value out.
enum class Shuffled : std::uint8_t { A, B, C, Missing };
inline constexpr Word<Shuffled> kShuffledWords[] = {{Shuffled::C, "c"}, {Shuffled::A, "a"}, {Shuffled::B, "b"}};
constexpr std::span<const Word<Shuffled>> words(Shuffled) { return kShuffledWords; }

namespace {

// Every value of the table maps to its word and back; `in_order` says whether
// the table is listed in the enum's order (value i at index i).
template <class E>
void round_trips(bool& in_order) {
    in_order = true;
    const std::span<const Word<E>> table = words(E{});
    ASSERT_FALSE(table.empty());
    for (std::size_t i = 0; i < table.size(); ++i) {
        const Word<E>& w = table[i];
        EXPECT_EQ(word(w.value), w.word) << "index " << i;
        EXPECT_EQ(from_word<E>(w.word), w.value) << w.word;
        if (static_cast<std::size_t>(w.value) != i) in_order = false;
    }
}

template <class E>
bool check(const char* name) {
    bool in_order = false;
    SCOPED_TRACE(name);
    round_trips<E>(in_order);
    return in_order;
}

// The tables off the mail path; the next test round-trips the others.
TEST(Words, EveryTableRoundTrips) {
    check<Direction>("Direction");
    check<Check>("Check");
    check<Action>("Action");
    check<Mode>("Mode");
    check<RuleKind>("RuleKind");
    check<Selector>("Selector");
    check<Transport>("Transport");
    check<DeliveryStatus>("DeliveryStatus");
}

// The words the milter looks up per message (the macros it reads, the log
// line's stage, result and action words) answer by index: their tables are
// in their enum's order. A table reordered would still work, through the loop,
// at the cost this test keeps off the mail path.
TEST(Words, TablesOnTheMailPathAreInTheirEnumsOrder) {
    EXPECT_TRUE(check<Macro>("Macro"));
    EXPECT_TRUE(check<Stage>("Stage"));
    EXPECT_TRUE(check<Result>("Result"));
    EXPECT_TRUE(check<Decision>("Decision"));
    EXPECT_TRUE(check<CertStatus>("CertStatus"));
}

TEST(Words, ATableInAnotherOrderIsSearched) {
    EXPECT_FALSE(check<Shuffled>("Shuffled"));
    EXPECT_EQ(word(Shuffled::A), "a");
    EXPECT_EQ(word(Shuffled::B), "b");
    EXPECT_EQ(word(Shuffled::C), "c");
    EXPECT_EQ(word(Shuffled::Missing), "?");
    EXPECT_EQ(from_word<Shuffled>("d"), std::nullopt);
    static_assert(word(Shuffled::C) == "c" && word(Macro::Host) == "j", "word() stays constexpr");
}

}  // namespace
}  // namespace tlspolicy
