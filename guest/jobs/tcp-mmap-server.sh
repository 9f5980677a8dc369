#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest job: the receiving end of guest/e2e-tcp-mmap.sh.  Runs
# 'tcp_mmap -s' (the kernel selftest, /bin/tcp_mmap), waits for one
# connection's summary, copies tcp_mmap's output to the console unchanged
# and prints ethtool's view of eth0 around it.
#
# Kernel command line (besides init.sh's guest.ip=, guest.mtu=, ...):
#   guest.tcp_mmap_args=-z,-i,-4   tcp_mmap options, commas for spaces
#   guest.tcp_mmap_size=BYTES      transfer size (K/M/G suffix allowed);
#                                  the sender must use the same
#   guest.e2e_timeout=SECS         give up waiting after SECS (default 300)
#   guest.rx_combined=N            'ethtool -L eth0 combined N' before
#                                  listening (a multiqueue device with one
#                                  vCPU: Linux starts with one queue pair)
#   guest.rx_ethtool=-K,eth0,rxhash,on;-X,eth0,weight,0,1
#                                  ethtool commands before listening,
#                                  commas for spaces, ';' between commands
#   guest.rx_resize=128,256        resize the receive rings under traffic:
#                                  once guest.rx_resize_after bytes (default
#                                  16M) have arrived on eth0 since tcp_mmap
#                                  listened, 'ethtool -G eth0 rx N' for each
#                                  N, 1 s apart, then 'ethtool -g eth0'
#   guest.e2e_ctl=/dev/ttyS1       a line-based channel from the host (a
#                                  second serial port): see "Counters"
#
# Counters: after the summary the job waits until the sender's FIN has
# been answered and eth0 has received nothing for 1 s, prints
# 'ethtool -S eth0', then "GUEST: counters sampled".  With guest.e2e_ctl
# it then waits (up to 60 s) for a line on that channel, which the host
# sends once it has read the device's counters over QMP, and prints
# 'ethtool -S eth0' again: the device's counters were read between the
# two samples, so a packet that still trickled in shows as a difference
# between the samples, not as a false mismatch.
#
# tcp_mmap's server never exits; its stdout is line buffered (the guest's
# build, guest/linux/tcp_mmap-shim.c), so its lines reach the file below as
# they are printed.  Markers: "GUEST: virtio features BITS" (negotiated,
# bit 0 first), "GUEST: rx combined|ethtool ...", "GUEST: tcp_mmap
# listening", "GUEST: rx resize N rc=R at BYTES bytes, during|after the
# transfer", "GUEST: tcp_mmap
# output begin/end", "GUEST: tcp_mmap sha256 ok|FAIL ...", "GUEST: quiet
# after N ms", "GUEST: eth0 rx_packets=N rx_bytes=N", "GUEST: counters
# sampled", "GUEST: counters host read|no host"; sections "GUEST: NAME
# begin/end" for ethtool -i/-k/-l/-g/-S eth0, "ethtool -g eth0 resized",
# "ethtool -g eth0 after", "ethtool -S eth0 again", tcpext and "dmesg
# warnings" (kernel messages of level warning and worse).  Exit 0 when
# the summary line came (and, with -i, the SHA256 matched, and every
# ethtool command and resize succeeded).
port=8787
args=$(echo "${GUEST_TCP_MMAP_ARGS:-}" | tr , ' ')
timeout=${GUEST_E2E_TIMEOUT:-300}
resize=$(echo "${GUEST_RX_RESIZE:-}" | tr , ' ')
resize_after=${GUEST_RX_RESIZE_AFTER:-16M}
ctl=${GUEST_E2E_CTL:-}
out=/tmp/tcp_mmap.out
[ -n "${GUEST_TCP_MMAP_SIZE:-}" ] && export TCP_MMAP_FILE_SZ="$GUEST_TCP_MMAP_SIZE"

if [ "${GUEST_NET_OK:-0}" != 1 ]; then
    echo "GUEST: FAIL tcp-mmap-server: network not configured"
    exit 1
fi
[ -x /bin/tcp_mmap ] || { echo "GUEST: FAIL no /bin/tcp_mmap in the image"; exit 1; }

bytes() {   # N[K|M|G] -> bytes
    case $1 in
    *[kK]) echo $(( ${1%?} << 10 )) ;;
    *[mM]) echo $(( ${1%?} << 20 )) ;;
    *[gG]) echo $(( ${1%?} << 30 )) ;;
    *) echo $(( $1 )) ;;
    esac
}
section() { # name command...
    sec_name=$1
    shift
    echo "GUEST: $sec_name begin"
    "$@" 2>&1
    echo "GUEST: $sec_name end"
}
ethtool_show() {    # option [label]
    section "ethtool $1 eth0${2:+ $2}" ethtool "$1" eth0
}
rx_stat() { cat "/sys/class/net/eth0/statistics/$1"; }
uptime_ds() {   # uptime in tenths of a second
    awk '{ printf "%d\n", $1 * 10 }' /proc/uptime
}
# Sockets of the port other than the listener (state 0A): a connection in
# any state, including the FIN exchange at its end.
port_busy() {
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        awk -v p=":$hexport" '$2 ~ p"$" && $4 != "0A" { f = 1 } END { exit !f }'
}

rc=0
if [ -n "${GUEST_RX_COMBINED:-}" ]; then
    if ethtool -L eth0 combined "$GUEST_RX_COMBINED"; then
        echo "GUEST: rx combined $GUEST_RX_COMBINED ok"
    else
        echo "GUEST: FAIL ethtool -L eth0 combined $GUEST_RX_COMBINED"
        rc=1
    fi
