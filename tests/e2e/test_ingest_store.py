"""Outbound deliveries of a real Postfix, in the store beside inbound mail:
the Postfix client of test_ingest (loopback partners with TLS 1.3, TLS 1.2
self-signed, TLS 1.0 only, no STARTTLS, a handshake cut midway, deferrals by
the exported policy map) delivers; `ingest` reads its log into SQLite (a
database of an older schema holding inbound rows, which it migrates) and into
a private PostgreSQL; `report --evidence` then counts every outbound delivery
per partner rule and month exactly, beside the inbound rows, the same from
the summaries as from the rows (--raw). An ingest killed with SIGKILL midway
through the log and started again changes no count. Hostile text in
recipients and relay names reaches neither the SQL nor the HTML, and lines
that are not deliveries are counted as skipped. `ingest --stats` writes the
outbound counters as a Prometheus textfile that promtool accepts.
"""

import datetime
import json
import os
import re
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

import test_ingest as ti
from pg_fixture import PgServer

INBOUND = 4  # inbound messages of rule "partners" this month, from the older database


def setUpModule():
    ti.setUpModule()


def tearDownModule():
    ti.tearDownModule()


def month(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m")


def write_policy(d, database):
    path = os.path.join(d, "policy-%d.toml" % len(os.listdir(d)))
    with open(path, "w") as f:
        f.write('[observations]\ndatabase = "%s"\nkeep_days = 400\n' % database + ti.POLICY)
    return path


def older_database(path, now):
    """A schema-2 database (before hosts, directions and outbound rows) with inbound mail of partners."""
    db = sqlite3.connect(path)
    db.executescript("""
CREATE TABLE observations (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, stage TEXT NOT NULL,
  queue_id TEXT NOT NULL, client TEXT NOT NULL, hostname TEXT NOT NULL, sender TEXT NOT NULL,
  sender_domain TEXT NOT NULL, recipient TEXT NOT NULL, rules TEXT NOT NULL, tls_version TEXT NOT NULL,
  cipher TEXT NOT NULL, cipher_bits INTEGER NOT NULL, alg_bits INTEGER NOT NULL, result TEXT NOT NULL,
  action TEXT NOT NULL, would TEXT NOT NULL, cert_status TEXT NOT NULL DEFAULT 'none',
  cert_subject TEXT NOT NULL DEFAULT '', cert_issuer TEXT NOT NULL DEFAULT '');
CREATE INDEX observations_time ON observations(time);
PRAGMA application_id = 1414288208;
PRAGMA user_version = 2;
""")
    for i in range(INBOUND):
        db.execute("INSERT INTO observations (time, stage, queue_id, client, hostname, sender, sender_domain,"
                   " recipient, rules, tls_version, cipher, cipher_bits, alg_bits, result, action, would)"
                   " VALUES (?, 'mail', '', '192.0.2.1', '', 'x@modern.test', 'modern.test', '', 'partners',"
                   " 'TLS1_3', 'TLS_AES_256_GCM_SHA384', 256, 256, 'pass', 'accept', 'accept')", (now - 60 - i,))
    db.commit()
    db.close()


def records(log):
    r = ti.run("-c", ti.policy_path(), "ingest", "postfix", "--output", "-", log)
    assert r.returncode == 0, r.stderr
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def expected_outbound(recs):
    """{rule: counts} of the evidence's outbound total, from the JSON records of the same log."""
    out = {}
    for r in recs:
        for rule in r["rules"]:
            if rule == "default":
                continue
            c = out.setdefault(rule, dict.fromkeys(("messages", "tls12_or_newer", "older_tls", "plaintext",
                                                    "no_tls_facts", "verified_cert", "deferred_tls", "bounced_tls"), 0))
            if r["status"] == "sent":
                c["messages"] += 1
                if r["transport"] == "tls":
                    c["tls12_or_newer" if r["tls_version"] in ("TLSv1.2", "TLSv1.3") else "older_tls"] += 1
                    c["verified_cert"] += r["cert_verification"] in ("trusted", "verified")
                elif r["transport"] == "plaintext":
                    c["plaintext"] += 1
                else:
                    c["no_tls_facts"] += 1
            elif r["tls_reason"]:
                c["deferred_tls" if r["status"] == "deferred" else "bounced_tls"] += 1
    return out


def evidence(policy, *args):
    r = ti.run("-c", policy, "report", "--evidence", "--since", "30d", "--format", "json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def outbound_totals(ev):
    keys = ("messages", "tls12_or_newer", "older_tls", "plaintext", "no_tls_facts", "verified_cert", "deferred_tls",
            "bounced_tls")
    return {rule["name"]: {k: rule["outbound"]["total"][k] for k in keys} for rule in ev["rules"] if rule["outbound"]}


class Store(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.log = ti.postfix_log()
        cls.records = records(cls.log)
        cls.want = expected_outbound(cls.records)
        cls.dir = tempfile.mkdtemp(prefix="ingest-store.", dir=ti._tmp)
        cls.now = int(time.time())

    def check_evidence(self, policy, inbound):
        t0 = time.time()
        ev, raw = evidence(policy), evidence(policy, "--raw")
        t1 = time.time()
        # The window ends at each run's own now: a second may pass between the
        # two (CI failed so once, 20:24Z against 20:25Z); the rest must agree.
        window, raw_window = ev.pop("window"), raw.pop("window")
        self.assertLessEqual(abs(window["seconds"] - raw_window["seconds"]), int(t1 - t0) + 1)
        self.assertEqual(ev, raw, "the summaries and the rows agree")
        self.assertEqual(outbound_totals(ev), self.want)
        partners = next(r for r in ev["rules"] if r["name"] == "partners")
        this_month = [m for m in partners["outbound"]["months"] if m["month"] == month(self.now)]
        self.assertEqual(len(this_month), 1)
        self.assertEqual(this_month[0]["messages"], self.want["partners"]["messages"], "all delivered this month")
        self.assertEqual(partners["total"]["messages"], inbound, "the inbound rows beside them")
        # What the client did, independently of the parser: TLS 1.3 (trusted) to modern.test twice and
        # TLS 1.2 to selfsigned.test; TLS 1.0-only, plaintext and midway deferred by the exported map.
        self.assertGreaterEqual(self.want["partners"]["messages"], 3)
        self.assertGreaterEqual(self.want["partners"]["verified_cert"], 2)
        self.assertGreaterEqual(self.want["partners"]["deferred_tls"], 3)
        return ev

    def test_1_sqlite_migrated_beside_inbound(self):
        db = os.path.join(self.dir, "older.sqlite")
        older_database(db, self.now)
        policy = write_policy(self.dir, db)
        r = ti.run("-c", policy, "ingest", "postfix", self.log)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_evidence(policy, INBOUND)
        with sqlite3.connect(db) as c:
            self.assertEqual(c.execute("SELECT count(*) FROM observations WHERE direction = 'inbound'").fetchone()[0],
                             INBOUND, "the older rows stay inbound")
            self.assertEqual(c.execute("SELECT count(*) FROM observations WHERE direction = 'outbound'").fetchone()[0],
                             len(self.records), "one row per recipient delivery attempt")
        r = ti.run("-c", policy, "ingest", "postfix", self.log)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_evidence(policy, INBOUND)  # read again from its position: nothing added

    def test_2_killed_midway_and_restarted_counts_each_once(self):
        db = os.path.join(self.dir, "killed.sqlite")
        policy = write_policy(self.dir, db)
        with open(self.log, "rb") as f:
            data = f.read()
        log = os.path.join(self.dir, "growing.log")
        cut = len(data) // 2 + 7  # in the middle of a line
        with open(log, "wb") as f:
            f.write(data[:cut])
        r = ti.run("-c", policy, "ingest", "postfix", log)
        self.assertEqual(r.returncode, 0, r.stderr)
        follower = subprocess.Popen([ti.BIN, "-c", policy, "ingest", "postfix", "--follow", log],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with open(log, "ab") as f:
                f.write(data[cut:])
            deadline = time.time() + 30
            while time.time() < deadline:
                with sqlite3.connect(db) as c:
                    if c.execute("SELECT count(*) FROM observations").fetchone()[0] >= len(self.records) // 2 + 1:
                        break
                time.sleep(0.05)
        finally:
            follower.send_signal(signal.SIGKILL)
            follower.wait()
        r = ti.run("-c", policy, "ingest", "postfix", log)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_evidence(policy, 0)
        with sqlite3.connect(db) as c:
            self.assertEqual(c.execute("SELECT count(*) FROM observations").fetchone()[0], len(self.records))

    def test_3_postgresql(self):
        if not os.path.exists("/usr/lib/postgresql"):
            self.skipTest("PostgreSQL is not installed")
        with PgServer() as pg:
            policy = write_policy(self.dir, pg.url)
            half = os.path.join(self.dir, "pg-half.log")
            with open(self.log) as f:
                lines = f.readlines()
            with open(half, "w") as f:
                f.writelines(lines[:len(lines) // 2])
            r = ti.run("-c", policy, "ingest", "postfix", half)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(half, "a") as f:  # the same file grows: read on from its position
                f.writelines(lines[len(lines) // 2:])
            r = ti.run("-c", policy, "ingest", "postfix", half)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.check_evidence(policy, 0)
            self.assertEqual(pg.psql("SELECT count(*) FROM observations WHERE direction = 'outbound'").strip(),
                             str(len(self.records)))

    def test_4_hostile_text_is_inert_and_skipped_lines_counted(self):
        db = os.path.join(self.dir, "hostile.sqlite")
        policy = write_policy(self.dir, db)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%b %d %H:%M:%S")
        log = os.path.join(self.dir, "hostile.log")
        evil_rcpt = "x');DROP TABLE observations;--<script>alert(1)</script>@modern.test"
        evil_relay = "<script>alert(2)</script>"
        with open(log, "w") as f:
            f.write("%s client postfix/smtp[77]: Trusted TLS connection established to %s[192.0.2.9]:25: TLSv1.3 "
                    "with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n" % (stamp, evil_relay))
            f.write("%s client postfix/smtp[77]: 5A5A5A: to=<%s>, relay=%s[192.0.2.9]:25, delay=0.1, "
                    "delays=0/0/0.05/0.05, dsn=2.0.0, status=sent (250 ok)\n" % (stamp, evil_rcpt, evil_relay))
            f.write("%s client postfix/qmgr[78]: 5A5A5A: removed\n" % stamp)    # another program: skipped
            f.write("\x00\x01 not a syslog line \x7f\n")                         # skipped
            f.write("%s client postfix/smtp[77]: 5B5B5B: to=<y@modern.test>, relay=\n" % stamp)  # cut: skipped
        r = ti.run("-c", policy, "ingest", "postfix", log)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r"skipped (\d+)", r.stderr)
        self.assertIsNotNone(m, r.stderr)
        self.assertGreaterEqual(int(m.group(1)), 3, r.stderr)
        with sqlite3.connect(db) as c:
            rows = c.execute("SELECT recipient, relay_host FROM observations").fetchall()
        self.assertLessEqual(len(rows), 1)
        for rcpt, relay in rows:
            self.assertTrue(all(0x20 <= ord(ch) < 0x7f for ch in rcpt + relay), (rcpt, relay))
        r = ti.run("-c", policy, "report", "--evidence", "--since", "30d", "--format", "html")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("<script", r.stdout)

    def test_5_stats_file_counts_outbound_and_passes_promtool(self):
        db = os.path.join(self.dir, "stats.sqlite")
        policy = write_policy(self.dir, db)
        stats = os.path.join(self.dir, "ingest.prom")
        r = ti.run("-c", policy, "ingest", "postfix", "--stats", stats, self.log)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(stats) as f:
            text = f.read()
        p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        got = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                got[name] = int(value)
        want = {}
        for rec in self.records:
            key = 'tlspolicy_milter_outbound_deliveries_total{status="%s",transport="%s"}' % (rec["status"],
                                                                                             rec["transport"])
            want[key] = want.get(key, 0) + 1
        self.assertEqual({k: v for k, v in got.items() if k.startswith("tlspolicy_milter_outbound_deliveries_total")},
                         want)
        self.assertEqual(got['tlspolicy_milter_outbound_tls_failures_total{status="deferred"}'],
                         sum(1 for rec in self.records if rec["tls_reason"] and rec["status"] == "deferred"))
        with open(self.log) as f:
            self.assertEqual(got["tlspolicy_milter_ingest_lines_total"], f.read().count("\n"))


if __name__ == "__main__":
    unittest.main()
