// Which SMTP stages the milter must take part in, from the policy actually
// loaded. Every stage is a round trip Postfix's smtpd waits for, so a stage
// that cannot change the outcome is not asked for.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "core/policy.hpp"
#include "core/words.hpp"

namespace tlspolicy {

// Every macro the glue reads, spelled once: the lists the milter asks the MTA
// for (macro_lists, below) are made of these words, and the glue reads each
// macro by its value here, so a macro read is a macro asked for. The words
// are string literals, so word(m).data() is NUL-terminated for libmilter.
enum class Macro : std::uint8_t {
    // The session's facts.
    Version, Cipher, CipherBits, AlgBits, ClientAddr, ClientName, ClientResolve,
    Verify, CertSubject, CertIssuer, CnSubject, CnIssuer,
    // The transaction's.
    QueueId, Host, MailAddr,
};
inline constexpr Word<Macro> kMacroWords[] = {
    {Macro::Version, "{tls_version}"},   {Macro::Cipher, "{cipher}"},
    {Macro::CipherBits, "{cipher_bits}"}, {Macro::AlgBits, "{alg_bits}"},
    {Macro::ClientAddr, "{client_addr}"}, {Macro::ClientName, "{client_name}"},
    {Macro::ClientResolve, "{client_resolve}"}, {Macro::Verify, "{verify}"},
    {Macro::CertSubject, "{cert_subject}"}, {Macro::CertIssuer, "{cert_issuer}"},
    {Macro::CnSubject, "{cn_subject}"},   {Macro::CnIssuer, "{cn_issuer}"},
    {Macro::QueueId, "i"},                {Macro::Host, "j"},
    {Macro::MailAddr, "{mail_addr}"},
};
constexpr std::span<const Word<Macro>> words(Macro) { return kMacroWords; }

// The session's facts, space-separated: the milter asks for these macros
// itself (MAIL FROM's list, and whichever stage decides first), whatever
// milter_*_macros say. The man page and contrib/postfix-main.cf name each (a
// docs test checks).
std::string_view session_macros();

struct StagePlan {
    bool mail = false;             // a sender-side rule would refuse: decide at MAIL FROM
    bool mail_can_refuse = false;  // it really can (enforce mode); else MAIL needs no reply
    bool rcpt = false;             // recipient rules exist: decide at each RCPT TO
    bool rcpt_can_refuse = false;  // else RCPT needs no reply from us
    bool headers = false;          // strip_forged: read incoming headers
    // End of message is always taken: the header is stamped there, and the
    // sender side is decided there when MAIL FROM was not taken.
};

// A rule would refuse when it has a requirement and its action is not
// annotate; it can refuse when the policy also enforces. In monitor mode MAIL
// FROM is still taken (without a reply) for a rule that would refuse, so that
// a would-be refusal is logged even when the client never sends DATA.
bool would_refuse(const Rule& rule);
bool can_refuse(const Policy& policy, const Rule& rule);

StagePlan plan_stages(const Policy& policy, bool strip_forged);

// The macros the milter asks for at each stage (smfi_setsymlist, which
// replaces the MTA's own list for that stage); an empty list is not set.
// i wherever a decision is logged (Sendmail knows the queue id from MAIL FROM
// on, Postfix after the first accepted recipient), j wherever one can be
// recorded (the observation's host), and the session's facts at MAIL FROM:
// both MTAs send a stage's macros even when its command is not negotiated,
// and Sendmail 8.17 ignores an end-of-message list. The views point to
// NUL-terminated constants: nothing is built per connection.
struct MacroLists {
    std::string_view mail;  // SMFIM_ENVFROM
    std::string_view rcpt;  // SMFIM_ENVRCPT; empty when RCPT TO is not taken
    std::string_view eom;   // SMFIM_EOM
};
MacroLists macro_lists(const StagePlan& plan);

// The client's host name as the facts take it: {client_name} counts only when
// {client_resolve} is empty (Postfix without it sends verified names only)
// or "OK"; Sendmail's {client_name} may be unverified, and FAIL, FORGED,
// TEMP say so. "" when the name does not count.
std::string_view verified_client_name(std::string_view client_name, std::string_view client_resolve);

}  // namespace tlspolicy
