"""Tests of tools/check.py (make check): that each tier and each boot check
fails on what it must catch. Boots are forged with tests/fake_qemu.py."""

import importlib.util
import json
import shlex
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path
from unittest import mock

import ktap
import kunit_check

HERE = Path(__file__).resolve().parent
FAKE = HERE / "fake_qemu.py"
ROOT = HERE.parents[2]

_spec = importlib.util.spec_from_file_location("check", ROOT / "tools" / "check.py")
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)


class TempDir(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="check-test-")
        self.dir = Path(self.tmp.name)
        quiet = mock.patch.object(check, "say")  # check.py's progress lines
        quiet.start()
        self.addCleanup(quiet.stop)

    def tearDown(self):
        self.tmp.cleanup()


class UnittestSummary(TempDir):
    def test_counts(self):
        p = check.parse_unittest_summary
        self.assertEqual(p("....\n---\nRan 4 tests in 0.1s\n\nOK\n"), (4, 0, 0))
        self.assertEqual(p("Ran 5 tests in 1.000s\n\nOK (skipped=1)\n"), (4, 0, 1))
        self.assertEqual(p("Ran 9 tests in 2s\n\nFAILED (failures=1, errors=2, skipped=3)\n"), (3, 3, 3))

    def test_skipped_elsewhere_in_the_output_is_not_read(self):
        out = "a test printed skipped=7 and Ran 99 tests in 1s\nRan 5 tests in 1.0s\n\nOK\n"
        self.assertEqual(check.parse_unittest_summary(out), (5, 0, 0))

    def test_no_summary_in_the_last_lines(self):
        p = check.parse_unittest_summary
        self.assertIsNone(p("Ran 5 tests in 1.0s\n\nOK\nTraceback: something after\n"))
        self.assertIsNone(p(""))
        self.assertIsNone(p("Ran 5 tests in 1.0s\n\nFAILED\n"))   # FAILED without counts
        self.assertIsNone(p("Ran 5 tests in 1.0s\n\nOK (failures=1)\n"))
        self.assertIsNone(p("Ran 1 test in 1.0s\n\nOK (skipped=3)\n"))

    def test_zero_tests_is_a_tier_that_ran_nothing(self):
        self.assertEqual(check.parse_unittest_summary("\nRan 0 tests in 0.000s\n\nOK\n"), (0, 0, 0))
        tally = check.Tally()
        fake = mock.Mock(stdout="\nRan 0 tests in 0.000s\n\nOK\n", returncode=0)
        with mock.patch.object(check.subprocess, "run", return_value=fake):
            counts = check.run_tier(tally, "runner", check.run_runner_tests)
        self.assertEqual(counts["failed"], 1)
        self.assertIn("runner: ran nothing", tally.failures)


class Tiers(TempDir):
    def test_a_tier_that_ran_nothing_fails(self):
        tally = check.Tally()
        counts = check.run_tier(tally, "empty", lambda t: None)
        self.assertEqual((counts["passed"], counts["failed"]), (0, 1))
        tally = check.Tally()
        check.run_tier(tally, "skips", lambda t: t.add(0, 0, 5))
        self.assertEqual(tally.failed, 1)

    def test_style_fails_on_an_empty_file_list(self):
        tally = check.Tally()
        check.run_style(tally, files=[])
        self.assertEqual((tally.passed, tally.failed), (0, 1))

    def test_source_files_include_untracked_files(self):
        git = lambda *a: subprocess.run(["git", *a], cwd=self.dir, check=True, capture_output=True)
        git("init", "-q")
        for name in ("tracked.cpp", "new.h", "ignored.cpp", "gone.cpp", "notes.txt"):
            (self.dir / name).write_text("x\n")
        (self.dir / ".gitignore").write_text("ignored.cpp\n")
        git("add", "tracked.cpp", "gone.cpp")
        (self.dir / "gone.cpp").unlink()
        self.assertEqual(check.source_files(self.dir), ["new.h", "tracked.cpp"])

    def test_ctest_junit_counts_skips(self):
        xml = self.dir / "junit.xml"
        xml.write_text(textwrap.dedent("""\
            <testsuite tests="4">
              <testcase name="A.pass" status="run"><system-out>[  PASSED  ]</system-out></testcase>
              <testcase name="A.skip" status="notrun"><skipped message="SKIP_REGULAR_EXPRESSION"/></testcase>
              <testcase name="A.skip2" status="run"><system-out>[  SKIPPED ] A.skip2</system-out></testcase>
              <testcase name="A.fail" status="fail"><failure message="Failed"/></testcase>
            </testsuite>"""))
        self.assertEqual(check.parse_ctest_junit(xml), (1, 1, 2))
        self.assertIsNone(check.parse_ctest_junit(self.dir / "missing.xml"))


