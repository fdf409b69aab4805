#!/usr/bin/env python3
"""Runs the end-to-end tests in tests/e2e (unittest, test_*.py) and ends with the
plain line "N passed, N failed, N skipped"; exit status 1 on any failure.
Usage: run.py [-q] [FILTER...]   FILTER: substring of a test id, e.g. Tls or EchoMilter."""

import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


def main(argv):
    quiet = "-q" in argv
    filters = [a for a in argv if a != "-q"]
    sys.path.insert(0, HERE)
    loaded = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    tests = list(flatten(loaded))
    # A module that fails to import shows up as a _FailedTest: always keep it.
    tests = [t for t in tests if not filters or type(t).__name__ == "_FailedTest"
             or any(f in t.id() for f in filters)]
    if not tests:
        print("no test matches %s" % filters)
        print("0 passed, 0 failed")
        return 1
    t0 = time.monotonic()
    result = unittest.TextTestRunner(verbosity=1 if quiet else 2, stream=sys.stdout,
                                     buffer=False).run(unittest.TestSuite(tests))
    # Count test methods, not subtests: a method with a failing subtest failed.
    def owner(t):
        return getattr(t, "test_case", t).id()
    failed = {owner(t) for t, _ in result.failures + result.errors}
    failed |= {owner(t) for t in result.unexpectedSuccesses}
    skipped = {owner(t) for t, _ in result.skipped} - failed
    # A class whose setUpClass failed or skipped shows up once, as an
    # _ErrorHolder, and none of its methods counts in testsRun.
    def ran(ids):
        return len([i for i in ids if not i.startswith(("setUpClass ", "setUpModule ", "tearDown"))])
    passed = result.testsRun - ran(failed) - ran(skipped)
    print("e2e: %.1fs" % (time.monotonic() - t0))
    print("%d passed, %d failed, %d skipped" % (passed, len(failed), len(skipped)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
