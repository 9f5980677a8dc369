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
#   --vnet-args A=1,B=2    parameters of the receiver's virtio_net: insmod's
#                       (guest.vnet_args=) and, for a kernel that has the
#                       driver built in, virtio_net.A=1 on its command line
#   --rx-image DIR      the receiver boots DIR's vmlinuz and initramfs.gz
#                       instead of --image's, e.g. build/guest-kasan
#                       (guest/build-kasan-image.sh: KASAN kernel, patched
#                       virtio_net built in, so --driver does not matter)
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
#   --rx-props P        extra properties of the receiver's device (default
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
#   --rx-queues N       receiver's queue pairs (--net tap only): a
#                       multiqueue tap (queues=N), mq=on,vectors=2N+2 on
#                       its device and 'ethtool -L eth0 combined N' in the
#                       guest, so a one-vCPU guest uses them all
#   --rx-ethtool 'A; B' ethtool commands in the receiver before the
#                       transfer, e.g. '-K eth0 rxhash on; -X eth0 weight 0 1'
#                       (fails the run if ethtool refuses one)
#   --smp N             vCPUs per guest (default 1)
#   --timeout SECS      whole run (default 300)
#   --min-mmap PCT      fail unless at least PCT % of the data was mapped
#   --resize LIST       resize the receiver's rx rings under traffic:
#                       'ethtool -G eth0 rx N' for each N of LIST (commas),
#                       1 s apart, once --resize-after bytes (default 16M)
#                       have arrived; fails unless each resize succeeded
#                       before the transfer ended
#   --check-counters    compare per queue the device's split-hdr-stats with
#                       the receiver's ethtool -S: split with
#                       rxN_split_packets, the inline-* sum with
#                       rxN_inline_packets, fault-injected with
#                       rxN_slot_errors; slot_errors == split_resets; rings
#                       set on every queue (none with split_hdr_proto=0);
#                       feature bit 58 negotiated exactly when driver and
#                       device both want it, 57 (hash report) with hash=on;
#                       see guest/e2e-check-counters.py.  The receiver
#                       samples ethtool -S once traffic has stopped, the
#                       harness then reads the device, the receiver samples
#                       again: the device must lie between the samples
#   --expect-data-split on|off|n/a   ethtool -g's "TCP data split" on the
#                       receiver, before the transfer and after it
#   --data-queue N      (with --check-counters) the device's busiest queue
#                       must be N (e.g. after 'ethtool -X eth0 weight 0 1')
#   --min-payload-per-packet B   (with --check-counters) the busiest
#                       queue's payload bytes per packet at the device, and
#                       eth0's bytes per packet in the guest, must reach B:
#                       GSO frames from a tap peer were split once
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
# split-hdr-stats), read once the transfer is over.
#
# The receiver's console (kernel messages of level warning and worse reach
# it, and the job prints dmesg's at the end) must show no Oops, BUG:,
# WARNING:, general protection fault, KASAN report or Call Trace.
#
# Exit status: 0 when the whole transfer arrived (and SHA256 matched, and
# --min-mmap, --resize, --check-counters and --expect-data-split held, and
# the console is clean); 1 when not; 2 on bad usage or setup; 124 on
# timeout.  The last line is a one-line verdict "e2e: PASS|FAIL: ...".
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
QEMU='' IMAGE='' RX_IMAGE='' FAMILY=4 MTU='' DRIVER=stock VNET_ARGS='' ZC=0 INTEG=1
SIZE=256M RX_PROPS=split-hdr=on RX_DEVICE='' TX_PROPS=split-hdr=off NET=stream
PACE=''
SMP=1 TIMEOUT=300 MIN_MMAP='' RESULT='' LOGDIR='' RX_APPEND='' TX_APPEND=''
VERBOSE=0 QEMU_ARGS='' RX_QUEUES=1 RESIZE='' RESIZE_AFTER=16M CHECK_COUNTERS=0
EXPECT_SPLIT='' MIN_PPP='' RX_ETHTOOL='' DATA_QUEUE=''