SOURCES = {
    "kernel/a/selftest_alpha.cpp": """
        // SELFTEST_SUITE(commented_out, CONFIG_NO, SELFTEST_CASE(x));
        SELFTEST_SUITE(alpha, CONFIG_ALPHA_SELFTEST,
            SELFTEST_CASE(first), /* SELFTEST_CASE(hidden), */
            SELFTEST_CASE(second),
            SELFTEST_CASE(third));
        """,
    "arch/x86_64/selftest_beta.cpp": "SELFTEST_SUITE(beta, CONFIG_BETA_SELFTEST, SELFTEST_CASE(only));",
    "drivers/selftest_gamma.cpp": "SELFTEST_SUITE(gamma, CONFIG_GAMMA_SELFTEST, SELFTEST_CASE(g));",
    "kernel/a/not_a_selftest.cpp": "SELFTEST_SUITE(nope, CONFIG_X, SELFTEST_CASE(n));",
}
KCONFIG = "CONFIG_ALPHA_SELFTEST=y\nCONFIG_BETA_SELFTEST=y\n# CONFIG_GAMMA_SELFTEST is not set\n"


def selftest_ktap(alpha_cases=("first", "second", "third"), beta="run", gamma="skip", extra_top=()):
    lines = ["KTAP version 1", f"1..{3 + len(extra_top)}"]
    n = 0
    for name, cases, mode in (("alpha", alpha_cases, "run"), ("beta", ("only",), beta), ("gamma", ("g",), gamma)):
        if mode is None:
            continue
        n += 1
        if mode == "skip":
            lines.append(f"ok {n} {name} # SKIP CONFIG_{name.upper()}_SELFTEST is not set")
            continue
        lines += ["    KTAP version 1", f"    # Subtest: {name}", f"    1..{len(cases)}"]
        for i, case in enumerate(cases, 1):
            skip = " # SKIP only one CPU" if mode == "skipcase" else ""
            lines.append(f"    ok {i} {case}{skip}")
        lines.append(f"ok {n} {name}")
    for name in extra_top:
        n += 1
        lines.append(f"ok {n} {name}")
    lines[1] = f"1..{n}"
    return ktap.parse(lines)


class SelftestSet(TempDir):
    def setUp(self):
        super().setUp()
        for path, text in SOURCES.items():
            (self.dir / path).parent.mkdir(parents=True, exist_ok=True)
            (self.dir / path).write_text(textwrap.dedent(text))
        (self.dir / ".config").write_text(KCONFIG)
        self.suites = check.parse_selftest_sources(self.dir)
        self.kconfig = check.read_kconfig(self.dir / ".config")

    def problems(self, doc, config="tessera.mode=selftest", skips=()):
        spec = check.scenario("t", config=config, expect_skips=skips)
        return check.compare_selftests(check.expected_selftests(spec, self.suites, self.kconfig), doc)

    def test_sources_parsed_across_lines_without_comments(self):
        self.assertEqual(self.suites, {
            "alpha": ("CONFIG_ALPHA_SELFTEST", ["first", "second", "third"]),
            "beta": ("CONFIG_BETA_SELFTEST", ["only"]),
            "gamma": ("CONFIG_GAMMA_SELFTEST", ["g"])})
        self.assertEqual(self.kconfig["CONFIG_GAMMA_SELFTEST"], "n")

    def test_the_real_tree_parses(self):
        suites = check.parse_selftest_sources()
        self.assertIn("time_timer", suites)
        self.assertIn("clock_marks_for_the_host", suites["time_timer"][1])

    def test_exact_match_passes(self):
        self.assertEqual(self.problems(selftest_ktap()), [])

    def test_missing_case_fails(self):
        self.assertIn("suite alpha: cases differ from the source, missing ['third']",
                      self.problems(selftest_ktap(alpha_cases=("first", "second"))))

    def test_extra_case_and_suite_fail(self):
        problems = self.problems(selftest_ktap(alpha_cases=("first", "second", "third", "fourth"),
                                               extra_top=("delta",)))
        self.assertIn("suite alpha: cases differ from the source, unexpected ['fourth']", problems)
        self.assertIn("suite delta is not in the sources", problems)

    def test_switched_off_suite_must_show_as_skip_not_vanish(self):
        self.assertIn("suite gamma missing from the KTAP output", self.problems(selftest_ktap(gamma=None)))
        self.assertIn("suite gamma should be skipped (# SKIP), got pass", self.problems(selftest_ktap(gamma="run")))

    def test_unexpected_skip_fails_and_declared_skip_passes(self):
        doc = selftest_ktap(beta="skipcase")
        self.assertIn("beta.only skipped unexpectedly (SKIP only one CPU)", self.problems(doc))
        self.assertEqual(self.problems(doc, skips=["beta.only"]), [])
        # A declared skip that did not happen fails too.
        self.assertIn("beta.only should be skipped, got pass", self.problems(selftest_ktap(), skips=["beta.only"]))

    def test_suite_not_selected_must_be_skipped(self):
        doc = selftest_ktap(beta="skip")
        self.assertEqual(self.problems(doc, config="tessera.mode=selftest tessera.selftest=alpha"), [])
        self.assertIn("suite beta should be skipped (# SKIP), got pass",
                      self.problems(selftest_ktap(), config="tessera.mode=selftest tessera.selftest=alpha"))


