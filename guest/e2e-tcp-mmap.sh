#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# End to end: tcp_mmap between two TCG guests, the receiver on the device
# under test.  Boots the test guest (guest/build-image.sh; 'make guest')
# twice, linked by a -netdev stream (or, as root, two taps on a bridge in
# a private network namespace), runs 'tcp_mmap -s' in the receiver and
# 'tcp_mmap -H' in the sender, then reads the receiver's split-hdr
# counters over QMP.
#
#   guest/e2e-tcp-mmap.sh --qemu BIN --image DIR [options]
#
#   --family 4|6        IP version (default 4)
#   --mtu N             both guests' MTU (default 4148 for IPv4, 4168 for
#                       IPv6: a TCP MSS of 4096 with timestamps)
#   --driver stock|split   the receiver's virtio_net (default stock; the
#                       sender always runs the stock driver)
#   --vnet-args A=1,B=2    insmod parameters of the receiver's virtio_net
#   --zerocopy | -z     receiver maps the data (tcp_mmap -s -z)
#   --integrity | --no-integrity   SHA256 of the data (tcp_mmap -i) checked
#                       by the receiver (default on; it costs CPU, so
#                       measure CPU per MB without it)
#   --size N[K|M|G]     bytes to transfer (default 256M)
#   --pace BYTES/S      the sender paces itself (tcp_mmap -P, TCP's
#                       SO_MAX_PACING_RATE).  Use it below the receiver's
#                       reading rate when that rate is the bottleneck, as
#                       with --integrity under TCG: once the receiver's
#                       window closes, the sender's zero-window probes cut
#                       one MSS into two partial segments, which land in
#                       two partial pages that no receiver can map
##   --rx-props P        extra properties of the receiver's device (default
#                       split-hdr=on), appended to virtio-net-pci,netdev=n0,
#                       id=nic0,romfile=,mac=52:54:00:77:00:01
#   --rx-device D       the receiver's whole -device (keep id=nic0 for the
#                       counters)
#   --tx-props P        extra properties of the sender's device (default
#                       split-hdr=off)
#   --net stream|tap    link (default stream: unix socket, no vnet header,
#                       so no offloads); tap needs root, /dev/net/tun and
#                       'ip netns', and gives the devices a vnet-header peer
#                       (TSO/GSO frames)
#   --smp N             vCPUs per guest (default 1)
#   --timeout SECS      whole run (default 300)
#   --min-mmap PCT      fail unless at least PCT % of the data was mapped
#   --result FILE       write the figures as shell variables (for scripts,
#                       e.g. bench/e2e-bench.sh)
#   --log-dir DIR       keep consoles, QEMU output and counters there
#   --rx-append A, --tx-append A   more kernel command line per guest
#   --qemu-args A       more QEMU options for both (split on whitespace),
#                       e.g. '-L DIR' or '-m 1024'
#   --verbose           also show both guests' consoles
#
# Prints tcp_mmap's summary lines as the receiver printed them, then MB/s,
# % mmap'ed and the receiver's CPU time per MB (tcp_mmap's own rusage of
# the receiving thread), the receiver's 'ethtool -g/-S eth0', and the
# device's split-hdr-stats (qom-get /machine/peripheral/nic0/virtio-backend
# split-hdr-stats) for the caller to compare.
#
# Exit status: 0 when the whole transfer arrived (and SHA256 matched, and
# --min-mmap held); 1 when not; 2 on bad usage or setup; 124 on timeout.
# The last line is a one-line verdict "e2e: PASS|FAIL: ...".
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
QEMU='' IMAGE='' FAMILY=4 MTU='' DRIVER=stock VNET_ARGS='' ZC=0 INTEG=1
SIZE=256M RX_PROPS=split-hdr=on RX_DEVICE='' TX_PROPS=split-hdr=off NET=stream
PACE=''
SMP=1 TIMEOUT=300 MIN_MMAP='' RESULT='' LOGDIR='' RX_APPEND='' TX_APPEND=''
VERBOSE=0 QEMU_ARGS=''

