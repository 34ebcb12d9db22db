#!/usr/bin/env python3
"""Boot-to-ready benchmark: Tessera against Debian's Linux kernel.

Both guests boot from a GRUB ISO under identical QEMU settings (the
runner's command line with -smp 2 -m 512M, the same fw_cfg config file),
under SeaBIOS and under OVMF, and report when they are ready:

  Tessera (fw_cfg `tessera.mode=boot-bench`):
      TESSERA READY tsc=<cycles since reset> tsc_hz=<Hz>
  Linux (/init = tools/bench/linux_init.c, its first instruction):
      LINUX READY tsc=<cycles since reset> tsc_hz=<Hz>

then both leave QEMU through isa-debug-exit (status 33). Two figures per
firmware, each the median of --runs boots:

  boot_ready_tsc_<fw>   guest TSC at ready / tsc_hz, in ms
  boot_ready_wall_<fw>  host time from QEMU start to the READY line, in ms

printed as `BENCH <name> tessera=<v>ms linux=<v>ms ratio=<t/l>` (tools/bench/README.md) and written to build/bench/boot.json. Progress goes to stderr.

The Linux ISO (build/bench/linux.iso) is built from the newest
/boot/vmlinuz-* (package linux-image-amd64) and an initramfs written here
as a newc cpio whose /init is linux_init.c built with `gcc -static -O2`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "runner"))
import qemu_run  # noqa: E402

HERE = Path(__file__).resolve().parent
INIT_SOURCE = HERE / "linux_init.c"

FIRMWARES = {"seabios": "bios", "ovmf": "uefi"}   # figure name -> runner
GUESTS = ("tessera", "linux")
READY_RE = re.compile(r"^(TESSERA|LINUX) READY tsc=(\d+) tsc_hz=(\d+)$")
SMP = 2
MEMORY = "512M"
CONFIG = "tessera.mode=boot-bench"

# Debian's kernel command line: the serial console and nothing printed
# before /init, as Tessera prints nothing before its READY line.
LINUX_GRUB_CFG = """\
# Boot benchmark: Debian's kernel with a one-program initramfs. GRUB
# settings mirror arch/x86_64/boot/grub.cfg so that both ISOs spend the
# same time in GRUB.
set timeout=0
set timeout_style=hidden
menuentry "Linux" {
    linux /boot/vmlinuz console=ttyS0 quiet
    initrd /boot/initrd.img
    boot
}
"""


class BenchError(Exception):
    """A failure with a message meant for the user."""


def note(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def shown(path: Path) -> str:
    """A path as the user would type it from the repository root."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


# --- the Linux guest ---------------------------------------------------------

def _version_key(path: Path):
    return [int(p) if p.isdigit() else p
            for p in re.split(r"(\d+)", path.name)]


def find_linux_kernel(explicit: Optional[str]) -> Path:
    if explicit:
        candidates = [Path(explicit)]
    else:
        candidates = sorted(Path("/boot").glob("vmlinuz-*"), key=_version_key)
        if not candidates:
            raise BenchError("no Linux kernel in /boot (vmlinuz-*): "
                             "apt-get install -y linux-image-amd64")
    kernel = candidates[-1]
    try:
        with open(kernel, "rb") as f:
            f.read(1)
    except FileNotFoundError:
        raise BenchError(f"Linux kernel image not found: {kernel}") from None
    except PermissionError:
        raise BenchError(f"cannot read {kernel}: Debian installs kernel "
                         f"images readable by root only; run as root") \
            from None
    return kernel


def _newc_entry(name: str, mode: int, data: bytes = b"", ino: int = 0,
                rdev: tuple = (0, 0)) -> bytes:
    """One entry of a "newc" (SVR4, no CRC) cpio archive, as the kernel's
    initramfs unpacker reads it (Documentation/driver-api/early-userspace/
    buffer-format.rst)."""
    name_bytes = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
              len(name_bytes), 0]
    header = b"070701" + b"".join(b"%08X" % v for v in fields)
    out = header + name_bytes
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out


def write_initramfs(path: Path, init_binary: bytes) -> None:
    s_ifdir, s_ifreg, s_ifchr = 0o040000, 0o100000, 0o020000
    entries = [
        _newc_entry(".", s_ifdir | 0o755, ino=1),
        _newc_entry("dev", s_ifdir | 0o755, ino=2),
        # The kernel opens /dev/console for init's stdin/out/err.
        _newc_entry("dev/console", s_ifchr | 0o600, ino=3, rdev=(5, 1)),
        _newc_entry("init", s_ifreg | 0o755, init_binary, ino=4),
        _newc_entry("TRAILER!!!", 0),
    ]
    blob = b"".join(entries)
    blob += b"\0" * (-len(blob) % 512)
    path.write_bytes(blob)


