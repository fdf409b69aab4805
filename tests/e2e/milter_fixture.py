"""The milter built from this tree, run for end-to-end tests behind a real MTA:
writes the policy file, starts `build/tlspolicy-milter -f -c FILE -p SOCKET`,
gives its log, and puts a private Postfix (postfix_harness) or Sendmail 8.17
(sendmail_harness) in front of it.

One test, both MTAs. Write the test class as a mixin (NOT a TestCase) and
decorate it with @for_each_mta: that makes one unittest.TestCase per MTA in
the same module, named after the class plus the MTA (EnforcePostfix,
EnforceSendmail; `run.py Sendmail` runs only Sendmail's). In the test:

    @for_each_mta
    class Enforce(StackCase):          # StackCase: one Stack per class
        policy = "..."                  # the policy the class runs with
        hosts = {"127.0.0.3": "mail.partner.test"}
        def test_x(self):
            r = self.mx.send(mail_from="a@acme.test", tls="tlsv1")   # the MTA's harness
            self.assertRefused(r.mail, 550, "5.7.10 TLS 1.2 or newer ...")
            msg = self.assertStamped(r, "policy=acme result=pass")

self.mta is the MTA's adapter (PostfixMta or SendmailMta below). Whatever
differs between the MTAs is said there and only there: the reply text as the
milter set it (Sendmail puts "<addr>... " before it at MAIL and RCPT), the TLS
facts of the MTA's own Received header, the queue id the MTA logged for a
refusal. Assert through the adapter, never weaken an assertion for one MTA.
Stack(workdir, policy, mta="sendmail") is the same without unittest.
"""

import os
import re
import signal
import sys
import time
import unittest

from postfix_harness import ManagedProcess, PostfixHarness, free_port
from sendmail_harness import SendmailHarness

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("TLSPOLICY_BIN", os.path.join(TOP, "build", "tlspolicy-milter"))
SENDMAIL_MC = os.path.join(TOP, "contrib", "sendmail.mc")
# {tls_version} as both MTAs spell it -> the header's version=
HEADER_VERSION = {"TLSv1": "TLS1_0", "TLSv1.1": "TLS1_1", "TLSv1.2": "TLS1_2", "TLSv1.3": "TLS1_3"}


class Milter:
    def __init__(self, workdir, policy_text, socket=None):
        self.workdir = workdir
        self.policy_path = os.path.join(workdir, "policy.toml")
        self.log_path = os.path.join(workdir, "milter.log")
        self.socket = socket or "inet:%d@127.0.0.1" % free_port(("127.0.0.1",))
        self.write_policy(policy_text)
        self.proc = ManagedProcess([BINARY, "-f", "-c", self.policy_path, "-p", self.socket],
                                   self.socket, self.log_path)

    def write_policy(self, text):
        tmp = self.policy_path + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.policy_path)

    def start(self):
        self.proc.start()
        return self

    def stop(self):
        self.proc.stop()

    def log(self):
        return self.proc.output()

    def send_signal(self, sig):
        os.kill(self.proc.proc.pid, sig)

    def wait_for_log(self, pattern, after=0, timeout=10):
        """Waits until the log, from byte offset `after`, matches; returns the match."""
        rx = re.compile(pattern)
        end = time.time() + timeout
        while time.time() < end:
            m = rx.search(self.log()[after:])
            if m:
                return m
            time.sleep(0.05)
        raise AssertionError("milter log never matched /%s/:\n%s" % (pattern, self.log()))

    def reload(self, sig=signal.SIGHUP):
        """Sends the signal and waits for the milter to say how the reload went."""
        mark = len(self.log())
        self.send_signal(sig)
        m = self.wait_for_log(r"(reloaded policy|reload of \S+ failed)", after=mark)
        return "failed" if "failed" in m.group(1) else m.group(1)


# ------------------------------------------------------------ MTA adapters

def _wait_log(read, pattern, after, timeout=10):
    rx = re.compile(pattern, re.M)
    end = time.time() + timeout
    while True:
        m = rx.search(read()[after:])
        if m or time.time() > end:
            break
        time.sleep(0.05)
    if not m:
        raise AssertionError("MTA log never matched /%s/:\n%s" % (pattern, read()[after:]))
    return m


