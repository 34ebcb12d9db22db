"""Boots an ISO in QEMU and decides, from the serial output and QEMU's exit
status, whether the run passed. It cannot hang and it does not report a
false pass (docs/testing.md).

A run passes only if all of these hold:
  (a) with expect="ktap": the KTAP document on serial has a complete,
      satisfied top-level plan, every nested plan satisfied, no `not ok`
      anywhere and at least one case that ran;
  (b) the success-line regex matched exactly one line;
  (c) every expect-line regex matched at least one line;
  (d) QEMU's exit status equals expect_exit (isa-debug-exit turns a write
      of v to port 0xf4 into status (v << 1) | 1, so 0x10 gives 33).
Anything else, a fail-line match, a total timeout or a silence timeout is
a FAIL with a precise reason.

A boot that must never exit (tessera.mode=ready) is judged with serve_line
and serve_hold instead of (d): the serve line must appear exactly once,
then QEMU must keep running, with no fail line, for serve_hold seconds;
the runner then stops it and the run passes. QEMU exiting by itself at any
time, with any status, fails it ("a serving node exited"). The silence and
total timeouts apply until the serve line; the hold has its own end.
result.serve_cpu is QEMU's CPU use over the hold (1.0 = one core busy).

Timeouts are used as given: nothing is scaled when KVM is missing, so the
caller passes numbers sized for TCG (plain emulation is ~3-10x slower).

Python API (for bench drivers and other tools):

    from qemu_run import RunOptions, run
    result = run(RunOptions(iso="build/tessera.iso", firmware="bios"))
    result.verdict    # "PASS" / "FAIL"
    result.reason     # "" on PASS, else e.g. "exit code 35, expected 33"
    result.exit_code  # QEMU's status; negative: killed by that signal
    result.lines      # [(host seconds since QEMU start, cleaned line)]
    result.ktap       # ktap.ParseResult, or None with expect="none"

run() raises UsageError for problems with the request itself (missing ISO,
missing firmware, QEMU program not found, bad option values).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import selectors
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ktap  # noqa: E402

DEFAULT_QEMU = "qemu-system-x86_64"
DEFAULT_OVMF = "/usr/share/ovmf/OVMF.fd"
DEFAULT_SUCCESS_LINE = r"^TESSERA: SELFTESTS PASSED$"
# Banners are matched anywhere in a line: another CPU's output may be
# spliced in front of them (`ok 3 fooKERNEL PANIC: ...`).
DEFAULT_FAIL_LINES = (r"KERNEL PANIC", r"PANIC:", r"VERIFY\(.*\) failed",
                      r"^EXCEPTION", r"EXCEPTION:",
                      # GRUB could not load the kernel; it would otherwise
                      # sit in its menu until the silence timeout.
                      r"^error: you need to load the kernel first",
                      r"Failed to boot both default and fallback entries")
DEFAULT_EXPECT_EXIT = 33
DEFAULT_TIMEOUT = 120.0
DEFAULT_SILENCE = 30.0
FW_CFG_CONFIG_NAME = "opt/tessera/config"

# After QEMU exits, output still buffered in the pipe is read for this long
# (a child that inherited the pipe must not keep the runner waiting).
DRAIN_SECONDS = 1.0
# Signals sent to the process group on the way out, with a pause between.
KILL_GRACE_SECONDS = 1.0
# A line longer than this without a newline is cut (runaway output).
MAX_LINE_BYTES = 64 * 1024

_ANSI_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"            # CSI: colours, cursor moves, clear
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: window titles
    r"|\x1b[()*+][0-9A-Za-z]"             # character set selection
    r"|\x1b[ -/]*[0-~]"                   # other escapes (ESC 7, ESC c, ...)
    r"|\x1b")                             # a lone ESC
# C0 and C1 controls (tab, newline and carriage return are handled apart)
# and the invisible format characters (zero-width spaces and joiners, bidi
# marks, soft hyphen, byte-order mark): a terminal shows none of them, so a
# `not ok` behind one must not slip past the KTAP parser.
_CONTROL_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")


class UsageError(Exception):
    """The request cannot be run as given (exit status 2 on the CLI)."""


@dataclasses.dataclass
class RunOptions:
    iso: str
    firmware: str = "bios"                       # "bios" (SeaBIOS) or "uefi"
    smp: int = 1
    memory: str = "256M"
    config: Optional[str] = None                 # fw_cfg opt/tessera/config
    expect: str = "ktap"                         # "ktap" or "none"
    success_line: Optional[str] = DEFAULT_SUCCESS_LINE  # None/"": no check
    expect_lines: List[str] = dataclasses.field(default_factory=list)
    fail_lines: List[str] = dataclasses.field(default_factory=list)
    default_fail_lines: bool = True              # also use DEFAULT_FAIL_LINES
    expect_exit: int = DEFAULT_EXPECT_EXIT
    timeout: float = DEFAULT_TIMEOUT
    silence_timeout: float = DEFAULT_SILENCE
    log: Optional[str] = None                    # raw serial output file
    name: Optional[str] = None
    qemu: Optional[str] = None                   # replaces the QEMU program
    extra: List[str] = dataclasses.field(default_factory=list)
    ovmf: str = DEFAULT_OVMF
    env: Optional[dict] = None                   # added to QEMU's environment
    fail_grace: float = 1.0                      # keep reading after a fail line
    # A boot that never exits: after exactly one serve_line match QEMU must
    # run serve_hold more seconds; then the runner stops it (PASS). Any exit
    # of QEMU fails the run, and expect_exit is not used.
    serve_line: Optional[str] = None
    serve_hold: float = 0.0
    on_line: Optional[Callable[[float, str], None]] = None
    on_info: Optional[Callable[[str], None]] = None

    def display_name(self) -> str:
        return self.name or f"{Path(self.iso).stem}-{self.firmware}"


@dataclasses.dataclass
class RunResult:
    name: str
    verdict: str                                 # "PASS" or "FAIL"
    reason: str                                  # "" on PASS
    reasons: List[str]
    exit_code: Optional[int]
    lines: List[Tuple[float, str]]               # cleaned text
    raw_lines: List[str]                         # decoded, escapes kept
    ktap: Optional[ktap.ParseResult]
    command: List[str]
    accel: str
    duration: float
    stderr: str
    # Serve mode: QEMU's CPU time over the hold / the hold's length (1.0 is
    # one core busy all the time); None if the hold did not run to its end.
    serve_cpu: Optional[float] = None

    @property
    def passed(self) -> bool:
        return self.verdict == "PASS"

    def case_counts(self) -> Tuple[int, int, int]:
        """(passed, total, skipped); skipped cases are not in the total."""
        if self.ktap is None:
            return 0, 0, 0
        k = self.ktap
        return k.passed, k.passed + k.failed, k.skipped

    def summary(self) -> str:
        passed, total, skipped = self.case_counts()
        words = [f"RUNNER {self.name}: {self.verdict}"]
        if skipped:
            words.append(f"skipped={skipped}")
        if self.verdict != "PASS":
            words.append(f"({self.reason})")
        if self.serve_cpu is not None:
            words.append(f"serve_cpu={self.serve_cpu * 100:.0f}%")
        words.append(f"cases={passed}/{total}")
        return " ".join(words)

    def first_match(self, pattern: str) -> Optional[Tuple[float, str]]:
        """The first (time, line) whose cleaned text matches `pattern`."""
        rx = re.compile(pattern)
        for t, line in self.lines:
            if rx.search(line):
                return t, line
        return None


def clean_line(text: str) -> str:
    """What a terminal would show of one serial line: escape sequences and
    control characters removed; text overwritten after a carriage return
    replaced by what follows it; trailing blanks dropped."""
    text = _CONTROL_RE.sub("", _ANSI_RE.sub("", text))
    if "\r" in text:
        parts = [p for p in text.split("\r") if p.strip()]
        text = parts[-1] if parts else ""
    return text.rstrip()


def choose_accel(environ=os.environ) -> Tuple[str, str]:
    """Returns (accel, why). KVM only if /dev/kvm opens read-write and the
    CPU advertises vmx or svm; TESSERA_ACCEL=kvm|tcg overrides."""
    forced = environ.get("TESSERA_ACCEL", "").strip()
    if forced:
        if forced not in ("kvm", "tcg"):
            raise UsageError(f"TESSERA_ACCEL={forced!r}: expected kvm or tcg")
        return forced, f"TESSERA_ACCEL={forced}"
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
        os.close(fd)
    except OSError as e:
        return "tcg", f"/dev/kvm not usable ({e.strerror})"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = set()
            for line in f:
                if line.startswith("flags"):
                    flags.update(line.split(":", 1)[1].split())
    except OSError:
        flags = set()
    if "vmx" in flags or "svm" in flags:
        return "kvm", "/dev/kvm usable and CPU has vmx/svm"
    return "tcg", "CPU flags have neither vmx nor svm"


def _fw_cfg_string(text: str) -> str:
    # QEMU option values end at a comma; a literal comma is written ",,".
    return text.replace(",", ",,")


def build_command(options: RunOptions, accel: str) -> List[str]:
    if options.qemu:
        program = shlex.split(options.qemu)
    else:
        program = [DEFAULT_QEMU]
    cmd = program + [
        "-no-reboot", "-nographic", "-serial", "stdio", "-monitor", "none",
        # No default NIC (and its iPXE ROM); network tests add their own.
        "-nic", "none",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        "-cdrom", options.iso,
        "-smp", str(options.smp),
        "-m", options.memory,
        "-boot", "d",
        "-accel", accel,
    ]
    if options.firmware == "uefi":
        cmd += ["-bios", options.ovmf]
    if options.config is not None:
        cmd += ["-fw_cfg",
                f"name={FW_CFG_CONFIG_NAME},string={_fw_cfg_string(options.config)}"]
    cmd += list(options.extra)
    return cmd


def _validate(options: RunOptions) -> None:
    if options.firmware not in ("bios", "uefi"):
        raise UsageError(f"--firmware {options.firmware!r}: expected bios or uefi")
    if options.expect not in ("ktap", "none"):
        raise UsageError(f"--expect {options.expect!r}: expected ktap or none")
    if not os.path.isfile(options.iso):
        raise UsageError(f"ISO not found: {options.iso} (run `make` first?)")
    if options.firmware == "uefi" and not os.path.isfile(options.ovmf):
        raise UsageError(f"UEFI firmware not found: {options.ovmf} "
                         f"(apt-get install ovmf)")
    if options.smp < 1:
        raise UsageError(f"--smp {options.smp}: must be at least 1")
    if not re.fullmatch(r"\d+[KMGT]?", options.memory):
        raise UsageError(f"--memory {options.memory!r}: expected e.g. 256M")
    if options.timeout <= 0 or options.silence_timeout <= 0:
        raise UsageError("timeouts must be positive")
    if options.serve_line and options.serve_hold <= 0:
        raise UsageError("--serve-line needs a positive --serve-hold")
    if options.serve_hold and not options.serve_line:
        raise UsageError("--serve-hold needs --serve-line")
    for rx in ([options.success_line or "", options.serve_line or ""] +
               options.expect_lines + options.fail_lines):
        try:
            re.compile(rx)
        except re.error as e:
            raise UsageError(f"bad regex {rx!r}: {e}") from None
    program = shlex.split(options.qemu)[0] if options.qemu else DEFAULT_QEMU
    if shutil.which(program) is None:
        raise UsageError(f"QEMU program not found: {program}")


def process_cpu_seconds(pid: int) -> Optional[float]:
    """User plus system CPU time of process `pid`, all its threads
    (/proc/PID/stat utime and stime), or None if it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: count fields
    # after its closing one (state is field 3, utime 14, stime 15).
    fields = stat[stat.rfind(")") + 2:].split()
    try:
        ticks = int(fields[11]) + int(fields[12])
    except (IndexError, ValueError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def _kill_group(proc: subprocess.Popen) -> None:
    """Ends QEMU and everything it started (its own process group)."""
    pgid = proc.pid  # start_new_session: the group id is QEMU's pid
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_SECONDS),
                      (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            break  # nothing left in the group
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        if sig == signal.SIGTERM:
            # The leader is gone; children that ignored SIGTERM must not
            # survive it.
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            break
    if proc.returncode is None:
        proc.wait()


class _Reader:
    """Collects serial lines and watches for fail lines as they arrive."""

    def __init__(self, options: RunOptions, start: float, log_file):
        self.options = options
        self.start = start
        self.log_file = log_file
        self.partial = b""
        self.lines: List[Tuple[float, str]] = []
        self.raw_lines: List[str] = []
        # What is judged: escapes removed, each part between carriage
        # returns a line of its own (a terminal would hide all but the
        # last, and a hidden `not ok` or panic must still count).
        self.judged: List[str] = []
        fail = list(options.fail_lines)
        if options.default_fail_lines:
            fail = list(DEFAULT_FAIL_LINES) + fail
        self.fail_res = [re.compile(rx) for rx in fail]
        self.fail_line: Optional[str] = None
        self.serve_re = re.compile(options.serve_line) if options.serve_line else None
        self.serve_count = 0
        self.served_at: Optional[float] = None   # monotonic, first match
        self.hold_started: Optional[float] = None
        self.serve_cpu: Optional[float] = None

    def feed(self, data: bytes, now: float) -> None:
        if self.log_file:
            self.log_file.write(data)
            self.log_file.flush()
        self.partial += data
        while True:
            nl = self.partial.find(b"\n")
            if nl < 0:
                if len(self.partial) > MAX_LINE_BYTES:
                    self._line(self.partial, now)
                    self.partial = b""
                return
            line, self.partial = self.partial[:nl], self.partial[nl + 1:]
            self._line(line, now)

    def finish(self, now: float) -> None:
        if self.partial:
            self._line(self.partial, now)
            self.partial = b""

    def _line(self, raw: bytes, now: float) -> None:
        text = raw.rstrip(b"\r").decode("utf-8", errors="replace")
        clean = clean_line(text)
        t = now - self.start
        self.raw_lines.append(text)
        self.lines.append((t, clean))
        bare = _CONTROL_RE.sub("", _ANSI_RE.sub("", text))
        parts = [part.rstrip() for part in bare.split("\r")]
        self.judged.extend([part for part in parts if part] or [""])
        if self.serve_re is not None:
            hits = sum(1 for part in parts if part and self.serve_re.search(part))
            if hits and self.served_at is None:
                self.served_at = now
            self.serve_count += hits
        if self.options.on_line and (clean or not text):
            self.options.on_line(t, clean)
        if self.fail_line is None:
            # Match the shown text and, in case a carriage return hid part
            # of the line, the whole line without escapes too.
            candidates = {clean, bare.replace("\r", " "), *parts}
            for rx in self.fail_res:
                if any(rx.search(c) for c in candidates):
                    self.fail_line = clean or text
                    break


def run(options: RunOptions) -> RunResult:
    _validate(options)
    accel, why = choose_accel()
    cmd = build_command(options, accel)
    info = options.on_info or (lambda msg: None)
    info(f"accel {accel} ({why})")
    info("command: " + shlex.join(cmd))
    env = dict(os.environ)
    if options.env:
        env.update(options.env)

    log_file = open(options.log, "wb") if options.log else None
    start = time.monotonic()
    reader = _Reader(options, start, log_file)
    stderr_chunks: List[bytes] = []
    event: Optional[str] = None
    try:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env,
                                    start_new_session=True)
        except OSError as e:
            raise UsageError(f"cannot start {cmd[0]}: {e.strerror}") from None
        try:
            event = _pump(proc, options, reader, stderr_chunks, start)
        finally:
            _kill_group(proc)
            for stream in (proc.stdout, proc.stderr):
                stream.close()
    finally:
        if log_file:
            log_file.close()
    duration = time.monotonic() - start
    if options.log:
        _write_times(options.log + ".times", reader.lines)
    return _judge(options, cmd, accel, reader, proc.returncode, event,
                  b"".join(stderr_chunks).decode("utf-8", "replace"), duration)


