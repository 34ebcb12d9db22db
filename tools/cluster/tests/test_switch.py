import os
import socket
import struct
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import switch as sw  # noqa: E402

BROADCAST = b"\xff" * 6


def mac(n):
    return bytes([0x52, 0x54, 0x00, 0xC0, 0x02, n])


def frame(dst, src, payload=b"x" * 46):
    return dst + src + b"\x08\x00" + payload


class FakePort(sw.Port):
    def __init__(self, name, **kw):
        super().__init__(name, **kw)
        self.sent = []

    def send(self, frame):
        self.sent.append(frame)


def make(n=3, mtu=1500, seed=1, **kw):
    s = sw.Switch(mtu=mtu, seed=seed)
    ports = [FakePort(f"p{i}", **kw) for i in range(1, n + 1)]
    for p in ports:
        s.add_port(p)
    return s, ports


class Forwarding(unittest.TestCase):
    def test_unknown_destination_floods_everyone_but_the_sender(self):
        s, (a, b, c) = make()
        f = frame(mac(2), mac(1))
        s.receive("p1", f, 0.0)
        self.assertEqual(a.sent, [])
        self.assertEqual(b.sent, [f])
        self.assertEqual(c.sent, [f])
        self.assertEqual(s.flooded, 1)

    def test_learns_and_then_forwards_only_to_the_learnt_port(self):
        s, (a, b, c) = make()
        s.receive("p2", frame(BROADCAST, mac(2)), 0.0)   # p2 announces itself (ARP)
        s.receive("p1", frame(mac(2), mac(1)), 0.0)
        self.assertEqual(len(b.sent), 1)
        self.assertEqual(len(c.sent), 1)                  # only the broadcast
        self.assertEqual(s.forwarded, 1)
        s.receive("p2", frame(mac(1), mac(2)), 0.0)       # the reply: p1 was learnt
        self.assertEqual(len(a.sent), 2)
        self.assertEqual(len(c.sent), 1)

    def test_a_station_that_moves_is_relearnt(self):
        s, (a, b, c) = make()
        s.receive("p2", frame(BROADCAST, mac(9)), 0.0)
        s.receive("p3", frame(BROADCAST, mac(9)), 0.0)
        s.receive("p1", frame(mac(9), mac(1)), 0.0)
        self.assertEqual(c.sent[-1], frame(mac(9), mac(1)))
        self.assertNotIn(frame(mac(9), mac(1)), b.sent)

    def test_multicast_sources_are_not_learnt_and_multicast_floods(self):
        s, (a, b, c) = make()
        multicast = bytes([0x01, 0x00, 0x5E, 0, 0, 1])
        s.receive("p1", frame(BROADCAST, multicast), 0.0)
        self.assertNotIn(multicast, s.table)
        s.receive("p2", frame(multicast, mac(2)), 0.0)
        self.assertEqual(len(a.sent), 1)
        self.assertEqual(len(c.sent), 2)

    def test_frame_to_its_own_port_is_not_echoed(self):
        s, (a, b, c) = make()
        s.receive("p1", frame(BROADCAST, mac(1)), 0.0)
        s.receive("p1", frame(mac(1), mac(5)), 0.0)
        self.assertEqual(a.sent, [])
        self.assertEqual(len(b.sent), 1)

    def test_jumbo_frames_pass_up_to_the_mtu_and_larger_ones_are_dropped(self):
        s, (a, b) = make(2, mtu=9000)
        jumbo = frame(BROADCAST, mac(1), b"j" * 9000)
        s.receive("p1", jumbo, 0.0)
        self.assertEqual(b.sent, [jumbo])
        s.receive("p1", frame(BROADCAST, mac(1), b"j" * 9005), 0.0)  # 9019 > 9000 + 18
        self.assertEqual(len(b.sent), 1)
        self.assertEqual(a.counters.dropped_malformed, 1)
        s.receive("p1", b"\x01" * 13, 0.0)  # runt
        self.assertEqual(a.counters.dropped_malformed, 2)

    def test_the_largest_switch_frame_is_9216(self):
        s, (a, b) = make(2, mtu=9202)
        s.receive("p1", frame(BROADCAST, mac(1), b"j" * (9216 - 14)), 0.0)
        self.assertEqual(len(b.sent), 1)
        s.receive("p1", frame(BROADCAST, mac(1), b"j" * (9217 - 14)), 0.0)
        self.assertEqual(len(b.sent), 1)

    def test_a_send_error_is_counted_not_raised(self):
        s, (a, b) = make(2)

        def broken(frame):
            raise ConnectionRefusedError
        b.send = broken
        s.receive("p1", frame(BROADCAST, mac(1)), 0.0)
        self.assertEqual(b.counters.tx_errors, 1)


