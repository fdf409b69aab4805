"""What Postfix and Sendmail send the milter, seen on the wire (MilterTap
between the MTA and the milter), and that the milter's verdicts come out the
same anyway. Each class runs once per MTA; what differs is stated in the MTA
adapters of milter_fixture (abort_at_starttls, no_ptr_client, sends_alg_bits).
The last class speaks the milter protocol itself, for what no MTA here sends:
TLS macros that are present but empty."""

import os
import re
import shutil
import smtplib
import socket
import struct
import tempfile
import time
import unittest
import uuid

from milter_fixture import Milter, for_each_mta
from postfix_harness import MilterTap, build_message, client_ssl_context

HEADER = "X-Transport-Security"
TLS_MACROS = ("{tls_version}", "{cipher}", "{cipher_bits}", "{alg_bits}")

POLICY = """
[header]
authserv_id = "mx.e2e.test"

[[partner]]
name = "acme"
senders = ["acme.test"]
require_tls = true
min_version = "TLSv1.2"
action = "reject"

[[partner]]
name = "byhost"
hostnames = ["mail.partner.test"]
require_tls = true
action = "reject"

[[recipient]]
name = "hr"
recipients = ["hr@dest.test"]
require_tls = true
action = "reject"
"""


class Tapped:
    """A milter with POLICY behind the MTA, a MilterTap in between."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="tpm-e2e-%s." % cls.__name__)
        os.chmod(cls.dir, 0o755)
        cls.milter = Milter(cls.dir, POLICY).start()
        try:
            cls.tap = MilterTap(cls.milter.socket).start()
            cls.mx = cls.mta.harness(os.path.join(cls.dir, cls.mta.name), "inet:%d@127.0.0.1" % cls.tap.port,
                                     {"127.0.0.3": "mail.partner.test"})
            cls.mx.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "mx", None):
            cls.mx.stop()
        if getattr(cls, "tap", None):
            cls.tap.stop()
        cls.milter.stop()
        if not os.environ.get("E2E_KEEP"):
            shutil.rmtree(cls.dir, ignore_errors=True)

    def connection(self, interface="127.0.0.1"):
        """An SMTP connection, and a function giving the tap's events of it so far."""
        before = {e["conn"] for e in self.tap.events}
        s = smtplib.SMTP("127.0.0.1", self.mx.port, local_hostname="client.test", timeout=30,
                         source_address=(interface, 0))
        self.addCleanup(s.close)

        def events():
            conns = {e["conn"] for e in self.tap.events} - before
            self.assertEqual(len(conns), 1, "expected one milter connection, saw %s" % conns)
            return [e for e in self.tap.events if e["conn"] in conns]
        return s, events

    def mail_macros(self, events):
        """The macros the MTA sent for each MAIL FROM, in order."""
        return [e["macros"] for e in events if e["cmd"] == "macro" and e["stage"] == "mail"]

    def deliver(self, s, mail_from):
        self.assertEqual(s.mail(mail_from)[0], 250)
        self.assertEqual(s.rcpt("bob@dest.test")[0], 250)
        marker = uuid.uuid4().hex
        self.assertEqual(s.data(build_message(mail_from, ["bob@dest.test"], marker=marker))[0], 250)
        s.quit()
        return self.mx.wait_for_message(marker)

    def settle(self, events, cmd="quit"):
        """Waits until the tap has seen the MTA end the milter conversation."""
        deadline = time.time() + 10
        while time.time() < deadline:
            if any(e["cmd"] in (cmd, "quit_nc") for e in events()):
                return events()
            time.sleep(0.05)
        return events()


