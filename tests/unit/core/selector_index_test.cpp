// Name and CIDR indexes: what each entry kind matches, at scale.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/selector_index.hpp"
#include "test_policy.hpp"

namespace tlspolicy {
namespace {

using namespace tlspolicy::testing;

std::vector<std::uint32_t> rules_of(const std::vector<IndexHit>& hits) {
    std::vector<std::uint32_t> r;
    for (const auto& h : hits) r.push_back(h.rule);
    std::sort(r.begin(), r.end());
    return r;
}

TEST(NameIndex, EntryKinds) {
    NameIndex idx;
    idx.add(entry("example.com"), 0, 0);
    idx.add(entry(".example.com"), 1, 0);
    idx.add(entry("bob@example.com"), 2, 0);
    idx.add(entry(".com"), 3, 0);
    struct {
        const char* name;
        std::vector<std::uint32_t> want;
    } cases[] = {
        {"example.com", {0, 3}},
        {"a.example.com", {1, 3}},
        {"a.b.example.com", {1, 3}},
        {"bob@example.com", {0, 2, 3}},
        {"alice@example.com", {0, 3}},
        {"bob@a.example.com", {1, 3}},
        {"example.org", {}},
        {"com", {}},
        {"", {}},
    };
    for (const auto& c : cases) {
        std::vector<IndexHit> hits;
        idx.find(c.name, hits);
        EXPECT_EQ(rules_of(hits), c.want) << c.name;
    }
}

TEST(CidrIndex, LongestAndShortestBothHit) {
    CidrIndex idx;
    idx.add(cidr("10.0.0.0/8"), 0, 0);
    idx.add(cidr("10.1.0.0/16"), 1, 0);
    idx.add(cidr("10.1.2.3"), 2, 0);
    idx.add(cidr("::/0"), 3, 0);
    idx.add(cidr("2001:db8::/32"), 4, 0);
    struct {
        const char* addr;
        std::vector<std::uint32_t> want;
    } cases[] = {
        {"10.1.2.3", {0, 1, 2}},
        {"10.1.2.4", {0, 1}},
        {"10.2.0.0", {0}},
        {"11.0.0.0", {}},
        {"::ffff:10.1.2.3", {0, 1, 2}},
        {"2001:db8:1::1", {3, 4}},
        {"2001:db9::1", {3}},
    };
    for (const auto& c : cases) {
        std::vector<IndexHit> hits;
        idx.find(*parse_ip(c.addr), hits);
        EXPECT_EQ(rules_of(hits), c.want) << c.addr;
    }
}

TEST(Indexes, HundredThousandEntriesStillExact) {
    NameIndex names;
    CidrIndex clients;
    for (std::uint32_t i = 0; i < 100000; ++i) {
        names.add(entry("partner" + std::to_string(i) + ".example"), i, 0);
        std::string net = "10." + std::to_string(i >> 16) + "." + std::to_string(i >> 8 & 255) + "." + std::to_string(i & 255);
        clients.add(cidr(net), i, 1);
    }
    std::vector<IndexHit> hits;
    names.find("x@partner77777.example", hits);
    EXPECT_EQ(rules_of(hits), std::vector<std::uint32_t>{77777});
    hits.clear();
    clients.find(*parse_ip("10.1.1.44"), hits);  // 65536 + 256 + 44
    EXPECT_EQ(rules_of(hits), std::vector<std::uint32_t>{65836});
    hits.clear();
    clients.find(*parse_ip("10.1.1.45"), hits);
    EXPECT_EQ(rules_of(hits), std::vector<std::uint32_t>{65837});
}

}  // namespace
}  // namespace tlspolicy
