#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers of the split-*.sh guest jobs; they source it ('. /jobs/split-lib.sh').
# Not a job itself: run alone it does nothing.
#
# Markers (run-guest.sh and buildsys/run-checks.sh read them; keep them
# stable):
#   GUEST: FAIL ...              a guest-side check failed (the job exits 1)
#   GUEST: stats seq=N K=V ...   one sample of eth0's split counters,
#                                printed by start_sampler every 0.25 s
#                                while the guest holds: the host compares
#                                them with the device's over QMP
#   GUEST: ...trace...: EVENTS   the kprobe events of a step, for the log
# shellcheck disable=SC2034 # gw and rc are for the jobs that source this
gw=${GUEST_GATEWAY:-10.0.2.2}
# shellcheck disable=SC2034
rc=0
TR=/sys/kernel/tracing
KO=/lib/modules/split/virtio_net.ko

ok() { echo "GUEST: $*"; }
fail() { echo "GUEST: FAIL $*"; rc=1; }

# eth0's per-queue split counters on one line, "rx0_split_packets=N ...".
split_stats() {
    ethtool -S eth0 2>/dev/null | awk '
        $1 ~ /^rx[0-9]+_(split_packets|inline_packets|slot_errors|split_resets|drops):$/ {
            sub(/:$/, "", $1); printf "%s%s=%s", sep, $1, $2; sep = " "
        }
        END { print "" }'
}

# One of them: vstat rx0_split_packets
vstat() { split_stats | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# What ethtool -g says about TCP data split: on, off, or nothing (n/a).
tcp_data_split() {
    ethtool -g eth0 2>/dev/null | sed -n 's/^TCP data split:[[:space:]]*//p'
}

# The host's token over HTTP through slirp (TCP: split with a ring).
# Not wget -T: Debian's busybox-static 1.35 wget segfaults with it.
http_fetch() {
    rm -f /tmp/hello.txt
    timeout 20 wget -q -O /tmp/hello.txt "http://$gw:$GUEST_HTTP_PORT/hello.txt" &&
        [ "$(cat /tmp/hello.txt)" = "$GUEST_TOKEN" ]
}

# Samples for the host, in the background, for as long as the guest
# holds (the job exits at once; init then holds).
start_sampler() {
    (
        i=0
        while [ $i -lt 400 ]; do
            i=$((i + 1))
            echo "GUEST: stats seq=$i $(split_stats)"
            sleep 0.25
        done
    ) &
}

# virtio_net: (re)load the patched module with ARGS, bring eth0 up, DHCP.
load_driver() {
    insmod "$KO" "$@" || { fail "insmod $KO $*"; return 1; }
    i=0
    while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do
        sleep 0.1; i=$((i + 1))
    done
    [ -e /sys/class/net/eth0 ] || { fail "no eth0 after insmod $*"; return 1; }
    ip link set eth0 up
    if ! udhcpc -i eth0 -n -q -t 5 -s /etc/udhcpc.script > /tmp/udhcpc.log 2>&1; then
        cat /tmp/udhcpc.log
        fail "dhcp after insmod $*"
        return 1
    fi
}

unload_driver() {
    rmmod virtio_net || { fail "rmmod virtio_net"; return 1; }
    [ ! -e /sys/class/net/eth0 ] || { fail "eth0 still there after rmmod"; return 1; }
}

# kprobe events, group vnet: kprobes_on "NAME TARGET [FETCHARGS]"...
# A target in the module is written virtio_net:SYMBOL, which survives
# rmmod and insmod.  kprobes_read prints what fired since kprobes_clear,
# one event a line: "NAME ARG=VAL...".
kprobes_on() {
    [ -e $TR/kprobe_events ] || mount -t tracefs tracefs $TR ||
        { fail "mount tracefs"; return 1; }
    for p in "$@"; do
        case $p in
        ret*) echo "r:vnet/$p" >> $TR/kprobe_events ;;
        *) echo "p:vnet/$p" >> $TR/kprobe_events ;;
        esac || { fail "kprobe '$p'"; return 1; }
    done
    echo 1 > $TR/events/vnet/enable || { fail "enable kprobes"; return 1; }
    : > $TR/trace
}
kprobes_clear() { : > $TR/trace; }
kprobes_read() {
    grep -v '^#' $TR/trace |
        sed -n 's/^.* \([a-z_]*\): ([^)]*)[[:space:]]*\(.*\)$/\1 \2/p' |
        sed 's/ *$//'
}

# The header ring's size in bytes: the driver's 256-byte slots times the
# receive queue's maximum size rounded up to a power of two.
ring_bytes() {
    max=$(ethtool -g eth0 | awk '/^Pre-set maximums/ { p = 1 } p && /^RX:/ { print $2; exit }')
    n=1
    while [ "$n" -lt "${max:-0}" ]; do n=$((n * 2)); done
    echo $((n * 256))
}

# Did EVENTS (kprobes_read output) see, in this order, "reset" and then
# the ring's free_pages_exact (freepg size=BYTES) after the event FIRST?
# The ring may be freed only once the device can no longer write it.
reset_then_free() { # first bytes <events-file
    awk -v first="$1" -v sz="size=$2" '
        $1 == first { s = 1 }
        s == 1 && $1 == "reset" { s = 2 }
        s == 1 && $1 == "freepg" && $2 == sz { bad = 1 }
        s == 2 && $1 == "freepg" && $2 == sz { s = 3 }
        END { exit !(s == 3 && !bad) }'
}

# One line of the events, for the log.
events_line() { tr '\n' ';' | sed 's/;$//; s/;/; /g'; }

# Feature bit N of the virtio device behind eth0 as the driver negotiated
# it (sysfs prints one 0/1 character per bit, bit 0 first).
feature_bit() {
    f=$(cat /sys/class/net/eth0/device/features 2>/dev/null) || return 1
    echo "$f" | cut -c$(($1 + 1))
}

# Do the events on stdin contain the lines PATTERN... in this order (other
# events may come between)?
events_in_order() {
    awk -v pats="$(printf '%s\n' "$@")" '
        BEGIN { n = split(pats, p, "\n"); i = 1 }
        i <= n && $0 == p[i] { i++ }
        END { exit !(i > n) }'
}
