"""The daemon's life cycle, behind a real Postfix where mail is involved: a
SIGTERM that drains sessions in flight, a second instance that must not take
over a live socket or pidfile, -p checked like the config file's socket, -u
with a pidfile, -v logging each stage, and monitor mode logging would-be
refusals at MAIL FROM and RCPT TO even when no DATA follows; a reload that
names the settings it cannot apply."""

import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import stat
import subprocess
import tempfile
import time
import unittest

from milter_fixture import BINARY, Stack
from postfix_harness import build_message, client_ssl_context, free_port

POLICY = """
[milter]
mode = "enforce"

[header]
authserv_id = "mx.e2e.test"
strip_forged = true

[defaults]
require_tls = false
action = "tempfail"

[[partner]]
name = "acme"
senders = ["acme.test"]
require_tls = true
min_version = "TLSv1.2"
action = "reject"

[[recipient]]
name = "hr"
recipients = ["hr@dest.test"]
require_tls = true
min_version = "TLSv1.3"
action = "reject"
"""

HEADER = "X-Transport-Security"


def workdir(name):
    base = tempfile.mkdtemp(prefix="tpm-e2e-%s." % name)
    os.chmod(base, 0o755)  # Postfix's own users must reach the queue below it
    return base


def stack(d, policy, socket_spec=None, args=()):
    """A Stack whose milter gets extra command-line arguments."""
    s = Stack(d, policy, socket=socket_spec)
    s.milter.proc.argv += list(args)
    return s


def unix_connects(path):
    """True when something accepts a connection on the unix socket path."""
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(2)
        try:
            c.connect(path)
            return True
        except OSError:
            return False


