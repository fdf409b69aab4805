// libmilter glue: turns macros into facts, feeds them to the core's
// Transaction, and applies the verdicts. Each callback runs behind one
// exception firewall (a C callback must never let a C++ exception out);
// per-connection state lives in libmilter's private pointer, per-message state
// ends in one of the named reset scopes below. With -v each stage logs one
// debug line.
#include "milter/callbacks.hpp"

#include <libmilter/mfapi.h>

#include <atomic>
#include <ctime>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/decision_log.hpp"
#include "core/header_stamp.hpp"
#include "core/sanitize.hpp"
#include "core/stage_plan.hpp"
#include "core/text.hpp"
#include "core/transaction.hpp"
#include "milter/log.hpp"
#include "milter/snapshot.hpp"
#include "tls/cipher_table.hpp"

namespace tlspolicy::milter {
namespace {

std::atomic<int> g_active{0};
std::atomic<unsigned long> g_sessions{0};  // numbers the sessions in -v lines
std::function<void(Observation&&)> g_sink;  // set before smfi_main, then only read

// Everything about one transaction; ended by reset() in a named scope.
struct Message {
    Transaction txn;  // begun at MAIL FROM, or at the first stage taken after it
    // Incoming headers with our header's name: (index among them, value).
    std::vector<std::pair<int, std::string>> candidates;
    // Monitor mode: would-be refusals at MAIL FROM and RCPT TO, logged at once
    // but counted only if the transaction ends before its message line, which
    // covers them (so each transaction is counted once).
    std::vector<Observation> unsettled;
};

struct Connection {
    unsigned long id = ++g_sessions;
    std::shared_ptr<const Config> config;  // pinned for the whole connection
    StagePlan plan;
    unsigned long protocol = 0;            // negotiated SMFIP_* flags
    Message msg;
    ~Connection() { --g_active; }
};

// Only the macros of stage_plan.hpp's table, which the milter asks for.
std::string_view macro(SMFICTX* ctx, Macro m) {
    const char* v = smfi_getsymval(ctx, const_cast<char*>(word(m).data()));
    return v ? std::string_view(v) : std::string_view{};
}

SessionFacts session_facts(SMFICTX* ctx) {
    std::string_view cipher = macro(ctx, Macro::Cipher);
    TlsFacts tls = make_tls_facts(macro(ctx, Macro::Version), cipher, macro(ctx, Macro::CipherBits),
                                  macro(ctx, Macro::AlgBits), cipher_table::lookup(cipher));
    if (tls.encrypted())
        tls.cert = make_client_cert(macro(ctx, Macro::Verify), macro(ctx, Macro::CertSubject), macro(ctx, Macro::CertIssuer),
                                    macro(ctx, Macro::CnSubject), macro(ctx, Macro::CnIssuer));
    std::string_view hostname = verified_client_name(macro(ctx, Macro::ClientName), macro(ctx, Macro::ClientResolve));
    return make_session(macro(ctx, Macro::ClientAddr), hostname, std::move(tls));
}

// The transaction, begun from the macros when MAIL FROM was not taken: the
// session's facts and {mail_addr} are in the list of the first stage that is.
Transaction& transaction(SMFICTX* ctx, const Connection& c, Message& m) {
    if (!m.txn.begun())
        m.txn.begin(*c.config->policy, session_facts(ctx), normalize_address(macro(ctx, Macro::MailAddr)));
    return m.txn;
}

// Tells the MTA to refuse with our reply. 4xx goes with TEMPFAIL, 5xx with REJECT.
sfsistat refuse(SMFICTX* ctx, const Verdict& v) {
    std::string text = escape_percent(v.reply->text);
    if (smfi_setreply(ctx, const_cast<char*>(v.reply->code.c_str()), const_cast<char*>(v.reply->status.c_str()),
                      const_cast<char*>(text.c_str())) != MI_SUCCESS)
        log::warning("smfi_setreply failed; the MTA sends its generic reply");
    return v.decision == Decision::Reject ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

// -v: one debug line per stage, built only when -v is on.
template <class Text>
void trace(const Connection& c, Text&& text) {
    if (log::debug_enabled()) log::debug("session " + std::to_string(c.id) + ": " + text());
}

std::string clean(std::string_view mta_text) { return sanitize_text(mta_text, kMaxToken); }

// What the glue knows of where a decision was made: the queue id and the
// MTA's own name (macro j), read only when an observation is built.
struct Where {
    SMFICTX* ctx;
    std::string_view queue_id;
    std::string_view host() const { return macro(ctx, Macro::Host); }
};

Observation observation(const Where& at, const SessionFacts& s, std::string_view sender, std::string_view rcpt,
                        Stage stage, std::span<const RuleRef> rules, Result result, Decision action, Decision would) {
    Observation o;
    o.time = std::time(nullptr);
    o.stage = stage;
    o.queue_id = at.queue_id;
    o.host = at.host();
    o.client = s.client_text;
    o.hostname = s.hostname;
    o.sender = sender;
    o.recipient = rcpt;
    o.rules.assign(rules.begin(), rules.end());
    o.version = s.tls.version;
    o.cipher = s.tls.cipher;
    o.cipher_bits = s.tls.cipher_bits;
    o.alg_bits = s.tls.alg_bits;
    o.cert = s.tls.cert;
    o.result = result;
    o.action = action;
    o.would = would;
    return o;
}

// Counts a decision that was kept for later (monitor mode's unsettled ones).
void count(Observation&& o) {
    metrics().count({o.stage, o.action, o.would, o.result, o.version, o.cipher, o.rules});
    if (g_sink) g_sink(std::move(o));
}

// One decision: its log line, its counters, and its observation, which is
// built only when a store takes it.
void record(const std::string& line, const Where& at, const SessionFacts& s, std::string_view sender,
            std::string_view rcpt, Stage stage, std::span<const RuleRef> rules, Result result, Decision action,
            Decision would) {
    log::info(line);
    metrics().count({stage, action, would, result, s.tls.version, s.tls.cipher, rules});
    if (g_sink) g_sink(observation(at, s, sender, rcpt, stage, rules, result, action, would));
}

// A refusal at MAIL FROM or RCPT TO, or in monitor mode one that enforcing
// would have made: logged now, counted when the transaction is settled.
void record_refusal(Message& m, const Where& at, std::string_view rcpt, const Verdict& v) {
    const SessionFacts& s = m.txn.session();
    const std::string& sender = m.txn.sender();
    const Stage stage = rcpt.empty() ? Stage::Mail : Stage::Rcpt;
    const std::vector<RuleRef> rules = summarize(v, {}).rules;
    const Decision would = v.monitored() ? v.enforced : Decision::Accept;
    if (!v.monitored())
        return record(refusal_log_line(at.queue_id, s, sender, rcpt, v), at, s, sender, rcpt, stage, rules, v.result,
                      v.decision, would);
    log::info(refusal_log_line(at.queue_id, s, sender, rcpt, v));
    m.unsettled.push_back(observation(at, s, sender, rcpt, stage, rules, v.result, v.decision, would));
}

// Where a transaction's state ends, and what becomes of its monitor-mode
// would-be refusals, so that each transaction is counted exactly once.
enum class Reset {
    NewTransaction,  // MAIL FROM: the last transaction ended without a message line
    Abort,           // RSET, STARTTLS (Postfix), a refused transaction, a lost client
    EndOfMessage,    // the message line was recorded: it covers the would-be refusals
    Close,           // the connection ends; its state goes with it
};

void reset(Message& m, Reset scope) {
    switch (scope) {
        case Reset::NewTransaction:
        case Reset::Abort:
        case Reset::Close:
            // No message line covers them: counted now.
            for (Observation& o : m.unsettled) count(std::move(o));
            break;
        case Reset::EndOfMessage:
            break;
    }
    m = Message{};
}

// The exception firewall. `fallback` is what the MTA hears if we fail inside:
// tempfail where a refusal is possible (fail closed), continue elsewhere.
template <class F>
sfsistat guarded(const char* stage, sfsistat fallback, F&& body) noexcept {
    try {
        return body();
    } catch (const std::exception& e) {
        try {
            log::error(std::string("internal error at ") + stage + ": " + e.what());
        } catch (...) {
        }
    } catch (...) {
        try {
            log::error(std::string("internal error at ") + stage);
        } catch (...) {
        }
    }
    return fallback;
}

Connection* conn(SMFICTX* ctx) { return static_cast<Connection*>(smfi_getpriv(ctx)); }


sfsistat on_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long, unsigned long,
                      unsigned long* pf0, unsigned long* pf1, unsigned long* pf2, unsigned long* pf3) {
    return guarded("negotiate", SMFIS_ALL_OPTS, [&] {
        auto c = std::make_unique<Connection>();
        ++g_active;
        c->config = running_config().get();
        c->plan = plan_stages(*c->config->policy, c->config->header.strip_forged);
        const StagePlan& p = c->plan;

        unsigned long actions = SMFIF_ADDHDRS | SMFIF_SETSYMLIST | (p.headers ? SMFIF_CHGHDRS : 0);
        if ((f0 & actions) != actions)
            log::warning("the MTA does not offer every action needed (add/change headers, macro lists); "
                         "headers or TLS macros may be missing");
        unsigned long want = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOBODY | SMFIP_NOEOH | SMFIP_NODATA |
                             SMFIP_NOUNKNOWN | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_DATA | SMFIP_NR_UNKN |
                             SMFIP_NR_EOH | SMFIP_NR_BODY;
        if (!p.mail) want |= SMFIP_NOMAIL;
        if (!p.mail || !p.mail_can_refuse) want |= SMFIP_NR_MAIL;
        if (!p.rcpt) want |= SMFIP_NORCPT;
        if (!p.rcpt || !p.rcpt_can_refuse) want |= SMFIP_NR_RCPT;
        if (!p.headers) want |= SMFIP_NOHDRS;
        want |= SMFIP_NR_HDR;
        *pf0 = f0 & actions;
        *pf1 = f1 & want;
        *pf2 = *pf3 = 0;
        c->protocol = *pf1;

        if (f0 & SMFIF_SETSYMLIST) {
            // libmilter copies the lists; they are constants (see macro_lists).
            const MacroLists lists = macro_lists(p);
            smfi_setsymlist(ctx, SMFIM_ENVFROM, const_cast<char*>(lists.mail.data()));
            if (!lists.rcpt.empty()) smfi_setsymlist(ctx, SMFIM_ENVRCPT, const_cast<char*>(lists.rcpt.data()));
            smfi_setsymlist(ctx, SMFIM_EOM, const_cast<char*>(lists.eom.data()));
        }
        trace(*c, [&] { return "negotiate: actions " + std::to_string(*pf0) + ", protocol " + std::to_string(*pf1); });
        smfi_setpriv(ctx, c.release());
        return SMFIS_CONTINUE;
    });
}

sfsistat on_envfrom(SMFICTX* ctx, char** argv) {
    return guarded("MAIL FROM", SMFIS_TEMPFAIL, [&] {
        Connection* c = conn(ctx);
        if (!c) return SMFIS_CONTINUE;
        const sfsistat ok = (c->protocol & SMFIP_NR_MAIL) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
        reset(c->msg, Reset::NewTransaction);  // it leaves nothing of the last one
        Message& m = c->msg;
        const Verdict& v = m.txn.begin(*c->config->policy, session_facts(ctx),
                                       normalize_address(argv && argv[0] ? argv[0] : ""));
        trace(*c, [&] { return "MAIL FROM <" + clean(m.txn.sender()) + ">: " + std::string(action_word(v)); });
        if (v.decision != Decision::Accept || v.monitored()) record_refusal(m, {ctx, macro(ctx, Macro::QueueId)}, "", v);
        return v.decision == Decision::Accept ? ok : refuse(ctx, v);
    });
}

sfsistat on_envrcpt(SMFICTX* ctx, char** argv) {
    return guarded("RCPT TO", SMFIS_TEMPFAIL, [&] {
        Connection* c = conn(ctx);
        if (!c) return SMFIS_CONTINUE;
        const sfsistat ok = (c->protocol & SMFIP_NR_RCPT) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
        Message& m = c->msg;
        std::string rcpt = normalize_address(argv && argv[0] ? argv[0] : "");
        const Verdict& v = transaction(ctx, *c, m).add_recipient(rcpt);
        trace(*c, [&] { return "RCPT TO <" + clean(rcpt) + ">: " + std::string(action_word(v)); });
        if (v.decision != Decision::Accept || v.monitored()) {
            record_refusal(m, {ctx, macro(ctx, Macro::QueueId)}, rcpt, v);
            if (v.decision != Decision::Accept) return refuse(ctx, v);
        }
        return ok;
    });
}

sfsistat on_header(SMFICTX* ctx, char* name, char* value) {
    return guarded("header", SMFIS_NOREPLY, [&] {
        Connection* c = conn(ctx);
        if (!c || !name) return SMFIS_NOREPLY;
        trace(*c, [&] { return "header " + clean(name); });
        if (iequals(name, c->config->header.name)) {
            // Which copies claim to be ours is settled at end of message,
            // when the MTA's own name (macro j) is known.
            int index = static_cast<int>(c->msg.candidates.size()) + 1;  // 1-based among them
            c->msg.candidates.emplace_back(index, value ? value : "");
        }
        return SMFIS_NOREPLY;
    });
}

sfsistat on_eom(SMFICTX* ctx) {
    return guarded("end of message", SMFIS_TEMPFAIL, [&] {
        Connection* c = conn(ctx);
        if (!c) return SMFIS_CONTINUE;
        Message& m = c->msg;
        const Config& cfg = *c->config;
        const Transaction& t = transaction(ctx, *c, m);
        const std::string_view authserv = choose_authserv_id(cfg.header.authserv_id, macro(ctx, Macro::Host));
        // From the MTA, and it reaches the log lines below as is: cleaned first.
        const std::string queue_id = sanitize_text(macro(ctx, Macro::QueueId), kMaxToken);

        // Delete from the highest index down: each deletion renumbers the rest.
        for (auto it = m.candidates.rbegin(); it != m.candidates.rend(); ++it) {
            if (!claims_authserv_id(it->second, authserv)) continue;
            if (smfi_chgheader(ctx, const_cast<char*>(cfg.header.name.c_str()), it->first, nullptr) == MI_SUCCESS)
                log::info(std::string(queue_id) + ": removed a forged " + cfg.header.name + " header");
            else
                log::warning(std::string(queue_id) + ": could not remove a forged " + cfg.header.name + " header");
        }

        Transaction::Stamp stamp = t.finish(authserv);
        const MessageOutcome& outcome = stamp.outcome;
        if (smfi_insheader(ctx, 0, const_cast<char*>(cfg.header.name.c_str()), stamp.header.data()) != MI_SUCCESS)
            log::error(std::string(queue_id) + ": could not add the " + cfg.header.name + " header");
        trace(*c, [&] {
            return "end of message " + queue_id + ": result " + std::string(word(outcome.result)) + ", policy " +
                   rule_names(outcome.rules);
        });
        const SessionFacts& s = t.session();
        record(message_log_line(queue_id, s, t.sender(), t.accepted_recipients(), outcome), {ctx, queue_id}, s,
               t.sender(), "", Stage::Message, outcome.rules, outcome.result, Decision::Accept, outcome.would);
        reset(m, Reset::EndOfMessage);
        return SMFIS_CONTINUE;
    });
}

sfsistat on_abort(SMFICTX* ctx) {
    return guarded("abort", SMFIS_CONTINUE, [&] {
        if (Connection* c = conn(ctx)) {
            trace(*c, [] { return std::string("abort"); });
            reset(c->msg, Reset::Abort);
        }
        return SMFIS_CONTINUE;
    });
}

sfsistat on_close(SMFICTX* ctx) {
    return guarded("close", SMFIS_CONTINUE, [&] {
        if (Connection* c = conn(ctx)) {
            trace(*c, [] { return std::string("close"); });
            reset(c->msg, Reset::Close);
        }
        delete conn(ctx);  // may be null: close can be the only callback
        smfi_setpriv(ctx, nullptr);
        return SMFIS_CONTINUE;
    });
}

}  // namespace

int active_connections() { return g_active.load(); }

Metrics& metrics() {
    static Metrics m;
    return m;
}

void set_observation_sink(std::function<void(Observation&&)> sink) { g_sink = std::move(sink); }

bool register_filter() {
    smfiDesc desc{};
    desc.xxfi_name = const_cast<char*>("tlspolicy-milter");
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST;
    desc.xxfi_envfrom = on_envfrom;
    desc.xxfi_envrcpt = on_envrcpt;
    desc.xxfi_header = on_header;
    desc.xxfi_eom = on_eom;
    desc.xxfi_abort = on_abort;
    desc.xxfi_close = on_close;
    desc.xxfi_negotiate = on_negotiate;
    if (smfi_register(desc) == MI_SUCCESS) return true;
    log::error("smfi_register failed");
    return false;
}

}  // namespace tlspolicy::milter
