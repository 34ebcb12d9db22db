"""make check's cluster tier (called from tools/check.py): the launcher's
unittests, then real clusters of build/tessera.iso through
tools/tessera-cluster, each judged here from its output and from the
process table (no QEMU it started may outlive it).

Runs (one test each):
  cluster-two-nodes         two Tessera nodes in ready mode: both SERVING
                            under their prefixes, n2 killed on request,
                            n1 held; PASS, and every QEMU pid gone
  cluster-control-refused   planted: n2's configuration is refused (exit
                            39) -> the launcher must FAIL naming n2's exit
  cluster-control-silent    planted: n2 boots to the shell and never
                            serves -> the launcher must FAIL on silence
  cluster-sigint            a serving cluster SIGINTed from outside: exit
                            130, every QEMU pid gone
  cluster-rdma              two Tessera nodes, tessera.rdma.selftest listen/connect:
                            RDMA CM connect, SEND/RECV + WRITE + READ of 1..64K
                            bytes with checksums, disconnect: `rdma: PASS` on both
  cluster-rdma-refused      planted: the client connects to a port nobody listens
                            on -> it must print the REJ 8 failure (and no PASS)
  cluster-linux-ping        a Linux peer pings a Tessera node 3 times (ARP,
                            ICMP echo, virtio-net against Linux's stack)
  cluster-control-ping-nobody
                            planted: the peer pings an address nobody has;
                            ping exits 1 -> the launcher must FAIL
  cluster-rping-linux-client
                            unmodified Linux `rping -c -C 100 -S 64 -V -v` against
                            a Tessera node with tessera.rping=server:7174
  cluster-rping-tessera-client
                            tessera.rping=client against Linux `rping -s -C 100
                            -S 64 -V`; the node exits QEMU with success (33)
  cluster-rping-control-wrong-port
                            planted: the Linux client asks for port 9999 -> REJ 8,
                            rping fails -> the launcher must FAIL on its exit
  cluster-rping-control-wrong-size
                            planted: a 100-byte client against a server given
                            size 64 -> `rping: FAIL wrong ping size`, no PASS
  (the Linux runs are skipped while build/linux-peer/ is missing)
"""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LAUNCHER = ROOT / "tools" / "tessera-cluster"
LINUX_PEER = ROOT / "build" / "linux-peer"
PID_RE = re.compile(r"^cluster: (\S+): pid (\d+),", re.M)

TWO_NODES = {
    "name": "check-two",
    "segment": {"mtu": 9000},
    "timeouts": {"boot": 90, "silence": 45},
    "nodes": [
        {"name": "n1", "ip": "192.0.2.11", "id": 11, "roles": ["processor"], "memory": "128M"},
        {"name": "n2", "ip": "192.0.2.12", "id": 12, "roles": ["memory", "storage", "grm"], "memory": "128M"},
    ],
}


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def _variant(name, change):
    data = json.loads(json.dumps(TWO_NODES))
    data["name"] = name
    change(data)
    return data


