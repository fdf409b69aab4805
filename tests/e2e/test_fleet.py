"""Many MX hosts, one observation store: one private PostgreSQL
(pg_fixture), two real Postfix instances on loopback (mx1.e2e.test and
mx2.e2e.test), each with its own milter writing to that database.

FleetTwoMxHosts sends a known mix through each host (passes, plaintext
refused at MAIL, old TLS tempfailed, no rule, a protected recipient refused)
and checks that the database, `report`, `report --host` and `report
--evidence` hold exactly that, host by host, with each milter's policy
version. mx1 leaves its host name to the MTA (macro j), mx2 sets
[observations] host. FleetOutage stops PostgreSQL
(pg_ctl stop -m fast) and kills its postmaster (SIGKILL) for 30 s each under
mail load: every observation must arrive once the server is back, and no
message may wait on the database (SMTP latency while down against while up).

Needs a build with the PostgreSQL store (linked against libpq); skipped with
that reason otherwise. FLEET_OUTAGE_SECONDS shortens the outages (default 30).
"""

import os
import re
import signal
import smtplib
import statistics
import subprocess
import tempfile
import threading
import time
import unittest

import pg_fixture
from milter_fixture import BINARY, Milter
from postfix_harness import PostfixHarness, build_message

OUTAGE = float(os.environ.get("FLEET_OUTAGE_SECONDS", "30"))
HOSTS = ("mx1.e2e.test", "mx2.e2e.test")
# The host each one's rows must carry: mx1 leaves it to the MTA's name (macro
# j, the default), mx2 names itself with [observations] host.
HOST_KEY = {"mx2.e2e.test": "mx2"}
STORED = {h: HOST_KEY.get(h, h) for h in HOSTS}

POLICY = """
[milter]
mode = "enforce"

[observations]
database = "{url}"
spool = "{spool}"
{host_key}
[defaults]
require_tls = false

[[partner]]
name = "acme"
senders = ["acme.test"]
require_tls = true
min_version = "TLSv1.2"
action = "reject"

[[partner]]
name = "beta"
senders = ["beta.test"]
require_tls = true
min_version = "TLSv1.2"
action = "tempfail"

[[recipient]]
name = "hr"
recipients = ["hr@dest.test"]
require_tls = true
min_version = "TLSv1.3"
action = "reject"
"""

# What one message of each kind is, and what it must leave in the store:
# (sender, recipient, tls) -> (reply code expected at the refusing stage or
# 250 at end of data, [(stage, rule, result, action)] observations).
KINDS = {
    "pass": (("p@acme.test", "u@dest.test", "tlsv1_2"), 250, [("message", "acme", "pass", "accept")]),
    "plaintext_refused": (("r@acme.test", "u@dest.test", None), 550, [("mail", "acme", "fail", "reject")]),
    "old_tls_tempfailed": (("t@beta.test", "u@dest.test", "tlsv1"), 450, [("mail", "beta", "fail", "tempfail")]),
    "no_rule": (("n@other.test", "u@dest.test", None), 250, [("message", "default", "none", "accept")]),
    "rcpt_refused": (("h@other.test", "hr@dest.test", "tlsv1_2"), 550, [("rcpt", "hr", "fail", "reject")]),
}
# Different on each host, so that rows credited to the wrong host show.
MIX = {
    "mx1.e2e.test": {"pass": 3, "plaintext_refused": 2, "old_tls_tempfailed": 1, "no_rule": 2, "rcpt_refused": 1},
    "mx2.e2e.test": {"pass": 1, "plaintext_refused": 3, "old_tls_tempfailed": 2, "no_rule": 1, "rcpt_refused": 2},
}


def pg_store_built():
    """None when the binary can write to PostgreSQL, else why not."""
    if not os.access(BINARY, os.X_OK):
        return "no %s" % BINARY
    out = subprocess.run(["ldd", BINARY], capture_output=True, text=True).stdout
    if "libpq" not in out:
        return "this build has no PostgreSQL store (not linked against libpq)"
    return None


def unknown_option(p, option):
    """The CLI refused `option` as unknown: the branch that adds it has not landed."""
    return p.returncode != 0 and option in p.stderr and re.search(r"not expected|unknown|unrecognized", p.stderr)


