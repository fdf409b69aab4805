#!/usr/bin/env python3
"""`make demo`: a private Postfix on loopback with tlspolicy-milter and
conf/examples/demo.toml in front of it (`make demo MTA=sendmail`, or
demo.py --mta sendmail: a private Sendmail 8.17 instead). Sends mail from the
demo partner in plaintext and over TLS 1.0, 1.2 and 1.3, prints each SMTP
outcome and the stamped header. Then outbound: a second private Postfix, its
smtp client fed the table `export postfix-tls-policy` writes, delivers to
three loopback partners (acme over TLS 1.3, oldco offering only TLS 1.0,
which the exported map defers, and smallco in plaintext, opportunistic);
`ingest` reads its log into the same store as the milter's inbound rows, and
this month's lines of `report --evidence` are printed. Stops everything it
started."""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))

from milter_fixture import Stack  # noqa: E402
from postfix_harness import PostfixHarness, _wait  # noqa: E402

BIN = os.environ.get("TLSPOLICY_BIN", os.path.join(TOP, "build", "tlspolicy-milter"))

POLICY = os.path.join(TOP, "conf", "examples", "demo.toml")
HEADER = "X-Transport-Security"

SENDS = [
    ("partner, plaintext", "billing@acme.example", ["bob@demo.example"], None),
    ("partner, TLS 1.0", "billing@acme.example", ["bob@demo.example"], "tlsv1"),
    ("partner, TLS 1.2", "billing@acme.example", ["bob@demo.example"], "tlsv1_2"),
    ("partner, TLS 1.3", "billing@acme.example", ["bob@demo.example"], "tlsv1_3"),
    ("anyone, plaintext", "friend@other.example", ["bob@demo.example"], None),
    ("to hr@ (needs TLS 1.3) and bob@, over TLS 1.2", "friend@other.example",
     ["hr@demo.example", "bob@demo.example"], "tlsv1_2"),
]


# Outbound: the partners mail goes to, each at a loopback address of its own,
# all served by one private Postfix; the store the milter and ingest share.
OUTBOUND_POLICY = """
[observations]
database = "{db}"

[[partner]]
name = "oldco"
senders = ["oldco.example"]
require_tls = true
min_version = "TLSv1.2"
action = "reject"

[[partner]]
name = "smallco"
senders = ["smallco.example"]
require_tls = false
min_version = "TLSv1.2"  # opportunistic: when there is TLS, 1.2 or newer
"""
MODERN, LEGACY, PLAIN = "127.0.0.3", "127.0.0.4", "127.0.0.5"
PARTNER_HOSTS = {MODERN: ["acme.example"], LEGACY: ["oldco.example"], PLAIN: ["smallco.example"]}
ONLY = {"TLSv1": "!SSLv2:!SSLv3:!TLSv1.1:!TLSv1.2:!TLSv1.3", "TLSv1.3": "!SSLv2:!SSLv3:!TLSv1:!TLSv1.1:!TLSv1.2"}
OUTBOUND_RCPTS = ["ann@acme.example", "olga@oldco.example", "sam@smallco.example"]


def only(version):
    return ["-o", "smtpd_tls_protocols=" + ONLY[version], "-o", "smtpd_tls_mandatory_protocols=" + ONLY[version]]


def run(*args):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=60)


