"""Boots a cluster: one QEMU per node of a description, joined by the
switch (switch.py), consoles prefixed with the node's name, judged by
timeouts, fail lines and QEMU exits (tools/cluster/README.md).

The QEMU command of a Tessera node is the runner's (tools/runner/
qemu_run.build_command: same ISO, fw_cfg configuration, accelerator
choice), with the monitor on a unix socket and one virtio-net NIC.
Every QEMU runs in its own process group; the launcher kills each group
it started on every way out (return, exception, SIGINT/SIGTERM/SIGHUP,
atexit), and ends processes only by the ids it holds.
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import re
import select
import selectors
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tools" / "runner"))
import qemu_run  # noqa: E402

import description as desc  # noqa: E402
import switch as sw  # noqa: E402

TESSERA_UP = r"^TESSERA: SERVING node=\d+$"
LINUX_UP = r"^PEER: READY$"
# kernel/platform/exit.h: ExitCode::Success (0x10) through isa-debug-exit.
TESSERA_SUCCESS_EXIT = 33
LINUX_EXIT = re.compile(r"^PEER: EXIT (-?\d+)$")
# A Linux guest's own panic banner, beside the runner's Tessera ones.
LINUX_FAIL_LINES = (r"Kernel panic - not syncing",)
LINUX_PEER_DIR = ROOT / "build" / "linux-peer"
KILL_GRACE = 1.0
FAIL_GRACE = 1.0  # output still read after a node failed


class LaunchError(Exception):
    """The cluster cannot be started as asked (exit status 2)."""


@dataclasses.dataclass
class Options:
    cluster: desc.Cluster
    iso: str = str(ROOT / "build" / "tessera.iso")
    linux_kernel: str = str(LINUX_PEER_DIR / "vmlinuz")
    linux_initrd: str = str(LINUX_PEER_DIR / "initramfs.cpio.gz")
    qemu: Optional[str] = None            # replaces qemu-system-x86_64 (tests)
    pcap: Optional[str] = None
    log_dir: Optional[str] = None         # per-node raw console logs
    # After every node is up: actions in order, then expects, then hold.
    actions: List[str] = dataclasses.field(default_factory=list)
    expects: List[str] = dataclasses.field(default_factory=list)   # "NODE:REGEX"
    hold: Optional[float] = None          # keep running this long, then stop (PASS)
    until_up: bool = False                # stop (PASS) as soon as every node is up
    quiet: bool = False                   # no console lines on stdout
    out: Callable[[str], None] = lambda line: print(line, flush=True)
    info: Callable[[str], None] = lambda msg: print(f"cluster: {msg}", file=sys.stderr, flush=True)


class NodeRun:
    """One node's QEMU and what the launcher knows about it."""

    def __init__(self, node: desc.Node, workdir: str):
        self.node = node
        self.name = node.name
        self.vm_socket = os.path.join(workdir, f"{node.name}.vm")
        self.switch_socket = os.path.join(workdir, f"{node.name}.sw")
        self.monitor_socket = os.path.join(workdir, f"{node.name}.mon")
        self.proc: Optional[subprocess.Popen] = None
        self.started = 0.0
        self.last_output = 0.0
        self.partial = b""
        self.lines: List[str] = []
        self.up_at: Optional[float] = None
        self.up_count = 0
        self.state = "booting"     # booting, up, paused, killed, done, failed, exited
        self.failure: Optional[str] = None
        self.fail_line: Optional[str] = None
        self.peer_exit: Optional[int] = None
        self.log = None
        self.stream_port = 0
        self.stopped_by_us = False

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None


