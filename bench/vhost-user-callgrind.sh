#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Instructions per frame of the vhost-user backend's receive placement,
# classic and split, beside the in-process device's (make bench).
#
#   bench/vhost-user-callgrind.sh --build BUILD [--backend PATH] [--frames N]
#                                 [--device-table FILE]
#
# For each frame size (64, 1514, 9014, 65535 bytes; TCP/IPv4, with
# timestamps from 128 bytes up, as bench/splithdr-bench.sh builds them)
# and mode, vhost-user-net-split runs under callgrind collecting only
# inside vns_rx_frame() and vns_rx_flush(): from the network side handing
# over the frame to the used entries published and the driver notified
# (once per batch, at the latest at the network side's vns_rx_flush()),
# the same span as virtio_net_receive() in the device's figures.  Its network side is the
# in-process frame source (--net bench,size=N,count=N: it ends the
# backend after N frames); split mode is --x-bench-split-ring=128, the
# device bench's slot size.  The driver is DPDK's virtio-user in
# testpmd's rxonly mode with 4 KiB receive buffers (--mbuf-size: 4096
# bytes of buffer after DPDK's headroom, less the 12-byte header it
# puts in front), as the device bench posts.
#
# The device's figures come from bench/splithdr-bench.sh, run here, or
# from its saved output (--device-table FILE, the table it prints).
# Instructions are exact and repeatable; nothing is asserted.
set -euo pipefail

BUILD=
BACKEND=
FRAMES=2000
DEVICE_TABLE=
while [ $# -gt 0 ]; do
    case $1 in
    --build) BUILD=$2; shift 2 ;;
    --backend) BACKEND=$2; shift 2 ;;
    --frames) FRAMES=$2; shift 2 ;;
    --device-table) DEVICE_TABLE=$2; shift 2 ;;
    *) echo "usage: $0 --build BUILD [--frames N] [--device-table FILE]" >&2
       exit 2 ;;
    esac
done
BUILD=$(cd "$BUILD" && pwd)
BACKEND=${BACKEND:-$BUILD/qemu/build/contrib/vhost-user-net-split/vhost-user-net-split}
OUT=$BUILD/bench/vhost-user-callgrind
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
# shellcheck source=bench/vhost-user-common.sh
. "$HERE/vhost-user-common.sh"
vu_need dpdk-testpmd taskset valgrind
[ -x "$BACKEND" ] || { echo "bench: build $BACKEND first (make build)" >&2; exit 1; }
trap vu_cleanup EXIT

# ir_per_frame MODE SIZE: IR is the backend's instructions per frame.
ir_per_frame() {
    local mode=$1 size=$2 sock=$OUT/vu.sock out=$OUT/callgrind.$1.$2
    local be
    rm -f "$sock" "$out"
    # shellcheck disable=SC2046  # no option, or one word
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        --toggle-collect=vns_rx_frame --toggle-collect=vns_rx_flush \
        --collect-atstart=no \
        "$BACKEND" --socket-path="$sock" \
        --net "bench,size=$size,count=$FRAMES" \
        $([ "$mode" = split ] && echo --x-bench-split-ring=128) \
        --verbose >"$out.backend.log" 2>&1 &
    be=$!
    VU_PIDS+=("$be")
    vu_wait_socket "$sock"
    vu_consumer 1 "$sock" "$out.consumer.log" --mbuf-size=4212
    # The backend ends itself after FRAMES frames (valgrind: slowly).
    for _ in $(seq 600); do
        kill -0 "$be" 2>/dev/null || break
        sleep 0.5
    done
    wait "$be" || { echo "bench: $mode/$size: the backend failed," \
                         "see $out.backend.log" >&2; exit 1; }
    vu_cleanup
    if ! grep -q "bench: $FRAMES frames" "$out.backend.log" ||
       grep -q broken "$out.backend.log"; then
        echo "bench: $mode/$size: not $FRAMES frames delivered," \
             "see $out.backend.log" >&2
        exit 1
    fi
    IR=$(awk -v n="$FRAMES" '/^(totals|summary):/ { print int($2 / n); exit }' \
         "$out")
}

if [ -z "$DEVICE_TABLE" ]; then
    DEVICE_TABLE=$BUILD/bench/splithdr-bench.txt
    echo "bench: the in-process device first (bench/splithdr-bench.sh)"
    "$HERE/splithdr-bench.sh" --build "$BUILD" | tee "$DEVICE_TABLE"
fi
# The device's table: a "mode 64 1514 ..." header, then a row per mode
# with a count per size (after the first row, each followed by a ratio).
device() {      # mode size
    awk -v m="$1" -v s="$2" '
        $1 == "mode" { for (i = 2; i <= NF; i++) col[$i] = i - 1 }
        $1 == m {
            n = 0
            for (i = 2; i <= NF; i++) {
                if ($i ~ /^[0-9]+$/ && ++n == col[s]) { print $i; exit }
            }
        }' "$DEVICE_TABLE"
}

echo "bench: $FRAMES frames per run, the backend under callgrind"
declare -A IRS
for size in 64 1514 9014 65535; do
    for mode in classic split; do
        ir_per_frame "$mode" "$size"
        IRS[$mode.$size]=$IR
    done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b) printf "%.2fx", a / b; else print "-" }'; }
echo
echo "Instructions per frame (backend: vns_rx_frame(); device:" \
     "virtio_net_receive())"
printf '%-6s %16s %14s %10s %15s %13s %14s %12s\n' frame \
    "backend classic" "backend split" "split/cl." "device classic" \
    "device split" "classic b/d" "split b/d"
for size in 64 1514 9014 65535; do
    bc=${IRS[classic.$size]} bs=${IRS[split.$size]}
    dc=$(device classic "$size") ds=$(device split "$size")
    printf '%-6s %16s %14s %10s %15s %13s %14s %12s\n' "$size" "$bc" "$bs" \
        "$(ratio "$bs" "$bc")" "${dc:--}" "${ds:--}" \
        "$(ratio "$bc" "${dc:-0}")" "$(ratio "$bs" "${ds:-0}")"
done
