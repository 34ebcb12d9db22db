"""Tests of the QEMU runner against a fake QEMU (tests/fake_qemu.py).

Each test writes a scenario (what the fake prints, how long it waits, how
it exits) and checks the verdict. Timeouts are kept to 1-2 s so the whole
file runs in a few seconds.
"""

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import qemu_run
from qemu_run import RunOptions

HERE = Path(__file__).resolve().parent
FAKE = HERE / "fake_qemu.py"
WRAPPER = HERE.parents[1] / "qemu-run"

CRLF = "\r\n"

GOOD_KTAP = [
    "KTAP version 1",
    "1..2",
    "    KTAP version 1",
    "    # Subtest: heap_basic",
    "    1..3",
    "    ok 1 alloc",
    "[cpu1] unrelated log line",
    "    ok 2 free",
    "    ok 3 big # SKIP not built",
    "ok 1 heap_basic",
    "ok 2 sched_basic",
]
SUCCESS = "TESSERA: SELFTESTS PASSED"
FIRMWARE_NOISE = "SeaBIOS (version 1.16.2)\r\n\x1b[2J\x1b[01;01HBooting from DVD/CD...\r\n"


def out(lines, eol=CRLF):
    return {"out": "".join(line + eol for line in lines)}


def good_run(exit_code=33):
    return [{"out": FIRMWARE_NOISE}, out(GOOD_KTAP), out([SUCCESS]),
            {"exit": exit_code}]


class FakeQemuCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="runner-test-")
        self.dir = Path(self.tmp.name)
        self.iso = self.dir / "tessera.iso"
        self.iso.write_bytes(b"not really an ISO")
        self.argv_file = self.dir / "argv.json"

    def tearDown(self):
        self.tmp.cleanup()

    def scenario(self, steps):
        path = self.dir / "scenario.json"
        path.write_text(json.dumps(steps))
        return {"FAKE_QEMU_SCENARIO": str(path),
                "FAKE_QEMU_ARGV": str(self.argv_file)}

    def run_fake(self, steps, **kw):
        kw.setdefault("timeout", 10)
        kw.setdefault("silence_timeout", 5)
        kw.setdefault("firmware", "bios")
        opts = RunOptions(iso=str(self.iso),
                          qemu=shlex.join([sys.executable, str(FAKE)]),
                          env=self.scenario(steps), **kw)
        return qemu_run.run(opts)

    def assertProcessGone(self, pid):
        # The sleeper is a child of the fake, reparented to init (or a
        # subreaper) when the fake exits; it may linger as a zombie.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().split()[2]
            except FileNotFoundError:
                return
            if state == "Z":
                return
            time.sleep(0.05)
        self.fail(f"process {pid} survived the run")

    def assertFail(self, result, fragment):
        self.assertEqual(result.verdict, "FAIL", result.summary())
        self.assertIn(fragment, result.reason)


