"""Both directions, live on loopback: `export postfix-tls-policy` loaded with
postmap into a real Postfix client (the smtp delivery agent) that sends to
Postfix servers offering TLS 1.3 only, TLS 1.0 only and no STARTTLS; and
`probe` against those servers, a closed port and servers that are not SMTP.

Routing keeps the recipient domain as the next hop, so the table is looked up
by domain as in production: smtp_dns_support_level = disabled (no MX lookup,
the domain's address from /etc/hosts), a private /etc/hosts (the harness's
hosts=) giving each domain the loopback address of its server, and
smtp_tcp_port set to the servers' one port. A transport or relayhost entry
such as [127.0.0.1]:PORT would make that the next hop and the lookup key.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from postfix_harness import PostfixHarness, free_port

BIN = os.environ.get("TLSPOLICY_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build",
                                                     "tlspolicy-milter"))

# master.cf -o overrides: one protocol version per server (the "!" syntax
# needs no spaces, which master.cf -o values cannot hold).
ONLY = {
    "TLSv1": "!SSLv2:!SSLv3:!TLSv1.1:!TLSv1.2:!TLSv1.3",
    "TLSv1.2": "!SSLv2:!SSLv3:!TLSv1:!TLSv1.1:!TLSv1.3",
    "TLSv1.3": "!SSLv2:!SSLv3:!TLSv1:!TLSv1.1:!TLSv1.2",
}


def only(version):
    return ["-o", "smtpd_tls_protocols=" + ONLY[version], "-o", "smtpd_tls_mandatory_protocols=" + ONLY[version]]


SERVERS = {
    "127.0.0.3": only("TLSv1.3"),
    "127.0.0.4": only("TLSv1"),
    "127.0.0.5": ["-o", "smtpd_tls_security_level=none"],
    "127.0.0.6": only("TLSv1.2"),
}

# Each domain reaches the server at its address.
HOSTS = {
    "127.0.0.3": ["modern.test", "x.hub.test"],
    "127.0.0.4": ["legacy.test", "a.partners.test", "partners.test", "other.test"],
    "127.0.0.5": ["plain.test"],
}

POLICY = """
[defaults]
require_tls = false

[[partner]]
name = "partners"
senders = ["modern.test", "legacy.test", ".partners.test", "boss@other.test"]
require_tls = true
min_version = "TLSv1.2"
action = "reject"

[[partner]]
name = "plain"
senders = ["plain.test", ".hub.test"]
require_tls = true

[[partner]]
name = "aes128"
clients = ["192.0.2.1"]
require_tls = true
ciphers = "ECDHE-RSA-AES128-GCM-SHA256"

