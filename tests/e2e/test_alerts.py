"""The alert rules (contrib/prometheus/) and the dashboard (contrib/grafana/)
against a real Prometheus: promtool's checks and unit tests of the rules at
their production durations, then one run at a minute-per-second scale where
node_exporter serves the stats file of the milter behind a real Postfix while
mail flows, beside stats files this test drives (refusals, drops, the spool,
a file that stops). Each alert fires for its instance and no other, nothing
fires before the conditions, and each dashboard query returns its series."""

import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from milter_fixture import Stack
from prometheus_fixture import (DASHBOARD, NODE_EXPORTER, PROMETHEUS, PROMTOOL, RULE_TESTS, RULES,
                                NodeExporter, Prometheus, dashboard_targets, grafana_expr, promtool,
                                scaled_rules)

POLICY = """
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
name = "acme"
senders = ["acme.test"]
require_tls = true
min_version = "TLSv1.2"
action = "reject"
"""

# One of each: acme in plaintext and over TLS 1.0 (monitor: would_reject,
# rule acme fails), acme over TLS 1.3 (passes), another sender over TLS 1.2.
MAIL = [("a@acme.test", None), ("a@acme.test", "tlsv1"), ("a@acme.test", "tlsv1_3"),
        ("b@other.test", "tlsv1_2")]

# The spool-depth gauge, as src/stats/metrics.cpp names it (test_names_are_the_milters
# checks every name the rules and the dashboard use against the real file).
SPOOL_GAUGE = "tlspolicy_milter_observation_spool_rows"

# What fires where once the conditions hold: (alertname, instance, labels).
# The first five are over 15 minutes (seconds here) after the event; the
# spool keeps growing and the file stays stale, so those two still fire at
# the end.
EXPECTED = {
    ("TlsPolicyRequirementFailed", "mail", (("rule", "acme"),)),
    ("TlsPolicyWouldRefuse", "mail", (("action", "would_reject"),)),
    ("TlsPolicyReloadFailed", "mail", ()),
    ("TlsPolicyRefusalsRising", "refusing", ()),
    ("TlsPolicyObservationsDropped", "dropping", ()),
    ("TlsPolicySpoolGrowing", "spooling", ()),
    ("TlsPolicyStatsStale", "stale", ()),
}
STILL_FIRING = {("TlsPolicySpoolGrowing", "spooling", ()), ("TlsPolicyStatsStale", "stale", ())}


def driven_file(state):
    """A stats file as the milter writes it, from a dict of counts."""
    def family(name, kind, lines):
        return "# HELP %s driven by test_alerts\n# TYPE %s %s\n%s" % (
            name, name, kind, "".join("%s%s %s\n" % (name, labels, value) for labels, value in lines))
    decisions = [('{stage="mail",action="accept",result="none"}', state["accepted"])]
    if state["rejected"]:
        decisions.append(('{stage="mail",action="reject",result="fail"}', state["rejected"]))
    return (family("tlspolicy_milter_decisions_total", "counter", decisions)
            + family("tlspolicy_milter_tls_version_total", "counter", [('{version="TLS1_3"}', state["accepted"])])
            + family("tlspolicy_milter_reloads_total", "counter", [("", 0)])
            + family("tlspolicy_milter_reload_failures_total", "counter", [("", 0)])
            + family("tlspolicy_milter_observations_written_total", "counter", [("", state["accepted"])])
            + family("tlspolicy_milter_observations_dropped_total", "counter", [("", state["dropped"])])
            + family(SPOOL_GAUGE, "gauge", [("", state["spooled"])]))


class Driver(threading.Thread):
    """Rewrites each driven instance's stats file twice a second (atomically,
    as the milter does) from its state; a stopped instance is left alone."""

    def __init__(self, base, names):
        super().__init__(daemon=True)
        self.lock = threading.Lock()
        self.paths = {n: os.path.join(base, n, "tlspolicy_milter.prom") for n in names}
        self.state = {n: {"accepted": 0, "rejected": 0, "dropped": 0, "spooled": 0,
                          "spool_step": 0, "stopped": False} for n in names}
        self.done = threading.Event()
        self.tick()

    def tick(self):
        with self.lock:
            for name, st in self.state.items():
                if st["stopped"]:
                    continue
                st["accepted"] += 1
                st["spooled"] += st["spool_step"]
                tmp = self.paths[name] + ".tmp"
                with open(tmp, "w") as f:
                    f.write(driven_file(st))
                os.rename(tmp, self.paths[name])

    def run(self):
        while not self.done.wait(0.5):
            self.tick()

    def set(self, name, **changes):
        with self.lock:
            self.state[name].update(changes)