class Impairments(unittest.TestCase):
    def test_partition_drops_across_groups_and_counts(self):
        s, (a, b, c) = make()
        s.set_partitions([["p1", "p2"], ["p3"]])
        s.receive("p1", frame(BROADCAST, mac(1)), 0.0)
        self.assertEqual(len(b.sent), 1)
        self.assertEqual(c.sent, [])
        self.assertEqual(a.counters.dropped_partition, 1)
        s.set_partitions([])
        s.receive("p1", frame(BROADCAST, mac(1)), 0.0)
        self.assertEqual(len(c.sent), 1)

    def test_cut_isolates_one_port_both_ways(self):
        s, (a, b, c) = make()
        s.set_cut("p3", True)
        s.receive("p3", frame(BROADCAST, mac(3)), 0.0)
        s.receive("p1", frame(BROADCAST, mac(1)), 0.0)
        self.assertEqual(a.sent, [])
        self.assertEqual(len(b.sent), 1)
        self.assertEqual(c.sent, [])
        s.set_cut("p3", False)
        s.receive("p1", frame(BROADCAST, mac(1)), 0.0)
        self.assertEqual(len(c.sent), 1)

    def test_loss_is_seeded_and_counted(self):
        counts = []
        for _ in range(2):
            s, (a, b) = make(2, seed=7)
            s.set_impairment("p2", loss=0.3)
            for _ in range(1000):
                s.receive("p1", frame(BROADCAST, mac(1)), 0.0)
            counts.append((len(b.sent), b.counters.dropped_loss))
        self.assertEqual(counts[0], counts[1])           # the same seed, the same losses
        delivered, lost = counts[0]
        self.assertEqual(delivered + lost, 1000)
        self.assertTrue(250 <= lost <= 350, lost)

    def test_full_loss_drops_everything(self):
        s, (a, b) = make(2)
        s.set_impairment("p1", loss=1.0)
        for _ in range(10):
            s.receive("p1", frame(BROADCAST, mac(1)), 0.0)
        self.assertEqual(b.sent, [])
        self.assertEqual(a.counters.dropped_loss, 10)

    def test_delay_holds_frames_until_their_time_in_order(self):
        s, (a, b) = make(2)
        s.set_impairment("p1", delay_ms=30)
        s.set_impairment("p2", delay_ms=20)
        f1, f2 = frame(BROADCAST, mac(1), b"1" * 46), frame(BROADCAST, mac(1), b"2" * 46)
        s.receive("p1", f1, 1.0)
        s.receive("p1", f2, 1.001)
        self.assertEqual(b.sent, [])
        self.assertAlmostEqual(s.next_deadline(), 1.05)
        s.poll(1.0499)
        self.assertEqual(b.sent, [])
        s.poll(1.0511)
        self.assertEqual(b.sent, [f1, f2])
        self.assertIsNone(s.next_deadline())


