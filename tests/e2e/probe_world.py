"""A small internet on loopback for `probe --domain`, inside a private network
namespace (so its servers hold the real ports: 53, 25, 443): nsd serving test
zones (some signed with ldns-signzone), a validating unbound that trusts the
signed zones' keys, a second unbound that does not validate, a resolver that
never answers, SMTP and HTTPS servers (tests/e2e/probe_servers.py) with
certificates from a throwaway CA.

The product runs in that network namespace and a private mount namespace of its
own, in which /etc/resolv.conf names the resolver a test chooses and
/etc/ssl/certs holds the throwaway CA only: the system resolver and trust store,
as an operator's MTA host has them (see run()).

The test describes the zones and servers (test_probe_domain.py's setUpClass);
nothing outside a temp dir and the namespaces is touched."""

import datetime
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
VALIDATING, NON_VALIDATING, SILENT = "127.0.0.2", "127.0.0.3", "127.0.0.4"


class WorldError(RuntimeError):
    pass


class Ca:
    """A throwaway CA and the certificates it signs (ECDSA P-256)."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "probe test CA")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.pem = os.path.join(tmp, "ca.pem")
        with open(self.pem, "wb") as f:
            f.write(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, label, names, expired=False, self_signed=False):
        """Writes LABEL.pem (leaf, then the CA) and LABEL.key; returns the leaf."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        start, end = ((now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)) if expired
                      else (now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)))
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
        cert = (x509.CertificateBuilder().subject_name(subject)
                .issuer_name(subject if self_signed else self.cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(key if self_signed else self.key, hashes.SHA256()))
        pem, keyfile = os.path.join(self.tmp, label + ".pem"), os.path.join(self.tmp, label + ".key")
        with open(pem, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
            if not self_signed:
                f.write(self.cert.public_bytes(serialization.Encoding.PEM))
        with open(keyfile, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        os.chmod(keyfile, 0o600)
        return cert


def spki_sha256(cert):
    """TLSA 3 1 1 / 2 1 1 data: SHA-256 of the SubjectPublicKeyInfo."""
    return hashlib.sha256(cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()


def cert_sha256(cert):
    """TLSA x 0 1 data: SHA-256 of the whole certificate."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _run(cmd, cwd=None):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise WorldError("%s failed: %s%s" % (" ".join(cmd), p.stdout, p.stderr))
    return p.stdout


class World:
    """World() makes the temp dir and the CA (world.ca issues certificates
    for the servers); start(zones, servers) brings up the rest."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="probe-world.")
        os.chmod(self.tmp, 0o755)
        self.zones = {}
        self.procs = []
        self.logs = []
        self.ns_holder = None
        self.ca = Ca(self.tmp)

    # ---------------------------------------------------------- set-up

    def _write_zones(self):
        anchors = []
        for name, (signed, lines) in self.zones.items():
            path = os.path.join(self.tmp, name + ".zone")
            with open(path, "w") as f:
                f.write("$ORIGIN %s.\n$TTL 300\n@ IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n"
                        "@ IN NS ns.%s.\nns IN A 127.0.0.1\n" % (name, name, name, name))
                f.write("\n".join(lines) + "\n")
            if not signed:
                continue
            ksk = _run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", name], cwd=self.tmp).strip()
            zsk = _run(["ldns-keygen", "-a", "ECDSAP256SHA256", name], cwd=self.tmp).strip()
            _run(["ldns-signzone", "-f", path + ".signed", path, zsk, ksk], cwd=self.tmp)
            os.replace(path + ".signed", path)
            anchors.append(os.path.join(self.tmp, ksk + ".key"))
        return anchors

    def _config(self, anchors):
        t = self.tmp
        zones = "".join('zone:\n  name: "%s"\n  zonefile: "%s/%s.zone"\n' % (z, t, z) for z in self.zones)
        with open(os.path.join(t, "nsd.conf"), "w") as f:
            f.write('server:\n  ip-address: 127.0.0.1\n  port: 53\n  username: ""\n  chroot: ""\n'
                    '  zonesdir: "%s"\n  pidfile: "%s/nsd.pid"\n  database: ""\n  xfrdfile: "%s/xfrd.state"\n'
                    '  xfrdir: "%s"\n  zonelistfile: "%s/zone.list"\n  logfile: "%s/nsd.log"\n  server-count: 1\n'
                    '  do-ip6: no\n  verbosity: 1\nremote-control:\n  control-enable: no\n%s'
                    % (t, t, t, t, t, t, zones))
        stubs = "".join('stub-zone:\n  name: "%s"\n  stub-addr: 127.0.0.1@53\n' % z for z in self.zones)
        for label, addr, modules, trust in (("validating", VALIDATING, "validator iterator", anchors),
                                            ("plain", NON_VALIDATING, "iterator", [])):
            with open(os.path.join(t, "unbound-%s.conf" % label), "w") as f:
                f.write('server:\n  interface: %s\n  port: 53\n  do-ip6: no\n  username: ""\n  chroot: ""\n'
                        '  directory: "%s"\n  pidfile: "%s/unbound-%s.pid"\n  use-syslog: no\n'
                        '  logfile: "%s/unbound-%s.log"\n  verbosity: 1\n  do-daemonize: no\n'
                        '  access-control: 127.0.0.0/8 allow\n  do-not-query-localhost: no\n'
                        '  module-config: "%s"\n  val-log-level: 2\n  local-zone: "test." nodefault\n%s'
                        'remote-control:\n  control-enable: no\n%s'
                        % (addr, t, t, label, t, label, modules,
                           "".join('  trust-anchor-file: "%s"\n' % a for a in trust), stubs))
        # One resolv.conf per resolver, and a trust store holding only the test CA.
        for label, addr in (("validating", VALIDATING), ("plain", NON_VALIDATING), ("silent", SILENT)):
            with open(os.path.join(t, "resolv-%s.conf" % label), "w") as f:
                f.write("nameserver %s\n" % addr)
        certs = os.path.join(t, "certs")
        os.mkdir(certs)
        shutil.copy(self.ca.pem, os.path.join(certs, "ca-certificates.crt"))
        shutil.copy(self.ca.pem, os.path.join(certs, "probe-test-ca.pem"))
        _run(["openssl", "rehash", certs])

    def _in_net(self, cmd):
        return ["nsenter", "--net=/proc/%d/ns/net" % self.ns_holder.pid, "--"] + cmd

    def _spawn(self, name, cmd, ready=None):
        log = open(os.path.join(self.tmp, name + ".out"), "w+")
        self.logs.append(log)
        p = subprocess.Popen(self._in_net(cmd), stdout=subprocess.PIPE if ready else log, stderr=log,
                             stdin=subprocess.DEVNULL, text=True)
        self.procs.append(p)
        if ready and p.stdout.readline().strip() != ready:
            raise WorldError("%s did not start: %s" % (name, self._tail(name)))
        return p

    def _tail(self, name):
        with open(os.path.join(self.tmp, name + ".out")) as f:
            return f.read()[-2000:]

    def start(self, zones, servers):
        """zones: {name: (signed, [zone file lines after SOA and NS])};
        servers: probe_servers.py's configuration. Returns when the
        resolvers answer and the other servers listen."""
        self.zones = zones
        try:
            anchors = self._write_zones()
            self._config(anchors)
            with open(os.path.join(self.tmp, "servers.json"), "w") as f:
                json.dump(servers, f)
            self.ns_holder = subprocess.Popen(
                ["unshare", "--net", "sh", "-c", "ip link set lo up && echo up && exec sleep 100000"],
                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
            if self.ns_holder.stdout.readline().strip() != "up":
                raise WorldError("no network namespace (unshare --net, as root)")
            self._spawn("nsd", ["nsd", "-d", "-c", os.path.join(self.tmp, "nsd.conf")])
            self._spawn("unbound-validating", ["unbound", "-d", "-c", os.path.join(self.tmp, "unbound-validating.conf")])
            self._spawn("unbound-plain", ["unbound", "-d", "-c", os.path.join(self.tmp, "unbound-plain.conf")])
            self._spawn("servers", ["python3", os.path.join(HERE, "probe_servers.py"),
                                    os.path.join(self.tmp, "servers.json")], ready="ready")
            self._wait_for_dns()
        except BaseException:
            self.stop()
            raise

    def _wait_for_dns(self):
        first = next(iter(self.zones))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for p in self.procs:
                if p.poll() is not None:
                    raise WorldError("a server stopped: %s" % p.args)
            ok = all(subprocess.run(self._in_net(["drill", "-Q", "@" + r, "SOA", first]), capture_output=True,
                                    text=True, timeout=10).stdout.strip() for r in (VALIDATING, NON_VALIDATING))
            if ok:
                return
            time.sleep(0.1)
        raise WorldError("the resolvers do not answer: %s %s" % (self._tail("nsd"), self._tail("unbound-validating")))

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for p in self.procs:
            if p.stdout:
                p.stdout.close()
        self.procs = []
        for log in self.logs:
            log.close()
        self.logs = []
        if self.ns_holder:
            if self.ns_holder.poll() is None:
                self.ns_holder.kill()
                self.ns_holder.wait()
            self.ns_holder.stdout.close()
        if not os.environ.get("E2E_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ---------------------------------------------------------- the product

    def run(self, cmd, resolver="validating", timeout=60):
        """CMD in the namespace, with /etc/resolv.conf naming the `resolver`
        (validating, plain or silent) and /etc/ssl/certs holding the test CA
        only, through bind mounts in a mount namespace of its own."""
        script = ('mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/ssl/certs && shift 2 && exec "$@"')
        full = self._in_net(["unshare", "--mount", "sh", "-c", script, "sh",
                             os.path.join(self.tmp, "resolv-%s.conf" % resolver), os.path.join(self.tmp, "certs")]
                            + list(cmd))
        return subprocess.run(full, capture_output=True, text=True, timeout=timeout)

    def path(self, name):
        return os.path.join(self.tmp, name)
