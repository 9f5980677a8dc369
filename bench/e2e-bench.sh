#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tcp_mmap receive throughput and CPU cost between two TCG guests: the
# stock virtio_net against the patched one (guest/linux/patches), copying
# and mapping.  Three configurations, each through guest/e2e-tcp-mmap.sh
# with the same link, MTU and size, the receiver's device split-hdr=on:
#   stock copy     stock driver, tcp_mmap -s      (the baseline)
#   split copy     patched driver, tcp_mmap -s
#   split -z       patched driver, tcp_mmap -s -z (TCP_ZEROCOPY_RECEIVE)
#
#   bench/e2e-bench.sh --qemu BIN --image DIR [--runs N] [--family 4|6]
#       [--size N[K|M|G]] [--mtu N] [--net stream|tap] [--integrity]
#       [--vnet-args A=1,B=2] [--log-dir DIR] [--timeout SECS]
#       [--clock wall|icount|both]
#
# Without --integrity no SHA256 is computed, so "usec/MB" (tcp_mmap's
# rusage of the receiving thread, user + sys, per MB) is the receive cost.
# With --runs N each configuration runs N times and the table shows the
# medians.  Ratios are against "stock copy": MB/s (higher is better) and
# usec/MB (lower is better).  Exits non-zero if any run failed.
#
# Two clocks, both by default, each its own table:
#   wall    plain TCG: guest time is host time.  It moves with the host's
#           load, and TCG makes some guest work far dearer than hardware
#           does (page-table updates flush its software TLB) and other
#           work cheaper (a memcpy is a host memcpy).
#   icount  -icount shift=0 in both guests: guest time advances 1 ns per
#           guest instruction, so usec/MB counts thousands of guest
#           instructions per MB, whatever the host does; repeatable, and
#           closer to what the receive path costs in instructions (a
#           "rep movs" counts one per iteration).  MB/s is then in guest
#           time, not comparable with the wall table.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
E2E=$HERE/../guest/e2e-tcp-mmap.sh
QEMU='' IMAGE='' RUNS=1 LOGDIR='' INTEG=0 CLOCK=both
PASS=()

die() { echo "e2e-bench: error: $*" >&2; exit 2; }
usage() { sed -n '12,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
    --qemu) QEMU=$2; shift 2 ;;
    --image) IMAGE=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --log-dir) LOGDIR=$2; shift 2 ;;
    --integrity) INTEG=1; shift ;;
    --clock) CLOCK=$2; shift 2 ;;
    --family|--size|--mtu|--net|--vnet-args|--timeout) PASS+=("$1" "$2"); shift 2 ;;
    -h|--help) usage ;;
    *) echo "e2e-bench: unknown argument '$1'" >&2; usage ;;
    esac
done
{ [ -n "$QEMU" ] && [ -n "$IMAGE" ]; } || usage
case $RUNS in ''|*[!0-9]*|0) die "bad --runs '$RUNS'" ;; esac
case $CLOCK in
wall|icount) CLOCKS=("$CLOCK") ;;
both) CLOCKS=(wall icount) ;;
*) die "bad --clock '$CLOCK'" ;;
esac
[ $INTEG = 1 ] && PASS+=(--integrity) || PASS+=(--no-integrity)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/e2e-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
[ -n "$LOGDIR" ] || LOGDIR=$TMP
mkdir -p "$LOGDIR" || die "cannot create '$LOGDIR'"

NAMES=("stock copy" "split copy" "split -z")
ARGS=("--driver stock" "--driver split" "--driver split --zerocopy")
failed=0

# Median of one field over a configuration's passing runs.
median() {  # clock cfg field
    local f vals=()
    for f in "$LOGDIR/$1-cfg$2"-run*.result; do
        [ -f "$f" ] || continue
        grep -q '^status=pass' "$f" || continue
        vals+=("$(tr ' ' '\n' < "$f" | sed -n "s/^$3=//p")")
    done
    [ ${#vals[@]} -gt 0 ] || { echo '-'; return; }
    printf '%s\n' "${vals[@]}" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2fx", a / b }'; }

run_clock() {   # wall|icount: every configuration RUNS times
    local clk=$1 qargs='' i r tag
    [ "$clk" = icount ] && qargs='-icount shift=0'
    for i in 0 1 2; do
        for r in $(seq "$RUNS"); do
            tag="$clk-cfg$i-run$r"
            echo "e2e-bench: ${NAMES[$i]}, $clk clock, run $r of $RUNS"
            # shellcheck disable=SC2086 # ARGS: options, split on purpose
            if "$E2E" --qemu "$QEMU" --image "$IMAGE" ${ARGS[$i]} "${PASS[@]}" \
                ${qargs:+--qemu-args "$qargs"} \
                --result "$LOGDIR/$tag.result" --log-dir "$LOGDIR/$tag" \
                > "$LOGDIR/$tag.log" 2>&1; then
                tail -n1 "$LOGDIR/$tag.log"
            else
                tail -n1 "$LOGDIR/$tag.log"
                echo "e2e-bench: ${NAMES[$i]} run $r failed; log: $LOGDIR/$tag.log"
                failed=$((failed + 1))
            fi
        done
    done
}

table() {   # wall|icount
    local clk=$1 i mbps usec mm base_mbps base_usec
    if [ -f "$LOGDIR/$clk-cfg0-run1.result" ]; then
        echo "e2e-bench: $clk clock: $(tr ' ' '\n' < "$LOGDIR/$clk-cfg0-run1.result" |
            grep -E '^(family|mtu|net|bytes|integrity)=' | tr '\n' ' ')medians of $RUNS run(s)"
    fi
    printf '%-12s %10s %11s %10s %12s %12s\n' config MB/s "% mmap'ed" usec/MB "MB/s ratio" "usec ratio"
    base_mbps=$(median "$clk" 0 mbps) base_usec=$(median "$clk" 0 usec_per_mb)
    for i in 0 1 2; do
        mbps=$(median "$clk" "$i" mbps) usec=$(median "$clk" "$i" usec_per_mb)
        mm=$(median "$clk" "$i" mmap_pct)
        printf '%-12s %10s %11s %10s %12s %12s\n' "${NAMES[$i]}" "$mbps" "$mm" "$usec" \
            "$(ratio "$mbps" "$base_mbps")" "$(ratio "$usec" "$base_usec")"
    done
}

for clk in "${CLOCKS[@]}"; do
    run_clock "$clk"
done
for clk in "${CLOCKS[@]}"; do
    table "$clk"
done
echo "$((3 * RUNS * ${#CLOCKS[@]} - failed)) passed, $failed failed"
[ $failed = 0 ]
