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
# each producer on one CPU, the consumer on the other.  Two counts:
#   at the consumer  packets plus receive errors per second, from its own
#                    counters each second: what classic/DPDK compares
#   at the producer  frames the backend's bench source handed over (its
#                    SIGUSR2 report) per second: what split/classic
#                    compares.  virtio-user misreads a split frame (it
#                    looks for a virtio header where the payload starts,
#                    and may take its num_buffers for the next buffers),
#                    so its count of split frames is not the backend's.
# and the ratios against the issue's targets.  One run, figures only:
# nothing is asserted, since the machine's load decides the absolute
# figures.
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

# taken LOG: the bench source's last two SIGUSR2 reports, one per line.
taken() {
    awk '/bench: [0-9]+ taken$/ { print $(NF - 1) }' "$1" | tail -n 2
}

# run MODE SIZE: one measurement; RATE: packets per second at the
# consumer, PRATE: at the producer (backend modes).
run() {
    local mode=$1 size=$2 sock=$OUT/vu.sock log=$OUT/$1.$2
    local need=$((WARMUP + SECONDS_RUN + 1)) n bpid="" t0 t1
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
        bpid=$!
        VU_PIDS+=("$bpid") ;;
    esac
    vu_wait_socket "$sock"
    vu_consumer "$CCPU" "$sock" "$log.consumer.log"
    if [ -n "$bpid" ]; then
        sleep "$WARMUP"
        t0=$(date +%s.%N)
        kill -USR2 "$bpid"
        sleep "$SECONDS_RUN"
        t1=$(date +%s.%N)
        kill -USR2 "$bpid"
        sleep 0.5
    fi
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
    PRATE=0
    if [ -n "$bpid" ]; then
        PRATE=$(taken "$log.producer.log" | awk -v t0="$t0" -v t1="$t1" \
            -v f="$log.producer.log" '
            { n[NR] = $1 }
            END {
                if (NR != 2) {
                    printf "bench: no producer counts in %s\n", f > "/dev/stderr"
                    exit 1
                }
                printf "%d\n", (n[2] - n[1]) / (t1 - t0)
            }')
    fi
}

mpps() { awk -v r="$1" 'BEGIN { printf "%.3f", r / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", b ? a / b : 0 }'; }
target() {      # ratio-figure target
    awk -v a="$1" -v b="$2" -v t="$3" \
        'BEGIN { r = b ? a / b : 0; printf "%s %.2fx", (r >= t) ? "met," : "MISSED,", t }'
}

echo "bench: ${SECONDS_RUN} s per run after ${WARMUP} s of warm-up;" \
     "producer on CPU $PCPU, consumer (virtio-user rxonly) on CPU $CCPU"
declare -A R P
for size in $SIZES; do
    for mode in dpdk classic split aligned; do
        run "$mode" "$size"
        R[$mode.$size]=$RATE
        P[$mode.$size]=$PRATE
        echo "  $size bytes, $mode: $(mpps "$RATE") Mpps at the consumer" \
             "$([ "$mode" = dpdk ] || echo "and $(mpps "$PRATE") at the producer")"
    done
done

echo "At the consumer (Mpps):"
printf '%-6s %9s %9s %13s %20s\n' frame dpdk classic classic/dpdk target
for size in $SIZES; do
    d=${R[dpdk.$size]} c=${R[classic.$size]}
    case $size in
    64) t=0.5 ;;
    1514) t=0.8 ;;
    *) t= ;;
    esac
    printf '%-6s %9s %9s %13s %20s\n' "$size" "$(mpps "$d")" "$(mpps "$c")" \
        "$(ratio "$c" "$d")" "${t:+$(target "$c" "$d" "$t")}"
done
echo
echo "At the producer (Mpps; aligned: --x-bench-align-payload):"
printf '%-6s %9s %9s %9s %13s %20s %15s %20s\n' frame classic split aligned \
    split/classic target aligned/classic target
for size in $SIZES; do
    c=${P[classic.$size]} s=${P[split.$size]} a=${P[aligned.$size]}
    printf '%-6s %9s %9s %9s %13s %20s %15s %20s\n' "$size" "$(mpps "$c")" \
        "$(mpps "$s")" "$(mpps "$a")" "$(ratio "$s" "$c")" \
        "$(target "$s" "$c" 0.9)" "$(ratio "$a" "$c")" \
        "$(target "$a" "$c" 0.9)"
done
