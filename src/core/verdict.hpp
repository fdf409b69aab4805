// Facts in, verdict out: the decision for one MAIL FROM (sender-side rules) or
// one RCPT TO (recipient rules), as a value the milter glue applies and the
// explain command prints. No I/O happens here.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/cipher_info.hpp"
#include "core/client_cert.hpp"
#include "core/ip_address.hpp"
#include "core/policy.hpp"
#include "core/tls_version.hpp"
#include "core/words.hpp"

namespace tlspolicy {

struct TlsFacts {
    TlsVersion version = TlsVersion::None;  // None: plaintext
    std::string version_text;               // {tls_version} as reported (sanitised)
    std::string cipher;                     // {cipher} as reported (sanitised)
    int cipher_bits = 0;                    // {cipher_bits}: bits in use
    int alg_bits = 0;                       // {alg_bits} or the cipher table; 0: unknown
    ClientCert cert;                        // what the MTA says of the client's certificate
    bool encrypted() const { return version != TlsVersion::None; }
};

struct SessionFacts {
    std::string client_text;          // the client address as reported, for texts
    std::optional<IpAddress> client;  // parsed; nullopt when the MTA gave none
    std::string hostname;             // verified client hostname, normalized; "" if none
    TlsFacts tls;
};

// Builds SessionFacts from what an MTA reports. `hostname` "unknown" or a
// "[address]" literal means the name was not verified and is dropped.
SessionFacts make_session(std::string_view client_address, std::string_view hostname, TlsFacts tls);

// Builds TlsFacts from the macro values (null or "" version: plaintext).
// `info` comes from the cipher table; `alg_bits` from {alg_bits} when the MTA
// sends it (Sendmail), else 0 and the cipher table's value is used.
TlsFacts make_tls_facts(std::string_view version, std::string_view cipher, std::string_view cipher_bits,
                        std::string_view alg_bits, const CipherInfo& info);

enum class Check : std::uint8_t {
    RequireTls, MinVersion, MinCipherBits, Ciphers, Ciphersuites, ProfileVersion, ProfileCiphers,
    ClientCert, CertSubject, CertIssuer,
};
// The config key each check tests, as explain and probe name it.
inline constexpr Word<Check> kCheckWords[] = {
    {Check::RequireTls, "require_tls"},       {Check::MinVersion, "min_version"},
    {Check::MinCipherBits, "min_cipher_bits"}, {Check::Ciphers, "ciphers"},
    {Check::Ciphersuites, "ciphersuites"},     {Check::ProfileVersion, "profile (version)"},
    {Check::ProfileCiphers, "profile (cipher)"}, {Check::ClientCert, "require_client_cert"},
    {Check::CertSubject, "cert_subjects"},     {Check::CertIssuer, "cert_issuers"},
};
constexpr std::span<const Word<Check>> words(Check) { return kCheckWords; }

struct CheckResult {
    Check check;
    bool passed;
};

// A rule as a decision records it: its name and the kind of rule it was when
// the decision was made. Logs, counters and the store keep this, not the
// policy's current idea of the name (a rule may change kind later).
struct RuleRef {
    std::string name;
    RuleKind kind = RuleKind::Defaults;
    bool operator==(const RuleRef&) const = default;
};
// "acme,hr": the names as the header's policy= and the log lines show them,
// each once (a partner and a recipient rule may share a name).
std::string rule_names(std::span<const RuleRef> rules);

struct RuleOutcome {
    const Rule* rule = nullptr;
    std::vector<Match> matched_by;      // empty for [defaults]
    std::vector<CheckResult> checks;    // only the requirements that apply to this session
    bool failed() const;
};

// Where a decision was made: MAIL FROM (the sender side), RCPT TO (one
// recipient), or end of message (the accepted message as a whole).
enum class Stage : std::uint8_t { Mail, Rcpt, Message };
inline constexpr Word<Stage> kStageWords[] = {{Stage::Mail, "mail"}, {Stage::Rcpt, "rcpt"}, {Stage::Message, "message"}};
constexpr std::span<const Word<Stage>> words(Stage) { return kStageWords; }

// Which way the mail went: inbound (what the milter decides) or outbound
// (deliveries the MTA logged, read back by an ingest).
enum class Direction : std::uint8_t { Inbound, Outbound };
inline constexpr Word<Direction> kDirectionWords[] = {{Direction::Inbound, "inbound"}, {Direction::Outbound, "outbound"}};
constexpr std::span<const Word<Direction>> words(Direction) { return kDirectionWords; }

enum class Result : std::uint8_t { None, Pass, Fail };
inline constexpr Word<Result> kResultWords[] = {{Result::None, "none"}, {Result::Pass, "pass"}, {Result::Fail, "fail"}};
constexpr std::span<const Word<Result>> words(Result) { return kResultWords; }

enum class Decision : std::uint8_t { Accept, Tempfail, Reject };
inline constexpr Word<Decision> kDecisionWords[] = {
    {Decision::Accept, "accept"}, {Decision::Tempfail, "tempfail"}, {Decision::Reject, "reject"}};
constexpr std::span<const Word<Decision>> words(Decision) { return kDecisionWords; }

struct Reply {
    std::string code;    // "550" / "450"
    std::string status;  // "5.7.10" / "4.7.10"
    std::string text;    // sanitised, bounded; not yet %-escaped for libmilter
    std::string line() const { return code + " " + status + " " + text; }
};

struct Verdict {
    Stage stage = Stage::Mail;
    std::vector<RuleOutcome> rules;        // every rule that applied, in file order
    Result result = Result::None;
    std::optional<Action> failed_action;   // the most severe action among failing rules
    Decision decision = Decision::Accept;  // what the MTA is told (monitor mode: Accept)
    Decision enforced = Decision::Accept;  // what enforce mode would tell it
    std::optional<Reply> reply;            // set whenever `enforced` refuses
    bool monitored() const { return decision != enforced; }  // a refusal monitor mode let through
};

// Sender-side rules for one transaction: partner rules selected by client,
// hostname or sender; [defaults] when none is. `sender` is normalized ("" for <>).
Verdict decide_sender(const Policy& policy, const SessionFacts& session, std::string_view sender);

// Recipient rules for one RCPT TO. No recipient rule: an empty verdict (accept,
// result none). `recipient` is normalized.
Verdict decide_recipient(const Policy& policy, const SessionFacts& session, std::string_view recipient);

// The requirements of `req` that apply to a session with these facts, each
// judged, as decide_* judge them (probe asks this of a server's offer).
std::vector<CheckResult> judge_requirements(const Requirements& req, const TlsFacts& tls);

// Human text of a requirement and of what the session offered, as replies and
// explain print them: "TLS 1.2 or newer", "TLS 1.0".
std::string wanted_text(const Rule& rule, Check check);
std::string got_text(const TlsFacts& tls, Check check);

}  // namespace tlspolicy
