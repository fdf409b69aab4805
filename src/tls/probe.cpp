// The probe's conversation: banner, EHLO, STARTTLS, handshake, EHLO, QUIT on
// a fresh connection per TLS version. Every step has its own deadline, inside
// one for the whole probe, so a silent or babbling server cannot hold it.
#include "tls/probe.hpp"

#include <unistd.h>

#include <algorithm>
#include <csignal>

namespace tlspolicy::probe {
namespace {

std::string local_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
    return buf;
}

bool offers_starttls(const SmtpReply& ehlo) {
    for (const std::string& l : ehlo.lines) {
        std::string word = l.substr(0, l.find(' '));
        for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (word == "STARTTLS") return true;
    }
    return false;
}

struct Conversation {
    const Target& target;
    Clock::time_point total;
    Connection conn;
    bool open = false;  // the SMTP dialogue can still take QUIT

    Clock::time_point step() const {
        return std::min(total, Clock::now() + std::chrono::milliseconds(target.step_timeout_ms));
    }
    std::string timeout_text(std::string_view what) const {
        if (Clock::now() >= total) return "the probe's total time of " + std::to_string(target.total_timeout_ms / 1000) +
                                          " s ran out waiting for " + std::string(what);
        return "no " + std::string(what) + " within " + std::to_string(target.step_timeout_ms / 1000) + " s";
    }
    StepError fix(StepError e, std::string_view what) const {
        if (e.kind == StepError::Timeout && e.text.empty()) e.text = timeout_text(what);
        return e;
    }
    StepError command(const std::string& line, SmtpReply& reply, std::string_view what) {
        if (StepError e = conn.send_line(line, step())) return fix(e, what);
        return fix(conn.read_reply(reply, step()), what);
    }
    void quit() {
        if (!open) return;
        SmtpReply ignored;
        // Short: a server that does not answer QUIT costs us nothing more.
        if (!conn.send_line("QUIT", std::min(step(), Clock::now() + std::chrono::seconds(1))))
            conn.read_reply(ignored, std::min(step(), Clock::now() + std::chrono::seconds(1)));
        open = false;
    }
};

// Connect, banner, EHLO; fills the report's plaintext facts. False when the
// conversation cannot go on (stopped/error say why).
bool greet(Conversation& c, Stage& stopped, StepError& error, Report* report, SmtpReply& ehlo) {
    std::string address;
    const std::string& where = c.target.address.empty() ? c.target.host : c.target.address;
    if (StepError e = c.conn.connect(where, c.target.port, c.step(), address)) {
        stopped = Stage::Connect, error = e;
        return false;
    }
    if (report) report->address = address;
    SmtpReply banner;
    if (StepError e = c.fix(c.conn.read_reply(banner, c.step()), "greeting from the server")) {
        stopped = Stage::Banner, error = e;
        if (e.kind == StepError::Timeout) error.text += " (not an SMTP server, or one that waits for the client)";
        return false;
    }
    if (report) report->banner = banner.first();
    c.open = true;
    if (banner.code != 220) {
        stopped = Stage::Banner, error = {StepError::NotSmtp, "the server refuses the session: " + banner.first()};
        return false;
    }
    const std::string helo = c.target.helo.empty() ? local_name() : c.target.helo;
    if (StepError e = c.command("EHLO " + helo, ehlo, "answer to EHLO")) {
        stopped = Stage::Ehlo, error = e;
        return false;
    }
    if (report) report->ehlo = ehlo.first();
    if (ehlo.code != 250) {
        stopped = Stage::Ehlo, error = {StepError::NotSmtp, "the server refuses EHLO " + helo + ": " + ehlo.first() +
                                                                " (--helo names us otherwise)"};
        return false;
    }
    return true;
}

Attempt attempt(const Target& target, TlsVersion version, const std::string& ciphers, const std::string& suites,
                Clock::time_point total, Report* report) {
    Conversation c{target, total, {}};
    Attempt a;
    a.version = version;
    auto fail = [&](Stage s, const StepError& e) {
        a.stopped = s, a.error_kind = e.kind, a.error = e.text;
        c.quit();
        return a;
    };
    SmtpReply ehlo;
    StepError error;
    if (!greet(c, a.stopped, error, report, ehlo)) return fail(a.stopped, error);
    if (report) report->starttls_offered = offers_starttls(ehlo);
    if (!offers_starttls(ehlo)) return fail(Stage::Ehlo, {StepError::None, "the server does not offer STARTTLS"});
    SmtpReply go;
    if (StepError e = c.command("STARTTLS", go, "answer to STARTTLS")) return fail(Stage::Starttls, e);
    if (go.code != 220) return fail(Stage::Starttls, {StepError::None, "the server answers STARTTLS with " + go.first()});
    c.open = false;  // from here on, only TLS can carry a QUIT
    const TlsRequest request{version, ciphers, suites, target.host, target.tlsa};
    if (StepError e = c.conn.start_tls(request, c.step(), a.tls))
        return fail(Stage::Handshake, c.fix(e, "TLS handshake to finish"));
    c.open = true;
    SmtpReply again;
    const std::string helo = target.helo.empty() ? local_name() : target.helo;
    if (StepError e = c.command("EHLO " + helo, again, "answer to EHLO under TLS")) return fail(Stage::EhloAfterTls, e);
    if (again.code != 250)
        return fail(Stage::EhloAfterTls, {StepError::None, "the server refuses EHLO under TLS: " + again.first()});
    a.accepted = true;
    c.quit();
    return a;
}

}  // namespace

std::string_view stage_name(Stage s) {
    switch (s) {
        case Stage::Connect: return "connect";
        case Stage::Banner: return "greeting";
        case Stage::Ehlo: return "EHLO";
        case Stage::Starttls: return "STARTTLS";
        case Stage::Handshake: return "TLS handshake";
        case Stage::EhloAfterTls: return "EHLO under TLS";
        case Stage::Done: return "done";
    }
    return "?";
}

Report run(const Target& target) {
    std::signal(SIGPIPE, SIG_IGN);  // a server that hangs up mid-handshake must not kill us
    Report r;
    r.target = target;
    const Clock::time_point total = Clock::now() + std::chrono::milliseconds(target.total_timeout_ms);
    const TlsVersion versions[] = {TlsVersion::TLSv1_0, TlsVersion::TLSv1_1, TlsVersion::TLSv1_2, TlsVersion::TLSv1_3};
    for (TlsVersion v : versions) {
        Attempt a = attempt(target, v, kAllCiphers, kAllSuites, total, r.attempts.empty() ? &r : nullptr);
        // The first connection decides whether there is anything to probe:
        // no connection, no SMTP, or no STARTTLS ends the probe there.
        if (r.attempts.empty() && a.stopped <= Stage::Ehlo) {
            r.stopped = a.stopped, r.error_kind = a.error_kind, r.error = a.error;
            return r;
        }
        r.attempts.push_back(std::move(a));
    }
    return r;
}

Attempt try_version(const Target& target, TlsVersion version, const std::string& ciphers, const std::string& suites,
                    Clock::time_point deadline) {
    std::signal(SIGPIPE, SIG_IGN);
    return attempt(target, version, ciphers, suites, deadline, nullptr);
}

}  // namespace tlspolicy::probe