@for_each_mta
class WhatTheMtaSends(Tapped):
    def test_starttls_after_a_plaintext_refusal(self):
        """Plaintext EHLO, MAIL refused, STARTTLS, EHLO, MAIL accepted: the
        second MAIL sees the TLS facts. Postfix sends ABORT at STARTTLS,
        Sendmail does not: nothing of the plaintext part may linger."""
        s, events = self.connection()
        s.ehlo()
        self.assertEqual(s.mail("a@acme.test")[0], 550)
        s.starttls(context=client_ssl_context("tlsv1_2"))
        s.ehlo()
        msg = self.deliver(s, "a@acme.test")
        self.assertRegex(msg.header(HEADER)[0], r"version=TLS1_2 .* policy=acme result=pass$")
        ev = self.settle(events)
        cmds = [e["cmd"] for e in ev if e["dir"] == "mta" and e["cmd"] != "macro"]
        mails = [i for i, c in enumerate(cmds) if c == "mail"]
        self.assertEqual(len(mails), 2, cmds)
        self.assertEqual("abort" in cmds[mails[0]:mails[1]], self.mta.abort_at_starttls, cmds)
        first, second = self.mail_macros(ev)[:2]
        self.assertFalse([m for m in TLS_MACROS if m in first], first)  # plaintext: absent
        self.assertEqual(second["{tls_version}"], "TLSv1.2")

    def test_client_without_ptr_is_no_hostname(self):
        """127.0.0.2 has no name: the milter must not take what the MTA sends
        in {client_name} for a hostname. From 127.0.0.3 (mail.partner.test,
        forward-confirmed) the byhost rule applies."""
        s, events = self.connection("127.0.0.2")
        s.ehlo()
        s.starttls(context=client_ssl_context("tlsv1_2"))
        s.ehlo()
        msg = self.deliver(s, "x@nohost.test")
        self.assertRegex(msg.header(HEADER)[0], r"policy=default result=none$")
        macros = self.mail_macros(self.settle(events))[0]
        name, resolve = self.mta.no_ptr_client
        self.assertEqual(macros.get("{client_name}"), name, macros)
        self.assertEqual(macros.get("{client_resolve}"), resolve, macros)
        self.milter.wait_for_log(r"stage=message .*client=127\.0\.0\.2 hostname=unknown sender=<x@nohost\.test>")

        s, events = self.connection("127.0.0.3")
        s.ehlo()
        self.assertEqual(s.mail("x@host.test")[0], 550)  # byhost: TLS required
        macros = self.mail_macros(self.settle(events, "mail"))[0]
        self.assertEqual(macros.get("{client_name}"), "mail.partner.test", macros)
        self.assertEqual(macros.get("{client_resolve}"), "OK", macros)

    def test_alg_bits_when_the_mta_sends_them(self):
        """Sendmail sends {alg_bits} (when asked): the header's ALG is that
        value. Postfix sends none: ALG comes from OpenSSL's cipher table."""
        s, events = self.connection()
        s.ehlo()
        s.starttls(context=client_ssl_context("tlsv1_3"))
        s.ehlo()
        msg = self.deliver(s, "x@other.test")
        macros = self.mail_macros(self.settle(events))[0]
        self.assertEqual("{alg_bits}" in macros, self.mta.sends_alg_bits, macros)
        used, alg = re.search(r"bits=(\d+)/(\d+);", msg.header(HEADER)[0]).groups()
        self.assertEqual(used, macros["{cipher_bits}"])
        if self.mta.sends_alg_bits:
            self.assertEqual(alg, macros["{alg_bits}"])
        self.assertEqual(self.received_alg(msg), alg)

    def test_mta_name_where_a_decision_can_be_recorded(self):
        """The milter asks for j, the MTA's own name (the observation's host),
        at MAIL and at RCPT, where a decision can be recorded; each MTA sends
        its own name. (At end of message smfi_getsymval finds MAIL's: Sendmail
        8.17 ignores an end-of-message list.)"""
        s, events = self.connection()
        s.ehlo()
        self.deliver(s, "x@other.test")
        first = {}
        for e in self.settle(events):
            if e["cmd"] == "macro":
                first.setdefault(e["stage"], e["macros"])
        for stage in ("mail", "rcpt"):
            self.assertEqual(first.get(stage, {}).get("j"), self.mx.myhostname, "%s: %s" % (stage, first.get(stage)))

    def received_alg(self, msg):
        return self.mta.received_tls(msg)[3]


# ------------------------------------------------ the milter protocol, by hand

def packet(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


def cstrings(*parts):
    return b"".join(p.encode() + b"\0" for p in parts)


class EmptyTlsMacros(unittest.TestCase):
    """Sendmail 8.17 leaves the TLS macros out in plaintext; older Sendmail
    (and its docs) speak of "" per envelope. An MTA that sends them empty must
    get the plaintext verdict, the same as when they are absent. No MTA here
    sends "", so this test is the MTA: it speaks the milter protocol."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="tpm-e2e-empty.")
        cls.milter = Milter(cls.dir, POLICY).start()
        cls.port = int(re.match(r"inet:(\d+)@", cls.milter.socket).group(1))

    @classmethod
    def tearDownClass(cls):
        cls.milter.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def mail_reply(self, macros):
        """One milter conversation up to MAIL FROM <a@acme.test> with these
        MAIL-stage macros; returns (reply command, text)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            f = s.makefile("rb")

            def read():
                n = struct.unpack(">I", f.read(4))[0]
                body = f.read(n)
                return body[:1], body[1:]
            # Version 6, every action, every protocol step offered.
            s.sendall(packet(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF)))
            cmd, _ = read()
            self.assertEqual(cmd, b"O")
            pairs = []
            for k, v in macros.items():
                pairs += [k, v]
            s.sendall(packet(b"D", b"M" + cstrings(*pairs)))
            s.sendall(packet(b"M", cstrings("<a@acme.test>")))
            cmd, data = read()
            s.sendall(packet(b"Q"))
            return cmd, data.rstrip(b"\0").decode()

    def test_empty_and_absent_are_both_plaintext(self):
        base = {"{client_addr}": "127.0.0.1", "i": "EMPTYTEST"}
        want = ("y", "550 5.7.10 TLS required for acme.test (got plaintext)")
        absent = self.mail_reply(base)
        empty = self.mail_reply(dict(base, **{m: "" for m in TLS_MACROS}))
        tls = self.mail_reply(dict(base, **{"{tls_version}": "TLSv1.2", "{cipher}": "ECDHE-RSA-AES128-GCM-SHA256",
                                            "{cipher_bits}": "128"}))
        self.assertEqual((absent[0].decode(), absent[1]), want)
        self.assertEqual((empty[0].decode(), empty[1]), want)
        self.assertEqual(tls[0], b"c")  # continue: TLS 1.2 satisfies acme
        self.milter.wait_for_log(r"EMPTYTEST: stage=mail action=reject .* version=none cipher=none bits=0/0")
