// Fuzz target: the mail log parsers and the assembler of src/ingest (what
// `ingest` does with every line of a log it is given). Input: one byte
// choosing the MTA (bit 0: Sendmail) and whether the lines are also read as
// journalctl JSON entries (bit 1), then log lines separated by '\n'.
// Beyond memory safety: every record's text is printable and bounded, every
// line is counted exactly once, the state survives save and restore
// unchanged, a record's JSON and a checkpoint's read back as written.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/sanitize.hpp"
#include "fuzz_support.hpp"
#include "ingest/assembler.hpp"
#include "ingest/journal_entry.hpp"
#include "ingest/judge.hpp"
#include "ingest/record_json.hpp"

using namespace tlspolicy;
using namespace tlspolicy::ingest;
using tlspolicy::fuzz::require;
using tlspolicy::fuzz::require_printable;

namespace {

const Policy& policy() {
    static const Policy p = [] {
        Policy q;
        q.defaults.name = "default";
        Rule r;
        r.name = "acme";
        r.kind = RuleKind::Partner;
        r.req.require_tls = true;
        r.req.min_version = TlsVersion::TLSv1_2;
        r.req.require_client_cert = true;
        r.senders = {*parse_entry("acme.example", true, nullptr), *parse_entry(".acme.example", true, nullptr)};
        q.partners.push_back(r);
        q.build_indexes();
        return q;
    }();
    return p;
}

void check(const OutboundDelivery& d) {
    for (const std::string* s : {&d.host, &d.queue_id, &d.recipient, &d.domain, &d.relay_host, &d.relay_address,
                                 &d.tls_version, &d.cipher, &d.cert_verification, &d.dsn}) {
        require_printable(*s, "a record field is not printable");
        require(s->size() <= kMaxToken, "a record field is longer than kMaxToken", *s);
    }
    require_printable(d.reason, "the reason is not printable");
    require(d.reason.size() <= kMaxReason, "the reason is longer than kMaxReason", d.reason);
    require(d.transport == Transport::Tls || (d.tls_version.empty() && d.cipher.empty()),
            "TLS facts on a record without TLS", d.tls_version);
    require(d.relay_port >= 0 && d.relay_port <= 65535, "a port out of range", d.relay_host);
    require(!d.tls_reason || d.status != DeliveryStatus::Sent, "a sent delivery with a TLS reason", d.reason);
    require(d.judgement.judged == (d.transport == Transport::Tls || d.transport == Transport::Plaintext),
            "judged, or not, against the transport", d.recipient);
    require(d.judgement.judged || d.judgement.rules.empty(), "rules on an unjudged record", d.recipient);
    // The JSON line reads back, the recipient unchanged.
    std::string recipient;
    bool ok = parse_json_fields(record_json(d), [&](const std::string& key, std::string&& value) {
        if (key == "recipient") recipient = std::move(value);
    });
    require(ok && recipient == d.recipient, "a record's JSON does not read back", record_json(d));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const Mta mta = data[0] & 1 ? Mta::Sendmail : Mta::Postfix;
    const bool journal = data[0] & 2;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    static const FixedClock clock(epoch_seconds(2026, 12, 31, 0, 0, 0), 3600);
    DeliveryAssembler a(mta, clock);
    std::vector<OutboundDelivery> records;
    std::uint64_t lines = 0;
    for (std::size_t start = 0; start <= text.size();) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(start, end - start);
        a.feed(line, records);
        ++lines;
        if (journal) {
            JournalEntry e;
            if (parse_journal_json(line, e)) {
                a.feed(e, records);
                ++lines;
            }
        }
        start = end + 1;
    }
    const IngestCounts& c = a.counts();
    require(c.lines() == lines, "a line was not counted exactly once");
    require(c.deliveries == records.size(), "records and their count differ");
    require(c.deliveries >= c.delivery_lines, "fewer records than delivery lines");
    for (OutboundDelivery& d : records) {
        judge_delivery(policy(), d);
        check(d);
    }
    // The state a checkpoint keeps: restored, it is the same state.
    const std::string state = a.save_state();
    for (unsigned char ch : state)
        require((ch >= 0x20 && ch < 0x7f) || ch == '\t' || ch == '\n', "the state holds a control byte", state);
    DeliveryAssembler b(mta, clock);
    std::string why;
    require(b.restore_state(state, &why), "a saved state does not restore", why);
    require(b.save_state() == state, "the state changed through save and restore", state);
    Checkpoint cp;
    cp.position.kind = LogPosition::Kind::File;
    cp.position.offset = size;
    cp.state = state;
    require(parse_checkpoint_json(checkpoint_json(cp)) == cp, "a checkpoint does not read back", state);
    return 0;
}
