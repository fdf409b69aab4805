"""`report --suggest` over a store written behind a real Postfix on loopback:
the suggested rules paste into the policy as they are (`--check` passes),
`report --against` over the same window finds no would-be refusal, the
milter enforcing them accepts the window's mail replayed, a partner
that always used TLS 1.3 gets min_version TLSv1.3, and one with a single TLS
1.0 session gets nothing above TLS 1.0."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

from milter_fixture import Stack

POLICY = """
[milter]
mode = "monitor"

[header]
authserv_id = "mx.e2e.test"

[observations]
database = "{db}"

[defaults]
require_tls = false

[[partner]]
name = "alpha"
senders = ["alpha.test"]
min_version = "TLSv1"
action = "reject"
"""

BINARY = os.environ.get("TLSPOLICY_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "tlspolicy-milter"))


def rules(toml):
    """name -> {key: value} of the [[partner]] blocks of a TOML text."""
    out, cur = {}, None
    for line in toml.splitlines():
        if line == "[[partner]]":
            cur = {}
        m = re.match(r'^(\w+) = (.*)$', line)
        if cur is not None and m:
            cur[m.group(1)] = m.group(2)
            if m.group(1) == "name":
                out[m.group(2).strip('"')] = cur
    return out


class SuggestBehindPostfix(unittest.TestCase):
    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="tpm-e2e-suggest.")
        os.chmod(self.base, 0o755)

    def tearDown(self):
        shutil.rmtree(self.base, ignore_errors=True)

    def run_cli(self, *args, check=True):
        r = subprocess.run([BINARY, *args], capture_output=True, text=True)
        if check:
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def test_suggested_rules_paste_check_and_refuse_none(self):
        policy_text = POLICY.format(db=os.path.join(self.base, "obs.sqlite"))
        mix = [  # sender, tls: every one delivered (monitor mode)
            ("a@modern.test", "tlsv1_3"), ("b@modern.test", "tlsv1_3"), ("a@modern.test", "tlsv1_3"),
            ("o@legacy.test", "tlsv1_2"), ("o@legacy.test", "tlsv1_2"), ("o@legacy.test", "tlsv1"),
            ("x@alpha.test", "tlsv1_2"), ("y@alpha.test", "tlsv1_3"),
            ("p@plain.test", "tlsv1_2"), ("p@plain.test", None),
            ("q@quiet.test", "tlsv1_3"),
        ]
        with Stack(os.path.join(self.base, "stack"), policy_text) as stack:
            for sender, tls in mix:
                r = stack.postfix.send(mail_from=sender, tls=tls)
                self.assertTrue(r.accepted, r.transcript)
            stack.milter.proc.stop()  # SIGTERM: the store is flushed before exit
            policy_path = stack.milter.policy_path

        toml = self.run_cli("-c", policy_path, "report", "--suggest", "--since", "3d", "--min-messages", "2",
                            "--format", "toml").stdout
        if os.environ.get("SUGGEST_DUMP"):  # the README's example is this output
            with open(os.environ["SUGGEST_DUMP"], "w") as f:
                f.write(toml)
        got = rules(toml)
        self.assertEqual(got["modern.test"]["min_version"], '"TLSv1.3"', toml)
        self.assertEqual(got["legacy.test"]["min_version"], '"TLSv1"', toml)
        self.assertEqual(got["alpha"]["min_version"], '"TLSv1.2"', toml)  # a CHANGE of the current rule
        self.assertIn("# CHANGE: replace rule alpha", toml)
        self.assertNotIn("plain.test", got)
        self.assertRegex(toml, r"plain\.test: 1 of 2 messages in plaintext")
        self.assertRegex(toml, r"quiet\.test: 1 message, fewer than --min-messages 2")
        self.assertEqual(toml.count("checked as report --against would: 0 would-be refusals in the window"),
                         len(got), toml)

        # Pasted: the current rule alpha replaced by its CHANGE, the rest appended.
        with open(policy_path) as f:
            current = f.read()
        pasted = re.sub(r'\[\[partner\]\]\nname = "alpha"\n(?:[a-z_]+ = .*\n)*', "", current)
        pasted_path = os.path.join(self.base, "pasted.toml")
        with open(pasted_path, "w") as f:
            f.write(pasted + "\n" + toml)
        self.run_cli("-c", pasted_path, "--check")

        csv = self.run_cli("-c", policy_path, "report", "--since", "3d", "--against", pasted_path,
                           "--format", "csv").stdout
        self.assertEqual(csv.strip().splitlines()[1:], [], csv)

        # Loaded into the milter, enforcing: the window's mail replayed is all accepted again.
        enforced = pasted.replace('mode = "monitor"', 'mode = "enforce"') + "\n" + toml
        with Stack(os.path.join(self.base, "replay"), enforced) as stack:
            for sender, tls in mix:
                r = stack.postfix.send(mail_from=sender, tls=tls)
                self.assertTrue(r.accepted, "%s over %s: %s" % (sender, tls, r.transcript))
            # and what the rules are for still happens: TLS 1.2 from modern.test is refused
            r = stack.postfix.send(mail_from="a@modern.test", tls="tlsv1_2")
            self.assertFalse(r.accepted, r.transcript)

        # One step stricter than legacy.test's suggestion refuses its messages.
        stricter = toml.replace('senders = ["legacy.test"]\nrequire_tls = true\nmin_version = "TLSv1"',
                                'senders = ["legacy.test"]\nrequire_tls = true\nmin_version = "TLSv1.1"')
        self.assertNotEqual(stricter, toml)
        stricter_path = os.path.join(self.base, "stricter.toml")
        with open(stricter_path, "w") as f:
            f.write(stricter)
        csv = self.run_cli("-c", policy_path, "report", "--since", "3d", "--against", stricter_path,
                           "--format", "csv").stdout
        self.assertIn("o@legacy.test", csv)


if __name__ == "__main__":
    unittest.main()
