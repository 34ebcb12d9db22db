#!/usr/bin/env python3
"""make check: every test tier, one summary line.

Tiers, in order:
  style    clang-format (no diff) and clang-tidy (no warning) over the tree
  host     GoogleTest suites of the portable code (ASan + UBSan), via ctest
  runner   the QEMU runner's own tests (it must fail on failing, panicking,
           hanging and truncated runs)
  boot     QEMU boots of build/tessera.iso: selftests (KTAP) under SeaBIOS
           and OVMF with -smp 2; a boot matrix (1 and 2 CPUs, 64 MiB and
           8 GiB, both firmwares); refused boots (too little memory, a bad
           configuration value); and negative controls that inject a failing
           case, a CPU exception and a hang into a real kernel and require
           the runner to reject each.

Counting: each ctest test, each runner unittest, each KTAP case of a boot,
and each boot's own verdict is one test. The last line is
`N passed, N failed, N skipped`; the exit status is 1 if anything failed.
"""
import concurrent.futures
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools" / "runner"))
import qemu_run  # noqa: E402

BUILD = ROOT / "build"
ISO = BUILD / "tessera.iso"
LOGS = BUILD / "check"


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []

    def add(self, passed, failed, skipped=0, failure=None):
        self.passed += passed
        self.failed += failed
        self.skipped += skipped
        if failure:
            self.failures.append(failure)


def say(message):
    print(message, flush=True)


