// The summaries' SQL, made from kColumns. The same text serves SQLite and
// PostgreSQL except where noted (placeholders, least/greatest, months, types).
#include "store/summary_sql.hpp"

#include <vector>

namespace tlspolicy::store {
namespace {

constexpr std::size_t kTime = 0;  // kColumns[0]: the day of every summary

std::size_t index_of(Summary s) { return static_cast<std::size_t>(s); }

std::string placeholder(Dialect d, int n) { return (d == Dialect::Postgres ? "$" : "?") + std::to_string(n); }

// The expression a raw column enters summary s's key as.
std::string key_expression(std::size_t column, Summary s) {
    const std::string name(kColumns[column].name);
    switch (kColumns[column].keys[index_of(s)]) {
        case Key::Day: return "(" + name + " - " + name + " % 86400)";
        case Key::Domain: return "(CASE WHEN " + name + " = '' THEN '' ELSE '@' || sender_domain END)";
        case Key::Marked: return "coalesce(" + name + ", '?')";
        case Key::AsIs:
        case Key::No: break;
    }
    return name;
}

std::string list(std::span<const std::size_t> cols, std::string (*each)(std::size_t)) {
    std::string out;
    for (std::size_t c : cols) out += (out.empty() ? "" : ", ") + each(c);
    return out;
}

std::string positions(std::size_t n) {
    std::string out;
    for (std::size_t i = 1; i <= n; ++i) out += (i > 1 ? ", " : "") + std::to_string(i);
    return out;
}

}  // namespace

std::span<const std::size_t> summary_key(Summary s) {
    static const std::array<std::vector<std::size_t>, kSummaries.size()> keys = [] {
        std::array<std::vector<std::size_t>, kSummaries.size()> out;
        for (Summary each : kSummaries)
            for (std::size_t i = 0; i < kColumnCount; ++i)
                if (kColumns[i].keys[index_of(each)] != Key::No) out[index_of(each)].push_back(i);
        return out;
    }();
    return keys[index_of(s)];
}

std::span<const std::size_t> selected_key(Summary s, bool by_host) {
    static const std::array<std::vector<std::size_t>, kSummaries.size()> hostless = [] {
        std::array<std::vector<std::size_t>, kSummaries.size()> out;
        for (Summary each : kSummaries)
            for (std::size_t c : summary_key(each).subspan(1))
                if (kColumns[c].name != "host") out[index_of(each)].push_back(c);
        return out;
    }();
    return by_host ? summary_key(s).subspan(1) : std::span<const std::size_t>(hostless[index_of(s)]);
}

std::string_view key_name(std::size_t column) { return column == kTime ? "day" : kColumns[column].name; }

std::string primary_key(Summary s) {
    std::string out = "day";
    const std::size_t host = column_index("host");
    if (kColumns[host].keys[index_of(s)] != Key::No) out += ", host";
    for (std::size_t c : selected_key(s))
        if (c != host) out += ", " + std::string(key_name(c));
    return out;
}

std::string summary_columns(Summary s) {
    return list(summary_key(s), [](std::size_t c) { return std::string(key_name(c)); }) + ", n, first_time, last_time";
}

std::set<std::string> summary_column_names(Summary s) {
    std::set<std::string> out{"n", "first_time", "last_time"};
    for (std::size_t c : summary_key(s)) out.emplace(key_name(c));
    return out;
}

SchemaPlan plan_schema(const std::set<std::string>& observations,
                       std::span<const std::set<std::string>, kSummaries.size()> summaries) {
    SchemaPlan plan;
    for (const std::string& name : observations)
        if (name != "id" && column_index(name) == kColumnCount) plan.unknown.push_back(name);
    for (std::size_t i = 0; i < kColumnCount; ++i)
        if (!observations.contains(std::string(kColumns[i].name))) plan.add.push_back(i);
    for (Summary s : kSummaries) {
        const std::set<std::string> want = summary_column_names(s);
        const std::set<std::string>& have = summaries[index_of(s)];
        if (have == want) continue;
        bool newer = false;  // a key column we would not put there: a newer release's summary
        for (const std::string& name : have)
            if (!want.contains(name)) {
                plan.unknown.push_back(std::string(summary_table(s)) + "." + name);
                newer = true;
            }
        if (!newer) plan.build.push_back(s);
    }
    return plan;
}

std::string column_definition(Dialect d, const Column& c) {
    std::string out = std::string(c.name) + " ";
    if (c.type == ColumnType::Integer) out += d == Dialect::Postgres ? "bigint" : "INTEGER";
    else out += d == Dialect::Postgres ? "text" : "TEXT";
    if (c.fill == "NULL") return out;
    if (!c.fill.empty()) out += " NOT NULL DEFAULT " + std::string(c.fill);
    else out += " NOT NULL";
    return out;
}

std::string create_summary(Dialect d, Summary s) {
    const bool pg = d == Dialect::Postgres;
    std::string sql = "CREATE TABLE " + std::string(summary_table(s)) + " (";
    for (std::size_t c : summary_key(s)) {
        Column key = kColumns[c];
        key.name = key_name(c);
        key.fill = key.fill == "NULL" ? "'?'" : key.fill;  // Marked: never NULL in a key
        sql += column_definition(d, key) + ", ";
    }
    const char* integer = pg ? "bigint" : "INTEGER";
    sql += std::string("n ") + integer + " NOT NULL, first_time " + integer + " NOT NULL, last_time " + integer +
           " NOT NULL, PRIMARY KEY (" + primary_key(s) + "))";
    return sql + (pg ? " PARTITION BY RANGE (day)" : " WITHOUT ROWID");
}

std::string upsert_summary(Dialect d, Summary s, std::string_view from) {
    const bool pg = d == Dialect::Postgres;
    const std::span<const std::size_t> key = summary_key(s);
    std::string exprs;
    for (std::size_t c : key) exprs += key_expression(c, s) + ", ";
    const std::string table(summary_table(s));
    // The same order of keys in every writer: two writers never wait on each other's rows crosswise.
    std::string sql = "INSERT INTO " + table + (pg ? " AS s" : "") + " (" + summary_columns(s) + ") SELECT " + exprs +
                      "count(*), min(time), max(time) FROM " + std::string(from) + " GROUP BY " + positions(key.size()) +
                      (pg ? " ORDER BY " + positions(key.size()) : "") + " ON CONFLICT (" + primary_key(s) +
                      ") DO UPDATE SET ";
    if (pg)
        sql += "n = s.n + excluded.n, first_time = least(s.first_time, excluded.first_time),"
               " last_time = greatest(s.last_time, excluded.last_time)";
    else
        sql += "n = n + excluded.n, first_time = min(first_time, excluded.first_time),"
               " last_time = max(last_time, excluded.last_time)";
    return sql;
}

std::string build_summary(Summary s) {
    const std::span<const std::size_t> key = summary_key(s);
    std::string exprs;
    for (std::size_t c : key) exprs += key_expression(c, s) + ", ";
    return "INSERT INTO " + std::string(summary_table(s)) + " (" + summary_columns(s) + ") SELECT " + exprs +
           "count(*), min(time), max(time) FROM observations GROUP BY " + positions(key.size());
}

std::string select_summary(Dialect d, Summary s, const Buckets& b, bool host, bool by_host) {
    const std::span<const std::size_t> key = selected_key(s, by_host);
    std::string sql = "SELECT " + list(key, [](std::size_t c) { return std::string(key_name(c)); });
    std::size_t grouped = key.size();
    if (b.kind == Buckets::Kind::Step) {
        const std::string first = std::to_string(b.first), step = std::to_string(b.step);
        sql += ", (" + first + " + (day - " + first + ") / " + step + " * " + step + ")";
        ++grouped;
    } else if (b.kind == Buckets::Kind::Months) {
        sql += d == Dialect::Postgres
                   ? ", CAST(extract(epoch FROM date_trunc('month', to_timestamp(day) AT TIME ZONE 'UTC')) AS bigint)"
                   : ", CAST(strftime('%s', day, 'unixepoch', 'start of month') AS INTEGER)";
        ++grouped;
    }
    sql += ", sum(n), min(first_time), max(last_time) FROM " + std::string(summary_table(s)) + " WHERE day >= " +
           placeholder(d, 1) + " AND day <= " + placeholder(d, 2);
    if (host) sql += " AND host = " + placeholder(d, 3);
    return sql + " GROUP BY " + positions(grouped);
}

}  // namespace tlspolicy::store