def _runs():
    runs = [
        dict(name="cluster-two-nodes", description=TWO_NODES,
             args=["--then", "kill:n2", "--then", "sleep:1", "--hold", "2"], status=0,
             lines=[r"^\[n1\] TESSERA: SERVING node=11$", r"^\[n2\] TESSERA: SERVING node=12$",
                    r"^CLUSTER check-two: PASS n1=up n2=killed$"]),
        dict(name="cluster-control-refused",
             description=_variant("check-refused", lambda d: d["nodes"][1].update(
                 config={"tessera.mode": "ready", "tessera.loglevel": "loud"})),
             args=["--until-up"], status=1,
             lines=[r"^\[n2\] TESSERA: BOOT REFUSED: configuration: tessera\.loglevel",
                    r"^CLUSTER check-refused: FAIL \(n2: QEMU exited unexpectedly \(exit code 39\)"]),
        dict(name="cluster-control-silent",
             description=_variant("check-silent", lambda d: d["nodes"][1].update(config={"tessera.mode": "shell"})),
             args=["--until-up", "--silence-timeout", "6"], status=1,
             lines=[r"^CLUSTER check-silent: FAIL \(silence: n2 printed nothing for 6s before it was up\)"]),
    ]
    rdma = {
        "name": "check-rdma", "segment": {"mtu": 9000}, "timeouts": {"boot": 120, "silence": 90},
        "nodes": [{"name": "s1", "ip": "192.0.2.41", "id": 41, "roles": ["processor"], "memory": "128M",
                   "config": {"tessera.rdma.selftest": "listen:7174"}},
                  {"name": "c1", "ip": "192.0.2.42", "id": 42, "roles": ["memory", "storage", "grm"],
                   "memory": "128M", "config": {"tessera.rdma.selftest": "connect:192.0.2.41:7174"}}]}
    rdma_args = ["--expect", "c1:^rdma: (PASS|FAIL)"]
    runs.append(dict(name="cluster-rdma", description=rdma, args=rdma_args + ["--expect", "s1:^rdma: (PASS|FAIL)"],
                     status=0, absent=[r"^\[\w+\] rdma: FAIL"],
                     lines=[r"^\[c1\] rdma: PASS connect\+send/recv\+write\+read sizes 1,1000,4096,65536 "
                            r"to 192\.0\.2\.41:7174$",
                            r"^\[s1\] rdma: PASS served one connection on port 7174 \(9 messages\)$",
                            r"^\[c1\] .*rdma: rxe0 up on virtio-net0: 192\.0\.2\.42 active MTU 4096",
                            r"^CLUSTER check-rdma: PASS"]))
    refused = json.loads(json.dumps(rdma))
    refused["name"] = "check-rdma-refused"
    refused["nodes"][1]["config"]["tessera.rdma.selftest"] = "connect:192.0.2.41:7175"
    runs.append(dict(name="cluster-rdma-refused", description=refused, args=rdma_args, status=0,
                     absent=[r"^\[c1\] rdma: PASS"],
                     lines=[r"^\[c1\] rdma: FAIL connect:192\.0\.2\.41:7175: rejected \(REJ 8\)$",
                            r"^CLUSTER check-rdma-refused: PASS"]))
    # A Linux peer pings a Tessera node over the segment: ARP, ICMP echo
    # and the virtio-net driver, against Linux's own stack.
    def peer_run(name, target, status, lines):
        run = dict(name=name, description={
            "name": name, "timeouts": {"boot": 240, "silence": 120, "total": 400},
            "nodes": [{"name": "t1", "ip": "192.0.2.21", "roles": ["processor", "memory", "grm"], "memory": "128M"},
                      {"name": "p1", "kind": "linux", "ip": "192.0.2.31", "memory": "512M",
                       "run": f"ping -c 3 -W 5 {target}"}]},
            args=["--expect", "p1:^PEER: EXIT"], status=status, lines=lines)
        missing = [p for p in ("vmlinuz", "initramfs.cpio.gz") if not (LINUX_PEER / p).is_file()]
        run["skip"] = f"build/linux-peer/{missing[0]} missing (tools/linux-peer)" if missing else None
        return run

    runs.append(peer_run("cluster-linux-ping", "192.0.2.21", 0,
                         [r"^\[t1\] TESSERA: SERVING node=1$", r"^\[p1\] PEER: READY$",
                          r"^\[p1\] 3 packets transmitted, 3 packets received, 0% packet loss$",
                          r"^CLUSTER cluster-linux-ping: PASS"]))
    # Planted: nobody has 192.0.2.99, so ping fails and so must the run.
    runs.append(peer_run("cluster-control-ping-nobody", "192.0.2.99", 1,
                         [r"^\[p1\] 3 packets transmitted, 0 packets received",
                          r"^CLUSTER cluster-control-ping-nobody: FAIL \(p1: PEER: EXIT 1"]))
    # rping (net/rdma/rping): unmodified Linux rping against a Tessera
    # server and a Tessera client against unmodified Linux `rping -s`.
    def rping_run(name, tessera_config, peer_command, status, lines, absent=()):
        tessera = {"name": "t1", "ip": "192.0.2.21", "roles": ["processor", "memory", "grm"], "memory": "128M",
                   "config": tessera_config}
        if tessera_config["tessera.rping"].startswith("client:"):
            tessera["ends"] = True  # it leaves QEMU with its verdict
        run = dict(name=name, description={
            "name": name, "timeouts": {"boot": 240, "silence": 120, "total": 400},
            "nodes": [tessera,
                      {"name": "p1", "kind": "linux", "ip": "192.0.2.31", "memory": "512M", "run": peer_command}]},
            args=["--expect", "p1:^PEER: EXIT", "--expect", "t1:^rping: (PASS|FAIL)"], status=status, lines=lines,
            absent=list(absent))
        missing = [p for p in ("vmlinuz", "initramfs.cpio.gz") if not (LINUX_PEER / p).is_file()]
        run["skip"] = f"build/linux-peer/{missing[0]} missing (tools/linux-peer)" if missing else None
        return run

    server_config = {"tessera.rping": "server:7174", "tessera.rping.count": "100", "tessera.rping.size": "64"}
    # The peer may boot first: a refused connect is retried (the shell's loop; rping itself is unmodified).
    linux_client = ("s=1; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do "
                    "if rping -c -a 192.0.2.21 -C 100 -S 64 -V -v > /tmp/r.out; then s=0; break; fi; sleep 1; done; "
                    "cat /tmp/r.out; grep -c 'ping data: rdma-ping-' /tmp/r.out; exit $s")
    runs.append(rping_run("cluster-rping-linux-client", server_config, linux_client, 0,
                          [r"^\[t1\] rping: listening on 192\.0\.2\.21 port 7174$",
                           r"^\[p1\] ping data: rdma-ping-99: jklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\[",
                           r"^\[p1\] 100$",
                           r"^\[t1\] rping: PASS count=100 size=64$",
                           r"^CLUSTER cluster-rping-linux-client: PASS t1=up p1=done"],
                          absent=[r"rping: FAIL"]))
    runs.append(rping_run("cluster-rping-tessera-client",
                          {"tessera.rping": "client:192.0.2.31:7174", "tessera.rping.count": "100",
                           "tessera.rping.size": "64"},
                          "rping -s -a 192.0.2.31 -C 100 -S 64 -V", 0,
                          [r"^\[p1\] wait for RDMA_READ_ADV state 10$",
                           r"^\[t1\] rping: PASS count=100 size=64$",
                           r"^CLUSTER cluster-rping-tessera-client: PASS t1=done"],
                          absent=[r"rping: FAIL"]))
    # Planted: the Linux client asks for a port where Tessera does not
    # listen (once the node answers ICMP): REJ 8, rping exits 1, and the
    # launcher must fail the run on it.
    runs.append(rping_run("cluster-rping-control-wrong-port", server_config,
                          "until ping -c 1 -W 1 192.0.2.21 >/dev/null; do :; done; sleep 1; "
                          "rping -c -a 192.0.2.21 -p 9999 -C 1 -S 64 -V", 1,
                          [r"^\[p1\] cma event RDMA_CM_EVENT_REJECTED, error 8",
                           r"^CLUSTER cluster-rping-control-wrong-port: FAIL \(p1: PEER: EXIT [1-9]"],
                          absent=[r"rping: PASS"]))
    # Planted: a Tessera server given size 64 must refuse a 100-byte client
    # with its FAIL line (the lines the passing runs are judged by). Linux
    # `rping -c` itself exits 0 when the server disconnects it mid-run, so
    # only the Tessera line shows the failure.
    runs.append(rping_run("cluster-rping-control-wrong-size", server_config,
                          "until ping -c 1 -W 1 192.0.2.21 >/dev/null; do :; done; sleep 1; "
                          "rping -c -a 192.0.2.21 -C 100 -S 100 -V", 0,
                          [r"^\[t1\] rping: FAIL wrong ping size after 0 pings$"],
                          absent=[r"rping: PASS"]))
    runs += _rpc_runs()
    return runs


