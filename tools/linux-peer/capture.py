#!/usr/bin/env python3
"""Records real rxe traffic between two Linux peers for test fixtures
(test/fixtures/roce/README.md says how they were made and what they hold).

The server's NIC is recorded with QEMU's filter-dump (both directions), so
every packet of the pair is in one pcap. Small runs only: the fixtures are
committed.

    python3 tools/linux-peer/capture.py [OUT_DIR]   # default test/fixtures/roce
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import build  # noqa: E402
import interop  # noqa: E402
import peer_vm  # noqa: E402

SERVER, CLIENT = interop.SERVER_IP, interop.CLIENT_IP
CAPTURES = {
    # Three 64-byte pings: CM REQ/REP/RTU/DREQ/DREP, SEND, READ, WRITE, ACKs.
    "rping.pcap": (f"rping -s -a {SERVER} -C 3 -S 64 -V",
                   interop.RPING_CLIENT.replace("-C 100", "-C 3")),
    # Every op both ways at 3 bytes (pad 1) and 1025 (FIRST + LAST at path
    # MTU 1024), then the out-of-bounds WRITE and READ (NAK 0x62).
    "rdma-peer.pcap": ("rdma-peer -s --connections 3 --connect-timeout 90 --sizes 3,1025",
                       f"rdma-peer -c {SERVER} --connect-timeout 60 --sizes 3,1025 && "
                       f"rdma-peer -c {SERVER} --oob --connect-timeout 10"),
}


def main(argv) -> int:
    out = Path(argv[0]) if argv else HERE.parents[1] / "test" / "fixtures" / "roce"
    out.mkdir(parents=True, exist_ok=True)
    build.build()
    failed = 0
    for name, (server_run, client_run) in CAPTURES.items():
        with tempfile.TemporaryDirectory(prefix="lp-", dir="/tmp") as tmp:
            pcap = f"{tmp}/{name}"
            peers = [peer_vm.Peer("server", f"{SERVER}/24", run=server_run, local=f"{tmp}/s", remote=f"{tmp}/c",
                                  pcap=pcap),
                     peer_vm.Peer("client", f"{CLIENT}/24", run=client_run, local=f"{tmp}/c", remote=f"{tmp}/s")]
            results = peer_vm.run_peers(peers, timeout=interop.TIMEOUT, silence=interop.SILENCE)
            if not all(r.passed for r in results):
                failed += 1
                for r in results:
                    print(f"capture {name}: {r.name}: status {r.status} {r.reason}\n{r.text()[-2000:]}")
                continue
            shutil.copyfile(pcap, out / name)
            print(f"capture: wrote {out / name} ({(out / name).stat().st_size} bytes)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
