"""A private PostgreSQL 15 server on loopback for the fleet tests and the store
benchmarks: initdb into a temp dir as an unprivileged user (postgres refuses
root), trust authentication on 127.0.0.1 only, one database and role
"tlspolicy". Stop it (pg_ctl -m fast), kill the postmaster with SIGKILL, and
start it again on the same port and data, as the fault tests need.

    with PgServer(workdir) as pg:
        pg.url                 # postgresql://tlspolicy@127.0.0.1:PORT/tlspolicy
        pg.query("SELECT count(*) FROM observations")   # -> "42"
        pg.stop(); pg.start(); pg.kill(); pg.start()
"""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

from postfix_harness import free_port

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
PSQL = "/usr/bin/psql"
RUN_AS = "postgres"  # Debian's postgresql package makes this user
DATABASE = ROLE = "tlspolicy"


def available():
    """None when a server can be started here, else why not."""
    for tool in (os.path.join(PG_BIN, "initdb"), os.path.join(PG_BIN, "pg_ctl"), PSQL):
        if not os.access(tool, os.X_OK):
            return "missing %s (apt-get install postgresql)" % tool
    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        return "no user %s to run PostgreSQL as" % RUN_AS
    if os.geteuid() != 0:
        return "needs root to run PostgreSQL as user %s" % RUN_AS
    return None


class PgError(RuntimeError):
    pass


class PgServer:
    """settings: further postgresql.conf lines, {"fsync": "off"} (tests) or
    none (benchmarks that measure what a real server absorbs)."""

    def __init__(self, workdir=None, settings=None):
        self._tmp = workdir is None
        self.workdir = os.path.abspath(workdir or tempfile.mkdtemp(prefix="tpm-pg."))
        self.data = os.path.join(self.workdir, "data")
        self.log_path = os.path.join(self.workdir, "server.log")
        self.settings = dict(settings or {})
        self.port = None
        self.proc = None  # the postmaster

    @property
    def url(self):
        return "postgresql://%s@127.0.0.1:%d/%s" % (ROLE, self.port, DATABASE)

    def __enter__(self):
        try:
            self.setup()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _as_user(self, argv, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("timeout", 120)
        return subprocess.run(["/usr/sbin/runuser", "-u", RUN_AS, "--"] + argv,
                              stdin=subprocess.DEVNULL, cwd="/", **kw)

    def setup(self):
        """initdb, start, create the role and database."""
        why = available()
        if why:
            raise PgError(why)
        pw = pwd.getpwnam(RUN_AS)
        os.makedirs(self.workdir, exist_ok=True)
        os.chmod(self.workdir, 0o755)
        for p in (self.workdir,):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        p = self._as_user([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", "postgres",
                           "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        if p.returncode != 0:
            raise PgError("initdb failed:\n" + p.stdout + p.stderr)
        self.port = free_port(("127.0.0.1",))
        conf = {"listen_addresses": "'127.0.0.1'", "port": str(self.port),
                "unix_socket_directories": "'%s'" % self.workdir, "max_connections": "100",
                "logging_collector": "off"}
        conf.update(self.settings)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# tests/e2e/pg_server.py\n")
            for k, v in conf.items():
                f.write("%s = %s\n" % (k, v))
        self.start()
        self.query("CREATE ROLE %s LOGIN" % ROLE, user="postgres", database="postgres")
        self.query("CREATE DATABASE %s OWNER %s" % (DATABASE, ROLE), user="postgres", database="postgres")

    def start(self, timeout=60):
        """The postmaster runs as our own child (not daemonized by pg_ctl):
        we reap it after a SIGKILL, so no zombie holds its pid for the next
        start to trip over, whatever PID 1 does."""
        pw = pwd.getpwnam(RUN_AS)

        def demote():
            os.setgid(pw.pw_gid)
            os.initgroups(RUN_AS, pw.pw_gid)
            os.setuid(pw.pw_uid)

        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([os.path.join(PG_BIN, "postgres"), "-D", self.data],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     cwd="/", preexec_fn=demote, start_new_session=True)
        log.close()
        end = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise PgError("postgres exited %s:\n%s" % (self.proc.returncode, self.log()))
            if subprocess.run([os.path.join(PG_BIN, "pg_isready"), "-q", "-h", "127.0.0.1", "-p",
                               str(self.port)], stdin=subprocess.DEVNULL).returncode == 0:
                return
            if time.monotonic() > end:
                raise PgError("postgres not ready after %d s:\n%s" % (timeout, self.log()))
            time.sleep(0.1)

    def stop(self, mode="fast"):
        """pg_ctl stop -m MODE (smart, fast, immediate), waiting for the end."""
        p = self._as_user([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop"])
        if p.returncode != 0:
            raise PgError("pg_ctl stop failed:\n" + p.stdout + p.stderr)
        self.proc.wait(timeout=60)
        self.proc = None

    def _children(self, pid):
        out = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open("/proc/%s/stat" % name) as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                            out.append(int(name))
                except (OSError, ValueError, IndexError):
                    pass
        return out

    def kill(self, timeout=20):
        """SIGKILL to the postmaster, as a crash would; then waits until its
        backends have noticed and exited (a new postmaster refuses to start
        while they still hold the old shared memory)."""
        pid = self.proc.pid
        children = self._children(pid)
        os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=timeout)
        self.proc = None
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not [c for c in children if not _zombie(c)]:
                return
            time.sleep(0.05)
        raise PgError("backends %s outlived their postmaster" % children)

    def query(self, sql, user=ROLE, database=DATABASE, check=True):
        """psql -At: the result rows as text ("|" between columns)."""
        p = subprocess.run([PSQL, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                            "-p", str(self.port), "-U", user, "-d", database, "-c", sql],
                           capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise PgError("psql failed on %r:\n%s" % (sql, p.stderr))
        return p.stdout.strip()

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        if self.proc is not None:
            try:
                self.stop("immediate")
            except (PgError, subprocess.TimeoutExpired):
                self.kill()
        if self._tmp and not os.environ.get("E2E_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)


def _zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
