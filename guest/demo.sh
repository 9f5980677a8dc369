#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The demo, in three parts, none needing root:
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
# 3. The guest of part 1 on -netdev vhost-user, served by our backend
#    (contrib/vhost-user-net-split) with its libslirp network side: the
#    same DHCP, ping and HTTP, then the backend's counters (--stats-file,
#    written when SIGTERM ends it) and their split and inline sums, which
#    match the guest's ethtool -S.  The patched driver splits only with
#    VIRTIO_F_RING_RESET, which the backend offers and QEMU's patch 0024
#    makes work over vhost-user.
#
#   guest/demo.sh --qemu BIN --image DIR [--size N[K|M|G]]
#       [--backend BIN] [--only vhost-user]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
qemu='' image='' size=64M backend='' only=''
while [ $# -gt 0 ]; do
    case $1 in
    --qemu) qemu=$2; shift 2 ;;
    --image) image=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --backend) backend=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "demo: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[ -n "$qemu" ] && [ -n "$image" ] ||
    { echo "usage: $0 --qemu BIN --image DIR [--size N] [--backend BIN]" >&2; exit 2; }
case $only in ''|vhost-user) ;; *) echo "demo: --only vhost-user" >&2; exit 2 ;; esac
[ -n "$backend" ] || [ "$only" != vhost-user ] ||
    { echo "demo: --only vhost-user needs --backend" >&2; exit 2; }
qmp=$(mktemp -u "${TMPDIR:-/tmp}/splithdr-demo.XXXXXX.qmp")

# Part 3: the backend on slirp, the guest on -netdev vhost-user.
vhost_user_part() {
    dir=$(mktemp -d "${TMPDIR:-/tmp}/splithdr-demo-vu.XXXXXX")
    sock=$dir/vu.sock stats=$dir/stats.json
    "$backend" --socket-path "$sock" --net slirp --stats-file "$stats" &
    bpid=$!
    # shellcheck disable=SC2064 # now: these names are this part's
    trap "kill $bpid 2>/dev/null; rm -rf '$dir'" EXIT
    for _ in $(seq 50); do
        [ -S "$sock" ] && break
        kill -0 "$bpid" 2>/dev/null || break
        sleep 0.1
    done
    [ -S "$sock" ] || { echo "demo: the backend did not start" >&2; return 1; }
    rc=0
    # no_timer_check: a busy host's TCG can fail the kernel's timer check.
    "$here/run-guest.sh" --qemu "$qemu" --image "$image" --job show-split \
        --append 'guest.driver=split no_timer_check' \
        --device 'virtio-net-pci,netdev=n0,romfile=,split-hdr=on,id=nic0' \
        --netdev 'vhost-user,id=n0,chardev=vu0' \
        --extra-args "-object memory-backend-memfd,id=mem,size=512M,share=on -numa node,memdev=mem -chardev socket,id=vu0,path=$sock" ||
        rc=$?
    kill -TERM "$bpid"
    wait "$bpid" || rc=1
    echo "demo: the backend's counters (--stats-file $stats, at exit):"
    cat "$stats" || rc=1
    python3 -c 'import json, sys
for q in json.load(open(sys.argv[1])):
    inline = sum(v for n, v in q.items() if n.startswith("inline-"))
    print("demo: backend rx%d: split %d, inline %d (k %d)"
          % (q["queue"], q["split"], inline, q["k"]))' "$stats" || rc=1
    rm -rf "$dir"
    trap - EXIT
    return $rc
}

if [ "$only" = vhost-user ]; then
    echo "demo: part 3: the guest on our vhost-user backend, slirp side"
    vhost_user_part
    exit
fi

echo "demo: part 1: the patched virtio_net on split-hdr=on, user networking"
"$here/run-guest.sh" --qemu "$qemu" --image "$image" --job show-split \
    --append guest.driver=split \
    --device 'virtio-net-pci,netdev=n0,romfile=,split-hdr=on,id=nic0' \
    --netdev 'user,id=n0' --qmp-socket "$qmp" \
    --on-done "echo 'demo: the device'\"'\"'s split-hdr counters (qom-get nic0/virtio-backend split-hdr-stats):'; python3 '$here/qmp.py' -s \"\$QMP_SOCKET\" qom-get /machine/peripheral/nic0/virtio-backend split-hdr-stats"

echo
echo "demo: part 2: tcp_mmap -z between two guests on a stream socket ($size)"
"$here/e2e-tcp-mmap.sh" --qemu "$qemu" --image "$image" \
    --driver split --zerocopy --no-integrity --size "$size"

if [ -n "$backend" ]; then
    echo
    echo "demo: part 3: the guest on our vhost-user backend, slirp side"
    vhost_user_part
fi