def _write_times(path: str, lines: List[Tuple[float, str]]) -> None:
    """Host seconds since QEMU started, a tab, the cleaned line: one row
    per serial line, for cross-checks of guest time against host time."""
    with open(path, "w", encoding="utf-8") as f:
        for t, line in lines:
            f.write(f"{t:.6f}\t{line}\n")


def _pump(proc, options: RunOptions, reader: _Reader, stderr_chunks,
          start: float) -> Optional[str]:
    """Reads QEMU's output until it exits, a timeout fires, a fail line
    was seen (plus a short grace for the backtrace) or, in serve mode, the
    hold after the serve line ended ("served"). Returns the event that
    ended the run early, or None."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(proc.stderr, selectors.EVENT_READ, "err")
    open_fds = 2
    last_output = start
    exited_at: Optional[float] = None
    fail_deadline: Optional[float] = None
    hold_end: Optional[float] = None
    cpu_start: Optional[float] = None
    try:
        while True:
            now = time.monotonic()
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if reader.served_at is not None and hold_end is None:
                hold_end = reader.served_at + options.serve_hold
                cpu_start = process_cpu_seconds(proc.pid)
                reader.hold_started = now
            if reader.fail_line is not None and fail_deadline is None:
                fail_deadline = now + options.fail_grace
            if fail_deadline is not None:
                if now >= fail_deadline:
                    return "fail-line"
            elif hold_end is not None:
                # A serving node may be quiet: no silence or total timeout
                # once the serve line is in, only the hold's end.
                if exited_at is None and now >= hold_end:
                    cpu_end = process_cpu_seconds(proc.pid)
                    if cpu_start is not None and cpu_end is not None:
                        reader.serve_cpu = (cpu_end - cpu_start) / \
                            max(now - reader.hold_started, 1e-3)
                    return "served"
            else:
                if now - start >= options.timeout:
                    return "timeout"
                if now - last_output >= options.silence_timeout:
                    return "silence"
            if exited_at is not None and (open_fds == 0 or
                                          now - exited_at >= DRAIN_SECONDS):
                return "fail-line" if reader.fail_line else None
            if fail_deadline is not None:
                wait = min(0.2, max(0.0, fail_deadline - now))
            elif hold_end is not None:
                wait = min(0.2, max(0.0, hold_end - now))
            else:
                wait = min(0.2,
                           max(0.0, options.timeout - (now - start)),
                           max(0.0, options.silence_timeout -
                               (now - last_output)))
            if open_fds == 0:
                time.sleep(wait)
                continue
            for key, _ in sel.select(wait):
                data = os.read(key.fileobj.fileno(), 65536)
                got = time.monotonic()
                if not data:
                    sel.unregister(key.fileobj)
                    open_fds -= 1
                elif key.data == "out":
                    last_output = got
                    reader.feed(data, got)
                else:
                    stderr_chunks.append(data)
    finally:
        sel.close()
        reader.finish(time.monotonic())


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _judge(options: RunOptions, cmd, accel, reader: _Reader, exit_code,
           event, stderr: str, duration: float) -> RunResult:
    reasons: List[str] = []
    texts = reader.judged
    doc = ktap.parse(texts) if options.expect == "ktap" else None
    # Every line counts, also one that arrived as QEMU exited (a partial
    # last line is fed only after the pump loop has returned).
    if reader.fail_line is not None:
        reasons.append(f"fail line: {reader.fail_line}")
    serving = bool(options.serve_line)
    if event == "fail-line":
        pass
    elif event == "timeout":
        reasons.append(f"timeout: still running after {options.timeout:g}s")
    elif event == "silence":
        reasons.append(f"silence: no output for {options.silence_timeout:g}s")
    elif not texts:
        reasons.append("no serial output")
    else:
        if doc is not None:
            reasons += doc.problems()
        if options.success_line:
            rx = re.compile(options.success_line)
            n = sum(1 for t in texts if rx.search(t))
            if n == 0:
                reasons.append("success line missing")
            elif n > 1:
                reasons.append(f"success line printed {n} times")
        for pattern in options.expect_lines:
            rx = re.compile(pattern)
            if not any(rx.search(t) for t in texts):
                reasons.append(f"expected line /{pattern}/ missing")
        if serving:
            reasons += _serve_problems(options, reader, event, exit_code)
    if serving:
        pass  # any exit is a failure, judged above; expect_exit is unused
    elif event in (None, "fail-line") and exit_code is not None and \
            exit_code != options.expect_exit and \
            not (event == "fail-line" and exit_code < 0):
        what = (f"killed by {_signal_name(exit_code)}" if exit_code < 0
                else f"exit code {exit_code}")
        msg = f"{what}, expected {options.expect_exit}"
        err_lines = [l.strip() for l in stderr.splitlines() if l.strip()]
        if err_lines:
            # QEMU's own failures (bad option, missing file) exit 1 like a
            # debug-exit write of 0 would; its stderr tells them apart.
            msg += f" (qemu: {err_lines[0]})"
        reasons.append(msg)
    shown = reasons[:4]
    if len(reasons) > 4:
        shown.append(f"+{len(reasons) - 4} more")
    return RunResult(
        name=options.display_name(),
        verdict="FAIL" if reasons else "PASS",
        reason="; ".join(shown),
        reasons=reasons,
        exit_code=exit_code,
        lines=reader.lines,
        raw_lines=reader.raw_lines,
        ktap=doc,
        command=cmd,
        accel=accel,
        duration=duration,
        stderr=stderr,
        serve_cpu=reader.serve_cpu if event == "served" else None,
    )


def _exit_text(exit_code) -> str:
    if exit_code is None:
        return "status unknown"
    if exit_code < 0:
        return f"killed by {_signal_name(exit_code)}"
    return f"exit code {exit_code}"


def _serve_problems(options: RunOptions, reader: _Reader, event,
                    exit_code) -> List[str]:
    """Serve mode: one serve line, then QEMU still running at the hold's end."""
    problems = []
    if reader.serve_count == 0:
        problems.append("serve line missing")
        if event is None:
            problems.append(f"QEMU exited before the serve line "
                            f"({_exit_text(exit_code)})")
    elif reader.serve_count > 1:
        problems.append(f"serve line printed {reader.serve_count} times")
    if reader.serve_count and event is None:
        # The pump returns None only when QEMU ended by itself.
        problems.append(f"a serving node exited ({_exit_text(exit_code)}) "
                        f"during the {options.serve_hold:g}s hold")
    return problems


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="qemu-run",
        description="Boot an ISO in QEMU and judge the run from serial "
                    "output (KTAP), a unique success line and the "
                    "isa-debug-exit status. Exit status: 0 PASS, 1 FAIL, "
                    "2 usage error.",
        epilog="Timeouts are not scaled without KVM: pass TCG-sized values. "
               "Arguments after `--` are appended to the QEMU command, like "
               "--extra. Environment: TESSERA_ACCEL=kvm|tcg forces the "
               "accelerator.")
    p.add_argument("--iso", required=True, help="ISO image to boot")
    p.add_argument("--firmware", choices=("bios", "uefi"), required=True,
                   help="bios: SeaBIOS; uefi: OVMF (-bios OVMF.fd)")
    p.add_argument("--smp", type=int, default=1, help="CPUs (default 1)")
    p.add_argument("--memory", default="256M", help="RAM (default 256M)")
    p.add_argument("--config", metavar="'k=v k=v'",
                   help="run-time configuration, given to the kernel as "
                        f"fw_cfg file {FW_CFG_CONFIG_NAME}")
    p.add_argument("--expect", choices=("ktap", "none"), default=None,
                   help="require a satisfied KTAP document (default ktap; "
                        "none with --serve-line)")
    p.add_argument("--success-line", metavar="REGEX", default=None,
                   help="must match exactly one line (default "
                        f"{DEFAULT_SUCCESS_LINE}, none with --serve-line; "
                        "'' disables the check)")
    p.add_argument("--serve-line", metavar="REGEX",
                   help="a boot that never exits: this must match exactly "
                        "one line, then QEMU must run --serve-hold seconds "
                        "more without a fail line; the runner then stops "
                        "it (PASS). Any exit of QEMU fails the run")
    p.add_argument("--serve-hold", metavar="SECONDS", type=float, default=0.0,
                   help="how long a serving node must keep running after "
                        "the serve line")
    p.add_argument("--expect-line", metavar="REGEX", action="append",
                   default=[], help="must match at least one line (repeatable)")
    p.add_argument("--fail-line", metavar="REGEX", action="append",
                   default=[], help="stops the run and fails it when a line "
                   "matches (repeatable; added to the defaults "
                   + ", ".join(DEFAULT_FAIL_LINES) + ")")
    p.add_argument("--no-default-fail-lines", action="store_true",
                   help="do not use the default fail lines")
    p.add_argument("--expect-exit", metavar="CODE", type=int,
                   default=DEFAULT_EXPECT_EXIT,
                   help="QEMU exit status required (default 33: "
                        "isa-debug-exit value 0x10)")
    p.add_argument("--timeout", metavar="SECONDS", type=float,
                   default=DEFAULT_TIMEOUT, help="total (default %(default)g)")
    p.add_argument("--silence-timeout", metavar="SECONDS", type=float,
                   default=DEFAULT_SILENCE,
                   help="longest time without output (default %(default)g)")
    p.add_argument("--log", metavar="FILE", help="write raw serial output")
    p.add_argument("--name", help="name in the summary line "
                                  "(default <iso stem>-<firmware>)")
    p.add_argument("--qemu", metavar="PROGRAM",
                   help="program run instead of qemu-system-x86_64, with the "
                        "same arguments (shell-style words allowed)")
    p.add_argument("--ovmf", default=DEFAULT_OVMF, help=argparse.SUPPRESS)
    p.add_argument("--quiet", action="store_true",
                   help="do not echo serial lines or runner notes; the "
                        "summary line is still printed")
    p.add_argument("--extra", metavar="ARG", action="append", default=[],
                   help="extra QEMU arguments, split shell-style "
                        "(repeatable; write --extra=-s for a lone option)")
    return p