fi
if [ -n "${GUEST_RX_ETHTOOL:-}" ]; then
    echo "$GUEST_RX_ETHTOOL" | tr ';,' '\n ' > /tmp/rx-ethtool
    while read -r cmd; do
        [ -n "$cmd" ] || continue
        # shellcheck disable=SC2086 # ethtool's arguments, split on purpose
        if ethtool $cmd < /dev/null; then
            echo "GUEST: rx ethtool $cmd ok"
        else
            echo "GUEST: FAIL ethtool $cmd"
            rc=1
        fi
    done < /tmp/rx-ethtool
fi
# The feature bits the driver negotiated, bit 0 first.
echo "GUEST: virtio features $(cat /sys/class/net/eth0/device/features 2>/dev/null)"
ethtool_show -i
ethtool_show -k
ethtool_show -l
ethtool_show -g

# shellcheck disable=SC2086 # args: tcp_mmap options, split on purpose
tcp_mmap -s -p $port $args > $out 2>&1 &
pid=$!
# Listening when /proc/net/tcp{,6} has the port (hex) in state 0A.
hexport=$(printf '%04X' $port)
i=0
while ! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        awk -v p=":$hexport" '$2 ~ p"$" && $4 == "0A" { f = 1 } END { exit !f }'; do
    if ! kill -0 $pid 2>/dev/null || [ $i -ge 100 ]; then
        cat $out
        echo "GUEST: FAIL tcp_mmap -s did not start listening"
        exit 1
    fi
    sleep 0.1; i=$((i + 1))
done
echo "GUEST: tcp_mmap listening port=$port args=$args size=${TCP_MMAP_FILE_SZ:-default}"
rx0=$(rx_stat rx_bytes)
resize_at=$(( rx0 + $(bytes "$resize_after") ))

# Wait for the summary's second line ("  cpu usage ...").  Meanwhile,
# resize the rings once enough data has arrived.
start=$(cut -d. -f1 /proc/uptime)
while ! grep -q 'usec per MB' $out; do
    if ! kill -0 $pid 2>/dev/null; then
        echo "GUEST: FAIL tcp_mmap -s exited"
        rc=1; break
    fi
    if [ $(( $(cut -d. -f1 /proc/uptime) - start )) -ge "$timeout" ]; then
        echo "GUEST: FAIL tcp_mmap: no summary within ${timeout}s"
        rc=1; break
    fi
    if [ -n "$resize" ] && [ "$(rx_stat rx_bytes)" -ge "$resize_at" ]; then
        for n in $resize; do
            ethtool -G eth0 rx "$n" > /tmp/resize.out 2>&1
            r=$?
            cat /tmp/resize.out
            when=during
            grep -q 'usec per MB' $out && when=after
            echo "GUEST: rx resize $n rc=$r at $(( $(rx_stat rx_bytes) - rx0 )) bytes, $when the transfer"
            [ $r = 0 ] || { echo "GUEST: FAIL ethtool -G eth0 rx $n"; rc=1; }
            sleep 1
        done
        ethtool_show -g resized
        resize=
    fi
    sleep 0.2
done
echo "GUEST: tcp_mmap output begin"
cat $out
echo "GUEST: tcp_mmap output end"
case " $args " in
*" -i "*)
    if grep -q '^SHA256 is correct' $out; then
        echo "GUEST: tcp_mmap sha256 ok"
    else
        echo "GUEST: FAIL tcp_mmap sha256: $(grep -m1 -i 'sha256' $out || echo 'no verdict')"
        rc=1
    fi
    ;;
esac
if [ -n "$resize" ]; then
    echo "GUEST: FAIL rx resize: the transfer ended before $resize_after had arrived"
    rc=1
fi

# Quiet: the connection is gone (the sender's FIN came, ours was
# acknowledged) and eth0 received nothing for 1 s (10 s at most).
t0=$(uptime_ds)
i=0
while port_busy && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
last=$(rx_stat rx_packets) still=0 i=0
while [ $still -lt 4 ] && [ $i -lt 40 ]; do
    sleep 0.25; i=$((i + 1))
    now=$(rx_stat rx_packets)
    if [ "$now" = "$last" ]; then still=$((still + 1)); else still=0; last=$now; fi
done
echo "GUEST: quiet after $(( $(uptime_ds) - t0 ))00 ms$(port_busy && echo ', connection still open')$([ $still -lt 4 ] && echo ', packets still arriving')"
echo "GUEST: eth0 rx_packets=$(rx_stat rx_packets) rx_bytes=$(rx_stat rx_bytes)"
ethtool_show -g after
if [ -n "$ctl" ] && [ -c "$ctl" ]; then
    # Open the channel before saying "sampled": nothing the host sends
    # after that can be lost.
    stty -F "$ctl" raw -echo 2>/dev/null
    exec 3< "$ctl"
fi
ethtool_show -S
echo "GUEST: counters sampled"
if [ -n "$ctl" ] && [ -c "$ctl" ]; then
    # shellcheck disable=SC3045 # busybox ash has read -t
    if read -r -t 60 line <&3; then
        echo "GUEST: counters host read ($line)"
    else
        echo "GUEST: counters no host (nothing on $ctl within 60 s)"
    fi
    exec 3<&-
    ethtool_show -S again
fi
# TCP's view: collapsed or pruned receive queues copy data, which then
# cannot be mapped.
echo "GUEST: tcpext begin"
awk '$1 == "TcpExt:" { if (!n) { split($0, k); n = 1 } else { for (i = 2; i <= NF; i++) if ($i != 0) print k[i], $i } }' /proc/net/netstat
echo "GUEST: tcpext end"
# Kernel messages of level warning (4) and worse, whatever the console's
# log level let through.
echo "GUEST: dmesg warnings begin"
dmesg -r | grep '^<[0-4]>'
echo "GUEST: dmesg warnings end"
kill $pid 2>/dev/null
exit $rc
