// The summaries computed in memory from raw rows, by the same column table
// (store/observation_row.hpp) the backends' SQL is made from: what
// ObservationSource::for_each_summary must return for those rows. The
// report's fake source answers with it; nothing here knows SQL.
#pragma once
#include <ctime>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "store/observation_row.hpp"
#include "store/observation_source.hpp"
#include "store/summary_sql.hpp"

namespace tlspolicy::test {

inline std::int64_t model_month(std::int64_t t) {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::tm first{};
    first.tm_year = tm.tm_year;
    first.tm_mon = tm.tm_mon;
    first.tm_mday = 1;
    return timegm(&first);
}

inline void model_summary(std::span<const Observation> rows, const SummaryQuery& q,
                          const std::function<void(const Observation&, const Weight&)>& each) {
    using namespace store;
    const std::span<const std::size_t> key = selected_key(q.summary, q.by_host);
    struct Group {
        std::int64_t bucket = 0;
        Observation facts;
        Weight w{0, 0, 0};
    };
    std::map<std::pair<std::int64_t, std::string>, Group> groups;
    const std::int64_t first_day = q.since - q.since % 86400;
    for (const Observation& o : rows) {
        const std::int64_t day = o.time - o.time % 86400;
        if (day < first_day || day > q.until || (!q.host.empty() && o.host != q.host)) continue;
        std::int64_t bucket = q.since;
        if (q.buckets.kind == Buckets::Kind::Step)
            bucket = q.buckets.first + (day - q.buckets.first) / q.buckets.step * q.buckets.step;
        else if (q.buckets.kind == Buckets::Kind::Months)
            bucket = model_month(day);
        // The key's cells as the row codec writes them, reduced as kColumns says.
        std::vector<std::string> cells;
        std::string id;
        std::string scratch;
        for (std::size_t c : key) {
            const Cell cell = kColumns[c].put(o, scratch);
            std::string text = kColumns[c].type == ColumnType::Integer ? std::to_string(cell.integer) : std::string(cell.text);
            switch (kColumns[c].keys[static_cast<std::size_t>(q.summary)]) {
                case Key::Domain: text = o.sender.empty() ? "" : "@" + std::string(address_domain(o.sender)); break;
                case Key::Marked: text = o.rule_kinds_known ? text : "?"; break;
                default: break;
            }
            id += text + '\x1f';
            cells.push_back(std::move(text));
        }
        Group& g = groups[{bucket, id}];
        if (g.w.count == 0) {
            g.bucket = bucket;
            std::size_t i = 0;
            get_columns(key, [&](std::size_t) {
                const std::string& t = cells[i++];
                return Cell{std::atoll(t.c_str()), t, false};
            }, g.facts);
            g.w = {0, o.time, o.time};
        }
        g.w.count += 1;
        g.w.first = std::min(g.w.first, o.time);
        g.w.last = std::max(g.w.last, o.time);
    }
    for (auto& [k, g] : groups) {
        g.facts.time = std::max(q.since, g.bucket);
        each(g.facts, g.w);
    }
}

}  // namespace tlspolicy::test
