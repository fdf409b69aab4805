"""The auditor's page (`report --evidence --format html`) as a browser shows it:
headless Chromium opens the page made from a known database and, over the
DevTools protocol, this test reads back the rendered layout: a chart per rule
with a real size inside the viewport, bar heights that match the known shares,
nothing wider than the window, a visible bar on top where it is drawn, and no
request other than the document itself. Outbound deliveries, read by `ingest`
from a Postfix log into the same database, get a second chart in their rule's
section."""

import base64
import datetime
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

try:
    import websocket  # Debian python3-websocket
except ImportError:  # a python3 other than Debian's: borrow its pure-Python package
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import websocket
    except ImportError:
        websocket = None

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = os.environ.get("TLSPOLICY_BIN", os.path.join(HERE, "..", "..", "build", "tlspolicy-milter"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTH, HEIGHT = 1024, 768

POLICY = """
[milter]
mode = "monitor"

[observations]
database = "{db}"

[[partner]]
name = "acme"
senders = ["acme.example"]
require_tls = true
min_version = "TLSv1.2"
action = "reject"

[[partner]]
name = "quiet"
senders = ["quiet.example"]
require_tls = true

[[recipient]]
name = "hr"
recipients = ["hr@example.com"]
require_tls = true
min_version = "TLSv1.3"
action = "reject"
"""

# The released schema 2 (migrations 1 and 2 of src/store/sqlite/schema.cpp,
# never edited once released): report reads older databases as they are.
SCHEMA = """
CREATE TABLE observations (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, stage TEXT NOT NULL,
  queue_id TEXT NOT NULL, client TEXT NOT NULL, hostname TEXT NOT NULL, sender TEXT NOT NULL,
  sender_domain TEXT NOT NULL, recipient TEXT NOT NULL, rules TEXT NOT NULL, tls_version TEXT NOT NULL,
  cipher TEXT NOT NULL, cipher_bits INTEGER NOT NULL, alg_bits INTEGER NOT NULL, result TEXT NOT NULL,
  action TEXT NOT NULL, would TEXT NOT NULL, cert_status TEXT NOT NULL DEFAULT 'none',
  cert_subject TEXT NOT NULL DEFAULT '', cert_issuer TEXT NOT NULL DEFAULT '');
CREATE INDEX observations_time ON observations(time);
PRAGMA application_id = 1414288208;
PRAGMA user_version = 2;
"""

CIPHER = {"TLS1_3": ("TLS_AES_256_GCM_SHA384", 256), "TLS1_2": ("ECDHE-RSA-AES128-GCM-SHA256", 128),
          "TLS1_0": ("ECDHE-RSA-AES256-SHA", 256), "none": ("", 0)}

# (days ago, stage, sender, recipient, rules, version, action, would): acme's
# sender-side rows and hr's recipient rows over three months; refusals both
# real (action) and would-be (monitor mode's `would`).
ROWS = [
    (100, "mail", "a@acme.example", "", "acme", "TLS1_3", "accept", "accept"),
    (99, "mail", "a@acme.example", "", "acme", "TLS1_3", "accept", "accept"),
    (98, "mail", "a@acme.example", "", "acme", "TLS1_3", "accept", "accept"),
    (97, "mail", "b@acme.example", "", "acme", "TLS1_0", "accept", "reject"),
    (70, "mail", "a@acme.example", "", "acme,hr", "TLS1_3", "accept", "accept"),
    (69, "mail", "c@acme.example", "", "acme", "none", "reject", "accept"),
    (68, "rcpt", "d@acme.example", "hr@example.com", "hr", "TLS1_2", "accept", "reject"),
    (68, "mail", "d@acme.example", "", "acme", "TLS1_2", "accept", "accept"),
    (40, "mail", "a@acme.example", "", "acme", "TLS1_2", "accept", "accept"),
    (39, "mail", "e@acme.example", "", "acme", "none", "accept", "reject"),
    (38, "mail", "a@acme.example", "", "acme,hr", "TLS1_3", "accept", "accept"),
    (5, "mail", "x@other.example", "", "default", "none", "accept", "accept"),
]


# (days ago, recipient, TLS line or None, status, dsn, reason): outbound
# deliveries to acme's domain as a Postfix smtp client logs them, read by
# `ingest` into the same database (which it migrates first): TLS 1.3 to a
# trusted server, TLS 1.0 to an untrusted one, plaintext deferred for TLS.
OUTBOUND = [
    (70, "a@acme.example", ("Trusted", "TLSv1.3", "TLS_AES_256_GCM_SHA384 (256/256 bits)"), "sent", "2.0.0",
     "250 2.0.0 Ok: queued as 1A"),
    (40, "b@acme.example", ("Untrusted", "TLSv1", "ECDHE-RSA-AES256-SHA (256/256 bits)"), "sent", "2.0.0",
     "250 2.0.0 Ok: queued as 2B"),
    (39, "c@acme.example", None, "deferred", "4.7.4",
     "TLS is required, but was not offered by host mx.acme.example[192.0.2.25]"),
    (38, "d@acme.example", ("Trusted", "TLSv1.3", "TLS_AES_256_GCM_SHA384 (256/256 bits)"), "sent", "2.0.0",
     "250 2.0.0 Ok: queued as 4D"),
]


def outbound_log(now):
    lines = []
    for i, (days, rcpt, tls, status, dsn, reason) in enumerate(OUTBOUND):
        stamp = datetime.datetime.fromtimestamp(now - days * 86400, datetime.timezone.utc).strftime("%b %d %H:%M:%S")
        pid = 4000 + i
        if tls:
            lines.append("%s client postfix/smtp[%d]: %s TLS connection established to mx.acme.example[192.0.2.25]:25:"
                         " %s with cipher %s" % (stamp, pid, tls[0], tls[1], tls[2]))
        lines.append("%s client postfix/smtp[%d]: 1000%d: to=<%s>, relay=mx.acme.example[192.0.2.25]:25, delay=0.1,"
                     " delays=0/0/0.05/0.05, dsn=%s, status=%s (%s)" % (stamp, pid, i, rcpt, dsn, status, reason))
    return "\n".join(lines) + "\n"


def expected_outbound_shares(now):
    counts = {}
    for days, _, tls, status, _, _ in OUTBOUND:
        if status != "sent":
            continue
        part = "plaintext" if tls is None else "older" if tls[1] == "TLSv1" else "modern"
        c = counts.setdefault(month(now - days * 86400), {})
        c[part] = c.get(part, 0) + 1
    return {k: {p: n / sum(c.values()) for p, n in c.items()} for k, c in counts.items()}


def month(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m")


def expected_shares(now):
    """{(rule, month): {part: share}} of the messages, as the page should draw them."""
    counts = {}
    for days, stage, _, _, rules, version, action, _ in ROWS:
        if stage != "mail" or action != "accept":
            continue
        for rule in rules.split(","):
            if rule == "default":
                continue
            part = "plaintext" if version == "none" else "older" if version == "TLS1_0" else "modern"
            c = counts.setdefault((rule, month(now - days * 86400)), {})
            c[part] = c.get(part, 0) + 1
    return {k: {p: n / sum(c.values()) for p, n in c.items()} for k, c in counts.items()}


def make_database(path, now):
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    for days, stage, sender, rcpt, rules, version, action, would in ROWS:
        cipher, bits = CIPHER[version]
        db.execute("INSERT INTO observations (time, stage, queue_id, client, hostname, sender, sender_domain,"
                   " recipient, rules, tls_version, cipher, cipher_bits, alg_bits, result, action, would)"
                   " VALUES (?, ?, '', '192.0.2.1', '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (now - days * 86400, stage, sender, sender.split("@")[1], rcpt, rules, version, cipher, bits,
                    bits, "fail" if "reject" in (action, would) else "pass", action, would))
    db.commit()
    db.close()


def png_pixels(data):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB or RGBA PNG, as Chromium writes them."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = int.from_bytes(body[0:4], "big"), int.from_bytes(body[4:8], "big")
            depth, colour = body[8], body[9]
            assert depth == 8 and colour in (2, 6), (depth, colour)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(width)])
        prev = line
    return width, height, rows


