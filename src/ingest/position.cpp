// Log positions as text (see sink.hpp).
#include "ingest/sink.hpp"

#include <charconv>

namespace tlspolicy::ingest {
namespace {

bool u64(std::string_view s, std::uint64_t& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size() && !s.empty();
}

}  // namespace

std::string position_text(const LogPosition& p) {
    switch (p.kind) {
        case LogPosition::Kind::None: return "none";
        case LogPosition::Kind::File:
            return "file " + std::to_string(p.device) + " " + std::to_string(p.inode) + " " + std::to_string(p.offset);
        case LogPosition::Kind::Journal: return "journal " + p.cursor;
    }
    return "none";
}

std::optional<LogPosition> parse_position(std::string_view t) {
    LogPosition p;
    if (t == "none") return p;
    if (t.starts_with("journal ")) {
        p.kind = LogPosition::Kind::Journal;
        p.cursor = std::string(t.substr(8));
        for (char c : p.cursor)
            if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return std::nullopt;
        if (p.cursor.empty()) return std::nullopt;
        return p;
    }
    if (!t.starts_with("file ")) return std::nullopt;
    t.remove_prefix(5);
    const std::size_t a = t.find(' '), b = t.find(' ', a + 1);
    if (a == std::string_view::npos || b == std::string_view::npos) return std::nullopt;
    p.kind = LogPosition::Kind::File;
    if (!u64(t.substr(0, a), p.device) || !u64(t.substr(a + 1, b - a - 1), p.inode) || !u64(t.substr(b + 1), p.offset))
        return std::nullopt;
    return p;
}

}  // namespace tlspolicy::ingest
