"""`probe --domain` against a loopback internet it has not seen
(tests/e2e/probe_world.py): signed and unsigned zones served by nsd, a
validating and a non-validating unbound, MTA-STS policies over HTTPS with a
throwaway CA, SMTP servers with matching and mismatching certificates. One case
per RFC 8461 and RFC 7672 failure, an implicit MX, a resolver and a policy
server that never answer; and `export postfix-tls-policy --probe` turning what
the probe found into dane-only and secure lines. The world starts once for the
class."""

import json
import os
import time
import unittest

from probe_world import World, cert_sha256, spki_sha256

BIN = os.environ.get("TLSPOLICY_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build",
                                                     "tlspolicy-milter"))

POLICY_ENFORCE = "version: STSv1\nmode: enforce\nmx: *.good.test\nmax_age: 86400\n"
POLICY_TESTING = "version: STSv1\r\nmode: testing\r\nmx: mail.elsewhere.test\r\nmax_age: 604800\r\n"
POLICY_NONE = "version: STSv1\nmode: none\nmax_age: 86400\n"
STS_TXT = '_mta-sts IN TXT "v=STSv1; id=20260101"'

TOML = """
[[partner]]
name = "dane"
senders = ["good.test"]
require_tls = true
min_version = "TLSv1.2"

[[partner]]
name = "sts"
senders = ["enforce.test"]
require_tls = true

[[partner]]
name = "neither"
senders = ["mismatch.test", ".sub.good.test"]
require_tls = true
"""


