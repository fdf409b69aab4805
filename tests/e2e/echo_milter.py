#!/usr/bin/python3
"""Test milter (Debian python3-milter, so run it with /usr/bin/python3): logs, as
JSON lines, every macro visible at each callback, adds X-Echo-Milter at EOM.
Usage: echo_milter.py SOCKET LOGFILE [--reject-rcpt ADDR]...   (SOCKET: inet:PORT@HOST)"""
import json, sys
import Milter

# Everything Postfix documents for milters, plus Sendmail-only names.
NAMES = ["i", "j", "_", "v", "{auth_authen}", "{auth_author}", "{auth_type}",
         "{cert_issuer}", "{cert_subject}", "{cipher}", "{cipher_bits}", "{client_addr}",
         "{client_connections}", "{client_name}", "{client_port}", "{client_ptr}",
         "{daemon_addr}", "{daemon_name}", "{daemon_port}", "{if_addr}", "{if_name}",
         "{mail_addr}", "{mail_host}", "{mail_mailer}", "{rcpt_addr}", "{rcpt_host}",
         "{rcpt_mailer}", "{tls_version}", "{verify}", "{alg_bits}", "{server_name}"]
SOCKET, LOG, REJECT = sys.argv[1], sys.argv[2], sys.argv[4::2]


class Echo(Milter.Base):
    def _log(self, stage, **args):
        # getsymval searches every stage's macros, so this is what a milter
        # can *see* here, not only what Postfix sent for this stage.
        seen = {n: v for n in NAMES if (v := self.getsymval(n)) is not None}
        with open(LOG, "a") as f:
            f.write(json.dumps({"stage": stage, "args": args, "macros": seen}) + "\n")
        return Milter.CONTINUE

    def connect(self, host, family, addr): return self._log("connect", host=host, addr=str(addr))
    def hello(self, name): return self._log("helo", name=name)
    def envfrom(self, f, *p): return self._log("mail", addr=f)
    def envrcpt(self, to, *p):
        if to.strip("<>") in REJECT:
            self.setreply("550", "5.7.1", "echo milter refuses " + to)
            return Milter.REJECT
        return self._log("rcpt", addr=to)
    def data(self): return self._log("data")
    def eoh(self): return self._log("eoh")
    def abort(self): return self._log("abort")
    def close(self): return self._log("close")
    def eom(self):
        self.addheader("X-Echo-Milter", "seen tls=%s" % self.getsymval("{tls_version}"))
        return self._log("eom")


if __name__ == "__main__":
    Milter.factory = Echo
    Milter.set_flags(Milter.ADDHDRS)
    Milter.runmilter("echo", SOCKET, 60)
