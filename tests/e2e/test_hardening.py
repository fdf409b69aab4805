"""Attacks that once fooled the milter, behind a real Postfix and
a real Sendmail on loopback: a protected recipient spelled differently, and
forged copies of our header that spell our authserv-id differently."""

import smtplib
import unittest

from milter_fixture import StackCase, for_each_mta
from postfix_harness import client_ssl_context

POLICY = """
[milter]
mode = "enforce"
recipient_delimiter = "+"

[header]
authserv_id = "mx.e2e.test"
strip_forged = true

[defaults]
require_tls = false
action = "annotate"

[[recipient]]
name = "hr"
recipients = ["hr@dest.test"]
require_tls = true
min_version = "TLSv1.3"
action = "reject"
"""

HEADER = "X-Transport-Security"

# Each is hr@dest.test to Postfix (or to a relay that does what Postfix does).
HR_SPELLINGS = [
    "<hr@dest.test>",
    "<HR@Dest.TEST>",
    "<hr@dest.test.>",
    '<"hr"@dest.test>',
    '<"h\\r"@dest.test>',
    "<hr+x@dest.test>",
    "<hr+@dest.test>",
    "<hr%dest.test@dest.test>",
    "<hr%dest.test@relay.test>",
    "<dest.test!hr@dest.test>",
    "<@relay.test:hr@dest.test>",
    '<"hr@dest.test"@relay.test>',
]
# Other mailboxes.
OTHERS = ["<hr2@dest.test>", "<hrx@dest.test>", "<h.r@dest.test>", "<hr@dest.test.evil>", "<+hr@dest.test>"]


class Session:
    """One SMTP connection with raw MAIL/RCPT commands: every byte of the
    address reaches Postfix as written here (smtplib.rcpt would re-parse it)."""

    def __init__(self, port, tls):
        self.s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=30)
        self.s.ehlo()
        if tls:
            self.s.starttls(context=client_ssl_context(tls))
            self.s.ehlo()

    def rcpt(self, address):
        """The reply to RCPT TO:address in a fresh transaction."""
        self.s.docmd("RSET")
        code, _ = self.s.docmd("MAIL FROM:<sender@client.test>")
        assert code == 250, code
        code, text = self.s.docmd("RCPT TO:" + address)
        return code, text.decode("utf-8", "replace")

    def close(self):
        try:
            self.s.quit()
        except smtplib.SMTPException:
            pass


@for_each_mta
class Hardening(StackCase):
    policy = POLICY

    def test_protected_recipient_refused_in_every_spelling(self):
        s = Session(self.mx.port, "tlsv1_2")
        try:
            for spelling in HR_SPELLINGS:
                with self.subTest(rcpt=spelling):
                    code, text = s.rcpt(spelling)
                    self.assertEqual(code, 550, "RCPT TO:%s over TLS 1.2 got %d %s" % (spelling, code, text))
                    # Sendmail puts "<address>... " between the status and our text.
                    self.assertTrue(text.startswith("5.7.10 "), text)
                    self.assertRegex(text, r"TLS 1\.3 or newer required for \S+ \(got TLS 1\.2\)$")
            for other in OTHERS:
                with self.subTest(rcpt=other):
                    code, text = s.rcpt(other)
                    self.assertEqual(code, 250, "RCPT TO:%s is another mailbox, got %d %s" % (other, code, text))
        finally:
            s.close()

    def test_protected_recipient_accepted_over_tls13_in_every_spelling(self):
        s = Session(self.mx.port, "tlsv1_3")
        try:
            for spelling in HR_SPELLINGS:
                with self.subTest(rcpt=spelling):
                    code, text = s.rcpt(spelling)
                    self.assertEqual(code, 250, "RCPT TO:%s over TLS 1.3 got %d %s" % (spelling, code, text))
        finally:
            s.close()

    def test_every_forged_spelling_of_our_authserv_id_is_removed(self):
        forged = [
            "mx.e2e.test; version=TLS1_3 cipher=forged bits=256/256; policy=hr result=pass",
            "mx.e2e.test (comment); version=TLS1_3 cipher=forged; policy=hr result=pass",
            "mx.e2e.test 1; version=TLS1_3 cipher=forged; policy=hr result=pass",
            '"mx.e2e.test"; version=TLS1_3 cipher=forged; policy=hr result=pass',
            "mx.e2e.test.; version=TLS1_3 cipher=forged; policy=hr result=pass",
            "(lead) MX.E2E.Test (x (y)) 1; version=TLS1_3 cipher=forged",
        ]
        foreign = [
            "mx.e2e.test.evil.example; version=TLS1_3 cipher=foreign",
            "mx.e2e.tes; version=TLS1_3 cipher=foreign",
        ]
        headers = [(HEADER, v) for v in forged + foreign]
        r = self.mx.send(mail_from="a@client.test", rcpts=["x@dest.test"], tls="tlsv1_3", headers=headers)
        self.assertTrue(r.accepted, r.transcript)
        msg = self.mx.wait_for_message(r.marker)
        values = msg.header(HEADER)
        self.assertEqual(msg.headers[0][0], HEADER, "ours goes on top")
        self.assertTrue(values[0].startswith("mx.e2e.test; version=TLS1_3 cipher=TLS_"), values[0])
        self.assertNotIn("forged", "\n".join(values), "a forged copy survived:\n" + "\n".join(values))
        self.assertEqual(values[1:], foreign, "foreign headers are kept, in order")


if __name__ == "__main__":
    unittest.main()