def run_style(tally):
    say("== style: clang-format and clang-tidy")
    files = subprocess.run(["git", "ls-files", "*.cpp", "*.h"], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                           check=False).stdout.split()
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
    jobs = str(os.cpu_count() or 2)
    steps = [
        ["cmake", "-S", str(ROOT / "test" / "host"), "-B", str(BUILD / "host"), "-DCMAKE_BUILD_TYPE=Debug"],
        ["cmake", "--build", str(BUILD / "host"), "-j", jobs],
    ]
    for step in steps:
        result = subprocess.run(step, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            say(result.stdout[-6000:])
            tally.add(0, 1, failure=f"host: {' '.join(step[:2])} failed")
            return
    result = subprocess.run(["ctest", "--test-dir", str(BUILD / "host"), "-j", jobs, "--output-on-failure"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = result.stdout
    match = re.search(r"(\d+)% tests passed, (\d+) tests failed out of (\d+)", output)
    if not match:
        say(output[-6000:])
        tally.add(0, 1, failure="host: no ctest summary")
        return
    failed, total = int(match.group(2)), int(match.group(3))
    if failed:
        say(output[-8000:])
    say(f"   host: {total - failed} passed, {failed} failed")
    tally.add(total - failed, failed, failure="host: ctest failures" if failed else None)


def run_runner_tests(tally):
    say("== runner: tools/runner tests (fake QEMU)")
    result = subprocess.run([sys.executable, "-m", "unittest", "discover", "-s", "tools/runner/tests",
                             "-t", "tools/runner"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    output = result.stdout
    ran = re.search(r"^Ran (\d+) tests?", output, re.M)
    if not ran:
        say(output[-4000:])
        tally.add(0, 1, failure="runner: no unittest summary")
        return
    total = int(ran.group(1))
    bad = 0
    verdict = re.search(r"^FAILED \((.*)\)", output, re.M)
    if verdict:
        for key, value in re.findall(r"(failures|errors)=(\d+)", verdict.group(1)):
            bad += int(value)
        say(output[-6000:])
    skipped = re.search(r"skipped=(\d+)", output)
    skip = int(skipped.group(1)) if skipped else 0
    if result.returncode != 0 and bad == 0:
        bad = 1
    say(f"   runner: {total - bad - skip} passed, {bad} failed")
    tally.add(total - bad - skip, bad, skip, failure="runner: unittest failures" if bad else None)


def scenario(name, firmware="bios", smp=2, memory="256M", config=None, expect="ktap", success_line=None,
             expect_lines=(), expect_exit=33, timeout=180, silence=45, expect_failure=None, extra=()):
    """expect_failure: a regex the runner's FAIL reason must match (a negative control)."""
    return dict(name=name, firmware=firmware, smp=smp, memory=memory, config=config, expect=expect,
                success_line=success_line, expect_lines=list(expect_lines), expect_exit=expect_exit,
                timeout=timeout, silence=silence, expect_failure=expect_failure, extra=list(extra))


def scenarios():
    selftest = "tessera.mode=selftest"
    ready = "tessera.mode=ready"
    out = [
        scenario("selftest-seabios-smp2", "bios", config=selftest, success_line=r"^TESSERA: SELFTESTS PASSED$",
                 expect_lines=[r"^    # 2 CPUs online$"]),
        scenario("selftest-ovmf-smp2", "uefi", config=selftest, success_line=r"^TESSERA: SELFTESTS PASSED$",
                 expect_lines=[r"^    # 2 CPUs online$"]),
        # QEMU's default CPU has no SMEP/SMAP; "max" has both, so the paging
        # suite checks that they are switched on.
        scenario("selftest-seabios-cpu-max", "bios", config=selftest, success_line=r"^TESSERA: SELFTESTS PASSED$",
                 expect_lines=[r"smep=1 smap=1"], extra=["-cpu", "max"]),
    ]
    for firmware in ("bios", "uefi"):
        for smp in (1, 2):
            for memory in ("64M", "8G"):
                label = "seabios" if firmware == "bios" else "ovmf"
                out.append(scenario(f"boot-{label}-smp{smp}-{memory}", firmware, smp, memory, ready, "none",
                                    r"^TESSERA READY tsc=\d+ tsc_hz=\d+$",
                                    [rf"cpus: {smp} online$", r"memory: \d+ MiB usable"], timeout=120))
    out += [
        scenario("refuse-too-little-memory", "bios", 1, "32M", ready, "none",
                 r"^TESSERA: BOOT REFUSED: Tessera needs at least \d+ MiB of RAM", expect_exit=39, timeout=60),
        scenario("refuse-bad-config-value", "bios", 1, "128M", "tessera.mode=ready tessera.node=70000", "none",
                 r"^TESSERA: BOOT REFUSED: configuration: tessera\.node: .*fw_cfg", expect_exit=39, timeout=60),
        scenario("refuse-unknown-config-key", "bios", 1, "128M", "tessera.colour=blue", "none",
                 r"^TESSERA: BOOT REFUSED: configuration: tessera\.colour:", expect_exit=39, timeout=60),
        # Negative controls: a real kernel misbehaves on purpose; the run must fail.
        scenario("control-failing-case", "bios", 1, "128M",
                 "tessera.mode=selftest tessera.selftest=selftest_harness tessera.inject=fail",
                 success_line=r"^TESSERA: SELFTESTS PASSED$", expect_failure=r"not ok"),
        scenario("control-cpu-exception", "bios", 1, "128M",
                 "tessera.mode=selftest tessera.selftest=selftest_harness tessera.inject=fault",
                 success_line=r"^TESSERA: SELFTESTS PASSED$", expect_failure=r"EXCEPTION|PANIC"),
        scenario("control-stack-overflow", "bios", 1, "128M",
                 "tessera.mode=selftest tessera.selftest=selftest_harness tessera.inject=overflow",
                 success_line=r"^TESSERA: SELFTESTS PASSED$", expect_failure=r"EXCEPTION: double fault"),
        scenario("control-hang", "bios", 1, "128M",
                 "tessera.mode=selftest tessera.selftest=selftest_harness tessera.inject=hang",
                 success_line=r"^TESSERA: SELFTESTS PASSED$", silence=8, expect_failure=r"^silence"),
    ]
    return out


def run_scenario(spec):
    LOGS.mkdir(parents=True, exist_ok=True)
    options = qemu_run.RunOptions(
        iso=str(ISO), firmware=spec["firmware"], smp=spec["smp"], memory=spec["memory"], config=spec["config"],
        expect=spec["expect"], success_line=spec["success_line"], expect_lines=spec["expect_lines"],
        expect_exit=spec["expect_exit"], timeout=spec["timeout"], silence_timeout=spec["silence"],
        log=str(LOGS / f"{spec['name']}.log"), name=spec["name"], extra=spec["extra"])
    started = time.monotonic()
    try:
        result = qemu_run.run(options)
    except Exception as error:  # a runner crash is a failed test, not a crashed suite
        return spec, None, f"runner error: {error}", time.monotonic() - started
    return spec, result, None, time.monotonic() - started


def run_boots(tally):
    if not ISO.is_file():
        say(f"== boot: {ISO} is missing (run make)")
        tally.add(0, 1, failure="boot: no ISO")
        return
    specs = scenarios()
    say(f"== boot: {len(specs)} QEMU runs of {ISO.relative_to(ROOT)}, {os.cpu_count() or 2} at a time "
        f"(logs in {LOGS.relative_to(ROOT)}/)")
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for spec, result, error, seconds in pool.map(run_scenario, specs):
            name = spec["name"]
            if error:
                say(f"   FAIL {name}: {error}")
                tally.add(0, 1, failure=f"{name}: {error}")
                continue
            cases_passed, cases_total, cases_skipped = result.case_counts()
            if spec["expect_failure"]:
                ok = (not result.passed) and re.search(spec["expect_failure"], result.reason or "") is not None
                detail = f"runner rejected it: {result.reason}" if ok else \
                    f"expected a FAIL matching /{spec['expect_failure']}/, got {result.verdict} ({result.reason})"
                say(f"   {'PASS' if ok else 'FAIL'} {name} ({seconds:.1f}s): {detail}")
                tally.add(1 if ok else 0, 0 if ok else 1, failure=None if ok else f"{name}: {detail}")
                continue
            # Each KTAP case counts, and so does the boot's own verdict.
            cases_failed = cases_total - cases_passed
            tally.add(cases_passed, cases_failed, cases_skipped)
            if result.passed:
                extra = f", {cases_passed}/{cases_total} cases" if cases_total else ""
                say(f"   PASS {name} ({seconds:.1f}s{extra})")
                tally.add(1, 0)
            else:
                say(f"   FAIL {name} ({seconds:.1f}s): {result.reason}; log {LOGS.relative_to(ROOT)}/{name}.log")
                tally.add(0, 1, failure=f"{name}: {result.reason}")


def main():
    tally = Tally()
    started = time.monotonic()
    run_style(tally)
    run_host(tally)
    run_runner_tests(tally)
    run_boots(tally)
    say(f"== done in {time.monotonic() - started:.0f}s")
    for failure in tally.failures:
        say(f"   failed: {failure}")
    summary = f"{tally.passed} passed, {tally.failed} failed"
    if tally.skipped:
        summary += f", {tally.skipped} skipped"
    say(summary)
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