die() { echo "e2e: error: $*" >&2; exit 2; }
usage() { awk 'NR >= 11 && !/^#/ { exit } NR >= 11' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
    --qemu) QEMU=$2; shift 2 ;;
    --image) IMAGE=$2; shift 2 ;;
    --rx-image) RX_IMAGE=$2; shift 2 ;;
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
    --rx-queues) RX_QUEUES=$2; shift 2 ;;
    --rx-ethtool) RX_ETHTOOL=$2; shift 2 ;;
    --data-queue) DATA_QUEUE=$2; shift 2 ;;
    --resize) RESIZE=$2; shift 2 ;;
    --resize-after) RESIZE_AFTER=$2; shift 2 ;;
    --check-counters) CHECK_COUNTERS=1; shift ;;
    --expect-data-split) EXPECT_SPLIT=$2; shift 2 ;;
    --min-payload-per-packet) MIN_PPP=$2; shift 2 ;;
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
RX_IMAGE=$(cd "${RX_IMAGE:-$IMAGE}" 2>/dev/null && pwd) || die "no --rx-image folder '$RX_IMAGE'"
for f in vmlinuz initramfs.gz; do
    [ -s "$RX_IMAGE/$f" ] || die "no $RX_IMAGE/$f"
done
case $FAMILY in 4|6) ;; *) die "--family must be 4 or 6" ;; esac
case $DRIVER in stock|split) ;; *) die "--driver must be stock or split" ;; esac
case $NET in stream|tap) ;; *) die "--net must be stream or tap" ;; esac
case $TIMEOUT in ''|*[!0-9]*) die "bad --timeout '$TIMEOUT'" ;; esac
case $SMP in ''|*[!0-9]*) die "bad --smp '$SMP'" ;; esac
case $PACE in *[!0-9]*) die "bad --pace '$PACE' (bytes per second)" ;; esac
case $RX_QUEUES in ''|*[!0-9]*|0) die "bad --rx-queues '$RX_QUEUES'" ;; esac
[ "$RX_QUEUES" = 1 ] || [ "$NET" = tap ] || die "--rx-queues needs --net tap (a stream netdev has one queue)"
case $RESIZE in *[!0-9,]*) die "bad --resize '$RESIZE' (ring sizes, commas between)" ;; esac
case $RESIZE_AFTER in ''|*[!0-9kKmMgG]*) die "bad --resize-after '$RESIZE_AFTER'" ;; esac
case $EXPECT_SPLIT in ''|on|off|n/a) ;; *) die "--expect-data-split must be on, off or n/a" ;; esac
case $RX_ETHTOOL in *[!a-zA-Z0-9_\ \;.:-]*) die "bad --rx-ethtool '$RX_ETHTOOL'" ;; esac
case $DATA_QUEUE in *[!0-9]*) die "bad --data-queue '$DATA_QUEUE'" ;; esac
[ -z "$DATA_QUEUE" ] || [ $CHECK_COUNTERS = 1 ] || die "--data-queue needs --check-counters"
case $MIN_PPP in *[!0-9]*) die "bad --min-payload-per-packet '$MIN_PPP'" ;; esac
[ -z "$MIN_PPP" ] || [ $CHECK_COUNTERS = 1 ] || die "--min-payload-per-packet needs --check-counters"
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
# (No 'grep -q' after a pipe here or below: with pipefail, the writer's
# SIGPIPE when grep exits at the first match would fail the pipeline.)
if ! zcat "$IMAGE/initramfs.gz" | cpio -it --quiet 2>/dev/null | grep -x 'bin/tcp_mmap' > /dev/null; then
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
    mq=''
    [ "$RX_QUEUES" -gt 1 ] && mq=multi_queue
    { ip -n "$NS" link add e2ebr type bridge &&
      ip -n "$NS" tuntap add dev e2erx mode tap $mq &&
      ip -n "$NS" tuntap add dev e2etx mode tap &&
      ip -n "$NS" link set e2erx mtu 65521 master e2ebr up &&
      ip -n "$NS" link set e2etx mtu 65521 master e2ebr up &&
      ip -n "$NS" link set e2ebr up; } || die "could not set up taps and a bridge in netns $NS"
    printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$NS" "$QEMU" > "$TMP/qemu-in-ns"
    chmod +x "$TMP/qemu-in-ns"
    RX_QEMU=$TMP/qemu-in-ns TX_QEMU=$TMP/qemu-in-ns
    RX_NETDEV="tap,id=n0,ifname=e2erx,script=no,downscript=no,vnet_hdr=on"
    [ "$RX_QUEUES" -gt 1 ] && RX_NETDEV="$RX_NETDEV,queues=$RX_QUEUES"
    TX_NETDEV="tap,id=n0,ifname=e2etx,script=no,downscript=no,vnet_hdr=on"