class Passes(FakeQemuCase):
    def test_correct_run_passes(self):
        r = self.run_fake(good_run())
        self.assertEqual(r.verdict, "PASS", r.reason)
        self.assertEqual(r.reason, "")
        self.assertEqual(r.exit_code, 33)
        self.assertEqual(r.case_counts(), (3, 3, 1))
        self.assertEqual(r.summary(),
                         "RUNNER tessera-bios: PASS skipped=1 cases=3/3")
        # \r\n stripped, escapes gone from the cleaned lines, kept raw.
        texts = [line for _, line in r.lines]
        self.assertIn("Booting from DVD/CD...", texts)
        self.assertIn(SUCCESS, texts)
        self.assertTrue(any("\x1b[2J" in raw for raw in r.raw_lines))
        times = [t for t, _ in r.lines]
        self.assertEqual(times, sorted(times))

    def test_lf_only_partial_last_line_and_bad_bytes(self):
        steps = [out(GOOD_KTAP, eol="\n"), {"hex": "ff fe 0a".replace(" ", "")},
                 {"out": SUCCESS}, {"exit": 33}]  # no final newline
        r = self.run_fake(steps)
        self.assertEqual(r.verdict, "PASS", r.reason)
        self.assertIn("\ufffd\ufffd", [line for _, line in r.lines])

    def test_expect_none_and_expect_lines(self):
        steps = [out(["hello", "READY tsc=1 tsc_hz=2"]), {"exit": 33}]
        r = self.run_fake(steps, expect="none", success_line=r"^READY ",
                          expect_lines=[r"^hello$"])
        self.assertEqual(r.verdict, "PASS", r.reason)
        self.assertIsNone(r.ktap)
        self.assertEqual(r.first_match(r"^READY")[1], "READY tsc=1 tsc_hz=2")

    def test_log_file_keeps_raw_output(self):
        log = self.dir / "serial.log"
        r = self.run_fake(good_run(), log=str(log))
        self.assertEqual(r.verdict, "PASS", r.reason)
        raw = log.read_bytes()
        self.assertIn(b"\x1b[2J", raw)
        self.assertIn(b"ok 2 sched_basic\r\n", raw)

    def test_every_line_has_a_host_timestamp_also_in_a_side_file(self):
        log = self.dir / "serial.log"
        steps = [out(["first"]), {"sleep": 0.3}, out(["second"]),
                 {"out": "partial"}, {"exit": 33}]
        r = self.run_fake(steps, log=str(log), expect="none",
                          success_line=None)
        self.assertEqual(r.verdict, "PASS", r.reason)
        times = dict((line, t) for t, line in r.lines)
        self.assertGreaterEqual(times["second"] - times["first"], 0.25)
        self.assertIn("partial", times)
        side = (self.dir / "serial.log.times").read_text().splitlines()
        self.assertEqual(len(side), len(r.lines))
        stamp, text = side[1].split("\t", 1)
        self.assertEqual(text, "second")
        self.assertAlmostEqual(float(stamp), times["second"], places=3)

    def test_child_holding_the_pipe_does_not_delay_the_verdict(self):
        pidfile = self.dir / "sleeper.pid"
        steps = [{"spawn_sleeper": str(pidfile)}] + good_run()
        start = time.monotonic()
        r = self.run_fake(steps)
        self.assertEqual(r.verdict, "PASS", r.reason)
        self.assertLess(time.monotonic() - start, 5)
        self.assertProcessGone(int(pidfile.read_text()))

