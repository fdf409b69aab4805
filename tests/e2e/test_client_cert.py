"""Partner identity by client certificate, behind a real Postfix
(smtpd_tls_ask_ccert = yes, smtpd_tls_CAfile = a test CA) and a real
Sendmail 8.17 (confCACERT with the same CA): the right certificate passes,
the wrong CN, a self-signed certificate and none are refused with texts that
say what was seen, and a partner without certificate requirements does not
care what is presented. Certificates come from a throwaway CA made here and
are presented by swaks --tls-cert/--tls-key."""

import os
import shutil
import subprocess
import tempfile
import unittest

from milter_fixture import StackCase, for_each_mta

POLICY = """
[header]
authserv_id = "mx.e2e.test"

[[partner]]
name = "certified"
senders = ["partner.test"]
cert_subjects = ["mx1.partner.test", ".mx.partner.test"]
cert_issuers = ["Test Partner CA"]
action = "reject"

[[partner]]
name = "plain"
senders = ["plain.test"]
require_tls = true
action = "reject"
"""


def openssl(*args):
    subprocess.run(("openssl",) + args, check=True, capture_output=True)


class Pki:
    """A CA and client certificates in `dir`; each cert is (cert, key) paths."""

    def __init__(self, dir):
        self.dir = dir
        self.ca_key, self.ca = self.path("ca.key"), self.path("ca.pem")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", self.ca_key, "-out", self.ca, "-days", "2", "-subj", "/O=Tests/CN=Test Partner CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
        os.chmod(dir, 0o755)
        for f in os.listdir(dir):
            os.chmod(self.path(f), 0o644)

    def path(self, name):
        return os.path.join(self.dir, name)

    def issue(self, name, cn, self_signed=False):
        key, cert, csr = self.path(name + ".key"), self.path(name + ".pem"), self.path(name + ".csr")
        if self_signed:
            openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + cn)
        else:
            openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", csr, "-subj", "/O=Partner/CN=" + cn)
            ext = self.path(name + ".ext")
            with open(ext, "w") as f:
                f.write("extendedKeyUsage=clientAuth\n")
            openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key, "-CAcreateserial",
                    "-out", cert, "-days", "2", "-extfile", ext)
        return cert, key


@for_each_mta
class ClientCert(StackCase):
    policy = POLICY

    @classmethod
    def setUpClass(cls):
        cls.pki_dir = tempfile.mkdtemp(prefix="tpm-e2e-pki.")
        cls.pki = Pki(cls.pki_dir)
        cls.right = cls.pki.issue("right", "mx1.partner.test")
        cls.sub = cls.pki.issue("sub", "a.mx.partner.test")
        cls.wrong = cls.pki.issue("wrong", "mail.other.test")
        cls.selfsigned = cls.pki.issue("self", "mx1.partner.test", self_signed=True)
        cls.client_ca = cls.pki.ca
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.pki_dir, ignore_errors=True)

    def send(self, sender, cert=None, tls="tlsv1_2"):
        args = ("--tls-cert", cert[0], "--tls-key", cert[1]) if cert else ()
        return self.mx.send(mail_from=sender, rcpts=["x@dest.test"], tls=tls, swaks_args=args)

    def test_right_certificate_passes(self):
        for cert, tls in ((self.right, "tlsv1_2"), (self.sub, "tlsv1_3")):
            with self.subTest(cert=cert[0], tls=tls):
                r = self.send("a@partner.test", cert, tls)
                self.assertTrue(r.accepted, r.transcript)
                msg = self.mx.wait_for_message(r.marker)
                self.assertEqual(msg.header("X-Transport-Security")[0],
                                 "mx.e2e.test; %s; policy=certified result=pass" % self.received_facts(msg))

    def test_wrong_cn_refused(self):
        r = self.send("a@partner.test", self.wrong)
        self.assertRefused(r.mail, 550, "5.7.10 client certificate for mx1.partner.test or .mx.partner.test "
                                        "required for partner.test (got CN=mail.other.test)")
        self.milter.wait_for_log(r"stage=mail action=reject .*cert=verified cert_subject=mail.other.test "
                                 r"cert_issuer=Test\?Partner\?CA")

    def test_self_signed_refused(self):
        r = self.send("a@partner.test", self.selfsigned)
        self.assertRefused(r.mail, 550, "5.7.10 verified client certificate required for partner.test (got %s)"
                           % self.mta.untrusted_cert_seen)

    def test_no_certificate_refused(self):
        r = self.send("a@partner.test")
        self.assertRefused(r.mail, 550, "5.7.10 verified client certificate required for partner.test (got %s)"
                           % self.mta.no_cert_seen)

    def test_plaintext_refused(self):
        r = self.mx.send(mail_from="a@partner.test", rcpts=["x@dest.test"])
        self.assertRefused(r.mail, 550, "5.7.10 verified client certificate required for partner.test (got plaintext)")

    def test_partner_without_certificate_requirements_does_not_care(self):
        for cert in (self.selfsigned, self.wrong, None):
            with self.subTest(cert=cert and cert[0]):
                r = self.send("a@plain.test", cert)
                self.assertTrue(r.accepted, r.transcript)
                msg = self.mx.wait_for_message(r.marker)
                self.assertTrue(msg.header("X-Transport-Security")[0].endswith("policy=plain result=pass"))


if __name__ == "__main__":
    unittest.main()
