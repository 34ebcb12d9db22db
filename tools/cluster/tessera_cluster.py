"""tools/tessera-cluster: the command line of the cluster launcher
(tools/cluster/README.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
import description  # noqa: E402
import launcher  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tessera-cluster",
        description="Boot one QEMU VM per node of a cluster description, joined by a private Ethernet "
                    "segment over unix sockets; console lines are prefixed with the node's name. Exit status: "
                    "0 PASS, 1 FAIL (timeout, a node's failure, an unmet expect), 2 usage error, "
                    "130 interrupted.",
        epilog="Actions (--then, in order, once every node is up): kill:N pause:N cont:N cut:N join:N "
               "sleep:SECONDS partition:a,b|c heal loss:N=P delay:N=MS expect:N:REGEX. "
               "Environment: TESSERA_ACCEL=kvm|tcg forces the accelerator.")
    p.add_argument("description", help="cluster description (JSON)")
    p.add_argument("--iso", default=str(launcher.ROOT / "build" / "tessera.iso"))
    p.add_argument("--linux-kernel", default=str(launcher.LINUX_PEER_DIR / "vmlinuz"))
    p.add_argument("--linux-initrd", default=str(launcher.LINUX_PEER_DIR / "initramfs.cpio.gz"))
    p.add_argument("--pcap", metavar="FILE", help="capture every frame the segment carries")
    p.add_argument("--log-dir", metavar="DIR", help="raw console log of each node, DIR/NODE.log")
    p.add_argument("--then", metavar="ACTION", action="append", default=[],
                   help="an action once every node is up (repeatable)")
    p.add_argument("--expect", metavar="NODE:REGEX", action="append", default=[],
                   help="after the actions, wait until NODE prints a line matching REGEX (repeatable)")
    p.add_argument("--hold", metavar="SECONDS", type=float,
                   help="then keep the cluster running this long (a node exiting fails it) and stop: PASS")
    p.add_argument("--until-up", action="store_true", help="stop (PASS) as soon as every node is up")
    p.add_argument("--boot-timeout", type=float, metavar="SECONDS", help="overrides timeouts.boot")
    p.add_argument("--silence-timeout", type=float, metavar="SECONDS", help="overrides timeouts.silence")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="overrides timeouts.total")
    p.add_argument("--qemu", metavar="PROGRAM", help="program run instead of qemu-system-x86_64 (tests)")
    p.add_argument("--quiet", action="store_true", help="no console lines, only the CLUSTER line")
    p.add_argument("--check", action="store_true", help="validate the description and exit")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    a = _parser().parse_args(argv)
    try:
        cluster = description.load(a.description)
    except description.DescriptionError as e:
        print(f"tessera-cluster: error: {e}", file=sys.stderr)
        return 2
    for value, field in ((a.boot_timeout, "boot"), (a.silence_timeout, "silence"), (a.timeout, "total")):
        if value is not None:
            if value < 0 or (value == 0 and field != "total"):
                print(f"tessera-cluster: error: --{field} timeout must be positive", file=sys.stderr)
                return 2
            setattr(cluster.timeouts, field, value)
    for spec in a.expect:
        if ":" not in spec or spec.split(":", 1)[0] not in {n.name for n in cluster.nodes}:
            print(f"tessera-cluster: error: --expect {spec!r}: expected NODE:REGEX with a node of the "
                  f"description", file=sys.stderr)
            return 2
    if a.check:
        print(f"{a.description}: {len(cluster.nodes)} nodes, valid")
        return 0
    options = launcher.Options(cluster=cluster, iso=a.iso, linux_kernel=a.linux_kernel,
                               linux_initrd=a.linux_initrd, qemu=a.qemu, pcap=a.pcap, log_dir=a.log_dir,
                               actions=a.then, expects=a.expect, hold=a.hold, until_up=a.until_up,
                               quiet=a.quiet)
    if a.quiet:
        options.info = lambda msg: None
    try:
        return launcher.launch(options)
    except launcher.LaunchError as e:
        print(f"tessera-cluster: error: {e}", file=sys.stderr)
        return 2
