"""The milter's side of a TCP milter connection is tuned (src/milter/libc_shim.cpp): the
socket libmilter accepts has TCP_NODELAY, so our replies are never held back
by Nagle waiting for the MTA's delayed ACK. Read from the running daemon's
own descriptor (pidfd_getfd), not inferred from timings. Unix sockets are
left alone."""

import ctypes
import os
import shutil
import socket
import struct
import tempfile
import time
import unittest

from milter_fixture import Milter

POLICY = """
[defaults]
require_tls = true
action = "reject"
"""

SYS_PIDFD_OPEN, SYS_PIDFD_GETFD = 434, 438
libc = ctypes.CDLL(None, use_errno=True)


def steal_fd(pid, fd):
    """A duplicate of another process's descriptor (Linux >= 5.6, root)."""
    pidfd = libc.syscall(SYS_PIDFD_OPEN, pid, 0)
    if pidfd < 0:
        raise OSError(ctypes.get_errno(), "pidfd_open")
    try:
        dup = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if dup < 0:
            raise OSError(ctypes.get_errno(), "pidfd_getfd")
        return dup
    finally:
        os.close(pidfd)


def peer_socket_of(pid, local_port, milter_port):
    """The daemon's descriptor for the TCP connection from milter_port to our
    local_port (matched by inode through /proc/net/tcp). Other connections of
    a busy machine may have used local_port before and linger in TIME_WAIT,
    with inode 0: they are passed over."""
    inode = None
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        f = line.split()
        if (int(f[2].split(":")[1], 16) == local_port and int(f[1].split(":")[1], 16) == milter_port
                and f[9] != "0"):
            inode = f[9]
    if inode is None:
        return None
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "socket:[%s]" % inode:
                return int(fd)
        except OSError:
            pass
    return None


def optneg():
    """SMFIC_OPTNEG as Postfix 3.7 sends it: version 6, every action and protocol bit."""
    body = b"O" + struct.pack(">III", 6, 0x1FF, 0x1FFFFF)
    return struct.pack(">I", len(body)) + body


def frame(cmd, payload=b""):
    return struct.pack(">I", len(payload) + 1) + cmd + payload


def unacked(sock):
    """tcpi_unacked of a socket: segments sent and not yet ACKed by the peer."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return struct.unpack_from("I", info, 24)[0]


def ack_wait(port):
    """Seconds the milter takes to ACK a macro command (which gets no reply),
    sent once the negotiation has put its side in interactive (delayed-ACK)
    mode, from a client that runs Nagle as Postfix does."""
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.settimeout(10)
        c.sendall(optneg())
        reply = b""
        while len(reply) < 4 or len(reply) < 4 + struct.unpack(">I", reply[:4])[0]:
            chunk = c.recv(4096)
            if not chunk:
                raise AssertionError("no negotiation reply")
            reply += chunk
        time.sleep(0.05)  # the reply's own ACK settles
        start = time.monotonic()
        c.sendall(frame(b"D", b"M{mail_addr}\0a@b.example\0"))
        while unacked(c) and time.monotonic() - start < 1:
            time.sleep(0.0005)
        return time.monotonic() - start


class TcpTuning(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tpm-e2e-tcp.")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_accepted_tcp_socket_has_nodelay(self):
        m = Milter(self.dir, POLICY).start()
        try:
            port = int(m.socket.split(":")[1].split("@")[0])
            with socket.create_connection(("127.0.0.1", port)) as c:
                c.sendall(optneg())
                c.settimeout(10)
                self.assertEqual(c.recv(1)[:1] != b"", True, "no negotiation reply")
                pid = m.proc.proc.pid
                fd = None
                for _ in range(100):
                    fd = peer_socket_of(pid, c.getsockname()[1], port)
                    if fd is not None:
                        break
                    time.sleep(0.05)
                self.assertIsNotNone(fd, "the daemon's end of the connection was not found")
                dup = steal_fd(pid, fd)
                try:
                    s = socket.socket(fileno=dup)
                    try:
                        self.assertEqual(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), 1,
                                         "the milter's accepted TCP socket still runs Nagle")
                    finally:
                        s.detach()
                finally:
                    os.close(dup)
        finally:
            m.stop()

    def test_command_without_reply_is_acked_at_once(self):
        """The stall measured before the tuning: the MTA's next small write waits (Nagle)
        for the ACK of a command we do not answer, and a delayed ACK takes
        40 ms or more on Linux. Ours comes at once; the median of five
        connections keeps one slow wake-up on a busy machine from deciding."""
        m = Milter(self.dir, POLICY).start()
        try:
            port = int(m.socket.split(":")[1].split("@")[0])
            waits = sorted(ack_wait(port) for _ in range(5))
            self.assertLess(waits[2], 0.02, "ACK waits (s): %s" % waits)
        finally:
            m.stop()


if __name__ == "__main__":
    unittest.main()
