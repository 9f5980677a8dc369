#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest job of the check guest-split-net: the patched virtio_net on a
# split-hdr=on device over slirp.  DHCP (UDP, split; done by init), ping
# (ICMP, inline), ARP (inline, not IP) and an HTTP fetch (TCP, split) must
# work, also after the link went down and up; the driver must have
# negotiated the feature (bit 58) and set a ring on queue 0 (ethtool -g:
# TCP data split on), and it must have seen no slot error and dropped
# nothing.  Then the counters are sampled for the host (start_sampler),
# which compares them with the device's (guest/split-check.py net).
# shellcheck source=split-lib.sh
. /jobs/split-lib.sh

sh /jobs/netcheck.sh || rc=1

# An ARP exchange on purpose: the reply is the inline-not-ip packet.
if arping -c 1 -w 5 -I eth0 "$gw" > /tmp/arping.log 2>&1; then
    ok "arp ok"
else
    cat /tmp/arping.log
    fail "arping $gw"
fi

# Down and up: the queue keeps its buffers, so the driver must keep its
# ring and its count k (no second SET); a mismatch would show as slot
# errors and in the host's comparison.
k0=$(($(vstat rx0_split_packets) + $(vstat rx0_inline_packets)))
{ ip link set eth0 down && ip link set eth0 up; } || fail "ip link down/up"
if http_fetch; then ok "http ok after link down/up"; else fail "http after link down/up"; fi
k1=$(($(vstat rx0_split_packets) + $(vstat rx0_inline_packets)))
[ "$k1" -gt "$k0" ] || fail "link down/up: counters did not go on ($k0 -> $k1)"

b=$(feature_bit 58)
if [ "$b" = 1 ]; then
    ok "feature 58 negotiated"
else
    fail "feature bit 58 is '$b', want 1"
fi
s=$(tcp_data_split)
if [ "$s" = on ]; then
    ok "tcp data split on"
else
    fail "ethtool -g: TCP data split '${s:-n/a}', want on"
fi
[ "$(vstat rx0_split_packets)" -ge 1 ] 2>/dev/null || fail "no split packet counted"
[ "$(vstat rx0_inline_packets)" -ge 1 ] 2>/dev/null || fail "no inline packet counted"
for k in rx0_slot_errors rx0_split_resets rx0_drops; do
    v=$(vstat $k)
    [ "$v" = 0 ] || fail "$k=$v, want 0"
done
ok "counters $(split_stats)"
start_sampler
exit "$rc"
