"""What operators see before enforcing: the Prometheus counters scraped back
through Debian's prometheus-node-exporter (textfile collector) on loopback."""

import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request

from milter_fixture import Stack
from postfix_harness import free_port

NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"

POLICY = """
[milter]
mode = "monitor"

[header]
authserv_id = "mx.e2e.test"

[stats]
file = "{stats}"
interval = 1

[defaults]
require_tls = false

[[partner]]
name = "acme"
senders = ["acme.test"]
require_tls = true
min_version = "TLSv1.2"
action = "reject"
"""


def scrape(url, timeout=10):
    end = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.read().decode()
        except OSError:
            if time.time() > end:
                raise
            time.sleep(0.1)


def metric(text, line_start):
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return None


@unittest.skipUnless(os.path.exists(NODE_EXPORTER), "prometheus-node-exporter is not installed")
class NodeExporterScrape(unittest.TestCase):
    def test_counters_scraped_over_http(self):
        base = tempfile.mkdtemp(prefix="tpm-e2e-stats.")
        os.chmod(base, 0o755)
        textfiles = os.path.join(base, "textfile")
        os.makedirs(textfiles)
        policy = POLICY.format(stats=os.path.join(textfiles, "tlspolicy_milter.prom"))
        port = free_port(("127.0.0.1",))
        exporter = None
        try:
            with Stack(os.path.join(base, "stack"), policy) as stack:
                pf = stack.postfix
                self.assertTrue(pf.send(mail_from="a@acme.test").accepted)
                self.assertTrue(pf.send(mail_from="a@acme.test", tls="tlsv1").accepted)
                self.assertTrue(pf.send(mail_from="a@acme.test", tls="tlsv1_3").accepted)
                self.assertTrue(pf.send(mail_from="b@other.test", tls="tlsv1_2").accepted)
                stack.milter.send_signal(1)  # SIGHUP: counted as a reload
                stack.milter.wait_for_log("reloaded policy")
                time.sleep(2.2)  # two stats intervals
                exporter = subprocess.Popen(
                    [NODE_EXPORTER, "--collector.disable-defaults", "--collector.textfile",
                     "--collector.textfile.directory=" + textfiles,
                     "--web.listen-address=127.0.0.1:%d" % port],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                text = scrape("http://127.0.0.1:%d/metrics" % port)
        finally:
            if exporter:
                exporter.terminate()
                exporter.wait(timeout=10)
            shutil.rmtree(base, ignore_errors=True)
        want = {
            'tlspolicy_milter_decisions_total{action="would_reject",result="fail",stage="mail"}': 2,
            'tlspolicy_milter_decisions_total{action="accept",result="pass",stage="mail"}': 1,
            'tlspolicy_milter_decisions_total{action="accept",result="none",stage="mail"}': 1,
            'tlspolicy_milter_tls_version_total{version="none"}': 1,
            'tlspolicy_milter_tls_version_total{version="TLS1_0"}': 1,
            'tlspolicy_milter_tls_version_total{version="TLS1_2"}': 1,
            'tlspolicy_milter_tls_version_total{version="TLS1_3"}': 1,
            'tlspolicy_milter_rule_total{result="fail",rule="acme"}': 2,
            'tlspolicy_milter_rule_total{result="pass",rule="acme"}': 1,
            'tlspolicy_milter_reloads_total': 1,
            'tlspolicy_milter_reload_failures_total': 0,
        }
        for name, value in want.items():
            self.assertEqual(metric(text, name + " "), value, "%s in:\n%s" % (name, text))
        self.assertIsNone(metric(text, "node_textfile_scrape_error 1"), "the exporter could not parse our file")


STORE_POLICY = """
[milter]
mode = "monitor"

[header]
authserv_id = "mx.e2e.test"

[stats]
file = "{stats}"
interval = 1

[observations]
database = "{db}"

[defaults]
require_tls = false

[[partner]]
name = "alpha"
senders = ["alpha.test"]

[[partner]]
name = "beta"
senders = ["beta.test"]

[[partner]]
name = "gamma"
senders = [".gamma.test"]
"""

STRICTER = """
[defaults]
require_tls = false

[[partner]]
name = "alpha"
senders = ["alpha.test"]
require_tls = true
min_version = "TLSv1.2"
action = "reject"

[[partner]]
name = "beta"
senders = ["beta.test"]
require_tls = true
min_version = "TLSv1.2"
action = "reject"

[[partner]]
name = "gamma"
senders = [".gamma.test"]
require_tls = true
min_version = "TLSv1.3"
action = "tempfail"
"""

BINARY = os.environ.get("TLSPOLICY_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "tlspolicy-milter"))


class ObservationStoreBehindPostfix(unittest.TestCase):
    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="tpm-e2e-store.")
        os.chmod(self.base, 0o755)

    def tearDown(self):
        subprocess.run(["umount", "-l", os.path.join(self.base, "db")], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.base, ignore_errors=True)

    def policy(self, db_dir):
        return STORE_POLICY.format(stats=os.path.join(self.base, "m.prom"), db=os.path.join(db_dir, "obs.sqlite"))

    def test_report_against_names_exactly_the_senders_a_stricter_policy_refuses(self):
        mix = [  # sender, tls; in monitor mode every one is delivered
            ("a1@alpha.test", None), ("a1@alpha.test", None), ("a2@alpha.test", "tlsv1"),
            ("a1@alpha.test", "tlsv1_3"), ("b1@beta.test", "tlsv1_2"), ("b1@beta.test", "tlsv1_2"),
            ("b2@beta.test", "tlsv1"), ("g1@mx.gamma.test", "tlsv1_3"), ("g2@mx.gamma.test", "tlsv1_2"),
            ("g2@mx.gamma.test", None), ("x@other.test", None),
        ]
        with Stack(os.path.join(self.base, "stack"), self.policy(self.base)) as stack:
            for sender, tls in mix:
                r = stack.postfix.send(mail_from=sender, tls=tls)
                self.assertTrue(r.accepted, r.transcript)
            stack.milter.proc.stop()  # SIGTERM: the store is flushed before exit
            policy_path = stack.milter.policy_path
        stricter = os.path.join(self.base, "stricter.toml")
        with open(stricter, "w") as f:
            f.write(STRICTER)
        out = subprocess.run([BINARY, "-c", policy_path, "report", "--since", "1d", "--against", stricter,
                              "--format", "csv"], capture_output=True, text=True, check=True).stdout
        rows = {}
        for line in out.strip().splitlines()[1:]:
            f = line.split(",")
            rows[f[0]] = (f[2], int(f[3]), int(f[4]))  # rule, would_reject, would_tempfail
        self.assertEqual(rows, {
            "a1@alpha.test": ("alpha", 2, 0),
            "a2@alpha.test": ("alpha", 1, 0),
            "b2@beta.test": ("beta", 1, 0),
            "g2@mx.gamma.test": ("gamma", 0, 2),
        }, out)
        text = subprocess.run([BINARY, "-c", policy_path, "report", "--since", "1d"], capture_output=True,
                              text=True, check=True).stdout
        self.assertIn("alpha", text)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to mount a tmpfs")
    def test_read_only_database_directory_mid_run(self):
        # As root, chmod does not stop writes, and Linux will not remount a
        # file system read-only while the database is open for writing; so a
        # read-only file system is mounted over the database's directory: the
        # path the milter writes to becomes read-only (and empty) mid-run.
        db_dir = os.path.join(self.base, "db")
        os.makedirs(db_dir)
        with Stack(os.path.join(self.base, "stack"), self.policy(db_dir)) as stack:
            pf, milter = stack.postfix, stack.milter
            self.assertTrue(pf.send(mail_from="a1@alpha.test").accepted)
            time.sleep(1.5)
            before = metric(open(os.path.join(self.base, "m.prom")).read(),
                            "tlspolicy_milter_observations_dropped_total ")
            subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", db_dir], check=True)
            start = time.time()
            for i in range(12):  # mail still flows, for several stats intervals
                r = pf.send(mail_from="a1@alpha.test", tls="tlsv1_2")
                self.assertTrue(r.accepted, r.transcript)
                self.assertEqual(len(pf.wait_for_message(r.marker).header("X-Transport-Security")), 1)
                time.sleep(0.25)
            elapsed = time.time() - start
            time.sleep(1.5)
            after = metric(open(os.path.join(self.base, "m.prom")).read(),
                           "tlspolicy_milter_observations_dropped_total ")
            failures = [l for l in milter.log().splitlines() if "observations:" in l and "written again" not in l]
        self.assertEqual(before, 0)
        self.assertGreaterEqual(after, 11, "the dropped count must rise")
        self.assertEqual(len(failures), 1, "logged once per interval (5 min), not per batch, in %.0f s:\n%s"
                         % (elapsed, "\n".join(failures)))


if __name__ == "__main__":
    unittest.main()
