"""tlspolicy-milter behind a real Postfix 3.7 and a real Sendmail 8.17 on
loopback (each class runs once per MTA, see milter_fixture): verdicts at MAIL
FROM and RCPT TO, the header byte for byte, monitor mode, forged headers,
custom replies, reloads and a clean stop."""

import os
import re
import signal
import smtplib
import unittest
import uuid

from milter_fixture import StackCase, for_each_mta
from postfix_harness import build_message, client_ssl_context

POLICY = """
[milter]
mode = "enforce"

[header]
authserv_id = "mx.e2e.test"
strip_forged = true

[defaults]
require_tls = false
action = "tempfail"

[[partner]]
name = "acme"
senders = ["acme.test"]
require_tls = true
min_version = "TLSv1.2"
action = "reject"

[[partner]]
name = "subs"
senders = [".sub.test"]
require_tls = true
action = "reject"

[[partner]]
name = "billing"
senders = ["billing@corp.test"]
require_tls = true
min_version = "TLSv1.3"
action = "tempfail"

[[partner]]
name = "byip"
clients = ["127.0.0.2"]
require_tls = true
min_version = "TLSv1.1"
action = "reject"

[[partner]]
name = "byhost"
hostnames = ["mail.partner.test"]
require_tls = true
min_version = "TLSv1.3"
action = "reject"

[[partner]]
name = "custom"
senders = ["custom.test"]
require_tls = true
action = "reject"
reply = "custom.test mail must use TLS, see contract 7.3 (100% sure)"

[[recipient]]
name = "hr"
recipients = ["hr@dest.test"]
require_tls = true
min_version = "TLSv1.3"
action = "reject"
"""

HEADER = "X-Transport-Security"


def stamp(msg):
    return msg.header(HEADER)


class StackTest(StackCase):
    policy = POLICY

    def assertStamped(self, res, tail):
        """Delivered, with exactly one header of ours, first of all headers,
        whose TLS facts agree with the MTA's own Received header."""
        self.assertTrue(res.accepted, res.transcript)
        msg = self.mx.wait_for_message(res.marker)
        self.assertEqual(len(stamp(msg)), 1, msg.text)
        self.assertEqual(msg.headers[0][0], HEADER, "our header must be inserted at the top")
        self.assertEqual(stamp(msg)[0], "mx.e2e.test; %s; %s" % (self.received_facts(msg), tail))
        return msg


