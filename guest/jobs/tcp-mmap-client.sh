#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest job: the sending end of guest/e2e-tcp-mmap.sh.  Runs
# 'tcp_mmap -H PEER' once the receiver accepts the connection (retrying
# while it boots), then waits until everything sent has been acknowledged,
# so that powering off cannot cut the stream short.
#
# Kernel command line (besides init.sh's guest.ip=, guest.mtu=, ...):
#   guest.peer=ADDR                the receiver's address
#   guest.tcp_mmap_args=-i,-4      tcp_mmap options, commas for spaces
#   guest.tcp_mmap_size=BYTES      transfer size; the receiver's must match
#   guest.e2e_timeout=SECS         give up after SECS (default 300)
port=8787
args=$(echo "${GUEST_TCP_MMAP_ARGS:-}" | tr , ' ')
timeout=${GUEST_E2E_TIMEOUT:-300}
peer=${GUEST_PEER:-}
[ -n "${GUEST_TCP_MMAP_SIZE:-}" ] && export TCP_MMAP_FILE_SZ="$GUEST_TCP_MMAP_SIZE"

if [ "${GUEST_NET_OK:-0}" != 1 ]; then
    echo "GUEST: FAIL tcp-mmap-client: network not configured"
    exit 1
fi
[ -n "$peer" ] || { echo "GUEST: FAIL tcp-mmap-client: no guest.peer="; exit 1; }
[ -x /bin/tcp_mmap ] || { echo "GUEST: FAIL no /bin/tcp_mmap in the image"; exit 1; }

elapsed() { echo $(( $(cut -d. -f1 /proc/uptime) - start )); }
start=$(cut -d. -f1 /proc/uptime)
tries=0
while :; do
    tries=$((tries + 1))
    t0=$(cut -d' ' -f1 /proc/uptime)
    # shellcheck disable=SC2086 # args: tcp_mmap options, split on purpose
    tcp_mmap -p $port $args -H "$peer" > /tmp/tcp_mmap.out 2>&1
    rc=$?
    t1=$(cut -d' ' -f1 /proc/uptime)
    # Refused or unreachable while the receiver boots: try again.
    if [ $rc != 0 ] && grep -q '^connect:' /tmp/tcp_mmap.out; then
        if [ "$(elapsed)" -ge "$timeout" ]; then
            cat /tmp/tcp_mmap.out
            echo "GUEST: FAIL tcp_mmap: could not connect to $peer within ${timeout}s ($tries tries)"
            exit 1
        fi
        sleep 0.3
        continue
    fi
    break
done
grep -v MAP_HUGETLB /tmp/tcp_mmap.out
if [ "$rc" != 0 ]; then
    echo "GUEST: FAIL tcp_mmap -H $peer rc=$rc"
    exit 1
fi
echo "GUEST: tcp_mmap sent to $peer after $tries connect attempt(s), $(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }') s in tcp_mmap"

# close() returned with data possibly still queued: wait until no socket to
# the port is ESTABLISHED (01), FIN_WAIT1 (04), CLOSING (0B) or LAST_ACK
# (09), i.e. the data and our FIN are acknowledged.
hexport=$(printf '%04X' $port)
while cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        awk -v p=":$hexport" '$3 ~ p"$" && ($4 == "01" || $4 == "04" || $4 == "0B" || $4 == "09") { f = 1 } END { exit !f }'; do
    if [ "$(elapsed)" -ge "$timeout" ]; then
        echo "GUEST: FAIL tcp_mmap: data to $peer still unacknowledged after ${timeout}s"
        exit 1
    fi
    sleep 0.2
done
echo "GUEST: tcp_mmap drained"
exit 0
