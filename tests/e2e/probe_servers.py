#!/usr/bin/env python3
"""The loopback servers of tests/e2e/test_probe_domain.py, run inside its
private network namespace (so they can hold ports 25, 443 and 53): SMTP servers
that offer STARTTLS with a given certificate, HTTPS servers that serve MTA-STS
policies by Host header, and servers that accept and never answer (a silent
resolver on UDP and TCP port 53, a silent HTTPS server). Usage:

    probe_servers.py CONFIG.json    # prints "ready" once every socket listens

CONFIG: {"smtp": [{"addr", "cert", "key", "name"}],
         "https": [{"addr", "cert", "key", "policies": {HOST: [STATUS, CONTENT_TYPE, BODY]}}],
         "silent_tcp": [[ADDR, PORT]], "silent_udp": [[ADDR, PORT]]}
Runs until killed; every connection gets its own thread."""

import json
import socket
import ssl
import sys
import threading


def listener(addr, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    return s


def serve_forever(sock, handler):
    def loop():
        while True:
            c, _ = sock.accept()
            threading.Thread(target=guarded, args=(handler, c), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


def guarded(handler, c):
    try:
        handler(c)
    except (OSError, ssl.SSLError, ValueError):
        pass
    finally:
        try:
            c.close()
        except OSError:
            pass


def context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def smtp_handler(cfg):
    ctx = context(cfg["cert"], cfg["key"])
    name = cfg["name"].encode()

    def handle(c):
        f = c.makefile("rb")
        c.sendall(b"220 " + name + b" ESMTP\r\n")
        tls = None
        while True:
            line = (tls or f).readline(1000)
            if not line:
                return
            verb = line.split(b" ")[0].strip().upper()
            out = tls_sock if tls else c
            if verb == b"EHLO":
                out.sendall(b"250-" + name + (b"\r\n250 STARTTLS\r\n" if not tls else b"\r\n250 8BITMIME\r\n"))
            elif verb == b"STARTTLS" and not tls:
                c.sendall(b"220 go ahead\r\n")
                tls_sock = ctx.wrap_socket(c, server_side=True)
                tls = tls_sock.makefile("rb")
            elif verb == b"QUIT":
                out.sendall(b"221 bye\r\n")
                return
            else:
                out.sendall(b"502 not here\r\n")
    return handle


def https_handler(cfg):
    ctx = context(cfg["cert"], cfg["key"])
    policies = cfg["policies"]

    def handle(c):
        t = ctx.wrap_socket(c, server_side=True)
        f = t.makefile("rb")
        request = f.readline(4000).decode("latin-1").split()
        host = ""
        while True:
            h = f.readline(4000).decode("latin-1")
            if h in ("\r\n", "\n", ""):
                break
            k, _, v = h.partition(":")
            if k.strip().lower() == "host":
                host = v.strip().lower()
        status, ctype, body = policies.get(host, [404, "text/plain", "not found\n"])
        if len(request) < 2 or request[1] != "/.well-known/mta-sts.txt":
            status, ctype, body = 404, "text/plain", "not found\n"
        data = body.encode()
        t.sendall(("HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                   % (status, ctype, len(data))).encode() + data)
        t.close()
    return handle


def silent_handler(c):
    c.settimeout(120)
    while c.recv(4096):
        pass


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    for s in cfg.get("smtp", []):
        serve_forever(listener(s["addr"], 25), smtp_handler(s))
    for s in cfg.get("https", []):
        serve_forever(listener(s["addr"], 443), https_handler(s))
    for addr, port in cfg.get("silent_tcp", []):
        serve_forever(listener(addr, port), silent_handler)
    udp = []
    for addr, port in cfg.get("silent_udp", []):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((addr, port))
        udp.append(u)  # bound, never read: queries go unanswered
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