@for_each_mta
class Enforce(StackTest):
    hosts = {"127.0.0.3": "mail.partner.test"}

    def test_plaintext_from_partner_rejected_at_mail(self):
        r = self.mx.send(mail_from="a@acme.test")
        self.assertRefused(r.mail, 550, "5.7.10 TLS required for acme.test (got plaintext)")
        self.assertFalse(r.accepted)

    def test_tls10_from_partner_rejected(self):
        r = self.mx.send(mail_from="a@acme.test", tls="tlsv1")
        self.assertRefused(r.mail, 550, "5.7.10 TLS 1.2 or newer required for acme.test (got TLS 1.0)")

    def test_tls11_from_partner_rejected(self):
        r = self.mx.send(mail_from="a@acme.test", tls="tlsv1_1")
        self.assertRefused(r.mail, 550, "5.7.10 TLS 1.2 or newer required for acme.test (got TLS 1.1)")

    def test_tls12_from_partner_passes(self):
        r = self.mx.send(mail_from="a@acme.test", tls="tlsv1_2")
        self.assertStamped(r, "policy=acme result=pass")

    def test_tls13_from_partner_passes(self):
        r = self.mx.send(mail_from="a@acme.test", tls="tlsv1_3")
        msg = self.assertStamped(r, "policy=acme result=pass")
        self.assertIn("version=TLS1_3 cipher=TLS_", stamp(msg)[0])

    def test_plaintext_from_anyone_else_stamped_none(self):
        r = self.mx.send(mail_from="friend@other.test")
        self.assertStamped(r, "policy=default result=none")

    def test_subdomain_entry(self):
        r = self.mx.send(mail_from="x@eu.sub.test")
        self.assertRefused(r.mail, 550, "TLS required for eu.sub.test (got plaintext)")
        r = self.mx.send(mail_from="x@sub.test")  # the parent itself is not covered
        self.assertStamped(r, "policy=default result=none")

    def test_address_entry_tempfails(self):
        r = self.mx.send(mail_from="billing@corp.test", tls="tlsv1_2")
        self.assertRefused(r.mail, 450, "4.7.10 TLS 1.3 or newer required for corp.test (got TLS 1.2)")
        r = self.mx.send(mail_from="sales@corp.test", tls="tlsv1_2")
        self.assertStamped(r, "policy=default result=none")

    def test_partner_by_client_ip(self):
        r = self.mx.send(mail_from="x@ip.test", tls="tlsv1", interface="127.0.0.2")
        self.assertRefused(r.mail, 550, "TLS 1.1 or newer required for ip.test (got TLS 1.0)")
        r = self.mx.send(mail_from="x@ip.test", tls="tlsv1_1", interface="127.0.0.2")
        self.assertStamped(r, "policy=byip result=pass")

    def test_partner_by_hostname(self):
        r = self.mx.send(mail_from="x@host.test", tls="tlsv1_2", interface="127.0.0.3")
        self.assertRefused(r.mail, 550, "TLS 1.3 or newer required for host.test (got TLS 1.2)")
        r = self.mx.send(mail_from="x@host.test", tls="tlsv1_3", interface="127.0.0.3")
        self.assertStamped(r, "policy=byhost result=pass")

    def test_custom_reply(self):
        r = self.mx.send(mail_from="x@custom.test")
        self.assertRefused(r.mail, 550, "5.7.10 custom.test mail must use TLS, see contract 7.3 (100% sure)")

    def test_recipient_rule_refuses_only_that_recipient(self):
        r = self.mx.send(mail_from="friend@other.test", rcpts=["hr@dest.test", "bob@dest.test"], tls="tlsv1_2")
        self.assertRefused(r.rcpt("hr@dest.test"), 550, "TLS 1.3 or newer required for hr@dest.test (got TLS 1.2)")
        self.assertEqual(r.rcpt("bob@dest.test").code, 250)
        msg = self.assertStamped(r, "policy=default result=none")
        self.assertEqual(msg.rcpt_to, ["bob@dest.test"])

    def test_recipient_rule_passes_over_tls13(self):
        r = self.mx.send(mail_from="friend@other.test", rcpts=["hr@dest.test"], tls="tlsv1_3")
        self.assertStamped(r, "policy=default,hr result=pass")

    def test_two_messages_one_connection_decided_afresh(self):
        results = self.mx.send_session([
            {"mail_from": "a@acme.test"},
            {"mail_from": "billing@corp.test"},
            {"mail_from": "friend@other.test", "rcpts": ["hr@dest.test", "bob@dest.test"]},
            {"mail_from": "a@acme.test"},
        ], tls="tlsv1_2")
        self.assertStamped(results[0], "policy=acme result=pass")
        self.assertRefused(results[1].mail, 450, "TLS 1.3 or newer required for corp.test")
        self.assertRefused(results[2].rcpt("hr@dest.test"), 550, "hr@dest.test")
        self.assertStamped(results[2], "policy=default result=none")
        self.assertStamped(results[3], "policy=acme result=pass")

    def smtp(self, interface="127.0.0.1"):
        s = smtplib.SMTP("127.0.0.1", self.mx.port, local_hostname="client.test", timeout=30,
                         source_address=(interface, 0))
        self.addCleanup(s.close)
        return s

    def data(self, s, mail_from, rcpts):
        """DATA with a marked message; returns (code, marker)."""
        marker = uuid.uuid4().hex
        code, _ = s.data(build_message(mail_from, rcpts, marker=marker))
        return code, marker

    def test_plaintext_refusal_then_starttls_on_one_connection(self):
        """Refused in plaintext, then STARTTLS on the same connection: the next
        MAIL FROM is decided on the TLS facts. (Postfix sends the milter an
        ABORT at STARTTLS, Sendmail only a second HELO: nothing may linger.)"""
        s = self.smtp()
        s.ehlo()
        code, text = s.mail("a@acme.test")
        self.assertEqual(code, 550, text)
        self.assertEqual(s.starttls(context=client_ssl_context("tlsv1_2"))[0], 220)
        s.ehlo()
        self.assertEqual(s.mail("a@acme.test")[0], 250)
        self.assertEqual(s.rcpt("bob@dest.test")[0], 250)
        code, marker = self.data(s, "a@acme.test", ["bob@dest.test"])
        self.assertEqual(code, 250)
        s.quit()
        msg = self.mx.wait_for_message(marker)
        self.assertIn("version=TLS1_2 ", self.received_facts(msg))
        self.assertEqual(stamp(msg), ["mx.e2e.test; %s; policy=acme result=pass" % self.received_facts(msg)])

    def test_rset_between_transactions_leaves_nothing_behind(self):
        s = self.smtp()
        s.ehlo()
        s.starttls(context=client_ssl_context("tlsv1_2"))
        s.ehlo()
        self.assertEqual(s.mail("friend@other.test")[0], 250)
        self.assertEqual(s.rcpt("hr@dest.test")[0], 550)
        self.assertEqual(s.rcpt("bob@dest.test")[0], 250)
        s.rset()  # inside a transaction: the MTA tells the milter (ABORT)
        self.assertEqual(s.mail("billing@corp.test")[0], 450)
        s.rset()
        self.assertEqual(s.mail("a@acme.test")[0], 250)
        self.assertEqual(s.rcpt("bob@dest.test")[0], 250)
        code, marker = self.data(s, "a@acme.test", ["bob@dest.test"])
        self.assertEqual(code, 250)
        s.quit()
        msg = self.mx.wait_for_message(marker)
        # Neither the hr rule of the first transaction nor billing of the second.
        self.assertEqual(stamp(msg), ["mx.e2e.test; %s; policy=acme result=pass" % self.received_facts(msg)])
        self.milter.wait_for_log(r"stage=message action=accept result=pass policy=acme .*sender=<a@acme\.test> "
                                 r"rcpts=1 version=TLS1_2")

    def test_forged_header_removed_foreign_kept(self):
        forged = "mx.e2e.test; version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256; policy=acme result=pass"
        foreign = "mx.other.test; version=TLS1_3 cipher=X bits=1/1; policy=p result=pass"
        r = self.mx.send(mail_from="friend@other.test", headers=[
            (HEADER, forged), (HEADER, foreign), ("x-transport-security", "MX.E2E.TEST; forged=lowercase")])
        self.assertTrue(r.accepted, r.transcript)
        msg = self.mx.wait_for_message(r.marker)
        self.assertEqual(stamp(msg), ["mx.e2e.test; version=none cipher=none bits=0/0; policy=default result=none",
                                      foreign])

    def test_decision_logged_with_queue_id(self):
        r = self.mx.send(mail_from="a@acme.test", tls="tlsv1_2")
        self.assertTrue(r.accepted)
        self.milter.wait_for_log(r"%s: stage=message action=accept result=pass policy=acme client=127\.0\.0\.1 "
                                 r"hostname=\S+ sender=<a@acme\.test> rcpts=1 version=TLS1_2" % r.queue_id)
        r = self.mx.send(mail_from="a@acme.test", tls="tlsv1")
        self.milter.wait_for_log(r"stage=mail action=reject result=fail policy=acme .*sender=<a@acme\.test> "
                                 r".*reply=\"550 5\.7\.10 TLS 1\.2 or newer required for acme\.test \(got TLS 1\.0\)\"")

    def test_refusals_logged_with_the_queue_id_the_mta_logged(self):
        """The milter's refusal lines carry the queue id the MTA itself logged for
        that refusal: Sendmail has one from MAIL FROM on, Postfix none yet."""
        mark = self.mta.log_mark(self.mx)
        r = self.mx.send(mail_from="qid-mail@acme.test", tls="tlsv1")
        self.assertRefused(r.mail, 550, "TLS 1.2 or newer required for acme.test (got TLS 1.0)")
        qid = self.mta.refusal_queue_id(self.mx, mark, "mail", "qid-mail@acme.test")
        self.assertEqual(qid != "NOQUEUE", self.mta.queue_id_at_mail, qid)
        m = self.milter.wait_for_log(r"(\S+): stage=mail action=reject .*sender=<qid-mail@acme\.test>")
        self.assertEqual(m.group(1), qid)

        mark = self.mta.log_mark(self.mx)
        r = self.mx.send(mail_from="qid-rcpt@other.test", rcpts=["hr@dest.test"], tls="tlsv1_2")
        self.assertRefused(r.rcpt("hr@dest.test"), 550, "TLS 1.3 or newer required for hr@dest.test")
        qid = self.mta.refusal_queue_id(self.mx, mark, "rcpt", "hr@dest.test")
        self.assertEqual(qid != "NOQUEUE", self.mta.queue_id_at_mail, qid)
        m = self.milter.wait_for_log(r"(\S+): stage=rcpt action=reject .*sender=<qid-rcpt@other\.test>")
        self.assertEqual(m.group(1), qid)


