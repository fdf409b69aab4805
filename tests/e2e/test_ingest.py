"""Outbound deliveries read back from a real MTA's log: one private Postfix
client (and then a Sendmail 8.17 client) delivers to loopback servers offering
TLS 1.3 with a certificate from a test CA, TLS 1.2 with a self-signed one,
TLS 1.0 only, no STARTTLS, a server that closes the connection in the middle
of the TLS handshake, and an address where nothing listens; half of the
destinations are in the table `export postfix-tls-policy` wrote (encrypt,
TLS 1.2 or newer), half not. `ingest` reads that MTA's log and must give
exactly one record per recipient delivery attempt, with the facts and the
verdict each delivery had. Then journald: the same lines through a private
systemd-journald and journalctl, and a restart from its cursor; and a
follower killed with SIGKILL mid-log that, restarted, neither loses nor
counts twice.

Routing as in test_directions: no DNS, each domain's address from a private
/etc/hosts, the servers' one port as smtp_tcp_port, so the policy table is
looked up by recipient domain as in production.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from postfix_harness import HarnessError, PostfixHarness, _wait
from sendmail_harness import SendmailHarness

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("TLSPOLICY_BIN", os.path.join(TOP, "build", "tlspolicy-milter"))
OPENSSL = "/usr/bin/openssl"
JOURNALD = "/lib/systemd/systemd-journald"
# Set to a directory to keep the MTAs' logs there (the golden corpus in
# tests/golden/ingest/ was taken from them).
KEEP_LOGS = os.environ.get("INGEST_KEEP_LOGS")

ONLY = {
    "TLSv1": "!SSLv2:!SSLv3:!TLSv1.1:!TLSv1.2:!TLSv1.3",
    "TLSv1.2": "!SSLv2:!SSLv3:!TLSv1:!TLSv1.1:!TLSv1.3",
    "TLSv1.3": "!SSLv2:!SSLv3:!TLSv1:!TLSv1.1:!TLSv1.2",
}


def only(version):
    return ["-o", "smtpd_tls_protocols=" + ONLY[version], "-o", "smtpd_tls_mandatory_protocols=" + ONLY[version]]


MODERN, LEGACY, PLAIN, SELFSIGNED, MIDWAY, REFUSED = ("127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6",
                                                       "127.0.0.7", "127.0.0.8")
# Each server's domains: in the exported table, opportunistic, and (modern)
# one the client verifies by name with a "secure" entry of its own.
HOSTS = {
    MODERN: ["modern.test", "modern-open.test", "verified.test"],
    LEGACY: ["legacy.test", "legacy-open.test"],
    PLAIN: ["plain.test", "plain-open.test"],
    SELFSIGNED: ["selfsigned.test", "selfsigned-open.test"],
    MIDWAY: ["midway.test", "midway-open.test"],
    REFUSED: ["refused.test"],
}

POLICY = """
[defaults]
require_tls = false

[[partner]]
name = "partners"
senders = ["modern.test", "selfsigned.test", "legacy.test", "plain.test", "midway.test"]
require_tls = true
min_version = "TLSv1.2"
action = "reject"

[[partner]]
name = "open-partners"
senders = ["modern-open.test", "selfsigned-open.test", "legacy-open.test", "plain-open.test", "midway-open.test"]
min_version = "TLSv1.2"

