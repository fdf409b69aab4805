"""The Sendmail harness itself: stock milter macro lists in its .cf, STARTTLS
offered, contrib/sendmail.mc's filter line in use, and nothing left behind
(no process, no work directory, /etc untouched)."""

import hashlib
import os
import re
import smtplib
import unittest

import sendmail_harness as sh
from milter_fixture import sendmail_mc_filter_lines

WATCHED = ("/etc/hosts", "/etc/nsswitch.conf", "/etc/mail", "/etc/postfix/main.cf")


def fingerprint():
    out = {}
    for p in WATCHED:
        if os.path.isdir(p):
            out[p] = sorted(os.listdir(p))
        elif os.path.exists(p):
            with open(p, "rb") as f:
                out[p] = hashlib.sha256(f.read()).hexdigest()
        else:
            out[p] = None
    return out


def stock_macro_lists(cfhead):
    """{stage: list} as Sendmail's own cfhead.m4 defines confMILTER_MACROS_*."""
    with open(cfhead) as f:
        return {m.group(1).lower(): m.group(2) for m in
                re.finditer(r"define\(`confMILTER_MACROS_(\w+)', `+(.*?)'+\)", f.read())}


class SendmailHarnessSelftest(unittest.TestCase):
    def test_stock_macro_lists_starttls_and_nothing_left_behind(self):
        before = fingerprint()
        h = sh.SendmailHarness(milter="inet:9@127.0.0.1", filter_lines=sendmail_mc_filter_lines())
        with h:
            self.assertEqual(fingerprint(), before, "the harness changed files under /etc")
            with open(h.cf_path) as f:
                cf = f.read()
            stock = stock_macro_lists(os.path.join(h.root, sh.CF_DIR_IN_DEB, "m4", "cfhead.m4"))
            self.assertEqual(sorted(stock), ["connect", "envfrom", "envrcpt", "eom", "helo"])
            for stage, macros in stock.items():
                self.assertIn("O Milter.macros.%s=%s\n" % (stage, macros), cf)
            self.assertEqual(len(re.findall(r"^O Milter\.macros\.\w+=", cf, re.M)), len(stock), cf)
            # contrib/sendmail.mc's line, with the harness's socket.
            want = sendmail_mc_filter_lines() % {"socket": "inet:9@127.0.0.1"}
            flags = re.search(r"`(S=[^']*)'", want).group(1)
            self.assertRegex(cf, r"(?m)^Xtlspolicy-milter, %s$" % re.escape(flags))
            s = smtplib.SMTP("127.0.0.1", h.port, local_hostname="client.test", timeout=30)
            try:
                s.ehlo()
                self.assertTrue(s.has_extn("starttls"), s.esmtp_features)
            finally:
                s.close()
            pids = h._our_pids()
            self.assertTrue(pids, "no sendmail process of ours while running")
        self.assertEqual(h._our_pids(), [])
        self.assertFalse(os.path.exists(h.workdir), h.workdir)
        self.assertEqual(fingerprint(), before)
