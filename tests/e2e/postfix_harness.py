"""A throwaway, real Postfix on loopback for end-to-end milter tests.
Each PostfixHarness owns a private config/queue/data dir under its workdir, an
smtpd on 127.0.0.1 and 127.0.0.2 with TLS 1.0-1.3, an optional smtpd_milters
entry, and an smtp-sink that keeps every relayed message as a file. Python 3
stdlib only; needs root, postfix, swaks and openssl (unshare for hosts=).

    with PostfixHarness(workdir, milter="inet:9999@127.0.0.1") as pf:
        r = pf.send(tls="tlsv1_3", rcpts=["a@dest.test"], headers={"Subject": "hi"})
        r.mail, r.rcpt("a@dest.test"), r.data_end   # Reply(code, text)
        msg = pf.wait_for_message(r.marker)          # SinkMessage
        assert "using TLSv1.3" in msg.received_headers()[0]
    pf.send_session([{...}, {...}])  several messages on one connection (smtplib)
    ManagedProcess(argv, socket, log)  runs a milter until its socket listens
    MilterTap(socket)                  records the milter protocol, per stage

smtpd runs as user postfix: a unix milter socket must be writable by it;
inet sockets avoid that. The milter sees the client from 127.0.0.x; names for
those come from hosts= (see PostfixHarness).
"""

import errno
import grp
import os
import pty
import pwd
import re
import select
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import uuid
from email.utils import formatdate

POSTFIX = "/usr/sbin/postfix"
SMTP_SINK = "/usr/sbin/smtp-sink"
SWAKS = "/usr/bin/swaks"
OPENSSL = "/usr/bin/openssl"
POSTFIX_META_DIR = "/etc/postfix"  # postfix-files: the package's list of dirs

CLIENT_ADDRS = ("127.0.0.1", "127.0.0.2")
TLS_VERSIONS = ("tlsv1", "tlsv1_1", "tlsv1_2", "tlsv1_3")
# What Postfix puts in "using ..." / {tls_version} for each client choice.
POSTFIX_TLS_NAME = {"tlsv1": "TLSv1", "tlsv1_1": "TLSv1.1",
                    "tlsv1_2": "TLSv1.2", "tlsv1_3": "TLSv1.3"}
# OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 signatures) at the default level 1.
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"


class HarnessError(RuntimeError):
    pass


_CERT_CACHE = {}  # myhostname -> (cert PEM, key PEM)


# ---------------------------------------------------------------- utilities