@for_each_mta
class Monitor(StackTest):
    policy = POLICY.replace('mode = "enforce"', 'mode = "monitor"')

    def test_never_refuses_but_stamps_fail(self):
        r = self.mx.send(mail_from="a@acme.test", rcpts=["hr@dest.test"], tls="tlsv1")
        self.assertEqual(r.mail.code, 250)
        self.assertStamped(r, "policy=acme,hr result=fail")
        self.milter.wait_for_log(r"%s: stage=message action=would_reject result=fail policy=acme,hr" % r.queue_id)

    def test_tempfail_becomes_accept(self):
        r = self.mx.send(mail_from="billing@corp.test")
        self.assertStamped(r, "policy=billing result=fail")
        self.milter.wait_for_log(r"action=would_tempfail result=fail policy=billing")

    def test_pass_stays_pass(self):
        r = self.mx.send(mail_from="a@acme.test", tls="tlsv1_3")
        self.assertStamped(r, "policy=acme result=pass")


@for_each_mta
class RecipientRulesOnly(StackTest):
    """Nothing on the sender side can refuse, so MAIL FROM is not negotiated:
    the sender side is decided at end of message, recipients at RCPT TO."""
    policy = """
[header]
authserv_id = "mx.e2e.test"

[[partner]]
name = "acme"
senders = ["acme.test"]
require_tls = true
action = "annotate"

[[recipient]]
name = "hr"
recipients = ["hr@dest.test"]
require_tls = true
action = "tempfail"
"""

    def test_recipient_refused_sender_annotated(self):
        r = self.mx.send(mail_from="a@acme.test", rcpts=["hr@dest.test", "bob@dest.test"])
        self.assertEqual(r.mail.code, 250)
        self.assertRefused(r.rcpt("hr@dest.test"), 450, "4.7.10 TLS required for hr@dest.test (got plaintext)")
        self.assertStamped(r, "policy=acme result=fail")
        self.milter.wait_for_log(r"stage=rcpt action=tempfail result=fail policy=hr .*sender=<a@acme\.test> "
                                 r"rcpt=<hr@dest\.test>")
        self.milter.wait_for_log(r"%s: stage=message action=accept result=fail policy=acme .*rcpts=1" % r.queue_id)


