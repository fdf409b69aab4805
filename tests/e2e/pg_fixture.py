#!/usr/bin/env python3
"""A private PostgreSQL server for tests: initdb in a temp dir, listening on
127.0.0.1 at a free port (and a unix socket in the same dir), owned by an
unprivileged user (`nobody` when we run as root: initdb refuses root), torn
down after. Nothing outside the temp dir is touched.

In Python:

    with PgServer() as pg:          # or pg = PgServer(); pg.start(); ...; pg.destroy()
        pg.url                      # postgresql://tlspolicy@127.0.0.1:PORT/tlspolicy
        pg.psql("SELECT count(*) FROM observations")   # -> stdout text
        pg.stop(); pg.start()       # an outage: the data stays, the port too
        pg.pause(); pg.resume()     # a hung server: SIGSTOP/SIGCONT of the postmaster
                                    # (connections are accepted by the kernel, never answered)

From the shell (what `make run-pg` does): start a server, run COMMAND with
TLSPOLICY_TEST_PG=<url> in its environment, tear the server down, exit with
COMMAND's status:

    tests/e2e/pg_fixture.py -- build/tests/unit_tests --gtest_filter='Postgres*'

Binaries: PG_BINDIR, else /usr/lib/postgresql/15/bin, else the newest
/usr/lib/postgresql/*/bin, else $PATH. Durability is off (fsync, full page
writes): the server is thrown away, and the machine is shared.
"""

import atexit
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

DB = "tlspolicy"
USER = "tlspolicy"


class PgError(RuntimeError):
    pass


def _bindir():
    env = os.environ.get("PG_BINDIR")
    if env:
        return env
    if os.path.exists("/usr/lib/postgresql/15/bin/initdb"):
        return "/usr/lib/postgresql/15/bin"
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[-3]) if p.split("/")[-3].isdigit() else 0)
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise PgError("initdb not found: apt-get install postgresql (or set PG_BINDIR)")


def _free_port():
    """A loopback TCP port nobody listens on now (small race; start() retries)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 10000:
            return port
    raise PgError("no free port")


class PgServer:
    def __init__(self, run_as=None):
        self.bindir = _bindir()
        if run_as is None:
            run_as = "nobody" if os.geteuid() == 0 else None
        self.run_as = run_as
        self.dir = None
        self.port = None
        self._started = False

    # -------------------------------------------------------------- lifecycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.destroy()

    @property
    def url(self):
        return "postgresql://%s@127.0.0.1:%d/%s" % (USER, self.port, DB)

    @property
    def data(self):
        return os.path.join(self.dir, "data")

    @property
    def log_path(self):
        return os.path.join(self.dir, "server.log")

    def start(self):
        """First call: initdb, start, create the database. Later calls (after
        stop()): start the same cluster again on the same port."""
        if self.dir is None:
            self._init()
            atexit.register(self.destroy)
            for attempt in range(3):
                self.port = _free_port()
                if self._pg_ctl_start(check=attempt == 2):
                    break
            self._run([self._bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, DB])
        elif not self._started:
            self._pg_ctl_start(check=True)

    def stop(self):
        """An outage: fast shutdown, data kept."""
        if self._started:
            self.resume()
            self._run([self._bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"])
            self._started = False

    def pause(self):
        """The server hangs: new connections and running queries get no answer."""
        os.kill(self._postmaster_pid(), signal.SIGSTOP)
        for pid in self._backend_pids():
            os.kill(pid, signal.SIGSTOP)

    def resume(self):
        if not self.dir or not os.path.exists(os.path.join(self.data, "postmaster.pid")):
            return
        for pid in [self._postmaster_pid()] + self._backend_pids():
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

    def destroy(self):
        if self.dir is None:
            return
        try:
            if self._started:
                self.resume()
                subprocess.run(self._as_user([self._bin("pg_ctl"), "-D", self.data, "-m", "immediate",
                                              "-w", "stop"]), cwd=self.dir, capture_output=True, timeout=60)
                self._started = False
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def psql(self, sql):
        """Runs SQL in the test database; stdout, unaligned, no headers."""
        out = self._run([self._bin("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                         "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", DB, "-c", sql])
        return out

    # -------------------------------------------------------------- internals

    def _bin(self, name):
        return os.path.join(self.bindir, name)

    def _as_user(self, argv):
        if self.run_as is None:
            return argv
        return ["runuser", "-u", self.run_as, "--"] + argv

    def _run(self, argv, timeout=120):
        p = subprocess.run(self._as_user(argv), cwd=self.dir, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise PgError("%s failed (%d): %s%s" % (" ".join(argv), p.returncode, p.stderr, self._log_tail()))
        return p.stdout

    def _log_tail(self):
        try:
            with open(self.log_path) as f:
                return "\nserver log:\n" + "".join(f.readlines()[-20:])
        except OSError:
            return ""

    def _init(self):
        self.dir = tempfile.mkdtemp(prefix="tlspolicy-pg-")
        if self.run_as is not None:
            pw = pwd.getpwnam(self.run_as)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.dir, 0o700)
        self._run([self._bin("initdb"), "-D", self.data, "-U", USER, "--auth=trust", "-E", "UTF8",
                   "--locale=C", "--no-sync"])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# pg_fixture.py: a throwaway server on a shared machine\n"
                    "listen_addresses = '127.0.0.1'\n"
                    "unix_socket_directories = '%s'\n"
                    "fsync = off\nfull_page_writes = off\nsynchronous_commit = off\n"
                    "shared_buffers = 16MB\nmax_connections = 40\n" % self.dir)

    def _pg_ctl_start(self, check):
        argv = [self._bin("pg_ctl"), "-D", self.data, "-l", self.log_path, "-w", "-t", "60",
                "-o", "-p %d" % self.port, "start"]
        p = subprocess.run(self._as_user(argv), cwd=self.dir, capture_output=True, text=True, timeout=90)
        if p.returncode == 0:
            self._started = True
            return True
        if check:
            raise PgError("pg_ctl start failed: %s%s" % (p.stderr, self._log_tail()))
        return False

    def _postmaster_pid(self):
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            return int(f.readline())

    def _backend_pids(self):
        parent = self._postmaster_pid()
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == parent:
                    pids.append(int(d))
            except (OSError, IndexError, ValueError):
                continue
        return pids


def main(argv):
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        print("usage: pg_fixture.py -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    cmd = argv[argv.index("--") + 1:]
    with PgServer() as pg:
        env = dict(os.environ, TLSPOLICY_TEST_PG=pg.url)
        print("pg_fixture: PostgreSQL at %s (%s)" % (pg.url, pg.dir), flush=True)
        return subprocess.run(cmd, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