die() { echo "e2e: error: $*" >&2; exit 2; }
usage() { sed -n '11,58p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
    --qemu) QEMU=$2; shift 2 ;;
    --image) IMAGE=$2; shift 2 ;;
    --family) FAMILY=$2; shift 2 ;;
    --mtu) MTU=$2; shift 2 ;;
    --driver) DRIVER=$2; shift 2 ;;
    --vnet-args) VNET_ARGS=$2; shift 2 ;;
    --zerocopy|-z) ZC=1; shift ;;
    --integrity|-i) INTEG=1; shift ;;
    --no-integrity) INTEG=0; shift ;;
    --size) SIZE=$2; shift 2 ;;
    --pace) PACE=$2; shift 2 ;;
    --rx-props) RX_PROPS=$2; shift 2 ;;
    --rx-device) RX_DEVICE=$2; shift 2 ;;
    --tx-props) TX_PROPS=$2; shift 2 ;;
    --net) NET=$2; shift 2 ;;
    --smp) SMP=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --min-mmap) MIN_MMAP=$2; shift 2 ;;
    --result) RESULT=$2; shift 2 ;;
    --log-dir) LOGDIR=$2; shift 2 ;;
    --rx-append) RX_APPEND=$2; shift 2 ;;
    --tx-append) TX_APPEND=$2; shift 2 ;;
    --qemu-args) QEMU_ARGS=$2; shift 2 ;;
    --verbose|-v) VERBOSE=1; shift ;;
    -h|--help) usage ;;
    *) echo "e2e: unknown argument '$1'" >&2; usage ;;
    esac
done
{ [ -n "$QEMU" ] && [ -n "$IMAGE" ]; } || usage
[ -x "$QEMU" ] || die "'$QEMU' is not executable (make build)"
QEMU=$(cd "$(dirname "$QEMU")" && pwd)/${QEMU##*/}
IMAGE=$(cd "$IMAGE" 2>/dev/null && pwd) || die "no image folder '$IMAGE' (make guest)"
case $FAMILY in 4|6) ;; *) die "--family must be 4 or 6" ;; esac
case $DRIVER in stock|split) ;; *) die "--driver must be stock or split" ;; esac
case $NET in stream|tap) ;; *) die "--net must be stream or tap" ;; esac
case $TIMEOUT in ''|*[!0-9]*) die "bad --timeout '$TIMEOUT'" ;; esac
case $SMP in ''|*[!0-9]*) die "bad --smp '$SMP'" ;; esac
case $PACE in *[!0-9]*) die "bad --pace '$PACE' (bytes per second)" ;; esac
[ -n "$MTU" ] || MTU=$([ "$FAMILY" = 4 ] && echo 4148 || echo 4168)
case $MTU in ''|*[!0-9]*) die "bad --mtu '$MTU'" ;; esac
case $SIZE in
*[kK]) BYTES=$(( ${SIZE%?} << 10 )) ;;
*[mM]) BYTES=$(( ${SIZE%?} << 20 )) ;;
*[gG]) BYTES=$(( ${SIZE%?} << 30 )) ;;
*) BYTES=$SIZE ;;
esac 2>/dev/null
case ${BYTES:-} in ''|*[!0-9]*|0) die "bad --size '$SIZE'" ;; esac
[ "$BYTES" -gt $((2 << 20)) ] || die "--size must exceed 2 MiB (tcp_mmap prints no summary for 1 MiB or less)"
if [ -n "$MIN_MMAP" ]; then
    awk -v v="$MIN_MMAP" 'BEGIN { exit !(v ~ /^[0-9]+(\.[0-9]+)?$/ && v <= 100) }' ||
        die "bad --min-mmap '$MIN_MMAP' (a percentage)"
fi
for f in vmlinuz initramfs.gz; do
    [ -s "$IMAGE/$f" ] || die "no $IMAGE/$f (make guest)"
done
if ! zcat "$IMAGE/initramfs.gz" | cpio -it --quiet 2>/dev/null | grep -qx 'bin/tcp_mmap'; then
    die "$IMAGE has no /bin/tcp_mmap: rebuild it with 'make guest'"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/e2e.XXXXXX")
if [ -n "$LOGDIR" ]; then
    mkdir -p "$LOGDIR" || die "cannot create --log-dir '$LOGDIR'"
    LOGDIR=$(cd "$LOGDIR" && pwd)
else
    LOGDIR=$TMP