def mark_lines(guest_seconds, host_sleep):
    return [{"out": "    # clock-mark 0 uptime_ns=1000000000\r\n"}, {"sleep": host_sleep},
            {"out": f"    # clock-mark 1 uptime_ns={1000000000 + int(guest_seconds * 1e9)}\r\n"}]


class ForgedBoots(TempDir):
    """Whole boots through check.run_scenario + judge_boot, QEMU faked."""

    def setUp(self):
        super().setUp()
        self.iso = self.dir / "fake.iso"
        self.iso.write_bytes(b"iso")
        patcher = mock.patch.object(check, "LOGS", self.dir / "logs")
        patcher.start()
        self.addCleanup(patcher.stop)

    def boot(self, steps, context=None, **kw):
        scenario_file = self.dir / f"scenario-{kw['name'] if 'name' in kw else 'b'}.json"
        scenario_file.write_text(json.dumps(steps))
        kw.setdefault("name", "forged")
        kw.setdefault("expect", "none")
        kw.setdefault("timeout", 20)
        kw.setdefault("silence", 10)
        spec = check.scenario(qemu=shlex.join([sys.executable, str(FAKE)]), iso=str(self.iso),
                              env={"FAKE_QEMU_SCENARIO": str(scenario_file)}, **kw)
        spec, result, error, _ = check.run_scenario(spec)
        self.assertIsNone(error)
        return check.judge_boot(spec, result, context if context is not None else {})

    def ready(self, mib):
        return [{"out": f"cpus: 1 online\r\nmemory: {mib} MiB usable, 1 MiB free\r\nTESSERA READY tsc=1 tsc_hz=2\r\n"},
                {"exit": 33}]

    def test_memory_window(self):
        ok, detail, _ = self.boot(self.ready(8190), success_line=r"^TESSERA READY", memory_mib=(8128, 8192))
        self.assertTrue(ok, detail)
        self.assertIn("memory: 8190 MiB usable", detail)
        for mib in (4000, 57, 9000):
            ok, detail, _ = self.boot(self.ready(mib), success_line=r"^TESSERA READY", memory_mib=(8128, 8192))
            self.assertFalse(ok)
            self.assertIn(f"memory: {mib} MiB usable, expected 8128..8192 MiB", detail)

    def test_clock_marks_at_the_host_rate_pass(self):
        ok, detail, _ = self.boot(mark_lines(0.6, 0.6) + [{"exit": 33}], clock_marks=True)
        self.assertTrue(ok, detail)

    def test_wrong_calibration_fails(self):
        # The guest says 2 s passed; the host saw 1 s.
        ok, detail, _ = self.boot(mark_lines(2.0, 1.0) + [{"exit": 33}], clock_marks=True)
        self.assertFalse(ok)
        # The host may see a little more than 1 s (scheduling), never less.
        self.assertRegex(detail, r"clock: guest 2\.000s vs host 1\.\d+s between the clock marks "
                                 r"\(ratio (1\.[4-9]|2\.0)\d, allowed 0\.7\.\.1\.3\)")
        ok, detail, _ = self.boot(mark_lines(0.4, 1.0) + [{"exit": 33}], clock_marks=True)
        self.assertFalse(ok)
        self.assertRegex(detail, r"ratio 0\.[2-4]\d")

    def test_missing_clock_marks_fail(self):
        ok, detail, _ = self.boot([{"out": "hello\r\n"}, {"exit": 33}], clock_marks=True)
        self.assertFalse(ok)
        self.assertIn("clock: expected clock-mark 0 and 1, got none", detail)

    def test_serving_node_must_idle_and_keep_running(self):
        serve = dict(serve_line=r"^TESSERA: SERVING node=\d+$", serve_hold=1.0, max_serve_cpu=check.MAX_IDLE_SERVE_CPU,
                     success_line=None)
        line = {"out": "TESSERA: SERVING node=1\r\n"}
        ok, detail, _ = self.boot([line, {"hang": True}], **serve)
        self.assertTrue(ok, detail)
        self.assertRegex(detail, r"serving used \d+% of a core")
        # A guest that polls instead of halting: the fake burns the CPU.
        ok, detail, _ = self.boot([line, {"spin": 5}], **serve)
        self.assertFalse(ok)
        self.assertRegex(detail, r"^serve cpu: QEMU used \d+% of a core while the node idled \(allowed 20%\)")
        ok, detail, _ = self.boot([line, {"sleep": 0.2}, {"exit": 33}], **serve)
        self.assertFalse(ok)
        self.assertEqual(detail, "a serving node exited (exit code 33) during the 1s hold")

    def test_ready_serves_scenario_holds_a_ready_boot(self):
        spec = next(s for s in check.scenarios() if s["name"] == "ready-serves")
        self.assertIn("tessera.mode=ready", spec["config"])
        self.assertGreaterEqual(spec["serve_hold"], 3)
        self.assertIsNone(spec["success_line"])
        self.assertEqual(spec["max_serve_cpu"], check.MAX_IDLE_SERVE_CPU)

    CONTROL_KTAP = ("KTAP version 1\r\n1..1\r\n    KTAP version 1\r\n    # Subtest: selftest_harness\r\n"
                    "    1..3\r\n    ok 1 a\r\n    ok 2 b\r\n    not ok 3 injected_failure\r\n"
                    "not ok 1 selftest_harness\r\n")
    CONTROL_RE = r"(^|; )not ok 3 selftest_harness\.injected_failure(;|$)"

    def test_negative_control_needs_the_exact_reason_and_the_exit_code(self):
        ok, detail, _ = self.boot([{"out": self.CONTROL_KTAP}, {"exit": 35}], expect="ktap",
                                  success_line=None, expect_failure=self.CONTROL_RE, context={"kunit": "off"})
        # The kunit.py cross-check is not available in this context: a failure.
        self.assertFalse(ok)
        self.assertIn("kunit.py cross-check not run: off", detail)
        with mock.patch.object(kunit_check, "run_kunit", return_value=kunit_check.KunitVerdict(
                ok=False, total=3, passed=2, failed=1, skipped=0, crashed=0, errors=0, output="")):
            context = {"kunit": Path("kunit.py")}
            ok, detail, _ = self.boot([{"out": self.CONTROL_KTAP}, {"exit": 35}], expect="ktap", success_line=None,
                                      expect_failure=self.CONTROL_RE, context=context)
            self.assertTrue(ok, detail)
            self.assertIn("exit code 35 alone catches it too", detail)
            # The debug-exit said success: the exit code alone would have passed it.
            ok, detail, _ = self.boot([{"out": self.CONTROL_KTAP}, {"exit": 33}], expect="ktap", success_line=None,
                                      expect_failure=self.CONTROL_RE, context=context)
            self.assertFalse(ok)
            self.assertIn("exit code 33: the exit code alone would have passed it", detail)
            # The run failed, but for another reason.
            other = self.CONTROL_KTAP.replace("not ok 3 injected_failure", "not ok 3 other_case")
            ok, detail, _ = self.boot([{"out": other}, {"exit": 35}], expect="ktap", success_line=None,
                                      expect_failure=self.CONTROL_RE, context=context)
            self.assertFalse(ok)
            self.assertIn("expected a FAIL matching", detail)

    def test_kunit_disagreement_fails_the_boot(self):
        good = "KTAP version 1\r\n1..2\r\nok 1 a\r\nok 2 b\r\n"
        verdict = kunit_check.KunitVerdict(ok=True, total=3, passed=3, failed=0, skipped=0, crashed=0, errors=0,
                                           output="")
        with mock.patch.object(kunit_check, "run_kunit", return_value=verdict):
            ok, detail, _ = self.boot([{"out": good}, {"exit": 33}], expect="ktap", success_line=None,
                                      context={"kunit": Path("kunit.py")})
        self.assertFalse(ok)
        self.assertIn("kunit.py disagrees on the counts: it ran 3 (passed 3, skipped 0), the runner 2", detail)
        verdict.ok, verdict.total, verdict.passed = False, 2, 2
        with mock.patch.object(kunit_check, "run_kunit", return_value=verdict):
            ok, detail, _ = self.boot([{"out": good}, {"exit": 33}], expect="ktap", success_line=None,
                                      context={"kunit": Path("kunit.py")})
        self.assertFalse(ok)
        self.assertIn("kunit.py disagrees: it says FAIL, the runner's KTAP parser says PASS", detail)


