#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Check splithdr-classify (the device's policy outside QEMU) on a capture.

Writes a pcap file with frames of known shape, runs the tool on it and
compares each verdict and header length with what the spec says.
Prints TAP.
"""
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from frames import CASES  # noqa: E402


def main():
    tool = sys.argv[1]
    with tempfile.NamedTemporaryFile(suffix=".pcap") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for _, frame, _, _ in CASES:
            f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)))
            f.write(frame)
        f.flush()
        out = subprocess.run([tool, "--slot-size", "128", f.name],
                             capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    print(f"1..{len(CASES)}")
    failed = 0
    for i, (name, frame, verdict, hdr_len) in enumerate(CASES):
        got = lines[i].split()
        ok = got[3] == verdict and (hdr_len is None or
                                    got[4:6] == ["hdr_len", str(hdr_len)])
        failed += not ok
        print(f"{'ok' if ok else 'not ok'} {i + 1} {name}: {' '.join(got[3:])}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
