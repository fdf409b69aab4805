// The column words of an observation row, read back.
#include "store/observation_row.hpp"

#include <algorithm>

namespace tlspolicy::store {

Stage parse_stage(std::string_view t) { return from_word<Stage>(t).value_or(Stage::Mail); }

std::vector<RuleRef> parse_rules(std::string_view text) {
    std::vector<RuleRef> out;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = std::min(text.find(',', pos), text.size());
        std::string name(text.substr(pos, end - pos));
        if (!name.empty()) out.push_back({name, name == "default" ? RuleKind::Defaults : RuleKind::Partner});
        pos = end + 1;
    }
    return out;
}

std::string rule_refs_text(std::span<const RuleRef> rules) {
    std::string out;
    for (const RuleRef& r : rules) {
        if (!out.empty()) out += ',';
        out += word(r.kind);
        out += ':';
        out += r.name;
    }
    return out;
}

std::vector<RuleRef> parse_rule_refs(std::string_view text) {
    std::vector<RuleRef> out;
    for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t end = std::min(text.find(',', pos), text.size());
        const std::string_view item = text.substr(pos, end - pos);
        pos = end + 1;
        const std::size_t colon = item.find(':');
        if (colon == std::string_view::npos) continue;
        const RuleKind kind = from_word<RuleKind>(item.substr(0, colon)).value_or(RuleKind::Partner);
        out.push_back({std::string(item.substr(colon + 1)), kind});
    }
    return out;
}

TlsVersion parse_version(std::string_view name) {
    for (auto v : {TlsVersion::None, TlsVersion::SSLv3, TlsVersion::TLSv1_0, TlsVersion::TLSv1_1,
                   TlsVersion::TLSv1_2, TlsVersion::TLSv1_3})
        if (header_name(v) == name) return v;
    return TlsVersion::Unknown;
}

CertStatus parse_cert_status(std::string_view t) { return from_word<CertStatus>(t).value_or(CertStatus::None); }
Result parse_result(std::string_view t) { return from_word<Result>(t).value_or(Result::None); }
Decision parse_decision(std::string_view t) { return from_word<Decision>(t).value_or(Decision::Accept); }
Direction parse_direction(std::string_view t) { return from_word<Direction>(t).value_or(Direction::Inbound); }

std::string_view summary_table(Summary s) {
    switch (s) {
        case Summary::Rules: return "summary_rules";
        case Summary::Domains: return "summary_domains";
        case Summary::Senders: return "summary_senders";
    }
    return "";
}

const std::string& column_list() {
    static const std::string list = [] {
        std::string out;
        for (const Column& c : kColumns) out += (out.empty() ? "" : ", ") + std::string(c.name);
        return out;
    }();
    return list;
}

std::size_t column_index(std::string_view name) {
    for (std::size_t i = 0; i < kColumnCount; ++i)
        if (kColumns[i].name == name) return i;
    return kColumnCount;
}

std::span<const std::size_t> all_columns() {
    static const std::array<std::size_t, kColumnCount> all = [] {
        std::array<std::size_t, kColumnCount> out{};
        for (std::size_t i = 0; i < kColumnCount; ++i) out[i] = i;
        return out;
    }();
    return all;
}

}  // namespace tlspolicy::store
