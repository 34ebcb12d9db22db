#!/usr/bin/env python3
"""make check: every test tier, one summary line.

Tiers, in order:
  style    clang-format (no diff) and clang-tidy (no warning) over the tree
  layers   every #include against layers.txt (tools/layering), and the
           checker's own tests
  clang    every kernel source under clang++ -Wthread-safety -Werror, and
           planted unguarded accesses that must not compile
  host     GoogleTest suites of the portable code (ASan + UBSan), via ctest
  runner   the QEMU runner's own tests (it must fail on failing, panicking,
           hanging and truncated runs)
  boot     QEMU boots of build/tessera.iso: selftests (KTAP) under SeaBIOS
           and OVMF with -smp 2; a boot matrix (1 and 2 CPUs, 64 MiB and
           8 GiB, both firmwares); refused boots (too little memory, a bad
           configuration value); a `tessera.mode=ready` node that must keep
           serving, idle, for 3 s; and negative controls that inject a failing
           case, a CPU exception and a hang into a real kernel and require
           the runner to reject each, plus the selftest harness's own
           controls (failing KEXPECT/KEXPECT_EQ/KMUST, late thread failures,
           a stuck helper, a panic racing the success exit, printing under
           the console lock); the selftests again on the UBSan kernel
           (build/ubsan/tessera.iso), and its control with a planted signed
           overflow (build/ubsan/control.iso) that must panic.
  cluster  the cluster launcher's tests (fake QEMU) and real clusters via
           tools/tessera-cluster: two ready nodes serving, one killed, no
           QEMU left; planted refused and silent nodes it must fail
           (tools/cluster/check_cluster.py)
  interop  two Linux peer guests (tools/linux-peer: Debian's kernel with
           rdma_rxe) cabled by unix sockets: unmodified rping, rdma-peer's
           every operation and size both ways at path MTU 1024 and 4096, its
           out-of-bounds WRITE/READ, and a planted wrong-port connect that
           the judge must fail

Counting: each ctest test, each runner unittest, each KTAP case of a boot,
and each boot's own verdict is one test; a skip (GTEST_SKIP, unittest
skip, KTAP `# SKIP`) is counted as skipped, never as passed. A tier that
ran nothing fails. The last line is `N passed, N failed, N skipped`; the
exit status is 1 if anything failed. build/check/summary.json keeps the
counts per tier (tools/update-readme-counts.py puts them in README.md).

A tier is a function taking the Tally; TIERS lists them in order. A boot
is a scenario() dict; judge_boot() decides it from the runner's result.
Selftest boots are compared with what the sources promise: every
SELFTEST_SUITE in */selftest_*.cpp with its cases, skipped exactly where
.config, tessera.selftest or the scenario's expect_skips say.
"""
import concurrent.futures
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools" / "runner"))
sys.path.insert(0, str(ROOT / "tools" / "cluster"))
import check_cluster  # noqa: E402
import kunit_check  # noqa: E402
import ktap  # noqa: E402
import qemu_run  # noqa: E402

BUILD = ROOT / "build"
ISO = BUILD / "tessera.iso"
UBSAN_ISO = BUILD / "ubsan" / "tessera.iso"
UBSAN_CONTROL_ISO = BUILD / "ubsan" / "control.iso"
LOGS = BUILD / "check"
KUNIT_CACHE = BUILD / "kunit"
SUMMARY = LOGS / "summary.json"
SUCCESS_EXIT = 33  # isa-debug-exit of ExitCode::Success
SELFTEST_DIRS = ("arch", "kernel", "drivers", "net", "managers")
# Guest seconds per host second between the two clock marks of the timer
# selftest. QEMU's TCG TSC follows the host clock, so they track; the
# slack covers serial output delayed by host scheduling (measured: see
# tools/runner/README.md).
CLOCK_RATIO_WINDOW = (0.7, 1.3)
CLOCK_MARK_RE = re.compile(r"^\s*# clock-mark (\d+) uptime_ns=(\d+)$")
MEMORY_RE = re.compile(r"memory: (\d+) MiB usable")


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.boots = 0
        self.selftest_cases = {}  # boot name: KTAP cases counted (passed+failed+skipped)
        self.failures = []

    def add(self, passed, failed, skipped=0, failure=None):
        self.passed += passed
        self.failed += failed
        self.skipped += skipped
        if failure:
            self.failures.append(failure)


def say(message):
    print(message, flush=True)