def free_port(hosts=CLIENT_ADDRS):
    """A TCP port free on every given loopback address (small race, fine here)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((hosts[0], 0))
            port = s.getsockname()[1]
        if port < 10000:
            continue
        try:
            for h in hosts:
                with socket.socket() as s:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind((h, port))
            return port
        except OSError:
            continue
    raise HarnessError("no free port")


def _listening(addr, port):
    """True if addr:port is in LISTEN state, read from /proc so that no probe
    connection reaches smtpd (a probe would show up in the milter's log)."""
    want = "%s:%04X" % ("".join("%02X" % int(b) for b in reversed(addr.split("."))), port)
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                parts = line.split()
                if parts[1] == want and parts[3] == "0A":
                    return True
    except OSError:
        pass
    return False


def _wait(pred, timeout, what, step=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise HarnessError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(step)


def _run_with_pty_stderr(argv, timeout=30, env=None):
    """Run a postfix admin command. postfix(1) reports errors on stderr only when
    stderr is a terminal, else only to syslog (nothing, without /dev/log), so
    give it a pty and capture what it says."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave,
                             stderr=slave, env=env, close_fds=True)
    finally:
        os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            r, _, _ = select.select([master], [], [], 0.1)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError as e:  # EIO once the child side is closed
                    if e.errno != errno.EIO:
                        raise
                    chunk = b""
                if not chunk:
                    break
                out += chunk
            elif p.poll() is not None:
                break
            if time.monotonic() > deadline:
                p.kill()
                break
    finally:
        os.close(master)
    return p.wait(), out.decode("utf-8", "replace").replace("\r\n", "\n")


def _copy_pty(fd, path):
    """Copy a pty's output to a file until every writer has closed it."""
    with open(path, "ab") as out:
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: no writer left
                break
            if not chunk:
                break
            out.write(chunk.replace(b"\r\n", b"\n"))
            out.flush()
    os.close(fd)


def _proc_mail_config(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            env = f.read().split(b"\0")
    except OSError:
        return None
    for kv in env:
        if kv.startswith(b"MAIL_CONFIG="):
            return kv[len(b"MAIL_CONFIG="):].decode("utf-8", "replace")
    return None


def _is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True  # gone


def processes_of_config(config_dir):
    """Live pids whose MAIL_CONFIG is config_dir: the Postfix instance's own
    processes (master exports MAIL_CONFIG to every daemon), and no one else's."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            pid = int(name)
            if _proc_mail_config(pid) == config_dir and not _is_zombie(pid):
                pids.append(pid)
    return pids


def _milter_for_postfix(spec):
    """Postfix wants inet:HOST:PORT; libmilter (and our SPEC) write inet:PORT@HOST."""
    m = re.fullmatch(r"inet:(\d+)@(.+)", spec)
    if m:
        return "inet:%s:%s" % (m.group(2), m.group(1))
    m = re.fullmatch(r"inet6:(\d+)@(.+)", spec)
    if m:
        return "inet:[%s]:%s" % (m.group(2), m.group(1))
    if spec.startswith("local:"):
        return "unix:" + spec[len("local:"):]
    return spec


# ------------------------------------------------------------ SMTP results

class Reply:
    """One SMTP reply: code (int) and text (continuation lines joined by \\n)."""

    def __init__(self, code, text):
        self.code = code
        self.text = text

    @property
    def ok(self):
        return self.code is not None and 200 <= self.code < 400

    def __repr__(self):
        return "Reply(%r, %r)" % (self.code, self.text)

    def __str__(self):
        return "%s %s" % (self.code, self.text)


class SendResult:
    """Outcome of one message.

    mail, data, data_end: Reply or None (None = stage not reached);
    rcpts: list of (address, Reply or None); accepted: the message was queued;
    queue_id: from "250 2.0.0 Ok: queued as ID"; stages: every (command, Reply)
    in order, including connect/EHLO/STARTTLS; transcript: raw client log;
    marker: the value of the X-Harness-Marker header the harness added."""

    def __init__(self):
        self.stages = []
        self.mail = None
        self.rcpts = []
        self.data = None
        self.data_end = None
        self.accepted = False
        self.queue_id = None
        self.transcript = ""
        self.returncode = None
        self.marker = None
        self.message = b""  # the DATA content exactly as handed to the client
        self.tls = None  # client's view: (protocol, cipher, bits), e.g. ("TLSv1.3", ...)

    def rcpt(self, addr):
        for a, r in self.rcpts:
            if a == addr:
                return r
        raise KeyError(addr)

    def __repr__(self):
        return ("SendResult(accepted=%r, queue_id=%r, mail=%r, rcpts=%r, data=%r, "
                "data_end=%r)" % (self.accepted, self.queue_id, self.mail, self.rcpts,
                                  self.data, self.data_end))


_QUEUED_RE = re.compile(r"queued as ([0-9A-Za-z]+)")


def _finish(res):
    if res.data_end is not None and res.data_end.code == 250:
        res.accepted = True
        m = _QUEUED_RE.search(res.data_end.text)
        if m:
            res.queue_id = m.group(1)
    return res


def parse_swaks_transcript(text, rcpt_addrs=()):
    """Turn swaks' transcript into a SendResult. Sent lines start with '->'
    (or '~>' inside TLS), replies with '<-' / '<**' (or '<~' / '<~*')."""
    res = SendResult()
    res.transcript = text
    cmd = "CONNECT"
    in_data = False
    cur = []  # lines of the reply being read
    rcpt_i = 0

    def flush():
        nonlocal cur, rcpt_i
        if not cur:
            return
        code = int(cur[0][:3]) if cur[0][:3].isdigit() else None
        reply = Reply(code, "\n".join(l[4:] for l in cur))
        cur = []
        res.stages.append((cmd, reply))
        verb = cmd.split(" ", 1)[0].upper()
        if verb == "MAIL":
            res.mail = reply
        elif verb == "RCPT":
            addr = rcpt_addrs[rcpt_i] if rcpt_i < len(rcpt_addrs) else cmd[8:].strip("<> ")
            res.rcpts.append((addr, reply))
            rcpt_i += 1
        elif verb == "DATA":
            res.data = reply
        elif cmd == ".":
            res.data_end = reply

    m = re.search(r"^=== TLS started with cipher ([^:]+):([^:]+):(\d+)", text, re.M)
    if m:
        res.tls = (m.group(1), m.group(2), int(m.group(3)))
    for line in text.splitlines():
        m = re.match(r"^ *(<~\*|<\*\*|->|~>|<-|<~) ?(.*)$", line)
        if not m:
            continue
        arrow, body = m.groups()
        if arrow in ("->", "~>"):
            flush()
            if in_data:
                if body == ".":
                    in_data = False
                    cmd = "."
                continue
            cmd = body
            if body.upper() == "DATA":
                in_data = None  # DATA content starts after the 354
        else:
            body = body.lstrip(" ")
            if in_data is None and cur == [] and body[:3] == "354":
                cur.append(body)
                flush()
                in_data = True
                continue
            cur.append(body)
            if len(body) < 4 or body[3] != "-":
                flush()
    flush()
    return _finish(res)


# --------------------------------------------------------- delivered mail

class SinkMessage:
    """A message as smtp-sink stored it. smtp-sink writes its own pseudo headers
    (X-Client-Addr, X-Mail-Args, X-Rcpt-Args..., a 3-line Received), then the
    message as received with CRLF turned into LF, then one empty line."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.raw = f.read()
        lines = self.raw.split(b"\n")
        sink_hdr = {}
        i = 0
        while i < len(lines) and not lines[i].startswith(b"Received: "):
            k, _, v = lines[i].decode("utf-8", "replace").partition(": ")
            sink_hdr.setdefault(k, []).append(v)
            i += 1
        i += 3  # smtp-sink's own Received: header is always three lines
        body = b"\n".join(lines[i:])
        if body.endswith(b"\n\n"):
            body = body[:-1]
        self.content = body  # the message bytes (LF line ends), headers included
        self.sink_headers = sink_hdr
        self.mail_from = _envelope_addr(sink_hdr.get("X-Mail-Args", [""])[0])
        self.rcpt_to = [_envelope_addr(a) for a in sink_hdr.get("X-Rcpt-Args", [])]
        self.text = self.content.decode("utf-8", "replace")
        head, _, self.body = self.text.partition("\n\n")
        self.headers = []  # [(name, value)] in order, folded lines joined with \n
        for hl in head.split("\n"):
            if hl[:1] in (" ", "\t") and self.headers:
                n, v = self.headers[-1]
                self.headers[-1] = (n, v + "\n" + hl)
            elif ":" in hl:
                n, _, v = hl.partition(":")
                self.headers.append((n, v.lstrip(" ")))

    def header(self, name):
        """All values of a header, in order (case-insensitive name)."""
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def received_headers(self):
        return self.header("Received")

    def __repr__(self):
        return "SinkMessage(%r)" % self.path


def _envelope_addr(args):
    m = re.match(r"(?:(?:FROM|TO):)?<([^>]*)>", args, re.I)
    return m.group(1) if m else args


# ----------------------------------------------------------------- harness

class SinkHarness:
    """What PostfixHarness and SendmailHarness share: use as a context manager
    (start()/stop() are the MTA's own), and an smtp-sink on sink_port that keeps
    every message relayed to it as a file under sink_dir."""

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _end_leftovers(self, pids, what):
        """Waits up to 5 s for pids() to come back empty, then kills what is left."""
        try:
            _wait(lambda: not pids(), 5, what)
        except HarnessError:
            for pid in pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def _stop_sink(self):
        if self._sink is not None:
            if self._sink.poll() is None:
                self._sink.terminate()
                try:
                    self._sink.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._sink.kill()
                    self._sink.wait()
            self._sink_log.close()
            self._sink = None

    def _start_sink(self):
        # Template under sink/: strftime, then smtp-sink appends a random suffix.
        tmpl = os.path.join(self.sink_dir, "%Y%m%d-%H%M%S.")
        self._sink_log = open(os.path.join(self.workdir, "sink.log"), "wb")
        self._sink = subprocess.Popen(
            [SMTP_SINK, "-u", "postfix", "-h", "sink.harness.test", "-d", tmpl,
             "127.0.0.1:%d" % self.sink_port, "64"],
            stdin=subprocess.DEVNULL, stdout=self._sink_log, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            _wait(lambda: _listening("127.0.0.1", self.sink_port) or self._sink.poll() is not None,
                  10, "smtp-sink to listen")
        except HarnessError:
            raise HarnessError("smtp-sink did not start: " + self._read(self._sink_log.name))
        if self._sink.poll() is not None:
            raise HarnessError("smtp-sink exited: " + self._read(self._sink_log.name))

    @staticmethod
    def _read(path):
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- delivered messages

    def _sink_pid_open_files(self):
        if self._sink is None:
            return set()
        d = "/proc/%d/fd" % self._sink.pid
        out = set()
        try:
            for fd in os.listdir(d):
                try:
                    out.add(os.readlink(os.path.join(d, fd)))
                except OSError:
                    pass
        except OSError:
            pass
        return out

    def messages(self):
        """Every completely delivered message, oldest first. A file smtp-sink
        still holds open is a delivery in progress, so it is left out."""
        busy = self._sink_pid_open_files()
        out = []
        for root, _, files in os.walk(self.sink_dir):
            for n in files:
                p = os.path.join(root, n)
                if p not in busy:
                    out.append(p)
        out.sort(key=lambda p: (os.stat(p).st_mtime_ns, p))
        return [SinkMessage(p) for p in out]

    def find_messages(self, marker):
        """Delivered messages containing marker (bytes or str) anywhere."""
        if isinstance(marker, str):
            marker = marker.encode()
        return [m for m in self.messages() if marker in m.raw]

    def wait_for_message(self, marker, timeout=10):
        """The single delivered message containing marker; waits for it."""
        msgs = _wait(lambda: self.find_messages(marker), timeout,
                     "a delivered message with %r" % marker)
        if len(msgs) > 1:
            raise HarnessError("%d messages contain %r" % (len(msgs), marker))
        return msgs[0]

    def wait_for_messages(self, count, marker=None, timeout=10):
        """Wait until at least count delivered messages (containing marker) exist."""
        get = (lambda: self.find_messages(marker)) if marker else self.messages
        return _wait(lambda: (lambda m: m if len(m) >= count else None)(get()),
                     timeout, "%d delivered messages" % count)

    def assert_not_delivered(self, marker, wait=1.0):
        """Give the queue `wait` seconds, then fail if marker was delivered."""
        time.sleep(wait)
        found = self.find_messages(marker)
        if found:
            raise AssertionError("unexpectedly delivered: %r" % found)


class PostfixHarness(SinkHarness):
    """A private Postfix instance. Use as a context manager, or start()/stop().

    workdir: where everything lives (created; None = a temp dir removed on stop
      unless E2E_KEEP=1). Must be reachable by user postfix: its parents need
      o+x (a mkdtemp() parent is 0700: pass workdir=None or chmod it).
    milter: a socket (Postfix "unix:/path", "inet:host:port"; libmilter's
      "inet:PORT@HOST" and "local:" are translated) or a list of them.
    milter_macros_override: {"connect": "j {daemon_name} ...", ...} sets
      milter_<stage>_macros; stages: connect helo mail rcpt data eoh
      end_of_data unknown_command (full parameter names are accepted too).
    extra_main_cf: further main.cf settings, applied last.
    full_checks: run "postfix check" and postfix-script's start checks
      (seconds slower; the default builds the queue directories itself).
    hosts: {"127.0.0.2": "mail.partner.test"}: client names for Postfix. Its
      daemons run in a private mount namespace (unshare -m) where a private
      file is bind-mounted on /etc/hosts; the system file is never touched.
      Postfix forward-confirms the name, which the same file provides.
    extra_smtpd: {"127.0.0.3": ["-o", "smtpd_tls_security_level=none"], ...}:
      further smtpd listeners on other loopback addresses, same port, each
      with its own master.cf -o overrides (a server per TLS setup).
    extra_services: further master.cf lines, e.g.
      ["tlsproxy  unix  -       -       n       -       0       tlsproxy"].
    """

    def __init__(self, workdir=None, milter=None, milter_macros_override=None,
                 extra_main_cf=None, myhostname="mx.harness.test", full_checks=False,
                 hosts=None, extra_smtpd=None, extra_services=None):
        self._tmp = workdir is None
        self.workdir = os.path.abspath(workdir or tempfile.mkdtemp(prefix="pfh."))
        self.config_dir = os.path.join(self.workdir, "etc")
        self.queue_dir = os.path.join(self.workdir, "queue")
        self.data_dir = os.path.join(self.workdir, "data")
        self.sink_dir = os.path.join(self.workdir, "sink")
        self.tls_dir = os.path.join(self.workdir, "tls")
        self.maillog_path = os.path.join(self.workdir, "maillog")
        self.master_out = os.path.join(self.workdir, "master.out")
        self.milters = [] if milter is None else (
            [milter] if isinstance(milter, str) else list(milter))
        self.macros = dict(milter_macros_override or {})
        self.extra = dict(extra_main_cf or {})
        self.myhostname = myhostname
        self.full_checks = full_checks
        self.hosts = dict(hosts or {})
        self.extra_smtpd = dict(extra_smtpd or {})
        self.extra_services = list(extra_services or [])
        self.port = None
        self.sink_port = None
        self._master = None
        self._sink = None

    # -- lifecycle

    def start(self):
        if os.geteuid() != 0:
            raise HarnessError("PostfixHarness needs root")
        for tool in (POSTFIX, SMTP_SINK, SWAKS, OPENSSL):
            if not os.access(tool, os.X_OK):
                raise HarnessError("missing %s (apt-get install postfix swaks openssl)" % tool)
        self._prepare_dirs()
        self._make_cert()
        self.port = free_port(CLIENT_ADDRS + tuple(self.extra_smtpd))
        self.sink_port = free_port(("127.0.0.1",))
        self._write_config()
        self._start_sink()
        self._start_postfix()
        return self

    def _prepare_dirs(self):
        pf = pwd.getpwnam("postfix")
        os.makedirs(self.workdir, exist_ok=True)
        os.chmod(self.workdir, 0o755)
        # Every parent must be searchable by user postfix, or daemons die with
        # an unhelpful "chdir ... Permission denied" deep in the maillog.
        p = os.path.dirname(self.workdir)
        while p != "/":
            if not os.stat(p).st_mode & 0o001:
                raise HarnessError("%s is not searchable by user postfix (chmod o+x "
                                   "it or use another workdir)" % p)
            p = os.path.dirname(p)
        for d in (self.config_dir, self.queue_dir, self.tls_dir):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        for d in (self.data_dir, self.sink_dir):
            os.makedirs(d, exist_ok=True)
            os.chown(d, pf.pw_uid, pf.pw_gid)
            os.chmod(d, 0o755)

    def _make_cert(self):
        self.cert_file = os.path.join(self.tls_dir, "cert.pem")
        self.key_file = os.path.join(self.tls_dir, "key.pem")
        if os.path.exists(self.cert_file) and os.path.exists(self.key_file):
            return
        # RSA keygen takes 0.1-1 s here, so one key per process and hostname.
        cached = _CERT_CACHE.get(self.myhostname)
        if cached is None:
            # RSA, so that every TLS 1.0 RSA/ECDHE-RSA suite is available too.
            p = subprocess.run(
                [OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                 "-subj", "/CN=" + self.myhostname, "-addext",
                 "subjectAltName=DNS:" + self.myhostname,
                 "-keyout", self.key_file, "-out", self.cert_file],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
            if p.returncode != 0:
                raise HarnessError("openssl req failed: " + p.stderr)
            with open(self.cert_file, "rb") as c, open(self.key_file, "rb") as k:
                _CERT_CACHE[self.myhostname] = (c.read(), k.read())
        else:
            for path, data in zip((self.cert_file, self.key_file), cached):
                with open(path, "wb") as f:
                    f.write(data)
        os.chmod(self.key_file, 0o600)

    def main_cf(self):
        """The main.cf settings as a dict (before extra_main_cf is applied)."""
        w = self.workdir
        cf = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue_dir,
            "data_directory": self.data_dir,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": self.myhostname,
            "mydomain": "harness.test",
            "myorigin": "$myhostname",
            "mydestination": "",
            "local_recipient_maps": "",
            "alias_maps": "",
            "alias_database": "",
            # Only 127.0.0.1 is an interface address (127.0.0.2 is merely
            # routed to lo): naming it here is a fatal error. master.cf binds
            # 127.0.0.2 explicitly instead.
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtpd_relay_restrictions": "permit_mynetworks, reject",
            "relayhost": "[127.0.0.1]:%d" % self.sink_port,
            "smtp_tls_security_level": "none",
            # Logging that needs no syslog: postlogd writes this file.
            "maillog_file": self.maillog_path,
            "maillog_file_prefixes": w,
            "smtpd_banner": "$myhostname ESMTP harness",
            "biff": "no",
            "delay_warning_time": "0",
            "smtpd_tls_security_level": "may",
            "smtpd_tls_cert_file": self.cert_file,
            "smtpd_tls_key_file": self.key_file,
            "smtpd_tls_protocols": ">=TLSv1",
            "smtpd_tls_mandatory_protocols": ">=TLSv1",
            "smtpd_tls_ciphers": "medium",
            "tls_medium_cipherlist": "ALL:@SECLEVEL=0",
            "smtpd_tls_received_header": "yes",
            "smtpd_tls_loglevel": "1",
            # Fail fast in tests rather than retry for minutes.
            "smtp_connect_timeout": "5s",
            "milter_connect_timeout": "5s",
            "milter_protocol": "6",
            "milter_default_action": "tempfail",
        }
        if self.milters:
            cf["smtpd_milters"] = ", ".join(_milter_for_postfix(m) for m in self.milters)
        for k, v in self.macros.items():
            name = k if k.startswith("milter_") else "milter_%s_macros" % k
            cf[name] = v
        return cf

    def _write_config(self):
        cf = self.main_cf()
        cf.update(self.extra)
        with open(os.path.join(self.config_dir, "main.cf"), "w") as f:
            f.write("# generated by tests/e2e/postfix_harness.py\n")
            for k, v in cf.items():
                f.write("%s = %s\n" % (k, v))
        smtpd = "inet  n       -       n       -       -       smtpd"
        services = [
            # name            type  private unpriv chroot wakeup maxproc command
            "127.0.0.1:%d %s" % (self.port, smtpd),
            "127.0.0.2:%d %s" % (self.port, smtpd),
        ] + ["%s:%d %s %s" % (addr, self.port, smtpd, " ".join(opts))
             for addr, opts in self.extra_smtpd.items()] + [
            "pickup    unix  n       -       n       60      1       pickup",
            "cleanup   unix  n       -       n       -       0       cleanup",
            "qmgr      unix  n       -       n       300     1       qmgr",
            "tlsmgr    unix  -       -       n       1000?   1       tlsmgr",
            "rewrite   unix  -       -       n       -       -       trivial-rewrite",
            "bounce    unix  -       -       n       -       0       bounce",
            "defer     unix  -       -       n       -       0       bounce",
            "trace     unix  -       -       n       -       0       bounce",
            "verify    unix  -       -       n       -       1       verify",
            "flush     unix  n       -       n       1000?   0       flush",
            "proxymap  unix  -       -       n       -       -       proxymap",
            "proxywrite unix -       -       n       -       1       proxymap",
            "smtp      unix  -       -       n       -       -       smtp",
            "relay     unix  -       -       n       -       -       smtp",
            "showq     unix  n       -       n       -       -       showq",
            "error     unix  -       -       n       -       -       error",
            "retry     unix  -       -       n       -       -       error",
            "discard   unix  -       -       n       -       -       discard",
            "local     unix  -       n       n       -       -       local",
            "anvil     unix  -       -       n       -       1       anvil",
            "scache    unix  -       -       n       -       1       scache",
            "postlog   unix-dgram n  -       n       -       1       postlogd",
        ] + self.extra_services
        with open(os.path.join(self.config_dir, "master.cf"), "w") as f:
            f.write("# generated by tests/e2e/postfix_harness.py; no chroot anywhere\n")
            f.write("\n".join(services) + "\n")
        # Postfix re-reads a config file until its mtime is a few seconds old
        # (an editor may still be writing it): that cost 2 s on every start.
        past = time.time() - 60
        for n in ("main.cf", "master.cf"):
            os.utime(os.path.join(self.config_dir, n), (past, past))

    def _create_queue_dirs(self):
        """What "post-install create-missing" does for the queue and data
        directories, read from the installed postfix-files. Together with the
        quick-start flag it spares postfix-script's checks: ~3.5 s here."""
        pf = pwd.getpwnam("postfix")
        gid = {"-": 0, "$setgid_group": grp.getgrnam("postdrop").gr_gid}
        with open(os.path.join(POSTFIX_META_DIR, "postfix-files")) as f:
            for line in f:
                fields = line.strip().split(":")
                if len(fields) < 5 or fields[1] != "d":
                    continue
                path = fields[0]
                if path.startswith("$queue_directory"):
                    path = self.queue_dir + path[len("$queue_directory"):]
                elif path == "$data_directory":
                    path = self.data_dir
                else:
                    continue
                os.makedirs(path, exist_ok=True)
                uid = pf.pw_uid if fields[2] == "$mail_owner" else 0
                os.chown(path, uid, gid.get(fields[3], 0))
                os.chmod(path, int(fields[4], 8))

    def _start_postfix(self):
        env = dict(os.environ, MAIL_CONFIG=self.config_dir)
        if self.full_checks:
            # postfix(1) says why it fails only on a tty (or to syslog).
            rc, out = _run_with_pty_stderr([POSTFIX, "-c", self.config_dir, "check"], env=env)
            if rc != 0:
                raise HarnessError("postfix check failed:\n" + out + self._read(self.maillog_path))
        else:
            self._create_queue_dirs()
            open(os.path.join(self.queue_dir, "quick-start"), "w").close()
        # start-fg keeps master our (grand)child in its own session: we reap it,
        # and nothing is left to a PID 1 that may not reap (zombies seen here).
        argv = [POSTFIX, "-c", self.config_dir, "start-fg"]
        argv = self.namespace_argv() + argv
        # On a pty, because postfix(1) writes its fatal errors to stderr only
        # when that is a terminal (else to syslog, which may not exist).
        pty_master, pty_slave = pty.openpty()
        try:
            self._master = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=pty_slave,
                stderr=pty_slave, start_new_session=True)
        finally:
            os.close(pty_slave)
        self._master_out = threading.Thread(target=_copy_pty, daemon=True,
                                            args=(pty_master, self.master_out))
        self._master_out.start()

        def up():
            if self._master.poll() is not None:
                return "exited"
            return all(_listening(a, self.port)
                       for a in CLIENT_ADDRS + tuple(self.extra_smtpd)) and "up"

        try:
            state = _wait(up, 20, "postfix to listen on port %d" % self.port)
        except HarnessError as e:
            raise HarnessError("%s\n%s%s" % (e, self._read(self.master_out),
                                             self._read(self.maillog_path)))
        if state == "exited":
            self._master_out.join(timeout=5)
            raise HarnessError("postfix start-fg exited %s:\n%s%s" % (
                self._master.returncode, self._read(self.master_out),
                self._read(self.maillog_path)))

    def namespace_argv(self):
        """What Postfix's master runs under: with hosts=, a private mount
        namespace with its own /etc/hosts; else nothing. A subclass may bind
        mounts of its own there."""
        return self._hosts_namespace_argv() if self.hosts else []

    def _hosts_namespace_argv(self):
        path = os.path.join(self.workdir, "hosts")
        with open(path, "w") as f:
            f.write("127.0.0.1 localhost\n")
            for ip, names in self.hosts.items():
                f.write("%s %s\n" % (ip, names if isinstance(names, str) else " ".join(names)))
        os.chmod(path, 0o644)
        # Private propagation: the bind mount never shows outside the namespace.
        return ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                'mount --bind "$0" /etc/hosts && exec "$@"', path]

    def _master_pid(self):
        try:
            with open(os.path.join(self.queue_dir, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        """Stop postfix and smtp-sink; safe to call twice and after a failed start."""
        errors = []
        if self._master is not None:
            pid = self._master_pid()
            if pid and self._master.poll() is None:
                try:
                    os.kill(pid, signal.SIGTERM)  # what "postfix stop" does, minus its sleep 1
                except ProcessLookupError:
                    pass
            try:
                self._master.wait(timeout=10)
            except subprocess.TimeoutExpired:
                errors.append("postfix master did not stop; killed")
                self._killpg(self._master.pid)
                self._master.wait(timeout=5)
            self._master_out.join(timeout=5)
            self._master = None
        # Anything still carrying our MAIL_CONFIG (a daemon busy in a long
        # operation, or one started outside start-fg) is ours to end.
        self._end_leftovers(lambda: processes_of_config(self.config_dir), "postfix daemons to exit")
        self._stop_sink()
        if self._tmp and not os.environ.get("E2E_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)
        if errors:
            raise HarnessError("; ".join(errors))

    @staticmethod
    def _killpg(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    # -- logs

    def maillog(self):
        """Everything Postfix logged so far (postlogd writes it a moment late)."""
        return self._read(self.maillog_path)

    def wait_for_log(self, pattern, timeout=10):
        """Wait until the maillog matches regex pattern; return the match."""
        rx = re.compile(pattern)
        return _wait(lambda: rx.search(self.maillog()), timeout, "maillog /%s/" % pattern)

    def client_names(self):
        """[(hostname, ip)] from smtpd's "connect from NAME[IP]" lines: what
        Postfix (and so the milter's connect callback) takes as client name."""
        return re.findall(r"postfix/smtpd\[\d+\]: connect from ([^\[\s]+)\[([^\]]+)\]",
                          self.maillog())

    # -- sending

    def send(self, mail_from="sender@client.test", rcpts=("rcpt@dest.test",), tls=None,
             interface="127.0.0.1", ehlo="client.test", headers=None, body="Hello.\n",
             data=None, server="127.0.0.1", timeout=60, swaks_args=()):
        """One message over one connection, driven by swaks.

        tls: None (plaintext) or one of TLS_VERSIONS; interface: the client
        source address; headers: dict or list of (name, value) added after the
        default Date/From/To/Subject/Message-ID (a Subject given here replaces
        the default); data: the whole DATA content (bytes/str, LF or CRLF) to
        send instead of a built message. A unique X-Harness-Marker header is
        added to built messages; its value is result.marker."""
        rcpts = [rcpts] if isinstance(rcpts, str) else list(rcpts)
        res_marker = None
        if data is None:
            res_marker = uuid.uuid4().hex
            data = build_message(mail_from, rcpts, headers, body, res_marker)
        if isinstance(data, str):
            data = data.encode()
        if not data.endswith(b"\n"):
            data += b"\r\n"
        fd, data_path = tempfile.mkstemp(prefix="swaks-data.", dir=self.workdir)
        with os.fdopen(fd, "wb") as f:
            # swaks ends DATA with CRLF "." CRLF on its own: a final line end
            # left in would arrive as one more, empty, line.
            f.write(data[:-2] if data.endswith(b"\r\n") else data[:-1])
        argv = [SWAKS, "--server", server,
                "--port", str(self.port), "--local-interface", interface,
                "--from", mail_from, "--to", ",".join(rcpts), "--ehlo", ehlo,
                "--data", "@" + data_path, "--timeout", "30"]
        if tls is not None:
            if tls not in TLS_VERSIONS:
                raise ValueError("tls must be None or one of %s" % (TLS_VERSIONS,))
            argv += ["--tls", "--tls-protocol", tls, "--tls-cipher", LEGACY_CIPHERS]
        argv += list(swaks_args)
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=timeout)
        finally:
            os.unlink(data_path)
        text = (p.stdout + p.stderr).decode("utf-8", "replace")
        res = parse_swaks_transcript(text, rcpts)
        res.returncode = p.returncode
        res.marker = res_marker
        res.message = data
        return res

    def send_session(self, messages, tls="tlsv1_2", interface="127.0.0.1",
                     ehlo="client.test", server="127.0.0.1", timeout=30):
        """Several messages on ONE connection (smtplib), each with its own
        envelope. messages: list of dicts with keys mail_from, rcpts and
        optionally headers, body, data. tls: None or one of TLS_VERSIONS.
        Returns a list of SendResult, one per message; a refused MAIL or RCPT
        is followed by RSET, as a real client would. The session transcript is
        in each result's .transcript."""
        return send_session((server, self.port), messages, tls=tls, interface=interface,
                            ehlo=ehlo, timeout=timeout)


def build_message(mail_from, rcpts, headers=None, body="Hello.\n", marker=None):
    """A small RFC 5322 message with CRLF line ends."""
    hdrs = [("Date", formatdate(localtime=True)), ("From", "<%s>" % mail_from),
            ("To", ", ".join("<%s>" % r for r in rcpts)),
            ("Subject", "harness test"),
            ("Message-ID", "<%s@harness.test>" % uuid.uuid4().hex)]
    if marker:
        hdrs.append(("X-Harness-Marker", marker))
    extra = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    for n, v in extra:
        if n.lower() == "subject":
            hdrs = [(a, b) for a, b in hdrs if a.lower() != "subject"]
        hdrs.append((n, v))
    text = "".join("%s: %s\n" % hv for hv in hdrs) + "\n" + body
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


class _RecordingSMTP(smtplib.SMTP):
    """smtplib.SMTP that keeps a swaks-like transcript."""

    def __init__(self, *a, **kw):
        self.log = []
        self.tls_on = False
        super().__init__(*a, **kw)

    def send(self, s):
        if isinstance(s, bytes) and len(s) > 200:
            shown = "<%d bytes of DATA>" % len(s)
        else:
            shown = (s.decode("utf-8", "replace") if isinstance(s, bytes) else s).rstrip("\r\n")
        self.log.append(("~> " if self.tls_on else "-> ") + shown)
        return super().send(s)

    def getreply(self):
        code, msg = super().getreply()
        lines = msg.decode("utf-8", "replace").split("\n")
        for n, l in enumerate(lines):
            sep = " " if n == len(lines) - 1 else "-"
            self.log.append(("<~ " if self.tls_on else "<- ") + "%s%s%s" % (code, sep, l))
        return code, msg


def client_ssl_context(tls):
    """A client context pinned to one protocol version, certificate unchecked."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers(LEGACY_CIPHERS)
    v = {"tlsv1": ssl.TLSVersion.TLSv1, "tlsv1_1": ssl.TLSVersion.TLSv1_1,
         "tlsv1_2": ssl.TLSVersion.TLSv1_2, "tlsv1_3": ssl.TLSVersion.TLSv1_3}[tls]
    ctx.minimum_version = v
    ctx.maximum_version = v
    return ctx


def send_session(server, messages, tls="tlsv1_2", interface="127.0.0.1",
                 ehlo="client.test", timeout=30):
    """See PostfixHarness.send_session; server is (host, port)."""
    def reply(cm):
        return Reply(cm[0], cm[1].decode("utf-8", "replace"))

    results = []
    s = _RecordingSMTP(server[0], server[1], local_hostname=ehlo, timeout=timeout,
                       source_address=(interface, 0))
    try:
        pre = [("EHLO", reply(s.ehlo()))]
        tls_info = None
        if tls is not None:
            pre.append(("STARTTLS", reply(s.starttls(context=client_ssl_context(tls)))))
            s.tls_on = True
            name, _, bits = s.sock.cipher()
            tls_info = (s.sock.version(), name, bits)
            pre.append(("EHLO", reply(s.ehlo())))
        for m in messages:
            r = SendResult()
            r.tls = tls_info
            r.stages = list(pre)
            pre = []
            rcpts = m.get("rcpts", ["rcpt@dest.test"])
            rcpts = [rcpts] if isinstance(rcpts, str) else list(rcpts)
            data = m.get("data")
            if data is None:
                r.marker = uuid.uuid4().hex
                data = build_message(m["mail_from"], rcpts, m.get("headers"),
                                     m.get("body", "Hello.\n"), r.marker)
            elif isinstance(data, str):
                data = data.replace("\r\n", "\n").replace("\n", "\r\n").encode()
            r.message = data
            r.mail = reply(s.mail(m["mail_from"]))
            r.stages.append(("MAIL FROM:<%s>" % m["mail_from"], r.mail))
            if r.mail.ok:
                for a in rcpts:
                    rr = reply(s.rcpt(a))
                    r.rcpts.append((a, rr))
                    r.stages.append(("RCPT TO:<%s>" % a, rr))
            if r.mail.ok and any(rr.ok for _, rr in r.rcpts):
                # smtplib.data() does both halves; split them for the result.
                code, msg = s.docmd("DATA")
                r.data = Reply(code, msg.decode("utf-8", "replace"))
                r.stages.append(("DATA", r.data))
                if code == 354:
                    q = smtplib.quotedata(data.decode("utf-8", "surrogateescape"))
                    payload = q.encode("utf-8", "surrogateescape")
                    if not payload.endswith(b"\r\n"):
                        payload += b"\r\n"
                    s.send(payload + b".\r\n")
                    r.data_end = reply(s.getreply())
                    r.stages.append((".", r.data_end))
            else:
                r.stages.append(("RSET", reply(s.rset())))
            results.append(_finish(r))
        try:
            s.quit()
        except smtplib.SMTPException:
            pass
    finally:
        s.close()
        transcript = "\n".join(s.log) + "\n"
        for r in results:
            r.transcript = transcript
    return results


# ------------------------------------------------- milter-side test helpers

def _socket_ready(spec):
    """A readiness test for a milter socket spec, in either spelling."""
    spec = _milter_for_postfix(spec)
    if spec.startswith("unix:"):
        path = spec[len("unix:"):]
        return lambda: os.path.exists(path)
    m = re.fullmatch(r"inet:(.+):(\d+)", spec)
    if not m:
        raise ValueError("unsupported socket %r" % spec)
    host, port = m.group(1), int(m.group(2))
    if host == "localhost":
        host = "127.0.0.1"
    return lambda: _listening(host, port)


class ManagedProcess:
    """A milter (or any helper daemon) run for one test: own session, output
    to log_path, ready when `socket` listens, stopped with SIGTERM then SIGKILL.
    ManagedProcess(["/usr/bin/python3", "echo_milter.py", sock, log], sock, path)
    stop_timeout: seconds between SIGTERM and SIGKILL; libmilter's listener
    may take ~5 s to notice a SIGTERM (seen with pymilter); 0 kills at once."""

    def __init__(self, argv, socket_spec, log_path, env=None, timeout=10, stop_timeout=10):
        self.argv, self.socket, self.log_path = list(argv), socket_spec, log_path
        self.env, self.timeout, self.proc = env, timeout, None
        self.stop_timeout = stop_timeout

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=self.env,
                                     start_new_session=True)
        ready = _socket_ready(self.socket)
        try:
            _wait(lambda: ready() or self.proc.poll() is not None, self.timeout,
                  "%s to listen on %s" % (self.argv[0], self.socket))
        except HarnessError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            self.stop()
            raise HarnessError("%s exited %s:\n%s" % (self.argv, self.proc.returncode,
                                                      PostfixHarness._read(self.log_path)))
        return self

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM if self.stop_timeout else signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=self.stop_timeout or 5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # Children that left the group are not ours to chase; the group is.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()
        self.proc = None

    def output(self):
        return PostfixHarness._read(self.log_path)


# Milter protocol (libmilter mfdef.h): commands from the MTA, replies to it.
MILTER_COMMANDS = {"A": "abort", "B": "body", "C": "connect", "D": "macro",
                   "E": "eom", "H": "helo", "K": "quit_nc", "L": "header", "M": "mail",
                   "N": "eoh", "O": "optneg", "Q": "quit", "R": "rcpt", "T": "data",
                   "U": "unknown"}
MILTER_REPLIES = {"+": "addrcpt", "-": "delrcpt", "2": "addrcpt_par", "a": "accept",
                  "b": "replbody", "c": "continue", "d": "discard", "e": "chgfrom",
                  "f": "conn_fail", "h": "addheader", "i": "insheader", "l": "setsymlist",
                  "m": "chgheader", "p": "progress", "q": "quarantine", "r": "reject",
                  "s": "skip", "t": "tempfail", "y": "replycode", "O": "optneg"}


class MilterTap:
    """A recording proxy between Postfix and a milter: give PostfixHarness
    tap.socket as its milter and it forwards to `upstream` unchanged, while
    logging every packet. events: dicts with conn (connection number), dir
    ("mta" or "milter"), cmd (name), and for macros stage + macros, for
    reply codes text, for headers name + value. This shows exactly what
    Postfix sends per stage, which smfi_getsymval cannot (it searches all)."""

    def __init__(self, upstream):
        self._threading = threading
        self.upstream = _milter_for_postfix(upstream)
        self.port = free_port(("127.0.0.1",))
        self.socket = "inet:127.0.0.1:%d" % self.port
        self.events = []
        self._lock = threading.Lock()
        self._conns = 0
        self._stop = False
        self._threads = []
        self._socks = []

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        self._srv = socket.socket()
        self._srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._srv.bind(("127.0.0.1", self.port))
        self._srv.listen(16)
        self._srv.settimeout(0.2)
        t = self._threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self):
        self._stop = True
        for t in self._threads:
            t.join(timeout=5)
        self._srv.close()
        for s in self._socks:
            try:
                s.close()
            except OSError:
                pass

    def _connect_upstream(self):
        if self.upstream.startswith("unix:"):
            s = socket.socket(socket.AF_UNIX)
            s.connect(self.upstream[len("unix:"):])
            return s
        host, port = re.fullmatch(r"inet:(.+):(\d+)", self.upstream).groups()
        return socket.create_connection((host, int(port)), timeout=10)

    def _accept(self):
        while not self._stop:
            try:
                c, _ = self._srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self._conns += 1
                n = self._conns
            t = self._threading.Thread(target=self._pump, args=(n, c), daemon=True)
            t.start()
            self._threads.append(t)

    def _pump(self, n, mta):
        try:
            milter = self._connect_upstream()
        except OSError as e:
            self._record(n, "tap", {"cmd": "upstream_error", "error": str(e)})
            mta.close()
            return
        self._socks += [mta, milter]
        bufs = {mta: b"", milter: b""}
        peer = {mta: milter, milter: mta}
        try:
            while not self._stop:
                r, _, _ = select.select([mta, milter], [], [], 0.2)
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    peer[s].sendall(data)
                    bufs[s] += data
                    while len(bufs[s]) >= 4:
                        size = int.from_bytes(bufs[s][:4], "big")
                        if len(bufs[s]) < 4 + size:
                            break
                        pkt, bufs[s] = bufs[s][4:4 + size], bufs[s][4 + size:]
                        self._record(n, "mta" if s is mta else "milter", self._decode(s is mta, pkt))
        except OSError:
            return
        finally:
            mta.close()
            milter.close()

    @staticmethod
    def _decode(from_mta, pkt):
        c, data = chr(pkt[0]), pkt[1:]
        ev = {"cmd": (MILTER_COMMANDS if from_mta else MILTER_REPLIES).get(c, c)}
        parts = [p.decode("utf-8", "replace") for p in data.split(b"\0")]
        if from_mta and c == "D" and data:
            ev["stage"] = MILTER_COMMANDS.get(chr(data[0]), chr(data[0]))
            kv = [p.decode("utf-8", "replace") for p in data[1:].split(b"\0")]
            ev["macros"] = dict(zip(kv[0::2], kv[1::2]))
        elif from_mta and c in "HMRU":
            ev["args"] = [p for p in parts if p]
        elif from_mta and c == "C":
            ev["host"] = parts[0]
        elif not from_mta and c == "y":
            ev["text"] = parts[0]
        elif not from_mta and c in "hm" + "i":
            if c in "mi":
                data = data[4:]  # index
                parts = [p.decode("utf-8", "replace") for p in data.split(b"\0")]
            ev["name"], ev["value"] = parts[0], parts[1] if len(parts) > 1 else ""
        return ev

    def _record(self, n, direction, ev):
        ev.update(conn=n, dir=direction)
        with self._lock:
            self.events.append(ev)

    def macros_by_stage(self, conn=None):
        """[(stage, {macro: value})] as Postfix sent them, in order."""
        with self._lock:
            return [(e["stage"], e["macros"]) for e in self.events
                    if e["cmd"] == "macro" and (conn is None or e["conn"] == conn)]
