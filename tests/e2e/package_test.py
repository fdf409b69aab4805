"""The Debian package as installed (make check-deb, root): dpkg -i of the .deb
that make deb built; its files, owners, modes and conffile; systemd-analyze
verify on its units; the installed milter run as its unit runs it (user,
groups, umask, ExecStartPre and ExecStart) behind a private Postfix whose
smtpd is chrooted in its queue directory, as Debian ships it, and finds the
package's socket directory there; mail stamped. Then upgrades from an older
version with an edited policy file, and dpkg -r and -P leaving only what
Debian's policy keeps. /etc/postfix is never touched, and the machine ends
as it was (the test deletes the user that purge keeps).
Not named test_*.py: run.py (make check) leaves it out, since it installs
and purges a package on this machine; check-deb runs it with this file as
the program: python3 tests/e2e/package_test.py [-v] [-k NAME].
The older versions are this package repacked with a lower version (and one
with the policy file as it was before the package named the socket)."""

import glob
import grp
import hashlib
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

from postfix_harness import ManagedProcess, PostfixHarness, processes_of_config

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PKG = USER = "tlspolicy-milter"
CONF = "/etc/tlspolicy-milter/tlspolicy-milter.toml"
STATE_DIR = "/var/lib/tlspolicy-milter"
SOCKET_DIR = "/var/spool/postfix/tlspolicy-milter"
UNIT_DIR = "/lib/systemd/system"
# The units the tree has, each shipped (the outbound ingest's once it exists).
UNITS = tuple(sorted(os.path.basename(p) for p in glob.glob(os.path.join(TOP, "contrib", "tlspolicy-*.service"))
                     + glob.glob(os.path.join(TOP, "contrib", "tlspolicy-*.timer"))))
ENABLED_LINK = "/etc/systemd/system/multi-user.target.wants/tlspolicy-milter.service"
# Where a trace of the package could be: every name with "tlspolicy" below.
TRACE_ROOTS = ("/etc", "/lib/systemd", "/usr/lib/systemd", "/usr/sbin", "/usr/share", "/var/lib",
               "/var/spool/postfix", "/run")
ACCOUNT_FILES = ("/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow")
# The documented two lines (debian/README.Debian): main.cf and master.cf.
MAIN_CF_LINE = "tlspolicy_milters = { unix:tlspolicy-milter/milter.sock, default_action=tempfail }"
MASTER_CF_OPTION = "-o smtpd_milters=$tlspolicy_milters"


def version():
    with open(os.path.join(TOP, "configure.ac")) as f:
        return re.search(r"AC_INIT\(\[[^]]*\], \[([^]]*)\]", f.read()).group(1)


def built_deb():
    debs = glob.glob(os.path.join(TOP, "build", "deb", "%s_%s_*.deb" % (PKG, version())))
    if len(debs) != 1:
        raise AssertionError("want one build/deb/%s_%s_ARCH.deb (make deb), found %s" % (PKG, version(), debs))
    return debs[0]


