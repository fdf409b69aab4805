"""The PostgreSQL observation store behind a real Postfix: observations and
policy versions reach the server, `report` reads them back, and while the
server is down they wait in the local spool and arrive once it is back.
(The two-MX suite, the fault tests and the benchmarks build on pg_fixture.py
elsewhere; this is the daemon's own wiring.)"""

import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

from milter_fixture import BINARY, Stack
from pg_fixture import PgServer

POLICY = """
[milter]
mode = "{mode}"

[header]
authserv_id = "mx.e2e.test"

[observations]
database = "{url}"
host = "mx-e2e"
spool = "{spool}"

[defaults]
require_tls = false

[[partner]]
name = "alpha"
senders = ["alpha.test"]
"""


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > end:
            raise AssertionError("timed out after %ds waiting for %s" % (timeout, what))
        time.sleep(0.2)


class PostgresStoreBehindPostfix(unittest.TestCase):
    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="tpm-e2e-pg.")
        os.chmod(self.base, 0o755)
        self.pg = PgServer()
        self.pg.start()
        self.spool = os.path.join(self.base, "spool.sqlite")

    def tearDown(self):
        self.pg.destroy()
        if not os.environ.get("E2E_KEEP"):
            shutil.rmtree(self.base, ignore_errors=True)

    def policy(self, mode="monitor"):
        return POLICY.format(mode=mode, url=self.pg.url, spool=self.spool)

    def count(self):
        try:
            return int(self.pg.psql("SELECT count(*) FROM observations").strip())
        except Exception:
            return -1

    def spooled(self):
        if not os.path.exists(self.spool):
            return 0
        with sqlite3.connect(self.spool) as db:
            return db.execute("SELECT count(*) FROM observations").fetchone()[0]

    def test_observations_policy_versions_and_an_outage(self):
        with Stack(os.path.join(self.base, "stack"), self.policy()) as stack:
            for sender, tls in (("a@alpha.test", "tlsv1_2"), ("x@other.test", None)):
                self.assertTrue(stack.postfix.send(mail_from=sender, tls=tls).accepted)
            wait_for(lambda: self.count() == 2, 20, "2 observations in PostgreSQL")
            self.assertEqual(self.pg.psql("SELECT DISTINCT host FROM observations").strip(), "mx-e2e")
            self.assertEqual(self.pg.psql("SELECT rule_refs FROM observations ORDER BY id LIMIT 1").strip(),
                             "partner:alpha")

            with open(stack.milter.policy_path, "rb") as f:
                first = hashlib.sha256(f.read()).hexdigest()
            self.assertEqual(self.pg.psql("SELECT host, sha256, mode FROM policy_versions").strip(),
                             "mx-e2e|%s|monitor" % first)
            stack.milter.write_policy(self.policy("enforce"))
            self.assertEqual(stack.milter.reload(), "reloaded policy")
            with open(stack.milter.policy_path, "rb") as f:
                second = hashlib.sha256(f.read()).hexdigest()
            wait_for(lambda: "2" == self.pg.psql("SELECT count(*) FROM policy_versions").strip(), 20,
                     "the reload's policy version")
            self.assertEqual(self.pg.psql("SELECT sha256, mode FROM policy_versions ORDER BY id").split(),
                             ["%s|monitor" % first, "%s|enforce" % second])

            # The server goes away: mail flows, observations wait in the spool.
            self.pg.stop()
            for i in range(3):
                self.assertTrue(stack.postfix.send(mail_from="o%d@other.test" % i, tls="tlsv1_3").accepted)
            wait_for(lambda: self.spooled() == 3, 30, "3 observations in the spool")
            # The milter restarts while they wait; the server comes back after.
            stack.milter.stop()
            stack.milter.start()
            self.pg.start()
            wait_for(lambda: self.count() == 5, 60, "the spooled observations in PostgreSQL")
            self.assertEqual(self.spooled(), 0)
            senders = self.pg.psql("SELECT sender FROM observations ORDER BY id").split()
            self.assertEqual(senders[2:], ["o0@other.test", "o1@other.test", "o2@other.test"])

        out = subprocess.run([BINARY, "-c", stack.milter.policy_path, "report", "--since", "1d", "--format", "csv"],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("alpha", out.stdout)

    def test_a_hung_server_costs_mail_nothing(self):
        """The server stops answering mid-connection (SIGSTOP): mail is not
        delayed, the writer gives up after its 10 s deadline and spools, and
        the rows arrive once the server answers again."""
        with Stack(os.path.join(self.base, "stack"), self.policy()) as stack:
            self.assertTrue(stack.postfix.send(mail_from="a@alpha.test", tls="tlsv1_2").accepted)
            wait_for(lambda: self.count() == 1, 20, "the first observation in PostgreSQL")
            self.pg.pause()
            try:
                for i in range(2):
                    t0 = time.monotonic()
                    self.assertTrue(stack.postfix.send(mail_from="h%d@other.test" % i, tls="tlsv1_3").accepted)
                    self.assertLess(time.monotonic() - t0, 8, "mail waited for the hung database")
                wait_for(lambda: self.spooled() == 2, 40, "2 observations in the spool")
            finally:
                self.pg.resume()
            wait_for(lambda: self.count() == 3, 60, "the spooled observations in PostgreSQL")
            senders = self.pg.psql("SELECT sender FROM observations ORDER BY id").split()
            self.assertEqual(senders, ["a@alpha.test", "h0@other.test", "h1@other.test"])


if __name__ == "__main__":
    unittest.main()
