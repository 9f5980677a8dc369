# SPDX-License-Identifier: GPL-2.0-or-later
"""Frames of known shape and the verdict the split policy must reach.

Shared by classify-test.py and make-fuzz-corpus.py.
"""
import struct

MAC = bytes.fromhex("525400123456525400abcdef")


def ip4(proto, l4, frag=0, ihl=5, tot=None):
    opts = b"\x01" * ((ihl - 5) * 4)
    tot = 20 + len(opts) + len(l4) if tot is None else tot
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot, 1, frag, 64,
                      proto, 0, bytes([10, 0, 0, 2]), bytes([10, 0, 0, 15]))
    return MAC + b"\x08\x00" + hdr + opts + l4


def ip6(nh, l4, ext=b""):
    hdr = struct.pack("!IHBB16s16s", 0x60000000, len(ext) + len(l4), nh, 64,
                      b"\xfd" + b"\0" * 15, b"\xfd" + b"\0" * 14 + b"\x0f")
    return MAC + b"\x86\xdd" + hdr + ext + l4


def tcp(payload, doff=8):
    opts = b"\x01\x01\x08\x0a" + b"\0" * 8 + b"\x01" * ((doff - 8) * 4)
    return struct.pack("!HHIIBBHHH", 5001, 80, 1, 1, doff << 4, 0x10,
                       1000, 0, 0) + opts[:(doff - 5) * 4] + payload


def udp(payload, length=None):
    length = 8 + len(payload) if length is None else length
    return struct.pack("!HHHH", 5001, 4789, length, 0) + payload


PAY = bytes(range(256)) * 4
# (name, frame, expected verdict, expected hdr_len or None)
CASES = [
    ("tcp4", ip4(6, tcp(PAY)), "split", 14 + 20 + 32),
    ("udp6", ip6(17, udp(PAY)), "split", 14 + 40 + 8),
    ("ip4-options", ip4(6, tcp(PAY), ihl=8), "split", 14 + 32 + 32),
    ("hop-by-hop", ip6(0, tcp(PAY), ext=bytes([6, 0, 1, 4, 0, 0, 0, 0])),
     "split", 14 + 48 + 32),
    # AH is (4 + 2) * 4 bytes (RFC 4302): TCP behind it is split.
    ("ah", ip6(51, tcp(PAY), ext=bytes([6, 4]) + b"\0" * 22), "split",
     14 + 40 + 24 + 32),
    # A fragment header is 8 bytes; its second byte is reserved (RFC 8200).
    ("frag-reserved", ip6(44, udp(PAY), ext=bytes([17, 0xff]) + b"\0" * 6),
     "inline-fragment", None),
    ("mobility", ip6(135, b"\0" * 16, ext=bytes([59, 1]) + b"\0" * 14),
     "inline-not-tcp-udp", None),
    ("arp", MAC + b"\x08\x06" + b"\0" * 28, "inline-not-ip", None),
    ("icmp", ip4(1, b"\x08" + b"\0" * 63), "inline-not-tcp-udp", None),
    ("fragment", ip4(17, udp(PAY), frag=0x2000), "inline-fragment", None),
    ("ihl-4", ip4(6, tcp(PAY), ihl=4), "inline-malformed", None),
    ("udp-len", ip4(17, udp(PAY, length=9000)), "inline-malformed", None),
    ("cut-tcp", ip4(6, tcp(b""))[:40], "inline-malformed", None),
    ("runt", MAC[:10], "inline-malformed", None),
    ("runt-arp", MAC + b"\x08\x06\0\x01", "inline-malformed", None),
    ("big-headers", ip6(0, tcp(PAY, doff=15),
                        ext=bytes([6, 7]) + b"\x01\x3c" + b"\0" * 60),
     "inline-too-big", None),
]
