"""A private Postfix on loopback for the postal benchmarks (run-postfix-bench,
faults): one smtpd listener per variant, each with its own smtpd_milters, all
relaying to one smtp-sink. Built on tests/e2e/postfix_harness.py.

Only the listener differs between variants: same Postfix, same queue, same
delivery. (a) is a listener with no milter at all."""

import os
import re
import signal
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))

from postfix_harness import (SMTP_SINK, HarnessError, ManagedProcess, PostfixHarness,  # noqa: E402
                             _listening, _wait, free_port, processes_of_config)

POSTAL = "/usr/sbin/postal"
BUILD = os.path.join(TOP, os.environ.get("BUILD", "build"))  # absolute BUILD stays as it is
TLSPOLICY = os.path.join(BUILD, "tlspolicy-milter")
FLOOR = os.path.join(BUILD, "bench", "floor_milter")
PLAIN = os.path.join(BUILD, "bench", "plain_milter")
HERE = os.path.dirname(os.path.abspath(__file__))


class BenchPostfix(PostfixHarness):
    """PostfixHarness plus extra smtpd listeners on 127.0.0.1:
    listeners = {name: (port, milter or "")}; milter in Postfix syntax.
    sink_dir_files: keep delivered messages as files (faults) or discard them
    (throughput: writing files would be a cost of its own)."""

    def __init__(self, listeners, keep_files=False, extra_main_cf=None, **kw):
        cf = {
            # postal's GnuTLS finds no shared cipher with Postfix's default
            # list (NOTES); the harness already sets ALL:@SECLEVEL=0.
            "tls_medium_cipherlist": "ALL:@SECLEVEL=0",
            "milter_default_action": "tempfail",
        }
        cf.update(extra_main_cf or {})
        super().__init__(extra_main_cf=cf, **kw)
        self.listeners = dict(listeners)
        self.keep_files = keep_files

    def _write_config(self):
        super()._write_config()
        path = os.path.join(self.config_dir, "master.cf")
        with open(path, "a") as f:
            for name, (port, milter) in self.listeners.items():
                f.write("# variant %s\n127.0.0.1:%d inet n - n - - smtpd -o smtpd_milters=%s\n"
                        % (name, port, milter))
        past = time.time() - 60
        os.utime(path, (past, past))

    def _start_sink(self):
        if self.keep_files:
            return super()._start_sink()
        self._sink_log = open(os.path.join(self.workdir, "sink.log"), "wb")
        self._sink = subprocess.Popen(
            [SMTP_SINK, "-u", "postfix", "-h", "sink.bench.test", "127.0.0.1:%d" % self.sink_port, "256"],
            stdin=subprocess.DEVNULL, stdout=self._sink_log, stderr=subprocess.STDOUT,
            start_new_session=True)
        _wait(lambda: _listening("127.0.0.1", self.sink_port) or self._sink.poll() is not None,
              10, "smtp-sink to listen")
        if self._sink.poll() is not None:
            raise HarnessError("smtp-sink exited: " + self._read(self._sink_log.name))

    def start(self):
        super().start()
        for name, (port, _) in self.listeners.items():
            _wait(lambda: _listening("127.0.0.1", port), 20, "listener %s on %d" % (name, port))
        return self

    def pids(self):
        """Postfix's processes (master and daemons) and smtp-sink."""
        out = processes_of_config(self.config_dir)
        if self._sink is not None:
            out.append(self._sink.pid)
        return out

    def queue_size(self):
        """Messages not yet delivered: files in the queue directories."""
        n = 0
        for d in ("maildrop", "incoming", "active", "deferred", "hold"):
            for _, _, files in os.walk(os.path.join(self.queue_dir, d)):
                n += len(files)
        return n

    def wait_queue_empty(self, timeout=120):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.queue_size() == 0:
                return True
            time.sleep(0.25)
        return False


def inet(port):
    """libmilter's spelling and Postfix's, for one loopback port."""
    return "inet:%d@127.0.0.1" % port, "inet:127.0.0.1:%d" % port


def start_milter(kind, workdir, policy=None, socket="unix", name=None, binary=None):
    """Starts one milter: kind is floor, plain or tlspolicy (with policy = path
    of its TOML file; binary another build of it than BUILD's), on a unix
    socket in workdir or a loopback TCP port.
    Returns (ManagedProcess, Postfix's spelling of the socket)."""
    name = name or (kind if policy is None else os.path.basename(policy).split(".")[0])
    if socket == "unix":
        sockdir = os.path.join(workdir, "sockets")
        os.makedirs(sockdir, exist_ok=True)
        os.chmod(sockdir, 0o755)
        path = os.path.join(sockdir, name + ".sock")
        spec = postfix_spec = "unix:" + path
    else:
        spec, postfix_spec = inet(free_port(("127.0.0.1",)))
    log = os.path.join(workdir, "milter-%s.log" % name)
    if kind in ("floor", "plain"):
        # The reference milters leave their socket to the umask: open it to
        # smtpd, which runs as user postfix (ours makes it 0660, group postfix).
        argv = ["/bin/sh", "-c", 'umask 0; exec "$0" "$@"', FLOOR if kind == "floor" else PLAIN, spec]
    else:
        argv = [binary or TLSPOLICY, "-f", "-c", policy, "-p", spec]
    p = ManagedProcess(argv, spec, log, stop_timeout=3)
    p.start()
    return p, postfix_spec