class ProbeDomain(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root for network and mount namespaces")
        t0 = time.monotonic()
        cls.world = w = World()
        ca = w.ca
        good1 = ca.issue("mx1.good", ["mx1.good.test"])
        ca.issue("mx2.good", ["mx2.good.test"])
        ca.issue("mx1.mismatch", ["mx1.mismatch.test"])
        unsigned = ca.issue("mx1.unsigned", ["mx1.unsigned.test"])
        ca.issue("implicit", ["implicit.test"])
        ca.issue("policy", ["mta-sts.%s.test" % d for d in ("good", "mismatch", "none", "nopolicy", "enforce")])
        ca.issue("policy-expired", ["mta-sts.unsigned.test"], expired=True)
        ca.issue("policy-other", ["mta-sts.other.test"])
        cls.good1_spki = spki_sha256(good1)
        cls.ca_sha256 = cert_sha256(ca.cert)
        mx_good = ["@ IN MX 10 mx1.good.test."]
        zones = {
            "good.test": (True, ["@ IN MX 10 mx1", "@ IN MX 20 mx2", "mx1 IN A 127.0.0.11", "mx2 IN A 127.0.0.12",
                                 "_25._tcp.mx1 IN TLSA 3 1 1 " + cls.good1_spki,
                                 "_25._tcp.mx2 IN TLSA 2 0 1 " + cls.ca_sha256,
                                 STS_TXT, "mta-sts IN A 127.0.0.20",
                                 '_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@good.test,https://rpt.good.test/v1"']),
            # TLSA of another certificate; a policy whose mx list names another host.
            "mismatch.test": (True, ["@ IN MX 10 mx1", "mx1 IN A 127.0.0.13",
                                     "_25._tcp.mx1 IN TLSA 3 1 1 " + cls.good1_spki,
                                     STS_TXT, "mta-sts IN A 127.0.0.20"]),
            # Unsigned: TLSA that would match, without DNSSEC; the policy's certificate has expired.
            "unsigned.test": (False, ["@ IN MX 10 mx1", "mx1 IN A 127.0.0.14",
                                      "_25._tcp.mx1 IN TLSA 3 1 1 " + spki_sha256(unsigned),
                                      STS_TXT, "mta-sts IN A 127.0.0.22"]),
            "none.test": (False, mx_good + [STS_TXT, "mta-sts IN A 127.0.0.20"]),
            "enforce.test": (False, mx_good + [STS_TXT, "mta-sts IN A 127.0.0.20"]),
            "nopolicy.test": (False, mx_good + [STS_TXT, "mta-sts IN A 127.0.0.20"]),
            "wrongname.test": (True, mx_good + [STS_TXT, "mta-sts IN A 127.0.0.23",
                                                '_smtp._tls IN TXT "v=TLSRPTv1; rua=ftp://x.test"']),
            "silent.test": (False, mx_good + [STS_TXT, "mta-sts IN A 127.0.0.21"]),
            "implicit.test": (False, ["@ IN A 127.0.0.16"]),
            "nullmx.test": (False, ["@ IN MX 0 ."]),
        }

        def smtp(label, addr):
            return {"addr": addr, "cert": w.path(label + ".pem"), "key": w.path(label + ".key"), "name": label + ".test"}

        servers = {
            "smtp": [smtp("mx1.good", "127.0.0.11"), smtp("mx2.good", "127.0.0.12"), smtp("mx1.mismatch", "127.0.0.13"),
                     smtp("mx1.unsigned", "127.0.0.14"), smtp("implicit", "127.0.0.16")],
            "https": [
                {"addr": "127.0.0.20", "cert": w.path("policy.pem"), "key": w.path("policy.key"),
                 "policies": {"mta-sts.good.test": [200, "text/plain", POLICY_ENFORCE],
                              "mta-sts.enforce.test": [200, "text/plain; charset=utf-8", POLICY_ENFORCE],
                              "mta-sts.mismatch.test": [200, "text/plain", POLICY_TESTING],
                              "mta-sts.none.test": [200, "text/plain", POLICY_NONE]}},
                {"addr": "127.0.0.22", "cert": w.path("policy-expired.pem"), "key": w.path("policy-expired.key"),
                 "policies": {"mta-sts.unsigned.test": [200, "text/plain", POLICY_ENFORCE]}},
                {"addr": "127.0.0.23", "cert": w.path("policy-other.pem"), "key": w.path("policy-other.key"),
                 "policies": {"mta-sts.wrongname.test": [200, "text/plain", POLICY_ENFORCE]}},
            ],
            "silent_tcp": [["127.0.0.21", 443], ["127.0.0.4", 53]],
            "silent_udp": [["127.0.0.4", 53]],
        }
        w.start(zones, servers)
        cls.policy = w.path("policy.toml")
        with open(cls.policy, "w") as f:
            f.write(TOML)
        cls.setup_seconds = time.monotonic() - t0

    @classmethod
    def tearDownClass(cls):
        cls.world.stop()

    def probe(self, domain, resolver="validating", timeout=2, bound=10):
        t0 = time.monotonic()
        r = self.world.run([BIN, "-c", self.policy, "probe", "--domain", domain, "--format", "json",
                            "--timeout", str(timeout)], resolver=resolver)
        elapsed = time.monotonic() - t0
        self.assertLess(elapsed, bound, "probe --domain %s took %.1f s" % (domain, elapsed))
        try:
            rep = json.loads(r.stdout)
        except ValueError:
            self.fail("no JSON from probe --domain %s (exit %d): %r %r" % (domain, r.returncode, r.stdout, r.stderr))
        self.assertEqual(rep["exit"], r.returncode)
        self.assertEqual(rep["schema"], 1)
        return rep

    def host(self, rep, name):
        return [h for h in rep["hosts"] if h["name"] == name][0]

    # ------------------------------------------------------------- DANE, RFC 7672

    def test_signed_zone_with_matching_tlsa_and_enforced_policy(self):
        rep = self.probe("good.test")
        self.assertEqual(rep["exit"], 0, rep)
        self.assertEqual(rep["resolver"]["nameservers"], ["127.0.0.2"])
        self.assertEqual((rep["mx"]["lookup"]["status"], rep["mx"]["lookup"]["dnssec"]), ("answer", True))
        self.assertEqual([(h["name"], h["preference"]) for h in rep["hosts"]], [("mx1.good.test", 10), ("mx2.good.test", 20)])
        mx1, mx2 = self.host(rep, "mx1.good.test"), self.host(rep, "mx2.good.test")
        self.assertEqual(mx1["addresses"], ["127.0.0.11"])
        self.assertTrue(mx1["addresses_dnssec"])
        self.assertEqual(mx1["tlsa"]["records"], ["3 1 1 " + self.good1_spki])
        self.assertTrue(mx1["tlsa"]["usable"], mx1["tlsa"])
        self.assertEqual(mx1["dane"], {"matched": True, "depth": 0, "record": "3 1 1 " + self.good1_spki, "error": ""})
        # DANE-TA: the CA's certificate, one up the presented chain.
        self.assertEqual((mx2["dane"]["matched"], mx2["dane"]["depth"], mx2["dane"]["record"]),
                         (True, 1, "2 0 1 " + self.ca_sha256))
        self.assertEqual(rep["dane"], {"status": "ok", "problems": []})
        self.assertEqual(mx1["probe"]["certificate"]["subject"], "CN=mx1.good.test")
        self.assertTrue(mx1["probe"]["certificate"]["verified"])
        sts = rep["mta_sts"]
        self.assertEqual((sts["status"], sts["mode"], sts["enforce_ready"], sts["uncovered"]), ("ok", "enforce", True, []), sts)
        self.assertEqual(sts["txt"]["id"], "20260101")
        self.assertEqual((sts["policy"]["http_status"], sts["policy"]["max_age"], sts["policy"]["mx"]),
                         (200, 86400, ["*.good.test"]))
        self.assertTrue(sts["policy"]["certificate"]["verified"] and sts["policy"]["certificate"]["name_matches"])
        self.assertTrue(mx1["mta_sts_covered"] and mx2["mta_sts_covered"])
        self.assertEqual(rep["tls_rpt"]["rua"], ["mailto:tlsrpt@good.test", "https://rpt.good.test/v1"])

    def test_tlsa_that_does_not_match_the_presented_certificate(self):
        rep = self.probe("mismatch.test")
        mx1 = self.host(rep, "mx1.mismatch.test")
        self.assertTrue(mx1["tlsa"]["usable"])
        self.assertFalse(mx1["dane"]["matched"], mx1["dane"])
        self.assertIsNone(mx1["dane"]["record"])
        self.assertEqual(rep["dane"]["status"], "mismatch")
        self.assertIn("matches none of its TLSA records", rep["dane"]["problems"][0])
        self.assertEqual(rep["exit"], 0)  # TLS works; DANE's verdict is in the facts

    def test_unsigned_zone_tlsa_is_not_used(self):
        rep = self.probe("unsigned.test")
        mx1 = self.host(rep, "mx1.unsigned.test")
        self.assertEqual(len(mx1["tlsa"]["records"]), 1)
        self.assertEqual((mx1["tlsa"]["lookup"]["dnssec"], mx1["tlsa"]["usable"]), (False, False))
        self.assertIn("the TLSA records are not DNSSEC-validated", mx1["tlsa"]["why_not"])
        self.assertIsNone(mx1["dane"])  # never handed to the handshake
        self.assertEqual(rep["dane"]["status"], "insecure")

    def test_resolver_without_dnssec(self):
        rep = self.probe("good.test", resolver="plain")
        self.assertFalse(rep["mx"]["lookup"]["dnssec"])
        mx1 = self.host(rep, "mx1.good.test")
        self.assertEqual(mx1["tlsa"]["records"], ["3 1 1 " + self.good1_spki])
        self.assertFalse(mx1["tlsa"]["usable"])
        self.assertIn("the TLSA records are not DNSSEC-validated", mx1["tlsa"]["why_not"])
        self.assertEqual(rep["dane"]["status"], "insecure")
        # MTA-STS does not rest on DNSSEC.
        self.assertEqual((rep["mta_sts"]["status"], rep["mta_sts"]["enforce_ready"]), ("ok", True))

    def test_unsigned_mx_answer_leaves_signed_tlsa_unused(self):
        rep = self.probe("none.test")
        mx1 = self.host(rep, "mx1.good.test")
        self.assertTrue(mx1["tlsa"]["lookup"]["dnssec"])
        self.assertFalse(mx1["tlsa"]["usable"])
        self.assertIn("MX answer is not DNSSEC-validated", mx1["tlsa"]["why_not"])
        self.assertEqual(rep["dane"]["status"], "unusable")

    # ---------------------------------------------------------- MTA-STS, RFC 8461

    def test_policy_mx_list_does_not_cover_the_mx_hosts(self):
        sts = self.probe("mismatch.test")["mta_sts"]
        self.assertEqual((sts["status"], sts["mode"], sts["enforce_ready"]), ("ok", "testing", False))
        self.assertEqual(sts["uncovered"], ["mx1.mismatch.test"])
        self.assertEqual(sts["policy"]["mx"], ["mail.elsewhere.test"])
        self.assertTrue(any("not covered by the policy's mx patterns" in p for p in sts["problems"]), sts)

    def test_policy_certificate_expired(self):
        sts = self.probe("unsigned.test")["mta_sts"]
        self.assertEqual(sts["status"], "certificate")
        self.assertFalse(sts["enforce_ready"])
        self.assertFalse(sts["policy"]["certificate"]["verified"])
        self.assertIn("expired", sts["policy"]["certificate"]["verify_error"])

    def test_policy_certificate_names_another_host(self):
        rep = self.probe("wrongname.test")
        sts = rep["mta_sts"]
        self.assertEqual(sts["status"], "certificate")
        cert = sts["policy"]["certificate"]
        self.assertEqual((cert["verified"], cert["name_matches"]), (True, False))
        self.assertFalse(rep["tls_rpt"]["valid"])
        self.assertIn("not a mailto: or https: URI", rep["tls_rpt"]["error"])

    def test_txt_record_without_a_policy(self):
        sts = self.probe("nopolicy.test")["mta_sts"]
        self.assertEqual((sts["status"], sts["policy"]["http_status"]), ("http_status", 404))
        self.assertTrue(sts["txt"]["valid"])
        self.assertIn("only 200 counts", sts["problems"][0])

    def test_modes(self):
        got = {d: self.probe(d)["mta_sts"]["mode"] for d in ("good.test", "mismatch.test", "none.test")}
        self.assertEqual(got, {"good.test": "enforce", "mismatch.test": "testing", "none.test": "none"})
        self.assertFalse(self.probe("none.test")["mta_sts"]["enforce_ready"])

    def test_no_mta_sts_no_tlsa_implicit_mx(self):
        rep = self.probe("implicit.test")
        self.assertEqual(rep["exit"], 0, rep)
        self.assertTrue(rep["mx"]["implicit"])
        self.assertEqual(rep["mx"]["lookup"]["status"], "nodata")
        self.assertEqual([h["name"] for h in rep["hosts"]], ["implicit.test"])
        self.assertEqual(self.host(rep, "implicit.test")["probe"]["certificate"]["subject"], "CN=implicit.test")
        self.assertEqual((rep["mta_sts"]["status"], rep["dane"]["status"], rep["tls_rpt"]["found"]), ("none", "none", False))

    def test_null_mx_and_no_such_domain(self):
        rep = self.probe("nullmx.test")
        self.assertEqual((rep["exit"], rep["mx"]["null_mx"], rep["hosts"]), (8, True, []))
        rep = self.probe("nowhere.good.test")
        self.assertEqual((rep["exit"], rep["mx"]["lookup"]["status"]), (8, "nxdomain"))

    # --------------------------------------------------------------- never hangs

    def test_resolver_that_does_not_answer(self):
        rep = self.probe("good.test", resolver="silent", timeout=2, bound=5)
        self.assertEqual((rep["exit"], rep["mx"]["lookup"]["status"]), (8, "timeout"))

    def test_policy_server_that_accepts_and_stays_silent(self):
        rep = self.probe("silent.test", timeout=1, bound=8)
        sts = rep["mta_sts"]
        self.assertEqual((sts["status"], sts["policy"]["stage"]), ("fetch_failed", "TLS handshake"), sts)
        self.assertIn("within 1 s", sts["policy"]["error"])
        self.assertEqual(rep["exit"], 0)  # its MX host still answers

    # -------------------------------------------------------------- text, export

    def test_text_output(self):
        r = self.world.run([BIN, "-c", self.policy, "probe", "--domain", "good.test", "--timeout", "2"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for line in ("MX: 10 mx1.good.test, 20 mx2.good.test (DNSSEC-validated)",
                     "  DANE: the certificate matches 3 1 1 " + self.good1_spki,
                     "MTA-STS: ok, mode enforce, max_age 86400",
                     "  an enforcing sender can deliver to every MX host: yes",
                     "DANE: ok",
                     "TLS-RPT: reports to mailto:tlsrpt@good.test https://rpt.good.test/v1"):
            self.assertIn(line + "\n", r.stdout)

    def test_export_uses_dane_and_mta_sts_where_the_probe_shows_them(self):
        r = self.world.run([BIN, "-c", self.policy, "export", "postfix-tls-policy", "--probe", "--timeout", "2"])
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = {l.split("\t")[0]: l.split("\t")[1] for l in r.stdout.splitlines() if l and not l.startswith("#")}
        self.assertEqual(lines, {
            "good.test": "dane-only protocols=>=TLSv1.2",
            "enforce.test": "secure match=.good.test servername=hostname",
            "mismatch.test": "encrypt",
            ".sub.good.test": "encrypt",
        })
        self.assertRegex(r.stdout, r"# probed \S+: neither DANE nor an enforced MTA-STS policy holds "
                                   r"\(DANE mismatch: .*; MTA-STS ok, mode testing: .*\), so encrypt\nmismatch\.test\t")
        self.assertIn("good.test: rule dane (line 2)\n# probed ", r.stdout)


if __name__ == "__main__":
    unittest.main()
