"""Boots Linux peer guests (build/linux-peer/) in QEMU and watches them.

A peer is one QEMU with Debian's kernel, the peer initramfs and one
virtio-net NIC on a `-netdev dgram` unix-socket cable (the network rule:
unix sockets only, never tap or bridge). Two peers whose local and remote
socket paths are crossed are a private two-host segment.

    from peer_vm import Peer, run_peers
    a = Peer("a", "192.0.2.1/24", run="rping -s", local=s1, remote=s2)
    b = Peer("b", "192.0.2.2/24", run="rping -c -a 192.0.2.1", local=s2, remote=s1)
    results = run_peers([a, b], timeout=60, silence=30)
    results[0].status   # N of `PEER: EXIT N`, or None
    results[0].reason   # "" when it powered off after its EXIT line

Every QEMU runs in its own process group and is killed with it on a total
or silence timeout (and on any exception), like tools/runner's runs.
Python 3 standard library only.
"""

from __future__ import annotations

import dataclasses
import os
import re
import selectors
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional, Tuple

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "build" / "linux-peer"
KERNEL = OUT / "vmlinuz"
INITRD = OUT / "initramfs.cpio.gz"
sys.path.insert(0, str(REPO / "tools" / "runner"))
import qemu_run  # noqa: E402  (choose_accel: KVM when usable, else TCG)

EXIT_RE = re.compile(r"PEER: EXIT (-?\d+)\s*$")
READY_RE = re.compile(r"PEER: READY\s*$")


def encode_run(command: str) -> str:
    """peer.run's encoding: the kernel splits its command line at spaces."""
    return command.replace("%", "%25").replace(" ", "%20")


@dataclasses.dataclass
class Peer:
    name: str
    ip: str                      # A.B.C.D/24
    run: Optional[str] = None    # None: serve (PEER: READY, then stay up)
    local: str = ""              # this end's unix datagram socket
    remote: str = ""             # the other end's
    mtu: int = 1500
    mac: Optional[str] = None    # default 52:54:00:00:02:<last octet of ip>
    pcap: Optional[str] = None   # record this NIC with filter-dump
    memory: str = "256M"
    smp: int = 1
    quiet: bool = True           # kernel `quiet`: only warnings reach the console
    log: Optional[str] = None

    def command(self, accel: str) -> List[str]:
        address = self.ip.split("/")[0]
        mac = self.mac or "52:54:00:00:02:%02x" % int(address.split(".")[-1])
        append = f"console=ttyS0{' quiet' if self.quiet else ''} peer.ip={self.ip} peer.mtu={self.mtu}"
        if self.run is not None:
            append += f" peer.run={encode_run(self.run)}"
        cmd = [
            qemu_run.DEFAULT_QEMU, "-no-reboot", "-nographic", "-serial", "stdio", "-monitor", "none",
            "-nic", "none", "-accel", accel, "-smp", str(self.smp), "-m", self.memory,
            "-kernel", str(KERNEL), "-initrd", str(INITRD), "-append", append,
            "-netdev", f"dgram,id=n0,local.type=unix,local.path={self.local},"
                       f"remote.type=unix,remote.path={self.remote}",
            "-device", f"virtio-net-pci,netdev=n0,mac={mac},romfile=",
        ]
        if self.pcap:
            cmd += ["-object", f"filter-dump,id=f0,netdev=n0,file={self.pcap}"]
        return cmd


@dataclasses.dataclass
class PeerResult:
    name: str
    lines: List[Tuple[float, str]]
    status: Optional[int]        # from `PEER: EXIT N`
    reason: str                  # "" if the guest printed EXIT and QEMU ended
    ready_at: Optional[float]    # host seconds from QEMU start to PEER: READY
    duration: float
    command: List[str]

    @property
    def passed(self) -> bool:
        """Exited 0, or (a serving peer) was ready and stopped."""
        return not self.reason and (self.status == 0 or (self.status is None and self.ready_at is not None))

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def has(self, pattern: str) -> bool:
        return any(re.search(pattern, line) for _, line in self.lines)