class PostfixMta:
    name = "postfix"
    # Postfix opens the queue file after the first accepted recipient, so a
    # refusal at MAIL or at the first RCPT has no queue id (NOQUEUE).
    queue_id_at_mail = False
    abort_at_starttls = True         # SMFIC_ABORT when the client says STARTTLS
    no_ptr_client = ("unknown", "FAIL")  # ({client_name}, {client_resolve}) without a PTR
    sends_alg_bits = False           # {alg_bits}: never

    # What the milter sees of a client certificate Postfix does not trust, and
    # of none: Postfix sends certificate names only for a trusted one.
    untrusted_cert_seen = "no verified certificate"
    no_cert_seen = "no verified certificate"

    @staticmethod
    def harness(workdir, milter_socket, hosts=None, client_ca=None):
        extra = None
        if client_ca:  # ask every client for a certificate, trust client_ca's
            extra = {"smtpd_tls_ask_ccert": "yes", "smtpd_tls_CAfile": client_ca}
        return PostfixHarness(workdir, milter=milter_socket, hosts=hosts, extra_main_cf=extra)

    @staticmethod
    def milter_text(reply):
        """The reply text as the milter set it: Postfix passes it on as is."""
        return reply.text

    @staticmethod
    def received_tls(msg):
        """(version, cipher, used bits, alg bits) from Postfix's own Received
        header, None for plaintext: "using TLSv1.3 with cipher X (256/256 bits)"."""
        m = re.search(r"using (TLSv[\d.]+) with cipher (\S+) \((\d+)/(\d+) bits\)", msg.received_headers()[0])
        return m.groups() if m else None

    @staticmethod
    def log_mark(mx):
        return len(mx.maillog())

    @staticmethod
    def refusal_queue_id(mx, after, stage, addr):
        """The queue id the MTA itself logged for a milter refusal of addr at
        stage "mail" or "rcpt" (logged after byte offset `after`). Postfix
        has none before the first accepted recipient: "NOQUEUE"."""
        field = "from" if stage == "mail" else "to"
        m = _wait_log(mx.maillog, r"(\w+): milter-reject: %s from \S+: .*\b%s=<%s>"
                      % (stage.upper(), field, re.escape(addr)), after)
        return m.group(1)


class SendmailMta:
    name = "sendmail"
    # Sendmail assigns the queue id at MAIL FROM (macro i, in its stock
    # envfrom list): refusals at MAIL and RCPT have one.
    queue_id_at_mail = True
    abort_at_starttls = False        # only a second HELO, with the TLS macros
    no_ptr_client = ("[127.0.0.2]", "FAIL")
    sends_alg_bits = True            # when the milter asks for it

    # Sendmail's {verify}: FAIL for an untrusted certificate, NO for none.
    untrusted_cert_seen = "an unverified certificate"
    no_cert_seen = "none"

    @staticmethod
    def harness(workdir, milter_socket, hosts=None, client_ca=None):
        return SendmailHarness(workdir, milter=milter_socket, hosts=hosts,
                               filter_lines=sendmail_mc_filter_lines(), client_ca=client_ca)

    @staticmethod
    def milter_text(reply):
        """Sendmail puts the address before the milter's text at MAIL and RCPT:
        "550 5.7.10 <a@acme.test>... TLS required ...". It must be there, for
        the address of that command; what follows is the milter's text."""
        addr = getattr(reply, "addr", None)
        if addr is None:  # end of message: no address, no prefix
            return reply.text
        m = re.fullmatch(r"(\d\.\d+\.\d+) <%s>\.\.\. (.*)" % re.escape(addr), reply.text, re.S)
        if not m:
            raise AssertionError("Sendmail reply without the <%s>... prefix: %s" % (addr, reply))
        return "%s %s" % m.groups()

    @staticmethod
    def received_tls(msg):
        """From Sendmail's Received header: "(version=TLSv1.3 cipher=X
        bits=256/256 verify=NO)"; the harness's .cf adds /${alg_bits}."""
        m = re.search(r"\(version=(TLSv[\d.]+) cipher=(\S+) bits=(\d+)/(\d+) verify=\w+\)",
                      msg.received_headers()[0])
        return m.groups() if m else None

    @staticmethod
    def log_mark(mx):
        return len(mx.log())

    @staticmethod
    def refusal_queue_id(mx, after, stage, addr):
        """Sendmail logs the refusal as "ID: <addr>... text", at MAIL and at RCPT."""
        m = _wait_log(mx.log, r"^(\w+): <%s>\.\.\. " % re.escape(addr), after)
        return m.group(1)


MTAS = (PostfixMta, SendmailMta)


