#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Plot make bench's table: instructions per frame inside
# virtio_net_receive() against frame size, one line per mode.
#
#   bench/splithdr-plot.py splithdr-bench.tsv out.png

import sys

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

# Colour and marker by peer and RSS, line by mode: tap rows lie on the
# socket rows, the markers tell them apart.
COLOR = {'': 'tab:blue', 'rss': 'tab:red', 'tap': 'tab:green'}
MARKER = {'': 'o', 'rss': 's', 'tap': 'x'}
STYLE = {'classic': '--', 'split': '-', 'inline': ':'}


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: splithdr-plot.py TABLE.tsv OUT.png')
    with open(sys.argv[1]) as f:
        rows = [line.rstrip('\n').split('\t') for line in f if line.strip()]
    sizes = [int(s) for s in rows[0][1:]]
    fig, ax = plt.subplots(figsize=(8, 5))
    for row in rows[1:]:
        pts = [(s, int(v)) for s, v in zip(sizes, row[1:]) if v != '-']
        if not pts:
            continue
        kind, _, what = row[0].rpartition('-')
        ax.plot([p[0] for p in pts], [p[1] for p in pts],
                STYLE.get(what, '-'), color=COLOR.get(kind, 'black'),
                marker=MARKER.get(kind, 'o'), label=row[0])
    ax.set_xscale('log')
    ax.set_yscale('log')
    ax.set_xticks(sizes)
    ax.set_xticklabels([str(s) for s in sizes])
    ax.set_xlabel('frame size (bytes)')
    ax.set_ylabel('instructions per frame (callgrind)')
    ax.set_title('virtio-net receive: instructions inside '
                 'virtio_net_receive()')
    ax.grid(True, which='both', alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=100)


if __name__ == '__main__':
    main()
