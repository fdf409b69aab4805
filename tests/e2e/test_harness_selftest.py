"""Self-test of postfix_harness: a real Postfix 3.7 on loopback delivers plaintext
and TLS 1.0-1.3 mail to the sink, from 127.0.0.1 and 127.0.0.2, several messages
per connection, and carries a milter (echo_milter.py, pymilter) in smtpd_milters.
Run: python3 tests/e2e/run.py [FILTER...]   (root; postfix, swaks, python3-milter)"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import postfix_harness as ph  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, where python3-milter lives


def missing_prereqs():
    if os.geteuid() != 0:
        return "needs root"
    for tool in (ph.POSTFIX, ph.SMTP_SINK, ph.SWAKS, ph.OPENSSL):
        if not os.access(tool, os.X_OK):
            return "missing " + tool
    return None


def have_pymilter():
    return subprocess.run([SYSTEM_PYTHON, "-c", "import Milter"],
                          capture_output=True).returncode == 0


def workdir(tag):
    d = tempfile.mkdtemp(prefix="e2e-%s." % tag)  # /tmp: searchable parents
    os.chmod(d, 0o755)
    return d


REJECT_MAP = "inline:{ {bad@dest.test = REJECT not here} }"


@unittest.skipIf(missing_prereqs(), missing_prereqs())
class PlainPostfix(unittest.TestCase):
    """No milter: what the harness itself promises."""

    @classmethod
    def setUpClass(cls):
        cls.dir = workdir("plain")
        cls.pf = ph.PostfixHarness(cls.dir + "/pf", extra_main_cf={
            "smtpd_recipient_restrictions": "check_recipient_access %s, permit" % REJECT_MAP})
        cls.pf.start()

    @classmethod
    def tearDownClass(cls):
        cls.pf.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def delivered(self, res):
        self.assertTrue(res.accepted, res.transcript)
        self.assertRegex(res.queue_id, r"^[0-9A-F]+$")
        msg = self.pf.wait_for_message(res.marker)
        # Postfix's own Received header comes first, with the queue id.
        self.assertIn(" id %s" % res.queue_id, msg.received_headers()[0])
        return msg

    def test_plaintext_byte_for_byte(self):
        body = "line one\n.leading dot survives\n..two dots\n\nlast\n"
        res = self.pf.send(headers={"Subject": "plain", "X-Extra": "1"}, body=body)
        self.assertEqual(res.mail.code, 250)
        self.assertEqual([r.code for _, r in res.rcpts], [250])
        self.assertEqual(res.data.code, 354)
        self.assertEqual(res.data_end.code, 250)
        msg = self.delivered(res)
        rcvd = msg.received_headers()[0]
        self.assertIn("with ESMTP id", rcvd)
        self.assertNotIn("using TLS", rcvd)
        # Sink content = Postfix's Received header + exactly what was sent.
        sent = res.message.replace(b"\r\n", b"\n")
        self.assertTrue(msg.content.endswith(sent), (msg.content, sent))
        self.assertTrue(msg.content.startswith(b"Received: from client.test (localhost [127.0.0.1])"))
        self.assertEqual(msg.mail_from, "sender@client.test")
        self.assertEqual(msg.rcpt_to, ["rcpt@dest.test"])
        self.assertEqual(msg.header("Subject"), ["plain"])

    def test_tls_versions(self):
        for tls in ph.TLS_VERSIONS:
            with self.subTest(tls=tls):
                res = self.pf.send(tls=tls)
                self.assertTrue(any(l.startswith("<~") for l in res.transcript.splitlines()))
                self.assertEqual(res.tls[0], ph.POSTFIX_TLS_NAME[tls])
                msg = self.delivered(res)
                self.assertIn("(using %s with cipher " % ph.POSTFIX_TLS_NAME[tls],
                              msg.received_headers()[0])
                self.assertIn("with ESMTPS id", msg.received_headers()[0])

    def test_second_client_address(self):
        res = self.pf.send(interface="127.0.0.2", tls="tlsv1_2", ehlo="other.test")
        msg = self.delivered(res)
        # No PTR for 127.0.0.2 here: Postfix calls the client "unknown".
        self.assertIn("from other.test (unknown [127.0.0.2])", msg.received_headers()[0])
        self.assertIn(("unknown", "127.0.0.2"), self.pf.client_names())

    def test_rcpt_replies_per_recipient(self):
        res = self.pf.send(rcpts=["a@dest.test", "bad@dest.test", "c@dest.test"], tls="tlsv1_3")
        self.assertEqual(res.rcpt("a@dest.test").code, 250)
        self.assertEqual(res.rcpt("bad@dest.test").code, 554)
        self.assertIn("not here", res.rcpt("bad@dest.test").text)
        msg = self.delivered(res)
        self.assertEqual(msg.rcpt_to, ["a@dest.test", "c@dest.test"])

    def test_refused_message_not_delivered(self):
        res = self.pf.send(rcpts=["bad@dest.test"])
        self.assertFalse(res.accepted)
        self.assertIsNone(res.data_end)
        self.assertEqual(res.rcpts[0][1].code, 554)
        self.pf.assert_not_delivered(res.marker, wait=0.5)

    def test_two_messages_one_connection(self):
        results = self.pf.send_session([
            {"mail_from": "first@one.test", "rcpts": ["x@dest.test"]},
            {"mail_from": "second@two.test", "rcpts": ["bad@dest.test"]},  # refused: RSET
            {"mail_from": "third@three.test", "rcpts": ["y@dest.test"]},
        ], tls="tlsv1_2")
        self.assertEqual([r.accepted for r in results], [True, False, True])
        self.assertEqual(results[2].tls[0], "TLSv1.2")
        self.assertEqual(results[1].rcpts[0][1].code, 554)
        m1, m3 = self.delivered(results[0]), self.delivered(results[2])
        self.assertEqual((m1.mail_from, m3.mail_from), ("first@one.test", "third@three.test"))
        for m in (m1, m3):
            self.assertIn("using TLSv1.2", m.received_headers()[0])
        # One smtpd session took both: same smtpd pid, and its disconnect line.
        log = self.pf.wait_for_log(r"disconnect from .* mail=3 rcpt=2/3")
        self.assertTrue(log)
        pids = {re.search(r"smtpd\[(\d+)\]: %s: client=" % r.queue_id, self.pf.maillog()).group(1)
                for r in (results[0], results[2])}
        self.assertEqual(len(pids), 1)


@unittest.skipIf(missing_prereqs(), missing_prereqs())
class Lifecycle(unittest.TestCase):
    """Harnesses one after another; nothing left running afterwards."""

    def test_sequential_harnesses_leave_nothing(self):
        d = workdir("life")
        try:
            seen = []
            for i in range(2):
                t0 = time.monotonic()
                with ph.PostfixHarness("%s/pf%d" % (d, i)) as pf:
                    res = pf.send(tls="tlsv1_3")
                    pf.wait_for_message(res.marker)
                    sink_pid, port, cfg = pf._sink.pid, pf.port, pf.config_dir
                    self.assertTrue(ph.processes_of_config(cfg))
                seen.append(time.monotonic() - t0)
                self.assertEqual(ph.processes_of_config(cfg), [])
                self.assertFalse(os.path.exists("/proc/%d" % sink_pid) and
                                 not ph._is_zombie(sink_pid))
                self.assertFalse(ph._listening("127.0.0.1", port))
                self.assertFalse(ph._listening("127.0.0.2", port))
            self.assertLess(max(seen), 15, seen)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_stop_after_exception(self):
        d = workdir("exc")
        try:
            with self.assertRaises(ZeroDivisionError):
                with ph.PostfixHarness(d + "/pf") as pf:
                    cfg = pf.config_dir
                    1 / 0
            self.assertEqual(ph.processes_of_config(cfg), [])
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_bad_config_reports_why(self):
        d = workdir("bad")
        try:
            with self.assertRaises(ph.HarnessError) as cm:
                with ph.PostfixHarness(d + "/pf", extra_main_cf={"inet_interfaces": "127.0.0.2"}):
                    pass
            self.assertIn("no local interface found for 127.0.0.2", str(cm.exception))
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_unreachable_milter_tempfails(self):
        d = workdir("nomilter")
        try:
            dead = "inet:%d@127.0.0.1" % ph.free_port(("127.0.0.1",))
            with ph.PostfixHarness(d + "/pf", milter=dead) as pf:
                # milter_default_action = tempfail: every command is refused...
                res = pf.send()
                self.assertFalse(res.accepted)
                self.assertEqual(str(res.mail), "451 4.7.1 Service unavailable - try again later")
                # ...STARTTLS too, so a client cannot even get to TLS.
                res = pf.send(tls="tlsv1_2")
                self.assertEqual(dict(res.stages)["STARTTLS"].code, 454, res.transcript)
                self.assertIsNone(res.mail)
        finally:
            shutil.rmtree(d, ignore_errors=True)


@unittest.skipIf(missing_prereqs(), missing_prereqs())
class ClientHostname(unittest.TestCase):
    """A partner "by hostname": 127.0.0.2 named via a private /etc/hosts."""

    def test_private_hosts_names_127_0_0_2(self):
        with open("/etc/hosts", "rb") as f:
            before = f.read()
        d = workdir("hosts")
        try:
            with ph.PostfixHarness(d + "/pf", hosts={"127.0.0.2": "mail.partner.test"}) as pf:
                r2 = pf.send(interface="127.0.0.2", tls="tlsv1_3")
                r1 = pf.send(interface="127.0.0.1")
                m2 = pf.wait_for_message(r2.marker)
                m1 = pf.wait_for_message(r1.marker)
                self.assertIn("(mail.partner.test [127.0.0.2])", m2.received_headers()[0])
                self.assertIn("(localhost [127.0.0.1])", m1.received_headers()[0])
                self.assertIn(("mail.partner.test", "127.0.0.2"), pf.client_names())
                # The system's view is untouched while Postfix runs.
                with open("/etc/hosts", "rb") as f:
                    self.assertEqual(f.read(), before)
        finally:
            shutil.rmtree(d, ignore_errors=True)


@unittest.skipIf(missing_prereqs(), missing_prereqs())
@unittest.skipUnless(have_pymilter(), "python3-milter not installed (apt-get install python3-milter)")
class EchoMilter(unittest.TestCase):
    """A pymilter milter behind a recording tap: the harness wires it into
    smtpd_milters; the tap shows the macros Postfix sends per stage."""

    @classmethod
    def setUpClass(cls):
        cls.dir = workdir("echo")
        port = ph.free_port(("127.0.0.1",))
        cls.sock = "inet:%d@127.0.0.1" % port  # libmilter spelling, translated for Postfix
        cls.log = os.path.join(cls.dir, "echo.jsonl")
        cls.milter = ph.ManagedProcess(
            [SYSTEM_PYTHON, os.path.join(HERE, "echo_milter.py"), cls.sock, cls.log,
             "--reject-rcpt", "no@dest.test"], cls.sock, os.path.join(cls.dir, "echo.out"),
            stop_timeout=0)  # its state is worthless; libmilter is slow to stop
        cls.tap = ph.MilterTap(cls.sock)
        cls.pf = ph.PostfixHarness(cls.dir + "/pf", milter=cls.tap.socket)
        try:
            cls.milter.start()
            cls.tap.start()
            cls.pf.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.pf.stop()
        cls.tap.stop()
        cls.milter.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def echo_lines(self):
        import json
        # The echo milter creates its log at its first line: none yet, no lines.
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(l) for l in f]

    def session(self, **kw):
        """Send one message; return (result, tap events of that SMTP session)
        and keep what the echo milter logged for it in self.seen."""
        n0, e0 = len(self.tap.events), len(self.echo_lines())
        res = self.pf.send(**kw)
        # The milter session ends (quit) a moment after the client's QUIT.
        ph._wait(lambda: any(e["cmd"] == "quit" for e in self.tap.events[n0:]), 10, "milter quit")
        ph._wait(lambda: any(e["stage"] == "close" for e in self.echo_lines()[e0:]), 10, "close")
        self.seen = self.echo_lines()[e0:]
        return res, self.tap.events[n0:]

    def stage_macros(self, events):
        return [(e["stage"], e["macros"]) for e in events if e["cmd"] == "macro"]

    def test_plaintext_macros_and_header(self):
        res, ev = self.session(headers={"Subject": "echo plain"})
        self.assertTrue(res.accepted, res.transcript)
        msg = self.pf.wait_for_message(res.marker)
        self.assertEqual(msg.header("X-Echo-Milter"), ["seen tls=None"])
        sm = self.stage_macros(ev)
        self.assertEqual([s for s, _ in sm], ["connect", "helo", "mail", "rcpt", "data", "eoh", "eom"])
        d = dict(sm)
        self.assertEqual(set(d["connect"]), {"j", "{daemon_name}", "{daemon_addr}", "v", "_"})
        self.assertEqual(d["connect"]["_"], "localhost [127.0.0.1]")
        self.assertEqual(d["helo"], {})  # plaintext: no TLS macros at all
        self.assertEqual(set(d["mail"]), {"{mail_addr}", "{mail_host}", "{mail_mailer}"})
        self.assertEqual(set(d["rcpt"]), {"{rcpt_addr}", "{rcpt_host}", "{rcpt_mailer}"})
        for st in ("data", "eoh", "eom"):
            self.assertEqual(d[st], {"i": res.queue_id})
        connect = [e for e in ev if e["cmd"] == "connect"][0]
        self.assertEqual(connect["host"], "localhost")
        seen = {e["stage"]: e["macros"] for e in self.seen}
        self.assertNotIn("{tls_version}", seen["mail"])

    def test_tls13_macros(self):
        res, ev = self.session(tls="tlsv1_3", rcpts=["a@dest.test", "b@dest.test"])
        self.assertTrue(res.accepted, res.transcript)
        msg = self.pf.wait_for_message(res.marker)
        self.assertEqual(msg.header("X-Echo-Milter"), ["seen tls=TLSv1.3"])
        cmds = [e["cmd"] for e in ev if e["dir"] == "mta"]
        # STARTTLS: Postfix aborts, then the second EHLO brings the TLS macros.
        i = cmds.index("abort")
        self.assertEqual(cmds[i - 2:i + 3], ["macro", "helo", "abort", "macro", "helo"])
        sm = self.stage_macros(ev)
        self.assertEqual([s for s, _ in sm],
                         ["connect", "helo", "helo", "mail", "rcpt", "rcpt", "data", "eoh", "eom"])
        self.assertEqual(sm[1][1], {})
        self.assertEqual(sm[2][1], {"{tls_version}": "TLSv1.3",
                                    "{cipher}": "TLS_AES_256_GCM_SHA384", "{cipher_bits}": "256"})
        # MAIL/RCPT packets carry no TLS macros: milters read them from the
        # HELO stage (smfi_getsymval searches all stages), as pymilter shows.
        self.assertNotIn("{tls_version}", sm[3][1])
        # The queue file is opened after the first accepted RCPT: "i" from then on.
        self.assertNotIn("i", sm[4][1])
        self.assertEqual(sm[5][1]["i"], res.queue_id)
        seen = {e["stage"]: e["macros"] for e in self.seen}
        self.assertEqual(seen["mail"].get("{tls_version}"), "TLSv1.3")
        self.assertEqual(seen["rcpt"].get("{cipher}"), "TLS_AES_256_GCM_SHA384")

    def test_milter_rcpt_reject_is_per_recipient(self):
        res, ev = self.session(tls="tlsv1_2", rcpts=["ok@dest.test", "no@dest.test"])
        self.assertEqual(res.rcpt("ok@dest.test").code, 250)
        self.assertEqual(res.rcpt("no@dest.test").code, 550)
        self.assertIn("echo milter refuses", res.rcpt("no@dest.test").text)
        self.assertTrue(res.accepted)
        self.assertIn({"cmd": "replycode", "text": "550 5.7.1 echo milter refuses <no@dest.test>"},
                      [{k: e[k] for k in ("cmd", "text")} for e in ev if e["cmd"] == "replycode"])
        self.assertEqual(self.pf.wait_for_message(res.marker).rcpt_to, ["ok@dest.test"])

    def test_unknown_client_name_at_connect(self):
        res, ev = self.session(interface="127.0.0.2")
        self.assertTrue(res.accepted, res.transcript)
        connect = [e for e in ev if e["cmd"] == "connect"][0]
        macros = dict(self.stage_macros(ev))["connect"]
        # The connect callback gets "[ip]" when there is no name; "_" says "unknown".
        self.assertEqual(connect["host"], "[127.0.0.2]")
        self.assertEqual(macros["_"], "unknown [127.0.0.2]")
        self.assertEqual(macros["{daemon_addr}"], "127.0.0.1")

    def test_macro_override(self):
        d = workdir("override")
        try:
            with ph.PostfixHarness(d + "/pf", milter=self.tap.socket,
                                   milter_macros_override={"helo": "{tls_version}",
                                                           "connect": "{client_addr} {client_name}"}) as pf:
                n0 = len(self.tap.events)
                res = pf.send(tls="tlsv1_1")
                self.assertTrue(res.accepted, res.transcript)
                ph._wait(lambda: any(e["cmd"] == "quit" for e in self.tap.events[n0:]), 10, "quit")
                sm = self.stage_macros(self.tap.events[n0:])
                self.assertEqual(sm[0], ("connect", {"{client_addr}": "127.0.0.1",
                                                     "{client_name}": "localhost"}))
                self.assertEqual(sm[2], ("helo", {"{tls_version}": "TLSv1.1"}))
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