[[partner]]
name = "ecdsa"
clients = ["192.0.2.2"]
require_tls = true
ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256"
"""


def run(*args, timeout=30):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=timeout)


class _Server(threading.Thread):
    """A TCP server on loopback that is not SMTP: mode "echo" sends back what
    it reads, "silent" reads and never writes, "garbage" writes a line of
    noise, then waits."""

    def __init__(self, mode):
        super().__init__(daemon=True)
        self.mode = mode
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.commands = []  # what an SMTP-speaking mode was sent

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            if self.mode == "garbage":
                c.sendall(b"\x16\x03\x01 HTTP/1.1 400 nonsense\r\n")
            if self.mode in ("fake-starttls", "plain-smtp"):
                self._smtp(c)
                return
            while True:
                d = c.recv(4096)
                if not d:
                    return
                if self.mode == "echo":
                    c.sendall(d)
        except OSError:
            return

    def _smtp(self, c):
        """fake-starttls: offers STARTTLS, says 220 to it, then sends no TLS;
        plain-smtp: no STARTTLS."""
        f = c.makefile("rb")
        c.sendall(b"220 fake.test ESMTP\r\n")
        for line in f:
            self.commands.append(line.decode("ascii", "replace").rstrip("\r\n"))
            verb = line.split(b" ")[0].strip().upper()
            if verb == b"EHLO" and self.mode == "plain-smtp":
                c.sendall(b"250-fake.test\r\n250 8BITMIME\r\n")
            elif verb == b"QUIT":
                c.sendall(b"221 bye\r\n")
                return
            elif verb == b"EHLO":
                c.sendall(b"250-fake.test\r\n250 STARTTLS\r\n")
            elif verb == b"STARTTLS":
                c.sendall(b"220 go ahead\r\n")
                c.sendall(b"this is not TLS\r\n" * 4)
                return
            else:
                c.sendall(b"500 what\r\n")

    def close(self):
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


class Directions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root for Postfix")
        cls.tmp = tempfile.mkdtemp(prefix="directions.")
        os.chmod(cls.tmp, 0o755)
        cls.policy = os.path.join(cls.tmp, "policy.toml")
        with open(cls.policy, "w") as f:
            f.write(POLICY)
        cls.servers = PostfixHarness(os.path.join(cls.tmp, "servers"), myhostname="servers.test",
                                     extra_smtpd=SERVERS)
        cls.servers.start()
        cls.map = os.path.join(cls.tmp, "tls_policy")
        r = run("-c", cls.policy, "export", "postfix-tls-policy")
        if r.returncode != 0:
            cls.servers.stop()
            raise AssertionError("export failed: %s%s" % (r.stdout, r.stderr))
        with open(cls.map, "w") as f:
            f.write(r.stdout)
        cls.client = PostfixHarness(os.path.join(cls.tmp, "client"), myhostname="client.test", hosts=HOSTS,
                                    extra_main_cf={
                                        "relayhost": "",
                                        "smtp_tls_security_level": "may",
                                        "smtp_tls_policy_maps": "hash:" + cls.map,
                                        "smtp_dns_support_level": "disabled",
                                        "smtp_tcp_port": str(cls.servers.port),
                                        "smtp_tls_loglevel": "1",
                                    })
        try:
            cls.client.start()
            # postmap as Postfix itself reads the table: the client's own main.cf.
            # The smtp client opens the table at its first delivery, after this.
            p = subprocess.run(["postmap", "-c", cls.client.config_dir, "hash:" + cls.map],
                               capture_output=True, text=True, timeout=30)
            if p.returncode != 0:
                raise AssertionError("postmap refused the export: " + p.stderr)
        except BaseException:
            cls.client.stop()
            cls.servers.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.client.stop()
            cls.servers.stop()
        finally:
            if not os.environ.get("E2E_KEEP"):
                shutil.rmtree(cls.tmp, ignore_errors=True)

    # ------------------------------------------------------------- export

    def outcome(self, rcpt, timeout=20):
        """'sent' or 'deferred' as the Postfix client logged it for rcpt."""
        m = self.client.wait_for_log(r"to=<%s>,.*status=(sent|deferred|bounced)" % rcpt.replace(".", r"\."),
                                     timeout=timeout)
        return m.group(1), m.group(0)

    def test_export_drives_a_real_postfix_client(self):
        rcpts = {
            "a@modern.test": "sent",        # required TLS 1.2+, server offers 1.3
            "a@legacy.test": "deferred",    # required TLS 1.2+, server offers 1.0 only
            "a@plain.test": "deferred",     # required TLS, no STARTTLS
            "a@a.partners.test": "deferred",  # .partners.test: subdomains only
            "a@partners.test": "sent",      # ... not the domain itself: opportunistic
            "a@other.test": "sent",         # only an address of it is listed: opportunistic
            "a@x.hub.test": "sent",         # .hub.test requires TLS; TLS 1.3 server
        }
        for rcpt in rcpts:
            r = self.client.send(rcpts=[rcpt])
            self.assertTrue(r.accepted, "%s not queued by the client: %s" % (rcpt, r))
        for rcpt, want in rcpts.items():
            got, line = self.outcome(rcpt)
            self.assertEqual(got, want, line)
        delivered = {m.rcpt_to[0]: m for m in self.servers.wait_for_messages(4)}
        self.assertEqual(set(delivered), {r for r, w in rcpts.items() if w == "sent"})
        # What each delivery used, from the receiving smtpd's Received header.
        self.assertIn("using TLSv1.3", delivered["a@modern.test"].received_headers()[0])
        self.assertIn("using TLSv1 ", delivered["a@partners.test"].received_headers()[0])
        self.assertIn("using TLSv1 ", delivered["a@other.test"].received_headers()[0])
        log = self.client.maillog()
        self.assertRegex(log, r"to=<a@plain\.test>.*TLS is required, but was not offered")
        # The next hop stayed the recipient domain, so the table was looked up by domain.
        for rcpt, addr in (("a@legacy.test", "legacy.test[127.0.0.4]"), ("a@a.partners.test", "a.partners.test[127.0.0.4]"),
                           ("a@modern.test", "modern.test[127.0.0.3]")):
            self.assertRegex(log, r"to=<%s>, relay=%s" % (rcpt.replace(".", r"\."), addr.replace(".", r"\.")
                                                         .replace("[", r"\[").replace("]", r"\]")))

    def test_export_output_is_what_postmap_holds(self):
        got = {}
        for key in ("modern.test", "legacy.test", ".partners.test", "partners.test", "other.test",
                    "boss@other.test", "plain.test", ".hub.test"):
            p = subprocess.run(["postmap", "-c", self.client.config_dir, "-q", key, "hash:" + self.map],
                               capture_output=True, text=True, timeout=10)
            got[key] = p.stdout.strip() or None
        self.assertEqual(got, {
            "modern.test": "encrypt protocols=>=TLSv1.2",
            "legacy.test": "encrypt protocols=>=TLSv1.2",
            ".partners.test": "encrypt protocols=>=TLSv1.2",
            "partners.test": None,
            "other.test": None,
            "boss@other.test": None,
            "plain.test": "encrypt",
            ".hub.test": "encrypt",
        })

    # -------------------------------------------------------------- probe

    def probe(self, target, *more):
        t0 = time.monotonic()
        r = run("-c", self.policy, "probe", target, "--format", "json", "--timeout", "2", *more, timeout=30)
        elapsed = time.monotonic() - t0
        self.assertLess(elapsed, 10, "probe %s took %.1fs" % (target, elapsed))
        try:
            report = json.loads(r.stdout)
        except ValueError:
            self.fail("probe %s printed no JSON (exit %d): %r %r" % (target, r.returncode, r.stdout, r.stderr))
        self.assertEqual(report["exit"], r.returncode)
        return r.returncode, report

    def accepted(self, report):
        return [v["version"] for v in report["versions"] if v["accepted"]]

    def test_probe_finds_the_one_version_each_server_accepts(self):
        port = self.servers.port
        for addr, want in (("127.0.0.3", "TLSv1.3"), ("127.0.0.4", "TLSv1"), ("127.0.0.6", "TLSv1.2")):
            with self.subTest(server=addr):
                code, rep = self.probe("%s:%d" % (addr, port))
                self.assertEqual(code, 0, rep)
                self.assertTrue(rep["starttls"])
                self.assertEqual(self.accepted(rep), [want])
                self.assertEqual([v["version"] for v in rep["versions"]], ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"])
                ok = [v for v in rep["versions"] if v["accepted"]][0]
                self.assertEqual(ok["protocol"], want)
                self.assertGreaterEqual(ok["bits"], 128)
                for v in rep["versions"]:
                    if not v["accepted"]:
                        self.assertEqual(v["stage"], "TLS handshake", v)
                cert = rep["certificate"]
                self.assertEqual(cert["subject"], "CN=servers.test")
                self.assertFalse(cert["verified"])  # self-signed
                self.assertFalse(cert["name_matches"])  # names servers.test, not the address

    def test_probe_partner_requirements(self):
        port = self.servers.port
        code, rep = self.probe("127.0.0.3:%d" % port, "--partner", "partners")
        self.assertEqual(code, 0, rep)
        self.assertTrue(rep["partner"]["met"])
        code, rep = self.probe("127.0.0.4:%d" % port, "--partner", "partners")
        self.assertEqual(code, 7, rep)
        self.assertFalse(rep["partner"]["met"])
        self.assertIn("TLS 1.2 or newer", " ".join(rep["partner"]["details"]))

    def test_probe_partner_cipher_list(self):
        # The TLS 1.2 server picks AES256-GCM when offered everything; offered
        # only the rule's AES128-GCM it agrees, so the rule can be met. An
        # ECDSA suite it cannot do with its RSA key: cannot be met.
        target = "127.0.0.6:%d" % self.servers.port
        code, rep = self.probe(target, "--partner", "aes128")
        self.assertEqual(code, 0, rep)
        self.assertTrue(rep["partner"]["met"], rep)
        self.assertIn("TLSv1.2 offering only the rule's ciphers: ECDHE-RSA-AES128-GCM-SHA256: meets the requirements",
                      rep["partner"]["details"])
        code, rep = self.probe(target, "--partner", "ecdsa")
        self.assertEqual(code, 7, rep)
        self.assertFalse(rep["partner"]["met"], rep)

    def test_probe_no_starttls(self):
        code, rep = self.probe("127.0.0.5:%d" % self.servers.port)
        self.assertEqual(code, 5, rep)
        self.assertFalse(rep["starttls"])
        self.assertTrue(rep["banner"].startswith("220 "), rep)
        self.assertEqual(rep["versions"], [])

    def test_probe_closed_port(self):
        port = free_port(("127.0.0.1",))
        code, rep = self.probe("127.0.0.1:%d" % port)
        self.assertEqual(code, 3, rep)
        self.assertEqual(rep["error"]["stage"], "connect")

    def test_probe_servers_that_are_not_smtp(self):
        for mode in ("echo", "silent", "garbage"):
            with self.subTest(mode=mode):
                srv = _Server(mode)
                srv.start()
                try:
                    code, rep = self.probe("127.0.0.1:%d" % srv.port)
                finally:
                    srv.close()
                self.assertEqual(code, 4, rep)
                self.assertEqual(rep["error"]["stage"], "greeting", rep)
                self.assertEqual(rep["error"]["kind"], "not_smtp" if mode == "garbage" else "timeout", rep)

    def test_weekly_probe_script_keeps_one_json_per_partner(self):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "contrib",
                              "tlspolicy-probe-partners")
        out = os.path.join(self.tmp, "probes")
        targets = os.path.join(self.tmp, "probe-targets")
        with open(targets, "w") as f:
            f.write("# rule  host\npartners 127.0.0.3:%d\nplain 127.0.0.5:%d\n../evil 127.0.0.3:%d\n"
                    % ((self.servers.port,) * 3))
        env = dict(os.environ, TLSPOLICY_CONFIG=self.policy, TLSPOLICY_PROBE_TARGETS=targets,
                   TLSPOLICY_PROBE_DIR=out, TLSPOLICY_BIN=BIN)
        p = subprocess.run(["/bin/sh", script], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, "a bad line fails the run: " + p.stderr)
        self.assertIn("'../evil' cannot be a file name", p.stderr)
        self.assertEqual(sorted(os.listdir(out)), ["partners.json", "plain.json"])
        with open(os.path.join(out, "partners.json")) as f:
            rep = json.load(f)
        self.assertEqual((rep["exit"], rep["partner"]["met"], self.accepted(rep)), (0, True, ["TLSv1.3"]))
        with open(os.path.join(out, "plain.json")) as f:
            rep = json.load(f)
        self.assertEqual((rep["exit"], rep["starttls"], rep["partner"]["met"]), (5, False, False))

    def test_probe_starttls_without_tls(self):
        srv = _Server("fake-starttls")
        srv.start()
        try:
            code, rep = self.probe("127.0.0.1:%d" % srv.port)
        finally:
            srv.close()
        self.assertEqual(code, 6, rep)
        self.assertTrue(rep["starttls"])
        self.assertEqual([(v["accepted"], v["stage"], v["kind"]) for v in rep["versions"]],
                         [(False, "TLS handshake", "tls")] * 4)

    def test_probe_says_ehlo_and_quit_and_never_mail(self):
        srv = _Server("plain-smtp")
        srv.start()
        try:
            code, rep = self.probe("127.0.0.1:%d" % srv.port, "--helo", "probe.example")
        finally:
            srv.close()
        self.assertEqual(code, 5, rep)
        self.assertEqual(srv.commands, ["EHLO probe.example", "QUIT"])
        # Under TLS, as the Postfix server counts a session's commands (only
        # the probe's sessions end without mail=; the client's deliveries have it).
        self.probe("127.0.0.6:%d" % self.servers.port)
        self.servers.wait_for_log(r"disconnect from \S+ ehlo=2 starttls=1 quit=1 commands=4\n")

    def test_probe_text_output(self):
        r = run("-c", self.policy, "probe", "127.0.0.3:%d" % self.servers.port, "--timeout", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^  TLSv1\.3 +accepted +TLS_AES_\w+ \d+/\d+ bits$")
        self.assertRegex(r.stdout, r"(?m)^  TLSv1 +refused +TLS handshake: ")
        self.assertIn("certificate: CN=servers.test", r.stdout)


if __name__ == "__main__":
    unittest.main()
