#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the seed corpus of QEMU's virtio-net-split-hdr fuzz target into DIR.

The target is tests/qtest/splithdr/virtio-net-splithdr-fuzz.c.  An input is
one byte of features to withhold, then operations; integers are
little-endian:

  0 SET            rq u16, slot_size u16, num_slots u32, proto_mask u32,
                   reserved u32, where u8, [ring_addr u64 if where is odd;
                   else the target's own 2 MiB ring region]
  1 FRAME          len u16, frame[len]
  2 POST           count u8 (count % 64 + 1 buffers), len u16
  3 CTRL           class u8, cmd u8, len u8, payload[len]
  4 DESC           idx u8, addr u64, len u32, flags u16, next u16
  5 QUEUE_RESET    (receive queue 0, then enabled again)
  6 DEVICE_RESET   (and up again with the same features)
  7 RUN            steps u8 ((steps + 1) us of virtual time)

The seeds bring the rings up and send every frame shape of frames.py, so
the fuzzer starts inside SET and the receive path rather than having to
find them.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from frames import CASES, PAY, ip4, tcp  # noqa: E402

OP_SET, OP_FRAME, OP_POST, OP_CTRL, OP_DESC = range(5)
OP_QUEUE_RESET, OP_DEVICE_RESET, OP_RUN = range(5, 8)
VRING_DESC_F_WRITE = 2
VRING_DESC_F_NEXT = 1


def set_ring(slot_size=256, num_slots=256, mask=0xF, rq=0, addr=None,
             reserved=0):
    op = struct.pack("<BHHIII", OP_SET, rq, slot_size, num_slots, mask,
                     reserved)
    if addr is None:
        return op + b"\0"
    return op + b"\x01" + struct.pack("<Q", addr)


def frame(f):
    return struct.pack("<BH", OP_FRAME, len(f)) + f


def post(count, length=4096):
    return struct.pack("<BBH", OP_POST, count - 1, length)


def desc(idx, addr, length, flags, nxt):
    return struct.pack("<BBQIHH", OP_DESC, idx, addr, length, flags, nxt)


def ctrl(cls, cmd, payload):
    return struct.pack("<BBBB", OP_CTRL, cls, cmd, len(payload)) + payload


ALL_SHAPES = b"".join(frame(f) for _, f, _, _ in CASES)
TCP4 = ip4(6, tcp(PAY))

SEEDS = {
    # Every shape split (or inlined) on the default ring.
    "shapes": b"\0" + set_ring() + post(32) + ALL_SHAPES,
    # Hash reports widen the virtio header; small slots force inline.
    "small-slots": b"\0" + set_ring(slot_size=64, num_slots=512)
    + post(32) + ALL_SHAPES,
    # Frames before buffers, then the buffers: the queued-packet path.
    "late-buffers": b"\0" + set_ring() + frame(TCP4) * 4 + post(8)
    + bytes([OP_RUN, 10]),
    # Buffers smaller than the payload: num_buffers > 1.
    "small-buffers": b"\0" + set_ring() + post(64, 256) + frame(TCP4) * 3,
    # A zero-length buffer and a read-only one.
    "bad-desc": b"\0" + set_ring() + desc(0, 0, 0, VRING_DESC_F_WRITE, 0)
    + frame(TCP4) + desc(1, 0x6000000, 4096, 0, 0) + frame(TCP4),
    # A descriptor chain that loops on itself.
    "desc-loop": b"\0" + set_ring() + desc(
        0, 0x6000000, 64, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0)
    + frame(TCP4),
    # A ring beyond RAM, in the PCI hole, wrapping the address space.
    "bad-rings": b"\0" + set_ring(addr=0x4000000000)
    + set_ring(addr=0xFEBF0000) + set_ring(addr=0xFFFFFFFFFFFFFFC0)
    + set_ring(num_slots=100) + set_ring(rq=5) + set_ring(reserved=1)
    + post(4) + frame(TCP4),
    # Resets with traffic in flight.
    "resets": b"\0" + set_ring() + post(8) + frame(TCP4) + bytes([OP_QUEUE_RESET])
    + frame(TCP4) + set_ring() + post(8) + frame(TCP4)
    + bytes([OP_DEVICE_RESET]) + set_ring() + post(8) + frame(TCP4),
    # Without split-hdr, MRG_RXBUF or GUEST_TSO4 negotiated.
    "no-feature": b"\x01" + set_ring() + post(8) + frame(TCP4),
    "no-mrg": b"\x02" + set_ring() + post(8) + frame(TCP4),
    "no-tso4": b"\x80" + set_ring() + post(8) + frame(TCP4),
    # Receive filtering on: promiscuous off, then a runt.
    "filter": b"\0" + set_ring() + ctrl(0, 0, b"\0") + post(8)
    + frame(TCP4[:10]) + frame(TCP4),
    # RSS over one queue, hash reports on.
    "rss": b"\0" + ctrl(4, 1, struct.pack("<IHHHHB", 0x3F, 0, 0, 0, 1, 40)
                        + bytes(40)) + set_ring() + post(8) + ALL_SHAPES,
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