@unittest.skipUnless(os.path.exists(PROMTOOL), "promtool is not installed (Debian package prometheus)")
class AlertRules(unittest.TestCase):
    def test_rules_check(self):
        r = promtool("check", "rules", RULES)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS: 7 rules found", r.stdout)

    def test_rules_unit_tests(self):
        """Every alert at the edges of its condition, at production durations."""
        r = promtool("test", "rules", RULE_TESTS)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout)

    def test_every_alert_has_unit_tests(self):
        with open(RULES) as f:
            alerts = {line.split(":", 1)[1].strip() for line in f if line.strip().startswith("- alert:")}
        with open(RULE_TESTS) as f:
            tested = f.read()
        self.assertEqual(len(alerts), 7)
        for name in alerts:
            self.assertIn("alertname: " + name, tested)
        self.assertEqual({a for a, _, _ in EXPECTED}, alerts, "the real-Prometheus run covers every alert")

    def test_dashboard_is_grafana_10(self):
        with open(DASHBOARD) as f:
            dash = json.load(f)
        self.assertEqual(dash["schemaVersion"], 38)  # Grafana 10.0-10.2
        ids = [p["id"] for p in dash["panels"]]
        self.assertEqual(len(ids), len(set(ids)))
        for p in dash["panels"]:
            if p["type"] == "row":
                continue
            self.assertEqual(p["datasource"], {"type": "prometheus", "uid": "${datasource}"}, p["title"])
            self.assertTrue(p["targets"], p["title"])
            for t in p["targets"]:
                self.assertEqual(t["datasource"], p["datasource"], p["title"])
        names = [v["name"] for v in dash["templating"]["list"]]
        self.assertEqual(names, ["datasource", "instance"])


@unittest.skipUnless(all(os.path.exists(p) for p in (PROMETHEUS, NODE_EXPORTER)),
                     "prometheus or prometheus-node-exporter is not installed")
