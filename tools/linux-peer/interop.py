#!/usr/bin/env python3
"""Interop tests between two Linux peers (make check's `interop` tier).

Each scenario boots two peer guests (peer_vm.py) cabled back to back with
`-netdev dgram` unix sockets and judges both serial logs: each peer must
print `PEER: EXIT 0` (or, serving, `PEER: READY`) within the total and
silence timeouts, and show the scenario's lines the given number of times.
A negative control (expect_failure) must be judged FAIL, for a reason
matching its regex. tools/linux-peer/README.md lists the scenarios.

    python3 tools/linux-peer/interop.py            # all scenarios
    python3 tools/linux-peer/interop.py rping      # one, by name
"""

from __future__ import annotations

import dataclasses
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import peer_vm  # noqa: E402

SERVER_IP, CLIENT_IP = "192.0.2.1", "192.0.2.2"
# Per pair, sized for TCG on a loaded 2-core host: a peer boots in 6-12 s
# and the longest run (every op and size both ways) takes about 4 s.
TIMEOUT = 150.0
SILENCE = 60.0
# Every op and every default size (21 powers of two, 8 odd sizes), one way.
OPERATIONS_PER_DIRECTION = 4 * 29


@dataclasses.dataclass
class Side:
    run: Optional[str]                       # None: serve
    expect: List[Tuple[str, int]] = dataclasses.field(default_factory=list)  # (regex, exact count)
    expect_status: int = 0


@dataclasses.dataclass
class Scenario:
    name: str
    server: Side
    client: Side
    mtu: int = 1500
    expect_failure: Optional[str] = None     # a negative control: the FAIL reason must match


# A client boots as fast as its server; it retries refused connects.
RPING_CLIENT = ("status=1; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do "
                f"if rping -c -a {SERVER_IP} -C 100 -S 64 -V -v > /tmp/rping.out; then status=0; break; fi; "
                "sleep 1; done; cat /tmp/rping.out; grep -c 'ping data: rdma-ping-' /tmp/rping.out; exit $status")
# The negative control connects only after the server answers ARP/ICMP, so
# the refusal it gets is the IB CM's REJ, not a missing host.
WAIT_FOR_SERVER = f"until ping -c 1 -W 1 {SERVER_IP} >/dev/null; do :; done; sleep 1; "


def scenarios() -> List[Scenario]:
    ok = r"^rdma-peer: (client->server|server->client) (SEND|WRITE|WRITE_IMM|READ) \d+ ok "
    mtu1024 = r"^rdma-peer: connected, path MTU 1024,"
    mtu4096 = r"^rdma-peer: connected, path MTU 4096,"
    return [
        Scenario("rping",
                 Side(f"rping -s -a {SERVER_IP} -C 100 -S 64 -V", [(r"^wait for RDMA_READ_ADV state 10", 1)]),
                 Side(RPING_CLIENT, [(r"^ping data: rdma-ping-99: ", 1), (r"^100$", 1)])),
        # All operations both ways, then the out-of-bounds WRITE and READ
        # (two more connections) that must end in IBV_WC_REM_ACCESS_ERR.
        Scenario("rdma-peer-mtu1500",
                 Side("rdma-peer -s --connections 3 --connect-timeout 90 --path-mtu 1024",
                      [(ok, OPERATIONS_PER_DIRECTION), (mtu1024, 3), (r"^rdma-peer: out-of-bounds connection ended",
                                                                     2), (r"^rdma-peer: PASS", 1)]),
                 Side(f"rdma-peer -c {SERVER_IP} --connect-timeout 60 --path-mtu 1024 && "
                      f"rdma-peer -c {SERVER_IP} --oob --connect-timeout 10 --path-mtu 1024",
                      [(ok, OPERATIONS_PER_DIRECTION), (mtu1024, 3),
                       (r"^rdma-peer: out-of-bounds (WRITE|READ) .*IBV_WC_REM_ACCESS_ERR ok", 2),
                       (r"^rdma-peer: PASS", 2)])),
        Scenario("rdma-peer-mtu4200",
                 Side("rdma-peer -s --connect-timeout 90 --path-mtu 4096",
                      [(ok, OPERATIONS_PER_DIRECTION), (mtu4096, 1), (r"^rdma-peer: PASS", 1)]),
                 Side(f"rdma-peer -c {SERVER_IP} --connect-timeout 60 --path-mtu 4096",
                      [(ok, OPERATIONS_PER_DIRECTION), (mtu4096, 1), (r"^rdma-peer: PASS", 1)]),
                 mtu=4200),
        # Planted failure: nobody listens on port 9999, Linux's CM answers
        # REJ (reason 8), the client must fail, and this judge must say so.
        Scenario("control-wrong-port",
                 Side(None),
                 Side(WAIT_FOR_SERVER + f"rdma-peer -c {SERVER_IP} -p 9999", [(r"^rdma-peer: PASS", 1)]),
                 expect_failure=r"client: PEER: EXIT 1 .*rdma-peer: FAIL connect to 192\.0\.2\.1 port 9999: "
                                r"RDMA_CM_EVENT_REJECTED"),
    ]