def sendmail_mc_filter_lines():
    """contrib/sendmail.mc's INPUT_MAIL_FILTER line, the milter's S= socket
    left as %(socket)s: the tests run Sendmail with what we tell operators."""
    with open(SENDMAIL_MC) as f:
        lines = [l for l in f.read().splitlines() if l.strip() and not l.startswith("dnl")]
    text = "\n".join(lines)
    if "INPUT_MAIL_FILTER(" not in text or text.count("S=") != 1:
        raise AssertionError("%s: expected one INPUT_MAIL_FILTER with one S=" % SENDMAIL_MC)
    return re.sub(r"S=[^,']+", "S=%(socket)s", text.replace("%", "%%"))


# ------------------------------------------------------------------ stacks

class Stack:
    """A milter with `policy_text` behind a private MTA (mta: "postfix" or
    "sendmail", or an adapter); use with `with`. .mx is the MTA's harness,
    .postfix the same when the MTA is Postfix."""

    def __init__(self, workdir, policy_text, hosts=None, socket=None, mta="postfix", client_ca=None):
        os.makedirs(workdir, exist_ok=True)
        self.mta = mta if not isinstance(mta, str) else {m.name: m for m in MTAS}[mta]
        self.milter = Milter(workdir, policy_text, socket=socket)
        self.mx = self.mta.harness(os.path.join(workdir, self.mta.name), self.milter.socket, hosts,
                                   client_ca=client_ca)
        self.postfix = self.mx if self.mta is PostfixMta else None

    def __enter__(self):
        self.milter.start()
        try:
            self.mx.start()
        except BaseException:
            self.mx.stop()
            self.milter.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.mx.stop()
        self.milter.stop()
        return False


def for_each_mta(cls):
    """Class decorator: one unittest.TestCase per MTA from the mixin `cls`,
    put in cls's module as <Name>Postfix and <Name>Sendmail with .mta set.
    Returns cls itself (still a mixin: the loader does not run it)."""
    if issubclass(cls, unittest.TestCase):
        raise TypeError("%s: @for_each_mta wants a mixin, not a TestCase" % cls.__name__)
    module = sys.modules[cls.__module__]
    for mta in MTAS:
        name = cls.__name__ + mta.name.capitalize()
        sub = type(name, (cls, unittest.TestCase), {"mta": mta, "__module__": cls.__module__,
                                                    "__qualname__": name})
        setattr(module, name, sub)
    return cls


class StackCase:
    """Mixin for @for_each_mta classes: one Stack per class, from the class
    attributes policy (required), hosts and socket_for(dir) (a socket spec,
    default: a TCP port). self.mx is the MTA's harness, self.milter the milter,
    self.mta the adapter. E2E_KEEP=1 keeps the work directory."""
    policy = None
    hosts = None
    client_ca = None  # a CA file: the MTA asks clients for certificates and trusts this CA's
    mta = None  # set by @for_each_mta

    @classmethod
    def socket_for(cls, workdir):
        return None

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.dir = tempfile.mkdtemp(prefix="tpm-e2e-%s." % cls.__name__)
        os.chmod(cls.dir, 0o755)  # Postfix's own users must reach the queue below it
        try:
            cls.stack = Stack(cls.dir, cls.policy, hosts=cls.hosts, socket=cls.socket_for(cls.dir),
                              mta=cls.mta, client_ca=cls.client_ca).__enter__()
        except BaseException:
            import shutil
            if not os.environ.get("E2E_KEEP"):
                shutil.rmtree(cls.dir, ignore_errors=True)
            raise
        cls.mx = cls.stack.mx
        cls.milter = cls.stack.milter

    @classmethod
    def tearDownClass(cls):
        import shutil
        cls.stack.__exit__(None, None, None)
        if not os.environ.get("E2E_KEEP"):
            shutil.rmtree(cls.dir, ignore_errors=True)

    def assertRefused(self, reply, code, text):
        """reply has this code, and the milter's text (as the MTA adapter
        finds it in the reply) contains text."""
        self.assertIsNotNone(reply, "stage not reached")
        self.assertEqual(reply.code, code, str(reply))
        self.assertIn(text, self.mta.milter_text(reply))

    def received_facts(self, msg):
        """"version=V cipher=C bits=U/A" as our header must say it, from the
        MTA's own Received header ("version=none ..." for plaintext)."""
        tls = self.mta.received_tls(msg)
        if not tls:
            return "version=none cipher=none bits=0/0"
        return "version=%s cipher=%s bits=%s/%s" % (HEADER_VERSION[tls[0]], tls[1], tls[2], tls[3])