def _stale(output: Path, inputs: List[Path]) -> bool:
    if not output.exists():
        return True
    built = output.stat().st_mtime
    return any(p.stat().st_mtime > built for p in inputs)


def _run_tool(cmd: List[str], what: str) -> None:
    if shutil.which(cmd[0]) is None:
        raise BenchError(f"{cmd[0]} not found (needed to {what})")
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise BenchError(f"{what} failed ({' '.join(cmd)}):\n"
                         f"{p.stdout}{p.stderr}".rstrip())


def build_linux_iso(bench_dir: Path, kernel: Path) -> Path:
    iso = bench_dir / "linux.iso"
    init = bench_dir / "linux-init"
    initrd = bench_dir / "linux-initramfs.cpio"
    this_file = Path(__file__).resolve()
    if _stale(init, [INIT_SOURCE]):
        note(f"building {shown(init)}")
        _run_tool(["gcc", "-static", "-O2", "-s", "-Wall", "-o", str(init),
                   str(INIT_SOURCE)], "compile the Linux guest's /init")
    if _stale(initrd, [init, this_file]):
        write_initramfs(initrd, init.read_bytes())
    if _stale(iso, [kernel, initrd, this_file]):
        note(f"building {shown(iso)} from {kernel}")
        stage = bench_dir / "linux-iso"
        shutil.rmtree(stage, ignore_errors=True)
        (stage / "boot" / "grub").mkdir(parents=True)
        shutil.copyfile(kernel, stage / "boot" / "vmlinuz")
        shutil.copyfile(initrd, stage / "boot" / "initrd.img")
        (stage / "boot" / "grub" / "grub.cfg").write_text(LINUX_GRUB_CFG)
        tmp = iso.with_suffix(".iso.tmp")
        _run_tool(["grub-mkrescue", "-o", str(tmp), str(stage)],
                  "build the Linux ISO")
        tmp.replace(iso)
    return iso


# --- booting -----------------------------------------------------------------

@dataclasses.dataclass
class Sample:
    tsc: int
    tsc_hz: int
    tsc_ms: float
    wall_ms: float


def boot(guest: str, iso: Path, firmware: str, log: Path,
         args: argparse.Namespace) -> Sample:
    marker = guest.upper()
    options = qemu_run.RunOptions(
        iso=str(iso), firmware=FIRMWARES[firmware], smp=SMP, memory=MEMORY,
        config=CONFIG, expect="none",
        success_line=rf"^{marker} READY tsc=\d+ tsc_hz=\d+$",
        fail_lines=[r"Kernel panic", r"^LINUX INIT:"],
        expect_exit=33, timeout=args.timeout,
        silence_timeout=args.silence_timeout, log=str(log),
        name=f"bench-{guest}-{firmware}", ovmf=args.ovmf)
    try:
        result = qemu_run.run(options)
    except qemu_run.UsageError as e:
        raise BenchError(str(e)) from None
    if not result.passed:
        hint = ""
        if guest == "tessera" and result.first_match(READY_RE.pattern) is None:
            hint = (f" (does {iso} support {CONFIG}? it must print "
                    f"'TESSERA READY tsc=<n> tsc_hz=<n>' and exit via "
                    f"isa-debug-exit 0x10)")
        raise BenchError(f"{guest} under {firmware} failed: {result.reason}"
                         f"{hint}; serial log: {shown(log)}")
    t, line = result.first_match(READY_RE.pattern)
    m = READY_RE.match(line)
    tsc, hz = int(m.group(2)), int(m.group(3))
    if hz == 0:
        raise BenchError(f"{guest} under {firmware} reported tsc_hz=0")
    return Sample(tsc=tsc, tsc_hz=hz, tsc_ms=tsc / hz * 1000.0,
                  wall_ms=t * 1000.0)