_PG = None  # one server for the module; each class its own database


def setUpModule():
    global _PG
    if pg_store_built() is None:
        _PG = pg_fixture.PgServer()
        _PG.start()


def tearDownModule():
    if _PG is not None:
        _PG.destroy()


class Database:
    """One database of the module's server, and psql on it."""

    def __init__(self, name, durable=False):
        self.name = name
        _PG.psql("CREATE DATABASE %s OWNER %s" % (name, pg_fixture.USER))
        if durable:
            # pg_fixture turns synchronous_commit off: a crash of the server
            # would then lose commits it had already acknowledged, which is
            # no fault of the milter's. The crash test needs the real thing.
            _PG.psql("ALTER DATABASE %s SET synchronous_commit = on" % name)
        self.url = "postgresql://%s@127.0.0.1:%d/%s" % (pg_fixture.USER, _PG.port, name)

    def query(self, sql):
        p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                            "-p", str(_PG.port), "-U", pg_fixture.USER, "-d", self.name, "-c", sql],
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise AssertionError("psql %r: %s" % (sql, p.stderr))
        return [line.split("|") for line in p.stdout.splitlines() if line]

    def count(self, where="TRUE"):
        """Rows in observations; 0 while the table does not exist yet."""
        try:
            return int(self.query("SELECT count(*) FROM observations WHERE " + where)[0][0])
        except AssertionError as e:
            if "does not exist" in str(e) or "could not connect" in str(e) or "Connection refused" in str(e):
                return 0
            raise

    def wait_count(self, want, where="TRUE", timeout=60):
        """Polls until `want` rows match; returns (rows, seconds waited)."""
        t0 = time.monotonic()
        n = self.count(where)
        while n < want and time.monotonic() - t0 < timeout:
            time.sleep(0.25)
            n = self.count(where)
        return n, time.monotonic() - t0


class MxHost:
    """A milter with the policy beside a private Postfix named `name`."""

    def __init__(self, base, name, url):
        self.name = name
        workdir = os.path.join(base, name)
        os.makedirs(workdir)
        host_key = 'host = "%s"\n' % HOST_KEY[name] if name in HOST_KEY else ""
        self.milter = Milter(workdir, POLICY.format(url=url, spool=os.path.join(workdir, "spool.sqlite"),
                                                    host_key=host_key))
        self.postfix = PostfixHarness(os.path.join(workdir, "postfix"), milter=self.milter.socket,
                                      myhostname=name)

    def start(self):
        self.milter.start()
        self.postfix.start()
        return self

    def stop(self):
        self.postfix.stop()
        self.milter.stop()


class FleetCase(unittest.TestCase):
    database = None  # set by subclasses
    durable = False

    @classmethod
    def setUpClass(cls):
        why = pg_store_built()
        if why:
            raise unittest.SkipTest(why)
        cls.db = Database(cls.database, cls.durable)
        cls.base = tempfile.mkdtemp(prefix="tpm-e2e-%s." % cls.__name__)
        os.chmod(cls.base, 0o755)
        cls.mx = {}
        try:
            for name in HOSTS:
                cls.mx[name] = MxHost(cls.base, name, cls.db.url).start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        import shutil
        for h in cls.mx.values():
            h.stop()
        if not os.environ.get("E2E_KEEP"):
            shutil.rmtree(cls.base, ignore_errors=True)


