"""A throwaway, real Sendmail 8.17 on loopback for end-to-end milter tests,
beside Postfix and without installing Sendmail's package (which would remove
Postfix). The same interface as PostfixHarness as far as the tests use it:
send(), send_session(), wait_for_message(), .port, .myhostname, SendResult
with a Reply per stage, SinkMessage with the Received headers.

    with SendmailHarness(workdir, milter="inet:9999@127.0.0.1") as sm:
        r = sm.send(tls="tlsv1_3", rcpts=["a@dest.test"])
        msg = sm.wait_for_message(r.marker)

How (installing sendmail-bin would remove Postfix, so it is unpacked privately):
- `apt-get download sendmail-bin sendmail-base sendmail-cf libwrap0` once into
  PACKAGE_CACHE (kept between runs), `dpkg -x` them into the workdir;
  a non-setgid copy of the binary, so that LD_LIBRARY_PATH finds libwrap.
- A .cf made with m4 from the unpacked sendmail-cf: Sendmail's STOCK milter
  macro lists (the milter must ask for what it needs), every path private,
  STARTTLS with TLS 1.0-1.3, one daemon on 127.0.0.1, relaying everything to
  an smtp-sink (from the postfix package) that keeps each message as a file.
- `sendmail -bD` in a private mount namespace whose /etc/hosts and
  nsswitch.conf are files of ours (no DNS; the system files are untouched).
- Its log (no syslog needed) goes to workdir/sendmail.log via -D ... -d89.8.
Nothing is written outside workdir and PACKAGE_CACHE; /etc/mail and Postfix
are never touched. Needs root, m4, dpkg, apt-get (first run), postfix (for
smtp-sink), swaks and openssl.

The one deliberate change to Sendmail's stock output: its Received header's
TLS clause says bits=${cipher_bits}/${alg_bits} (stock: bits=${cipher_bits}),
the spelling of Sendmail's own STARTTLS log line, so that a test can hold our
header's bits=USED/ALG against facts the MTA itself wrote.
"""

import fcntl
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import postfix_harness as ph
from postfix_harness import HarnessError, PostfixHarness, SinkHarness, _listening, _wait, free_port

PACKAGES = ("sendmail-bin", "sendmail-base", "sendmail-cf", "libwrap0")
PACKAGE_CACHE = os.environ.get("TLSPOLICY_SENDMAIL_DEBS", "/var/cache/tlspolicy-milter-tests")
M4 = "/usr/bin/m4"
UNSHARE = "/usr/bin/unshare"
LIBDIR = "usr/lib/x86_64-linux-gnu"
SENDMAIL_IN_DEB = "usr/libexec/sendmail/sendmail"
CF_DIR_IN_DEB = "usr/share/sendmail/cf"

# "250 2.0.0 5B11A2B3001234 Message accepted for delivery"
_ACCEPTED_RE = re.compile(r"^\d\.\d+\.\d+ (\w+) Message accepted for delivery")

# The filter line the harness uses when the caller gives none.
DEFAULT_FILTER = "INPUT_MAIL_FILTER(`milter', `S=%(socket)s, F=T, T=S:30s;R:2m;E:10m')dnl"