def _fmt(name: str, tessera: Optional[float], linux: Optional[float]) -> str:
    parts = [f"BENCH {name}"]
    if tessera is not None:
        parts.append(f"tessera={tessera:.1f}ms")
    if linux is not None:
        parts.append(f"linux={linux:.1f}ms")
    if tessera is not None and linux:
        parts.append(f"ratio={tessera / linux:.3f}")
    return " ".join(parts)


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(
        description="Boot-to-ready time of Tessera against Debian's Linux "
                    "kernel under SeaBIOS and OVMF (make bench).")
    p.add_argument("--iso", default=str(REPO / "build" / "tessera.iso"),
                   help="Tessera ISO (default build/tessera.iso)")
    p.add_argument("--runs", type=int, default=3,
                   help="boots per guest and firmware; the median counts")
    p.add_argument("--firmware", default="seabios,ovmf",
                   help="comma-separated subset of seabios,ovmf")
    p.add_argument("--only", choices=GUESTS,
                   help="boot one guest only (development); figures then "
                        "lack the other guest and the ratio")
    p.add_argument("--kernel", help="Linux kernel image "
                                    "(default: newest /boot/vmlinuz-*)")
    p.add_argument("--timeout", type=float, default=300.0,
                   help="per boot, TCG-sized (default %(default)g s)")
    p.add_argument("--silence-timeout", type=float, default=180.0,
                   help="per boot; a quiet Linux boot prints nothing for a "
                        "while (default %(default)g s)")
    p.add_argument("--build-dir", default=str(REPO / "build" / "bench"),
                   help="Linux ISO and serial logs (default build/bench)")
    p.add_argument("--out", default=str(REPO / "build" / "bench" /
                                        "boot.json"),
                   help="JSON report (default build/bench/boot.json)")
    p.add_argument("--ovmf", default=qemu_run.DEFAULT_OVMF)
    args = p.parse_args(argv)

    firmwares = [f.strip() for f in args.firmware.split(",") if f.strip()]
    bad = [f for f in firmwares if f not in FIRMWARES]
    if bad or not firmwares:
        p.error(f"--firmware: unknown {', '.join(bad) or '(empty)'}; "
                f"choose from seabios,ovmf")
    if args.runs < 1:
        p.error("--runs must be at least 1")
    guests = [args.only] if args.only else list(GUESTS)
    out = Path(args.out)
    bench_dir = Path(args.build_dir)
    logs = bench_dir / "logs"

    try:
        logs.mkdir(parents=True, exist_ok=True)
        isos: Dict[str, Path] = {}
        if "tessera" in guests:
            isos["tessera"] = Path(args.iso)
            if not isos["tessera"].is_file():
                raise BenchError(f"Tessera ISO not found: {args.iso} "
                                 f"(run `make` first)")
        kernel = None
        if "linux" in guests:
            kernel = find_linux_kernel(args.kernel)
            isos["linux"] = build_linux_iso(bench_dir, kernel)
        accel, why = qemu_run.choose_accel()
        note(f"QEMU accel {accel} ({why}); -smp {SMP} -m {MEMORY}; "
             f"{args.runs} boots per guest and firmware")

        samples: Dict[str, Dict[str, List[Sample]]] = {
            g: {f: [] for f in firmwares} for g in guests}
        for fw in firmwares:
            for i in range(1, args.runs + 1):
                for guest in guests:  # interleaved: drift hits both alike
                    note(f"booting {guest} under {fw} ({i}/{args.runs})...")
                    s = boot(guest, isos[guest], fw,
                             logs / f"{guest}-{fw}-{i}.log", args)
                    note(f"  {guest} ready: tsc {s.tsc_ms:.1f} ms, "
                         f"wall {s.wall_ms:.1f} ms")
                    samples[guest][fw].append(s)
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130

    def median(guest: str, fw: str, field: str) -> Optional[float]:
        if guest not in samples:
            return None
        return statistics.median(getattr(s, field) for s in
                                 samples[guest][fw])

    # Each guest divides by the frequency it measured itself; say so when
    # they disagree, because the tsc figures then differ by that much too.
    if len(guests) == 2:
        for fw in firmwares:
            hz = {g: statistics.median(s.tsc_hz for s in samples[g][fw])
                  for g in guests}
            if abs(hz["tessera"] / hz["linux"] - 1) > 0.02:
                note(f"warning: under {fw} Tessera measured tsc_hz "
                     f"{hz['tessera'] / 1e6:.1f} MHz, Linux "
                     f"{hz['linux'] / 1e6:.1f} MHz")

    figures = []
    for metric, field in (("tsc", "tsc_ms"), ("wall", "wall_ms")):
        for fw in firmwares:
            t = median("tessera", fw, field)
            lx = median("linux", fw, field)
            name = f"boot_ready_{metric}_{fw}"
            print(_fmt(name, t, lx), flush=True)
            figures.append({
                "name": name, "unit": "ms",
                "tessera": None if t is None else round(t, 3),
                "linux": None if lx is None else round(lx, 3),
                "ratio": round(t / lx, 6) if t is not None and lx else None,
            })

    report = {
        "benchmark": "boot_ready",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "qemu": {"smp": SMP, "memory": MEMORY, "accel": accel,
                 "fw_cfg": CONFIG, "firmwares": firmwares},
        "linux_kernel": str(kernel) if kernel else None,
        "runs": args.runs,
        "statistic": "median",
        "figures": figures,
        "samples": {g: {f: [dataclasses.asdict(s) for s in v]
                        for f, v in per_fw.items()}
                    for g, per_fw in samples.items()},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    note(f"wrote {shown(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
