#!/usr/bin/env python3
"""`make demo`: a private Postfix on loopback with tlspolicy-milter and
conf/examples/demo.toml in front of it (`make demo MTA=sendmail`, or
demo.py --mta sendmail: a private Sendmail 8.17 instead). Sends mail from the
demo partner in plaintext and over TLS 1.0, 1.2 and 1.3, prints each SMTP
outcome and the stamped header, and stops everything it started."""

import argparse
import os
import shutil
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))

from milter_fixture import Stack  # noqa: E402

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
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