fi
# Two MACs: QEMU gives every guest's first NIC the same one, and a bridge
# cannot forward between two ports that claim it.
if [ -z "$RX_DEVICE" ]; then
    RX_DEVICE="virtio-net-pci,netdev=n0,id=nic0,romfile=,mac=52:54:00:77:00:01"
    [ "$RX_QUEUES" -gt 1 ] && RX_DEVICE="$RX_DEVICE,mq=on,vectors=$((2 * RX_QUEUES + 2))"
    RX_DEVICE="$RX_DEVICE${RX_PROPS:+,$RX_PROPS}"
fi
TX_DEVICE="virtio-net-pci,netdev=n0,id=nic0,romfile=,mac=52:54:00:77:00:02${TX_PROPS:+,$TX_PROPS}"

RX_IP=10.77.0.1 TX_IP=10.77.0.2 RX_IP6=fd77::1 TX_IP6=fd77::2
PEER=$([ "$FAMILY" = 4 ] && echo $RX_IP || echo $RX_IP6)
targs="-$FAMILY"
[ $INTEG = 1 ] && targs="$targs,-i"
rargs=$targs
[ $ZC = 1 ] && rargs="$rargs,-z"
[ -n "$PACE" ] && targs="$targs,-P,$PACE"
common="guest.mtu=$MTU guest.tcp_mmap_size=$BYTES guest.e2e_timeout=$TIMEOUT"
# loglevel=5: kernel warnings (WARN splats, the driver's ratelimited
# complaints) reach the console, not only errors as with 'quiet'.
# guest.e2e_ctl: the receiver's second serial port, on which the harness
# says when it has read the device's counters.
RX_CMD="loglevel=5 guest.driver=$DRIVER ${VNET_ARGS:+guest.vnet_args=$VNET_ARGS $(echo "$VNET_ARGS" | tr , '\n' | sed 's/^/virtio_net./' | tr '\n' ' ')}guest.ip=$RX_IP/24 guest.ip6=$RX_IP6/64 $common guest.tcp_mmap_args=$rargs guest.e2e_ctl=/dev/ttyS1"
[ "$RX_QUEUES" -gt 1 ] && RX_CMD="$RX_CMD guest.rx_combined=$RX_QUEUES"
[ -n "$RX_ETHTOOL" ] && RX_CMD="$RX_CMD guest.rx_ethtool=$(echo "$RX_ETHTOOL" | sed 's/ *; */;/g' | tr ' ' ,)"
[ -n "$RESIZE" ] && RX_CMD="$RX_CMD guest.rx_resize=$RESIZE guest.rx_resize_after=$RESIZE_AFTER"
RX_CMD="$RX_CMD $RX_APPEND"
TX_CMD="guest.driver=stock guest.ip=$TX_IP/24 guest.ip6=$TX_IP6/64 $common guest.peer=$PEER guest.tcp_mmap_args=$targs $TX_APPEND"

desc="IPv$FAMILY, MTU $MTU, $NET link$([ "$RX_QUEUES" -gt 1 ] && echo ", $RX_QUEUES receive queues"), receiver driver $DRIVER${VNET_ARGS:+ ($VNET_ARGS)}, zerocopy $([ $ZC = 1 ] && echo on || echo off), SHA256 $([ $INTEG = 1 ] && echo on || echo off), $BYTES bytes${PACE:+, sender paced at $PACE B/s}${RESIZE:+, rx resize to $RESIZE}"
echo "e2e: tcp_mmap, $desc"
echo "e2e: receiver -device $RX_DEVICE"
[ "$RX_IMAGE" = "$IMAGE" ] || echo "e2e: receiver image $RX_IMAGE"
echo "e2e: sender   -device $TX_DEVICE"

# --- boot both ---------------------------------------------------------------------
STATS=$LOGDIR/split-hdr-stats.json         # read between the guest's samples
STATS_END=$LOGDIR/split-hdr-stats-end.json # read when the job is done
rm -f "$STATS" "$STATS_END" "$LOGDIR/rx-console.log" "$LOGDIR/tx-console.log" \
    "$LOGDIR/qmp.err"
