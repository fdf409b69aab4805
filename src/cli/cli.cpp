// Option parsing with CLI11 (Debian's libcli11-dev) and dispatch.
#include "cli/cli.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <iostream>
#include <vector>

#include "cli/explain.hpp"
#include "cli/export.hpp"
#include "cli/ingest.hpp"
#include "cli/probe.hpp"
#include "report/report.hpp"
#include "report/render/formats.hpp"
#include "report/render/suggest.hpp"
#include "config/config.hpp"
#include "config/config_summary.hpp"
#include "config/policy_checks.hpp"
#include "config/socket_spec.hpp"
#include "tls/cipher_table.hpp"

namespace tlspolicy {
namespace {

constexpr const char* kDefaultConfig = TLSPOLICY_SYSCONFDIR "/tlspolicy-milter/tlspolicy-milter.toml";

// --format takes the report's formats, and --suggest's toml besides.
std::vector<std::string> report_format_names() {
    std::vector<std::string> names = report::format_names();
    for (const std::string& n : report::suggest_format_names())
        if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    return names;
}

// Loads the policy file, printing every diagnostic (with `host`, also what
// this host lacks, in file order); null when it has errors (with `host`, also
// when this host cannot give what it needs: a PostgreSQL store's spool).
std::shared_ptr<const Config> load(const std::string& path, bool host, std::ostream& err) {
    LoadResult r = load_config_file(path);
    if (host && r.ok()) {
        std::vector<Diagnostic> more = host_warnings(*r.config), errors = host_errors(*r.config);
        if (!errors.empty()) r.config = nullptr;
        more.insert(more.end(), errors.begin(), errors.end());
        r.diagnostics.insert(r.diagnostics.end(), more.begin(), more.end());
        std::stable_sort(r.diagnostics.begin(), r.diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
            return a.line != b.line ? a.line < b.line : a.column < b.column;
        });
    }
    for (const Diagnostic& d : r.diagnostics) err << d.format() << '\n';
    return r.config;
}

}  // namespace

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err, DaemonEntry daemon) {
    CLI::App app{"Enforces and annotates transport security (TLS) on inbound mail, per partner.",
                 "tlspolicy-milter"};
    app.footer("See tlspolicy-milter(8) and tlspolicy-milter.toml(5).");
    std::string config_path = kDefaultConfig;
    bool check = false, version = false, foreground = false, verbose = false;
    std::string socket, user, pidfile;
    app.add_option("-c,--config", config_path, "policy file")->capture_default_str();
    app.add_flag("--check", check, "validate the policy file, print a summary, exit 0 (1 on errors)");
    app.add_flag("-f,--foreground", foreground, "stay in the foreground and log to stderr too");
    app.add_option("-p,--socket", socket, "milter socket, overrides [milter] socket");
    app.add_option("-u,--user", user, "user to run as once the socket is open, overrides [milter] user");
    app.add_option("-P,--pidfile", pidfile, "write the process id here, overrides [milter] pidfile");
    app.add_flag("-v,--verbose", verbose, "log every stage of every session");
    app.add_flag("-V,--version", version, "print the version and exit");

    ExplainRequest req;
    CLI::App* ex = app.add_subcommand("explain", "evaluate one hypothetical session offline");
    ex->footer("The header's authserv-id is [header] authserv_id, else this machine's host name\n"
               "(standing in for the MTA's name, macro j), else localhost, as the milter chooses.");
    ex->add_option("--client", req.client, "client IP address");
    ex->add_option("--hostname", req.hostname, "verified client hostname");
    ex->add_option("--sender", req.sender, "envelope sender (MAIL FROM); omit or \"\" for <>");
    ex->add_option("--rcpt", req.recipients, "envelope recipient (RCPT TO), repeatable");
    CLI::Option* v = ex->add_option("--tls-version", req.tls_version, "TLSv1 | TLSv1.1 | TLSv1.2 | TLSv1.3; omit for plaintext");
    ex->add_option("--cipher", req.cipher, "cipher name as the MTA reports it")->needs(v);
    // The bounds the milter reads {cipher_bits} with: outside them a value counts as 0.
    const CLI::Validator bits(
        [](std::string& s) -> std::string {
            int n = -1;
            auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
            if (ec == std::errc{} && end == s.data() + s.size() && n >= 0 && n <= 4096) return {};
            return "want a number of bits from 0 to 4096, got '" + s + "'";
        },
        "0..4096");
    ex->add_option("--cipher-bits", req.cipher_bits, "bits in use (default: the cipher's)")->needs(v)->check(bits);
    ex->add_option("--client-cert", req.client_cert, "the client certificate as the MTA saw it")
        ->check(CLI::IsMember({"verified", "unverified", "none", "unknown"}))
        ->needs(v)
        ->capture_default_str();
    ex->add_option("--cert-subject", req.cert_subject, "subject CN of the client certificate")->needs(v);
    ex->add_option("--cert-issuer", req.cert_issuer, "issuer CN of the client certificate")->needs(v);

    ReportOptions rep;
    CLI::App* rp = app.add_subcommand(
        "report", "summarise the observation store; --against: who a stricter policy would refuse; --evidence: for auditors");
    rp->add_option("--since", rep.since, "how far back: N followed by s, m, h, d or w (default 7d; 90d with --evidence)");
    rp->add_flag("--evidence", rep.evidence, "per partner and recipient rule and calendar month: evidence for auditors");
    rp->add_flag("--suggest", rep.suggest,
                 "the strictest [[partner]] rules every message of the window met, checked like --against (default --since 90d)");
    rp->add_option("--min-messages", rep.min_messages, "--suggest: fewer messages than this are too quiet to judge")
        ->capture_default_str();
    rp->add_option("--format", rep.format, "output format: " + report::format_help() + "; with --suggest: text, toml, json")
        ->check(CLI::IsMember(report_format_names()))
        ->capture_default_str();
    rp->add_option("--against", rep.against, "a stricter policy file: list the senders it would refuse");
    rp->add_option("--database", rep.database, "observation database, overrides [observations] database");
    rp->add_option("--host", rep.host, "only what this MX host observed (as [observations] host names it)");
    rp->add_flag("--raw", rep.raw, "read every stored row instead of the summaries (slower: for audits)");

    ExportOptions xo;
    CLI::App* xp = app.add_subcommand("export", "write the policy for another program: postfix-tls-policy");
    xp->add_option("format", xo.format, "postfix-tls-policy: smtp_tls_policy_maps lines for mail to partners")
        ->required()
        ->check(CLI::IsMember({"postfix-tls-policy"}));
    xp->add_flag("--probe", xo.probe, "probe each domain first: dane-only or secure where DANE or MTA-STS holds");
    xp->add_option("--timeout", xo.timeout, "with --probe: seconds for each lookup and step")
        ->check(CLI::Range(1, 60))
        ->capture_default_str();

    ProbeOptions po;
    CLI::App* pr = app.add_subcommand(
        "probe", "what a partner's SMTP server offers over STARTTLS, per TLS version; --domain: its MX hosts, MTA-STS, DANE, TLS-RPT");
    pr->add_option("target", po.target, "HOST, HOST:PORT or [ADDRESS]:PORT (port 25 by default)");
    pr->add_option("--domain", po.domain, "a mail domain: its MX hosts, MTA-STS policy, TLSA records (DANE) and TLS-RPT");
    pr->add_option("--partner", po.partner, "judge the server's offer by this [[partner]] rule's requirements");
    pr->add_option("--format", po.format, "output format")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
    pr->add_option("--timeout", po.timeout, "seconds for each step (connect, each read, handshake)")
        ->check(CLI::Range(1, 60))
        ->capture_default_str();
    pr->add_option("--helo", po.helo, "the name to say EHLO with (default: this host's name)");

    IngestRequest ir;
    CLI::App* in = app.add_subcommand("ingest", "outbound deliveries from the MTA's log: postfix | sendmail");
    in->add_option("mta", ir.mta, "postfix or sendmail: whose log it is")->required()->check(CLI::IsMember({"postfix", "sendmail"}));
    in->add_option("path", ir.path, "the log file (/var/log/mail.log), or - for standard input");
    in->add_flag("--follow", ir.follow, "keep reading as the log grows, across rotation (like tail -F)");
    in->add_flag("--journal", ir.journal, "read journald through journalctl instead of a file");
    in->add_option("--journal-directory", ir.journal_directory, "journal files in this directory (implies --journal)");
    in->add_option("--stats", ir.stats, "the outbound counters as a Prometheus textfile (node_exporter's collector)");
    in->add_option("--output", ir.output, "records and checkpoints into this JSON-lines file instead of the store, resumed from on restart; - for standard output");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e, out, err) == 0 ? 0 : 2;
    }
    if (version) {
        out << "tlspolicy-milter " << TLSPOLICY_VERSION << "\n" << cipher_table::openssl_version() << "\n";
        return 0;
    }
    // explain, report, export, probe and ingest load and check the file too, and stop on its errors:
    // --check with either would leave one of the two requests unanswered.
    for (const CLI::App* sub : {ex, rp, xp, pr, in})
        if (check && sub->parsed()) {
            err << "--check and " << sub->get_name() << " are separate requests: run 'tlspolicy-milter -c FILE "
                << "--check' to validate the file, or 'tlspolicy-milter -c FILE " << sub->get_name()
                << " ...', which reports the file's errors and stops on them, without --check\n";
            return 2;
        }
    // Checked here, before anything starts, as the file's [milter] socket is.
    if (std::string why = socket.empty() ? "" : socket_problem(socket); !why.empty()) {
        err << "tlspolicy-milter: -p '" << socket << "': " << why << "\n";
        return 2;
    }
    if (!check && !ex->parsed() && !rp->parsed() && !xp->parsed() && !pr->parsed() && !in->parsed()) {
        if (!daemon) {
            err << "tlspolicy-milter: this program was built without the daemon\n";
            return 2;
        }
        return daemon({config_path, foreground, verbose, socket, user, pidfile});
    }
    auto config = load(config_path, check, err);
    if (!config) return 1;
    if (check) {
        print_summary(*config, out);
        return 0;
    }
    if (rp->parsed()) {
        rep.now = std::time(nullptr);
        return run_report(*config, rep, out, err);
    }
    if (xp->parsed()) return export_table(*config, xo, out, err);
    if (pr->parsed()) return probe_command(*config, po, out, err);
    if (in->parsed()) return ingest_command(*config, ir, out, err);
    return explain(*config, req, out, err);
}

}  // namespace tlspolicy
