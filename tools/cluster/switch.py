"""The private Ethernet segment: a learning switch over unix datagram
sockets (and TCP streams on 127.0.0.1), with per-link impairments.

Each node's NIC is a QEMU `-netdev dgram` whose remote end is a unix
datagram socket the switch owns (one per node), or a `-netdev stream`
that connects to a TCP port the switch listens on at 127.0.0.1 (QEMU's
stream framing: a 4-byte big-endian length before each frame). The
decision logic (`Switch.receive`, `Switch.poll`) takes the time as an
argument and talks to ports only through `send()`, so the tests drive it
with fake ports and a fake clock; `SwitchThread` runs it on real sockets.

What it does with a frame from port A:
  - too short for an Ethernet header, or longer than the segment's MTU
    plus 18 bytes (header and one VLAN tag): dropped, counted;
  - learns A as the port of the source MAC (unicast sources only);
  - a known unicast destination goes to its port, anything else is
    flooded to every port but A;
  - for each destination port B: dropped if A and B are in different
    partition groups, or the node on A or B is cut off; dropped with A's
    ingress loss and B's egress loss probabilities (one seeded RNG);
    delayed by A's delay plus B's delay.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import os
import random
import selectors
import socket
import struct
import threading
import time
from typing import Dict, List, Optional, Tuple

MAX_FRAME = 9216
ETHERNET_HEADER = 14
STREAM_HEADER = struct.Struct(">I")
SOCKET_BUFFER = 4 * 1024 * 1024


@dataclasses.dataclass
class Counters:
    rx: int = 0
    tx: int = 0
    tx_errors: int = 0          # the peer socket was gone (node down or not started)
    dropped_loss: int = 0
    dropped_partition: int = 0
    dropped_malformed: int = 0  # runt or over the MTU


class Port:
    """One switch port; subclasses move bytes, the switch decides."""

    def __init__(self, name: str, loss: float = 0.0, delay_ms: float = 0.0):
        self.name = name
        self.loss = loss
        self.delay_ms = delay_ms
        self.counters = Counters()

    def send(self, frame: bytes) -> None:
        raise NotImplementedError

    # Real ports: the sockets to watch and what to do when one is readable.
    def sockets(self) -> List[socket.socket]:
        return []

    def readable(self, sock: socket.socket) -> List[bytes]:
        return []

    def close(self) -> None:
        pass


def _mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


class Switch:
    def __init__(self, mtu: int = 1500, seed: int = 1, pcap=None):
        self.mtu = mtu
        self.ports: Dict[str, Port] = {}
        self.table: Dict[bytes, str] = {}       # MAC -> port name
        self.groups: Dict[str, int] = {}        # port name -> partition group (absent: 0)
        self.cut: set = set()                   # ports cut off from everyone
        self.random = random.Random(seed)
        self.pending: List[Tuple[float, int, str, bytes]] = []
        self.sequence = itertools.count()
        self.pcap = pcap
        self.lock = threading.Lock()
        self.flooded = 0
        self.forwarded = 0

    def add_port(self, port: Port) -> None:
        with self.lock:
            self.ports[port.name] = port

    def set_partitions(self, groups: List[List[str]]) -> None:
        with self.lock:
            self.groups = {}
            for i, members in enumerate(groups, start=1):
                for member in members:
                    self.groups[member] = i

    def set_cut(self, name: str, cut: bool) -> None:
        with self.lock:
            (self.cut.add if cut else self.cut.discard)(name)

    def set_impairment(self, name: str, loss: Optional[float] = None, delay_ms: Optional[float] = None) -> None:
        with self.lock:
            port = self.ports[name]
            if loss is not None:
                port.loss = loss
            if delay_ms is not None:
                port.delay_ms = delay_ms

    def max_frame(self) -> int:
        return min(MAX_FRAME, self.mtu + ETHERNET_HEADER + 4)

    def receive(self, name: str, frame: bytes, now: float) -> None:
        """A frame arrived on port `name` at time `now` (seconds)."""
        with self.lock:
            source = self.ports[name]
            source.counters.rx += 1
            if len(frame) < ETHERNET_HEADER or len(frame) > self.max_frame():
                source.counters.dropped_malformed += 1
                return
            if self.pcap is not None:
                self.pcap.write(frame, time.time())
            destination, src = frame[0:6], frame[6:12]
            if not src[0] & 1:
                self.table[src] = name
            target = None if destination[0] & 1 else self.table.get(destination)
            if target == name:
                return  # both ends on the same port: nothing to forward
            if target is not None and target in self.ports:
                outs = [target]
                self.forwarded += 1
            else:
                outs = [p for p in self.ports if p != name]
                self.flooded += 1
            for out in outs:
                self._offer(source, self.ports[out], frame, now)
        self.poll(now)

    def _offer(self, source: Port, target: Port, frame: bytes, now: float) -> None:
        if (source.name in self.cut or target.name in self.cut or
                self.groups.get(source.name, 0) != self.groups.get(target.name, 0)):
            source.counters.dropped_partition += 1
            return
        for lossy in (source, target):
            if lossy.loss and self.random.random() < lossy.loss:
                lossy.counters.dropped_loss += 1
                return
        delay = (source.delay_ms + target.delay_ms) / 1000.0
        heapq.heappush(self.pending, (now + delay, next(self.sequence), target.name, frame))

    def poll(self, now: float) -> None:
        """Delivers every frame whose time has come."""
        while True:
            with self.lock:
                if not self.pending or self.pending[0][0] > now:
                    return
                _, _, name, frame = heapq.heappop(self.pending)
                port = self.ports.get(name)
            if port is None:
                continue
            try:
                port.send(frame)
                port.counters.tx += 1
            except OSError:
                port.counters.tx_errors += 1

    def next_deadline(self) -> Optional[float]:
        with self.lock:
            return self.pending[0][0] if self.pending else None

    def summary(self) -> str:
        words = [f"flooded={self.flooded} forwarded={self.forwarded}"]
        for port in self.ports.values():
            c = port.counters
            words.append(f"{port.name}: rx={c.rx} tx={c.tx} loss={c.dropped_loss} partition={c.dropped_partition}"
                         f" malformed={c.dropped_malformed} tx_errors={c.tx_errors}")
        return "; ".join(words)


class DgramPort(Port):
    """A unix datagram socket bound at `path`; frames go to `peer_path`
    (the VM's own socket, bound by QEMU)."""

    def __init__(self, name: str, path: str, peer_path: str, **impairment):
        super().__init__(name, **impairment)
        self.path = path
        self.peer_path = peer_path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
            self.sock.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER)
        self.sock.bind(path)
        self.sock.setblocking(False)

    def send(self, frame: bytes) -> None:
        self.sock.sendto(frame, self.peer_path)

    def sockets(self):
        return [self.sock]

    def readable(self, sock):
        frames = []
        while True:
            try:
                frames.append(self.sock.recv(65536))
            except (BlockingIOError, InterruptedError):
                return frames

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