def package_debs():
    """The four .deb files, downloaded into PACKAGE_CACHE on first use."""
    def found():
        out = []
        for p in PACKAGES:
            hits = sorted(glob.glob(os.path.join(PACKAGE_CACHE, "%s_*.deb" % p)))
            if not hits:
                return None
            out.append(hits[-1])
        return out

    debs = found()
    if debs:
        return debs
    os.makedirs(PACKAGE_CACHE, exist_ok=True)
    # Two test runs at once must not both write the same .deb.
    with open(os.path.join(PACKAGE_CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return found() or _download(found)


def _download(found):
    p = subprocess.run(["apt-get", "download"] + list(PACKAGES), cwd=PACKAGE_CACHE,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    debs = found()
    if p.returncode != 0 or not debs:
        # Maybe the package lists are missing (a fresh container): once more after an update.
        subprocess.run(["apt-get", "update", "-qq"], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=300)
        p = subprocess.run(["apt-get", "download"] + list(PACKAGES), cwd=PACKAGE_CACHE,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
        debs = found()
    if not debs:
        raise HarnessError("apt-get download %s failed:\n%s%s" % (" ".join(PACKAGES), p.stdout, p.stderr))
    return debs


def milter_for_sendmail(spec):
    """Sendmail's S= spelling of a libmilter socket spec: unix: is local:."""
    if spec.startswith("unix:"):
        return "local:" + spec[len("unix:"):]
    return spec


class SendmailHarness(SinkHarness):
    """A private Sendmail. Use as a context manager, or start()/stop().

    workdir: where everything lives (created; None = a temp dir removed on stop
      unless E2E_KEEP=1).
    milter: libmilter socket spec of the filter ("inet:PORT@127.0.0.1",
      "unix:/path" or "local:/path"), or None for no filter.
    filter_lines: the sendmail.mc lines that declare the filter, with
      %(socket)s where its S= socket goes (default: DEFAULT_FILTER); the tests
      pass contrib/sendmail.mc's own lines.
    hosts: {"127.0.0.3": "mail.partner.test"}: names for client addresses,
      forward and reverse (a private /etc/hosts); 127.0.0.2 has none.
    myhostname: Sendmail's $j.
    relay_port: deliver to each recipient domain's own host (its address from
      hosts=, no DNS) on this port, instead of to the smtp-sink: Sendmail as
      the SMTP client of other servers (the smtp-sink still runs, unused).
    syslog_socket: log through syslog(3) to this unix socket (a private
      journald's dev-log) instead of into sendmail.log: the daemon's /dev is
      then a private tmpfs holding the usual devices and /dev/log pointing
      there. log() reads nothing in that mode; the socket's reader has it all.
    """

    reply_prefixes_address = True  # "550 5.7.10 <addr>... text" at MAIL and RCPT

    def __init__(self, workdir=None, milter=None, filter_lines=None, hosts=None,
                 myhostname="mx.sendmail.test", client_ca=None, relay_port=None, syslog_socket=None):
        self._tmp = workdir is None
        self.workdir = os.path.abspath(workdir or tempfile.mkdtemp(prefix="smh."))
        self.milter = milter
        self.filter_lines = filter_lines or DEFAULT_FILTER
        self.hosts = dict(hosts or {})
        self.myhostname = myhostname
        self.client_ca = client_ca  # also trusted for client certificates ({verify} OK)
        self.relay_port = relay_port
        self.syslog_socket = syslog_socket
        self.root = os.path.join(self.workdir, "root")
        self.etc = os.path.join(self.workdir, "etc")
        self.queue_dir = os.path.join(self.workdir, "mqueue")
        self.sink_dir = os.path.join(self.workdir, "sink")
        self.tls_dir = os.path.join(self.workdir, "tls")
        self.log_path = os.path.join(self.workdir, "sendmail.log")
        self.out_path = os.path.join(self.workdir, "sendmail.out")
        self.cf_path = os.path.join(self.etc, "sendmail.cf")
        self.binary = os.path.join(self.workdir, "sbin", "sendmail")
        self.port = None
        self.sink_port = None
        self._daemon = None
        self._sink = None

    # -- lifecycle

    def start(self):
        if os.geteuid() != 0:
            raise HarnessError("SendmailHarness needs root")
        for tool in (M4, UNSHARE, ph.SMTP_SINK, ph.SWAKS, ph.OPENSSL, "/usr/bin/dpkg"):
            if not os.access(tool, os.X_OK):
                raise HarnessError("missing %s (contrib/install-deps installs it)" % tool)
        for d in (self.workdir, self.etc, self.tls_dir, self.sink_dir):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        os.makedirs(self.queue_dir, exist_ok=True)
        os.chmod(self.queue_dir, 0o700)
        self._unpack()
        self._make_cert()
        self.port = free_port(("127.0.0.1",))
        self.sink_port = free_port(("127.0.0.1",))
        self._write_files()
        self._write_cf()
        self._start_sink()
        self._start_daemon()
        return self

    def _unpack(self):
        if not os.path.exists(os.path.join(self.root, SENDMAIL_IN_DEB)):
            for deb in package_debs():
                p = subprocess.run(["dpkg", "-x", deb, self.root], capture_output=True, text=True)
                if p.returncode != 0:
                    raise HarnessError("dpkg -x %s: %s" % (deb, p.stderr))
        # The setgid original would ignore LD_LIBRARY_PATH (libwrap lives in root/).
        os.makedirs(os.path.dirname(self.binary), exist_ok=True)
        shutil.copyfile(os.path.join(self.root, SENDMAIL_IN_DEB), self.binary)
        os.chmod(self.binary, 0o755)

    def _make_cert(self):
        # PostfixHarness's certificate maker, cached per host name and process.
        PostfixHarness._make_cert(self)
        os.chmod(self.key_file, 0o600)
        if self.client_ca:  # the CAs Sendmail trusts: its own and the clients'
            with open(os.path.join(self.tls_dir, "cacerts.pem"), "w") as out:
                for path in (self.cert_file, self.client_ca):
                    with open(path) as f:
                        out.write(f.read())

    def _write_files(self):
        with open(os.path.join(self.etc, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n")
            # Sendmail canonicalises its own name first: undotted and unknown,
            # that costs a minute of DNS retries.
            f.write("127.0.1.1 %s.e2e.test %s\n" % (socket.gethostname(), socket.gethostname()))
            for ip, names in self.hosts.items():
                f.write("%s %s\n" % (ip, names if isinstance(names, str) else " ".join(names)))
        with open(os.path.join(self.etc, "nsswitch.conf"), "w") as f:
            f.write("passwd: files\ngroup: files\nshadow: files\nhosts: files\n")
        with open(os.path.join(self.etc, "service.switch"), "w") as f:
            f.write("hosts files\naliases files\n")
        open(os.path.join(self.etc, "aliases"), "w").close()
        open(os.path.join(self.etc, "statistics"), "w").close()
        open(os.path.join(self.etc, "helpfile"), "w").close()
        for n in os.listdir(self.etc):
            os.chmod(os.path.join(self.etc, n), 0o644)

    def mc_text(self):
        """The sendmail.mc the .cf is made from."""
        e = self.etc
        filt = self.filter_lines % {"socket": milter_for_sendmail(self.milter)} if self.milter else ""
        return """divert(-1)
dnl generated by tests/e2e/sendmail_harness.py
divert(0)dnl
VERSIONID(`tlspolicy-milter e2e')dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `{host}')dnl
define(`QUEUE_DIR', `{queue}')dnl
define(`STATUS_FILE', `{e}/statistics')dnl
define(`ALIAS_FILE', `{e}/aliases')dnl
define(`HELP_FILE', `{e}/helpfile')dnl
define(`confPID_FILE', `{w}/sendmail.pid')dnl
define(`confHOSTS_FILE', `{e}/hosts')dnl
define(`confSERVICE_SWITCH_FILE', `{e}/service.switch')dnl
define(`confCW_FILE', `-o {e}/local-host-names')dnl
define(`confCT_FILE', `-o {e}/trusted-users')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`confDONT_BLAME_SENDMAIL', `TrustStickyBit')dnl
define(`confLOG_LEVEL', `14')dnl
define(`confMILTER_LOG_LEVEL', `2')dnl
define(`confQUEUE_LA', `999')dnl
define(`confREFUSE_LA', `999')dnl
define(`confDELAY_LA', `0')dnl
define(`confMAX_DAEMON_CHILDREN', `0')dnl
define(`confCONNECTION_RATE_THROTTLE', `0')dnl
define(`confTO_IDENT', `0s')dnl
define(`confTO_CONNECT', `5s')dnl
define(`confSERVER_CERT', `{tls}/cert.pem')dnl
define(`confSERVER_KEY', `{tls}/key.pem')dnl
define(`confCACERT', `{tls}/{cacert}')dnl
define(`confCACERT_PATH', `{tls}')dnl
define(`confCIPHER_LIST', `{ciphers}')dnl
define(`_REC_TLS_', `(version=${{tls_version}} cipher=${{cipher}} bits=${{cipher_bits}}/${{alg_bits}} verify=${{verify}})$.$?u')dnl
{smart_host}define(`RELAY_MAILER_ARGS', `TCP $h {sink}')dnl
define(`ESMTP_MAILER_ARGS', `TCP $h {sink}')dnl
define(`SMTP_MAILER_ARGS', `TCP $h {sink}')dnl
FEATURE(`no_default_msa')dnl
FEATURE(`nocanonify')dnl
FEATURE(`accept_unresolvable_domains')dnl
FEATURE(`promiscuous_relay')dnl
DAEMON_OPTIONS(`Port={port}, Addr=127.0.0.1, Name=MTA')dnl
{filt}
MAILER(`smtp')dnl
""".format(host=self.myhostname, queue=self.queue_dir, e=e, w=self.workdir, tls=self.tls_dir,
           ciphers=ph.LEGACY_CIPHERS, sink=self.relay_port or self.sink_port, port=self.port, filt=filt,
           smart_host="" if self.relay_port else "define(`SMART_HOST', `[127.0.0.1]')dnl\n",
           cacert="cacerts.pem" if self.client_ca else "cert.pem")

    def _write_cf(self):
        mc = os.path.join(self.etc, "sendmail.mc")
        with open(mc, "w") as f:
            f.write(self.mc_text())
        cfdir = os.path.join(self.root, CF_DIR_IN_DEB)
        p = subprocess.run([M4, "-D_CF_DIR_=%s/" % cfdir, os.path.join(cfdir, "m4", "cf.m4"), mc],
                           capture_output=True, text=True)
        if p.returncode != 0 or "ERROR" in p.stderr:
            raise HarnessError("m4 failed on %s:\n%s" % (mc, p.stderr))
        with open(self.cf_path, "w") as f:
            f.write(p.stdout)
        os.chmod(self.cf_path, 0o644)

    def _start_sink(self):
        os.chown(self.sink_dir, *_postfix_ids())  # smtp-sink -u postfix writes there
        super()._start_sink()

    def _start_daemon(self):
        e = self.etc
        # Private propagation: the bind mounts never show outside the namespace.
        script = 'mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/nsswitch.conf && '
        logging = ["-D", self.log_path, "-d89.8"]
        if self.syslog_socket:
            # syslog(3) writes to /dev/log, always: give the daemon a /dev of
            # its own (the devices it uses, bound from the real one) where
            # /dev/log is the given socket.
            real_dev = os.path.join(self.workdir, "real-dev")
            os.makedirs(real_dev, exist_ok=True)
            script += ('mount --bind /dev "%s" && mount -t tmpfs -o mode=755 tmpfs /dev && '
                       'for n in null zero full random urandom tty; do touch /dev/$n && '
                       'mount --bind "%s/$n" /dev/$n || exit 1; done && ln -s "%s" /dev/log && '
                       % (real_dev, real_dev, self.syslog_socket))
            logging = []
        argv = [UNSHARE, "--mount", "--propagation", "private", "/bin/sh", "-c",
                script + 'shift && exec "$@"', os.path.join(e, "hosts"), os.path.join(e, "nsswitch.conf"),
                self.binary, "-bD", "-q1m", "-C", self.cf_path] + logging
        if os.environ.get("E2E_SENDMAIL_MACROS"):
            argv.append("-d64.10")  # every macro sent to milters, into the log
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(self.root, LIBDIR))
        self._out = open(self.out_path, "ab")
        self._daemon = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=self._out,
                                        stderr=subprocess.STDOUT, start_new_session=True)

        def up():
            if self._daemon.poll() is not None:
                return "exited"
            return _listening("127.0.0.1", self.port) and "up"

        try:
            state = _wait(up, 30, "sendmail to listen on port %d" % self.port)
        except HarnessError as ex:
            raise HarnessError("%s\n%s%s" % (ex, self.output(), self.log()))
        if state == "exited":
            raise HarnessError("sendmail -bD exited %s:\n%s%s" % (self._daemon.returncode,
                                                                  self.output(), self.log()))

    def _our_pids(self):
        """Live processes running our copy of the binary (daemon, its
        connection and delivery children), and no one else's."""
        pids = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                if os.readlink("/proc/%s/exe" % name) == self.binary and not ph._is_zombie(int(name)):
                    pids.append(int(name))
            except OSError:
                pass
        return pids

    def stop(self):
        """Stop sendmail and smtp-sink; safe to call twice and after a failed start."""
        if self._daemon is not None:
            if self._daemon.poll() is None:
                self._daemon.terminate()
                try:
                    self._daemon.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._daemon.kill()
                    self._daemon.wait()
            try:
                os.killpg(self._daemon.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self._out.close()
            self._daemon = None
        self._end_leftovers(self._our_pids, "sendmail children to exit")
        self._stop_sink()
        if self._tmp and not os.environ.get("E2E_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- logs

    def log(self):
        """Sendmail's log lines so far (what it would send to syslog)."""
        return self._read(self.log_path)

    maillog = log

    def output(self):
        return self._read(self.out_path)

    def wait_for_log(self, pattern, timeout=10):
        rx = re.compile(pattern)
        return _wait(lambda: rx.search(self.log()), timeout, "sendmail log /%s/" % pattern)

    # -- sending

    def send(self, *args, **kw):
        """As PostfixHarness.send (swaks, one message per connection)."""
        res = PostfixHarness.send(self, *args, **kw)
        return self._sendmail_result(res)

    def send_session(self, messages, tls="tlsv1_2", interface="127.0.0.1",
                     ehlo="client.test", server="127.0.0.1", timeout=30):
        """As PostfixHarness.send_session (several messages, one connection)."""
        results = ph.send_session((server, self.port), messages, tls=tls, interface=interface,
                                  ehlo=ehlo, timeout=timeout)
        return [self._sendmail_result(r) for r in results]

    @staticmethod
    def _sendmail_result(res):
        """Sendmail says "250 2.0.0 ID Message accepted for delivery": the
        queue id. Each MAIL/RCPT reply learns its address (reply.addr)."""
        if res.accepted and res.queue_id is None:
            m = _ACCEPTED_RE.match(res.data_end.text)
            if m:
                res.queue_id = m.group(1)
        for cmd, reply in res.stages:
            m = re.match(r"(?i)(MAIL FROM|RCPT TO):\s*<([^>]*)>", cmd)
            if m:
                reply.addr = m.group(2)
        return res


def _postfix_ids():
    import pwd
    pw = pwd.getpwnam("postfix")
    return pw.pw_uid, pw.pw_gid


if __name__ == "__main__":
    # A quick look: python3 sendmail_harness.py  (starts, sends two messages, stops)
    import sys
    with SendmailHarness(workdir=sys.argv[1] if len(sys.argv) > 1 else None) as sm:
        t0 = time.monotonic()
        for tls in (None, "tlsv1_3"):
            r = sm.send(tls=tls)
            print(r, r.queue_id)
            print(sm.wait_for_message(r.marker).text)
        print("%.1fs" % (time.monotonic() - t0))
