#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the seed corpus of splithdr-fuzz-policy into DIR.

One seed per frame shape of frames.py, under a few configurations
(slot size, hash header, protocol mask, buffer size): the 3-byte prefix
that fuzz-policy.c reads, then the frame.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from frames import CASES  # noqa: E402

CONFIGS = [bytes([1, 0xf, 255]), bytes([0, 0xf, 0]), bytes([8 | 2, 0x5, 40]),
           bytes([6, 0xa, 255])]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, frame, _, _ in CASES:
        for i, cfg in enumerate(CONFIGS):
            with open(os.path.join(out, f"{name}-{i}"), "wb") as f:
                f.write(cfg + frame)


if __name__ == "__main__":
    main()