def deliver(base, policy_path):
    """Sends one message to each partner through a Postfix client fed the exported map; its log."""
    servers = PostfixHarness(os.path.join(base, "partners"), myhostname="partners.example", extra_smtpd={
        MODERN: only("TLSv1.3"), LEGACY: only("TLSv1"), PLAIN: ["-o", "smtpd_tls_security_level=none"]})
    servers.start()
    try:
        d = os.path.join(base, "outbound")
        os.makedirs(d)
        os.chmod(d, 0o755)
        exported = os.path.join(d, "exported")
        r = run("-c", policy_path, "export", "postfix-tls-policy")
        if r.returncode != 0:
            raise RuntimeError("export failed: " + r.stderr)
        with open(exported, "w") as f:
            f.write(r.stdout)
        print("outbound: smtp_tls_policy_maps from `export postfix-tls-policy`:")
        for line in r.stdout.splitlines():
            if line and not line.startswith("#"):
                print("    " + line)
        client = PostfixHarness(os.path.join(d, "pf"), myhostname="mx.demo.example", hosts=PARTNER_HOSTS,
                                extra_main_cf={"relayhost": "", "smtp_tls_security_level": "may",
                                               "smtp_tls_policy_maps": "hash:" + exported,
                                               "smtp_dns_support_level": "disabled",
                                               "smtp_tcp_port": str(servers.port), "smtp_tls_loglevel": "1"})
        client.start()
        try:
            p = subprocess.run(["postmap", "-c", client.config_dir, "hash:" + exported], capture_output=True,
                               text=True, timeout=30)
            if p.returncode != 0:
                raise RuntimeError("postmap: " + p.stderr)
            for rcpt in OUTBOUND_RCPTS:
                if not client.send(mail_from="bob@demo.example", rcpts=[rcpt]).accepted:
                    raise RuntimeError("%s not queued" % rcpt)
            _wait(lambda: all(re.search(r"to=<%s>,.*status=" % re.escape(rcpt), client.maillog())
                              for rcpt in OUTBOUND_RCPTS), 60, "a status line per recipient")
            time.sleep(0.3)  # postlogd writes a moment late
            log = os.path.join(d, "mail.log")
            shutil.copyfile(client.maillog_path, log)
        finally:
            client.stop()
    finally:
        servers.stop()
    return log


def outbound(base, policy_path):
    """Delivers, ingests the client's log into the store, prints this month's evidence lines."""
    log = deliver(base, policy_path)
    print("\nthe Postfix client's log:")
    with open(log) as f:
        for line in f:
            if "TLS connection established" in line or ("postfix/smtp[" in line and "status=" in line):
                print("    " + line.rstrip().split("]: ", 1)[-1])
    r = run("-c", policy_path, "ingest", "postfix", log)
    print("\n$ tlspolicy-milter ingest postfix mail.log")
    for line in r.stderr.splitlines():
        print("    " + line)
    r = run("-c", policy_path, "report", "--evidence", "--since", "1d")
    print("\n$ tlspolicy-milter report --evidence --since 1d   (per rule: this month, inbound and outbound)")
    month = time.strftime("%Y-%m", time.gmtime())
    for line in r.stdout.splitlines():
        if line.startswith(("partner rule", "recipient rule", "month ", month)):
            print("    " + line.rstrip())


def outcome(r):
    lines = ["    MAIL FROM  %s" % r.mail]
    for addr, reply in r.rcpts:
        lines.append("    RCPT TO    <%s> %s" % (addr, reply))
    if r.data_end is not None:
        lines.append("    end of DATA %s" % r.data_end)
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description="tlspolicy-milter behind a private MTA on loopback")
    ap.add_argument("--mta", choices=("postfix", "sendmail"), default=os.environ.get("MTA") or "postfix")
    mta = ap.parse_args().mta
    with open(POLICY) as f:
        policy = f.read()
    base = tempfile.mkdtemp(prefix="tlspolicy-demo.")
    os.chmod(base, 0o755)
    print("MTA: %s, policy: %s\n" % (mta, os.path.relpath(POLICY, TOP)))
    policy += OUTBOUND_POLICY.format(db=os.path.join(base, "observations.sqlite"))
    policy_path = os.path.join(base, "policy.toml")
    with open(policy_path, "w") as f:
        f.write(policy)
    try:
        with Stack(base, policy, mta=mta) as stack:
            for title, sender, rcpts, tls in SENDS:
                r = stack.mx.send(mail_from=sender, rcpts=rcpts, tls=tls)
                print("== %s: <%s>" % (title, sender))
                print(outcome(r))
                if r.accepted:
                    msg = stack.mx.wait_for_message(r.marker)
                    for value in msg.header(HEADER):
                        print("    delivered with  %s: %s" % (HEADER, value))
                else:
                    print("    not delivered")
                print()
            print("milter log:")
            for line in stack.milter.log().splitlines():
                if "stage=" in line:
                    print("    " + line.split("tlspolicy-milter: ", 1)[-1])
            print()
        outbound(base, policy_path)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
