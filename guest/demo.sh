#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The demo: boot the test guest (Debian's cloud kernel, its stock
# virtio_net driver) on -device virtio-net-pci,split-hdr=on with user
# networking, check DHCP, ping and an HTTP fetch through slirp, then print
# the device's split-header counters over QMP and shut down.
#
#   guest/demo.sh --qemu BIN --image DIR [run-guest.sh options]
#
# The stock driver negotiates nothing it does not know, so the device runs
# classic receive and every counter stays 0: what this shows is that
# split-hdr=on does not disturb an unaware guest.  A driver that sends
# VIRTIO_NET_CTRL_SPLIT_HDR_SET moves the counters.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
qmp=$(mktemp -u "${TMPDIR:-/tmp}/splithdr-demo.XXXXXX.qmp")

exec "$here/run-guest.sh" --job netcheck \
    --device 'virtio-net-pci,netdev=n0,romfile=,split-hdr=on,id=nic0' \
    --netdev 'user,id=n0' --qmp-socket "$qmp" \
    --on-done "echo 'demo: split-hdr counters (qom-get nic0/virtio-backend split-hdr-stats):'; python3 '$here/qmp.py' -s \"\$QMP_SOCKET\" qom-get /machine/peripheral/nic0/virtio-backend split-hdr-stats" \
    "$@"
