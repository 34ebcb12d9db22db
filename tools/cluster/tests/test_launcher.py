"""The launcher end to end with a fake QEMU (fake_qemu_node.py): what
makes a run pass or fail, the commands it builds, and that no QEMU
survives it (also on SIGINT and SIGTERM)."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent
LAUNCHER = ROOT / "tools" / "tessera-cluster"
FAKE = f"{sys.executable} {HERE / 'fake_qemu_node.py'}"
SERVING = "Tessera: booting\nTESSERA: SERVING node={}\n"


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes only once reaped; the launcher reaps
    # its own children, so a zombie here would be a leak too.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class LauncherTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="tcl-")
        self.dir = Path(self.tmp.name)
        self.iso = self.dir / "fake.iso"
        self.iso.write_bytes(b"")
        self.pids = self.dir / "pids"
        self.pids.mkdir()
        self.monitor_log = self.dir / "monitor.log"

    def tearDown(self):
        for pidfile in self.pids.glob("*.pid"):
            pid = int(pidfile.read_text())
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
                self.fail(f"fake QEMU {pid} ({pidfile.stem}) outlived the launcher")
        self.tmp.cleanup()

    def describe(self, nodes=None, **top):
        data = {"name": "t", "nodes": nodes or [
            {"name": "n1", "ip": "192.0.2.11", "id": 11, "roles": ["processor"]},
            {"name": "n2", "ip": "192.0.2.12", "id": 12, "roles": ["memory", "grm"]}]}
        data.update(top)
        path = self.dir / "cluster.json"
        path.write_text(json.dumps(data))
        return path

    def env(self, scenario):
        path = self.dir / "scenario.json"
        path.write_text(json.dumps(scenario))
        env = dict(os.environ, FAKE_CLUSTER_SCENARIO=str(path), FAKE_CLUSTER_PIDS=str(self.pids),
                   FAKE_CLUSTER_MONITOR_LOG=str(self.monitor_log), TESSERA_ACCEL="tcg")
        return env

    def launch(self, scenario, *args, description=None, timeout=30):
        description = description or self.describe()
        cmd = [sys.executable, str(LAUNCHER), str(description), "--iso", str(self.iso), "--qemu", FAKE, *args]
        result = subprocess.run(cmd, env=self.env(scenario), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, timeout=timeout)
        return result

    def serving_scenario(self):
        return {"n1": [{"out": SERVING.format(11)}], "n2": [{"sleep": 0.2}, {"out": SERVING.format(12)}]}

    def pid(self, node):
        return int((self.pids / f"{node}.pid").read_text())

    def argv(self, node):
        return json.loads((self.pids / f"{node}.argv").read_text())

    # --- passing runs -----------------------------------------------------------

    def test_both_nodes_serving_pass_with_prefixed_lines(self):
        r = self.launch(self.serving_scenario(), "--until-up")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("[n1] TESSERA: SERVING node=11\n", r.stdout)
        self.assertIn("[n2] TESSERA: SERVING node=12\n", r.stdout)
        self.assertRegex(r.stdout, r"(?m)^CLUSTER t: PASS n1=up n2=up$")
        self.assertIn("cluster: accel tcg (TESSERA_ACCEL=tcg)", r.stderr)
        self.assertRegex(r.stderr, r"n1 up after [\d.]+s; up 1/2, waiting for n2")
        self.assertRegex(r.stderr, r"n2 up after [\d.]+s; up 2/2")
        for node in ("n1", "n2"):
            self.assertFalse(alive(self.pid(node)))

    def test_command_carries_configuration_nic_and_monitor(self):
        self.launch(self.serving_scenario(), "--until-up",
                    description=self.describe(segment={"mtu": 9000}))
        argv = self.argv("n1")
        text = " ".join(argv)
        config = argv[argv.index("-fw_cfg") + 1]
        self.assertEqual(config, "name=opt/tessera/config,string=tessera.node=11 tessera.ip=192.0.2.11/24 "
                                 "tessera.roles=processor tessera.mode=ready tessera.grm=192.0.2.12")
        netdev = argv[argv.index("-netdev") + 1]
        self.assertRegex(netdev, r"^dgram,id=net0,local\.type=unix,local\.path=/tmp/tessera-cluster-\w+/n1\.vm,"
                                 r"remote\.type=unix,remote\.path=/tmp/tessera-cluster-\w+/n1\.sw$")
        self.assertIn("virtio-net-pci,netdev=net0,mac=52:54:00:c0:02:0b,romfile=,host_mtu=9000", argv)
        self.assertRegex(text, r"-monitor unix:/tmp/tessera-cluster-\w+/n1\.mon,server=on,wait=off")
        self.assertNotIn("tap", text)
        self.assertIn("-accel tcg", text)
        config2 = self.argv("n2")[self.argv("n2").index("-fw_cfg") + 1]
        self.assertIn("tessera.roles=memory,,grm", config2)  # QEMU's comma escape

    def test_node_config_keys_override_the_mode(self):
        nodes = [{"name": "n1", "ip": "192.0.2.11", "roles": ["processor"],
                  "config": {"tessera.mode": "shell", "tessera.loglevel": "debug"}}]
        self.launch({"n1": [{"out": SERVING.format(1)}]}, "--until-up", description=self.describe(nodes))
        argv = self.argv("n1")
        config = argv[argv.index("-fw_cfg") + 1]
        self.assertTrue(config.endswith("tessera.roles=processor tessera.mode=shell tessera.loglevel=debug"),
                        config)

    def test_stream_link_connects_to_loopback(self):
        nodes = [{"name": "n1", "ip": "192.0.2.11", "roles": ["processor"], "link": {"transport": "stream"}}]
        r = self.launch({"n1": [{"out": SERVING.format(1)}]}, "--until-up", description=self.describe(nodes))
        self.assertEqual(r.returncode, 0, r.stderr)
        netdev = self.argv("n1")[self.argv("n1").index("-netdev") + 1]
        self.assertRegex(netdev, r"^stream,id=net0,server=off,addr\.type=inet,addr\.host=127\.0\.0\.1,"
                                 r"addr\.port=\d+$")

    def test_expect_waits_for_a_line(self):
        scenario = self.serving_scenario()
        scenario["n2"] += [{"sleep": 0.5}, {"out": "rpc: hello from n1\n"}]
        r = self.launch(scenario, "--expect", "n2:^rpc: hello")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("n2: saw /^rpc: hello/", r.stderr)

    def test_kill_pause_and_cont_actions(self):
        r = self.launch(self.serving_scenario(), "--then", "pause:n1", "--then", "cont:n1", "--then", "kill:n2",
                        "--then", "sleep:0.5", "--hold", "0.2")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"(?m)^CLUSTER t: PASS n1=up n2=killed$")
        self.assertEqual(self.monitor_log.read_text(), "n1 stop\nn1 cont\n")
        self.assertRegex(r.stderr, r"n2 killed \(pid \d+\); up 1/2")

    def test_linux_peer_command_line(self):
        kernel, initrd = self.dir / "vmlinuz", self.dir / "initramfs.cpio.gz"
        kernel.write_bytes(b"")
        initrd.write_bytes(b"")
        nodes = [{"name": "peer", "kind": "linux", "ip": "192.0.2.50", "run": "rping -s -v"}]
        r = self.launch({"peer": [{"out": "PEER: READY\n"}, {"out": "PEER: EXIT 0\n"}, {"exit": 0}]},
                        "--linux-kernel", str(kernel), "--linux-initrd", str(initrd), "--hold", "1",
                        description=self.describe(nodes, segment={"mtu": 4000}))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"(?m)^CLUSTER t: PASS peer=done$")
        argv = self.argv("peer")
        self.assertEqual(argv[argv.index("-append") + 1],
                         "console=ttyS0 peer.ip=192.0.2.50/24 peer.mtu=4000 peer.run=rping%20-s%20-v")
        self.assertEqual(argv[argv.index("-kernel") + 1], str(kernel))
        self.assertEqual(argv[argv.index("-initrd") + 1], str(initrd))

    # --- failing runs (planted) -------------------------------------------------

    def assertFails(self, r, reason):
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"(?m)^CLUSTER t: FAIL \(" + reason)

    def test_a_panicking_node_fails_the_run(self):
        scenario = {"n1": [{"out": SERVING.format(11)}],
                    "n2": [{"out": "Tessera: booting\nKERNEL PANIC: planted\n"}]}
        self.assertFails(self.launch(scenario, "--until-up"), r"n2: fail line: KERNEL PANIC: planted\)")

    def test_a_panic_after_serving_fails_the_hold(self):
        scenario = self.serving_scenario()
        scenario["n1"] += [{"sleep": 0.5}, {"out": "EXCEPTION: page fault\n"}]
        self.assertFails(self.launch(scenario, "--hold", "3"), r"n1: fail line: EXCEPTION: page fault\)")

    def test_a_node_that_never_serves_hits_the_silence_timeout(self):
        scenario = {"n1": [{"out": SERVING.format(11)}], "n2": [{"out": "Tessera: booting\n"}]}
        self.assertFails(self.launch(scenario, "--until-up", "--silence-timeout", "1"),
                         r"silence: n2 printed nothing for 1s before it was up\)")

    def test_a_chatty_node_that_never_serves_hits_the_boot_timeout(self):
        scenario = {"n1": [{"out": SERVING.format(11)}], "n2": [{"out": "tessera> \n"}] * 1 +
                    [{"sleep": 0.3}, {"out": "noise\n"}] * 20}
        self.assertFails(self.launch(scenario, "--until-up", "--boot-timeout", "2"),
                         r"timeout: n2 not up after 2s\)")

    def test_an_unexpected_exit_fails(self):
        scenario = self.serving_scenario()
        scenario["n2"] += [{"sleep": 0.3}, {"exit": 33}]
        self.assertFails(self.launch(scenario, "--hold", "3"),
                         r"n2: QEMU exited unexpectedly \(exit code 33\)")

    def test_a_node_that_ends_may_exit_with_success_only(self):
        nodes = [{"name": "n1", "ip": "192.0.2.11", "id": 11, "roles": ["processor"]},
                 {"name": "n2", "ip": "192.0.2.12", "id": 12, "roles": ["memory", "grm"], "ends": True}]
        scenario = self.serving_scenario()
        scenario["n2"] += [{"sleep": 0.3}, {"exit": 33}]
        r = self.launch(scenario, "--hold", "2", description=self.describe(nodes))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"(?m)^CLUSTER t: PASS n1=up n2=done$")
        self.assertIn("n2 ended with success (exit code 33)", r.stderr)
        # Planted: the same node leaving with the failure code (35) fails the run.
        scenario["n2"][-1] = {"exit": 35}
        self.assertFails(self.launch(scenario, "--hold", "2", description=self.describe(nodes)),
                         r"n2: QEMU exited unexpectedly \(exit code 35\)")

    def test_a_second_serving_line_fails(self):
        scenario = self.serving_scenario()
        scenario["n1"] += [{"sleep": 0.3}, {"out": SERVING.format(11)}]
        self.assertFails(self.launch(scenario, "--hold", "2"), r"n1: up line printed 2 times")

    def test_an_unmet_expect_fails_by_the_total_timeout(self):
        r = self.launch(self.serving_scenario(), "--expect", "n1:^never$", "--timeout", "2")
        self.assertFails(r, r"timeout: total 2s passed \(expect\)\)")

    def test_a_failing_peer_command_fails(self):
        kernel = self.dir / "vmlinuz"
        kernel.write_bytes(b"")
        nodes = [{"name": "peer", "kind": "linux", "ip": "192.0.2.50", "run": "false"}]
        r = self.launch({"peer": [{"out": "PEER: READY\nPEER: EXIT 1\n"}, {"exit": 0}]},
                        "--linux-kernel", str(kernel), "--linux-initrd", str(kernel), "--hold", "1",
                        description=self.describe(nodes))
        self.assertFails(r, r"peer: PEER: EXIT 1\)")

    def test_a_failing_peer_command_fails_even_when_an_expect_sees_its_exit(self):
        # Found by make check: --expect 'p1:^PEER: EXIT' matched "PEER: EXIT
        # 1" and the run passed before QEMU's exit was judged.
        kernel = self.dir / "vmlinuz"
        kernel.write_bytes(b"")
        nodes = [{"name": "peer", "kind": "linux", "ip": "192.0.2.50", "run": "false"}]
        r = self.launch({"peer": [{"out": "PEER: READY\n"}, {"sleep": 0.3}, {"out": "PEER: EXIT 1\n"},
                                  {"sleep": 2}, {"exit": 0}]},
                        "--linux-kernel", str(kernel), "--linux-initrd", str(kernel), "--expect", "peer:^PEER: EXIT",
                        description=self.describe(nodes))
        self.assertFails(r, r"peer: PEER: EXIT 1\)")

    def test_usage_errors_exit_2(self):
        r = self.launch({}, "--until-up", description=self.describe([{"name": "a", "ip": "10.1.1.1"}]))
        self.assertEqual(r.returncode, 2)
        self.assertIn("is not a host address of the private segment", r.stderr)
        nodes = [{"name": "peer", "kind": "linux", "ip": "192.0.2.50"}]
        r = self.launch({}, "--linux-kernel", "/nonexistent/vmlinuz", description=self.describe(nodes))
        self.assertEqual(r.returncode, 2)
        self.assertIn("Linux peer file not found: /nonexistent/vmlinuz", r.stderr)
        r = self.launch({}, "--expect", "n9:x")
        self.assertEqual(r.returncode, 2)

    # --- cleanup on signals -----------------------------------------------------

    def _signal_launcher(self, sig):
        cmd = [sys.executable, str(LAUNCHER), str(self.describe()), "--iso", str(self.iso), "--qemu", FAKE]
        proc = subprocess.Popen(cmd, env=self.env(self.serving_scenario()), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while len(list(self.pids.glob("*.pid"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # both serving, the launcher in its serve loop
        pids = [self.pid("n1"), self.pid("n2")]
        self.assertTrue(all(alive(p) for p in pids))
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
        for pid in pids:
            self.assertFalse(alive(pid), f"QEMU {pid} survived {sig.name}")
        return proc.returncode, out, err

    def test_sigint_kills_every_qemu(self):
        code, out, err = self._signal_launcher(signal.SIGINT)
        self.assertEqual(code, 130, out + err)
        self.assertIn("CLUSTER t: FAIL (interrupted)", out)

    def test_sigterm_kills_every_qemu(self):
        code, out, err = self._signal_launcher(signal.SIGTERM)
        self.assertEqual(code, 130, out + err)


if __name__ == "__main__":
    unittest.main()
