#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Receive-path cost of virtio-net, split header ring set vs classic.
#
#   bench/splithdr-bench.sh --build BUILD [--frames N]
#
# For each frame size (64, 1514, 9014, 65535 bytes; TCP/IPv4, with
# timestamps from 1514 up) and mode, the qtest driver in virtio-net-splithdr-test.c
# (SPLITHDR_BENCH=1) feeds N frames through a socket netdev into a
# virtio-net-pci device with 4 KiB mergeable buffers always posted, while
# QEMU runs under callgrind collecting only inside virtio_net_receive():
# from the netdev handing over the frame to the used entries published
# and the guest notified.  Instructions are exact and repeatable; no
# timing is asserted anywhere.
set -euo pipefail

BUILD=
FRAMES=200
while [ $# -gt 0 ]; do
    case $1 in
    --build) BUILD=$2; shift 2 ;;
    --frames) FRAMES=$2; shift 2 ;;
    *) echo "usage: $0 --build BUILD [--frames N]" >&2; exit 2 ;;
    esac
done
BUILD=$(cd "$BUILD" && pwd)
QB=$BUILD/qemu/build
OUT=$BUILD/bench
mkdir -p "$OUT"
command -v valgrind >/dev/null || { echo "bench: install valgrind" >&2; exit 1; }

# libqtest derives the target from the binary's name: wrap, keep the name.
wrap=$OUT/wrap/qemu-system-x86_64
mkdir -p "$(dirname "$wrap")"
cat > "$wrap" <<EOW
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file="\$SPLITHDR_BENCH_OUT" \\
    --toggle-collect=virtio_net_receive --collect-atstart=no \\
    "$QB/qemu-system-x86_64" "\$@"
EOW
chmod +x "$wrap"

path_of() {
    (cd "$QB" && SPLITHDR_BENCH=1 QTEST_QEMU_BINARY=$QB/qemu-system-x86_64 \
        ./tests/qtest/qos-test -l | grep "/split-hdr/bench/$1\$")
}

ir_per_frame() {        # mode size
    local out=$OUT/callgrind.$1.$2 path
    path=$(path_of "$1/$2")
    rm -f "$out"
    (cd "$QB" && SPLITHDR_BENCH=1 SPLITHDR_BENCH_FRAMES=$FRAMES \
        SPLITHDR_BENCH_OUT=$out QTEST_QEMU_BINARY=$wrap \
        ./tests/qtest/qos-test -p "$path") > "$out.log" 2>&1 ||
        { echo "bench: $1/$2 failed, see $out.log" >&2; exit 1; }
    awk -v n="$FRAMES" '/^(totals|summary):/ { print int($2 / n); exit }' "$out"
}

echo "bench: $FRAMES frames per run, QEMU under callgrind (~1 min per run)"
printf '%-8s %16s %16s %8s\n' frame "classic Ir/frame" "split Ir/frame" ratio
for size in 64 1514 9014 65535; do
    c=$(ir_per_frame classic "$size")
    s=$(ir_per_frame split "$size")
    printf '%-8s %16s %16s %8s\n' "$size" "$c" "$s" \
        "$(awk -v s="$s" -v c="$c" 'BEGIN { printf "%.2fx", s / c }')"
done