class FleetTwoMxHosts(FleetCase):
    database = "fleet"
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            for host, mix in MIX.items():
                pf = cls.mx[host].postfix
                for kind, n in mix.items():
                    (sender, rcpt, tls), want_code, _ = KINDS[kind]
                    for _ in range(n):
                        r = pf.send(mail_from=sender, rcpts=[rcpt], tls=tls)
                        got = r.data_end if want_code == 250 else (r.mail if r.mail and not r.mail.ok else r.rcpt(rcpt))
                        if got is None or got.code != want_code:
                            raise AssertionError("%s on %s: want %d, got %s\n%s" % (kind, host, want_code, got,
                                                                                   r.transcript))
            # SIGTERM: each milter flushes what it holds before it exits.
            for h in cls.mx.values():
                h.milter.stop()
        except BaseException:
            cls.tearDownClass()
            raise

    def expected_rows(self, host=None):
        """{(host, stage, rules, result, action): count} for what was sent."""
        want = {}
        for h, mix in MIX.items():
            if host and h != host:
                continue
            for kind, n in mix.items():
                for stage, rule, result, action in KINDS[kind][2]:
                    key = (STORED[h], stage, rule, result, action)
                    want[key] = want.get(key, 0) + n
        return want

    def test_database_holds_every_decision_of_both_hosts_with_its_host(self):
        total = sum(self.expected_rows().values())
        n, _ = self.db.wait_count(total, timeout=15)
        rows = self.db.query("SELECT host, stage, rules, result, action, count(*) FROM observations"
                             " GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5")
        got = {tuple(r[:5]): int(r[5]) for r in rows}
        self.assertEqual(got, self.expected_rows(), "rows in PostgreSQL (%d, want %d)" % (n, total))

    def test_each_milter_recorded_its_policy_version(self):
        # SPEC: at start (and at every reload) the time, host, SHA-256 of the
        # policy file and mode; one start each here.
        import hashlib
        got = sorted(tuple(r) for r in self.db.query("SELECT host, sha256, mode FROM policy_versions"))
        want = sorted((STORED[h], hashlib.sha256(open(self.mx[h].milter.policy_path, "rb").read()).hexdigest(),
                       "enforce") for h in HOSTS)
        self.assertEqual(got, want)

    def report(self, *args):
        """A report over 30 days: whole days, read from the summaries (--raw: from every row)."""
        policy = self.mx[HOSTS[0]].milter.policy_path
        return subprocess.run([BINARY, "-c", policy, "report", "--since", "30d"] + list(args),
                              capture_output=True, text=True, timeout=120)

    def test_summaries_say_what_every_row_says(self):
        """Real mail from two MTAs: report, report --evidence and report
        --against print the same from the summaries as from every row."""
        stricter = os.path.join(os.path.dirname(self.mx[HOSTS[0]].milter.policy_path), "stricter.toml")
        with open(stricter, "w") as f:
            f.write('[defaults]\nrequire_tls = true\nmin_version = "TLSv1.3"\naction = "reject"\n'
                    '[[partner]]\nname = "acme"\nsenders = ["acme.test"]\nclients = ["127.0.0.0/8"]\n'
                    'require_tls = true\nmin_version = "TLSv1.3"\naction = "tempfail"\n')
        for args in (["--format", "json"], ["--evidence", "--format", "json"], ["--against", stricter],
                     ["--format", "json", "--host", STORED[HOSTS[1]]]):
            with self.subTest(args=args):
                t0 = time.time()
                summaries, rows = self.report(*args), self.report("--raw", *args)
                t1 = time.time()
                self.assertEqual(summaries.returncode, 0, summaries.stderr)
                self.assertEqual(rows.returncode, 0, rows.stderr)
                self.assertEqual(summaries.stderr, "", "no note: this release's summaries were read")
                # The window ends at each run's own now: a second may pass between the two.
                self.assertEqual(without_now(summaries.stdout, t0, t1), without_now(rows.stdout, t0, t1))
                self.assertIn("acme", summaries.stdout)

    def report_sessions(self, host=None):
        """{rule: sessions} and {domain: sessions} as report --format json says
        them (sender-side decisions only), optionally for one --host."""
        import json
        p = self.report("--format", "json", *(["--host", STORED[host]] if host else []))
        if host and unknown_option(p, "--host"):
            self.skipTest("report has no --host yet: %s" % p.stderr.strip())
        self.assertEqual(p.returncode, 0, p.stderr)
        j = json.loads(p.stdout)
        return ({t["name"]: t["sessions"] for t in j["rules"]}, {t["name"]: t["sessions"] for t in j["domains"]})

    def want_sessions(self, host=None):
        rules, domains = {}, {}
        for h, mix in MIX.items():
            if host and h != host:
                continue
            for kind, n in mix.items():
                (sender, _, _), _, obs = KINDS[kind]
                for stage, rule, _, _ in obs:
                    if stage == "rcpt":
                        continue  # report tallies sender-side decisions (MAIL FROM and the message)
                    rules[rule] = rules.get(rule, 0) + n
                    d = sender.split("@")[1]
                    domains[d] = domains.get(d, 0) + n
        return rules, domains

    def test_report_covers_both_hosts_exactly(self):
        self.assertEqual(self.report_sessions(), self.want_sessions())

    def test_report_host_filter_gives_each_host_its_own_counts(self):
        for host in HOSTS:
            with self.subTest(host=host):
                self.assertEqual(self.report_sessions(host), self.want_sessions(host))

    def test_report_evidence_counts_both_hosts_exactly(self):
        import csv
        import hashlib
        import io
        p = self.report("--evidence", "--format", "csv")
        if unknown_option(p, "--evidence"):
            self.skipTest("report has no --evidence yet: %s" % p.stderr.strip())
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = {(r["kind"], r["rule"]): r for r in csv.DictReader(io.StringIO(p.stdout)) if r["month"] == "total"}
        n = lambda kind: sum(mix.get(kind, 0) for mix in MIX.values())  # noqa: E731
        want = {("partner", "acme"): (n("pass"), n("plaintext_refused")),
                ("partner", "beta"): (0, n("old_tls_tempfailed")),
                ("recipient", "hr"): (0, n("rcpt_refused"))}
        got = {k: (int(rows[k]["messages"]), int(rows[k]["refused"])) for k in want if k in rows}
        self.assertEqual(got, want, "(messages, refused) per rule, both hosts:\n" + p.stdout)
        # Each host and the policy version it ran, where that host's messages are.
        acme = rows[("partner", "acme")]
        for host in HOSTS:
            sha = hashlib.sha256(open(self.mx[host].milter.policy_path, "rb").read()).hexdigest()
            with self.subTest(host=host):
                self.assertIn(STORED[host], acme["hosts"])
                self.assertIn(sha, acme["policy_versions"])