@for_each_mta
class AnnotateOnly(StackTest):
    """Nothing can refuse and no recipient rule exists: the milter takes part
    at end of message only, and must still learn the client, the TLS facts
    and the queue id there (Sendmail ignores a milter's end-of-message macro
    list; the MAIL-stage list it honours even when MAIL is not negotiated)."""
    hosts = {"127.0.0.3": "mail.partner.test"}
    policy = """
[header]
authserv_id = "mx.e2e.test"

[[partner]]
name = "byip"
clients = ["127.0.0.2"]
require_tls = true
min_version = "TLSv1.2"
action = "annotate"

[[partner]]
name = "byhost"
hostnames = ["mail.partner.test"]
require_tls = true
action = "annotate"
"""

    def test_partner_by_client_ip_annotated(self):
        r = self.mx.send(mail_from="x@ip.test", tls="tlsv1_1", interface="127.0.0.2")
        self.assertStamped(r, "policy=byip result=fail")
        self.milter.wait_for_log(r"%s: stage=message action=accept result=fail policy=byip client=127\.0\.0\.2 "
                                 r"hostname=unknown sender=<x@ip\.test> version=TLS1_1" % r.queue_id)

    def test_partner_by_hostname_annotated(self):
        r = self.mx.send(mail_from="x@host.test", interface="127.0.0.3")
        self.assertStamped(r, "policy=byhost result=fail")
        self.milter.wait_for_log(r"%s: stage=message action=accept result=fail policy=byhost client=127\.0\.0\.3 "
                                 r"hostname=mail\.partner\.test sender=<x@host\.test> version=none" % r.queue_id)
        r = self.mx.send(mail_from="x@host.test", tls="tlsv1_3", interface="127.0.0.3")
        self.assertStamped(r, "policy=byhost result=pass")