class Fails(FakeQemuCase):
    def test_not_ok(self):
        lines = [l.replace("ok 2 sched_basic", "not ok 2 sched_basic")
                 for l in GOOD_KTAP]
        r = self.run_fake([out(lines), out([SUCCESS]), {"exit": 33}])
        self.assertFail(r, "not ok 2 sched_basic")
        self.assertEqual(r.case_counts(), (2, 3, 1))

    def test_nested_not_ok(self):
        lines = [l.replace("    ok 2 free", "    not ok 2 free")
                 for l in GOOD_KTAP]
        r = self.run_fake([out(lines), out([SUCCESS]), {"exit": 33}])
        self.assertFail(r, "not ok 2 heap_basic.free")

    def test_panic_line_stops_the_run_early(self):
        steps = [out(GOOD_KTAP[:6]), out(["\x1b[31mKERNEL PANIC: page fault"
                                          " at 0xdead\x1b[0m",
                                          "backtrace: 0xffffffff80001234"]),
                 {"hang": True}]
        start = time.monotonic()
        r = self.run_fake(steps, timeout=20, silence_timeout=20)
        self.assertLess(time.monotonic() - start, 5)
        self.assertFail(r, "fail line: KERNEL PANIC: page fault at 0xdead")
        # The grace period kept the backtrace.
        self.assertIn("backtrace: 0xffffffff80001234",
                      [line for _, line in r.lines])

    def test_panic_in_unterminated_last_line(self):
        # QEMU exits before the line's newline arrives: the partial line is
        # judged too.
        for banner in ("KERNEL PANIC: late", "EXCEPTION: #GP",
                       "PANIC: boom"):
            with self.subTest(banner=banner):
                steps = [out(GOOD_KTAP), out([SUCCESS]), {"out": banner},
                         {"exit": 33}]
                r = self.run_fake(steps)
                self.assertFail(r, f"fail line: {banner}")

    def test_panic_spliced_mid_line(self):
        for banner in ("KERNEL PANIC: x", "EXCEPTION: page fault"):
            with self.subTest(banner=banner):
                lines = [l.replace("    ok 2 free", "    ok 2 free" + banner)
                         for l in GOOD_KTAP]
                r = self.run_fake([out(lines), out([SUCCESS]), {"exit": 33}])
                self.assertFail(r, banner)

    def test_not_ok_hidden_behind_carriage_return(self):
        lines = [l.replace("    ok 2 free", "    not ok 2 free\r    ok 2 free")
                 for l in GOOD_KTAP]
        r = self.run_fake([out(lines), out([SUCCESS]), {"exit": 33}])
        self.assertEqual(r.verdict, "FAIL", r.summary())

    def test_not_ok_hidden_behind_invisible_characters(self):
        # A zero-width space, a byte-order mark or a C1 control in front of
        # `not ok` shows nothing on a terminal; the line must still count.
        for invisible in ("\u200b", "\ufeff", "\u2060", "\x85", "\u00ad"):
            with self.subTest(invisible=repr(invisible)):
                lines = [l.replace("    ok 2 free", f"    {invisible}not ok 2 free\n    ok 2 free")
                         for l in GOOD_KTAP]
                r = self.run_fake([out(lines), out([SUCCESS]), {"exit": 33}])
                self.assertEqual(r.verdict, "FAIL", r.summary())

    def test_verify_failure_line(self):
        steps = [out(["VERIFY(m_count > 0) failed at heap.cpp:12"]),
                 {"exit": 33}]
        r = self.run_fake(steps)
        self.assertFail(r, "fail line: VERIFY(m_count > 0) failed")

    def test_silence_timeout(self):
        steps = [out(GOOD_KTAP[:5]), {"ignore_term": True}, {"hang": True}]
        start = time.monotonic()
        r = self.run_fake(steps, timeout=20, silence_timeout=1)
        elapsed = time.monotonic() - start
        self.assertFail(r, "silence")
        self.assertTrue(r.reason.startswith("silence"))
        self.assertLess(elapsed, 6)
        self.assertLess(r.exit_code, 0)  # killed (SIGKILL after SIGTERM)

    def test_total_timeout_with_output_continuing(self):
        steps = [out(GOOD_KTAP[:5]),
                 {"repeat": "still alive\r\n", "every": 0.1}]
        start = time.monotonic()
        r = self.run_fake(steps, timeout=1.5, silence_timeout=3)
        self.assertTrue(r.reason.startswith("timeout"), r.reason)
        self.assertLess(time.monotonic() - start, 6)
        alive = [l for _, l in r.lines if l == "still alive"]
        self.assertGreater(len(alive), 3)  # output never stopped

    def test_truncated_plan(self):
        lines = ["KTAP version 1", "1..5", "ok 1 a", "ok 2 b", "ok 3 c"]
        r = self.run_fake([out(lines), out([SUCCESS]), {"exit": 33}])
        self.assertFail(r, "KTAP plan 1..5 but 3 results")

    def test_missing_success_line(self):
        r = self.run_fake([out(GOOD_KTAP), {"exit": 33}])
        self.assertFail(r, "success line missing")

    def test_duplicated_success_line(self):
        r = self.run_fake([out(GOOD_KTAP), out([SUCCESS, SUCCESS]),
                           {"exit": 33}])
        self.assertFail(r, "success line printed 2 times")

    def test_success_line_must_match_whole_line(self):
        r = self.run_fake([out(GOOD_KTAP), out([SUCCESS + " (not really)"]),
                           {"exit": 33}])
        self.assertFail(r, "success line missing")

    def test_wrong_exit_code(self):
        r = self.run_fake(good_run(exit_code=35))
        self.assertFail(r, "exit code 35, expected 33")
        self.assertEqual(r.summary(), "RUNNER tessera-bios: FAIL skipped=1 "
                                      "(exit code 35, expected 33) cases=3/3")

    def test_missing_ktap_header(self):
        lines = GOOD_KTAP[1:]
        r = self.run_fake([out(lines), out([SUCCESS]), {"exit": 33}])
        self.assertFail(r, "missing KTAP header")

    def test_missing_expect_line(self):
        r = self.run_fake(good_run(), expect_lines=[r"^net: link up$"])
        self.assertFail(r, "expected line /^net: link up$/ missing")

    def test_qemu_own_error_is_reported(self):
        steps = [{"exit": 1}]
        r = self.run_fake(steps, expect="none", success_line=None)
        self.assertFail(r, "exit code 1, expected 33")


