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


if __name__ == "__main__":
    unittest.main()
