#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Receive-path cost of virtio-net: split header ring set, inline, classic.
#
#   bench/splithdr-bench.sh --build BUILD [--frames N] [--modes "M ..."]
#
# For each mode and frame size (64, 1514, 9014, 65535 bytes; TCP/IPv4,
# with timestamps from 1514 up) the qtest driver in
# virtio-net-splithdr-test.c (SPLITHDR_BENCH=1) feeds N frames into a
# virtio-net-pci device with 4 KiB mergeable buffers always posted, while
# QEMU runs under callgrind collecting only inside virtio_net_receive():
# from the netdev handing over the frame to the used entries published
# and the guest notified.  Instructions are exact and repeatable; no
# timing is asserted anywhere.  Modes:
#   classic      no ring (the baseline of every ratio)
#   split        ring set, the frames split
#   inline       ring set, TCPv4 left out of proto_mask: every frame inline
#   rss-classic, rss-split   software RSS on (one queue): a hash per frame
#   tap-classic, tap-split   a tap peer with a vnet header (needs root and
#                /dev/net/tun; the script creates and deletes the tap)
# Prints Ir/frame and the ratio to classic of the same run, writes
# BUILD/bench/splithdr-bench.tsv and, with python3-matplotlib,
# BUILD/bench/splithdr-bench.png (Ir/frame against frame size per mode).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=
FRAMES=200
MODES="classic split inline rss-classic rss-split tap-classic tap-split"
SIZES="64 1514 9014 65535"
while [ $# -gt 0 ]; do
    case $1 in
    --build) BUILD=$2; shift 2 ;;
    --frames) FRAMES=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    *) echo "usage: $0 --build BUILD [--frames N] [--modes \"M ...\"]" >&2
       exit 2 ;;
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

# The tap modes: a quiet tap (no address, IPv6 off) with room for 64 KiB.
TAP=
tap_skip=
cleanup() { [ -z "$TAP" ] || ip link del "$TAP" 2>/dev/null || true; }
trap cleanup EXIT
case " $MODES " in
*" tap-"*)
    name=shb$$
    if [ "$(id -u)" != 0 ]; then
        tap_skip="needs root"
    elif [ ! -c /dev/net/tun ]; then
        tap_skip="no /dev/net/tun"
    elif ! command -v ip >/dev/null; then
        tap_skip="no ip (iproute2)"
    elif ! err=$(ip tuntap add dev "$name" mode tap vnet_hdr 2>&1); then
        tap_skip="cannot create a tap: $err"
    else
        TAP=$name
        if [ -e "/proc/sys/net/ipv6/conf/$TAP/disable_ipv6" ]; then
            echo 1 > "/proc/sys/net/ipv6/conf/$TAP/disable_ipv6"
        fi
        if ! err=$( (ip link set dev "$TAP" mtu 65521 &&
                     ip link set dev "$TAP" up) 2>&1); then
            tap_skip="cannot set up $TAP: $err"
        fi
    fi
    ;;
esac

path_of() {
    (cd "$QB" && SPLITHDR_BENCH=1 SPLITHDR_BENCH_TAP=$TAP \
        QTEST_QEMU_BINARY=$QB/qemu-system-x86_64 \
        ./tests/qtest/qos-test -l | grep "/split-hdr/bench/$1\$")
}

ir_per_frame() {        # mode size
    local out=$OUT/callgrind.$1.$2 path
    path=$(path_of "$1/$2")
    rm -f "$out"
    (cd "$QB" && SPLITHDR_BENCH=1 SPLITHDR_BENCH_FRAMES=$FRAMES \
        SPLITHDR_BENCH_TAP=$TAP SPLITHDR_BENCH_OUT=$out \
        QTEST_QEMU_BINARY=$wrap ./tests/qtest/qos-test -p "$path") \
        > "$out.log" 2>&1 ||
        { echo "bench: $1/$2 failed, see $out.log" >&2; return 1; }
    awk -v n="$FRAMES" '/^(totals|summary):/ { print int($2 / n); exit }' "$out"
}