def run(*argv, check=True, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s exited %d:\n%s%s" % (" ".join(argv), p.returncode, p.stdout, p.stderr))
    return p


def traces():
    """Every path below TRACE_ROOTS whose name says tlspolicy."""
    found = set()
    for root in TRACE_ROOTS:
        for d, dirs, files in os.walk(root):
            for n in dirs + files:
                if "tlspolicy" in n:
                    found.add(os.path.join(d, n))
    return found


def digest_tree(root):
    out = {}
    for d, _, files in os.walk(root):
        for n in files:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                out[p] = hashlib.sha256(f.read()).hexdigest()
    return out


def digest_files(paths):
    out = {}
    for p in paths:
        with open(p, "rb") as f:
            out[p] = hashlib.sha256(f.read()).hexdigest()
    return out


def status():
    """dpkg's state of the package: "install ok installed", "deinstall ok
    config-files", or "" when dpkg has no record of it."""
    p = run("dpkg-query", "-W", "-f=${Status}", PKG, check=False)
    return p.stdout if p.returncode == 0 else ""


def dpkg(*args):
    return run("dpkg", *args, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def install(deb, *options):
    """dpkg -i; what dpkg cannot resolve apt-get installs (the README's way)."""
    p = run("dpkg", *options, "-i", deb, check=False, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if p.returncode != 0:
        run("apt-get", "install", "-y", "--no-install-recommends", "-f",
            env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if status() != "install ok installed":
        raise AssertionError("not installed after dpkg -i %s:\n%s%s" % (deb, p.stdout, p.stderr))
    return p


def older_deb(deb, workdir, old_version, conffile_text=None):
    """The package as an older version: the same files with a lower Version,
    and optionally another shipped policy file (an upgrade that changes it)."""
    tree = os.path.join(workdir, "tree-" + old_version)
    shutil.rmtree(tree, ignore_errors=True)
    run("dpkg-deb", "-R", deb, tree)
    control = os.path.join(tree, "DEBIAN", "control")
    with open(control) as f:
        text = f.read()
    with open(control, "w") as f:
        f.write(re.sub(r"^Version: .*$", "Version: " + old_version, text, flags=re.M))
    if conffile_text is not None:  # dpkg keeps a conffile's hash itself (not in md5sums)
        with open(tree + CONF, "w") as f:
            f.write(conffile_text)
    out = os.path.join(workdir, "%s_%s.deb" % (PKG, old_version))
    run("dpkg-deb", "--root-owner-group", "-b", tree, out)
    return out


def owner(path):
    st = os.stat(path)
    return pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name, stat.S_IMODE(st.st_mode)


class Machine:
    """What the machine looked like before: no trace of the package, the
    account files and /etc/postfix. restore() purges and deletes the user
    that purge keeps, then says what differs."""

    def __init__(self):
        if os.geteuid() != 0:
            raise AssertionError("installs a package: run as root")
        if status():
            raise AssertionError("%s is installed on this machine (%s): the test installs and purges "
                                 "it, so it runs only where it is not" % (PKG, status()))
        left = traces()
        if left:
            raise AssertionError("traces of %s before the test, remove them first: %s" % (PKG, sorted(left)))
        try:
            pwd.getpwnam(USER)
            raise AssertionError("user %s exists before the test" % USER)
        except KeyError:
            pass
        self.accounts = digest_files(ACCOUNT_FILES)
        self.postfix = digest_tree("/etc/postfix")

    def purge(self):
        if status():
            dpkg("--purge", PKG)

    def restore(self):
        self.purge()
        try:
            pwd.getpwnam(USER)
            run("deluser", "--system", "--quiet", USER)
        except KeyError:
            pass
        try:
            grp.getgrnam(USER)
            run("delgroup", "--system", "--quiet", USER)
        except KeyError:
            pass

    def differences(self):
        out = []
        if digest_files(ACCOUNT_FILES) != self.accounts:
            out.append("the account files differ")
        if digest_tree("/etc/postfix") != self.postfix:
            out.append("/etc/postfix differs")
        left = traces()
        if left:
            out.append("left behind: %s" % sorted(left))
        return out


class ChrootedPostfix(PostfixHarness):
    """The private Postfix of postfix_harness, with its smtpd chrooted in its
    queue directory as Debian's master.cf has it, the package's socket
    directory bind-mounted at QUEUE/tlspolicy-milter in Postfix's own mount
    namespace (where /var/spool/postfix/tlspolicy-milter is for Debian's
    Postfix), and the milter named by the two lines README.Debian gives."""

    CHROOT_FILES = ("etc/localtime", "etc/services", "etc/resolv.conf", "etc/hosts",
                    "etc/host.conf", "etc/nsswitch.conf")  # what Debian's postfix copies there

    def __init__(self, workdir):
        super().__init__(workdir, extra_main_cf={"tlspolicy_milters": MAIN_CF_LINE.split(" = ", 1)[1]})

    def _write_config(self):
        super()._write_config()
        master = os.path.join(self.config_dir, "master.cf")
        with open(master) as f:
            text = f.read()
        smtpd = "inet  n       -       n       -       -       smtpd"
        chrooted = "inet  n       -       y       -       -       smtpd\n  " + MASTER_CF_OPTION
        if text.count(smtpd) < 2:
            raise AssertionError("the harness's smtpd lines changed:\n" + text)
        with open(master, "w") as f:
            f.write(text.replace(smtpd, chrooted))
        past = time.time() - 60  # as the harness does: Postfix waits for a fresh file to settle
        os.utime(master, (past, past))
        for name in self.CHROOT_FILES:
            if os.path.exists("/" + name):
                os.makedirs(os.path.join(self.queue_dir, os.path.dirname(name)), exist_ok=True)
                shutil.copy2("/" + name, os.path.join(self.queue_dir, name))
        os.makedirs(os.path.join(self.queue_dir, "tlspolicy-milter"), exist_ok=True)

    def namespace_argv(self):
        return ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                'mount --bind "$0" "$1" && shift && exec "$@"', SOCKET_DIR,
                os.path.join(self.queue_dir, "tlspolicy-milter")]

    def smtpd_roots(self):
        """The root directory of each smtpd process of this instance."""
        roots = set()
        for pid in processes_of_config(self.config_dir):
            try:
                with open("/proc/%d/comm" % pid) as f:
                    if f.read().strip() == "smtpd":
                        roots.add(os.readlink("/proc/%d/root" % pid))
            except OSError:
                pass
        return roots


def unit_commands(unit, key):
    """The unit's KEY= command lines as argv lists (no quoting in ours)."""
    with open(os.path.join(UNIT_DIR, unit)) as f:
        return [line.split("=", 1)[1].split() for line in f if line.startswith(key + "=")]


def as_unit_user(argv):
    """argv as the unit runs it: User= and Group= tlspolicy-milter with the
    user's groups from the group database (systemd's way, so postfix when
    postinst added it), UMask=0027."""
    return ["/bin/sh", "-c", 'umask 0027 && exec "$@"', "sh", "setpriv", "--reuid=" + USER, "--regid=" + USER,
            "--init-groups", "--"] + argv


class PackageInstalled(unittest.TestCase):
    """Installed once; the files, the units, and mail through Postfix."""

    @classmethod
    def setUpClass(cls):
        cls.machine = Machine()
        cls.deb = built_deb()
        cls.dir = tempfile.mkdtemp(prefix="tpm-e2e-package.")
        os.chmod(cls.dir, 0o755)
        try:
            cls.install_output = install(cls.deb)
            cls.postfix_after_install = digest_tree("/etc/postfix")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.machine.restore()
        shutil.rmtree(cls.dir, ignore_errors=True)
        differences = cls.machine.differences()
        if differences:
            raise AssertionError("the machine is not as it was: " + "; ".join(differences))

    def test_files_owners_and_modes(self):
        want = {
            "/usr/sbin/tlspolicy-milter": ("root", "root", 0o755),
            "/usr/sbin/tlspolicy-probe-partners": ("root", "root", 0o755),
            CONF: ("root", "root", 0o644),
            "/usr/share/man/man8/tlspolicy-milter.8.gz": ("root", "root", 0o644),
            "/usr/share/man/man5/tlspolicy-milter.toml.5.gz": ("root", "root", 0o644),
            "/usr/share/man/man8/tlspolicy-probe-partners.8.gz": ("root", "root", 0o644),
            UNIT_DIR + "/tlspolicy-milter.service.d/debian.conf": ("root", "root", 0o644),
            "/usr/share/tlspolicy-milter/prometheus/tlspolicy-milter.rules.yml": ("root", "root", 0o644),
            "/usr/share/tlspolicy-milter/grafana/tlspolicy-milter.json": ("root", "root", 0o644),
            "/usr/share/doc/tlspolicy-milter/README.Debian.gz": ("root", "root", 0o644),
            STATE_DIR: (USER, USER, 0o750),
            SOCKET_DIR: (USER, "postfix", 0o750),
        }
        want.update({os.path.join(UNIT_DIR, u): ("root", "root", 0o644) for u in UNITS})
        for path, (o, g, mode) in want.items():
            with self.subTest(path=path):
                self.assertEqual(owner(path), (o, g, mode))

    def test_system_user_in_group_postfix(self):
        u = pwd.getpwnam(USER)
        self.assertLess(u.pw_uid, 1000)
        self.assertEqual((u.pw_dir, u.pw_shell), ("/nonexistent", "/usr/sbin/nologin"))
        self.assertEqual(grp.getgrgid(u.pw_gid).gr_name, USER)
        self.assertIn(USER, grp.getgrnam("postfix").gr_mem)

    def test_policy_is_a_conffile_naming_the_chroot_socket(self):
        conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", PKG).stdout.split()
        self.assertIn(CONF, conffiles)
        with open(CONF) as f:
            self.assertIn('\nsocket = "unix:%s/milter.sock"\n' % SOCKET_DIR, f.read())
        checked = run("/usr/sbin/tlspolicy-milter", "-c", CONF, "--check")
        self.assertIn(SOCKET_DIR + "/milter.sock", checked.stdout)

    def test_milter_enabled_probe_timer_and_ingest_not(self):
        self.assertEqual(os.readlink(ENABLED_LINK), UNIT_DIR + "/tlspolicy-milter.service")
        self.assertFalse(glob.glob("/etc/systemd/system/*/tlspolicy-probe.*"))
        self.assertFalse(glob.glob("/etc/systemd/system/*/tlspolicy-ingest.*"))

    def test_systemd_analyze_verify_every_unit(self):
        for unit in UNITS:
            with self.subTest(unit=unit):
                p = run("systemd-analyze", "verify", os.path.join(UNIT_DIR, unit), check=False)
                self.assertEqual((p.returncode, p.stdout + p.stderr), (0, ""))

    def test_unit_drop_in_opens_the_socket_directory(self):
        p = run("systemd-analyze", "cat-config", "systemd/system/tlspolicy-milter.service")
        self.assertIn("ReadWritePaths=-" + SOCKET_DIR, p.stdout)

    def test_postfix_configuration_untouched(self):
        self.assertEqual(self.postfix_after_install, self.machine.postfix)

    def test_stamps_mail_behind_chrooted_postfix(self):
        for argv in unit_commands("tlspolicy-milter.service", "ExecStartPre"):
            run(*as_unit_user(argv))
        (exec_start,) = unit_commands("tlspolicy-milter.service", "ExecStart")
        self.assertEqual(exec_start, ["/usr/sbin/tlspolicy-milter", "-f", "-c", CONF])
        socket_path = SOCKET_DIR + "/milter.sock"
        milter = ManagedProcess(as_unit_user(exec_start), "unix:" + socket_path,
                                os.path.join(self.dir, "milter.log"))
        with milter, ChrootedPostfix(os.path.join(self.dir, "postfix")) as pf:
            self.assertEqual(owner(socket_path), (USER, "postfix", 0o660))
            self.assertEqual(pf.smtpd_roots(), set(), "no smtpd before the first client")
            sent = pf.send(mail_from="a@partner.test", tls="tlsv1_3")
            self.assertTrue(sent.accepted, sent.transcript)
            self.assertEqual(pf.smtpd_roots(), {pf.queue_dir}, "smtpd runs chrooted in the queue directory")
            msg = pf.wait_for_message(sent.marker)
            self.assertEqual(msg.header("X-Transport-Security"),
                             ["mx.harness.test; version=TLS1_3 cipher=%s bits=%d/%d; policy=default result=none"
                              % (sent.tls[1], sent.tls[2], sent.tls[2])])
            plain = pf.send(mail_from="b@partner.test", tls=None)
            self.assertTrue(plain.accepted, plain.transcript)
            self.assertEqual(pf.wait_for_message(plain.marker).header("X-Transport-Security"),
                             ["mx.harness.test; version=none cipher=none bits=0/0; policy=default result=none"])


class PackageLifecycle(unittest.TestCase):
    """Upgrades with an edited policy file, then remove and purge."""

    EDIT = "\n# edited by the operator\n"

    @classmethod
    def setUpClass(cls):
        cls.machine = Machine()
        cls.deb = built_deb()
        cls.dir = tempfile.mkdtemp(prefix="tpm-e2e-package.")
        with open(os.path.join(TOP, "conf", "tlspolicy-milter.toml")) as f:
            cls.old_sample = f.read()  # the policy file before the package named the socket
        # Lower than any version of the tree: "~" sorts before everything.
        # TLSPOLICY_OLD_DEB: a package built from a tree with a lower version
        # instead (debian/make-deb OUT VERSION), with the same policy file.
        cls.old_same = os.environ.get("TLSPOLICY_OLD_DEB") or older_deb(cls.deb, cls.dir, version() + "~old1")
        cls.old_changed = older_deb(cls.deb, cls.dir, version() + "~old2", cls.old_sample)

    @classmethod
    def tearDownClass(cls):
        cls.machine.restore()
        shutil.rmtree(cls.dir, ignore_errors=True)
        differences = cls.machine.differences()
        if differences:
            raise AssertionError("the machine is not as it was: " + "; ".join(differences))

    def tearDown(self):
        self.machine.purge()

    def shipped_conf(self):
        tree = os.path.join(self.dir, "new")
        if not os.path.exists(tree):
            run("dpkg-deb", "-x", self.deb, tree)
        with open(tree + CONF) as f:
            return f.read()

    def read_conf(self):
        with open(CONF) as f:
            return f.read()

    def edit_conf(self):
        with open(CONF, "a") as f:
            f.write(self.EDIT)
        return self.read_conf()

    def test_upgrade_keeps_an_edited_policy_file(self):
        install(self.old_same)
        edited = self.edit_conf()
        install(self.deb)
        self.assertEqual(run("dpkg-query", "-W", "-f=${Version}", PKG).stdout, version())
        self.assertEqual(self.read_conf(), edited)
        self.assertEqual(glob.glob(CONF + ".dpkg-*"), [])

    def test_upgrade_that_changes_the_policy_file_keeps_the_edited_one(self):
        install(self.old_changed)
        edited = self.edit_conf()
        install(self.deb, "--force-confdef", "--force-confold")  # unattended, as apt is told to
        self.assertEqual(self.read_conf(), edited)
        with open(CONF + ".dpkg-dist") as f:
            self.assertEqual(f.read(), self.shipped_conf())

    def test_upgrade_replaces_an_unedited_policy_file(self):
        install(self.old_changed)
        self.assertEqual(self.read_conf(), self.old_sample)
        install(self.deb)
        self.assertEqual(self.read_conf(), self.shipped_conf())
        self.assertEqual(glob.glob(CONF + ".dpkg-*"), [])

    def test_remove_keeps_configuration_and_data_purge_removes_them(self):
        install(self.deb)
        edited = self.edit_conf()
        with open(os.path.join(STATE_DIR, "observations.sqlite"), "w") as f:
            f.write("the operator's data")
        dpkg("--remove", PKG)
        self.assertEqual(status(), "deinstall ok config-files")
        self.assertEqual(self.read_conf(), edited)
        # What remove keeps: the configuration (the policy file, the unit
        # enabled, and deb-systemd-helper's record of it), the data, the
        # socket directory; and dpkg's record of a package in config-files.
        helper = "/var/lib/systemd/deb-systemd-helper-enabled/"
        self.assertEqual(sorted(traces()), sorted([
            "/etc/tlspolicy-milter", CONF, ENABLED_LINK, STATE_DIR, SOCKET_DIR,
            helper + "tlspolicy-milter.service.dsh-also", helper + "tlspolicy-probe.timer.dsh-also",
            helper + "multi-user.target.wants/tlspolicy-milter.service",
            "/var/lib/dpkg/info/tlspolicy-milter.list", "/var/lib/dpkg/info/tlspolicy-milter.postrm"]
            # The ingest's unit, shipped and not enabled, has its record as the probe timer has.
            + [helper + u + ".dsh-also" for u in UNITS if u == "tlspolicy-ingest.service"]))
        with open(os.path.join(STATE_DIR, "observations.sqlite")) as f:
            self.assertEqual(f.read(), "the operator's data")
        dpkg("--purge", PKG)
        self.assertEqual(status(), "")
        self.assertEqual(traces(), set())
        self.assertEqual(pwd.getpwnam(USER).pw_name, USER, "purge keeps the system user")
        self.assertEqual(digest_tree("/etc/postfix"), self.machine.postfix)


if __name__ == "__main__":
    unittest.main()
