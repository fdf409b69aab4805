"""The milter built from this tree, run for end-to-end tests behind a real
Postfix (postfix_harness): writes the policy file, starts
`build/tlspolicy-milter -f -c FILE -p SOCKET`, and gives its log."""

import os
import re
import signal
import time

from postfix_harness import ManagedProcess, PostfixHarness, free_port

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("TLSPOLICY_BIN", os.path.join(TOP, "build", "tlspolicy-milter"))


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


class Stack:
    """A milter with `policy_text` behind a private Postfix; use with `with`."""

    def __init__(self, workdir, policy_text, hosts=None, socket=None):
        os.makedirs(workdir, exist_ok=True)
        self.milter = Milter(workdir, policy_text, socket=socket)
        self.postfix = PostfixHarness(os.path.join(workdir, "postfix"), milter=self.milter.socket,
                                      hosts=hosts)

    def __enter__(self):
        self.milter.start()
        try:
            self.postfix.start()
        except BaseException:
            self.milter.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.postfix.stop()
        self.milter.stop()
        return False