fi
NS='' RX_PID='' TX_PID=''
# shellcheck disable=SC2317 # called from the trap
cleanup() {
    for p in $RX_PID $TX_PID; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the link ------------------------------------------------------------------
RX_QEMU=$QEMU TX_QEMU=$QEMU
if [ "$NET" = stream ]; then
    SOCK=$TMP/link.sock
    RX_NETDEV="stream,id=n0,server=on,addr.type=unix,addr.path=$SOCK"
    TX_NETDEV="stream,id=n0,server=off,addr.type=unix,addr.path=$SOCK"
else
    [ "$(id -u)" = 0 ] || die "--net tap needs root"
    [ -c /dev/net/tun ] || die "--net tap needs /dev/net/tun"
    command -v ip >/dev/null || die "--net tap needs ip (iproute2)"
    NS=splithdr-e2e-$$
    ip netns add "$NS" || die "ip netns add $NS failed"
    # Persistent taps on a bridge, all inside the namespace: nothing on the
    # host's own network changes.  Tap MTUs are the maximum so the bridge
    # forwards every frame the guests send.
    { ip -n "$NS" link add e2ebr type bridge &&
      ip -n "$NS" tuntap add dev e2erx mode tap &&
      ip -n "$NS" tuntap add dev e2etx mode tap &&
      ip -n "$NS" link set e2erx mtu 65521 master e2ebr up &&
      ip -n "$NS" link set e2etx mtu 65521 master e2ebr up &&
      ip -n "$NS" link set e2ebr up; } || die "could not set up taps and a bridge in netns $NS"
    printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$NS" "$QEMU" > "$TMP/qemu-in-ns"
    chmod +x "$TMP/qemu-in-ns"
    RX_QEMU=$TMP/qemu-in-ns TX_QEMU=$TMP/qemu-in-ns
    RX_NETDEV="tap,id=n0,ifname=e2erx,script=no,downscript=no,vnet_hdr=on"
    TX_NETDEV="tap,id=n0,ifname=e2etx,script=no,downscript=no,vnet_hdr=on"
fi
# Two MACs: QEMU gives every guest's first NIC the same one, and a bridge
# cannot forward between two ports that claim it.
[ -n "$RX_DEVICE" ] || RX_DEVICE="virtio-net-pci,netdev=n0,id=nic0,romfile=,mac=52:54:00:77:00:01${RX_PROPS:+,$RX_PROPS}"
TX_DEVICE="virtio-net-pci,netdev=n0,id=nic0,romfile=,mac=52:54:00:77:00:02${TX_PROPS:+,$TX_PROPS}"

RX_IP=10.77.0.1 TX_IP=10.77.0.2 RX_IP6=fd77::1 TX_IP6=fd77::2
PEER=$([ "$FAMILY" = 4 ] && echo $RX_IP || echo $RX_IP6)
targs="-$FAMILY"
[ $INTEG = 1 ] && targs="$targs,-i"
rargs=$targs
[ $ZC = 1 ] && rargs="$rargs,-z"
[ -n "$PACE" ] && targs="$targs,-P,$PACE"
common="guest.mtu=$MTU guest.tcp_mmap_size=$BYTES guest.e2e_timeout=$TIMEOUT"
RX_CMD="guest.driver=$DRIVER ${VNET_ARGS:+guest.vnet_args=$VNET_ARGS }guest.ip=$RX_IP/24 guest.ip6=$RX_IP6/64 $common guest.tcp_mmap_args=$rargs $RX_APPEND"
TX_CMD="guest.driver=stock guest.ip=$TX_IP/24 guest.ip6=$TX_IP6/64 $common guest.peer=$PEER guest.tcp_mmap_args=$targs $TX_APPEND"

desc="IPv$FAMILY, MTU $MTU, $NET link, receiver driver $DRIVER${VNET_ARGS:+ ($VNET_ARGS)}, zerocopy $([ $ZC = 1 ] && echo on || echo off), SHA256 $([ $INTEG = 1 ] && echo on || echo off), $BYTES bytes${PACE:+, sender paced at $PACE B/s}"
echo "e2e: tcp_mmap, $desc"
echo "e2e: receiver -device $RX_DEVICE"
echo "e2e: sender   -device $TX_DEVICE"

# --- boot both ---------------------------------------------------------------------
STATS=$LOGDIR/split-hdr-stats.json
rm -f "$STATS" "$LOGDIR/rx-console.log" "$LOGDIR/tx-console.log"
START=$(date +%s.%N)
elapsed() { echo "$(date +%s.%N) $START" | awk '{printf "%.1f", $1 - $2}'; }
QMP=$TMP/rx.qmp
"$HERE/run-guest.sh" --qemu "$RX_QEMU" --image "$IMAGE" --job tcp-mmap-server \
    --timeout $((TIMEOUT + 30)) --netdev "$RX_NETDEV" --device "$RX_DEVICE" \
    --extra-args "-smp $SMP $QEMU_ARGS" --append "$RX_CMD" --log "$LOGDIR/rx-console.log" \
    --qmp-socket "$QMP" \
    --on-done "python3 '$HERE/qmp.py' -s \"\$QMP_SOCKET\" qom-get /machine/peripheral/nic0/virtio-backend split-hdr-stats > '$STATS' 2> '$LOGDIR/qmp.err' || echo 'e2e: qom-get split-hdr-stats failed' >&2; true" \
    > "$LOGDIR/rx.out" 2>&1 &
RX_PID=$!
if [ "$NET" = stream ]; then
    # The sender's QEMU connects at start-up: wait for the receiver's socket.
    for _ in $(seq 100); do
        [ -S "$SOCK" ] && break
        kill -0 "$RX_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ ! -S "$SOCK" ]; then
        sed 's/^/  rx| /' "$LOGDIR/rx.out"
        echo "e2e: FAIL: the receiver's QEMU did not create $SOCK"
        exit 1
    fi
fi
"$HERE/run-guest.sh" --qemu "$TX_QEMU" --image "$IMAGE" --job tcp-mmap-client \
    --timeout $((TIMEOUT + 30)) --netdev "$TX_NETDEV" --device "$TX_DEVICE" \
    --extra-args "-smp $SMP $QEMU_ARGS" --append "$TX_CMD" --log "$LOGDIR/tx-console.log" \
    > "$LOGDIR/tx.out" 2>&1 &
TX_PID=$!

# Wait for the receiver; then give the sender a moment to power off.
# A guest that has not started /init after BOOT_SECS will not (firmware
# missing, bad QEMU option): stop early instead of at --timeout.
BOOT_SECS=60
timed_out=0 no_boot=''
booted() { tr -d '\r' < "$LOGDIR/$1-console.log" 2>/dev/null | grep -qa '^GUEST: init start'; }
while kill -0 "$RX_PID" 2>/dev/null; do
    t=$(elapsed | cut -d. -f1)
    if [ "$t" -ge "$((TIMEOUT + 40))" ]; then
        timed_out=1
        break
    fi
    if [ "$t" -ge $BOOT_SECS ] && [ -z "$no_boot" ]; then
        for g in rx tx; do
            booted $g || no_boot="$no_boot $g"
        done
        [ -n "$no_boot" ] && break
        no_boot=' '
    fi
    sleep 0.5
done
no_boot=${no_boot# }
[ -n "$no_boot" ] && kill "$RX_PID" 2>/dev/null
wait "$RX_PID" 2>/dev/null
rx_rc=$?
RX_PID=
for _ in $(seq 60); do
    kill -0 "$TX_PID" 2>/dev/null || break
    sleep 0.5
done
kill "$TX_PID" 2>/dev/null
wait "$TX_PID" 2>/dev/null
tx_rc=$?
TX_PID=
WALL=$(elapsed)

if [ $VERBOSE = 1 ]; then
    sed 's/^/  rx| /' "$LOGDIR/rx.out"
    sed 's/^/  tx| /' "$LOGDIR/tx.out"
fi

# --- what the receiver printed -----------------------------------------------------
con() { tr -d '\r' < "$LOGDIR/rx-console.log" 2>/dev/null; }
section() { # marker-name: lines between "GUEST: NAME begin" and "... end"
    con | awk -v b="GUEST: $1 begin" -v e="GUEST: $1 end" \
        '$0 == e { p = 0 } p { print } $0 == b { p = 1 }'
}
out=$(section 'tcp_mmap output')
recv=$(printf '%s\n' "$out" | grep -m1 '^received ')
cpu=$(printf '%s\n' "$out" | grep -m1 'usec per MB')
if [ -n "$out" ]; then
    echo "e2e: tcp_mmap -s printed:"
    printf '%s\n' "$out" | grep -v MAP_HUGETLB | grep -v '^$' | sed 's/^/  | /'
fi
sha=off
if [ $INTEG = 1 ]; then
    sha=fail
    con | grep -q '^GUEST: tcp_mmap sha256 ok' && sha=ok
fi

MB='' SECS='' GBIT='' MMAP='' USER='' SYS='' USEC='' MSS='' MBPS=''
if [ -n "$recv" ] && [ -n "$cpu" ]; then
    read -r MB MMAP SECS GBIT < <(printf '%s\n' "$recv" | sed -E \
        "s/^received ([^ ]+) MB \(([^ ]+) % mmap'ed\) in ([^ ]+) s, ([^ ]+) Gbit.*/\1 \2 \3 \4/")
    read -r USER SYS USEC MSS < <(printf '%s\n' "$cpu" | sed -E \
        's/.*user:([^ ]+) sys:([^,]+), ([^ ]+) usec per MB.*rcv_mss ([0-9]+).*/\1 \2 \3 \4/')
    MBPS=$(awk -v m="$MB" -v s="$SECS" 'BEGIN { if (s > 0) printf "%.1f", m / s; else print 0 }')
fi

for o in -g -S; do
    s=$(section "ethtool $o eth0")
    [ -n "$s" ] || continue
    echo "e2e: receiver ethtool $o eth0:"
    printf '%s\n' "$s" | sed 's/^/  | /'
done
if [ -s "$STATS" ]; then
    echo "e2e: receiver split-hdr-stats (QMP qom-get nic0/virtio-backend):"
    python3 - "$STATS" <<'EOF'
import json, sys
for q in json.load(open(sys.argv[1])):
    print("  | " + " ".join(f"{k}={json.dumps(q[k])}" for k in sorted(q, key=lambda k: (k != "queue", k))))
EOF
else
    echo "e2e: no split-hdr-stats from QMP ($(head -n1 "$LOGDIR/qmp.err" 2>/dev/null))"
fi

# --- verdict -------------------------------------------------------------------------
status=pass reason=''
fail() { [ $status = pass ] && reason=$1; status=fail; }
[ $timed_out = 1 ] && fail "timeout after ${TIMEOUT}s"
[ -n "$no_boot" ] && fail "guest(s) $no_boot did not boot within ${BOOT_SECS}s"
if [ -z "$recv" ]; then
    fail "no 'received' summary from the receiver ($(con | grep -a '^GUEST: FAIL' | head -n1 || true))"
else
    awk -v m="$MB" -v b="$BYTES" 'BEGIN { exit !(m * 1048576 >= b - 0.5 && m * 1048576 <= b + 0.5) }' ||
        fail "received $MB MB, expected $(awk -v b="$BYTES" 'BEGIN { print b / 1048576 }') MB"
fi
[ "$sha" = fail ] && fail "SHA256 check failed"
[ $rx_rc = 0 ] || fail "receiver: $(tail -n1 "$LOGDIR/rx.out")"
[ $tx_rc = 0 ] || fail "sender: $(tail -n1 "$LOGDIR/tx.out")"
if [ -n "$MIN_MMAP" ] && [ -n "$MMAP" ]; then
    awk -v v="$MMAP" -v m="$MIN_MMAP" 'BEGIN { exit !(v >= m) }' ||
        fail "$MMAP % mmap'ed, below --min-mmap $MIN_MMAP"
fi
if [ $status = fail ] && [ $VERBOSE = 0 ]; then
    sed 's/^/  rx| /' "$LOGDIR/rx.out" | tail -n 40
    sed 's/^/  tx| /' "$LOGDIR/tx.out" | tail -n 25
fi

if [ -n "$RESULT" ]; then
    {
        echo "status=$status"
        echo "family=$FAMILY mtu=$MTU driver=$DRIVER zerocopy=$ZC integrity=$INTEG net=$NET bytes=$BYTES"
        echo "mb=${MB:-0} secs=${SECS:-0} mbps=${MBPS:-0} gbit=${GBIT:-0}"
        echo "mmap_pct=${MMAP:-0} usec_per_mb=${USEC:-0} cpu_user=${USER:-0} cpu_sys=${SYS:-0} rcv_mss=${MSS:-0}"
        echo "sha256=$sha wall=$WALL"
        echo "stats_json='$([ -s "$STATS" ] && tr -d '\n ' < "$STATS")'"
    } > "$RESULT"
fi
if [ -n "$recv" ]; then
    echo "e2e: result: ${MBPS} MB/s, ${MMAP} % mmap'ed, ${USEC} usec/MB of receiver CPU (user ${USER} s, sys ${SYS} s), rcv_mss ${MSS}, SHA256 $sha"
fi
if [ $status = pass ]; then
    echo "e2e: PASS: $desc: ${MBPS} MB/s, ${MMAP} % mmap'ed, ${USEC} usec/MB (${WALL}s in all)"
    exit 0
fi
echo "e2e: FAIL: $desc: $reason (${WALL}s in all; logs: $([ "$LOGDIR" = "$TMP" ] && echo 'rerun with --log-dir DIR' || echo "$LOGDIR"))"
[ $timed_out = 1 ] && exit 124
exit 1