[[partner]]
name = "certified"
senders = ["verified.test"]
require_client_cert = true
"""


def run(*args, timeout=60, stdin=None):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=timeout, input=stdin)


def openssl(*args):
    p = subprocess.run([OPENSSL] + list(args), capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise HarnessError("openssl %s: %s" % (" ".join(args), p.stderr))


def make_ca(d):
    """A test CA and a server certificate from it for the modern server's names."""
    ca, ca_key, leaf, leaf_key = (os.path.join(d, n) for n in ("ca.pem", "ca.key", "leaf.pem", "leaf.key"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-days", "30", "-subj", "/CN=Ingest Test CA", "-keyout", ca_key, "-out", ca)
    csr = os.path.join(d, "leaf.csr")
    openssl("req", *ec, "-subj", "/CN=modern.test", "-keyout", leaf_key, "-out", csr)
    ext = os.path.join(d, "leaf.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:modern.test,DNS:modern-open.test,DNS:verified.test\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "30",
            "-extfile", ext, "-out", leaf)
    os.chmod(leaf_key, 0o600)
    return ca, leaf, leaf_key


class MidwayServer(threading.Thread):
    """SMTP on MIDWAY:port that offers STARTTLS, says 220 to it, reads the
    client's hello and closes the connection: a handshake cut in the middle.
    A client that comes back without STARTTLS gets its mail accepted."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((MIDWAY, port))
        self.sock.listen(8)
        self.handshakes = 0

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        try:
            f = c.makefile("rb")
            c.sendall(b"220 midway.test ESMTP\r\n")
            in_data = False
            for line in f:
                if in_data:
                    if line in (b".\r\n", b".\n"):
                        in_data = False
                        c.sendall(b"250 2.0.0 queued\r\n")
                    continue
                verb = line.split(b" ")[0].strip().upper()
                if verb in (b"EHLO", b"HELO"):
                    c.sendall(b"250-midway.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
                elif verb == b"STARTTLS":
                    c.sendall(b"220 2.0.0 go ahead\r\n")
                    c.recv(4096)  # the ClientHello, then nothing
                    self.handshakes += 1
                    return
                elif verb == b"DATA":
                    c.sendall(b"354 go on\r\n")
                    in_data = True
                elif verb == b"QUIT":
                    c.sendall(b"221 bye\r\n")
                    return
                else:
                    c.sendall(b"250 2.0.0 ok\r\n")
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.sock.close()


class PrivateJournald:
    """A systemd-journald of our own: started in a private mount namespace
    whose /run is a tmpfs, with its sockets and journal files bound from
    `workdir`, so nothing of the system's journal is touched; syslog(3)
    clients reach it at .dev_log, journalctl reads .directory."""

    def __init__(self, workdir):
        self.sockets = os.path.join(workdir, "sockets")
        self.files = os.path.join(workdir, "files")
        for d in (self.sockets, self.files):
            os.makedirs(d, exist_ok=True)
        self.dev_log = os.path.join(self.sockets, "dev-log")
        with open("/etc/machine-id") as f:
            self.directory = os.path.join(self.files, f.read().strip())
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
             'mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal /run/log/journal && '
             'mount --bind "$0" /run/systemd/journal && mount --bind "$1" /run/log/journal && '
             'exec "$2"', self.sockets, self.files, JOURNALD],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        _wait(lambda: os.path.exists(self.dev_log) or self.proc.poll() is not None, 10, "journald to listen")
        if self.proc.poll() is not None:
            raise HarnessError("systemd-journald exited %s" % self.proc.returncode)

    def stop(self):
        # SIGKILL: on SIGTERM this journald has been seen to leave /run/log
        # behind on the host; its files are complete either way.
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait()
        self.proc = None

    def log(self, lines):
        """Sends syslog lines (as a mail log holds them) to journald as their
        programs would: one logger(1) per run of lines of one tag and pid."""
        rx = re.compile(r"^\S+ +\S+ \S+ \S+ ([^\s\[]+)\[(\d+)\]: (.*)$")
        runs = []
        for l in lines:
            m = rx.match(l)
            if not m:
                continue
            if runs and runs[-1][0] == (m.group(1), m.group(2)):
                runs[-1][1].append(m.group(3))
            else:
                runs.append(((m.group(1), m.group(2)), [m.group(3)]))
        for (tag, pid), messages in runs:
            subprocess.run(["logger", "-u", self.dev_log, "-t", tag, "--id=" + pid],
                           input="\n".join(messages) + "\n", text=True, check=True, timeout=30)

    def short(self, *matches):
        """What journalctl prints in the classic syslog form."""
        p = subprocess.run(["journalctl", "--directory=" + self.directory, "--no-pager", "--quiet", "-o", "short",
                            "--all"] + list(matches), capture_output=True, text=True, timeout=30)
        return p.stdout


# Module-wide: one set of servers and one journald for every client below.
_tmp = None
_servers = None
_midway = None
_ca = None
_journald = None


def setUpModule():
    global _tmp, _servers, _midway, _ca, _journald
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root for Postfix")
    _tmp = tempfile.mkdtemp(prefix="ingest.")
    os.chmod(_tmp, 0o755)
    _ca, leaf, leaf_key = make_ca(_tmp)
    servers = {
        MODERN: only("TLSv1.3") + ["-o", "smtpd_tls_cert_file=" + leaf, "-o", "smtpd_tls_key_file=" + leaf_key],
        LEGACY: only("TLSv1"),
        PLAIN: ["-o", "smtpd_tls_security_level=none"],
        SELFSIGNED: only("TLSv1.2"),
    }
    _servers = PostfixHarness(os.path.join(_tmp, "servers"), myhostname="servers.test", extra_smtpd=servers,
                              extra_main_cf={"smtpd_recipient_restrictions":
                                             "check_recipient_access inline:{reject@selfsigned-open.test=REJECT}"})
    _servers.start()
    try:
        _midway = MidwayServer(_servers.port)
        _midway.start()
        _journald = PrivateJournald(os.path.join(_tmp, "journald"))
        _journald.start()
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    # In one run of tests/e2e/run.py, test_ingest_store sets this module up
    # again after this module's own tests: nothing of one set-up may be taken
    # for the next, least of all the cached log of a Postfix client whose
    # directory is gone (its set-up failed so in make check).
    global _tmp, _servers, _midway, _ca, _journald, _postfix_log
    _postfix_log = None
    if _journald:
        _journald.stop()
    if _midway:
        _midway.close()
    if _servers:
        _servers.stop()
    if _tmp and not os.environ.get("E2E_KEEP"):
        shutil.rmtree(_tmp, ignore_errors=True)
    _tmp = _servers = _midway = _ca = _journald = None


def keep_log(name, text):
    if KEEP_LOGS:
        os.makedirs(KEEP_LOGS, exist_ok=True)
        with open(os.path.join(KEEP_LOGS, name), "w") as f:
            f.write(text)


def policy_path():
    path = os.path.join(_tmp, "policy.toml")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(POLICY)
    return path


def ingest(mta, *args, stdin=None):
    """Runs ingest with the module's policy; (records, stderr, exit status)."""
    if "--output" not in args:
        args = ("--output", "-") + tuple(args)  # records on standard output, not into a store
    r = run("-c", policy_path(), "ingest", mta, *args, stdin=stdin)
    records = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    return records, r.stderr, r.returncode


def delivery_lines(log, program):
    """(queue id, recipient, status) of every delivery status line, read with
    a regular expression of their own, not the product's parser."""
    if program == "postfix":
        rx = re.compile(r"postfix/smtp\[\d+\]: (\w+): to=<([^>]*)>,.* status=(\w+) ")
        return sorted(rx.findall(log))
    out = []
    rx = re.compile(r"(?:sendmail|sm-mta)\[\d+\]: (\w+): to=(.*?), (?:ctladdr=.*?, )?delay=.*mailer=esmtp.*stat=(\w+)")
    for qid, rcpts, stat in rx.findall(log):
        for r in rcpts.split(","):
            out.append((qid, r.strip("<>"), stat))
    return sorted(out)


def facts(rec):
    """The facts a test states about a record."""
    return (rec["status"], rec["transport"], rec["tls_version"], rec["cert_verification"], rec["tls_reason"],
            rec["result"], ",".join(rec["rules"]), ",".join(rec["failed"]))


def by_recipient(records):
    got = {}
    for r in records:
        got.setdefault(r["recipient"], []).append(facts(r))
    return got


# Every recipient the Postfix client sends to, in the order sent, with the
# facts its record must have: status, transport, TLS version, certificate as
# logged, TLS the reason, result, rules, failed requirements.
POSTFIX_EXPECTED = [
    # in the exported table (encrypt, TLS 1.2 or newer), rule "partners"
    ("a@modern.test", ("sent", "tls", "TLSv1.3", "trusted", False, "pass", "partners", "")),
    ("b@modern.test", ("sent", "tls", "TLSv1.3", "trusted", False, "pass", "partners", "")),
    ("a@selfsigned.test", ("sent", "tls", "TLSv1.2", "untrusted", False, "pass", "partners", "")),
    ("a@legacy.test", ("deferred", "plaintext", "", "", True, "fail", "partners", "require_tls")),
    ("a@plain.test", ("deferred", "plaintext", "", "", True, "fail", "partners", "require_tls")),
    ("a@midway.test", ("deferred", "plaintext", "", "", True, "fail", "partners", "require_tls")),
    # opportunistic, rule "open-partners" (min_version only)
    ("a@modern-open.test", ("sent", "tls", "TLSv1.3", "trusted", False, "pass", "open-partners", "")),
    ("b@modern-open.test", ("sent", "tls", "TLSv1.3", "trusted", False, "pass", "open-partners", "")),
    ("a@selfsigned-open.test", ("sent", "tls", "TLSv1.2", "untrusted", False, "pass", "open-partners", "")),
    ("reject@selfsigned-open.test", ("bounced", "tls", "TLSv1.2", "untrusted", False, "pass", "open-partners", "")),
    ("a@legacy-open.test", ("sent", "tls", "TLSv1", "untrusted", False, "fail", "open-partners", "min_version")),
    ("a@plain-open.test", ("sent", "plaintext", "", "", False, "none", "open-partners", "")),
    ("b@plain-open.test", ("sent", "plaintext", "", "", False, "none", "open-partners", "")),
    # Postfix 3.7 does not fall back to plaintext after a failed handshake
    # at level "may" with the last server: it defers.
    ("a@midway-open.test", ("deferred", "plaintext", "", "", True, "none", "open-partners", "")),
    ("a@refused.test", ("deferred", "no_connection", "", "", False, "none", "", "")),
    # verified by name ("secure" in the extra table), rule "certified"
    ("a@verified.test", ("sent", "tls", "TLSv1.3", "verified", False, "pass", "certified", "")),
]

_postfix_log = None


def postfix_log():
    """The log of a Postfix client that sent to every POSTFIX_EXPECTED
    recipient (run once for the module; the client is stopped after)."""
    global _postfix_log
    if _postfix_log:
        return _postfix_log
    d = os.path.join(_tmp, "postfix-client")
    os.makedirs(d)
    os.chmod(d, 0o755)
    r = run("-c", policy_path(), "export", "postfix-tls-policy")
    if r.returncode != 0:
        raise AssertionError("export failed: " + r.stderr)
    exported, extra = os.path.join(d, "exported"), os.path.join(d, "extra")
    with open(exported, "w") as f:
        f.write(r.stdout)
    with open(extra, "w") as f:
        f.write("verified.test secure match=verified.test\n")
    client = PostfixHarness(
        os.path.join(d, "pf"), myhostname="client.test", hosts=HOSTS,
        extra_services=["reuse     unix  -       -       n       -       -       smtp\n"
                        "  -o smtp_tls_connection_reuse=yes",
                        "tlsproxy  unix  -       -       n       -       0       tlsproxy"],
        extra_main_cf={
            "relayhost": "",
            "smtp_tls_security_level": "may",
            "smtp_tls_policy_maps": "hash:%s, hash:%s" % (extra, exported),
            "smtp_tls_CAfile": _ca,
            "smtp_dns_support_level": "disabled",
            "smtp_tcp_port": str(_servers.port),
            "smtp_tls_loglevel": "1",
            # Two messages each to these over one connection (conn_use=2):
            # plaintext, and TLS kept open by tlsproxy (the reuse transport).
            "smtp_connection_cache_destinations": "plain-open.test, modern-open.test",
            "smtp_connection_cache_time_limit": "30s",
            "connection_cache_ttl_limit": "30s",
            # Bounces to the sender go nowhere, so that they add no delivery.
            "transport_maps": "inline:{modern-open.test=reuse:, client.test=discard:}",
        })
    client.start()
    try:
        for table in (extra, exported):
            p = subprocess.run(["postmap", "-c", client.config_dir, "hash:" + table],
                               capture_output=True, text=True, timeout=30)
            if p.returncode != 0:
                raise AssertionError("postmap %s: %s" % (table, p.stderr))
        # One message per recipient, but a@ and b@modern.test together; the
        # second to each cached destination once the first is out.
        n = 0
        for rcpts in (["a@modern.test", "b@modern.test"], ["a@modern-open.test"], ["a@plain-open.test"],
                      ["a@selfsigned.test"], ["a@legacy.test"], ["a@plain.test"], ["a@midway.test"],
                      ["a@selfsigned-open.test"], ["reject@selfsigned-open.test"], ["a@legacy-open.test"],
                      ["a@midway-open.test"], ["a@refused.test"], ["a@verified.test"]):
            r = client.send(rcpts=rcpts)
            if not r.accepted:
                raise AssertionError("%s not queued by the client: %s" % (rcpts, r))
            n += len(rcpts)
        for first, second in (("a@modern-open.test", "b@modern-open.test"), ("a@plain-open.test", "b@plain-open.test")):
            client.wait_for_log(r"to=<%s>,.*status=sent" % re.escape(first), timeout=30)
            if not client.send(rcpts=[second]).accepted:
                raise AssertionError("%s not queued" % second)
            n += 1
        _wait(lambda: len(delivery_lines(client.maillog(), "postfix")) >= n, 60,
              "a status line for each of %d recipients" % n)
        time.sleep(0.3)  # postlogd writes a moment late
        _postfix_log = os.path.join(d, "mail.log")
        shutil.copyfile(client.maillog_path, _postfix_log)
        keep_log("postfix-3.7-client.log", client.maillog())
    finally:
        client.stop()
    return _postfix_log


class PostfixClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.log_path = postfix_log()
        with open(cls.log_path) as f:
            cls.log = f.read()

    def test_one_record_per_recipient_delivery_attempt(self):
        records, err, code = ingest("postfix", self.log_path)
        self.assertEqual(code, 0, err)
        self.assertEqual(sorted((r["queue_id"], r["recipient"], r["status"]) for r in records),
                         delivery_lines(self.log, "postfix"))
        # Every line accounted for, once.
        m = re.search(r"ingest: (\d+) lines: (\d+) deliveries", err)
        self.assertIsNotNone(m, err)
        self.assertEqual((int(m.group(1)), int(m.group(2))), (self.log.count("\n"), len(records)), err)

    def test_each_delivery_has_its_facts_and_verdict(self):
        records, err, code = ingest("postfix", self.log_path)
        self.assertEqual(code, 0, err)
        got = by_recipient(records)
        for rcpt, want in POSTFIX_EXPECTED:
            with self.subTest(rcpt=rcpt):
                self.assertEqual(got.get(rcpt), [want])
        self.assertEqual(len(records), len(POSTFIX_EXPECTED))

    def test_reused_connections(self):
        records, err, code = ingest("postfix", self.log_path)
        by = {r["recipient"]: r for r in records}
        # The second message to each cached destination: the same connection;
        # Postfix 3.7 logs a TLS connection kept by tlsproxy at each reuse.
        self.assertEqual(by["b@plain-open.test"]["conn_use"], 2)
        self.assertEqual(by["b@modern-open.test"]["conn_use"], 2)
        self.assertRegex(self.log, r"Trusted TLS connection reused to modern-open\.test")
        for r in records:
            if r["relay_host"]:
                self.assertEqual(r["relay_port"], _servers.port)
        self.assertEqual((by["a@modern.test"]["relay_address"], by["a@modern.test"]["cipher_bits"]), (MODERN, 256))

    def test_standard_input_gives_the_same_records(self):
        from_file, _, _ = ingest("postfix", self.log_path)
        from_stdin, err, code = ingest("postfix", "-", stdin=self.log)
        self.assertEqual(code, 0, err)
        self.assertEqual(from_stdin, from_file)

    def test_sendmail_parser_finds_nothing_here(self):
        records, err, code = ingest("sendmail", self.log_path)
        self.assertEqual((code, records), (0, []), err)
        self.assertRegex(err, r"skipped \d+ \(other programs \d+")


class SendmailClient(unittest.TestCase):
    """Sendmail 8.17 as the client of the same servers, logging through
    syslog(3) into the private journald (no table: Sendmail has no export; it
    takes STARTTLS where offered). Its CA file holds the test CA, so the
    modern server's certificate verifies (verify=OK)."""

    EXPECTED = [
        ("a@modern-open.test", ("sent", "tls", "TLSv1.3", "ok", False, "pass", "open-partners", "")),
        ("b@modern-open.test", ("sent", "tls", "TLSv1.3", "ok", False, "pass", "open-partners", "")),
        ("c@modern-open.test", ("sent", "tls", "TLSv1.3", "ok", False, "pass", "open-partners", "")),
        ("a@selfsigned-open.test", ("sent", "tls", "TLSv1.2", "fail", False, "pass", "open-partners", "")),
        ("a@legacy-open.test", ("sent", "tls", "TLSv1", "fail", False, "fail", "open-partners", "min_version")),
        ("a@plain-open.test", ("sent", "plaintext", "", "", False, "none", "open-partners", "")),
        ("a@verified.test", ("sent", "tls", "TLSv1.3", "ok", False, "pass", "certified", "")),
        ("a@refused.test", ("deferred", "no_connection", "", "", False, "none", "", "")),
    ]

    @classmethod
    def setUpClass(cls):
        d = os.path.join(_tmp, "sendmail-client")
        os.makedirs(d)
        os.chmod(d, 0o755)
        mta = SendmailHarness(os.path.join(d, "sm"), hosts=HOSTS, client_ca=_ca, relay_port=_servers.port,
                              myhostname="client.sendmail.test", syslog_socket=_journald.dev_log)
        mta.start()
        try:
            n = 0
            for rcpts in (["a@modern-open.test"], ["b@modern-open.test", "c@modern-open.test"],
                          ["a@selfsigned-open.test"], ["a@legacy-open.test"], ["a@plain-open.test"],
                          ["a@verified.test"], ["a@refused.test"]):
                r = mta.send(rcpts=rcpts)
                if not r.accepted:
                    raise AssertionError("%s not queued by Sendmail: %s" % (rcpts, r))
                n += len(rcpts)
            cls.log = ""

            def logged():
                cls.log = _journald.short("SYSLOG_IDENTIFIER=sendmail")
                # One line has two recipients; other stat= lines may come first (so wait for each recipient).
                return all(re.search(r"to=.*<?%s>?,.*\bstat=" % re.escape(rcpt), cls.log)
                           for rcpt, _ in cls.EXPECTED)
            _wait(logged, 30, "Sendmail's stat= lines in the journal")
        finally:
            mta.stop()
        cls.log_path = os.path.join(d, "mail.log")
        with open(cls.log_path, "w") as f:
            f.write(cls.log)
        keep_log("sendmail-8.17-client.log", cls.log)

    def test_one_record_per_recipient_with_its_facts(self):
        records, err, code = ingest("sendmail", self.log_path)
        self.assertEqual(code, 0, err)
        self.assertEqual(sorted((r["queue_id"], r["recipient"]) for r in records),
                         sorted((q, r) for q, r, _ in delivery_lines(self.log, "sendmail")))
        got = by_recipient(records)
        for rcpt, want in self.EXPECTED:
            with self.subTest(rcpt=rcpt):
                self.assertEqual(got.get(rcpt), [want])
        self.assertEqual(len(records), len(self.EXPECTED))

    def test_the_journal_gives_the_same_facts(self):
        from_file, _, _ = ingest("sendmail", self.log_path)
        from_journal, err, code = ingest("sendmail", "--journal-directory", _journald.directory)
        self.assertEqual(code, 0, err)
        self.assertEqual(by_recipient(from_journal), by_recipient(from_file))


def output_records(path):
    """The delivery records of an --output file, in order."""
    with open(path) as f:
        return [json.loads(l) for l in f if l.startswith('{"type":"delivery"')]


def wait_for_records(path, n, timeout=30):
    def enough():
        return os.path.exists(path) and len(output_records(path)) >= n
    _wait(enough, timeout, "%d records in %s" % (n, path))


class Ingest:
    """`ingest --follow` as a process of its own, to be killed."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([BIN, "-c", policy_path(), "ingest"] + list(args), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def kill(self):
        self.proc.kill()
        self.proc.communicate(timeout=10)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, err


class JournaldCursor(unittest.TestCase):
    """Postfix's lines through the private journald (sent as Postfix sends
    them: syslog, its tag and pid), read back with journalctl's cursor."""

    @classmethod
    def setUpClass(cls):
        with open(postfix_log()) as f:
            cls.lines = f.read().splitlines()
        cls.want = by_recipient(ingest("postfix", postfix_log())[0])
        # Cut right after the first TLS line: its deliveries come after the
        # restart, so the TLS facts must travel in the checkpoint's state.
        cls.cut = next(i for i, l in enumerate(cls.lines) if "TLS connection established to modern.test" in l) + 1
        cls.logged = 0  # how many of the lines are in the journal

    def log_up_to(self, n):
        _journald.log(self.lines[type(self).logged:n])
        type(self).logged = max(n, type(self).logged)

    # (test_1_, test_2_: the second reads what the first logged.)
    def test_1_restart_from_the_cursor(self):
        out = os.path.join(_tmp, "journal-restart.jsonl")
        self.log_up_to(self.cut)
        records, err, code = ingest("postfix", "--journal-directory", _journald.directory, "--output", out)
        self.assertEqual(code, 0, err)
        first = len(output_records(out))
        self.log_up_to(len(self.lines))
        for _ in range(2):  # the second run finds nothing new
            records, err, code = ingest("postfix", "--journal-directory", _journald.directory, "--output", out)
            self.assertEqual(code, 0, err)
        got = output_records(out)
        self.assertLess(first, len(got))
        self.assertEqual(by_recipient(got), self.want)
        with open(out) as f:
            self.assertRegex(f.read().splitlines()[-1], r'"position":"journal s=')

    def test_2_follow_sees_new_entries(self):
        out = os.path.join(_tmp, "journal-follow.jsonl")
        self.log_up_to(len(self.lines))  # what the journal holds already: read from its first entry on
        follower = Ingest("postfix", "--journal-directory", _journald.directory, "--follow", "--output", out)
        try:
            wait_for_records(out, len(POSTFIX_EXPECTED))
            _journald.log([
                "Dec 06 07:16:44 client postfix/smtp[4711]: Verified TLS connection established to "
                "late.test[192.0.2.9]:25: TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)",
                "Dec 06 07:16:44 client postfix/smtp[4711]: 4AB12CD: to=<x@late.test>, relay=late.test[192.0.2.9]:25, "
                "delay=0.1, delays=0/0/0.05/0.05, dsn=2.0.0, status=sent (250 ok)"])
            wait_for_records(out, len(POSTFIX_EXPECTED) + 1)
        finally:
            code, err = follower.stop()
        self.assertEqual(code, 0, err)
        late = output_records(out)[-1]
        self.assertEqual((late["recipient"], late["transport"], late["tls_version"], late["cert_verification"]),
                         ("x@late.test", "tls", "TLSv1.3", "verified"))


class FollowKilled(unittest.TestCase):
    """A follower killed with SIGKILL twice while the log grows, cut lines
    and a rotation (rename, new file) in between, restarted each time: its
    output holds what one reading of the whole log gives, no record twice."""

    def test_kill_restart_rotate(self):
        with open(postfix_log(), "rb") as f:
            text = f.read()
        want, _, _ = ingest("postfix", postfix_log())
        d = os.path.join(_tmp, "follow")
        os.makedirs(d)
        log, out = os.path.join(d, "mail.log"), os.path.join(d, "out.jsonl")
        # Eight slices that end in the middle of lines; but the file is
        # rotated (after the fourth) at a line end, as a syslog daemon does.
        cuts = [len(text) * k // 8 for k in range(9)]
        cuts[4] = text.index(b"\n", cuts[4]) + 1
        follower = Ingest("postfix", "--follow", "--output", out, log)
        try:
            for k in range(8):
                with open(log, "ab") as f:
                    f.write(text[cuts[k]:cuts[k + 1]])
                time.sleep(0.3)
                if k in (1, 5):
                    follower.kill()
                    follower = Ingest("postfix", "--follow", "--output", out, log)
                if k == 3:
                    os.rename(log, log + ".1")
            wait_for_records(out, len(want))
            time.sleep(0.5)  # nothing more may come
        finally:
            code, err = follower.stop()
        self.assertEqual(code, 0, err)
        got = output_records(out)
        self.assertEqual(len(got), len(want))
        self.assertEqual(got, want)


if __name__ == "__main__":
    unittest.main()