CTL=$TMP/rx-ctl.sock
START=$(date +%s.%N)
elapsed() { echo "$(date +%s.%N) $START" | awk '{printf "%.1f", $1 - $2}'; }
QMP=$TMP/rx.qmp
"$HERE/run-guest.sh" --qemu "$RX_QEMU" --image "$RX_IMAGE" --job tcp-mmap-server \
    --timeout $((TIMEOUT + 30)) --netdev "$RX_NETDEV" --device "$RX_DEVICE" \
    --extra-args "-smp $SMP -chardev socket,id=e2ectl,path=$CTL,server=on,wait=off -serial chardev:e2ectl $QEMU_ARGS" \
    --append "$RX_CMD" --log "$LOGDIR/rx-console.log" \
    --qmp-socket "$QMP" \
    --on-done "python3 '$HERE/qmp.py' -s \"\$QMP_SOCKET\" qom-get /machine/peripheral/nic0/virtio-backend split-hdr-stats > '$STATS_END' 2>> '$LOGDIR/qmp.err' || echo 'e2e: qom-get split-hdr-stats failed' >&2; true" \
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
# Once the receiver has sampled its counters after the transfer, read the
# device's over QMP, then tell the receiver (a line on its second serial
# port) to sample again: the device's counters were read between the two.
BOOT_SECS=60
timed_out=0 no_boot='' dev_read=''
marked() { tr -d '\r' 2>/dev/null < "$LOGDIR/$1-console.log" | grep -a "$2" > /dev/null; }
booted() { marked "$1" '^GUEST: init start'; }
ctl_send() { # line
    python3 - "$CTL" "$1" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
time.sleep(0.2)   # let QEMU read it before it sees the hang-up
s.close()
EOF
}
while kill -0 "$RX_PID" 2>/dev/null; do
    if [ -z "$dev_read" ] &&
        marked rx '^GUEST: counters sampled'; then
        dev_read=failed
        python3 "$HERE/qmp.py" -s "$QMP" qom-get /machine/peripheral/nic0/virtio-backend \
            split-hdr-stats > "$STATS" 2>> "$LOGDIR/qmp.err" || rm -f "$STATS"
        if ctl_send "device read $( [ -s "$STATS" ] && echo ok || echo failed)" 2>> "$LOGDIR/qmp.err"; then
            dev_read=ok
        else
            echo "e2e: could not signal the receiver on $CTL" >&2
        fi
    fi
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
    sleep 0.2
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
    marked rx '^GUEST: tcp_mmap sha256 ok' && sha=ok
fi

MB='' SECS='' GBIT='' MMAP='' USER='' SYS='' USEC='' MSS='' MBPS=''
if [ -n "$recv" ] && [ -n "$cpu" ]; then
    read -r MB MMAP SECS GBIT < <(printf '%s\n' "$recv" | sed -E \
        "s/^received ([^ ]+) MB \(([^ ]+) % mmap'ed\) in ([^ ]+) s, ([^ ]+) Gbit.*/\1 \2 \3 \4/")
    read -r USER SYS USEC MSS < <(printf '%s\n' "$cpu" | sed -E \
        's/.*user:([^ ]+) sys:([^,]+), ([^ ]+) usec per MB.*rcv_mss ([0-9]+).*/\1 \2 \3 \4/')
    MBPS=$(awk -v m="$MB" -v s="$SECS" 'BEGIN { if (s > 0) printf "%.1f", m / s; else print 0 }')
fi

for o in '-l' '-g' '-g resized' '-g after' '-S'; do
    name="ethtool ${o%% *} eth0${o#"${o%% *}"}"
    s=$(section "$name")
    [ -n "$s" ] || continue
    echo "e2e: receiver $name:"
    printf '%s\n' "$s" | sed 's/^/  | /'
done
con | grep -a -E '^GUEST: (rx combined|rx ethtool|rx resize|quiet after|eth0 rx_packets|counters host|counters no host)' |
    sed 's/^GUEST: /e2e: receiver: /'
# The read between the receiver's two samples; failing that, the one
# after the job.
[ -s "$STATS" ] || { [ -s "$STATS_END" ] && cp "$STATS_END" "$STATS.unbracketed"; }
for f in "$STATS" "$STATS.unbracketed"; do
    [ -s "$f" ] || continue
    echo "e2e: receiver split-hdr-stats (QMP qom-get nic0/virtio-backend$([ "$f" = "$STATS" ] && echo ', after the transfer' || echo ', when the job was done')):"
    python3 - "$f" <<'EOF'
import json, sys
for q in json.load(open(sys.argv[1])):
    print("  | " + " ".join(f"{k}={json.dumps(q[k])}" for k in sorted(q, key=lambda k: (k != "queue", k))))
EOF
    break
done
[ -s "$STATS" ] || [ -s "$STATS.unbracketed" ] ||
    echo "e2e: no split-hdr-stats from QMP ($(head -n1 "$LOGDIR/qmp.err" 2>/dev/null))"

# Kernel trouble on the receiver, wherever it printed.
OOPS_RE='Oops|BUG:|WARNING:|general protection|KASAN|Call Trace'
oops=$(con | grep -a -E "$OOPS_RE" | head -n 5)
if [ -n "$oops" ]; then
    echo "e2e: receiver console has kernel trouble:"
    printf '%s\n' "$oops" | sed 's/^/  ! /'