def _rpc_cluster(name, count, calls):
    """`count` Tessera nodes, each pinging every other over RPC on RoCE (net/rpc/rpc_service.cpp)."""
    ips = [f"192.0.2.{11 + i}" for i in range(count)]
    return {"name": name, "segment": {"mtu": 9000}, "timeouts": {"boot": 120, "silence": 90},
            "nodes": [{"name": f"n{i + 1}", "ip": ip, "id": 11 + i, "roles": ["processor"], "memory": "128M",
                       "config": {"tessera.peers": ",".join(ips), "tessera.rpc.selftest": str(calls)}}
                      for i, ip in enumerate(ips)]}


def _rpc_runs():
    runs = []
    for count in (2, 4):
        expect = [a for i in range(count) for a in ("--expect", f"n{i + 1}:^rpc: PASS peers={count - 1} ")]
        runs.append(dict(name=f"cluster-rpc-{count}", description=_rpc_cluster(f"check-rpc-{count}", count, 20),
                         args=[*expect, "--timeout", "240"], status=0, absent=[r"^\[\w+\] rpc: FAIL"],
                         lines=[rf"^\[n{i + 1}\] rpc: PASS peers={count - 1} calls={20 * (count - 1)}$"
                                for i in range(count)] + [rf"^CLUSTER check-rpc-{count}: PASS"]))
    # n3 dies mid-run: its peers' calls to it fail (QP error or timeout), no hang.
    runs.append(dict(name="cluster-rpc-kill", description=_rpc_cluster("check-rpc-kill", 3, 3000),
                     args=["--then", "sleep:3", "--then", "kill:n3", "--expect", r"n1:^rpc: FAIL peer=192\.0\.2\.13",
                           "--expect", r"n2:^rpc: FAIL peer=192\.0\.2\.13", "--timeout", "200"], status=0,
                     lines=[r"^\[n1\] rpc: FAIL peer=192\.0\.2\.13 ", r"^\[n2\] rpc: FAIL peer=192\.0\.2\.13 ",
                            r"^CLUSTER check-rpc-kill: PASS"]))
    return runs


