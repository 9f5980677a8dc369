#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The demo, in two parts, neither needing root:
#
# 1. One guest (Debian's 6.12 cloud kernel with the patched virtio_net of
#    guest/linux/patches/) on -device virtio-net-pci,split-hdr=on with
#    user networking: DHCP, ping and an HTTP fetch through slirp, then the
#    guest's ethtool -g ("TCP data split: on") and ethtool -S (split and
#    inline packets, slot errors per queue), and the device's counters by
#    reason over QMP.
# 2. Two guests linked by a stream netdev on a unix socket (slirp has no
#    guest-to-guest path): tcp_mmap -z in the receiver, on the patched
#    driver and split-hdr=on, against tcp_mmap in a sender with the stock
#    driver; prints the share of the payload mapped instead of copied.
#
#   guest/demo.sh --qemu BIN --image DIR [--size N[K|M|G]]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
qemu='' image='' size=64M
while [ $# -gt 0 ]; do
    case $1 in
    --qemu) qemu=$2; shift 2 ;;
    --image) image=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    *) echo "demo: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[ -n "$qemu" ] && [ -n "$image" ] ||
    { echo "usage: $0 --qemu BIN --image DIR [--size N]" >&2; exit 2; }
qmp=$(mktemp -u "${TMPDIR:-/tmp}/splithdr-demo.XXXXXX.qmp")

echo "demo: part 1: the patched virtio_net on split-hdr=on, user networking"
"$here/run-guest.sh" --qemu "$qemu" --image "$image" --job show-split \
    --append guest.driver=split \
    --device 'virtio-net-pci,netdev=n0,romfile=,split-hdr=on,id=nic0' \
    --netdev 'user,id=n0' --qmp-socket "$qmp" \
    --on-done "echo 'demo: the device'\"'\"'s split-hdr counters (qom-get nic0/virtio-backend split-hdr-stats):'; python3 '$here/qmp.py' -s \"\$QMP_SOCKET\" qom-get /machine/peripheral/nic0/virtio-backend split-hdr-stats"

echo
echo "demo: part 2: tcp_mmap -z between two guests on a stream socket ($size)"
exec "$here/e2e-tcp-mmap.sh" --qemu "$qemu" --image "$image" \
    --driver split --zerocopy --no-integrity --size "$size"
