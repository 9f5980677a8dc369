#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest job of the check guest-split-rmmod: rmmod virtio_net after
# traffic.  virtnet_remove must reset the device before it frees the
# header ring (kprobes: remove, reset, then free_pages_exact of the
# ring's size), and the device must show no ring afterwards
# (guest/split-check.py rmmod).  Twice: the second time after a fresh
# insmod, whose probe must allocate and set a ring again; that load splits
# TCPv4 only (split_hdr_proto=1), so its DHCP replies (UDP) reach the
# device's inline-masked counter.
# shellcheck source=split-lib.sh
. /jobs/split-lib.sh

kprobes_on "remove virtio_net:virtnet_remove" "reset virtio_reset_device" \
    "freepg free_pages_exact size=%si:u64" || exit 1

for round in 1 2; do
    if [ $round = 2 ]; then
        load_driver split_hdr_proto=1 || break
    fi
    if [ $round = 1 ]; then
        sh /jobs/netcheck.sh || rc=1
    else
        if http_fetch; then
            ok "round 2: http ok"
        else
            fail "round 2: http"
        fi
    fi
    s=$(tcp_data_split)
    [ "$s" = on ] || fail "round $round: TCP data split '${s:-n/a}', want on"
    [ "$(vstat rx0_split_packets)" -ge 1 ] 2>/dev/null || fail "round $round: no split packet"
    ring=$(ring_bytes)
    ok "round $round: before rmmod $(split_stats)"
    kprobes_clear
    unload_driver || break
    kprobes_read > /tmp/events
    ok "trace rmmod $round: $(events_line < /tmp/events)"
    reset_then_free remove "$ring" < /tmp/events ||
        fail "round $round: rmmod did not reset the device before freeing the $ring-byte ring"
done
ok "rmmod done"
exit "$rc"