class AlertsOnRealPrometheus(unittest.TestCase):
    DRIVEN = ("calm", "refusing", "dropping", "spooling", "stale")

    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix="tpm-e2e-alerts.")
        os.chmod(cls.base, 0o755)
        cls.procs = []
        cls.stack = None
        cls.driver = None
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls):
        for name in ("mail",) + cls.DRIVEN:
            os.makedirs(os.path.join(cls.base, name))
        cls.stats_file = os.path.join(cls.base, "mail", "tlspolicy_milter.prom")
        cls.policy = POLICY.format(stats=cls.stats_file, db=os.path.join(cls.base, "obs.sqlite"))
        cls.stack = Stack(os.path.join(cls.base, "stack"), cls.policy).__enter__()
        # Counts from before the first scrape are not news: one of each now.
        cls.send_mail()
        cls.driver = Driver(cls.base, cls.DRIVEN)
        cls.driver.set("refusing", rejected=1)  # a refusal before the first scrape
        cls.driver.tick()
        cls.driver.start()
        targets = {}
        for name in ("mail",) + cls.DRIVEN:
            exporter = NodeExporter(os.path.join(cls.base, name), os.path.join(cls.base, name + ".log"))
            cls.procs.append(exporter.start())
            targets[name] = exporter.address
        with open(RULES) as f:
            cls.prometheus = Prometheus(os.path.join(cls.base, "prometheus"), targets, scaled_rules(f.read()))
        cls.procs.append(cls.prometheus.start())
        cls.started = time.time()
        cls.seen = {}  # every alert seen: key -> {state: (seconds after start, phase) first seen}
        cls.phase = "before"
        # 15 minutes of history (seconds here) before anything happens: the
        # rules see a new counter as news only on an instance they knew then.
        cls.watch(until=lambda: time.time() - cls.started > 17)
        cls.trigger_at = time.time()
        cls.phase = "after"
        cls.driver.set("refusing", rejected=7)  # 6 more
        cls.driver.set("dropping", dropped=3)
        cls.driver.set("spooling", spool_step=5)
        cls.driver.set("stale", stopped=True)
        cls.send_mail()
        milter = cls.stack.milter
        milter.write_policy(cls.policy.replace('min_version = "TLSv1.2"', 'min_version = "TLSv9"'))
        assert milter.reload() == "failed"
        milter.write_policy(cls.policy)
        assert milter.reload() == "reloaded policy"
        # Until each has fired and the 15-minute ones are over again.
        cls.watch(until=lambda: cls.ever_fired() >= EXPECTED and cls.firing() == STILL_FIRING, timeout=60)
        cls.firing_at_end = cls.firing()
        cls.ended = time.time()

    @classmethod
    def firing(cls):
        return {k for k, s in cls.prometheus.alerts().items() if s == "firing"}

    @classmethod
    def ever_fired(cls):
        return {k for k, states in cls.seen.items() if "firing" in states}

    @classmethod
    def send_mail(cls):
        for sender, tls in MAIL:
            assert cls.stack.postfix.send(mail_from=sender, tls=tls).accepted

    @classmethod
    def watch(cls, until, timeout=None):
        """Polls Prometheus' alerts every half second until until() holds,
        recording each alert seen and in which phase."""
        deadline = time.time() + (timeout or 120)
        while not until():
            for key, state in cls.prometheus.alerts().items():
                cls.seen.setdefault(key, {}).setdefault(state, (round(time.time() - cls.started, 1), cls.phase))
            if time.time() > deadline:
                raise AssertionError("timed out; alerts seen: %s\nfiring now: %s" % (
                    cls.seen, cls.prometheus.alerts()))
            time.sleep(0.5)

    @classmethod
    def tearDownClass(cls):
        if cls.driver:
            cls.driver.done.set()
        for p in reversed(cls.procs):
            p.stop()
        if cls.stack:
            cls.stack.__exit__(None, None, None)
        if not os.environ.get("E2E_KEEP"):
            shutil.rmtree(cls.base, ignore_errors=True)

    def test_rules_loaded_and_healthy(self):
        rules = self.prometheus.alerting_rules()
        self.assertEqual(len(rules), 7)
        for r in rules:
            self.assertEqual(r["health"], "ok", "%s: %s" % (r["name"], r.get("lastError")))

    def test_nothing_before_the_conditions(self):
        before = {k: v for k, v in self.seen.items() if any(p == "before" for _, p in v.values())}
        self.assertEqual(before, {}, "alerts before anything happened (the counts from before the "
                                     "first scrape included)")

    def test_each_alert_fires_for_its_instance_only(self):
        self.assertEqual(self.ever_fired(), EXPECTED)
        self.assertEqual(self.firing_at_end, STILL_FIRING, "the others ended with their 15 minutes")
        unexpected = {k: v for k, v in self.seen.items() if k not in EXPECTED}
        self.assertEqual(unexpected, {}, "alerts (pending or firing) that should never have been")

    def test_mail_stats_file_passes_promtool_check_metrics(self):
        with open(self.stats_file) as f:
            text = f.read()
        for family in ("decisions_total", "tls_version_total", "cipher_total", "rule_total"):
            self.assertIn("\ntlspolicy_milter_%s{" % family, text, "a family with samples to check")
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True,
                           timeout=30)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))


    def test_names_are_the_milters(self):
        """Every metric name the rules, their unit tests, the dashboard and the
        driven files use is a family the real milter writes: a rule over a
        name nobody exports would never fire."""
        with open(self.stats_file) as f:
            written = set(re.findall(r"^# TYPE (tlspolicy_milter_\w+) ", f.read(), re.M))
        self.assertIn(SPOOL_GAUGE, written)
        for path in (RULES, RULE_TESTS, DASHBOARD):
            with open(path) as f:
                used = set(re.findall(r"\b(tlspolicy_milter_\w+)", f.read()))
            self.assertTrue(used, path)
            self.assertEqual(used - written, set(), "%s uses names the milter does not write" % path)
        self.assertEqual(set(re.findall(r"\b(tlspolicy_milter_\w+)", driven_file(
            {"accepted": 1, "rejected": 1, "dropped": 0, "spooled": 0}))) - written, set())
    def test_instance_variable_lists_every_host(self):
        got = self.prometheus.api("label/instance/values", **{"match[]": "tlspolicy_milter_reloads_total"})
        self.assertEqual(sorted(got), sorted(("mail",) + self.DRIVEN))

    # Per panel: the instances its $instance selects, and a check of what the
    # query returns (instant: [(labels, value)]; range: [(labels, [values])]).
    def panel_checks(self):
        def labels(results, *names):
            return sorted(tuple(r[0].get(n, "") for n in names) for r in results)

        def one_value(lo, hi):
            def check(results):
                self.assertEqual(len(results), 1, results)
                self.assertGreaterEqual(results[0][1], lo)
                self.assertLessEqual(results[0][1], hi)
            return check

        def shares(results):
            self.assertEqual(labels(results, "version"), [("TLS1_0",), ("TLS1_2",), ("TLS1_3",), ("none",)])
            steps = {t for r in results for t in r[1]}
            sums = [sum(r[1].get(t, 0) for r in results) for t in steps]
            self.assertTrue(any(abs(s - 1) < 1e-6 for s in sums if not math.isnan(s)), sums)

        def by_version(results):
            self.assertEqual(labels(results, "version"), [("TLS1_0",), ("TLS1_2",), ("TLS1_3",), ("none",)])
            self.assertTrue(all(max(r[1].values()) > 0 for r in results), results)

        def per_rule(results):
            got = {(r[0].get("rule"), r[0].get("result")): r[1] for r in results}
            self.assertAlmostEqual(got[("acme", "fail")], 2, delta=0.6)
            self.assertAlmostEqual(got[("acme", "pass")], 1, delta=0.6)

        def rule_failures(results):
            self.assertEqual(labels(results, "rule"), [("acme",)])
            self.assertGreater(max(results[0][1].values()), 0)

        def refusals(results):
            self.assertEqual(labels(results, "action", "stage"), [("would_reject", "mail")])
            self.assertGreater(max(results[0][1].values()), 0)

        def ciphers(results):
            names = {r[0]["cipher"] for r in results}
            self.assertIn("none", names)
            self.assertIn("TLS_AES_256_GCM_SHA384", names)

        def store(results_a, results_b):
            written = {r[0]["instance"]: max(r[1].values()) for r in results_a}
            dropped = {r[0]["instance"]: max(r[1].values()) for r in results_b}
            self.assertGreater(written["mail"], 0)  # the SQLite store behind the real milter
            self.assertEqual(dropped["mail"], 0)
            self.assertGreater(dropped["dropping"], 0)

        def spool(results):
            got = {r[0]["instance"]: r[1] for r in results}
            self.assertEqual(sorted(got), ["calm", "spooling"])
            self.assertEqual(max(got["calm"].values()), 0)
            spooled = [v for _, v in sorted(got["spooling"].items())]
            self.assertGreater(spooled[-1], spooled[0])

        def reloads(results_a, results_b):
            self.assertGreater(max(results_a[0][1].values()), 0)
            self.assertGreater(max(results_b[0][1].values()), 0)

        def file_age(results):
            got = {r[0]["instance"]: r[1] for r in results}
            self.assertLess(got["mail"], 5)
            self.assertGreater(got["stale"], 10)

        return {
            "Decisions": ("mail", one_value(3, 5)),
            "TLS 1.2 or newer": ("mail", one_value(0.3, 0.7)),
            "Plaintext": ("mail", one_value(0.1, 0.4)),
            "Refused": ("refusing|mail", one_value(5.5, 6.5)),
            "Would refuse (monitor)": ("mail", one_value(1.5, 2.5)),
            "Stats file age": ("mail|stale", file_age),
            "TLS version share": ("mail", shares),
            "Decisions by TLS version": ("mail", by_version),
            "Results per rule": ("mail", per_rule),
            "Rule failures": ("mail", rule_failures),
            "Refusals and would-be refusals": ("mail", refusals),
            "Ciphers": ("mail", ciphers),
            "Observations written and dropped": ("mail|dropping", store),
            "Spool depth": ("spooling|calm", spool),
            "Policy reloads": ("mail", reloads),
        }

    def test_every_dashboard_query_returns_its_series(self):
        checks = self.panel_checks()
        by_panel = {}
        for title, target in dashboard_targets():
            by_panel.setdefault(title, []).append(target)
        self.assertEqual(sorted(by_panel), sorted(checks), "a check for every panel")
        # The time range: from just before the second batch of mail to the end.
        start, end = self.trigger_at - 2, self.ended
        for title, targets in by_panel.items():
            instance, check = checks[title]
            results = []
            for t in targets:
                expr = grafana_expr(t["expr"], instance, range_seconds=round(end - start))
                if t.get("instant"):
                    results.append(self.prometheus.query(expr, at=end))
                else:
                    results.append(self.prometheus.query_range(expr, start, end))
            with self.subTest(panel=title):
                check(*results)


if __name__ == "__main__":
    unittest.main()