class Summary(TempDir):
    def test_summary_json_and_readme_block(self):
        tally = check.Tally()
        tally.add(10, 0, 1)
        tally.selftest_cases = {"selftest-a": 45}
        tiers = {"style": dict(passed=2, failed=0, skipped=0, seconds=1.0),
                 "boot": dict(passed=8, failed=0, skipped=1, seconds=9.0, boots=3)}
        path = self.dir / "summary.json"
        check.write_summary(tally, tiers, 12.3, path)
        data = json.loads(path.read_text())
        self.assertEqual((data["passed"], data["failed"], data["skipped"]), (10, 0, 1))
        self.assertEqual(data["tiers"]["boot"]["boots"], 3)
        readme = self.dir / "README.md"
        readme.write_text("intro\n<!-- counts:begin -->\nold text\n<!-- counts:end -->\nrest\n")
        tool = ROOT / "tools" / "update-readme-counts.py"
        subprocess.run([sys.executable, str(tool), "--summary", str(path), "--readme", str(readme)], check=True)
        text = readme.read_text()
        self.assertNotIn("old text", text)
        self.assertIn("10 passed, 0 failed, 1 skipped", text)
        self.assertTrue(text.startswith("intro\n<!-- counts:begin -->\n") and text.endswith("<!-- counts:end -->\nrest\n"))
        # No markers: the tool refuses rather than guess.
        readme.write_text("no markers\n")
        p = subprocess.run([sys.executable, str(tool), "--summary", str(path), "--readme", str(readme)])
        self.assertNotEqual(p.returncode, 0)


