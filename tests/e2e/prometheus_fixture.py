"""A real Prometheus (Debian's prometheus) on loopback, scraping one Debian
prometheus-node-exporter per simulated MX host (textfile collector only), with
the alert rules of contrib/prometheus/ loaded at a time scale where a minute
takes a second; and the queries of contrib/grafana/'s dashboard with Grafana's
variables filled in. Python 3 stdlib only; processes are stopped on exit."""

import json
import os
import re
import subprocess
import time
import urllib.parse
import urllib.request

from postfix_harness import ManagedProcess, free_port

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES = os.path.join(TOP, "contrib", "prometheus", "tlspolicy-milter.rules.yml")
RULE_TESTS = os.path.join(TOP, "tests", "prometheus", "tlspolicy-milter.rules.test.yml")
DASHBOARD = os.path.join(TOP, "contrib", "grafana", "tlspolicy-milter.json")
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"

# One minute of the rules is one second here: every duration of the rule
# file is divided by 60, and so are the scrape and evaluation intervals
# (1 s for a minute's worth) and the query lookback (5 m -> 5 s).
SECONDS_PER_MINUTE = 1
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440}


def scaled_rules(text):
    """The rule file with each duration (range [15m], offset 15m, for: 5m)
    turned into as many seconds as it has minutes. Fails when a duration of
    another form is left, so a new rule cannot escape the scaling."""
    def seconds(n, unit):
        return "%ds" % (int(n) * _UNIT_MINUTES[unit] * SECONDS_PER_MINUTE)

    text = re.sub(r"\[(\d+)([mhd])\]", lambda m: "[%s]" % seconds(*m.groups()), text)
    text = re.sub(r"\boffset (\d+)([mhd])\b", lambda m: "offset " + seconds(*m.groups()), text)
    text = re.sub(r"^(\s*for: )(\d+)([mhd])\s*$", lambda m: m.group(1) + seconds(m.group(2), m.group(3)),
                  text, flags=re.M)
    for line in text.splitlines():
        if not line.lstrip().startswith("#") and re.search(r"\b\d+(ms|[mhdwy])\b", line):
            raise ValueError("a duration the scaling does not know: %r" % line)
    return text


def promtool(*args):
    return subprocess.run([PROMTOOL] + list(args), capture_output=True, text=True, timeout=60)


def http_json(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.load(r)


class NodeExporter(ManagedProcess):
    """prometheus-node-exporter with only the textfile collector, over dir."""

    def __init__(self, directory, log_path):
        self.port = free_port(("127.0.0.1",))
        self.address = "127.0.0.1:%d" % self.port
        super().__init__([NODE_EXPORTER, "--collector.disable-defaults", "--collector.textfile",
                          "--collector.textfile.directory=" + directory,
                          "--web.listen-address=" + self.address],
                         "inet:%d@127.0.0.1" % self.port, log_path)


class Prometheus(ManagedProcess):
    """Prometheus scraping `targets` ({instance name: host:port}) every second
    with `rules_text` loaded; its API as methods."""

    def __init__(self, workdir, targets, rules_text):
        os.makedirs(workdir, exist_ok=True)
        rules = os.path.join(workdir, "rules.yml")
        with open(rules, "w") as f:
            f.write(rules_text)
        config = os.path.join(workdir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                    "rule_files: [%s]\nscrape_configs:\n  - job_name: node\n    static_configs:\n" % rules)
            for name, address in targets.items():
                f.write("      - targets: ['%s']\n        labels: {instance: %s}\n" % (address, name))
        self.port = free_port(("127.0.0.1",))
        self.url = "http://127.0.0.1:%d" % self.port
        super().__init__([PROMETHEUS, "--config.file=" + config,
                          "--storage.tsdb.path=" + os.path.join(workdir, "tsdb"),
                          "--web.listen-address=127.0.0.1:%d" % self.port,
                          "--query.lookback-delta=%ds" % (5 * SECONDS_PER_MINUTE),
                          "--log.level=warn"],
                         "inet:%d@127.0.0.1" % self.port, os.path.join(workdir, "prometheus.log"),
                         timeout=30)

    def start(self):
        super().start()
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("prometheus not ready:\n" + self.output())
            time.sleep(0.1)

    def api(self, path, **params):
        reply = http_json(self.url + "/api/v1/" + path + "?" + urllib.parse.urlencode(params, doseq=True))
        if reply.get("status") != "success":
            raise AssertionError("%s %s: %s" % (path, params, reply))
        return reply["data"]

    def query(self, expr, at=None):
        """Instant query: [(labels, value)]."""
        data = self.api("query", query=expr, **({"time": at} if at else {}))
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def query_range(self, expr, start, end, step=1):
        """Range query: [(labels, {time: value})]."""
        data = self.api("query_range", query=expr, start=start, end=end, step=step)
        return [(r["metric"], {float(t): float(v) for t, v in r["values"]}) for r in data["result"]]

    def alerts(self):
        """{(alertname, instance, ((label, value), ...)): state} of the pending and
        firing alerts; the labels leave out severity, job and file (a path)."""
        out = {}
        for a in self.api("alerts")["alerts"]:
            labels = dict(a["labels"])
            key = (labels.pop("alertname"), labels.pop("instance", ""),
                   tuple(sorted((k, v) for k, v in labels.items() if k not in ("severity", "job", "file"))))
            out[key] = a["state"]
        return out

    def alerting_rules(self):
        return [r for g in self.api("rules")["groups"] for r in g["rules"] if r["type"] == "alerting"]


def dashboard_targets(path=DASHBOARD):
    """[(panel title, target)] of every query panel of the dashboard."""
    with open(path) as f:
        dash = json.load(f)
    return [(p["title"], t) for p in dash["panels"] if p["type"] != "row" for t in p["targets"]]


def grafana_expr(expr, instance, range_seconds, rate_interval=4):
    """The query as Grafana sends it: $instance a regex, $__range the time
    range, $__rate_interval four scrape intervals. Fails on any other variable."""
    out = (expr.replace("$__rate_interval", "%ds" % rate_interval)
               .replace("$__range", "%ds" % range_seconds)
               .replace("$instance", instance))
    if "$" in out:
        raise ValueError("a dashboard variable the test does not fill: " + expr)
    return out
