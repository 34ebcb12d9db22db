#!/usr/bin/env python3
"""Writes the seed corpus for roce_receive_fuzz: one valid-looking record of
each kind the engine handles (SEND, WRITE FIRST/ONLY, READ request, ACK,
NAK, READ response, UD to QP1), in the fuzzer's record format."""
import struct
import sys
from pathlib import Path


def bth(opcode, psn, qpn=0x11, ackreq=True, pad=0):
    return struct.pack(">BBHB3sB3s", opcode, pad << 4, 0xFFFF, 0, qpn.to_bytes(3, "big"),
                       0x80 if ackreq else 0, psn.to_bytes(3, "big"))


def reth(va, rkey, length):
    return struct.pack(">QII", va, rkey, length)


def record(transport, flags=1 | 2 | 4):
    body = transport + b"\0\0\0\0"  # ICRC slot, sealed by the harness
    return struct.pack(">BH", flags, len(body)) + body


SEEDS = {
    "send_only": record(bth(0x04, 0) + b"hello world!"),
    "send_first_last": record(bth(0x00, 0, ackreq=False) + b"x" * 256) + record(bth(0x02, 1) + b"y" * 8),
    "write_only": record(bth(0x0a, 0) + reth(0x2000, 0, 16) + b"z" * 16),
    "write_first": record(bth(0x06, 0, ackreq=False) + reth(0x2000, 0, 300) + b"w" * 256)
    + record(bth(0x08, 1) + b"v" * 44),
    "read_request": record(bth(0x0c, 0) + reth(0x3000, 0, 600)),
    "ack": record(bth(0x11, 0) + bytes([0x1F, 0, 0, 1])),
    "nak_seq": record(bth(0x11, 0) + bytes([0x60, 0, 0, 0]) , 1 | 4) + struct.pack(">BH", 0x51, 0),
    "read_response": record(bth(0x11, 2) + bytes([0x1F, 0, 0, 1]), 1 | 4)
    + record(bth(0x0d, 3) + bytes([0x1F, 0, 0, 1]) + b"r" * 256, 1 | 4),
    "ud_gsi": record(bth(0x64, 0, qpn=1) + struct.pack(">II", 0x80010000, 1) + b"m" * 256, 1),
}

if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, data in SEEDS.items():
        (out / name).write_bytes(data)
