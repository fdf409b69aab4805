"""run.py's own arithmetic: a skip is counted as a skip (a class skipped in
setUpClass counts each of its tests), never as a pass, and in CI a skip fails
the run unless E2E_ALLOW_SKIP names it. No MTA needed."""

import io
import unittest

import run


def _fixtures():
    """Test classes for run.py to count; made here, out of the loader's sight
    (one of them fails on purpose)."""

    class _SkipsInSetUpClass(unittest.TestCase):
        @classmethod
        def setUpClass(cls):
            raise unittest.SkipTest("needs root for Postfix")

        def test_a(self):
            pass

        def test_b(self):
            pass

    class _Mixed(unittest.TestCase):
        def test_passes(self):
            pass

        def test_skips(self):
            self.skipTest("no node exporter")

        def test_fails(self):
            self.fail("on purpose")

        def test_subtest_skips(self):
            with self.subTest(i=1):
                self.skipTest("one subtest")

    return _SkipsInSetUpClass, _Mixed


def _run(*classes):
    tests = [t for c in classes for t in run.flatten(unittest.defaultTestLoader.loadTestsFromTestCase(c))]
    result = unittest.TextTestRunner(stream=io.StringIO(), resultclass=run.Result).run(unittest.TestSuite(tests))
    return run.tally(tests, result)


ID = __name__ + "._fixtures.<locals>.%s"


class Tally(unittest.TestCase):
    def test_class_skipped_in_setupclass_counts_each_test(self):
        passed, failed, skipped = _run(_fixtures()[0])
        self.assertEqual(passed, set())
        self.assertEqual(failed, set())
        self.assertEqual(sorted(skipped), [ID % "_SkipsInSetUpClass.test_a",
                                           ID % "_SkipsInSetUpClass.test_b"])
        self.assertEqual(set(skipped.values()), {"needs root for Postfix"})

    def test_pass_skip_fail_are_apart(self):
        passed, failed, skipped = _run(_fixtures()[1])
        name = ID % "_Mixed."
        self.assertEqual(passed, {name + "test_passes"})
        self.assertEqual(failed, {name + "test_fails"})
        self.assertEqual(set(skipped), {name + "test_skips", name + "test_subtest_skips"})


class CiRefusesSkips(unittest.TestCase):
    SKIPPED = {"test_directions.Directions.test_x": "needs root", "test_observe.NodeExporterScrape.test_y": "no"}

    def test_outside_ci_a_skip_is_reported_only(self):
        self.assertEqual(run.refused_skips(self.SKIPPED, {}), [])
        self.assertEqual(run.refused_skips(self.SKIPPED, {"CI": "false"}), [])

    def test_in_ci_every_skip_fails_the_run(self):
        self.assertEqual(run.refused_skips(self.SKIPPED, {"CI": "true"}), sorted(self.SKIPPED))

    def test_in_ci_an_allowed_skip_passes(self):
        env = {"CI": "true", "E2E_ALLOW_SKIP": "NodeExporterScrape"}
        self.assertEqual(run.refused_skips(self.SKIPPED, env), ["test_directions.Directions.test_x"])
        env["E2E_ALLOW_SKIP"] = "NodeExporterScrape, Directions"
        self.assertEqual(run.refused_skips(self.SKIPPED, env), [])


if __name__ == "__main__":
    unittest.main()