SERVE = "TESSERA: SERVING node=0"
SERVE_RE = r"^TESSERA: SERVING node=\d+$"
BOOT_NOISE = ["cpus: 2 online", "memory: 247 MiB usable"]


class Serves(FakeQemuCase):
    """--serve-line/--serve-hold: a boot that must never exit."""

    def serve(self, steps, **kw):
        kw.setdefault("expect", "none")
        kw.setdefault("success_line", None)
        kw.setdefault("serve_line", SERVE_RE)
        kw.setdefault("serve_hold", 1.0)
        return self.run_fake(steps, **kw)

    def test_quiet_serving_node_passes_and_is_stopped_by_the_runner(self):
        pidfile = self.dir / "sleeper.pid"
        steps = [{"spawn_sleeper": str(pidfile)}, out(BOOT_NOISE), out([SERVE]),
                 {"hang": True}]
        start = time.monotonic()
        # Silent for longer than the silence timeout after the line: fine.
        r = self.serve(steps, serve_hold=1.5, silence_timeout=0.5)
        elapsed = time.monotonic() - start
        self.assertEqual(r.verdict, "PASS", r.reason)
        self.assertGreaterEqual(elapsed, 1.5)
        self.assertLess(elapsed, 6)
        self.assertLess(r.exit_code, 0)  # the runner stopped it
        self.assertIsNotNone(r.serve_cpu)
        self.assertLess(r.serve_cpu, 0.2)  # the fake sleeps
        self.assertRegex(r.summary(), r"^RUNNER tessera-bios: PASS serve_cpu=\d+% cases=0/0$")
        self.assertProcessGone(int(pidfile.read_text()))

    def test_serve_cpu_shows_a_busy_guest(self):
        r = self.serve([out([SERVE]), {"spin": 5}, {"hang": True}])
        self.assertEqual(r.verdict, "PASS", r.reason)
        # A spinner gets only its share of a loaded host (0.28-0.42 of a
        # core measured at load 10 on 2 cores), so the bar is the one the
        # serve scenarios hold an idle node under (MAX_IDLE_SERVE_CPU in
        # tools/check.py): the measurement must tell busy from idle.
        self.assertGreater(r.serve_cpu, 0.2)

    def test_exit_during_the_hold_fails_whatever_the_code(self):
        for code in (33, 0, 37):
            with self.subTest(code=code):
                r = self.serve([out(BOOT_NOISE), out([SERVE]), {"sleep": 0.3},
                                {"exit": code}], serve_hold=2)
                self.assertFail(r, f"a serving node exited (exit code {code}) "
                                   f"during the 2s hold")
                self.assertIsNone(r.serve_cpu)

    def test_exit_before_the_serve_line_fails(self):
        r = self.serve([out(BOOT_NOISE), {"exit": 33}])
        self.assertFail(r, "serve line missing; QEMU exited before the serve "
                           "line (exit code 33)")

    def test_panic_after_the_serve_line_fails(self):
        steps = [out([SERVE]), {"sleep": 0.3},
                 out(["KERNEL PANIC: page fault at 0x0 on CPU 1"]), {"hang": True}]
        start = time.monotonic()
        r = self.serve(steps, serve_hold=10)
        self.assertLess(time.monotonic() - start, 5)  # stopped early
        self.assertFail(r, "fail line: KERNEL PANIC: page fault at 0x0 on CPU 1")

    def test_serve_line_twice_fails(self):
        r = self.serve([out([SERVE]), {"sleep": 0.2}, out([SERVE]), {"hang": True}])
        self.assertFail(r, "serve line printed 2 times")

    def test_silence_before_the_serve_line_fails(self):
        steps = [out(BOOT_NOISE), {"ignore_term": True}, {"hang": True}]
        start = time.monotonic()
        r = self.serve(steps, silence_timeout=1, serve_hold=5)
        self.assertLess(time.monotonic() - start, 6)
        self.assertTrue(r.reason.startswith("silence: no output for 1s"), r.reason)

    def test_total_timeout_before_the_serve_line_fails(self):
        steps = [{"repeat": "booting\r\n", "every": 0.1}]
        r = self.serve(steps, timeout=1, serve_hold=5)
        self.assertTrue(r.reason.startswith("timeout"), r.reason)

    def test_usage_errors(self):
        with self.assertRaisesRegex(qemu_run.UsageError, "positive --serve-hold"):
            self.serve([], serve_hold=0)
        with self.assertRaisesRegex(qemu_run.UsageError, "needs --serve-line"):
            self.serve([], serve_line=None)


