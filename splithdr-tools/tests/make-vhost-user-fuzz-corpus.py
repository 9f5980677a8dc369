#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Seeds for vhost-user-net-split-fuzz
# (contrib/vhost-user-net-split/fuzz-vhost-user.c): a front-end that sets
# the device up as QEMU does, posts receive buffers, sets a header ring
# and delivers frames of each shape, so that the fuzzer starts from split
# delivery.  Usage: make-vhost-user-fuzz-corpus.py DIR
#
# An input is a sequence of operations, each an opcode byte (mod 14) and
# its arguments; see LLVMFuzzerTestOneInput() in the harness.

import os
import struct
import sys

OP_FEATURES, OP_MEM, OP_VRING, OP_SET_RING, OP_STATE, OP_POST, OP_KICK, \
    OP_FRAME = range(8)
OP_RAW_WRITE, OP_RAW_MSG, OP_LOG, OP_GET_BASE, OP_RESUME = range(9, 14)


def u16(v):
    return struct.pack('<H', v)


def setup(log=False, slot_exp=1, nslot_exp=8, mask=0xf, qexp=8):
    s = bytes([OP_FEATURES, 0, OP_MEM, 0])
    s += bytes([OP_VRING, 0, qexp, OP_VRING, 1, qexp])
    if log:
        s += bytes([OP_LOG, 2, 1])
    s += bytes([OP_SET_RING, 4, slot_exp, nslot_exp, mask]) + u16(0)
    return s


def post(n, addr0=0, ndesc=1, big=True):
    s = bytes([OP_POST, ((n - 1) % 8) << 1])
    for i in range(n):
        s += bytes([ndesc - 1])
        for j in range(ndesc):
            s += u16(0x8000 if big else 1500) + u16(addr0 + 64 * (i * 3 + j))
    return s + bytes([OP_KICK, 0])


def frame(kind, payload, l4opt=3, cut=None):
    # The order fz_build_frame() reads its arguments in.
    s = bytes([OP_FRAME, 0, kind]) + u16(payload)
    s += bytes(range(1, 13))                    # MACs
    if kind & 4:
        s += u16(5)                             # VLAN TCI
    if kind & 8:
        s += bytes([1])                         # protocol: ICMP
    if not kind & 2:
        s += bytes([l4opt])                     # TCP options / 4
    if kind & 1:
        s += bytes(range(32))                   # IPv6 addresses
    else:
        if kind & 16:
            s += u16(0x2000)                    # IPv4 more fragments
        s += bytes(range(8))                    # IPv4 addresses
    s += bytes(8 if kind & 2 else 20 + 4 * l4opt)
    s += bytes([0x5a])
    if kind & 32:
        s += u16(cut)
    return s


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {
        'tcp4': setup() + post(8) + frame(0, 1400),
        'udp4-udp6-tcp6': setup() + post(8) + frame(2, 1000) +
                          frame(3, 512) + frame(1, 4096),
        'vlan-multibuf': setup() + post(8) + frame(4, 8000),
        'inline': setup() + post(8) + frame(8, 56) + frame(16, 200) +
                  frame(32, 100, cut=30),
        'wait-then-post': setup() + frame(0, 3000) + post(2) +
                          bytes([OP_RESUME]),
        'small-slots-wrap': setup(slot_exp=0, nslot_exp=4, qexp=4) +
                            (post(4) + frame(0, 10) + frame(2, 20)) * 5,
        'chains': setup() + post(3, ndesc=3, big=False) + frame(0, 3000),
        'log': setup(log=True) + post(4) + frame(0, 1400) +
               bytes([OP_STATE, 0, 0, 0, 0, 0]),
        'tx': setup() + bytes([OP_POST, 1, 0]) + u16(0x8000) + u16(5) +
              bytes(64) + bytes([OP_KICK, 1]),
        'classic': bytes([OP_FEATURES, 0, OP_MEM, 0, OP_VRING, 0, 8,
                          OP_VRING, 1, 8]) + post(4) + frame(0, 1000),
        'state': setup() + bytes([OP_STATE, 1]) + struct.pack('<I', 7) +
                 post(2) + frame(0, 100) + bytes([OP_STATE, 0, 0, 0, 0, 0,
                                                  OP_GET_BASE, 0]),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


main()
