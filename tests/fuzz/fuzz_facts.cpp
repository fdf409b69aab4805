// Fuzz target: the macro-to-facts path and the decisions on a fixed policy,
// as the milter glue runs them: make_tls_facts, make_session,
// normalize_address, decide_sender, decide_recipient, header_value and the
// log lines. Input: NUL-separated fields, like the C strings libmilter hands
// over: {tls_version}, {cipher}, {cipher_bits}, {alg_bits}, client address,
// client name, MAIL FROM argument, then RCPT TO arguments.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/address.hpp"
#include "core/decision_log.hpp"
#include "core/header_stamp.hpp"
#include "core/sanitize.hpp"
#include "core/verdict.hpp"
#include "fuzz_support.hpp"
#include "tls/cipher_table.hpp"

using namespace tlspolicy;
using tlspolicy::fuzz::require;
using tlspolicy::fuzz::require_printable;

namespace {

// Every selector kind and requirement, each action, a reply with '%' in it.
constexpr const char* kPolicy = R"(
[milter]
mode = "MODE"
[header]
authserv_id = "mx.example.com"
[defaults]
require_tls = false
action = "tempfail"
[[partner]]
name = "acme"
clients = ["203.0.113.0/24", "2001:db8:ace::/48", "127.0.0.2"]
hostnames = ["mail.acme.example", ".acme.example"]
senders = ["acme.example", ".acme.example", "billing@acme.example"]
require_tls = true
min_version = "TLSv1.2"
action = "reject"
[[partner]]
name = "bank"
senders = ["bank.example"]
require_tls = true
profile = "bsi-tr-02102-2"
min_cipher_bits = 128
action = "tempfail"
reply = "bank.example: 100% TLS please, see contract 7.3"
[[partner]]
name = "gov"
clients = ["192.0.2.0/24", "::ffff:198.51.100.0/120"]
ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20"
ciphersuites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
action = "reject"
[[partner]]
name = "watch"
senders = [".watch.example"]
require_tls = true
min_version = "TLSv1.3"
action = "annotate"
[[recipient]]
name = "hr"
recipients = ["hr@example.com", "health.example.com", ".secure.example.com"]
require_tls = true
min_version = "TLSv1.3"
action = "reject"
[[recipient]]
name = "legal"
recipients = ["legal@example.com"]
require_tls = true
action = "tempfail"
)";

std::shared_ptr<const Config> load(const char* mode) {
    std::string text = kPolicy;
    text.replace(text.find("MODE"), 4, mode);
    LoadResult r = load_config_text(text, "fuzz-facts.toml");
    if (!r.ok()) {
        for (const Diagnostic& d : r.diagnostics) std::fprintf(stderr, "%s\n", d.format().c_str());
        std::abort();
    }
    return r.config;
}

const std::array<std::shared_ptr<const Config>, 2>& policies() {
    static const std::array<std::shared_ptr<const Config>, 2> p = {load("enforce"), load("monitor")};
    return p;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

std::string rule_names(const Verdict& v) {
    std::string out;
    for (const RuleOutcome& o : v.rules) out += o.rule->name + ",";
    return out;
}

void check_verdict(const Verdict& v, const Policy& p) {
    if (p.mode == Mode::Monitor) require(v.decision == Decision::Accept, "monitor mode refused");
    else require(v.decision == v.enforced, "enforce mode did not do what it enforces");
    require(!v.rules.empty() || v.stage == Stage::Rcpt, "a sender verdict without any rule");
    if (v.enforced == Decision::Accept) return;
    require(v.reply.has_value(), "a refusal without a reply");
    const Reply& r = *v.reply;
    if (v.enforced == Decision::Reject) require(r.code == "550" && r.status == "5.7.10", "reject reply code", r.line());
    else require(r.code == "450" && r.status == "4.7.10", "tempfail reply code", r.line());
    require_printable(r.text, "reply text is not printable");
    require(r.text.size() <= kMaxReplyText, "reply text longer than kMaxReplyText", r.text);
    require(!r.text.empty(), "empty reply text");
    // What libmilter's smfi_setreply gets: the line must still fit in 512 octets.
    require(escape_percent(r.line()).size() <= 2 * (kMaxReplyText + 16), "escaped reply unbounded", r.line());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    policies();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string_view> f = fuzz::split_fields(data, size);
    f.resize(std::max<std::size_t>(f.size(), 8));
    if (f.size() > 7 + 16) f.resize(7 + 16);  // at most 16 recipients

    const CipherInfo info = cipher_table::lookup(f[1]);
    TlsFacts tls = make_tls_facts(f[0], f[1], f[2], f[3], info);
    const SessionFacts s = make_session(f[4], f[5], tls);
    require_printable(s.client_text, "client_text");
    require(s.client_text.size() <= kMaxToken, "client_text unbounded", s.client_text);
    require_printable(s.hostname, "hostname");
    if (s.tls.encrypted()) {
        require_printable(s.tls.cipher, "cipher");
        require_printable(s.tls.version_text, "version_text");
        require(s.tls.cipher.size() <= kMaxToken, "cipher unbounded", s.tls.cipher);
        require(s.tls.cipher_bits >= 0 && s.tls.alg_bits >= 0, "negative bits");
    }
    const std::string sender = normalize_address(f[6]);

    for (const auto& cfg : policies()) {
        const Policy& p = *cfg->policy;
        Verdict sv = decide_sender(p, s, sender);
        check_verdict(sv, p);
        // Comparison is case-insensitive: the same envelope in capitals decides alike.
        require(rule_names(decide_sender(p, s, normalize_address(upper(f[6])))) == rule_names(sv),
                "sender matching depends on case", f[6]);
        std::vector<Verdict> accepted;
        std::size_t rcpts = 0;
        for (std::size_t i = 7; i < f.size(); ++i) {
            std::string rcpt = normalize_address(f[i]);
            Verdict rv = decide_recipient(p, s, rcpt);
            check_verdict(rv, p);
            require_printable(refusal_log_line("4Xyz1", s, sender, rcpt, rv), "refusal log line");
            if (rv.decision != Decision::Accept) continue;
            ++rcpts;
            if (!rv.rules.empty()) accepted.push_back(std::move(rv));
        }
        if (sv.decision != Decision::Accept) {
            require_printable(refusal_log_line("", s, sender, "", sv), "refusal log line");
            continue;
        }
        std::string header = header_value(cfg->header.authserv_id, s.tls, sv, accepted);
        require_printable(header, "header value is not printable");
        require(header.size() <= 2 * kMaxToken + 4096, "header value unbounded", header);
        require(claims_authserv_id(header, cfg->header.authserv_id), "our header does not carry our id", header);
        MessageOutcome m = summarize(sv, accepted);
        require(header.ends_with("; policy=" + rule_names(m.rules) + " result=" + std::string(word(m.result))),
                "header does not end with the outcome", header);
        require_printable(message_log_line("4Xyz1", s, sender, rcpts, m), "message log line");
    }
    return 0;
}