class Command(FakeQemuCase):
    def test_command_line(self):
        old = os.environ.get("TESSERA_ACCEL")
        os.environ["TESSERA_ACCEL"] = "tcg"
        try:
            ovmf = self.dir / "OVMF.fd"
            ovmf.write_bytes(b"")
            r = self.run_fake(good_run(), firmware="uefi", smp=2,
                              memory="512M", ovmf=str(ovmf),
                              config="tessera.roles=processor,memory "
                                     "tessera.node=3",
                              extra=["-d", "int"])
        finally:
            if old is None:
                del os.environ["TESSERA_ACCEL"]
            else:
                os.environ["TESSERA_ACCEL"] = old
        self.assertEqual(r.verdict, "PASS", r.reason)
        argv = json.loads(self.argv_file.read_text())
        self.assertEqual(argv, [
            "-no-reboot", "-nographic", "-serial", "stdio", "-monitor", "none", "-nic", "none",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-cdrom", str(self.iso), "-smp", "2", "-m", "512M", "-boot", "d",
            "-accel", "tcg", "-bios", str(ovmf),
            "-fw_cfg", "name=opt/tessera/config,"
                       "string=tessera.roles=processor,,memory tessera.node=3",
            "-d", "int"])

    def test_accel_choice(self):
        self.assertEqual(qemu_run.choose_accel({"TESSERA_ACCEL": "kvm"})[0],
                         "kvm")
        self.assertEqual(qemu_run.choose_accel({"TESSERA_ACCEL": "tcg"})[0],
                         "tcg")
        with self.assertRaises(qemu_run.UsageError):
            qemu_run.choose_accel({"TESSERA_ACCEL": "hvf"})
        accel, why = qemu_run.choose_accel({})
        self.assertIn(accel, ("kvm", "tcg"))
        self.assertTrue(why)

    def test_usage_errors(self):
        with self.assertRaisesRegex(qemu_run.UsageError, "ISO not found"):
            qemu_run.run(RunOptions(iso=str(self.dir / "missing.iso")))
        with self.assertRaisesRegex(qemu_run.UsageError,
                                    "UEFI firmware not found"):
            qemu_run.run(RunOptions(iso=str(self.iso), firmware="uefi",
                                    ovmf=str(self.dir / "nope.fd")))
        with self.assertRaisesRegex(qemu_run.UsageError, "not found"):
            qemu_run.run(RunOptions(iso=str(self.iso),
                                    qemu="/nonexistent/qemu"))

    def test_clean_line(self):
        self.assertEqual(qemu_run.clean_line("\x1b[1;32mok 1 a\x1b[0m  "),
                         "ok 1 a")
        self.assertEqual(qemu_run.clean_line("progress 10%\rprogress 20%"),
                         "progress 20%")
        self.assertEqual(qemu_run.clean_line("    ok 1 x\x00"), "    ok 1 x")