def judge(scenario: Scenario, results: List[peer_vm.PeerResult]) -> Tuple[bool, str]:
    """(passed, reason): every side ended as expected and showed its lines."""
    problems = []
    for side, result in zip((scenario.server, scenario.client), results):
        label = result.name
        last_fail = next((line for _, line in reversed(result.lines) if "FAIL" in line), "")
        if result.reason:
            problems.append(f"{label}: {result.reason}")
            continue
        if side.run is None:
            if result.ready_at is None:
                problems.append(f"{label}: never printed PEER: READY")
        elif result.status != side.expect_status:
            problems.append(f"{label}: PEER: EXIT {result.status} (expected {side.expect_status})"
                            + (f" after `{last_fail}`" if last_fail else ""))
            continue
        for pattern, count in side.expect:
            seen = sum(1 for _, line in result.lines if re.search(pattern, line))
            if seen != count:
                problems.append(f"{label}: {seen} lines match {pattern!r}, expected {count}")
    if problems:
        return False, "; ".join(problems)
    return True, ""


def run_scenario(scenario: Scenario, log_dir: Path, pcap_dir: Optional[Path] = None) -> Tuple[bool, str, Dict]:
    """Boots the pair; returns (scenario passed, detail, figures). A
    negative control passes when the judge failed it for the right reason."""
    log_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lp-", dir="/tmp") as sockets:
        server_sock, client_sock = f"{sockets}/server", f"{sockets}/client"
        peers = []
        for name, side, ip, local, remote in (("server", scenario.server, SERVER_IP, server_sock, client_sock),
                                              ("client", scenario.client, CLIENT_IP, client_sock, server_sock)):
            pcap = str(pcap_dir / f"{scenario.name}-{name}.pcap") if pcap_dir else None
            peers.append(peer_vm.Peer(name, f"{ip}/24", run=side.run, local=local, remote=remote,
                                      mtu=scenario.mtu, pcap=pcap, log=str(log_dir / f"{scenario.name}-{name}.log")))
        started = time.monotonic()
        results = peer_vm.run_peers(peers, timeout=TIMEOUT, silence=SILENCE)
        wall = time.monotonic() - started
    passed, reason = judge(scenario, results)
    figures = dict(wall=round(wall, 1), ready={r.name: r.ready_at and round(r.ready_at, 1) for r in results})
    if scenario.expect_failure:
        if passed:
            return False, "the negative control passed", figures
        if not re.search(scenario.expect_failure, reason):
            return False, f"failed for another reason: {reason}", figures
        return True, f"failed as planted: {reason}", figures
    return passed, reason, figures


def run_all(say: Callable[[str], None], log_dir: Path, names: Optional[List[str]] = None,
            pcap_dir: Optional[Path] = None) -> Tuple[int, int, List[str]]:
    """Runs the scenarios one pair at a time (each pair takes both cores);
    returns (passed, failed, failure descriptions)."""
    passed = failed = 0
    failures = []
    for scenario in scenarios():
        if names and scenario.name not in names:
            continue
        ok, detail, figures = run_scenario(scenario, log_dir, pcap_dir)
        ready = ", ".join(f"{k} ready {v}s" for k, v in figures["ready"].items() if v)
        if ok:
            passed += 1
            say(f"   PASS {scenario.name} ({figures['wall']}s; {ready})" + (f": {detail}" if detail else ""))
        else:
            failed += 1
            failures.append(f"{scenario.name}: {detail}")
            say(f"   FAIL {scenario.name} ({figures['wall']}s): {detail}; logs {log_dir}/{scenario.name}-*.log")
    return passed, failed, failures


def main(argv: List[str]) -> int:
    repo = HERE.parents[1]
    passed, failed, _ = run_all(print, repo / "build" / "linux-peer" / "logs", argv or None)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
