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
#
# tcp_mmap's server never exits; its stdout is line buffered (the guest's
# build, guest/linux/tcp_mmap-shim.c), so its lines reach the file below as
# they are printed.  Markers: "GUEST: tcp_mmap listening", "GUEST: tcp_mmap
# output begin/end", "GUEST: tcp_mmap sha256 ok|FAIL ..." (with -i),
# "GUEST: ethtool -g/-i/-S eth0 begin/end".  Exit 0 when the summary line
# came (and, with -i, the SHA256 matched).
port=8787
args=$(echo "${GUEST_TCP_MMAP_ARGS:-}" | tr , ' ')
timeout=${GUEST_E2E_TIMEOUT:-300}
out=/tmp/tcp_mmap.out
[ -n "${GUEST_TCP_MMAP_SIZE:-}" ] && export TCP_MMAP_FILE_SZ="$GUEST_TCP_MMAP_SIZE"

if [ "${GUEST_NET_OK:-0}" != 1 ]; then
    echo "GUEST: FAIL tcp-mmap-server: network not configured"
    exit 1
fi
[ -x /bin/tcp_mmap ] || { echo "GUEST: FAIL no /bin/tcp_mmap in the image"; exit 1; }

ethtool_show() {    # option
    echo "GUEST: ethtool $1 eth0 begin"
    ethtool "$1" eth0 2>&1
    echo "GUEST: ethtool $1 eth0 end"
}
ethtool_show -i
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

# Wait for the summary's second line ("  cpu usage ...").
start=$(cut -d. -f1 /proc/uptime)
rc=0
while ! grep -q 'usec per MB' $out; do
    if ! kill -0 $pid 2>/dev/null; then
        echo "GUEST: FAIL tcp_mmap -s exited"
        rc=1; break
    fi
    if [ $(( $(cut -d. -f1 /proc/uptime) - start )) -ge "$timeout" ]; then
        echo "GUEST: FAIL tcp_mmap: no summary within ${timeout}s"
        rc=1; break
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
ethtool_show -S
# TCP's view: collapsed or pruned receive queues copy data, which then
# cannot be mapped.
echo "GUEST: tcpext begin"
awk '$1 == "TcpExt:" { if (!n) { split($0, k); n = 1 } else { for (i = 2; i <= NF; i++) if ($i != 0) print k[i], $i } }' /proc/net/netstat
echo "GUEST: tcpext end"
kill $pid 2>/dev/null
exit $rc
