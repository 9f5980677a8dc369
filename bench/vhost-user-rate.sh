#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Receive packet rate of the vhost-user backend against DPDK's vhost PMD.
#
#   bench/vhost-user-rate.sh --build BUILD [--backend PATH] [--seconds N] [--sizes "64 1514"]
#                            [--producer-cpu N] [--consumer-cpu N]
#
# One consumer for every producer: DPDK 22.11's virtio-user in testpmd's
# rxonly mode (it counts and frees what it receives).  Per frame size it
# is fed, each time for the same N seconds after two seconds of warm-up,
# by
#   dpdk     testpmd --vdev net_vhost0 in txonly mode (--txpkts=SIZE)
#   classic  vhost-user-net-split --net bench,size=SIZE (in-process frames)
#   split    the same with --x-bench-split-ring=128: virtio-user cannot
#            negotiate VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER, so the backend
#            splits into a ring of its own (contrib/.../bench-ring.c)
#   aligned  split with --x-bench-align-payload: the payload from each
#            buffer's first 64-byte boundary, as a split-hdr driver's
#            page-aligned buffers have it, where virtio-user's buffers
#            start 52 bytes into a line (bench-ring.c says why it matters)
# each producer on one CPU, the consumer on the other.  It prints the
# consumer's rate (packets plus receive errors per second, from its own
# counters each second: virtio-user counts a split 64-byte frame, 10
# bytes of payload in the buffer, as an error since it looks for a
# header and an Ethernet header there) and the ratios against the
# issue's targets.  One run, figures only: nothing is asserted, since the
# machine's load decides the absolute figures.
set -euo pipefail

BUILD=
BACKEND=
SECONDS_RUN=10
SIZES="64 1514"
PCPU=0
CCPU=1
while [ $# -gt 0 ]; do
    case $1 in
    --build) BUILD=$2; shift 2 ;;
    --backend) BACKEND=$2; shift 2 ;;
    --seconds) SECONDS_RUN=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --producer-cpu) PCPU=$2; shift 2 ;;
    --consumer-cpu) CCPU=$2; shift 2 ;;
    *) echo "usage: $0 --build BUILD [--seconds N] [--sizes LIST]" \
            "[--producer-cpu N] [--consumer-cpu N]" >&2; exit 2 ;;
    esac
done
BUILD=$(cd "$BUILD" && pwd)
BACKEND=${BACKEND:-$BUILD/qemu/build/contrib/vhost-user-net-split/vhost-user-net-split}
OUT=$BUILD/bench/vhost-user-rate
WARMUP=2
mkdir -p "$OUT"
# shellcheck source=bench/vhost-user-common.sh
. "$(dirname "$0")/vhost-user-common.sh"
vu_need dpdk-testpmd taskset
[ -x "$BACKEND" ] || { echo "bench: build $BACKEND first (make build)" >&2; exit 1; }
trap vu_cleanup EXIT

# The consumer's packets + errors, cumulative, one line per second.
samples() {
    awk '/RX-packets:.*RX-missed:/ { p = $2 }
         /^ *RX-errors:/ { print p + $2 }' "$1"
}

# run MODE SIZE: one measurement; RATE: packets per second.
run() {
    local mode=$1 size=$2 sock=$OUT/vu.sock log=$OUT/$1.$2
    local need=$((WARMUP + SECONDS_RUN + 1)) n
    rm -f "$sock"
    case $mode in
    dpdk)
        vu_dpdk_producer "$PCPU" "$sock" "$size" "$log.producer.log" ;;
    classic|split|aligned)
        local opts=()
        case $mode in
        split) opts=(--x-bench-split-ring=128) ;;
        aligned) opts=(--x-bench-split-ring=128 --x-bench-align-payload) ;;
        esac
        taskset -c "$PCPU" "$BACKEND" --socket-path="$sock" \
            --net "bench,size=$size" "${opts[@]}" \
            --verbose >"$log.producer.log" 2>&1 &
        VU_PIDS+=($!) ;;
    esac
    vu_wait_socket "$sock"
    vu_consumer "$CCPU" "$sock" "$log.consumer.log"
    # Whole seconds of counters, then the consumer's and producer's end.
    for _ in $(seq $((need + 5))); do
        n=$(samples "$log.consumer.log" | wc -l)
        [ "$n" -gt "$need" ] && break
        sleep 1
    done
    vu_cleanup
    if grep -q "broken" "$log.producer.log"; then
        echo "bench: $mode/$size: the backend broke a queue," \
             "see $log.producer.log" >&2
        exit 1
    fi
    RATE=$(samples "$log.consumer.log" |
        awk -v w="$WARMUP" -v d="$SECONDS_RUN" -v f="$log.consumer.log" '
            { s[NR] = $1 }
            END {
                if (NR < w + d) {
                    printf "bench: only %d seconds counted, see %s\n",
                        NR, f > "/dev/stderr"
                    exit 1
                }
                printf "%d\n", (s[w + d] - s[w]) / d
            }')
}

mpps() { awk -v r="$1" 'BEGIN { printf "%.3f", r / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", b ? a / b : 0 }'; }
target() {      # ratio-figure target
    awk -v a="$1" -v b="$2" -v t="$3" \
        'BEGIN { r = b ? a / b : 0; printf "%s %.2fx", (r >= t) ? "met," : "MISSED,", t }'
}

echo "bench: ${SECONDS_RUN} s per run after ${WARMUP} s of warm-up;" \
     "producer on CPU $PCPU, consumer (virtio-user rxonly) on CPU $CCPU"
declare -A R
for size in $SIZES; do
    for mode in dpdk classic split aligned; do
        run "$mode" "$size"
        R[$mode.$size]=$RATE
        echo "  $size bytes, $mode: $(mpps "${R[$mode.$size]}") Mpps"
    done
done

echo
printf '%-6s %9s %9s %9s %9s %13s %20s %9s %20s %9s %20s\n' frame "dpdk" \
    "classic" "split" "aligned" "classic/dpdk" "target" "split/cl" "target" \
    "align/cl" "target"
for size in $SIZES; do
    d=${R[dpdk.$size]} c=${R[classic.$size]} s=${R[split.$size]}
    a=${R[aligned.$size]}
    case $size in
    64) t=0.5 ;;
    1514) t=0.8 ;;
    *) t= ;;
    esac
    printf '%-6s %9s %9s %9s %9s %13s %20s %9s %20s %9s %20s\n' "$size" \
        "$(mpps "$d")" "$(mpps "$c")" "$(mpps "$s")" "$(mpps "$a")" \
        "$(ratio "$c" "$d")" "${t:+$(target "$c" "$d" "$t")}" \
        "$(ratio "$s" "$c")" "$(target "$s" "$c" 0.9)" \
        "$(ratio "$a" "$c")" "$(target "$a" "$c" 0.9)"
done
echo "(Mpps; split/cl and align/cl: split and aligned over classic)"