def cpu_seconds(pid):
    """utime + stime of a whole process (every thread), in seconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def tree_seconds(pids):
    """CPU seconds of these processes and of the children they have reaped
    (utime + stime + cutime + cstime). Summed over the test's long-lived
    processes (Postfix's master and daemons, postal, the milters, smtp-sink) at
    two moments, the difference is all the CPU the test used in between, also
    by smtpd processes that came and went (their master reaped them)."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def system_busy():
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def wait_for_quiet(limit=1.0, poll=30, max_wait=1200, out=sys.stdout):
    """Waits until the 1-minute load average is below limit (others compile
    and test on this machine), polling every `poll` s for up to max_wait s."""
    start = time.monotonic()
    while True:
        la = loadavg()
        if la < limit:
            print("load %.2f < %.2f: starting" % (la, limit), file=out, flush=True)
            return la
        waited = time.monotonic() - start
        if waited >= max_wait:
            print("load still %.2f after %d s: measuring anyway (figures are noisier)" % (la, waited),
                  file=out, flush=True)
            return la
        print("load %.2f >= %.2f: waiting (%d s so far)" % (la, limit, waited), file=out, flush=True)
        time.sleep(poll)


def wait_idle(max_busy=15.0, window=3.0, max_wait=900, out=sys.stdout):
    """With the test idle between runs: waits until the CPUs are less than
    max_busy %% busy over `window` s (nobody else compiling or testing), for
    up to max_wait s. Returns the busy %% last seen."""
    start = time.monotonic()
    said = False
    while True:
        b0, t0 = system_busy()
        time.sleep(window)
        b1, t1 = system_busy()
        busy = 100.0 * (b1 - b0) / max(1, t1 - t0)
        if busy < max_busy or time.monotonic() - start > max_wait:
            if said:
                print("      (CPUs %.0f%% busy: going on after %d s)" % (busy, time.monotonic() - start),
                      file=out, flush=True)
            return busy
        if not said:
            print("      (others keep the CPUs %.0f%% busy: waiting)" % busy, file=out, flush=True)
            said = True


class Postal:
    """Debian's postal: `threads` connections at a time, one message per
    connection (-c 1), every connection over STARTTLS (-s 100), bodies of
    0..max_kb KB. Runs until stopped."""

    def __init__(self, workdir, port, threads=8, max_kb=10, sender="bench@partner.example",
                 rcpt_domain="dest.example", users=50):
        self.users = os.path.join(workdir, "postal-users")
        self.senders = os.path.join(workdir, "postal-senders")
        with open(self.users, "w") as f:
            f.write("".join("user%d@%s\n" % (i, rcpt_domain) for i in range(users)))
        with open(self.senders, "w") as f:
            f.write(sender + "\n")
        self.argv = [POSTAL, "-p", str(port), "-t", str(threads), "-c", "1", "-s", "100",
                     "-m", str(max_kb), "-f", self.senders, "127.0.0.1", self.users]
        self.log_path = os.path.join(workdir, "postal-%d.log" % port)
        self.workdir = workdir  # postal writes postal.log (every message sent) into its cwd
        self.proc = None

    def start(self):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True, cwd=self.workdir)
        return self

    def stop(self):
        if self.proc is None:
            return
        for sig, wait in ((signal.SIGINT, 3), (signal.SIGKILL, 5)):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
        self._log.close()
        self.proc = None


# smtpd's summary of each session: "disconnect from h[ip] ehlo=2 starttls=1
# mail=1 rcpt=1 data=1 quit=1 commands=6"; "data=0/1" when DATA failed.
DISCONNECT_RE = re.compile(rb"postfix/smtpd\[\d+\]: disconnect from \S+ (.*)$", re.M)


def sessions_between(maillog, start, end):
    """smtpd sessions logged in maillog bytes [start, end): (with a message
    accepted, all others)."""
    with open(maillog, "rb") as f:
        f.seek(start)
        chunk = f.read(end - start)
    ok = bad = 0
    for m in DISCONNECT_RE.finditer(chunk):
        if re.search(rb"(^| )data=1( |$)", m.group(1)):
            ok += 1
        else:
            bad += 1
    return ok, bad