@unittest.skipUnless(Path(kunit_check.LINUX_SOURCE_TARBALL).is_file() or
                     (ROOT / "build" / "kunit" / "tools" / "testing" / "kunit" / "kunit.py").is_file(),
                     "linux-source-6.1 is not installed")
class RealKunit(TempDir):
    """Linux's kunit.py against our parser on forged logs."""

    def verdict(self, text):
        log = self.dir / "serial.log"
        log.write_bytes(text.encode())
        script = kunit_check.ensure_kunit(ROOT / "build" / "kunit")
        theirs = kunit_check.run_kunit(script, log)
        ours = ktap.parse(log.read_bytes().decode().split("\n"))
        return ours, theirs

    def test_agrees_on_a_good_log_with_skips(self):
        ours, theirs = self.verdict("noise\r\nKTAP version 1\r\n1..2\r\n    KTAP version 1\r\n    # Subtest: s\r\n"
                                    "    1..2\r\n    ok 1 a\r\n    ok 2 b # SKIP no\r\nok 1 s\r\n"
                                    "ok 2 t # SKIP off\r\n")
        self.assertEqual((theirs.ok, theirs.total, theirs.passed, theirs.skipped), (True, 3, 1, 2))
        self.assertIsNone(kunit_check.disagreement(ours, theirs))

    def test_agrees_on_a_failing_log(self):
        ours, theirs = self.verdict("KTAP version 1\r\n1..2\r\nok 1 a\r\nnot ok 2 b\r\n")
        self.assertFalse(theirs.ok)
        self.assertIsNone(kunit_check.disagreement(ours, theirs))


if __name__ == "__main__":
    unittest.main()