def source_files(root=ROOT):
    """Every C++ file of the tree, tracked or new (untracked but not ignored)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.cpp",
                             "*.h"], cwd=root, stdout=subprocess.PIPE, text=True, check=True).stdout
    return sorted({f for f in listed.split("\0") if f and (Path(root) / f).is_file()})


def run_style(tally, files=None):
    say("== style: clang-format and clang-tidy")
    files = source_files() if files is None else files
    if not files:
        say("   FAIL style: no source files found")
        tally.add(0, 1, failure="style: no source files found")
        return
    checks = [
        ("clang-format", ["clang-format", "--dry-run", "--Werror", *files]),
        ("clang-tidy", ["scripts/tidy.sh"]),
    ]
    for name, command in checks:
        result = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode == 0:
            say(f"   PASS {name}")
            tally.add(1, 0)
        else:
            say(result.stdout[-4000:])
            say(f"   FAIL {name} (run `make format` / `make tidy`)")
            tally.add(0, 1, failure=f"style: {name}")


def run_host(tally):
    say("== host: GoogleTest (ASan + UBSan) via ctest")
    # The same script as `make test-host` (the host build is defined once),
    # with ctest's JUnit report added.
    junit = LOGS / "ctest-junit.xml"
    LOGS.mkdir(parents=True, exist_ok=True)
    junit.unlink(missing_ok=True)
    result = subprocess.run(["scripts/test-host.sh", "--output-junit", str(junit)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = result.stdout
    counts = parse_ctest_junit(junit)
    if counts is None:
        say(output[-6000:])
        tally.add(0, 1, failure="host: no ctest JUnit report")
        return
    passed, failed, skipped = counts
    if result.returncode != 0 and failed == 0:
        failed = 1  # ctest failed in a way the report does not show
    if failed:
        say(output[-8000:])
    say(f"   host: {passed} passed, {failed} failed, {skipped} skipped")
    tally.add(passed, failed, skipped, failure="host: ctest failures" if failed else None)


def parse_ctest_junit(path):
    """(passed, failed, skipped) from ctest --output-junit, or None. A
    GTEST_SKIP is a skip (gtest_discover_tests marks it with
    SKIP_REGULAR_EXPRESSION), not a pass."""
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError):
        return None
    passed = failed = skipped = 0
    for case in root.iter("testcase"):
        status = case.get("status", "")
        output = "".join(case.findtext(tag) or "" for tag in ("system-out", "system-err"))
        if case.find("failure") is not None or case.find("error") is not None or status == "fail":
            failed += 1
        elif case.find("skipped") is not None or status in ("notrun", "disabled") or "[  SKIPPED ]" in output:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def run_fuzz(tally, seconds=20, planted_seconds=30):
    say("== fuzz: libFuzzer on the RoCE receive path (scripts/fuzz-roce.sh)")
    # The planted run must crash (the fuzzer can find a bounds bug), the real
    # one must not; both in bounded time.
    for name, args in (("planted bounds bug found", ["--planted", str(planted_seconds)]),
                       (f"receive path, {seconds}s", [str(seconds)])):
        result = subprocess.run(["scripts/fuzz-roce.sh", *args], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        if result.returncode == 0:
            say(f"   PASS fuzz: {name}")
            tally.add(1, 0)
        else:
            say(result.stdout[-4000:])
            say(f"   FAIL fuzz: {name}")
            tally.add(0, 1, failure=f"fuzz: {name}")


def run_runner_tests(tally):
    say("== runner: tools/runner tests (fake QEMU)")
    result = subprocess.run([sys.executable, "-m", "unittest", "discover", "-s", "tools/runner/tests",
                             "-t", "tools/runner"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    output = result.stdout
    counts = parse_unittest_summary(output)
    if counts is None:
        say(output[-4000:])
        tally.add(0, 1, failure="runner: no unittest summary in the last lines")
        return
    passed, bad, skip = counts
    if result.returncode != 0 and bad == 0:
        bad = 1
    if bad:
        say(output[-6000:])
    say(f"   runner: {passed} passed, {bad} failed, {skip} skipped")
    tally.add(passed, bad, skip, failure="runner: unittest failures" if bad else None)


_UNITTEST_RAN_RE = re.compile(r"^Ran (\d+) tests? in \d+(?:\.\d+)?s$")
_UNITTEST_VERDICT_RE = re.compile(r"^(OK|FAILED)(?: \(([a-z ]+=\d+(?:, [a-z ]+=\d+)*)\))?$")


def parse_unittest_summary(output):
    """(passed, failed, skipped) from unittest's closing lines, or None.
    Only the last two non-empty lines are read (`Ran N tests in Xs`, then
    `OK` or `FAILED (...)`), so a test printing `skipped=` or `Ran 9 tests`
    itself cannot change the count."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    ran = _UNITTEST_RAN_RE.match(lines[-2])
    verdict = _UNITTEST_VERDICT_RE.match(lines[-1])
    if not ran or not verdict:
        return None
    total = int(ran.group(1))
    fields = {}
    for part in (verdict.group(2) or "").split(", "):
        if part:
            key, value = part.rsplit("=", 1)
            fields[key] = int(value)
    known = {"failures", "errors", "skipped", "expected failures", "unexpected successes"}
    if set(fields) - known:
        return None
    failed = fields.get("failures", 0) + fields.get("errors", 0) + fields.get("unexpected successes", 0)
    skipped = fields.get("skipped", 0)
    if (verdict.group(1) == "FAILED") != (failed > 0):
        return None
    passed = total - failed - skipped
    if passed < 0:
        return None
    return passed, failed, skipped