def without_now(text, t0, t1):
    """text with the times between t0 and t1 (when a report ran: its window's
    end) as NOW, and the window's length in seconds left out."""
    import calendar

    def now(m):
        t = calendar.timegm(time.strptime(m.group(0), "%Y-%m-%dT%H:%M:%SZ"))
        return "NOW" if t0 - 1 <= t <= t1 + 1 else m.group(0)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", now, text)
    return re.sub(r'"seconds": \d+', '"seconds": N', text)


# ------------------------------------------------------------------ faults

def smtp_message(port, sender, marker):
    """One message on one plaintext connection. Returns (seconds from connect
    to QUIT's reply, seconds from the end of data to its reply, the code of
    that reply)."""
    data = build_message(sender, ["u@dest.test"], marker=marker)
    t0 = time.monotonic()
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="load.test", timeout=60)
    try:
        s.ehlo()
        s.mail(sender)
        s.rcpt("u@dest.test")
        code, _ = s.docmd("DATA")
        if code != 354:
            return time.monotonic() - t0, 0.0, code
        s.send(smtplib.quotedata(data.decode()).encode() + b"\r\n.\r\n")
        t1 = time.monotonic()
        code, _ = s.getreply()
        dot = time.monotonic() - t1
        s.quit()
    finally:
        s.close()
    return time.monotonic() - t0, dot, code


class Load:
    """Paced mail from `threads` clients, one message per connection, each
    sample tagged with the phase it started and ended in."""

    def __init__(self, ports, sender, rate=16.0, threads=4):
        self.ports, self.sender, self.interval = ports, sender, threads / rate
        self.threads = threads
        self.phase = "warmup"  # smtpd processes start, caches fill: not measured
        self.samples = []  # (phase at start, phase at end, total s, dot s, code)
        self.errors = []
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def _run(self, i):
        n = 0
        next_at = time.monotonic() + i * self.interval / self.threads
        while not self._stop.is_set():
            delay = next_at - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                break
            next_at = max(next_at + self.interval, time.monotonic())
            port = self.ports[(i + n) % len(self.ports)]
            n += 1
            start_phase = self.phase
            try:
                total, dot, code = smtp_message(port, self.sender, "%d-%d" % (i, n))
            except (OSError, smtplib.SMTPException) as e:
                with self._lock:
                    self.errors.append("%s: %r" % (start_phase, e))
                continue
            with self._lock:
                self.samples.append((start_phase, self.phase, total, dot, code))

    def __enter__(self):
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(self.threads)]
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=90)
        return False

    def accepted(self):
        return sum(1 for s in self.samples if s[4] == 250)

    def latencies(self, phase, which=2):
        return sorted(s[which] for s in self.samples if s[0] == s[1] == phase)