class Cluster:
    def __init__(self, options: Options):
        self.options = options
        self.cluster = options.cluster
        self.workdir = tempfile.mkdtemp(prefix="tessera-cluster-")
        self.runs: Dict[str, NodeRun] = {n.name: NodeRun(n, self.workdir) for n in self.cluster.nodes}
        self.switch = sw.Switch(mtu=self.cluster.segment.mtu, seed=self.cluster.segment.seed,
                                pcap=sw.PcapWriter(options.pcap) if options.pcap else None)
        self.switch_thread: Optional[sw.SwitchThread] = None
        self.selector = selectors.DefaultSelector()
        self.started = time.monotonic()
        self.accel = "tcg"
        self.closed = False
        fail = list(qemu_run.DEFAULT_FAIL_LINES) + list(LINUX_FAIL_LINES)
        self.fail_res = [re.compile(rx) for rx in fail]

    # --- starting -------------------------------------------------------------

    def _check_files(self) -> None:
        kinds = {n.kind for n in self.cluster.nodes}
        if "tessera" in kinds and not os.path.isfile(self.options.iso):
            raise LaunchError(f"ISO not found: {self.options.iso} (run `make` first?)")
        if "linux" in kinds:
            for path in (self.options.linux_kernel, self.options.linux_initrd):
                if not os.path.isfile(path):
                    raise LaunchError(f"Linux peer file not found: {path} (built by tools/linux-peer/)")
        program = shlex.split(self.options.qemu)[0] if self.options.qemu else qemu_run.DEFAULT_QEMU
        if shutil.which(program) is None:
            raise LaunchError(f"QEMU program not found: {program}")

    def _netdev(self, run: NodeRun) -> List[str]:
        node = run.node
        if node.link.transport == "stream":
            netdev = (f"stream,id=net0,server=off,addr.type=inet,addr.host=127.0.0.1,"
                      f"addr.port={run.stream_port}")
        else:
            netdev = (f"dgram,id=net0,local.type=unix,local.path={run.vm_socket},"
                      f"remote.type=unix,remote.path={run.switch_socket}")
        device = f"virtio-net-pci,netdev=net0,mac={node.mac},romfile="
        if self.cluster.segment.mtu != 1500:
            device += f",host_mtu={self.cluster.segment.mtu}"
        return ["-netdev", netdev, "-device", device]

    def tessera_config(self, node: desc.Node) -> str:
        words = [f"tessera.node={node.node_id}", f"tessera.ip={node.ip}/24",
                 f"tessera.roles={','.join(node.roles)}", "tessera.mode=ready"]
        grm = [n for n in self.cluster.nodes if "grm" in n.roles]
        if grm:
            words.append(f"tessera.grm={grm[0].ip}")
        # node.excache is not passed yet: the kernel refuses unknown keys and
        # has no tessera.excache until the processor monitor adds it.
        # The node's own keys last: a later word overrides (tessera.mode).
        words = [w for w in words if w.split("=")[0] not in node.config]
        words += [f"{k}={v}" for k, v in node.config.items()]
        return " ".join(words)

    def command(self, run: NodeRun) -> List[str]:
        node = run.node
        monitor = ["-monitor", f"unix:{run.monitor_socket},server=on,wait=off", "-name", node.name]
        if node.kind == "tessera":
            options = qemu_run.RunOptions(iso=self.options.iso, firmware=self.cluster.firmware, smp=node.cpus,
                                          memory=node.memory, config=self.tessera_config(node),
                                          qemu=self.options.qemu)
            cmd = qemu_run.build_command(options, self.accel)
            i = cmd.index("-monitor")
            cmd[i:i + 2] = monitor
            # The runner's `-nic none` stays: it drops QEMU's default NIC only.
            return cmd + self._netdev(run)
        program = shlex.split(self.options.qemu) if self.options.qemu else [qemu_run.DEFAULT_QEMU]
        append = f"console=ttyS0 peer.ip={node.ip}/24 peer.mtu={self.cluster.segment.mtu}"
        if node.run:
            append += " peer.run=" + node.run.replace(" ", "%20")
        return program + ["-no-reboot", "-nographic", "-serial", "stdio", *monitor, "-nic", "none",
                          "-kernel", self.options.linux_kernel, "-initrd", self.options.linux_initrd,
                          "-append", append, "-smp", str(node.cpus), "-m", node.memory,
                          "-accel", self.accel] + self._netdev(run)

    def start(self) -> None:
        self._check_files()
        self.accel, why = qemu_run.choose_accel()
        self.options.info(f"accel {self.accel} ({why})")
        for run in self.runs.values():
            i = run.node.link.impairment
            if run.node.link.transport == "stream":
                port = sw.StreamPort(run.name, run.node.link.port, loss=i.loss, delay_ms=i.delay_ms)
                run.stream_port = port.port
            else:
                port = sw.DgramPort(run.name, run.switch_socket, run.vm_socket, loss=i.loss, delay_ms=i.delay_ms)
            self.switch.add_port(port)
        self.switch.set_partitions(self.cluster.segment.partitions)
        self.switch_thread = sw.SwitchThread(self.switch)
        self.switch_thread.start()
        if self.options.log_dir:
            os.makedirs(self.options.log_dir, exist_ok=True)
        for run in self.runs.values():
            cmd = self.command(run)
            self.options.info(f"{run.name}: " + shlex.join(cmd))
            if self.options.log_dir:
                run.log = open(os.path.join(self.options.log_dir, f"{run.name}.log"), "wb")
            try:
                run.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as e:
                raise LaunchError(f"{run.name}: cannot start {cmd[0]}: {e.strerror}") from None
            run.started = run.last_output = time.monotonic()
            os.set_blocking(run.proc.stdout.fileno(), False)
            self.selector.register(run.proc.stdout, selectors.EVENT_READ, run)
            kind = "stream 127.0.0.1:%d" % run.stream_port if run.stream_port else "dgram"
            self.options.info(f"{run.name}: pid {run.pid}, {run.node.kind} {run.node.ip} {kind}")

    # --- console --------------------------------------------------------------

    def _read(self, run: NodeRun, now: float) -> None:
        try:
            data = os.read(run.proc.stdout.fileno(), 65536)
        except BlockingIOError:
            return
        if not data:
            self.selector.unregister(run.proc.stdout)
            if run.partial:
                self._line(run, run.partial, now)
                run.partial = b""
            return
        if run.log:
            run.log.write(data)
            run.log.flush()
        run.last_output = now
        run.partial += data
        while b"\n" in run.partial:
            line, run.partial = run.partial.split(b"\n", 1)
            self._line(run, line, now)
        if len(run.partial) > qemu_run.MAX_LINE_BYTES:
            self._line(run, run.partial, now)
            run.partial = b""

    def _line(self, run: NodeRun, raw: bytes, now: float) -> None:
        text = raw.rstrip(b"\r").decode("utf-8", errors="replace")
        line = qemu_run.clean_line(text)
        run.lines.append(line)
        if not self.options.quiet and line:
            self.options.out(f"[{run.name}] {line}")
        bare = qemu_run._CONTROL_RE.sub("", qemu_run._ANSI_RE.sub("", text))
        parts = [p.rstrip() for p in bare.split("\r") if p.strip()] or [line]
        up_re = TESSERA_UP if run.node.kind == "tessera" else LINUX_UP
        for part in parts:
            if run.fail_line is None and any(rx.search(part) for rx in self.fail_res):
                run.fail_line = part
                self._fail(run, f"fail line: {part}")
            if re.search(up_re, part):
                run.up_count += 1
                if run.up_count == 1 and run.state == "booting":
                    run.up_at = now
                    run.state = "up"
                    self._progress(f"{run.name} up after {now - run.started:.1f}s")
                elif run.up_count > 1:
                    self._fail(run, f"up line printed {run.up_count} times (did it reboot?)")
            exit_match = LINUX_EXIT.match(part)
            if exit_match and run.node.kind == "linux":
                run.peer_exit = int(exit_match.group(1))
                # Judged at the line, not at QEMU's exit: an --expect on
                # this very line must not end the run as a PASS first.
                if run.peer_exit != 0:
                    self._fail(run, f"PEER: EXIT {run.peer_exit}")

    def _fail(self, run: NodeRun, reason: str) -> None:
        if run.failure is None:
            run.failure = reason
            run.state = "failed"
            self.options.info(f"{run.name}: FAILED: {reason}")

    def _progress(self, event: str) -> None:
        up = [r.name for r in self.runs.values() if r.state in ("up", "paused")]
        waiting = [r.name for r in self.runs.values() if r.state == "booting"]
        text = f"{event}; up {len(up)}/{len(self.runs)}"
        if waiting:
            text += f", waiting for {', '.join(waiting)}"
        self.options.info(text)

    # --- the event loop -------------------------------------------------------

    def _reap(self, now: float) -> None:
        for run in self.runs.values():
            if run.proc is None or run.proc.returncode is not None:
                continue
            code = run.proc.poll()
            if code is None:
                continue
            # Read what is left before judging the exit (a child still
            # holding the pipe may keep it open: at most a second).
            end = time.monotonic() + 1.0
            while self._registered(run) and time.monotonic() < end:
                ready, _, _ = select.select([run.proc.stdout], [], [], 0.1)
                if ready:
                    self._read(run, time.monotonic())
            if run.stopped_by_us:
                run.state = "killed"
                continue
            if run.node.kind == "linux" and run.peer_exit is not None:
                if run.peer_exit == 0:
                    run.state = "done"
                    self._progress(f"{run.name} ran its command (PEER: EXIT 0)")
                else:
                    self._fail(run, f"PEER: EXIT {run.peer_exit}")
                continue
            if run.node.kind == "tessera" and run.node.ends and code == TESSERA_SUCCESS_EXIT:
                # A node declared to run to an end (an rping client) reports
                # success through isa-debug-exit; any other exit fails.
                run.state = "done"
                self._progress(f"{run.name} ended with success (exit code {code})")
                continue
            what = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
            self._fail(run, f"QEMU exited unexpectedly ({what})" +
                       (f": {run.lines[-1]}" if run.lines else ""))

    def _registered(self, run: NodeRun) -> bool:
        try:
            self.selector.get_key(run.proc.stdout)
            return True
        except (KeyError, ValueError):
            return False

    def _failures(self) -> List[str]:
        return [f"{r.name}: {r.failure}" for r in self.runs.values() if r.failure]

    def _timeouts(self, now: float, phase: str) -> Optional[str]:
        t = self.cluster.timeouts
        if t.total and now - self.started >= t.total:
            return f"timeout: total {t.total:g}s passed ({phase})"
        if phase == "boot":
            if now - self.started >= t.boot:
                waiting = [r.name for r in self.runs.values() if r.up_at is None]
                return f"timeout: {', '.join(waiting)} not up after {t.boot:g}s"
            for r in self.runs.values():
                if r.up_at is None and r.state == "booting" and now - r.last_output >= t.silence:
                    return f"silence: {r.name} printed nothing for {t.silence:g}s before it was up"
        return None

    def pump(self, until: Callable[[], bool], phase: str, deadline: Optional[float] = None) -> Optional[str]:
        """Reads consoles until `until()` holds (None), a node fails or a
        timeout fires (the reason), or `deadline` passes (None)."""
        grace_end = None
        while True:
            now = time.monotonic()
            self._reap(now)
            failures = self._failures()
            if failures:
                # Keep reading a moment: the backtrace follows the banner.
                if grace_end is None:
                    grace_end = now + FAIL_GRACE
                if now >= grace_end:
                    return failures[0]
                for key, _ in self.selector.select(max(0.0, min(0.1, grace_end - now))):
                    self._read(key.data, time.monotonic())
                continue
            if until():
                return None
            timeout = self._timeouts(now, phase)
            if timeout:
                return timeout
            if deadline is not None and now >= deadline:
                return None
            if not self.selector.get_map():
                time.sleep(0.1)
                continue
            for key, _ in self.selector.select(0.1):
                self._read(key.data, time.monotonic())

    def all_up(self) -> bool:
        return all(r.up_at is not None or r.state in ("done",) for r in self.runs.values())

    # --- control: kill, pause, partition, loss --------------------------------

    def monitor(self, name: str, command: str) -> str:
        run = self.runs[name]
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(run.monitor_socket)
            reply = b""
            s.sendall(command.encode() + b"\n")
            end = time.monotonic() + 2
            # HMP echoes the command and prints a new prompt when done.
            while time.monotonic() < end and reply.count(b"(qemu)") < 2:
                try:
                    chunk = s.recv(4096)
                except socket.timeout:
                    break
                if not chunk:
                    break
                reply += chunk
        return reply.decode("utf-8", "replace")

    def kill_node(self, name: str) -> None:
        run = self.runs[name]
        run.stopped_by_us = True
        run.state = "killed"
        _kill_group(run.proc)
        self._progress(f"{name} killed (pid {run.pid})")

    def action(self, text: str) -> Optional[str]:
        """Runs one action; returns a failure reason or None. Actions:
        kill:N  pause:N  cont:N  cut:N  join:N  sleep:S  partition:a,b|c
        heal  loss:N=P  delay:N=MS  expect:N:REGEX."""
        verb, _, arg = text.partition(":")
        self.options.info(f"action {text}")
        try:
            if verb in ("kill", "pause", "cont", "cut", "join"):
                if arg not in self.runs:
                    return f"action {text}: no node {arg!r}"
                if verb == "kill":
                    self.kill_node(arg)
                elif verb == "pause":
                    self.monitor(arg, "stop")
                    self.runs[arg].state = "paused"
                elif verb == "cont":
                    self.monitor(arg, "cont")
                    self.runs[arg].state = "up" if self.runs[arg].up_at else "booting"
                else:
                    self.switch.set_cut(arg, verb == "cut")
            elif verb == "sleep":
                return self.pump(lambda: False, "run", time.monotonic() + float(arg))
            elif verb == "partition":
                self.switch.set_partitions([g.split(",") for g in arg.split("|")])
            elif verb == "heal":
                self.switch.set_partitions([])
            elif verb in ("loss", "delay"):
                name, _, value = arg.partition("=")
                if verb == "loss":
                    self.switch.set_impairment(name, loss=float(value))
                else:
                    self.switch.set_impairment(name, delay_ms=float(value))
            elif verb == "expect":
                return self.expect(arg)
            else:
                return f"action {text}: unknown (kill, pause, cont, cut, join, sleep, partition, heal, loss, " \
                       f"delay, expect)"
        except (KeyError, ValueError, OSError) as e:
            return f"action {text}: {e}"
        return None

    def expect(self, spec: str) -> Optional[str]:
        name, _, pattern = spec.partition(":")
        if name not in self.runs:
            return f"expect {spec}: no node {name!r}"
        run = self.runs[name]
        rx = re.compile(pattern)
        start = 0

        def seen():
            return any(rx.search(line) for line in run.lines[start:])
        problem = self.pump(seen, "expect")
        if problem is None and not seen():
            problem = f"expect: /{pattern}/ not seen on {name}"
        if problem is None:
            self.options.info(f"{name}: saw /{pattern}/")
        return problem

    # --- the run --------------------------------------------------------------

    def run(self) -> int:
        """Boots, runs actions, expects and hold; returns the exit status."""
        o = self.options
        self.start()
        problem = self.pump(self.all_up, "boot")
        if problem is None:
            self.options.info(f"all {len(self.runs)} nodes up after {time.monotonic() - self.started:.1f}s")
        for action in o.actions:
            if problem:
                break
            problem = self.action(action)
        for spec in o.expects:
            if problem:
                break
            problem = self.expect(spec)
        if problem is None and not o.until_up:
            if o.hold is not None:
                problem = self.pump(lambda: False, "run", time.monotonic() + o.hold)
            elif not o.actions and not o.expects:
                self.options.info("serving; Ctrl-C stops the cluster")
                live = lambda: all(r.proc.returncode is not None for r in self.runs.values())  # noqa: E731
                problem = self.pump(live, "run")
        self.options.info("switch: " + self.switch.summary())
        states = " ".join(f"{r.name}={r.state}" for r in self.runs.values())
        if problem:
            o.out(f"CLUSTER {self.cluster.name}: FAIL ({problem}) {states}")
            return 1
        o.out(f"CLUSTER {self.cluster.name}: PASS {states}")
        return 0

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for run in self.runs.values():
            if run.proc is not None:
                _kill_group(run.proc)
                if run.proc.stdout:
                    run.proc.stdout.close()
            if run.log:
                run.log.close()
        if self.switch_thread is not None:
            self.switch_thread.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _kill_group(proc: Optional[subprocess.Popen]) -> None:
    """Ends one QEMU and everything in its process group (by its id)."""
    if proc is None or proc.returncode is not None and not _group_alive(proc.pid):
        return
    for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        if sig == signal.SIGTERM:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            break
    if proc.returncode is None:
        proc.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def launch(options: Options) -> int:
    """Runs a cluster to its end with every exit path cleaned up."""
    cluster = Cluster(options)
    atexit.register(cluster.close)
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return cluster.run()
    except KeyboardInterrupt:
        options.out(f"CLUSTER {options.cluster.name}: FAIL (interrupted)")
        return 130
    finally:
        # Signals during cleanup must not cut it short.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        try:
            cluster.close()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            atexit.unregister(cluster.close)