class StreamFraming(unittest.TestCase):
    def test_decoder_splits_frames_across_arbitrary_chunks(self):
        frames = [b"a" * 60, b"b" * 9216, b"c" * 1]
        wire = b"".join(sw.encode_stream_frame(f) for f in frames)
        self.assertEqual(wire[:4], struct.pack(">I", 60))
        for step in (1, 3, 7, 4096, len(wire)):
            d = sw.StreamDecoder()
            got = []
            for i in range(0, len(wire), step):
                got += d.feed(wire[i:i + step])
            self.assertEqual(got, frames, step)
            self.assertEqual(d.buffer, b"")

    def test_decoder_refuses_an_impossible_length(self):
        with self.assertRaises(ValueError):
            sw.StreamDecoder().feed(struct.pack(">I", 1 << 20))


class RealSockets(unittest.TestCase):
    """The switch thread on real unix datagram and TCP loopback sockets."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="tsw-")
        self.switch = sw.Switch(mtu=9000)
        self.pcap = os.path.join(self.tmp.name, "seg.pcap")
        self.switch.pcap = sw.PcapWriter(self.pcap)
        self.vms = {}
        for name in ("a", "b"):
            vm = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            vm.bind(os.path.join(self.tmp.name, f"{name}.vm"))
            vm.settimeout(5)
            self.vms[name] = vm
            self.switch.add_port(sw.DgramPort(name, os.path.join(self.tmp.name, f"{name}.sw"),
                                              os.path.join(self.tmp.name, f"{name}.vm")))
        self.stream = sw.StreamPort("s", 0)
        self.switch.add_port(self.stream)
        self.thread = sw.SwitchThread(self.switch)
        self.thread.start()

    def tearDown(self):
        self.thread.stop()
        for vm in self.vms.values():
            vm.close()
        self.tmp.cleanup()

    def send(self, name, data):
        self.vms[name].sendto(data, os.path.join(self.tmp.name, f"{name}.sw"))

    def test_dgram_and_stream_ports_exchange_jumbo_frames(self):
        tcp = socket.create_connection(("127.0.0.1", self.stream.port), timeout=5)
        try:
            deadline = time.monotonic() + 5
            while self.stream.conn is None and time.monotonic() < deadline:
                time.sleep(0.01)
            jumbo = frame(BROADCAST, mac(1), b"J" * 8990)
            self.send("a", jumbo)
            self.assertEqual(self.vms["b"].recv(65536), jumbo)
            decoder = sw.StreamDecoder()
            got = []
            while not got:
                got = decoder.feed(tcp.recv(65536))
            self.assertEqual(got, [jumbo])
            # From the stream side to a learnt dgram node: only a gets it.
            reply = frame(mac(1), mac(7), b"r" * 100)
            tcp.sendall(sw.encode_stream_frame(reply)[:5])
            time.sleep(0.05)
            tcp.sendall(sw.encode_stream_frame(reply)[5:])
            self.assertEqual(self.vms["a"].recv(65536), reply)
            self.vms["b"].settimeout(0.3)
            with self.assertRaises(socket.timeout):
                self.vms["b"].recv(65536)
        finally:
            tcp.close()

    def test_pcap_has_a_header_and_one_record_per_frame(self):
        f = frame(BROADCAST, mac(1))
        self.send("a", f)
        self.assertEqual(self.vms["b"].recv(65536), f)
        self.thread.stop()
        self.thread = sw.SwitchThread(sw.Switch())  # tearDown stops something harmless
        self.thread.start()
        data = Path(self.pcap).read_bytes()
        magic, major, minor, _, _, snaplen, linktype = struct.unpack_from("<IHHiIII", data)
        self.assertEqual((magic, major, minor, linktype), (0xA1B2C3D4, 2, 4, 1))
        _, _, caplen, length = struct.unpack_from("<IIII", data, 24)
        self.assertEqual((caplen, length), (len(f), len(f)))
        self.assertEqual(data[40:40 + len(f)], f)
        self.assertEqual(len(data), 40 + len(f))

    def test_the_stream_port_listens_on_loopback_only(self):
        self.assertEqual(self.stream.listener.getsockname()[0], "127.0.0.1")


if __name__ == "__main__":
    unittest.main()