def tcp_connects(port):
    """True when something accepts a TCP connection on 127.0.0.1:port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def run_milter(args, timeout=15):
    """Runs the binary in the foreground; returns (exit code, output). A
    daemon that should have refused to start but runs is killed and reported."""
    p = subprocess.Popen([BINARY, "-f"] + list(args), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        return "still running after %ds" % timeout, out.decode("utf-8", "replace")
    return p.returncode, out.decode("utf-8", "replace")


def start_milter(args, log_path):
    """Starts the binary in the foreground with its output in log_path."""
    with open(log_path, "ab") as log:
        return subprocess.Popen([BINARY, "-f"] + list(args), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def wait_until(pred, timeout=10, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class SigtermDrains(unittest.TestCase):
    """Issue 10 item 3: `systemctl restart` must not defer mail in flight."""

    def test_end_of_data_after_sigterm_is_answered_then_clean_exit(self):
        self.drain("unix")

    def test_same_over_tcp(self):
        self.drain("inet")

    def drain(self, kind):
        d = workdir("drain")
        sock = os.path.join(d, "milter.sock")
        port = free_port(("127.0.0.1",))
        spec = "unix:" + sock if kind == "unix" else "inet:%d@127.0.0.1" % port
        accepts = (lambda: unix_connects(sock)) if kind == "unix" else (lambda: tcp_connects(port))
        pidfile = os.path.join(d, "milter.pid")
        st = stack(d, POLICY, spec, ["-P", pidfile])
        try:
            with st:
                pf, milter = st.postfix, st.milter
                proc = milter.proc.proc
                wait_until(lambda: os.path.exists(pidfile), what="the pidfile")
                s = smtplib.SMTP("127.0.0.1", pf.port, local_hostname="client.test", timeout=30)
                try:
                    s.ehlo()
                    s.starttls(context=client_ssl_context("tlsv1_2"))
                    s.ehlo()
                    self.assertEqual(s.mail("a@acme.test")[0], 250)
                    self.assertEqual(s.rcpt("bob@dest.test")[0], 250)
                    self.assertEqual(s.docmd("DATA")[0], 354)
                    marker = "drain-%d" % os.getpid()
                    s.send(build_message("a@acme.test", ["bob@dest.test"], marker=marker))

                    mark = len(milter.log())
                    proc.send_signal(signal.SIGTERM)
                    milter.wait_for_log(r"stopping on SIGTERM", after=mark)
                    # New connections are refused while the session is still open.
                    wait_until(lambda: not accepts(), timeout=3,
                               what="the socket to stop accepting")
                    self.assertIsNone(proc.poll(), "exited with a session in flight")

                    s.send(b".\r\n")
                    code, text = s.getreply()
                    self.assertEqual(code, 250, "%s %s\nmilter:\n%s\npostfix:\n%s" % (
                        code, text, milter.log(), pf.maillog()[-3000:]))
                    s.quit()
                finally:
                    s.close()
                msg = pf.wait_for_message(marker)
                self.assertEqual(msg.header(HEADER)[0].split("; ")[-1], "policy=acme result=pass")
                self.assertEqual(proc.wait(timeout=15), 0, milter.log())
                self.assertFalse(os.path.exists(pidfile), "pidfile left behind")
                self.assertFalse(os.path.lexists(sock), "socket left behind")
                log = milter.log()
                self.assertRegex(log, r"(?m)tlspolicy-milter: stopped$")
                self.assertNotIn("libmilter stopped", log)
        finally:
            shutil.rmtree(d, ignore_errors=True)


class SecondInstance(unittest.TestCase):
    """Issue 10 item 5: a second instance must not take over a live socket
    or pidfile."""

    @classmethod
    def setUpClass(cls):
        cls.dir = workdir("second")
        cls.sock = os.path.join(cls.dir, "milter.sock")
        cls.pidfile = os.path.join(cls.dir, "milter.pid")
        cls.stack = stack(cls.dir, POLICY, "unix:" + cls.sock, ["-P", cls.pidfile]).__enter__()
        cls.pf = cls.stack.postfix
        cls.milter = cls.stack.milter
        wait_until(lambda: os.path.exists(cls.pidfile), what="the pidfile")

    @classmethod
    def tearDownClass(cls):
        cls.stack.__exit__(None, None, None)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def assertFirstServes(self):
        self.assertTrue(stat.S_ISSOCK(os.lstat(self.sock).st_mode))
        with open(self.pidfile) as f:
            self.assertEqual(int(f.read()), self.milter.proc.proc.pid)
        r = self.pf.send(mail_from="a@acme.test", tls="tlsv1_2")
        self.assertTrue(r.accepted, r.transcript)
        msg = self.pf.wait_for_message(r.marker)
        self.assertTrue(msg.header(HEADER)[0].endswith("policy=acme result=pass"), msg.text)

    def test_same_unix_socket_refused_and_first_keeps_serving(self):
        other_pid = os.path.join(self.dir, "other.pid")
        rc, out = run_milter(["-c", self.milter.policy_path, "-p", "unix:" + self.sock, "-P", other_pid])
        self.assertEqual(rc, 1, out)
        self.assertIn(self.sock, out)
        self.assertIn("process %d" % self.milter.proc.proc.pid, out)
        self.assertFalse(os.path.exists(other_pid))
        self.assertFirstServes()

    def test_same_pidfile_refused(self):
        rc, out = run_milter(["-c", self.milter.policy_path, "-p", "inet:%d@127.0.0.1" % free_port(("127.0.0.1",)),
                              "-P", self.pidfile])
        self.assertEqual(rc, 1, out)
        self.assertIn("%s names process %d" % (self.pidfile, self.milter.proc.proc.pid), out)
        self.assertFirstServes()

    def test_inet_port_in_use_is_a_clear_error(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            rc, out = run_milter(["-c", self.milter.policy_path, "-p", "inet:%d@127.0.0.1" % port])
        self.assertEqual(rc, 1, out)
        self.assertIn("inet:%d@127.0.0.1" % port, out)
        self.assertIn("in use", out)

    def test_stale_socket_is_replaced(self):
        path = os.path.join(self.dir, "stale.sock")
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(path)  # closed without unlink: nothing answers on it any more
        log = os.path.join(self.dir, "stale.log")
        p = start_milter(["-c", self.milter.policy_path, "-p", "unix:" + path], log)
        try:
            wait_until(lambda: unix_connects(path) or p.poll() is not None, what="the milter to listen")
            self.assertIsNone(p.poll(), read(log))
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=15)
        self.assertIn("removed stale socket " + path, read(log))

    def test_pidfile_symlink_not_followed(self):
        target = os.path.join(self.dir, "target")
        with open(target, "w") as f:
            f.write("keep me\n")
        link = os.path.join(self.dir, "link.pid")
        os.symlink(target, link)
        rc, out = run_milter(["-c", self.milter.policy_path, "-p", "inet:%d@127.0.0.1" % free_port(("127.0.0.1",)),
                              "-P", link])
        self.assertEqual(rc, 1, out)
        self.assertIn(link, out)
        self.assertIn("symbolic link", out)
        with open(target) as f:
            self.assertEqual(f.read(), "keep me\n")


class SocketOption(unittest.TestCase):
    """Issue 10 item 6: -p is checked exactly like [milter] socket."""

    @classmethod
    def setUpClass(cls):
        cls.dir = workdir("sockopt")
        cls.policy = os.path.join(cls.dir, "policy.toml")
        with open(cls.policy, "w") as f:
            f.write(POLICY)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_bad_socket_options_refused_before_anything_starts(self):
        long_path = "/tmp/" + "x" * 110 + ".sock"
        cases = [
            ("unix:", "the path is empty"),
            ("local:", "the path is empty"),
            ("unix:relative/milter.sock", "the path must be absolute"),
            ("relative.sock", "it is not unix:PATH"),
            ("inet:abc@127.0.0.1", "the port must be a number from 1 to 65535"),
            ("inet:0@127.0.0.1", "the port must be a number from 1 to 65535"),
            ("inet:8891@", "the host after '@' is empty"),
            ("unix:" + long_path, "the path is 120 bytes, longer than the 107 bytes a unix socket path can have"),
        ]
        for spec, why in cases:
            with self.subTest(spec=spec):
                rc, out = run_milter(["-c", self.policy, "-p", spec], timeout=5)
                self.assertEqual(rc, 2, out)
                self.assertIn("-p '%s': %s" % (spec, why), out)
        self.assertFalse(os.path.exists(long_path))


class UserWithPidfile(unittest.TestCase):
    """Issue 10 item 7a: -u USER with a pidfile in a directory only root may write."""

    def test_pidfile_written_before_privileges_drop(self):
        d = workdir("user")
        try:
            policy = os.path.join(d, "policy.toml")
            with open(policy, "w") as f:
                f.write(POLICY)
            os.chmod(policy, 0o644)
            pidfile = os.path.join(d, "milter.pid")
            port = free_port(("127.0.0.1",))
            log = os.path.join(d, "milter.log")
            p = start_milter(["-c", policy, "-p", "inet:%d@127.0.0.1" % port, "-u", "nobody", "-P", pidfile], log)
            try:
                # "starting on" is logged once privileges are dropped.
                wait_until(lambda: "starting on" in read(log) or p.poll() is not None, what="the milter to start")
                self.assertIsNone(p.poll(), read(log))
                with open(pidfile) as f:
                    self.assertEqual(int(f.read()), p.pid)
                with open("/proc/%d/status" % p.pid) as f:
                    uid = re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1)
                self.assertEqual(int(uid), pwd.getpwnam("nobody").pw_uid)
            finally:
                p.send_signal(signal.SIGTERM)
                rc = p.wait(timeout=15)
            self.assertEqual(rc, 0, read(log))
        finally:
            shutil.rmtree(d, ignore_errors=True)


class VerboseStages(unittest.TestCase):
    """Issue 10 item 7b: -v logs every stage the milter takes part in."""

    def test_a_line_per_stage(self):
        d = workdir("verbose")
        try:
            with stack(d, POLICY, args=["-v"]) as st:
                pf = st.postfix
                marker = "verbose-%d" % os.getpid()
                s = smtplib.SMTP("127.0.0.1", pf.port, local_hostname="client.test", timeout=30)
                try:
                    s.ehlo()
                    s.starttls(context=client_ssl_context("tlsv1_2"))
                    s.ehlo()
                    self.assertEqual(s.mail("a@acme.test")[0], 250)
                    self.assertEqual(s.rset()[0], 250)  # a transaction given up: abort
                    self.assertEqual(s.mail("a@acme.test")[0], 250)
                    self.assertEqual(s.rcpt("hr@dest.test")[0], 550)  # refused at RCPT
                    self.assertEqual(s.rcpt("bob@dest.test")[0], 250)
                    code, text = s.data(build_message("a@acme.test", ["bob@dest.test"], marker=marker,
                                                      headers=[(HEADER, "elsewhere.test; result=pass")]))
                    self.assertEqual(code, 250, text)
                    queue_id = re.search(r"queued as (\w+)", text.decode()).group(1)
                    s.quit()
                finally:
                    s.close()
                pf.wait_for_message(marker)
                m = st.milter
                m.wait_for_log(r"session \d+: close")
                log = m.log()
                for pattern in (r"session (\d+): negotiate: actions \d+, protocol \d+",
                                r"session \d+: abort",
                                r"session \d+: MAIL FROM <a@acme\.test>: accept",
                                r"session \d+: RCPT TO <hr@dest\.test>: reject",
                                r"session \d+: RCPT TO <bob@dest\.test>: accept",
                                r"session \d+: header %s" % HEADER,
                                r"session \d+: end of message %s: result pass, policy acme" % queue_id,
                                r"session \d+: close"):
                    self.assertRegex(log, pattern)
                ids = set(re.findall(r"session (\d+): (?:MAIL FROM|end of message|close)", log))
                self.assertEqual(len(ids), 1, log)  # one session, one number on every line
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_quiet_without_v(self):
        d = workdir("quiet")
        try:
            with stack(d, POLICY) as st:
                r = st.postfix.send(mail_from="a@acme.test", tls="tlsv1_2")
                self.assertTrue(r.accepted, r.transcript)
                st.postfix.wait_for_message(r.marker)
                self.assertNotRegex(st.milter.log(), r"session \d+: ")
        finally:
            shutil.rmtree(d, ignore_errors=True)


class MonitorWithoutData(unittest.TestCase):
    """Issue 10 item 7c: monitor mode logs a would-be refusal at MAIL FROM and
    RCPT TO at once, so transactions that never reach DATA show up too; each
    transaction is still counted once."""

    def test_quit_after_rcpt_logs_would_reject(self):
        d = workdir("monitor")
        stats = os.path.join(d, "stats.prom")
        policy = POLICY.replace('mode = "enforce"', 'mode = "monitor"') + \
            '\n[stats]\nfile = "%s"\ninterval = 1\n' % stats
        try:
            with stack(d, policy) as st:
                pf, milter = st.postfix, st.milter
                s = smtplib.SMTP("127.0.0.1", pf.port, local_hostname="client.test", timeout=30)
                try:
                    s.ehlo()
                    self.assertEqual(s.mail("a@acme.test")[0], 250)
                    self.assertEqual(s.rcpt("hr@dest.test")[0], 250)
                    s.quit()
                finally:
                    s.close()
                milter.wait_for_log(r"NOQUEUE: stage=mail action=would_reject result=fail policy=acme "
                                    r".*sender=<a@acme\.test> .*reply=\"550 5\.7\.10 ")
                milter.wait_for_log(r"NOQUEUE: stage=rcpt action=would_reject result=fail policy=hr "
                                    r".*rcpt=<hr@dest\.test>")

                # A whole message: one message line, counted once.
                r = pf.send(mail_from="a@acme.test", rcpts=["hr@dest.test"])
                self.assertTrue(r.accepted, r.transcript)
                milter.wait_for_log(r"%s: stage=message action=would_reject result=fail policy=acme,hr"
                                    % r.queue_id)

                def counts():
                    try:
                        with open(stats) as f:
                            text = f.read()
                    except OSError:
                        return None
                    got = dict(re.findall(r'^tlspolicy_milter_decisions_total\{(.*)\} (\d+)$', text, re.M))
                    return got if sum(int(v) for v in got.values()) >= 3 else None
                wait_until(counts, timeout=5, what="three decisions in " + stats)
                time.sleep(1.5)  # one more rewrite: nothing further may appear
                self.assertEqual(counts(), {
                    'stage="mail",action="would_reject",result="fail"': "2",
                    'stage="rcpt",action="would_reject",result="fail"': "1",
                })
        finally:
            shutil.rmtree(d, ignore_errors=True)


class ReloadNamesRestartOnlyKeys(unittest.TestCase):
    """Issue 13 item 2: a reload applies what it can (mode) and names, in one
    warning, the settings that keep their running value until restart."""

    def test_changed_timeout_and_socket_mode_are_named(self):
        d = workdir("reload")
        try:
            policy = os.path.join(d, "policy.toml")
            sock = os.path.join(d, "milter.sock")
            log = os.path.join(d, "milter.log")
            with open(policy, "w") as f:
                f.write('[milter]\nmode = "enforce"\ntimeout = 300\n')
            p = start_milter(["-c", policy, "-p", "unix:" + sock], log)
            try:
                wait_until(lambda: unix_connects(sock) or p.poll() is not None, what="the milter to listen")
                self.assertIsNone(p.poll(), read(log))
                mode_at_start = stat.S_IMODE(os.stat(sock).st_mode)
                with open(policy, "w") as f:
                    f.write('[milter]\nmode = "monitor"\ntimeout = 60\nsocket_mode = "0600"\n')
                p.send_signal(signal.SIGHUP)
                wait_until(lambda: "reloaded policy" in read(log), what="the reload")
                self.assertEqual(stat.S_IMODE(os.stat(sock).st_mode), mode_at_start, "socket_mode applied early")
            finally:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=15)
            out = read(log)
            self.assertIn("reload: [milter] socket_mode, timeout take effect only on restart", out)
            self.assertRegex(out, r"reloaded policy \S+: mode monitor")
        finally:
            shutil.rmtree(d, ignore_errors=True)


class PostgresStoreSpool(unittest.TestCase):
    """Issue 23 item 4: a PostgreSQL store does not start without a usable
    spool, and two instances may not share one. No server is needed: the
    spool is claimed before the store first connects (the URL names a port
    nobody listens on)."""

    def setUp(self):
        self.dir = workdir("spool")
        self.url = "postgresql://tlspolicy:s3cret@127.0.0.1:%d/tlspolicy" % free_port(("127.0.0.1",))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def policy(self, name, spool):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write('[observations]\ndatabase = "%s"\nspool = "%s"\n' % (self.url, spool))
        return path

    def test_spool_in_a_missing_directory_refuses_start_and_check(self):
        spool = os.path.join(self.dir, "gone", "spool.sqlite")
        policy = self.policy("policy.toml", spool)
        rc, out = run_milter(["-c", policy, "-p", "unix:" + os.path.join(self.dir, "m.sock")])
        self.assertEqual(rc, 1, out)
        self.assertIn("not starting: [observations] spool: cannot create the spool's lock file %s.lock" % spool, out)
        self.assertNotIn("wait in the spool", out)
        self.assertNotIn("s3cret", out)
        p = subprocess.run([BINARY, "-c", policy, "--check"], capture_output=True, text=True, timeout=15)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("%s:3:9: [observations] spool '%s' cannot be used: directory %s does not exist"
                      % (policy, spool, os.path.dirname(spool)), p.stderr)

    def test_second_instance_on_the_same_spool_is_refused_naming_the_first(self):
        spool = os.path.join(self.dir, "spool.sqlite")
        first_policy = self.policy("first.toml", spool)
        sock = os.path.join(self.dir, "first.sock")
        log = os.path.join(self.dir, "first.log")
        first = start_milter(["-c", first_policy, "-p", "unix:" + sock], log)
        try:
            wait_until(lambda: unix_connects(sock) or first.poll() is not None, what="the first milter to listen")
            self.assertIsNone(first.poll(), read(log))
            self.assertTrue(os.path.exists(spool), "claimed at start: the spool exists before any outage")
            second_sock = "unix:" + os.path.join(self.dir, "second.sock")
            rc, out = run_milter(["-c", self.policy("second.toml", spool), "-p", second_sock])
            self.assertEqual(rc, 1, out)
            self.assertIn("the spool %s is in use by another tlspolicy-milter (pid %d, config %s, socket unix:%s)"
                          % (spool, first.pid, first_policy, sock), out)
            self.assertFalse(os.path.exists(second_sock[5:]), "the second left nothing behind")
            # --check of the running instance's own file is not refused by its lock.
            p = subprocess.run([BINARY, "-c", first_policy, "--check"], capture_output=True, text=True, timeout=15)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("postgresql://tlspolicy:***@127.0.0.1", p.stdout)
        finally:
            first.send_signal(signal.SIGTERM)
            first.wait(timeout=15)
        rc, out = run_milter(["-c", self.policy("second.toml", spool), "--check"])
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    unittest.main()