@for_each_mta
class UnixSocketAndMtaName(StackTest):
    """A unix socket with the default mode (0660, group postfix) that the MTA
    reaches (Postfix's smtpd as user postfix, Sendmail as root), and the
    authserv-id taken from the MTA's macro j."""
    policy = POLICY.replace('authserv_id = "mx.e2e.test"\n', "")

    @classmethod
    def socket_for(cls, workdir):
        return "unix:" + os.path.join(workdir, "milter.sock")

    def test_socket_is_0660_group_postfix(self):
        import grp
        st = os.stat(os.path.join(self.dir, "milter.sock"))
        self.assertEqual(st.st_mode & 0o777, 0o660)
        self.assertEqual(grp.getgrgid(st.st_gid).gr_name, "postfix")

    def test_authserv_id_is_the_mta_name_and_forgery_uses_it(self):
        forged = self.mx.myhostname + "; version=TLS1_3 cipher=X bits=1/1; policy=acme result=pass"
        r = self.mx.send(mail_from="a@acme.test", tls="tlsv1_2", headers=[(HEADER, forged)])
        self.assertTrue(r.accepted, r.transcript)
        msg = self.mx.wait_for_message(r.marker)
        self.assertEqual(len(stamp(msg)), 1, msg.text)
        self.assertRegex(stamp(msg)[0], r"^%s; version=TLS1_2 cipher=\S+ bits=\d+/\d+; policy=acme result=pass$"
                         % re.escape(self.mx.myhostname))


@for_each_mta
class Reload(StackTest):
    def setUp(self):
        if self.milter.proc.proc is not None:  # each test starts from POLICY
            self.milter.write_policy(POLICY)
            self.assertEqual(self.milter.reload(), "reloaded policy")

    def test_sighup_changes_verdict_and_broken_file_changes_nothing(self):
        r = self.mx.send(mail_from="a@acme.test", tls="tlsv1")
        self.assertRefused(r.mail, 550, "TLS 1.2 or newer")

        self.milter.write_policy(POLICY.replace('min_version = "TLSv1.2"', 'min_version = "TLSv1"'))
        self.assertEqual(self.milter.reload(signal.SIGHUP), "reloaded policy")
        r = self.mx.send(mail_from="a@acme.test", tls="tlsv1")
        self.assertStamped(r, "policy=acme result=pass")

        self.milter.write_policy(POLICY + '\n[[partner]]\nname = "broken"\nsenders = ["x.test"]\nmin_version = "TLSv9"\n')
        self.assertEqual(self.milter.reload(signal.SIGUSR1), "failed")
        self.assertIn("TLSv9", self.milter.log())
        r = self.mx.send(mail_from="a@acme.test", tls="tlsv1")  # still the reloaded policy
        self.assertStamped(r, "policy=acme result=pass")
        r = self.mx.send(mail_from="a@acme.test")
        self.assertRefused(r.mail, 550, "TLS required for acme.test (got plaintext)")

    def test_session_in_flight_keeps_its_policy(self):
        s = smtplib.SMTP("127.0.0.1", self.mx.port, local_hostname="client.test", timeout=30)
        try:
            s.ehlo()
            s.starttls(context=client_ssl_context("tlsv1"))
            s.ehlo()
            self.assertEqual(s.mail("a@acme.test")[0], 550)
            s.rset()
            self.milter.write_policy(POLICY.replace('min_version = "TLSv1.2"', 'min_version = "TLSv1"'))
            self.assertEqual(self.milter.reload(), "reloaded policy")
            code, text = s.mail("a@acme.test")  # same connection: the policy it started with
            self.assertEqual(code, 550, text)
        finally:
            s.close()
        r = self.mx.send(mail_from="a@acme.test", tls="tlsv1")  # a new connection: the new policy
        self.assertStamped(r, "policy=acme result=pass")

    def test_zz_sigterm_stops_cleanly(self):
        proc = self.milter.proc.proc
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=15), 0)
        self.assertIn("stopped", self.milter.log())
        self.assertNotRegex(self.milter.log(), r"(?i)(assert|abort|segmentation)")


if __name__ == "__main__":
    unittest.main()