def p95(values):
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))] if values else float("nan")


def kill_postmaster(pg):
    """SIGKILL to the postmaster, as a crash; waits until it and its backends
    are gone, so that the next start finds no live pid in postmaster.pid."""
    pid = pg._postmaster_pid()
    pids = [pid] + pg._backend_pids()
    os.kill(pid, signal.SIGKILL)
    end = time.monotonic() + 20
    while any(os.path.exists("/proc/%d" % p) for p in pids) and time.monotonic() < end:
        time.sleep(0.05)
    if os.path.exists("/proc/%d" % pid):  # a zombie PID 1 has not reaped: its pid still answers kill(0)
        os.unlink(os.path.join(pg.data, "postmaster.pid"))
    pg._started = False


class FleetOutage(FleetCase):
    """PostgreSQL goes away for OUTAGE seconds while both hosts take mail."""
    database = "outage"
    durable = True

    def outage(self, tag, take_down):
        domain = "%s.fault.test" % tag
        ports = [self.mx[h].postfix.port for h in HOSTS]
        t_start = time.monotonic()
        with Load(ports, "load@" + domain) as load:
            time.sleep(2.0)
            load.phase = "up"
            time.sleep(min(6.0, OUTAGE / 5 + 2))
            load.phase = "down"
            take_down()
            time.sleep(OUTAGE)
            load.phase = "restarting"
            _PG.start()
            load.phase = "after"
            time.sleep(2.0)
        sent = load.accepted()
        n, waited = self.db.wait_count(sent, "sender = 'load@%s'" % domain, timeout=60)
        up, down = load.latencies("up"), load.latencies("down")
        up_dot, down_dot = load.latencies("up", 3), load.latencies("down", 3)
        codes = sorted({s[4] for s in load.samples})
        print("\n  %s: %d messages accepted (%d up, %d down), %d rows after %.1f s of drain, %.0f s in all; "
              "connect-to-QUIT ms p50/p95/max up %.0f/%.0f/%.0f down %.0f/%.0f/%.0f; "
              "end-of-data reply ms p95 up %.1f down %.1f"
              % (tag, sent, len(up), len(down), n, waited, time.monotonic() - t_start,
                 1000 * statistics.median(up), 1000 * p95(up), 1000 * up[-1],
                 1000 * statistics.median(down), 1000 * p95(down), 1000 * down[-1],
                 1000 * p95(up_dot), 1000 * p95(down_dot)), flush=True)
        self.assertEqual(load.errors, [], "SMTP errors under load")
        self.assertEqual(codes, [250], "every message accepted")
        self.assertGreater(len(down), 10 * OUTAGE / 30, "too few messages while the database was down")
        logs = "\n".join(l for h in self.mx.values() for l in h.milter.log().splitlines() if "observ" in l)
        self.assertEqual(n, sent, "observations in PostgreSQL after the spool drained; the milters said:\n" + logs)
        # Mail never waits for the database: a robust bound on shared cores.
        self.assertLessEqual(p95(down), 2 * p95(up) + 0.05, "p95 latency while down vs up")
        self.assertLessEqual(down[-1], max(2.0, 3 * up[-1]), "slowest message while down")
        for h in self.mx.values():
            self.assertIsNone(h.milter.proc.proc.poll(), "milter of %s died:\n%s" % (h.name, h.milter.log()))

    def test_postgresql_stopped_for_30s_under_load(self):
        self.outage("stopped", lambda: _PG.stop())

    def test_postmaster_killed_for_30s_under_load(self):
        self.outage("killed", lambda: kill_postmaster(_PG))


if __name__ == "__main__":
    unittest.main()
