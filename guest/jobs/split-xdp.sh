#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest job of the check guest-split-xdp: XDP and AF_XDP against the
# patched virtio_net (xdp-probe, guest/tools/xdp-probe.c), in three loads
# of the module on one split-hdr=on device:
#
#   default          a ring on queue 0: a native XDP program is refused
#                    (EOPNOTSUPP, with the driver's extack message) and
#                    traffic still flows
#   split_hdr_proto=0  feature negotiated, no ring: XDP is taken
#   split_hdr=0      feature not negotiated: XDP is taken
#
# and each time an AF_XDP zerocopy bind on queue 0.  Linux 6.12's
# virtio_net does not advertise NETDEV_XDP_ACT_XSK_ZEROCOPY, so the AF_XDP
# core (xp_assign_dev) answers EOPNOTSUPP before it asks the driver: the
# driver's own refusal (virtnet_xsk_pool_enable) is not reached on this
# kernel, with or without a ring.  The job asserts exactly that, counting
# the driver's ndo_bpf calls with a kprobe (XDP_SETUP_PROG = 0,
# XDP_SETUP_XSK_POOL = 2), so a kernel that starts reaching the driver
# shows up here.
# shellcheck source=split-lib.sh
. /jobs/split-lib.sh

EOPNOTSUPP="error 95 (Operation not supported)"
kprobes_on "ndo_bpf virtio_net:virtnet_xdp cmd=+0(%si):u32" || exit 1

# xdp_probe NAME WANT_RC WANT_OUTPUT CMD...: run xdp-probe, check it
xdp_probe() {
    name=$1 want_rc=$2 want=$3
    shift 3
    out=$(xdp-probe "$@" 2>&1)
    r=$?
    echo "$out"
    if [ "$r" = "$want_rc" ] && [ "$out" = "$want" ]; then
        ok "$name: $out"
    else
        fail "$name: rc=$r '$out', want rc=$want_rc '$want'"
    fi
}

# How many ndo_bpf calls with command $1 since kprobes_clear
ndo_bpf_calls() { kprobes_read | grep -c "^ndo_bpf cmd=$1\$"; }

# The AF_XDP zerocopy bind: refused by the core, the driver never asked
xsk_check() {
    kprobes_clear
    xdp_probe "$1: AF_XDP zerocopy bind refused" 1 \
        "xdp-probe: xsk eth0: $EOPNOTSUPP: bind with XDP_ZEROCOPY refused" xsk eth0 0
    n=$(ndo_bpf_calls 2)
    if [ "$n" = 0 ]; then
        ok "$1: AF_XDP refused by the AF_XDP core, not the driver (no XDP_SETUP_XSK_POOL)"
    else
        fail "$1: the driver got $n XDP_SETUP_XSK_POOL call(s): a kernel whose virtio_net advertises XSK zerocopy; update this check"
    fi
}

# --- 1. default load (by init): a ring on queue 0 -------------------------
s=$(tcp_data_split)
[ "$s" = on ] || fail "ring: ethtool -g: TCP data split '${s:-n/a}', want on"
kprobes_clear
xdp_probe "ring: XDP refused" 1 \
    "xdp-probe: xdp eth0: $EOPNOTSUPP: virtio_net: XDP needs split_hdr=0: no XDP with split header receive" \
    xdp eth0
n=$(ndo_bpf_calls 0)
[ "$n" = 1 ] || fail "ring: $n XDP_SETUP_PROG call(s) to the driver, want 1 (the refusal is the driver's)"
xsk_check ring
if http_fetch; then
    ok "ring: http ok after the refusals"
else
    fail "ring: http after the refusals"
fi
[ "$(tcp_data_split)" = on ] || fail "ring: TCP data split no longer on after the refusals"
ok "ring: counters $(split_stats)"

# --- 2. split_hdr_proto=0: feature negotiated, no ring -------------------
unload_driver && load_driver split_hdr_proto=0
b=$(feature_bit 58)
[ "$b" = 1 ] || fail "split_hdr_proto=0: feature bit 58 is '$b', want 1"
s=$(tcp_data_split)
[ "$s" = off ] || fail "split_hdr_proto=0: ethtool -g: TCP data split '${s:-n/a}', want off"
kprobes_clear
xdp_probe "no ring: XDP taken" 0 "xdp-probe: xdp eth0: ok" xdp eth0
n=$(ndo_bpf_calls 0)
[ "$n" = 2 ] || fail "no ring: $n XDP_SETUP_PROG call(s), want 2 (attach, detach)"
xsk_check "no ring"
if http_fetch; then ok "no ring: http ok"; else fail "no ring: http"; fi

# --- 3. split_hdr=0: feature not negotiated -------------------------------
unload_driver && load_driver split_hdr=0
b=$(feature_bit 58)
[ "$b" = 0 ] || fail "split_hdr=0: feature bit 58 is '$b', want 0"
s=$(tcp_data_split)
[ "$s" != on ] || fail "split_hdr=0: ethtool -g: TCP data split on"
kprobes_clear
xdp_probe "split_hdr=0: XDP taken" 0 "xdp-probe: xdp eth0: ok" xdp eth0
xsk_check "split_hdr=0"
if http_fetch; then
    ok "split_hdr=0: http ok"
else
    fail "split_hdr=0: http"
fi
exit "$rc"
