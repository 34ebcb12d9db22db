"""The interop judge on forged transcripts: it must fail what is wrong.

    python3 -m unittest discover -s tools/linux-peer/tests -t tools/linux-peer
"""
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import interop  # noqa: E402
import peer_vm  # noqa: E402


def result(name, lines, status=0, reason="", ready=5.0):
    return peer_vm.PeerResult(name, [(1.0, line) for line in lines], status, reason, ready, 10.0, [])


def scenario(name):
    return next(s for s in interop.scenarios() if s.name == name)


def rdma_peer_lines(direction, operations=interop.OPERATIONS_PER_DIRECTION, passes=1, mtu=4096):
    lines = ["PEER: READY", f"rdma-peer: connected, path MTU {mtu}, QPN 0x11"]
    lines += [f"rdma-peer: {direction} WRITE {n + 1} ok 10us" for n in range(operations)]
    return lines + ["rdma-peer: PASS (1.0 s)"] * passes + ["PEER: EXIT 0"]


class JudgeTest(unittest.TestCase):
    def test_a_good_pair_passes(self):
        s = scenario("rdma-peer-mtu4200")
        ok, reason = interop.judge(s, [result("server", rdma_peer_lines("server->client")),
                                       result("client", rdma_peer_lines("client->server"))])
        self.assertTrue(ok, reason)

    def test_a_missing_operation_fails(self):
        s = scenario("rdma-peer-mtu4200")
        ok, reason = interop.judge(s, [result("server", rdma_peer_lines("server->client")),
                                       result("client", rdma_peer_lines("client->server", operations=115))])
        self.assertFalse(ok)
        self.assertIn("client: 115 lines match", reason)

    def test_the_wrong_path_mtu_fails(self):
        s = scenario("rdma-peer-mtu4200")
        ok, reason = interop.judge(s, [result("server", rdma_peer_lines("server->client", mtu=1024)),
                                       result("client", rdma_peer_lines("client->server"))])
        self.assertFalse(ok)
        self.assertIn("path MTU 4096", reason)

    def test_a_nonzero_exit_fails_with_the_fail_line(self):
        s = scenario("rdma-peer-mtu4200")
        ok, reason = interop.judge(s, [result("server", rdma_peer_lines("server->client")),
                                       result("client", ["rdma-peer: FAIL no completion within 30 s",
                                                         "PEER: EXIT 1"], status=1)])
        self.assertFalse(ok)
        self.assertIn("client: PEER: EXIT 1 (expected 0) after `rdma-peer: FAIL no completion", reason)

    def test_a_timeout_fails_even_after_good_lines(self):
        s = scenario("rping")
        server = result("server", ["PEER: READY", "wait for RDMA_READ_ADV state 10", "PEER: EXIT 0"])
        client = result("client", ["PEER: READY", "ping data: rdma-ping-99: x", "100"], status=None,
                        reason="silence timeout (60 s without output)")
        ok, reason = interop.judge(s, [server, client])
        self.assertFalse(ok)
        self.assertIn("client: silence timeout", reason)

    def test_a_serving_peer_must_have_been_ready(self):
        s = scenario("control-wrong-port")
        ok, reason = interop.judge(s, [result("server", [], status=None, ready=None),
                                       result("client", ["rdma-peer: PASS (1 s)", "PEER: EXIT 0"])])
        self.assertFalse(ok)
        self.assertIn("server: never printed PEER: READY", reason)

    def test_run_encoding_round_trips_through_init(self):
        # init.sh decodes %20 then %25, in that order.
        command = "a b%20c 100%"
        encoded = peer_vm.encode_run(command)
        self.assertNotIn(" ", encoded)
        self.assertEqual(encoded.replace("%20", " ").replace("%25", "%"), command)


if __name__ == "__main__":
    unittest.main()
