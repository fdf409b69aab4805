// JSON lines for records and checkpoints (see record_json.hpp).
#include "ingest/record_json.hpp"

#include <cstdio>

#include "ingest/journal_entry.hpp"

namespace tlspolicy::ingest {
namespace {

void quote(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (u < 0x20 || u == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    out += '"';
}

void field(std::string& out, std::string_view name, std::string_view value) {
    out += ",\"";
    out += name;
    out += "\":";
    quote(out, value);
}

void number(std::string& out, std::string_view name, long long value) {
    out += ",\"";
    out += name;
    out += "\":";
    out += std::to_string(value);
}

void flag(std::string& out, std::string_view name, bool value) {
    out += ",\"";
    out += name;
    out += value ? "\":true" : "\":false";
}

}  // namespace

std::string iso_time(std::int64_t seconds, std::int32_t usec) {
    std::int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
    const std::int64_t rest = seconds - days * 86400;
    days += 719468;
    const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const std::int64_t doe = days - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t y = yoe + era * 400 + (m <= 2);
    char buf[64];
    const int year = static_cast<int>(y), month = static_cast<int>(m), day = static_cast<int>(d);
    const int hh = static_cast<int>(rest / 3600), mm = static_cast<int>(rest / 60 % 60), ss = static_cast<int>(rest % 60);
    if (usec > 0)
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", year, month, day, hh, mm, ss, usec);
    else
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day, hh, mm, ss);
    return buf;
}

std::string record_json(const OutboundDelivery& d) {
    std::string out;
    out.reserve(640);
    out = "{\"type\":\"delivery\"";
    field(out, "mta", word(d.mta));
    field(out, "time", iso_time(d.time, d.time_usec));
    field(out, "host", d.host);
    field(out, "queue_id", d.queue_id);
    field(out, "recipient", d.recipient);
    field(out, "domain", d.domain);
    field(out, "relay_host", d.relay_host);
    field(out, "relay_address", d.relay_address);
    number(out, "relay_port", d.relay_port);
    number(out, "conn_use", d.conn_use);
    field(out, "transport", word(d.transport));
    field(out, "tls_version", d.tls_version);
    field(out, "cipher", d.cipher);
    number(out, "cipher_bits", d.cipher_bits);
    number(out, "alg_bits", d.alg_bits);
    field(out, "cert_verification", d.cert_verification);
    field(out, "server_cert", word(d.server_cert));
    field(out, "status", word(d.status));
    field(out, "dsn", d.dsn);
    flag(out, "tls_reason", d.tls_reason);
    field(out, "reason", d.reason);
    flag(out, "judged", d.judgement.judged);
    out += ",\"rules\":[";
    for (std::size_t i = 0; i < d.judgement.rules.size(); ++i) {
        if (i) out += ',';
        quote(out, d.judgement.rules[i].name);
    }
    out += ']';
    field(out, "result", word(d.judgement.result));
    out += ",\"failed\":[";
    for (std::size_t i = 0; i < d.judgement.failed.size(); ++i) {
        if (i) out += ',';
        quote(out, word(d.judgement.failed[i]));
    }
    out += "]}";
    return out;
}

std::string checkpoint_json(const Checkpoint& c) {
    std::string out = "{\"type\":\"checkpoint\"";
    field(out, "position", position_text(c.position));
    field(out, "state", c.state);
    out += '}';
    return out;
}

std::optional<Checkpoint> parse_checkpoint_json(std::string_view line) {
    if (!line.starts_with("{\"type\":\"checkpoint\",")) return std::nullopt;
    std::optional<std::string> position, state;
    if (!parse_json_fields(line, [&](const std::string& key, std::string&& value) {
            if (key == "position") position = std::move(value);
            else if (key == "state") state = std::move(value);
        }))
        return std::nullopt;
    if (!position || !state) return std::nullopt;
    const auto pos = parse_position(*position);
    if (!pos) return std::nullopt;
    return Checkpoint{*pos, std::move(*state)};
}

}  // namespace tlspolicy::ingest