class DevTools:
    """One page of a headless Chromium, driven over the DevTools protocol."""

    def __init__(self, profile):
        args = [CHROMIUM, "--headless=new", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                "--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir=" + profile,
                "--window-size=%d,%d" % (WIDTH, HEIGHT), "--hide-scrollbars", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        browser_url = None
        deadline = time.monotonic() + 20
        while browser_url is None and time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                raise RuntimeError("chromium exited with %s" % self.proc.returncode)
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            browser_url = m and m.group(1)
        if browser_url is None:
            raise RuntimeError("chromium printed no DevTools URL")
        self.ws = websocket.create_connection(browser_url, timeout=15, suppress_origin=True)
        self.next_id = 0
        self.events = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]

    def call(self, method, session=True, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session and getattr(self, "session", None):
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError("%s: %s" % (method, reply["error"]))
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events:
                if e.get("method") == method:
                    return e
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(method)

    def evaluate(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"])
        return r["result"]["value"]

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# Read back from the rendered page: sizes from layout, not from attributes.
LAYOUT = r"""JSON.stringify((() => {
  const vw = document.documentElement.clientWidth;
  const box = e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top,
                     width: r.width, height: r.height}; };
  const chart = (sec, svg) => {
    return {rule: sec.dataset.rule, kind: sec.dataset.kind, box: box(svg),
            plot: box(svg.querySelector('rect.plot-area')),
            months: [...svg.querySelectorAll('g.month')].map(g => ({
              month: g.dataset.month, messages: +g.dataset.messages,
              refused: g.querySelector('g.refusals') ? +g.querySelector('g.refusals').dataset.refused : 0,
              would: g.querySelector('g.refusals') ? +g.querySelector('g.refusals').dataset.would : 0,
              bars: [...g.querySelectorAll('rect.bar')].map(b => {
                b.scrollIntoView({block: 'center'});  // hit-testing sees the viewport only
                const r = box(b);
                const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                return {part: b.dataset.part, share: +b.dataset.share, box: r,
                        on_top: hit === b, fill: getComputedStyle(b).fill};
              })}))};
  };
  const charts = [...document.querySelectorAll('section.rule')].map(
    sec => chart(sec, sec.querySelector('svg.chart[data-direction="inbound"]')));
  const outbound = [...document.querySelectorAll('section.rule svg.chart[data-direction="outbound"]')].map(
    svg => chart(svg.closest('section.rule'), svg));
  const overflow = [...document.body.querySelectorAll('*')]
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && (r.right > vw + 0.5 || r.left < -0.5); })
    .map(e => e.tagName + ' ' + (e.getAttribute('class') || '') + ' right=' + e.getBoundingClientRect().right);
  return {vw, scroll_width: document.documentElement.scrollWidth, charts, outbound, overflow,
          resources: performance.getEntriesByType('resource').map(r => r.name),
          scripts: document.scripts.length};
})())"""


@unittest.skipUnless(CHROMIUM, "chromium is not installed (contrib/install-deps)")
@unittest.skipUnless(websocket, "python3-websocket is not installed (contrib/install-deps)")
@unittest.skipUnless(os.path.exists(BINARY), "build the daemon first: make")
class EvidencePage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="tpm-evidence.")
        cls.now = int(time.time())
        db = os.path.join(cls.dir, "observations.sqlite")
        make_database(db, cls.now)
        policy = os.path.join(cls.dir, "policy.toml")
        with open(policy, "w") as f:
            f.write(POLICY.format(db=db))
        log = os.path.join(cls.dir, "mail.log")
        with open(log, "w") as f:
            f.write(outbound_log(cls.now))
        r = subprocess.run([BINARY, "-c", policy, "ingest", "postfix", log], capture_output=True, text=True,
                           timeout=60, env=dict(os.environ, TZ="UTC"))
        if r.returncode != 0:
            raise AssertionError("ingest into the database failed: " + r.stderr)
        cls.page = os.path.join(cls.dir, "evidence.html")
        with open(cls.page, "w") as out:
            subprocess.run([BINARY, "-c", policy, "report", "--evidence", "--since", "120d", "--format", "html"],
                           stdout=out, check=True, timeout=30)
        cls.browser = DevTools(os.path.join(cls.dir, "profile"))
        cls.browser.call("Network.enable")
        cls.browser.call("Page.enable")
        cls.url = "file://" + cls.page
        cls.browser.call("Page.navigate", url=cls.url)
        cls.browser.wait_for("Page.loadEventFired")
        cls.layout = json.loads(cls.browser.evaluate(LAYOUT))

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_one_chart_per_rule_laid_out_inside_the_viewport(self):
        charts = {(c["kind"], c["rule"]): c for c in self.layout["charts"]}
        self.assertEqual(sorted(charts), [("partner", "acme"), ("partner", "quiet"), ("recipient", "hr")])
        for key, c in charts.items():
            with self.subTest(rule=key):
                b = c["box"]
                self.assertGreater(b["width"], 300, "the chart is laid out with a real width")
                self.assertGreater(b["height"], 60, "and a real height")
                self.assertGreaterEqual(b["left"], 0)
                self.assertLessEqual(b["right"], self.layout["vw"])
                self.assertEqual(len(c["months"]), 5, "120 days touch five calendar months")

    def test_bar_heights_match_the_known_shares(self):
        want = expected_shares(self.now)
        seen = 0
        for c in self.layout["charts"]:
            plot_h = c["plot"]["height"]
            self.assertGreater(plot_h, 50)
            for m in c["months"]:
                shares = want.get((c["rule"], m["month"]), {})
                got = {b["part"]: b["box"]["height"] / plot_h for b in m["bars"]}
                with self.subTest(rule=c["rule"], month=m["month"]):
                    self.assertEqual(sorted(got), sorted(shares), "a bar part per kind of transport seen")
                    for part, share in shares.items():
                        self.assertAlmostEqual(got[part], share, delta=0.01, msg=part)
                        seen += 1
                    for b in m["bars"]:
                        self.assertTrue(b["on_top"], "%s bar is hidden under something" % b["part"])
                        self.assertNotIn(b["fill"], ("none", "rgba(0, 0, 0, 0)"))
        self.assertGreaterEqual(seen, 6, "the fixture draws bars for acme and hr in three months")

    def test_refusals_are_marked_in_their_month(self):
        def marks(rule):
            c = next(c for c in self.layout["charts"] if c["rule"] == rule)
            return {m["month"]: (m["refused"], m["would"]) for m in c["months"] if m["refused"] or m["would"]}

        def want(rule):
            out = {}
            for days, stage, _, _, rules, _, action, would in ROWS:
                if rule in rules.split(",") and (stage == "rcpt") == (rule == "hr") and "reject" in (action, would):
                    r, w = out.get(month(self.now - days * 86400), (0, 0))
                    out[month(self.now - days * 86400)] = (r + (action != "accept"), w + (would != "accept"))
            return out

        self.assertEqual(marks("acme"), want("acme"))
        self.assertEqual(marks("hr"), want("hr"))
        self.assertEqual(sum(r + w for r, w in want("acme").values()), 3)
        self.assertEqual(marks("quiet"), {})

    def test_the_bars_are_painted_in_their_colours(self):
        """A screenshot, not the DOM: the middle of each kind of bar has its colour, and a chart has many."""
        want = {"modern": (0x1a, 0x98, 0x50), "older": (0xfc, 0x8d, 0x59), "plaintext": (0xd7, 0x30, 0x27)}

        def shot(selector, size=None):  # the element's box (or a size x size square at its centre), pixels
            box = self.browser.evaluate(
                "(() => { const e = document.querySelector('%s'); e.scrollIntoView({block: 'center'});"
                " const r = e.getBoundingClientRect(); return [r.left + scrollX, r.top + scrollY, r.width, r.height]; })()"
                % selector)
            if size:
                box = [box[0] + box[2] / 2 - size / 2, box[1] + box[3] / 2 - size / 2, size, size]
            clip = dict(zip(("x", "y", "width", "height"), box), scale=1)
            return png_pixels(base64.b64decode(self.browser.call("Page.captureScreenshot", format="png", clip=clip)["data"]))

        for part, colour in want.items():
            with self.subTest(part=part):
                width, height, rows = shot('section.rule[data-rule="acme"] rect.bar[data-part="%s"]' % part, 4)
                got = rows[height // 2][width // 2]
                self.assertTrue(all(abs(g - w) <= 3 for g, w in zip(got, colour)), "got %s, want %s" % (got, colour))
        _, _, rows = shot('section.rule[data-rule="acme"] svg.chart')
        self.assertGreater(len({p for row in rows[::4] for p in row[::4]}), 5, "the chart is not blank")

    def test_outbound_chart_beside_inbound_for_acme_only(self):
        """Deliveries `ingest` read into the same (migrated) database: a second chart in acme's section,
        with bars of the sent deliveries' shares and a mark where Postfix deferred for TLS."""
        charts = {c["rule"]: c for c in self.layout["outbound"]}
        self.assertEqual(sorted(charts), ["acme"], "the only rule with outbound deliveries")
        c = charts["acme"]
        self.assertGreater(c["box"]["width"], 300)
        self.assertLessEqual(c["box"]["right"], self.layout["vw"])
        self.assertEqual(len(c["months"]), 5)
        want = expected_outbound_shares(self.now)
        plot_h = c["plot"]["height"]
        for m in c["months"]:
            shares = want.get(m["month"], {})
            got = {b["part"]: b["box"]["height"] / plot_h for b in m["bars"]}
            with self.subTest(month=m["month"]):
                self.assertEqual(sorted(got), sorted(shares))
                for part, share in shares.items():
                    self.assertAlmostEqual(got[part], share, delta=0.01, msg=part)
                for b in m["bars"]:
                    self.assertTrue(b["on_top"], "%s bar is hidden under something" % b["part"])
        deferred = {month(self.now - d * 86400) for d, _, _, status, _, _ in OUTBOUND if status != "sent"}
        self.assertEqual({m["month"] for m in c["months"] if m["refused"]}, deferred)
        self.assertEqual(sum(m["refused"] for m in c["months"]), 1)
        self.assertEqual(sum(m["messages"] for m in c["months"]), 3, "three deliveries sent")

    def test_nothing_overflows_horizontally(self):
        self.assertLessEqual(self.layout["scroll_width"], self.layout["vw"])
        self.assertEqual(self.layout["overflow"], [])

    def test_the_page_loads_nothing_but_itself(self):
        requests = [e["params"]["request"]["url"] for e in self.browser.events
                    if e.get("method") == "Network.requestWillBeSent"]
        self.assertEqual(requests, [self.url])
        self.assertEqual(self.layout["resources"], [])
        self.assertEqual(self.layout["scripts"], 0)


if __name__ == "__main__":
    unittest.main()