# Instructions per frame inside functions matching a regex (inclusive).
ir_in() {              # mode size regex
    callgrind_annotate --inclusive=yes --threshold=100 \
        "$OUT/callgrind.$1.$2" 2>/dev/null |
        awk -v n="$FRAMES" -v re="$3" '
            { sub(/ \[[^]]*\]$/, "") }
            # A function can be listed under two paths of its file: once.
            $NF ~ re {
                x = $1
                gsub(",", "", x)
                f = $NF
                sub(/.*:/, "", f)
                if (x + 0 > ir[f]) ir[f] = x + 0
            }
            END { for (f in ir) sum += ir[f]; print int(sum / n) }'
}

# Instructions per frame that the split path's own code spends in callees
# matching a regex (its helpers are inlined into
# virtio_net_splithdr_receive()).
ir_called() {          # mode size regex
    callgrind_annotate --tree=calling --inclusive=yes --threshold=100 \
        "$OUT/callgrind.$1.$2" 2>/dev/null |
        awk -v n="$FRAMES" -v re="$3" '
            /^ *[0-9,]+ .*  \*  / {
                inside = $0 ~ /:virtio_net_splithdr_receive( |$)/
                next
            }
            inside && /  >  / {
                name = $0
                sub(/ \([0-9,]+x\).*$/, "", name)
                if (name ~ re) { x = $1; gsub(",", "", x); sum += x }
            }
            END { print int(sum / n) }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

declare -A IR
TSV=$OUT/splithdr-bench.tsv
echo "bench: $FRAMES frames per run, QEMU under callgrind," \
     "instructions per frame inside virtio_net_receive()"
printf 'mode\t%s\n' "$(echo $SIZES | tr ' ' '\t')" > "$TSV"
printf '%-12s' mode
for size in $SIZES; do printf ' %16s' "$size"; done
echo
failed=0
for mode in $MODES; do
    if [ "${mode#tap-}" != "$mode" ] && [ -n "$tap_skip" ]; then
        echo "bench: $mode skipped: $tap_skip"
        continue
    fi
    # Each row against the classic row of its kind (same netdev, RSS).
    base=${mode%-*}-classic
    [ "${mode%-*}" != "$mode" ] || base=classic
    [ "$mode" != "$base" ] || base=classic
    printf '%-12s' "$mode"
    line=$mode
    for size in $SIZES; do
        if ! ir=$(ir_per_frame "$mode" "$size"); then
            failed=$((failed + 1))
            printf ' %16s' -
            line="$line	-"
            continue
        fi
        IR[$mode/$size]=$ir
        if [ "$mode" = classic ] || [ -z "${IR[$base/$size]:-}" ]; then
            printf ' %16s' "$ir"
        else
            printf ' %16s' "$ir $(ratio "$ir" "${IR[$base/$size]}")"
        fi
        line="$line	$ir"
    done
    [ "$mode" = classic ] && echo || echo "  (to $base)"
    echo "$line" >> "$TSV"
done
echo "bench: ratios to the classic row of the same kind, this run; table in $TSV"

# The two parts of a ring queue's receive that classic does not have: the
# split decision (with RSS on, RSS's parse is reused: classify only) and
# the slot write, of which the calls are its dirty marking (and, for a
# slot beyond the ring's mapping, the translated write); its copy is a
# memcpy like the others.
echo "bench: of which splithdr_parse() + splithdr_classify()," \
     "+ the slot write's calls (dirty marking)"
slot_calls='address_space_cache_invalidate|address_space_write|flatview_write.*'
slot_calls=":($slot_calls)\$"
for mode in $MODES; do
    case $mode in *classic) continue ;; esac
    [ -n "${IR[$mode/64]:-}" ] || continue
    printf '%-12s' "$mode"
    for size in $SIZES; do
        printf ' %16s' "$(ir_in "$mode" "$size" \
            ':splithdr_(parse|classify|parse_from_rx_pkt)$') +$(ir_called \
            "$mode" "$size" "$slot_calls")"
    done
    echo
done

# Debian's python3-matplotlib is for /usr/bin/python3, whatever PATH says.
py=
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import matplotlib' 2>/dev/null; then py=$p; break; fi
done
if [ -n "$py" ]; then
    "$py" "$HERE/splithdr-plot.py" "$TSV" "$OUT/splithdr-bench.png" &&
        echo "bench: plot in $OUT/splithdr-bench.png"
else
    echo "bench: no plot: python3-matplotlib is not installed"
fi
[ $failed = 0 ]
