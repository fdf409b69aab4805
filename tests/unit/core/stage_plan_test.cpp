// Which stages the milter asks the MTA for, from the policy loaded.
#include <gtest/gtest.h>

#include <string>

#include "core/stage_plan.hpp"
#include "test_policy.hpp"

namespace tlspolicy {
namespace {

using namespace tlspolicy::testing;

struct Case {
    const char* name;
    Mode mode;
    Action defaults_action;
    bool defaults_require_tls;
    std::vector<Action> partner_actions;    // each with require_tls
    std::vector<Action> recipient_actions;  // each with require_tls
    bool strip_forged;
    bool want_mail, want_mail_refuse, want_rcpt, want_rcpt_refuse, want_headers;
};

TEST(StagePlan, FromPolicy) {
    const Case cases[] = {
        {"annotate_only_needs_eom_only", Mode::Enforce, Action::Tempfail, false, {Action::Annotate}, {}, false, false, false, false, false, false},
        {"defaults_without_requirement_cannot_refuse", Mode::Enforce, Action::Reject, false, {}, {}, false, false, false, false, false, false},
        {"defaults_that_refuse_need_mail", Mode::Enforce, Action::Tempfail, true, {}, {}, false, true, true, false, false, false},
        {"enforcing_partner_needs_mail", Mode::Enforce, Action::Tempfail, false, {Action::Annotate, Action::Reject}, {}, false, true, true, false, false, false},
        {"recipient_rules_need_rcpt", Mode::Enforce, Action::Tempfail, false, {}, {Action::Reject}, false, false, false, true, true, false},
        {"annotate_recipients_need_no_reply", Mode::Enforce, Action::Tempfail, false, {}, {Action::Annotate}, false, false, false, true, false, false},
        {"monitor_logs_at_mail_but_never_refuses", Mode::Monitor, Action::Reject, true, {Action::Reject}, {Action::Reject}, false, true, false, true, false, false},
        {"monitor_annotate_only_needs_no_mail", Mode::Monitor, Action::Annotate, true, {Action::Annotate}, {}, false, false, false, false, false, false},
        {"strip_forged_needs_headers", Mode::Enforce, Action::Tempfail, false, {}, {}, true, false, false, false, false, true},
    };
    for (const Case& c : cases) {
        Policy p;
        p.mode = c.mode;
        p.defaults.action = c.defaults_action;
        p.defaults.req.require_tls = c.defaults_require_tls;
        for (Action a : c.partner_actions)
            p.partners.push_back(make_rule(RuleKind::Partner, {.name = "p", .senders = {"p.example"}, .req = tls_required(), .action = a}));
        for (Action a : c.recipient_actions)
            p.recipients.push_back(make_rule(RuleKind::Recipient, {.name = "r", .recipients = {"r@example.com"}, .req = tls_required(), .action = a}));
        StagePlan s = plan_stages(p, c.strip_forged);
        EXPECT_EQ(s.mail, c.want_mail) << c.name;
        EXPECT_EQ(s.mail_can_refuse, c.want_mail_refuse) << c.name;
        EXPECT_EQ(s.rcpt, c.want_rcpt) << c.name;
        EXPECT_EQ(s.rcpt_can_refuse, c.want_rcpt_refuse) << c.name;
        EXPECT_EQ(s.headers, c.want_headers) << c.name;
    }
}

// The macro lists asked for with smfi_setsymlist: what each stage needs.
TEST(StagePlan, MacroLists) {
    const std::string facts =
        "{tls_version} {cipher} {cipher_bits} {alg_bits} {client_addr} {client_name} {client_resolve}"
        " {verify} {cert_subject} {cert_issuer} {cn_subject} {cn_issuer}";
    EXPECT_EQ(session_macros(), facts);
    const std::string full = facts + " i j {mail_addr}";
    struct MacroCase {
        const char* name;
        bool mail, rcpt;
        std::string want_mail, want_rcpt, want_eom;
    };
    const MacroCase cases[] = {
        // MAIL FROM's list always carries the facts: both MTAs send a stage's
        // macros even when its command is not negotiated.
        {"eom only: the facts at MAIL FROM and again at eom", false, false, full, "", full},
        {"mail decides: rcpt needs no list", true, false, full, "", "i j {mail_addr}"},
        {"mail and rcpt: rcpt asks for queue id and host", true, true, full, "i j", "i j {mail_addr}"},
        {"rcpt decides first: it asks for the facts", false, true, full, full, "i j {mail_addr}"},
    };
    for (const MacroCase& c : cases) {
        StagePlan p;
        p.mail = c.mail;
        p.rcpt = c.rcpt;
        const MacroLists m = macro_lists(p);
        EXPECT_EQ(m.mail, c.want_mail) << c.name;
        EXPECT_EQ(m.rcpt, c.want_rcpt) << c.name;
        EXPECT_EQ(m.eom, c.want_eom) << c.name;
        // libmilter takes them as C strings.
        for (std::string_view l : {m.mail, m.rcpt, m.eom}) {
            if (!l.empty()) {
                EXPECT_EQ(l.data()[l.size()], '\0') << c.name << ": " << l;
            }
        }
    }
}

// Every stage where a decision can be recorded asks for the MTA's name (j, the
// observation's host) and the queue id (i).
TEST(StagePlan, DecidingStagesAskForHostAndQueueId) {
    for (bool mail : {false, true})
        for (bool rcpt : {false, true}) {
            StagePlan p;
            p.mail = mail;
            p.rcpt = rcpt;
            const MacroLists m = macro_lists(p);
            for (std::string_view l : {m.mail, rcpt ? m.rcpt : m.mail, m.eom}) {
                const std::string padded = " " + std::string(l) + " ";
                EXPECT_NE(padded.find(" j "), std::string::npos) << "mail=" << mail << " rcpt=" << rcpt << ": " << l;
                EXPECT_NE(padded.find(" i "), std::string::npos) << "mail=" << mail << " rcpt=" << rcpt << ": " << l;
            }
        }
}

// The glue reads macros by their Macro value only (callbacks.cpp's macro()),
// so each one must be in the list the milter asks for at MAIL FROM, which is
// also what the first stage taken asks for when MAIL FROM is not.
TEST(StagePlan, EveryMacroTheGlueReadsIsAskedFor) {
    for (bool mail : {false, true}) {
        StagePlan p;
        p.mail = mail;
        const std::string asked = " " + std::string(mail ? macro_lists(p).mail : macro_lists(p).eom) + " ";
        for (const Word<Macro>& w : kMacroWords)
            EXPECT_NE(asked.find(" " + std::string(w.word) + " "), std::string::npos)
                << w.word << " is read but not asked for (mail=" << mail << "): " << asked;
    }
}

TEST(StagePlan, ClientNameCountsOnlyWhenResolved) {
    struct NameCase {
        const char* name;
        std::string_view client_name, client_resolve, want;
    };
    const NameCase cases[] = {
        {"Postfix without {client_resolve}: its names are verified", "mail.acme.example", "", "mail.acme.example"},
        {"resolved", "mail.acme.example", "OK", "mail.acme.example"},
        {"no PTR (Sendmail)", "[127.0.0.2]", "FAIL", ""},
        {"forged PTR", "mail.acme.example", "FORGED", ""},
        {"DNS trouble", "mail.acme.example", "TEMP", ""},
        {"lower-case ok is no OK", "mail.acme.example", "ok", ""},
        {"no name at all", "", "OK", ""},
    };
    for (const NameCase& c : cases)
        EXPECT_EQ(verified_client_name(c.client_name, c.client_resolve), c.want)
            << c.name << ": got '" << verified_client_name(c.client_name, c.client_resolve) << "', want '" << c.want << "'";
}

}  // namespace
}  // namespace tlspolicy
