#!/usr/bin/env python3
"""Builds the Linux peer guest: build/linux-peer/vmlinuz and
build/linux-peer/initramfs.cpio.gz, from this host's Debian packages only.

What goes into the initramfs (tools/linux-peer/README.md):
  /init                    tools/linux-peer/init.sh (the guest contract)
  /bin/busybox             busybox-static: the shell and every small tool
  the programs in PROGRAMS (rping, perftest, ibv_devinfo, rdma) and our
  rdma-peer (tools/rdma-peer, built here with g++), each with the shared
  libraries ldd names for it, at the paths ldd prints
  the libibverbs provider for rxe (/etc/libibverbs.d/rxe.driver and
  librxe-rdmav*.so) and its libraries
  the kernel modules in MODULES with every dependency modules.dep names,
  uncompressed if the kernel ships them compressed, plus /etc/peer-modules,
  the order to insmod them in (dependencies first)

Incremental: the build writes build/linux-peer/inputs.sha256, a digest of
every input (paths, sizes, mtimes, this script, init.sh, the rdma-peer
sources) and does nothing when it matches. --force rebuilds anyway.
Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import lzma
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OUT = REPO / "build" / "linux-peer"
PEER_SOURCES = REPO / "tools" / "rdma-peer"
PEER_BINARY = REPO / "build" / "rdma-peer" / "rdma-peer"

PROGRAMS = ["rping", "ib_send_lat", "ib_read_lat", "ib_write_bw", "ib_send_bw", "ibv_devinfo", "rdma"]
# The soft-RoCE driver, the verbs and CM stacks user space needs, and the NIC.
# crc32_generic is rxe's ICRC: it asks the crypto API for "crc32" at
# `rdma link add` (ENOENT without it), a dependency modules.dep cannot show.
MODULES = ["virtio_pci", "virtio_net", "crc32_generic", "rdma_rxe", "ib_core", "ib_uverbs", "ib_cm", "iw_cm", "rdma_cm", "rdma_ucm"]
BUSYBOX = Path("/bin/busybox")
VERBS_DRIVER_DIR = Path("/etc/libibverbs.d")
VERBS_PROVIDER_DIR = Path("/usr/lib/x86_64-linux-gnu/libibverbs")

PACKAGE_HINT = ("apt-get install -y --no-install-recommends rdma-core ibverbs-providers rdmacm-utils perftest "
                "ibverbs-utils libibverbs-dev librdmacm-dev busybox-static iproute2 linux-image-amd64 "
                "(or scripts/install-deps.sh)")


class BuildError(Exception):
    pass


def note(message: str) -> None:
    print(f"linux-peer: {message}", file=sys.stderr, flush=True)


def _version_key(path: Path):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name)]


def find_kernel() -> Tuple[Path, str]:
    kernels = sorted(Path("/boot").glob("vmlinuz-*"), key=_version_key)
    if not kernels:
        raise BuildError(f"no /boot/vmlinuz-*: {PACKAGE_HINT}")
    kernel = kernels[-1]
    version = kernel.name[len("vmlinuz-"):]
    if not (Path("/lib/modules") / version / "modules.dep").is_file():
        raise BuildError(f"no /lib/modules/{version}/modules.dep for {kernel}")
    return kernel, version


def module_closure(version: str) -> List[str]:
    """Module paths (relative to /lib/modules/VERSION) in load order,
    dependencies first, for MODULES. A module that is built in (listed in
    modules.builtin) is skipped."""
    base = Path("/lib/modules") / version
    deps: Dict[str, List[str]] = {}
    by_name: Dict[str, str] = {}
    for line in (base / "modules.dep").read_text().splitlines():
        if ":" not in line:
            continue
        path, rest = line.split(":", 1)
        deps[path] = rest.split()
        by_name[_module_name(path)] = path
    builtin = {_module_name(p) for p in (base / "modules.builtin").read_text().split()}
    order: List[str] = []
    seen = set()

    def visit(path: str) -> None:
        if path in seen:
            return
        seen.add(path)
        for dep in deps.get(path, []):
            visit(dep)
        order.append(path)

    for name in MODULES:
        if name in by_name:
            visit(by_name[name])
        elif name not in builtin:
            raise BuildError(f"kernel {version} has no module {name}")
    return order


def _module_name(path: str) -> str:
    name = Path(path).name
    for suffix in (".ko.xz", ".ko.zst", ".ko.gz", ".ko"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.replace("-", "_")


def library_closure(binary: Path) -> List[Path]:
    """The shared libraries `binary` loads, as ldd resolves them here."""
    result = subprocess.run(["ldd", str(binary)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if "not a dynamic executable" in result.stdout:
        return []
    if result.returncode != 0:
        raise BuildError(f"ldd {binary}: {result.stdout.strip()}")
    libraries = []
    for line in result.stdout.splitlines():
        line = line.strip()
        if "not found" in line:
            raise BuildError(f"{binary}: library {line}")
        match = re.search(r"(/\S+) \(0x", line)
        if match:
            libraries.append(Path(match.group(1)))
    return libraries


def build_rdma_peer(force: bool) -> Path:
    sources = sorted(PEER_SOURCES.glob("*.cpp"))
    headers = sorted(PEER_SOURCES.glob("*.h"))
    if not sources:
        raise BuildError(f"no sources in {PEER_SOURCES}")
    newest = max(p.stat().st_mtime for p in sources + headers)
    if not force and PEER_BINARY.is_file() and PEER_BINARY.stat().st_mtime >= newest:
        return PEER_BINARY
    if not Path("/usr/include/rdma/rdma_cma.h").is_file():
        raise BuildError(f"no /usr/include/rdma/rdma_cma.h: {PACKAGE_HINT}")
    PEER_BINARY.parent.mkdir(parents=True, exist_ok=True)
    command = ["g++", "-std=c++20", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-o", str(PEER_BINARY),
               *map(str, sources), "-lrdmacm", "-libverbs"]
    note("building " + str(PEER_BINARY.relative_to(REPO)))
    subprocess.run(command, check=True)
    return PEER_BINARY


class Archive:
    """A newc cpio archive (the format the kernel's initramfs unpacker
    reads), filled with directories, files and symlinks."""

    def __init__(self):
        self.entries: Dict[str, Tuple[int, bytes]] = {}

    def directory(self, path: str) -> None:
        path = path.strip("/")
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            self.entries.setdefault("/".join(parts[:i]), (stat.S_IFDIR | 0o755, b""))

    def file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        path = path.strip("/")
        if "/" in path:
            self.directory(os.path.dirname(path))
        self.entries[path] = (stat.S_IFREG | mode, data)

    def symlink(self, path: str, target: str) -> None:
        path = path.strip("/")
        if "/" in path:
            self.directory(os.path.dirname(path))
        self.entries[path] = (stat.S_IFLNK | 0o777, target.encode())

    def host_file(self, path: Path, mode: int = None) -> None:
        """Copies a host file to the same path, recreating the symlinks on
        the way (ld.so and libraries are reached through them)."""
        if path.is_symlink():
            target = os.readlink(path)
            self.symlink(str(path), target)
            # Not resolve(): that would follow a merged-usr /lib -> usr/lib
            # and store the target where the relative link cannot find it.
            self.host_file(Path(os.path.normpath(path.parent / target)), mode)
            return
        data = path.read_bytes()
        self.file(str(path), data, mode if mode is not None else stat.S_IMODE(path.stat().st_mode))

    def write(self, out: Path) -> None:
        blob = bytearray()
        ino = 1
        blob += _newc("dev/console", stat.S_IFCHR | 0o600, b"", ino, rdev=(5, 1))
        for name in sorted(self.entries):
            ino += 1
            mode, data = self.entries[name]
            blob += _newc(name, mode, data, ino)
        blob += _newc("TRAILER!!!", 0, b"", 0)
        tmp = out.with_suffix(".tmp")
        with open(tmp, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as packed:
                packed.write(bytes(blob))
        tmp.replace(out)


def _newc(name: str, mode: int, data: bytes, ino: int, rdev=(0, 0)) -> bytes:
    encoded = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(encoded), 0]
    out = b"070701" + b"".join(b"%08X" % v for v in fields) + encoded
    out += b"\0" * (-len(out) % 4) + data
    return out + b"\0" * (-len(out) % 4)


def gather(version: str, peer: Path):
    """Every (host path) the archive copies, and the module load order."""
    programs = []
    for name in PROGRAMS:
        found = shutil.which(name, path="/usr/bin:/usr/sbin:/bin:/sbin")
        if not found:
            raise BuildError(f"{name} not found: {PACKAGE_HINT}")
        programs.append(Path(found))
    programs.append(peer)
    providers = sorted(VERBS_PROVIDER_DIR.glob("librxe-rdmav*.so"))
    driver = VERBS_DRIVER_DIR / "rxe.driver"
    if not providers or not driver.is_file() or not BUSYBOX.is_file():
        raise BuildError(f"rxe provider or busybox missing: {PACKAGE_HINT}")
    libraries = set()
    # busybox-static needs none; a dynamic busybox would bring its own.
    for binary in programs + providers + [BUSYBOX]:
        libraries.update(library_closure(binary))
    modules = module_closure(version)
    return programs, providers, driver, sorted(libraries), modules


def inputs_digest(kernel: Path, paths: List[Path], modules: List[str], version: str) -> str:
    digest = hashlib.sha256()
    for path in [kernel, Path(__file__).resolve(), HERE / "init.sh", *paths]:
        info = path.stat()
        digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    for module in modules:
        info = (Path("/lib/modules") / version / module).stat()
        digest.update(f"{module}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def build(force: bool = False) -> bool:
    """Builds what is out of date; returns True if it wrote anything."""
    kernel, version = find_kernel()
    peer = build_rdma_peer(force)
    programs, providers, driver, libraries, modules = gather(version, peer)
    digest = inputs_digest(kernel, programs + providers + [driver, BUSYBOX] + libraries, modules, version)
    stamp = OUT / "inputs.sha256"
    vmlinuz, initramfs = OUT / "vmlinuz", OUT / "initramfs.cpio.gz"
    if not force and vmlinuz.is_file() and initramfs.is_file() and stamp.is_file() \
            and stamp.read_text().strip() == digest:
        note("up to date")
        return False
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(kernel, vmlinuz)
    except PermissionError:
        raise BuildError(f"cannot read {kernel} (Debian makes it readable by root only)") from None

    archive = Archive()
    for directory in ("bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "run", "etc", "root"):
        archive.directory(directory)
    archive.file("init", (HERE / "init.sh").read_bytes(), 0o755)
    archive.file("bin/busybox", BUSYBOX.read_bytes(), 0o755)
    archive.symlink("bin/sh", "busybox")
    for program in programs:
        archive.file(f"usr/bin/{program.name}", program.read_bytes(), 0o755)
    for library in libraries + providers:
        archive.host_file(library)
    archive.file(str(driver), driver.read_bytes())
    for module in modules:
        source = Path("/lib/modules") / version / module
        data = source.read_bytes()
        target = module
        if module.endswith(".xz"):
            data, target = lzma.decompress(data), module[: -len(".xz")]
        archive.file(f"lib/modules/{version}/{target}", data)
    order = "".join(f"/lib/modules/{version}/{m[:-3] if m.endswith('.xz') else m}\n" for m in modules)
    archive.file("etc/peer-modules", order.encode())
    archive.file("etc/peer-kernel", f"{version}\n".encode())
    archive.write(initramfs)
    stamp.write_text(digest + "\n")
    note(f"wrote {vmlinuz.relative_to(REPO)} ({version}) and {initramfs.relative_to(REPO)} "
         f"({initramfs.stat().st_size // 1024} KiB, {len(modules)} modules, {len(libraries)} libraries)")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if the inputs did not change")
    args = parser.parse_args()
    try:
        build(args.force)
    except (BuildError, subprocess.CalledProcessError) as error:
        print(f"linux-peer: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
