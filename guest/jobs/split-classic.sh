#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest job of the check guest-split-classic: the patched virtio_net on a
# device without the feature (split-hdr=off).  The network must work as
# with the stock driver, nothing may be negotiated (bit 58), ethtool -g
# must not claim TCP data split, and no packet may take the split path.
# shellcheck source=split-lib.sh
. /jobs/split-lib.sh

sh /jobs/netcheck.sh || rc=1

b=$(feature_bit 58)
if [ "$b" = 0 ]; then
    ok "feature 58 not negotiated"
else
    fail "feature bit 58 is '$b', want 0"
fi
s=$(tcp_data_split)
if [ "$s" != on ]; then
    ok "tcp data split ${s:-n/a}"
else
    fail "ethtool -g: TCP data split on without the feature"
fi
for k in rx0_split_packets rx0_inline_packets rx0_slot_errors rx0_split_resets rx0_drops; do
    v=$(vstat $k)
    [ "$v" = 0 ] || fail "$k=$v, want 0"
done
ok "counters $(split_stats)"
exit "$rc"
