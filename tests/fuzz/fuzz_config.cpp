// Fuzz target: the policy file loader (load_config_text), both of its readers.
// Besides crashes it checks what SPEC promises: every problem has a position
// and prints as one clean line (reload errors go to the log); a file the fast
// line reader takes loads exactly as toml++ alone loads it; and a policy that
// loads gives verdicts whose replies are clean and bounded.
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/config_summary.hpp"
#include "core/sanitize.hpp"
#include "core/stage_plan.hpp"
#include "core/verdict.hpp"
#include "fuzz_support.hpp"

namespace tlspolicy {
// The loader's own hooks, as its unit test uses them.
LoadResult load_config_text_with_tomlplusplus(std::string_view text, const std::string& path);
bool fast_reader_accepts(std::string_view text);
}  // namespace tlspolicy

using namespace tlspolicy;
using tlspolicy::fuzz::require;

namespace {

std::string lines_of(const LoadResult& r) {
    std::string out;
    for (const Diagnostic& d : r.diagnostics) out += d.format() + "\n";
    return out;
}

std::string summary_of(const LoadResult& r) {
    if (!r.ok()) return "(not loaded)";
    std::ostringstream s;
    print_summary(*r.config, s);
    return s.str();
}

void check_diagnostics(const LoadResult& r, std::string_view text) {
    bool any_error = false;
    for (const Diagnostic& d : r.diagnostics) {
        any_error |= !d.warning;
        std::string line = d.format();
        // Reload errors go to the log line by line; UTF-8 the operator wrote may
        // be quoted back, control characters may not.
        require(fuzz::no_controls(line), "a diagnostic carries a control character", line);
        require(d.line >= 1 && d.column >= 1, "diagnostic without a position", line);
        // Lines count from 1; one past the last line is where "unexpected end" points.
        std::size_t lines = 1;
        for (char c : text) lines += c == '\n';
        require(static_cast<std::size_t>(d.line) <= lines + 1, "diagnostic points past the end", line);
        require(!d.message.empty(), "diagnostic without a message", line);
    }
    require(r.ok() != any_error, "ok() disagrees with the errors reported", lines_of(r));
}

// A few sessions against the loaded policy: replies must be clean and bounded.
void check_policy(const Config& c) {
    const Policy& p = *c.policy;
    plan_stages(p, c.header.strip_forged);
    static const TlsFacts kTls[] = {
        {},
        make_tls_facts("TLSv1", "ECDHE-RSA-AES256-SHA", "256", "", CipherInfo{true, 256, 256, false, true, false}),
        make_tls_facts("TLSv1.3", "TLS_AES_256_GCM_SHA384", "256", "", CipherInfo{true, 256, 256, true, true, true}),
    };
    static const char* kSenders[] = {"", "a@acme.example", "x@sub.example.com", "billing@b.example"};
    static const char* kClients[] = {"203.0.113.5", "2001:db8::1"};
    for (const TlsFacts& tls : kTls)
        for (const char* client : kClients) {
            SessionFacts s = make_session(client, "mail.example.com", tls);
            for (const char* sender : kSenders) {
                for (const Verdict& v : {decide_sender(p, s, sender), decide_recipient(p, s, sender)}) {
                    if (!v.reply) continue;
                    fuzz::require_printable(v.reply->text, "reply text is not printable");
                    require(v.reply->text.size() <= kMaxReplyText, "reply text unbounded", v.reply->text);
                }
            }
        }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    LoadResult r = load_config_text(text, "fuzz.toml");
    check_diagnostics(r, text);
    if (r.ok()) check_policy(*r.config);
    if (fast_reader_accepts(text)) {
        LoadResult slow = load_config_text_with_tomlplusplus(text, "fuzz.toml");
        require(lines_of(r) == lines_of(slow), "the fast reader and toml++ report differently",
                "fast:\n" + lines_of(r) + "toml++:\n" + lines_of(slow));
        require(summary_of(r) == summary_of(slow), "the fast reader and toml++ load differently",
                "fast:\n" + summary_of(r) + "toml++:\n" + summary_of(slow));
    }
    return 0;
}