def judge(run, status, out, err):
    """Problems of one finished launcher run (empty: it passed)."""
    problems = []
    if status != run["status"]:
        problems.append(f"exit status {status}, expected {run['status']}")
    for pattern in run["lines"]:
        if not re.search(pattern, out, re.M):
            problems.append(f"line /{pattern}/ missing")
    for pattern in run.get("absent", []):
        if re.search(pattern, out, re.M):
            problems.append(f"line /{pattern}/ present")
    pids = PID_RE.findall(err)
    if len(pids) != len(run["description"]["nodes"]):
        problems.append(f"{len(pids)} QEMU pids reported, expected {len(run['description']['nodes'])}")
    for node, pid in pids:
        if _alive(int(pid)):
            problems.append(f"{node}'s QEMU (pid {pid}) outlived the launcher")
            os.kill(int(pid), 9)
    return problems


def sigint_run(logs):
    """A serving cluster (no hold: it would run until stopped) gets SIGINT
    from outside once both nodes are up: exit 130, and no QEMU left."""
    path = logs / "cluster-sigint.json"
    path.write_text(json.dumps(_variant("check-sigint", lambda d: None), indent=1))
    proc = subprocess.Popen([sys.executable, str(LAUNCHER), str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    err_lines = []
    deadline = time.monotonic() + 120
    try:
        for line in proc.stderr:
            err_lines.append(line)
            if "all 2 nodes up" in line or time.monotonic() > deadline:
                break
        time.sleep(0.5)
        proc.send_signal(2)
        out, rest = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, rest = proc.communicate()
    err = "".join(err_lines) + rest
    (logs / "cluster-sigint.out").write_text(out + "\n--- stderr\n" + err)
    run = dict(description={"nodes": [1, 2]}, status=130,
               lines=[r"^\[n1\] TESSERA: SERVING node=11$", r"^\[n2\] TESSERA: SERVING node=12$",
                      r"^CLUSTER check-sigint: FAIL \(interrupted\)$"])
    problems = judge(run, proc.returncode, out, err)
    if "all 2 nodes up" not in err:
        problems.append("the nodes were not both up before the SIGINT")
    return problems, out


def run_cluster_tier(tally, say, parse_unittest_summary, logs):
    say("== cluster: launcher tests (fake QEMU) and real clusters (tools/tessera-cluster)")
    result = subprocess.run([sys.executable, "-m", "unittest", "discover", "-s", "tools/cluster/tests",
                             "-t", "tools/cluster"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    counts = parse_unittest_summary(result.stdout)
    if counts is None:
        say(result.stdout[-4000:])
        tally.add(0, 1, failure="cluster: no unittest summary")
    else:
        passed, bad, skip = counts
        if result.returncode != 0 and bad == 0:
            bad = 1
        if bad:
            say(result.stdout[-6000:])
        say(f"   cluster tests: {passed} passed, {bad} failed, {skip} skipped")
        tally.add(passed, bad, skip, failure="cluster: unittest failures" if bad else None)
    logs.mkdir(parents=True, exist_ok=True)
    for run in _runs():
        name = run["name"]
        if run.get("skip"):
            say(f"   SKIP {name}: {run['skip']}")
            tally.add(0, 0, 1)
            continue
        path = logs / f"{name}.json"
        path.write_text(json.dumps(run["description"], indent=1))
        started = time.monotonic()
        try:
            proc = subprocess.run([sys.executable, str(LAUNCHER), str(path), "--log-dir", str(logs / name),
                                   *run["args"]], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, timeout=300)
            status, out, err = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as e:
            status, out, err = None, e.stdout or "", e.stderr or ""
            out, err = (out.decode() if isinstance(out, bytes) else out), \
                (err.decode() if isinstance(err, bytes) else err)
        (logs / f"{name}.out").write_text(out + "\n--- stderr\n" + err)
        problems = judge(run, status, out, err)
        seconds = time.monotonic() - started
        verdict = re.search(r"^CLUSTER \S+: .*$", out, re.M)
        if problems:
            say(f"   FAIL {name} ({seconds:.1f}s): {'; '.join(problems)}; output {logs.name}/{name}.out")
            tally.add(0, 1, failure=f"{name}: {'; '.join(problems)}")
        else:
            say(f"   PASS {name} ({seconds:.1f}s: {verdict.group(0) if verdict else ''})")
            tally.add(1, 0)
    started = time.monotonic()
    problems, _ = sigint_run(logs)
    if problems:
        say(f"   FAIL cluster-sigint: {'; '.join(problems)}; output {logs.name}/cluster-sigint.out")
        tally.add(0, 1, failure=f"cluster-sigint: {'; '.join(problems)}")
    else:
        say(f"   PASS cluster-sigint ({time.monotonic() - started:.1f}s: SIGINT once up, exit 130, no QEMU left)")
        tally.add(1, 0)