class _Running:
    def __init__(self, peer: Peer, accel: str):
        self.peer = peer
        self.command = peer.command(accel)
        for path in (peer.local,):
            if path and os.path.exists(path):
                os.unlink(path)  # QEMU binds it and fails on a stale file
        self.start = time.monotonic()
        self.proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.buffer = b""
        self.lines: List[Tuple[float, str]] = []
        self.last_output = self.start
        self.status: Optional[int] = None
        self.ready_at: Optional[float] = None
        self.reason = ""
        self.done = False
        self.log = open(peer.log, "wb") if peer.log else None

    def feed(self, data: bytes, now: float) -> None:
        if self.log:
            self.log.write(data)
        self.last_output = now
        self.buffer += data
        while b"\n" in self.buffer:
            raw, self.buffer = self.buffer.split(b"\n", 1)
            self._line(raw, now)

    def _line(self, raw: bytes, now: float) -> None:
        text = qemu_run.clean_line(raw.decode("utf-8", "replace"))
        self.lines.append((now - self.start, text))
        if self.ready_at is None and READY_RE.search(text):
            self.ready_at = now - self.start
        match = EXIT_RE.search(text)
        if match and self.status is None:
            self.status = int(match.group(1))

    def finish(self, now: float, reason: str = "") -> None:
        if self.buffer:
            self._line(self.buffer, now)
            self.buffer = b""
        if reason and not self.reason:
            self.reason = reason
        self.done = True

    def kill(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                break
            try:
                self.proc.wait(timeout=2)
                break
            except subprocess.TimeoutExpired:
                continue
        if self.proc.returncode is None:
            self.proc.wait()
        if self.log:
            self.log.close()
            self.log = None


def run_peers(peers: List[Peer], timeout: float, silence: float) -> List[PeerResult]:
    """Boots all peers at once and returns when every QEMU has ended or been
    stopped: total timeout, silence timeout, or 5 s after its EXIT line
    without powering off. A serving peer (run=None) is stopped once every
    peer with a command has ended; its reason is then "" if it printed
    PEER: READY, and its status None."""
    for path in (KERNEL, INITRD):
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: run tools/linux-peer/build.py")
    accel, _ = qemu_run.choose_accel()
    running = []
    selector = selectors.DefaultSelector()
    try:
        for peer in peers:
            r = _Running(peer, accel)
            running.append(r)
            os.set_blocking(r.proc.stdout.fileno(), False)
            selector.register(r.proc.stdout, selectors.EVENT_READ, r)
        while not all(r.done for r in running if r.peer.run is not None):
            for key, _ in selector.select(timeout=0.2):
                r = key.data
                now = time.monotonic()
                try:
                    data = os.read(key.fileobj.fileno(), 65536)
                except BlockingIOError:
                    continue
                if data:
                    r.feed(data, now)
                else:
                    selector.unregister(key.fileobj)
                    r.proc.wait()
                    r.finish(now, "" if r.status is not None else
                             f"QEMU exited ({r.proc.returncode}) without a PEER: EXIT line")
            now = time.monotonic()
            for r in running:
                if r.done:
                    continue
                if now - r.start > timeout:
                    r.finish(now, f"total timeout ({timeout:.0f} s)")
                elif now - r.last_output > silence:
                    r.finish(now, f"silence timeout ({silence:.0f} s without output)")
                elif r.status is not None and now - r.last_output > 5:
                    r.finish(now, "no power-off within 5 s of PEER: EXIT")
                if r.done:
                    try:
                        selector.unregister(r.proc.stdout)
                    except (KeyError, ValueError):
                        pass
                    r.kill()
        for r in running:
            if not r.done:
                r.finish(time.monotonic(), "" if r.ready_at is not None else "stopped before PEER: READY")
    finally:
        for r in running:
            r.kill()
            r.proc.stdout.close()
        selector.close()
    return [PeerResult(r.peer.name, r.lines, r.status, r.reason, r.ready_at,
                       time.monotonic() - r.start, r.command) for r in running]


def shown_command(command: List[str]) -> str:
    return shlex.join(command)