def options_from_args(argv: Sequence[str]) -> Tuple[RunOptions, bool]:
    """Parses the command line into (options, quiet)."""
    argv = list(argv)
    trailing: List[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, trailing = argv[:i], argv[i + 1:]
    a = _parser().parse_args(argv)
    serving = bool(a.serve_line)
    expect = a.expect or ("none" if serving else "ktap")
    success_line = a.success_line
    if success_line is None:
        success_line = None if serving else DEFAULT_SUCCESS_LINE
    extra = [w for chunk in a.extra for w in shlex.split(chunk)] + trailing
    return RunOptions(
        iso=a.iso, firmware=a.firmware, smp=a.smp, memory=a.memory,
        config=a.config, expect=expect,
        success_line=success_line or None,
        serve_line=a.serve_line or None, serve_hold=a.serve_hold,
        expect_lines=a.expect_line, fail_lines=a.fail_line,
        default_fail_lines=not a.no_default_fail_lines,
        expect_exit=a.expect_exit, timeout=a.timeout,
        silence_timeout=a.silence_timeout, log=a.log, name=a.name,
        qemu=a.qemu, extra=extra, ovmf=a.ovmf,
    ), a.quiet


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    options, quiet = options_from_args(argv)  # argparse exits 2 itself
    if not quiet:
        options.on_line = lambda t, line: print(line, flush=True)
        options.on_info = lambda msg: print(f"runner: {msg}", file=sys.stderr,
                                            flush=True)
    # A CI job killing the runner must not leave QEMU behind: turn SIGTERM
    # and SIGHUP into KeyboardInterrupt so run() kills the process group.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    try:
        result = run(options)
    except UsageError as e:
        print(f"qemu-run: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"RUNNER {options.display_name()}: FAIL (interrupted)",
              flush=True)
        return 130
    if result.stderr.strip() and (not quiet or not result.passed):
        for line in result.stderr.rstrip().splitlines():
            print(f"qemu: {line}", file=sys.stderr)
    if result.ktap is not None and not result.passed and not quiet:
        for case in result.ktap.cases:
            if case.status == ktap.FAIL:
                for diag in case.diagnostics:
                    print(f"runner: {case.path}: {diag}", file=sys.stderr)
    print(result.summary(), flush=True)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
