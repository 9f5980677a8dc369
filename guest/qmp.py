#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Minimal QMP client (stdlib only) for poking a running test guest.

  qmp.py --socket PATH [--wait SECS] [--quit] CMD...

Each CMD is one of:
  '{"execute": "...", "arguments": {...}}'   a full QMP command as JSON
  qom-get PATH PROP                          shorthand, takes 2 more words
  NAME                                       {"execute": NAME}, no arguments

The "return" value of each command is printed as indented JSON.  An error
reply is printed to stderr and makes the exit status 1 (the remaining
commands still run).  --quit sends "quit" last; the connection closing
then is expected.
"""

import argparse
import json
import signal
import socket
import sys
import time


class QMP:
    def __init__(self, path, wait):
        # QEMU creates the socket a moment after it starts: retry a little.
        deadline = time.monotonic() + wait
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)
        self.file = self.sock.makefile("rwb")
        greeting = self._read()
        if "QMP" not in greeting:
            raise RuntimeError(f"not a QMP greeting: {greeting}")
        self.execute({"execute": "qmp_capabilities"})

    def _read(self):
        line = self.file.readline()
        if not line:
            raise EOFError("QMP connection closed")
        return json.loads(line)

    def execute(self, cmd):
        """Send one command; return its reply, skipping async events."""
        self.file.write(json.dumps(cmd).encode() + b"\n")
        self.file.flush()
        while True:
            msg = self._read()
            if "event" not in msg:
                return msg


def parse_commands(words):
    cmds, i = [], 0
    while i < len(words):
        w = words[i]
        if w.lstrip().startswith("{"):
            cmds.append(json.loads(w))
            i += 1
        elif w == "qom-get":
            if i + 2 >= len(words):
                sys.exit("qmp.py: qom-get needs PATH and PROP")
            cmds.append({"execute": "qom-get",
                         "arguments": {"path": words[i + 1],
                                       "property": words[i + 2]}})
            i += 3
        else:
            cmds.append({"execute": w})
            i += 1
    return cmds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", "-s", required=True, help="QMP unix socket")
    ap.add_argument("--wait", type=float, default=5.0,
                    help="seconds to keep retrying the connection")
    ap.add_argument("--quit", action="store_true", help="send quit at the end")
    ap.add_argument("commands", nargs="*")
    args = ap.parse_args()
    # Quiet exit when piped into head & co.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)

    cmds = parse_commands(args.commands)
    qmp = QMP(args.socket, args.wait)
    status = 0
    for cmd in cmds:
        reply = qmp.execute(cmd)
        if "error" in reply:
            print(f"qmp.py: {cmd.get('execute')}: {json.dumps(reply['error'])}",
                  file=sys.stderr)
            status = 1
        else:
            print(json.dumps(reply.get("return"), indent=2, sort_keys=True))
    if args.quit:
        try:
            qmp.execute({"execute": "quit"})
        except (EOFError, OSError):
            pass  # QEMU may close the socket before or after replying
    return status


if __name__ == "__main__":
    sys.exit(main())