class StreamDecoder:
    """QEMU's stream framing: each frame is a 4-byte big-endian length,
    then that many bytes. Raises ValueError on a length no frame can have."""

    def __init__(self):
        self.buffer = b""

    def feed(self, data: bytes) -> List[bytes]:
        self.buffer += data
        frames = []
        while len(self.buffer) >= STREAM_HEADER.size:
            (length,) = STREAM_HEADER.unpack_from(self.buffer)
            if length > 65536:
                raise ValueError(f"stream frame length {length} is not a frame")
            end = STREAM_HEADER.size + length
            if len(self.buffer) < end:
                break
            frames.append(self.buffer[STREAM_HEADER.size:end])
            self.buffer = self.buffer[end:]
        return frames


def encode_stream_frame(frame: bytes) -> bytes:
    return STREAM_HEADER.pack(len(frame)) + frame


class StreamPort(Port):
    """A TCP port on 127.0.0.1 that one QEMU `-netdev stream` (or another
    launcher's trunk) connects to; a newer connection replaces an older."""

    def __init__(self, name: str, port: int = 0, **impairment):
        super().__init__(name, **impairment)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))  # the network rule: loopback only
        self.listener.listen(4)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.conn: Optional[socket.socket] = None
        self.decoder = StreamDecoder()
        self.on_change = None   # set by SwitchThread: the socket set changed

    def send(self, frame: bytes) -> None:
        if self.conn is None:
            raise OSError("not connected")
        # Blocking send of one small record keeps the framing whole.
        self.conn.setblocking(True)
        try:
            self.conn.sendall(encode_stream_frame(frame))
        finally:
            self.conn.setblocking(False)

    def sockets(self):
        return [self.listener] + ([self.conn] if self.conn else [])

    def readable(self, sock):
        if sock is self.listener:
            try:
                conn, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return []
            self._drop_connection()
            conn.setblocking(False)
            self.conn = conn
            self.decoder = StreamDecoder()
            if self.on_change:
                self.on_change()
            return []
        try:
            data = sock.recv(262144)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            data = b""
        if not data:
            self._drop_connection()
            if self.on_change:
                self.on_change()
            return []
        try:
            return self.decoder.feed(data)
        except ValueError:
            self.counters.dropped_malformed += 1
            self._drop_connection()
            if self.on_change:
                self.on_change()
            return []

    def _drop_connection(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def close(self):
        self._drop_connection()
        self.listener.close()


class SwitchThread(threading.Thread):
    """Runs a Switch on its ports' real sockets until stop()."""

    def __init__(self, switch: Switch):
        super().__init__(name="tessera-switch", daemon=True)
        self.switch = switch
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        self.stopping = False
        self.changed = True
        for port in switch.ports.values():
            if isinstance(port, StreamPort):
                port.on_change = self._mark_changed

    def _mark_changed(self):
        self.changed = True

    def stop(self):
        self.stopping = True
        os.write(self.wake_w, b"x")
        self.join(timeout=5)
        for port in self.switch.ports.values():
            port.close()
        if self.switch.pcap is not None:
            self.switch.pcap.close()
        os.close(self.wake_r)
        os.close(self.wake_w)

    def run(self):
        sel = selectors.DefaultSelector()
        while not self.stopping:
            if self.changed:
                self.changed = False
                sel.close()
                sel = selectors.DefaultSelector()
                sel.register(self.wake_r, selectors.EVENT_READ, None)
                for port in list(self.switch.ports.values()):
                    for sock in port.sockets():
                        sel.register(sock, selectors.EVENT_READ, port)
            deadline = self.switch.next_deadline()
            wait = 0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic()))
            for key, _ in sel.select(wait):
                if key.data is None:
                    try:
                        os.read(self.wake_r, 64)
                    except BlockingIOError:
                        pass
                    continue
                port = key.data
                for frame in port.readable(key.fileobj):
                    self.switch.receive(port.name, frame, time.monotonic())
            self.switch.poll(time.monotonic())
        sel.close()


class PcapWriter:
    """Classic pcap (microsecond timestamps, link type Ethernet)."""

    def __init__(self, path: str):
        self.file = open(path, "wb")
        self.file.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.file.flush()

    def write(self, frame: bytes, when: float) -> None:
        seconds = int(when)
        micros = int((when - seconds) * 1_000_000)
        self.file.write(struct.pack("<IIII", seconds, micros, len(frame), len(frame)) + frame)
        self.file.flush()

    def close(self) -> None:
        self.file.close()