def run_layers(tally):
    say("== layers: #include arrows against layers.txt (tools/layering)")
    result = subprocess.run([sys.executable, "tools/layering/check_layers.py"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    checked = re.search(r"^layers: (\d+) files clean", result.stdout, re.M)
    if result.returncode == 0 and checked and int(checked.group(1)) > 0:
        say(f"   PASS layers ({checked.group(1)} files)")
        tally.add(1, 0)
    else:
        say(result.stdout[-6000:])
        say("   FAIL layers (see layers.txt and docs/architecture.md)")
        tally.add(0, 1, failure="layers: forbidden includes" if result.returncode == 1 else "layers: nothing checked")
    # The checker's own tests: planted bad includes in a throwaway tree.
    result = subprocess.run([sys.executable, "-m", "unittest", "discover", "-s", "tools/layering/tests",
                             "-t", "tools/layering"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    counts = parse_unittest_summary(result.stdout)
    if counts is None:
        say(result.stdout[-4000:])
        tally.add(0, 1, failure="layers: no unittest summary from the checker's tests")
        return
    passed, bad, skip = counts
    if result.returncode != 0 and bad == 0:
        bad = 1
    if bad:
        say(result.stdout[-6000:])
    say(f"   layers tests: {passed} passed, {bad} failed, {skip} skipped")
    tally.add(passed, bad, skip, failure="layers: checker tests failed" if bad else None)


def run_clang(tally):
    say("== clang: every kernel source under clang++ -Wthread-safety -Werror (make kernel-clang)")
    checks = [
        ("kernel-clang", r"CLANG   (\d+) kernel sources compiled, no warnings"),
        # The analysis must reject planted unguarded accesses (test/thread_safety/).
        ("kernel-clang-control", r"planted thread-safety violations rejected \((\d+) of \d+\)"),
    ]
    for target, done in checks:
        result = subprocess.run(["make", "--no-print-directory", f"-j{os.cpu_count() or 2}", target], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        count = re.search(done, result.stdout)
        if result.returncode == 0 and count and int(count.group(1)) > 0:
            say(f"   PASS {target} ({count.group(1)})")
            tally.add(1, 0)
        else:
            say(result.stdout[-6000:])
            say(f"   FAIL {target}")
            tally.add(0, 1, failure=f"clang: {target}")


def scenario(name, firmware="bios", smp=2, memory="256M", config=None, expect="ktap", success_line=None,
             expect_lines=(), expect_exit=33, timeout=180, silence=45, expect_failure=None, extra=(),
             expect_skips=(), memory_mib=None, clock_marks=False, qemu=None, iso=None, env=None,
             default_fail_lines=True, serve_line=None, serve_hold=0.0, max_serve_cpu=None):
    """A boot and what it must show.

    expect_failure: a regex the runner's FAIL reason must match (a negative
      control); the exit code alone must also have caught it (not 33).
    expect_skips: KTAP paths (`suite` or `suite.case`) that this machine
      setup legitimately skips, beyond what .config and tessera.selftest
      imply; with tessera.mode=selftest every other case must run.
    memory_mib: (low, high): the `memory: N MiB usable` line must show N in
      that window.
    clock_marks: the timer selftest's two clock marks must show guest time
      passing at the host's rate (CLOCK_RATIO_WINDOW).
    qemu, iso, env: override the QEMU program, the ISO and QEMU's
      environment (the check's own tests use a fake QEMU).
    default_fail_lines=False: a panic banner is the expected outcome, not a
      failure (the panic-race control).
    serve_line, serve_hold: a boot that never exits (qemu_run serve mode):
      the line once, then serve_hold seconds of QEMU running; expect_exit
      is unused. max_serve_cpu: QEMU's CPU use over the hold (1.0 = one
      core) must stay at or below it: an idle node halts, it does not poll."""
    return dict(name=name, firmware=firmware, smp=smp, memory=memory, config=config, expect=expect,
                success_line=success_line, expect_lines=list(expect_lines), expect_exit=expect_exit,
                timeout=timeout, silence=silence, expect_failure=expect_failure, extra=list(extra),
                expect_skips=list(expect_skips), memory_mib=memory_mib, clock_marks=clock_marks, qemu=qemu,
                iso=iso, env=env, default_fail_lines=default_fail_lines, serve_line=serve_line,
                serve_hold=serve_hold, max_serve_cpu=max_serve_cpu)


# What QEMU's -m gives, less firmware reservations and holes: measured 57-63
# MiB of 64 and 8185-8190 of 8192 under SeaBIOS and OVMF.
MEMORY_WINDOWS = {"64M": (48, 64), "8G": (8192 - 64, 8192)}
# A serving node with nothing to do halts its CPUs. Measured over a 3 s hold
# at -smp 2 under TCG on this 2-core host at load 4: 1-2% of one core when
# idle halts; 50-67% when the idle loop polls (planted `sti; pause`): the
# poller gets only its share of a loaded host, so the limit sits well
# below that and 10x above the halting node.
MAX_IDLE_SERVE_CPU = 0.2


def scenarios():
    selftest = "tessera.mode=selftest"
    # boot-bench prints the READY line and exits; `ready` serves and never exits.
    bench = "tessera.mode=boot-bench"
    # The pci_msi suite's devices (drivers/pci/README.md): edu raises MSIs,
    # virtio-net-pci has an MSI-X table. The NIC has no netdev (QEMU warns
    # "has no peer" and nothing leaves the VM) and no option ROM to load;
    # it is legacy-only (disable-modern=on), so the virtio-net driver leaves
    # it to pci_msi. Then the virtio_net suite's two cabled NICs, jumbo-capable.
    pci_devices = ["-device", "edu", "-device", "virtio-net-pci,romfile=,disable-modern=on"] + nic_pair()
    virtio_msix = r"^    # virtio-net0 interrupts: MSI-X rx [1-9]"
    out = [
        scenario("selftest-seabios-smp2", "bios", config=selftest, success_line=r"^TESSERA: SELFTESTS PASSED$",
                 expect_lines=[r"^    # 2 CPUs online$", virtio_msix], clock_marks=True, extra=pci_devices),
        # The same NICs without MSI-X (vectors=0) and without host_mtu: the
        # driver runs on INTx and the jumbo case skips.
        scenario("selftest-virtio-net-intx", "bios", 2, "256M", f"{selftest} tessera.selftest=virtio_net",
                 success_line=r"^TESSERA: SELFTESTS PASSED$",
                 expect_lines=[r"^    # virtio-net0 interrupts: INTx rx 0 tx 0 intx [1-9]",
                               r"^    ok \d+ jumbo_frames_cross_byte_exact # SKIP MTU below 9000"],
                 expect_skips=["virtio_net.jumbo_frames_cross_byte_exact"],
                 extra=nic_pair(host_mtu=None, vectors=0)),
        # Negative control: NIC0 flips a byte of every frame it sends; the
        # byte-exact cases must fail (and the planted-fault case still pass).
        scenario("control-virtio-corrupt-tx", "bios", 2, "256M",
                 f"{selftest} tessera.selftest=virtio_net tessera.inject=virtio-corrupt-tx",
                 success_line=r"^TESSERA: SELFTESTS PASSED$",
                 expect_failure=r"^not ok 2 virtio_net\.minimum_frames_cross_byte_exact; "
                                r"not ok 3 virtio_net\.full_frames_cross_byte_exact; "
                                r"not ok 4 virtio_net\.jumbo_frames_cross_byte_exact; "
                                r"not ok 6 virtio_net\.burst_of_1000_arrives_in_order; ",
                 extra=nic_pair()),
        scenario("selftest-ovmf-smp2", "uefi", config=selftest, success_line=r"^TESSERA: SELFTESTS PASSED$",
                 expect_lines=[r"^    # 2 CPUs online$"], clock_marks=True, extra=pci_devices),
        # QEMU's default CPU has no SMEP/SMAP; "max" has both, so the paging
        # suite checks that they are switched on.
        scenario("selftest-seabios-cpu-max", "bios", config=selftest, success_line=r"^TESSERA: SELFTESTS PASSED$",
                 expect_lines=[r"smep=1 smap=1"], extra=["-cpu", "max"] + pci_devices, clock_marks=True),
        # The UBSan kernel (make ubsan): any undefined behaviour met during
        # the selftests prints "UBSAN: ..." and panics (kernel/runtime/ubsan.cpp).
        scenario("selftest-ubsan-seabios-smp2", "bios", config=selftest, success_line=r"^TESSERA: SELFTESTS PASSED$",
                 expect_lines=[r"^    # 2 CPUs online$"], extra=pci_devices, iso=UBSAN_ISO),
    ]
    for firmware in ("bios", "uefi"):
        for smp in (1, 2):
            for memory in ("64M", "8G"):
                label = "seabios" if firmware == "bios" else "ovmf"
                out.append(scenario(f"boot-{label}-smp{smp}-{memory}", firmware, smp, memory, bench, "none",
                                    r"^TESSERA READY tsc=\d+ tsc_hz=\d+$",
                                    [rf"cpus: {smp} online$", r"memory: \d+ MiB usable"], timeout=120,
                                    memory_mib=MEMORY_WINDOWS[memory]))
    out += [
        # tessera.mode=ready never exits: SERVING once, then 3 s of QEMU
        # running quietly with its CPUs halted; the runner stops it.
        scenario("ready-serves", "bios", 2, "256M", "tessera.mode=ready tessera.roles=processor,memory", "none",
                 None, [r"cpus: 2 online$"], timeout=120, serve_line=r"^TESSERA: SERVING node=\d+$", serve_hold=3.0,
                 max_serve_cpu=MAX_IDLE_SERVE_CPU),
        scenario("refuse-too-little-memory", "bios", 1, "32M", bench, "none",
                 r"^TESSERA: BOOT REFUSED: Tessera needs at least \d+ MiB of RAM", expect_exit=39, timeout=60),
        scenario("refuse-bad-config-value", "bios", 1, "128M", "tessera.mode=boot-bench tessera.node=70000", "none",
                 r"^TESSERA: BOOT REFUSED: configuration: tessera\.node: .*fw_cfg", expect_exit=39, timeout=60),
        scenario("refuse-unknown-config-key", "bios", 1, "128M", "tessera.colour=blue", "none",
                 r"^TESSERA: BOOT REFUSED: configuration: tessera\.colour:", expect_exit=39, timeout=60),
        # Negative controls: a real kernel misbehaves on purpose; the run must
        # fail for exactly that reason, and its exit code must show it too.
        scenario("control-failing-case", "bios", 1, "128M",
                 "tessera.mode=selftest tessera.selftest=selftest_harness tessera.inject=fail",
                 success_line=r"^TESSERA: SELFTESTS PASSED$",
                 expect_failure=r"(^|; )not ok 9 selftest_harness\.injected_failure(;|$)"),
        scenario("control-cpu-exception", "bios", 1, "128M",
                 "tessera.mode=selftest tessera.selftest=selftest_harness tessera.inject=fault",
                 success_line=r"^TESSERA: SELFTESTS PASSED$",
                 expect_failure=r"^fail line: EXCEPTION: general protection fault \(vector 13, .*"
                                r"injected_misbehaviour\(tessera::FaultInjection\)\+"),
        scenario("control-stack-overflow", "bios", 1, "128M",
                 "tessera.mode=selftest tessera.selftest=selftest_harness tessera.inject=overflow",
                 success_line=r"^TESSERA: SELFTESTS PASSED$",
                 expect_failure=r"^fail line: EXCEPTION: double fault \(vector 8, .*recurse_deeply"),
        # CPU 1 panics while CPU 0 asks for a success exit: the panic's
        # status (37) must win, never 33 (kernel/platform/selftest_ending.cpp).
        scenario("control-panic-race", "bios", 2, "128M",
                 "tessera.mode=selftest tessera.selftest=platform_ending tessera.inject=panic-race", "none",
                 r"^KERNEL PANIC: planted: CPU 1 panics while CPU 0 exits on CPU 1$", expect_exit=37, timeout=120,
                 silence=30, default_fail_lines=False),
        # The UBSan kernel with a planted signed overflow (test/ubsan/): its runtime must catch it.
        scenario("control-ubsan", "bios", 1, "128M", "tessera.mode=selftest",
                 success_line=r"^TESSERA: SELFTESTS PASSED$",
                 expect_failure=(r"^fail line: KERNEL PANIC: undefined behaviour: "
                                 r"signed integer overflow( on CPU \d+)?(;|$)"),
                 iso=UBSAN_CONTROL_ISO),
        scenario("control-hang", "bios", 1, "128M",
                 "tessera.mode=selftest tessera.selftest=selftest_harness tessera.inject=hang",
                 success_line=r"^TESSERA: SELFTESTS PASSED$", silence=8, expect_failure=r"^silence: no output for 8s$"),
        # With one CPU the SMP cases that need two skip instead of passing vacuously.
        scenario("selftest-seabios-smp1", "bios", 1, config=selftest, success_line=r"^TESSERA: SELFTESTS PASSED$",
                 expect_lines=[r"^    # 1 CPUs online$",
                               r"^    ok \d+ pinned_thread_runs_on_its_cpu # SKIP only one CPU online$",
                               r"^    ok \d+ cross_cpu_wakeup # SKIP only one CPU online$"],
                 expect_skips=["arch_smp.pinned_thread_runs_on_its_cpu", "arch_smp.cross_cpu_wakeup",
                               "sched_thread_lifetime.reaper_waits_for_the_switch_away",
                               "irq_core.free_waits_for_a_running_handler"],
                 extra=pci_devices),
    ]
    out += harness_controls()
    return out


def harness_controls():
    """Negative controls of the selftest harness (kernel/selftest): the real
    KEXPECT/KEXPECT_EQ/KMUST macros fail, a helper thread fails after its case
    returned, a plain thread fails after its case ended, a helper outlives its
    case, and a panic races the success exit. Each reason is matched whole, so
    that it names the failing case and nothing else; the diagnostic must be
    there too (a missing one adds a reason)."""
    injected = r"^not ok 9 selftest_harness\.injected_failure; success line missing; exit code 35, expected 33$"
    diagnostic = r"^    # kernel/selftest/selftest_harness\.cpp:\d+ "
    controls = [
        ("fail-expect", [diagnostic + r"expected inject != FaultInjection::FailExpect$"], injected),
        ("fail-eq", [diagnostic + r"expected 2 \+ 2 == 5, got 4 vs 5$"], injected),
        ("fail-must", [diagnostic + r"fail_with\(Errno::NOMEM\) failed: ENOMEM$"], injected),
        ("fail-thread", [diagnostic + r"expected !s_case_returned\.load\(\)$"], injected),
        # The case passed and so does the next one; only the harness error fails the run.
        ("fail-late-thread", [diagnostic + r"expected !s_case_returned\.load\(\)$",
                              r"^    # harness error: a failure from thread late-plain after its case "
                              r"selftest_harness\.injected_failure ended$",
                              r"^    ok 9 injected_failure$", r"^    ok 10 later_case_is_not_blamed$",
                              r"^TESSERA: SELFTESTS FAILED \(0 of \d+ suites, 1 harness errors\)$"],
         r"^success line missing; exit code 35, expected 33$"),
        ("stuck-thread", [r"^    # case ended with 1 helper threads still running$"], injected),
        # Printing while holding the console lock must panic, not spin forever
        # with interrupts off (kernel/console/console_fault_injection.h).
        ("console-recursion", [],
         r"^fail line: KERNEL PANIC: console: CPU \d+ took the console lock it already holds on CPU \d+"
         r"(; exit code 37, expected 33)?$"),
        # Needs two CPUs. Until the panic path stopped a success exit racing
        # it, some of these runs passed.
        ("panic-race", [], r"^fail line: KERNEL PANIC: injected panic race \(tessera\.inject=panic-race\)"),
        # The may-sleep checks (kernel/locking/sleep_checks.h) turn each misuse into a panic.
        ("mutex-under-spinlock", [],
         r"^fail line: KERNEL PANIC: mutex acquired while holding spinlock Selftest \(held ranks 0x1\)"),
        ("schedule-under-spinlock", [],
         r"^fail line: KERNEL PANIC: schedule\(\) while holding spinlock Selftest \(held ranks 0x1\)"),
        ("mutex-irqs-off", [], r"^fail line: KERNEL PANIC: mutex acquired with interrupts disabled"),
    ]
    # control-panic-race (above) is the platform_ending suite's own race; the
    # harness's panic-race releases the panic between the success line and the exit.
    out = [scenario(f"control-{mode}" if mode != "panic-race" else "control-panic-race-after-success-line",
                    "bios", 2, "128M",
                    f"tessera.mode=selftest tessera.selftest=selftest_harness tessera.inject={mode}",
                    success_line=r"^TESSERA: SELFTESTS PASSED$", expect_lines=lines, expect_failure=reason)
           for mode, lines, reason in controls]
    # One CPU, so that the timer interrupts the case's own thread while it holds
    # a capture: the callback's failure must fail the case, not be captured
    # (before kernel/selftest/failure_routing.cpp asked irq_in_handler(), it passed).
    out.append(scenario("control-fail-irq-in-capture", "bios", 1, "128M",
                        "tessera.mode=selftest tessera.selftest=selftest_harness tessera.inject=fail-irq-in-capture",
                        success_line=r"^TESSERA: SELFTESTS PASSED$",
                        expect_lines=[diagnostic + r'expected !"a timer callback fails inside the case\'s capture"$'],
                        expect_failure=injected))
    # A skip from a timer callback is no case's: a harness error (before, the
    # interrupted case was reported `ok 9 injected_failure # SKIP` and the run passed).
    out.append(scenario("control-skip-from-irq", "bios", 1, "128M",
                        "tessera.mode=selftest tessera.selftest=selftest_harness tessera.inject=skip-from-irq",
                        success_line=r"^TESSERA: SELFTESTS PASSED$",
                        expect_lines=[r'^    # selftest_skip\("skipped by a timer callback"\) outside its case$',
                                      r"^    # harness error: a failure from thread injected_failure "
                                      r"in an interrupt handler$", r"^    ok 9 injected_failure$"],
                        expect_failure=r"^success line missing; exit code 35, expected 33$"))
    return out


# --- what the selftest sources promise ---------------------------------------

def _strip_comments(text):
    return re.sub(r"//[^\n]*|/\*.*?\*/", " ", text, flags=re.S)


def _macro_arguments(text, open_paren):
    """The top-level comma-separated arguments of the call whose `(` is at
    open_paren, and the index after its `)`."""
    depth, args, current = 0, [], []
    for i in range(open_paren, len(text)):
        ch = text[i]
        if ch == "(":
            depth += 1
            if depth == 1:
                continue
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(current).strip())
                return args, i + 1
        elif ch == "," and depth == 1:
            args.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    raise ValueError("unbalanced parentheses")


def parse_selftest_sources(root=ROOT, dirs=SELFTEST_DIRS):
    """{suite: (CONFIG_X, [case, ...])} from every SELFTEST_SUITE(...) in
    */selftest_*.cpp under `dirs`. Raises ValueError on a malformed one."""
    suites = {}
    for directory in dirs:
        for path in sorted((Path(root) / directory).rglob("selftest_*.cpp")):
            text = _strip_comments(path.read_text(encoding="utf-8", errors="replace"))
            for match in re.finditer(r"\bSELFTEST_SUITE\s*\(", text):
                args, _ = _macro_arguments(text, match.end() - 1)
                if len(args) < 2 or not re.fullmatch(r"\w+", args[0]):
                    raise ValueError(f"{path}: cannot read SELFTEST_SUITE({', '.join(args)[:60]})")
                cases = []
                for arg in args[2:]:
                    case = re.fullmatch(r"SELFTEST_CASE\s*\(\s*(\w+)\s*\)", arg)
                    if not case:
                        raise ValueError(f"{path}: suite {args[0]}: cannot read case {arg!r}")
                    cases.append(case.group(1))
                if args[0] in suites:
                    raise ValueError(f"{path}: suite {args[0]} defined twice")
                suites[args[0]] = (args[1], cases)
    return suites


def read_kconfig(path):
    """{CONFIG_X: value} of a .config; `# CONFIG_X is not set` gives 'n'."""
    values = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        unset = re.fullmatch(r"# (CONFIG_\w+) is not set", line)
        if unset:
            values[unset.group(1)] = "n"
        elif re.match(r"CONFIG_\w+=", line):
            key, value = line.split("=", 1)
            values[key] = value.strip('"')
    return values


def expected_selftests(spec, suites, kconfig):
    """{suite: None (skipped) or {case: skipped?}} for a selftest boot."""
    selected = re.search(r"(?:^|\s)tessera\.selftest=(\S+)", spec["config"] or "")
    selected = selected.group(1) if selected else "all"
    expected = {}
    for name, (option, cases) in suites.items():
        if kconfig.get(option, "n") != "y" or selected not in ("all", name) or name in spec["expect_skips"]:
            expected[name] = None
        else:
            expected[name] = {case: f"{name}.{case}" in spec["expect_skips"] for case in cases}
    return expected


def compare_selftests(expected, doc):
    """Mismatches between what the sources promise and the KTAP tree."""
    problems = []
    actual = {}
    for suite in doc.root.children:
        if suite.name in actual:
            problems.append(f"suite {suite.name} reported twice")
        actual[suite.name] = suite
    for name in sorted(set(expected) - set(actual)):
        problems.append(f"suite {name} missing from the KTAP output")
    for name in sorted(set(actual) - set(expected)):
        problems.append(f"suite {name or '?'} is not in the sources")
    for name in sorted(set(expected) & set(actual)):
        suite, want = actual[name], expected[name]
        if want is None:
            if suite.status != ktap.SKIP or suite.children:
                problems.append(f"suite {name} should be skipped (# SKIP), got {suite.status or 'no result'}")
            continue
        if suite.status == ktap.SKIP:
            problems.append(f"suite {name} skipped unexpectedly ({suite.directive})")
            continue
        got = [case.name for case in suite.children]
        if got != list(want):
            missing = [c for c in want if c not in got]
            extra = [c for c in got if c not in want]
            problems.append(f"suite {name}: cases differ from the source" +
                            (f", missing {missing}" if missing else "") + (f", unexpected {extra}" if extra else "") +
                            ("" if missing or extra else f", order {got}"))
            continue
        for case in suite.children:
            if want[case.name] and case.status != ktap.SKIP:
                problems.append(f"{name}.{case.name} should be skipped, got {case.status}")
            elif not want[case.name] and case.status == ktap.SKIP:
                problems.append(f"{name}.{case.name} skipped unexpectedly ({case.directive})")
    return problems


# --- judging one boot ----------------------------------------------------------

def check_memory(result, window):
    found = [int(m.group(1)) for _, line in result.lines for m in [MEMORY_RE.search(line)] if m]
    if len(found) != 1:
        return f"memory: expected one `memory: N MiB usable` line, got {len(found)}"
    low, high = window
    if not low <= found[0] <= high:
        return f"memory: {found[0]} MiB usable, expected {low}..{high} MiB"
    return None


def check_clock_marks(result, window=CLOCK_RATIO_WINDOW):
    """Guest time between the two clock marks against host time between the
    arrival of the same lines. A wrong TSC calibration passes every guest
    check (they use one clock on both sides); only the host can see it."""
    marks = {}
    for t, line in result.lines:
        m = CLOCK_MARK_RE.match(line)
        if m:
            if m.group(1) in marks:
                return f"clock: clock-mark {m.group(1)} printed twice"
            marks[m.group(1)] = (t, int(m.group(2)))
    if set(marks) != {"0", "1"}:
        return f"clock: expected clock-mark 0 and 1, got {sorted(marks) or 'none'}"
    host = marks["1"][0] - marks["0"][0]
    guest = (marks["1"][1] - marks["0"][1]) / 1e9
    if host <= 0.2 or guest <= 0:
        return f"clock: marks {guest:.3f}s apart in the guest, {host:.3f}s on the host: too close to compare"
    ratio = guest / host
    low, high = window
    if not low <= ratio <= high:
        return f"clock: guest {guest:.3f}s vs host {host:.3f}s between the clock marks (ratio {ratio:.2f}, " \
               f"allowed {low}..{high})"
    return None


def check_serve_cpu(result, limit):
    """An idle serving node must halt: QEMU's CPU use over the hold."""
    if result.serve_cpu is None:
        return "serve cpu: not measured (the hold did not run to its end)" if result.passed else None
    if result.serve_cpu > limit:
        return f"serve cpu: QEMU used {result.serve_cpu * 100:.0f}% of a core while the node idled " \
               f"(allowed {limit * 100:.0f}%): an idle CPU polls instead of halting"
    return None


def judge_boot(spec, result, context):
    """(ok, detail, (passed, failed, skipped) KTAP cases to count).

    context: dict with `suites` and `kconfig` (for selftest boots) and
    `kunit` (path of kunit.py, or a string saying why it is missing)."""
    problems = []
    notes = []
    counts = (0, 0, 0)
    if result.ktap is not None:
        k = result.ktap
        counts = (k.passed, k.failed, k.skipped)
        kunit = context.get("kunit")
        log = result_log(spec)
        if isinstance(kunit, Path) and log and log.is_file():
            disagreement = kunit_check.disagreement(k, kunit_check.run_kunit(kunit, log))
            if disagreement:
                problems.append(disagreement)
            else:
                notes.append("kunit.py agrees")
        else:
            problems.append(f"kunit.py cross-check not run: {kunit if not isinstance(kunit, Path) else 'no log'}")
    if spec["expect_failure"]:
        matched = (not result.passed) and re.search(spec["expect_failure"], result.reason or "") is not None
        code = result.exit_code
        by_exit = code is not None and code != SUCCESS_EXIT
        code_text = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        if re.match(r"(silence|timeout):", result.reason or ""):
            code_text = f"stopped by the runner ({code_text}): the exit code never said success"
        catches = code_text if code_text.startswith("stopped") else f"{code_text} alone catches it too"
        if not matched:
            problems.append(f"expected a FAIL matching /{spec['expect_failure']}/, got {result.verdict} "
                            f"({result.reason})")
        if not by_exit:
            problems.append(f"{code_text}: the exit code alone would have passed it")
        ok = not problems
        detail = f"runner rejected it: {result.reason}; {catches}" if ok else "; ".join(problems)
        # A negative control's cases are expected to fail: only its verdict counts.
        return ok, detail, (0, 0, 0)
    if not result.passed:
        problems.append(result.reason)
    if spec["memory_mib"]:
        problem = check_memory(result, spec["memory_mib"])
        if problem:
            problems.append(problem)
        else:
            notes.append(MEMORY_RE.search(result.first_match(MEMORY_RE.pattern)[1]).group(0))
    if spec["max_serve_cpu"] is not None:
        problem = check_serve_cpu(result, spec["max_serve_cpu"])
        if problem:
            problems.append(problem)
        elif result.serve_cpu is not None:
            notes.append(f"serving used {result.serve_cpu * 100:.0f}% of a core")
    if spec["clock_marks"]:
        problem = check_clock_marks(result)
        if problem:
            problems.append(problem)
    if result.ktap is not None and re.search(r"(?:^|\s)tessera\.mode=selftest(?:\s|$)", spec["config"] or ""):
        if "suites" not in context:
            problems.append(f"selftest sources: {context.get('suites_error', 'not read')}")
        else:
            problems += compare_selftests(expected_selftests(spec, context["suites"], context["kconfig"]),
                                          result.ktap)
    if problems:
        return False, "; ".join(problems), counts
    extra = f", {counts[0]}/{counts[0] + counts[1]} cases" if counts != (0, 0, 0) else ""
    if counts[2]:
        extra += f", {counts[2]} skipped"
    if notes:
        extra += ", " + ", ".join(notes)
    return True, extra, counts


def result_log(spec):
    return LOGS / f"{spec['name']}.log"


# A scenario's QEMU arguments may name NETDIR: a fresh temporary directory per
# run, for the unix sockets of its -netdev dgram cables, removed afterwards.
NETDIR = "{netdir}"


def nic_pair(host_mtu=9000, vectors=None):
    """Two modern virtio-net NICs cabled to each other: a -netdev dgram pair
    whose unix sockets are each other's remote (drivers/virtio/README.md).
    vectors=0 makes QEMU offer no MSI-X, so the driver falls back to INTx."""
    options = ",romfile=,disable-legacy=on" + (f",host_mtu={host_mtu}" if host_mtu else "") + \
        (f",vectors={vectors}" if vectors is not None else "")
    out = []
    for end, (local, remote) in enumerate((("a", "b"), ("b", "a"))):
        out += ["-netdev", f"dgram,id=cable{end},local.type=unix,local.path={NETDIR}/{local},"
                           f"remote.type=unix,remote.path={NETDIR}/{remote}",
                "-device", f"virtio-net-pci,netdev=cable{end}{options}"]
    return out


def run_scenario(spec):
    if any(NETDIR in argument for argument in spec["extra"]):
        netdir = tempfile.mkdtemp(prefix=f"tessera-{spec['name']}-")
        try:
            return run_scenario_in(dict(spec, extra=[a.replace(NETDIR, netdir) for a in spec["extra"]]))
        finally:
            shutil.rmtree(netdir, ignore_errors=True)
    return run_scenario_in(spec)


def run_scenario_in(spec):
    LOGS.mkdir(parents=True, exist_ok=True)
    options = qemu_run.RunOptions(
        iso=str(spec["iso"] or ISO), firmware=spec["firmware"], smp=spec["smp"], memory=spec["memory"],
        config=spec["config"], expect=spec["expect"], success_line=spec["success_line"],
        expect_lines=spec["expect_lines"], expect_exit=spec["expect_exit"], timeout=spec["timeout"],
        silence_timeout=spec["silence"], log=str(result_log(spec)), name=spec["name"], extra=spec["extra"],
        qemu=spec["qemu"], env=spec["env"], default_fail_lines=spec["default_fail_lines"],
        serve_line=spec["serve_line"], serve_hold=spec["serve_hold"])
    started = time.monotonic()
    try:
        result = qemu_run.run(options)
    except Exception as error:  # a runner crash is a failed test, not a crashed suite
        return spec, None, f"runner error: {error}", time.monotonic() - started
    return spec, result, None, time.monotonic() - started


def boot_context():
    context = {}
    try:
        context["suites"] = parse_selftest_sources()
        context["kconfig"] = read_kconfig(ROOT / ".config")
    except (OSError, ValueError) as error:
        context.pop("suites", None)
        context["suites_error"] = str(error)
    try:
        context["kunit"] = kunit_check.ensure_kunit(KUNIT_CACHE)
    except kunit_check.KunitUnavailable as error:
        context["kunit"] = str(error)
    return context


def run_boots(tally, specs=None):
    if specs is None and not ISO.is_file():
        say(f"== boot: {ISO} is missing (run make)")
        tally.add(0, 1, failure="boot: no ISO")
        return
    specs = scenarios() if specs is None else specs
    context = boot_context()
    say(f"== boot: {len(specs)} QEMU runs of {ISO.relative_to(ROOT)}, {os.cpu_count() or 2} at a time "
        f"(logs in {LOGS.relative_to(ROOT)}/)")
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for spec, result, error, seconds in pool.map(run_scenario, specs):
            name = spec["name"]
            if error:
                say(f"   FAIL {name}: {error}")
                tally.add(0, 1, failure=f"{name}: {error}")
                continue
            ok, detail, (cases_passed, cases_failed, cases_skipped) = judge_boot(spec, result, context)
            # Each KTAP case counts, and so does the boot's own verdict.
            tally.add(cases_passed, cases_failed, cases_skipped)
            tally.boots += 1
            if result.ktap is not None and not spec["expect_failure"]:
                tally.selftest_cases[name] = cases_passed + cases_failed + cases_skipped
            if ok:
                say(f"   PASS {name} ({seconds:.1f}s{detail if not spec['expect_failure'] else ''})"
                    + (f": {detail}" if spec["expect_failure"] else ""))
                tally.add(1, 0)
            else:
                say(f"   FAIL {name} ({seconds:.1f}s): {detail}; log {LOGS.relative_to(ROOT)}/{name}.log")
                tally.add(0, 1, failure=f"{name}: {detail}")


def run_interop(tally):
    say("== interop: Linux peer pairs (tools/linux-peer/interop.py)")
    sys.path.insert(0, str(ROOT / "tools" / "linux-peer"))
    import build as linux_peer_build  # noqa: E402  (tools/linux-peer/build.py)
    import interop  # noqa: E402
    # The judge's own tests on forged transcripts, one count each (in a
    # child: their package name `tests` is the runner's too).
    result = subprocess.run([sys.executable, "-m", "unittest", "discover", "-s", "tools/linux-peer/tests",
                             "-t", "tools/linux-peer"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    counts = parse_unittest_summary(result.stdout)
    if counts is None or (result.returncode != 0 and counts[1] == 0):
        say(result.stdout[-4000:])
        tally.add(0, 1, failure="interop: judge tests gave no clean unittest summary")
    else:
        passed, bad, skip = counts
        if bad:
            say(result.stdout[-4000:])
        say(f"   judge tests: {passed} passed, {bad} failed, {skip} skipped")
        tally.add(passed, bad, skip, failure="interop: judge test failures" if bad else None)
    try:
        linux_peer_build.build()
    except (linux_peer_build.BuildError, subprocess.CalledProcessError) as error:
        say(f"   FAIL linux-peer build: {error}")
        tally.add(0, 1, failure=f"interop: linux-peer build: {error}")
        return
    passed, failed, failures = interop.run_all(say, LOGS / "interop")
    tally.add(passed, failed)
    tally.failures.extend(f"interop: {failure}" for failure in failures)


TIERS = [
    ("style", run_style),
    ("layers", run_layers),
    ("clang", run_clang),
    ("host", run_host),
    ("fuzz", run_fuzz),
    ("runner", run_runner_tests),
    ("boot", run_boots),
    ("cluster", lambda tally: check_cluster.run_cluster_tier(tally, say, parse_unittest_summary, LOGS)),
    ("interop", run_interop),
]


def run_tier(tally, name, function):
    """Runs one tier and returns its counts; a tier that ran nothing fails."""
    before = (tally.passed, tally.failed, tally.skipped, tally.boots)
    started = time.monotonic()
    function(tally)
    passed, failed, skipped, boots = (now - then for now, then in
                                      zip((tally.passed, tally.failed, tally.skipped, tally.boots), before))
    if passed + failed == 0:
        say(f"   FAIL {name}: the tier ran nothing")
        tally.add(0, 1, failure=f"{name}: ran nothing")
        failed += 1
    out = dict(passed=passed, failed=failed, skipped=skipped, seconds=round(time.monotonic() - started, 1))
    if name == "boot":
        out["boots"] = boots
    return out


def write_summary(tally, tiers, seconds, path=SUMMARY):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = dict(passed=tally.passed, failed=tally.failed, skipped=tally.skipped, seconds=round(seconds),
                finished=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                tiers=tiers, selftest_cases=tally.selftest_cases)
    path.write_text(json.dumps(data, indent=2) + "\n")


def main(argv):
    # `tools/check.py TIER...` runs only those tiers (a developer's loop);
    # `make check` runs them all. A partial run never writes the summary
    # that `make readme` reads.
    known = [name for name, _ in TIERS]
    unknown = [name for name in argv if name not in known]
    if unknown or any(a.startswith("-") for a in argv):
        say(f"usage: tools/check.py [TIER...]; tiers: {' '.join(known)}")
        return 2
    tally = Tally()
    started = time.monotonic()
    tiers = {}
    for name, function in TIERS:
        if argv and name not in argv:
            continue
        tiers[name] = run_tier(tally, name, function)
    seconds = time.monotonic() - started
    say(f"== done in {seconds:.0f}s")
    if argv:
        say(f"   partial run: {' '.join(argv)} only")
    else:
        write_summary(tally, tiers, seconds)
    for failure in tally.failures:
        say(f"   failed: {failure}")
    summary = f"{tally.passed} passed, {tally.failed} failed"
    if tally.skipped:
        summary += f", {tally.skipped} skipped"
    say(summary)
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