class Cli(FakeQemuCase):
    def cli(self, steps, *args):
        env = dict(os.environ, **self.scenario(steps))
        return subprocess.run(
            [sys.executable, str(WRAPPER), "--iso", str(self.iso),
             "--firmware", "bios", "--qemu",
             shlex.join([sys.executable, str(FAKE)]), "--timeout", "10",
             *args], env=env, capture_output=True, text=True, timeout=30)

    def test_pass_streams_lines_and_prints_summary(self):
        p = self.cli(good_run(), "--name", "selftest")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        lines = p.stdout.splitlines()
        self.assertIn("    ok 1 alloc", lines)
        self.assertEqual(lines[-1], "RUNNER selftest: PASS skipped=1 cases=3/3")
        self.assertIn("runner: accel", p.stderr)

    def test_fail_exit_status_and_quiet(self):
        p = self.cli(good_run(exit_code=35), "--quiet", "--name", "q")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout.splitlines(), [
            "RUNNER q: FAIL skipped=1 (exit code 35, expected 33) cases=3/3"])

    def test_sigterm_to_the_runner_kills_qemu(self):
        pidfile = self.dir / "sleeper.pid"
        env = dict(os.environ, **self.scenario(
            [{"spawn_sleeper": str(pidfile)}, {"out": "booting\n"},
             {"hang": True}]))
        runner = subprocess.Popen(
            [sys.executable, str(WRAPPER), "--iso", str(self.iso),
             "--firmware", "bios", "--quiet", "--qemu",
             shlex.join([sys.executable, str(FAKE)])],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 10
            while not (pidfile.exists() and pidfile.read_text()):
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.05)
            runner.terminate()
            stdout, _ = runner.communicate(timeout=10)
        finally:
            if runner.poll() is None:
                runner.kill()
        self.assertEqual(runner.returncode, 130)
        self.assertIn("FAIL (interrupted)", stdout)
        self.assertProcessGone(int(pidfile.read_text()))

    def test_serve_mode_defaults_to_no_ktap_and_no_success_line(self):
        p = self.cli([out([SERVE]), {"hang": True}], "--quiet", "--name", "s",
                     "--serve-line", SERVE_RE, "--serve-hold", "0.5")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"^RUNNER s: PASS serve_cpu=\d+% cases=0/0\n$")
        p = self.cli([out([SERVE]), {"exit": 33}], "--quiet", "--name", "s",
                     "--serve-line", SERVE_RE, "--serve-hold", "2")
        self.assertEqual(p.returncode, 1)
        self.assertIn("a serving node exited (exit code 33)", p.stdout)

    def test_usage_errors_exit_2(self):
        p = subprocess.run([sys.executable, str(WRAPPER), "--iso",
                            str(self.dir / "missing.iso"), "--firmware",
                            "bios"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("ISO not found", p.stderr)
        p = subprocess.run([sys.executable, str(WRAPPER), "--iso",
                            str(self.iso), "--firmware", "coreboot"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    unittest.main()