fi

# ethtool -g's "TCP data split", before the transfer and after it.
data_split() { section "ethtool -g eth0$1" | sed -n 's/^TCP data split:[[:space:]]*//p'; }
DS_BEFORE=$(data_split '') DS_AFTER=$(data_split ' after')
[ -n "$EXPECT_SPLIT" ] &&
    echo "e2e: TCP data split: ${DS_BEFORE:-?} before, ${DS_AFTER:-?} after the transfer (expected $EXPECT_SPLIT)"

# --check-counters: what the device and the driver must agree on.
COUNTERS=off
if [ $CHECK_COUNTERS = 1 ]; then
    ck=(--console "$LOGDIR/rx-console.log")
    [ -s "$STATS" ] && ck+=(--stats "$STATS")
    case ,$RX_DEVICE, in
    *,split-hdr=on,*) ck+=(--device-split on) ;;
    *) ck+=(--device-split off) ;;
    esac
    fault=$(printf '%s\n' ",$RX_DEVICE," | sed -n 's/.*,x-split-hdr-fault=\([^,]*\),.*/\1/p')
    ival=$(printf '%s\n' ",$RX_DEVICE," | sed -n 's/.*,x-split-hdr-fault-interval=\([^,]*\),.*/\1/p')
    ck+=(--fault "${fault:-none}" --fault-interval "${ival:-1000}")
    # A ring on every queue, unless the driver is told not to set one.
    rings=all
    case ,$VNET_ARGS, in
    *,split_hdr=0,*|*,split_hdr=n,*|*,split_hdr=N,*|*,split_hdr_proto=0,*) rings=none ;;
    esac
    [ "$DRIVER" = stock ] && rings=none
    ck+=(--expect-rings "$rings")
    # Bit 58 negotiated exactly when both ends want it; bit 57 (hash
    # report: 20-byte virtio headers in the slots) when the device has
    # hash=on.
    case ,$VNET_ARGS, in
    *,split_hdr=0,*|*,split_hdr=n,*|*,split_hdr=N,*) want58=0 ;;
    *) want58=$([ "$DRIVER" = split ] && echo 1 || echo 0) ;;
    esac
    case ,$RX_DEVICE, in *,split-hdr=on,*) ;; *) want58=0 ;; esac
    if [ "$want58" = 1 ]; then ck+=(--feature 58); else ck+=(--no-feature 58); fi
    case ,$RX_DEVICE, in *,hash=on,*) ck+=(--feature 57) ;; esac
    ck+=(--resizes "$(con | grep -a -c '^GUEST: rx resize [0-9]* rc=0')")
    [ -n "$MIN_PPP" ] && ck+=(--min-payload-per-packet "$MIN_PPP")
    [ -n "$DATA_QUEUE" ] && ck+=(--data-queue "$DATA_QUEUE")
    ck_out=$(python3 "$HERE/e2e-check-counters.py" "${ck[@]}" 2>&1)
    ck_rc=$?
    printf '%s\n' "$ck_out" | sed 's/^/e2e: /'
    COUNTERS=$([ $ck_rc = 0 ] && echo ok || echo fail)
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
[ -n "$oops" ] && fail "receiver kernel: $(printf '%s\n' "$oops" | head -n1)"
if [ -n "$RESIZE" ]; then
    n_ok=$(con | grep -a -c '^GUEST: rx resize [0-9]* rc=0 .*, during the transfer$')
    [ "$n_ok" = "$(echo "$RESIZE" | tr , '\n' | grep -c .)" ] ||
        fail "rx resize: $n_ok of '$RESIZE' done under traffic"
fi
if [ -n "$EXPECT_SPLIT" ]; then
    { [ "$DS_BEFORE" = "$EXPECT_SPLIT" ] && [ "$DS_AFTER" = "$EXPECT_SPLIT" ]; } ||
        fail "TCP data split ${DS_BEFORE:-?} before, ${DS_AFTER:-?} after the transfer, expected $EXPECT_SPLIT"
fi
if [ "$COUNTERS" = fail ]; then
    fail "counters: $(printf '%s\n' "$ck_out" | grep -m1 '^counters: FAIL: ' | sed 's/^counters: FAIL: //')"
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
        echo "sha256=$sha wall=$WALL counters=$COUNTERS"
        echo "stats_json='$(for f in "$STATS" "$STATS_END"; do [ -s "$f" ] && { tr -d '\n ' < "$f"; break; }; done)'"
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
