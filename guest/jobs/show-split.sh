#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest job of the demo: the network checks of netcheck.sh (DHCP, ping,
# HTTP through slirp), then the driver's own view of eth0: which driver
# and which module options, ethtool -g (TCP data split) and ethtool -S
# (split, inline, slot_errors per receive queue).  Exit status is
# netcheck's.
sh /jobs/netcheck.sh
rc=$?
echo "GUEST: driver $(basename "$(readlink /sys/class/net/eth0/device/driver)") split_hdr=$(cat /sys/module/virtio_net/parameters/split_hdr 2>/dev/null || echo n/a) split_hdr_proto=$(cat /sys/module/virtio_net/parameters/split_hdr_proto 2>/dev/null || echo n/a)"
echo "GUEST: ethtool -g eth0 begin"
ethtool -g eth0 2>&1
echo "GUEST: ethtool -g eth0 end"
echo "GUEST: ethtool -S eth0 (queue counters) begin"
ethtool -S eth0 2>&1 | grep -E '^ *rx[0-9]+_(split|inline|slot|drops)'
echo "GUEST: ethtool -S eth0 end"
exit $rc
