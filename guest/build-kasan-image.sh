#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The test guest with the KASAN kernel: guest/build-image.sh's initramfs,
# as it is, with guest/linux/build-kasan-kernel.sh's bzImage.
#
#   guest/build-kasan-image.sh GUEST_IMAGE KASAN_DIR OUTDIR
#
# GUEST_IMAGE is build-image.sh's OUTDIR ('make guest': build/guest),
# KASAN_DIR build-kasan-kernel.sh's OUTDIR (build/linux-kasan).  Writes
# OUTDIR/vmlinuz (the KASAN bzImage) and OUTDIR/initramfs.gz: the guest's
# initramfs followed by a second, tiny archive that replaces
# /lib/modules/load.order with an empty file (the kernel unpacks
# concatenated archives in order, a later entry wins).  The KASAN kernel
# has no module support and virtio_pci, virtio_net (patched), net_failover
# and failover built in, so init.sh must load nothing: it would insmod the
# cloud kernel's modules and print "GUEST: FAIL insmod".  Consequences for
# the kernel command line of such a guest:
#   - guest.driver= and guest.vnet_args= do nothing (no insmod); the
#     driver is always the patched one;
#   - module parameters go on the command line as virtio_net.NAME=VAL,
#     e.g. virtio_net.split_hdr_proto=0 or virtio_net.split_hdr=0.
# OUTDIR/kernel-release names the KASAN kernel.
#
# Idempotent: OUTDIR/.stamp hashes the inputs.
set -euo pipefail
umask 022

die() { echo "build-kasan-image: error: $*" >&2; exit 1; }
log() { echo "build-kasan-image: $*"; }

[ $# -eq 3 ] || die "usage: $0 GUEST_IMAGE KASAN_DIR OUTDIR"
GI=$(cd "$1" 2>/dev/null && pwd) || die "no guest image '$1' (make guest)"
KD=$(cd "$2" 2>/dev/null && pwd) || die "no folder '$2' (guest/linux/build-kasan-kernel.sh)"
OUTDIR=$3
HERE=$(cd "$(dirname "$0")" && pwd)
export LC_ALL=C
[ -s "$GI/initramfs.gz" ] || die "no $GI/initramfs.gz (make guest)"
[ -s "$KD/bzImage" ] || die "no $KD/bzImage (guest/linux/build-kasan-kernel.sh)"
[ -s "$KD/config" ] || die "no $KD/config"
grep -qx 'CONFIG_KASAN=y' "$KD/config" || die "$KD/bzImage is not a KASAN kernel"
grep -qx 'CONFIG_VIRTIO_NET=y' "$KD/config" || die "$KD/bzImage has no built-in virtio_net"
for t in cpio gzip sha256sum; do
    command -v "$t" >/dev/null || die "missing tool '$t'"
done

HASH=$(sha256sum "$GI/initramfs.gz" "$KD/bzImage" "$HERE/build-kasan-image.sh" |
       cut -d' ' -f1 | sha256sum | cut -d' ' -f1)
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
if [ -f "$OUTDIR/.stamp" ] && [ "$(cat "$OUTDIR/.stamp")" = "$HASH" ] &&
   [ -s "$OUTDIR/vmlinuz" ] && [ -s "$OUTDIR/initramfs.gz" ]; then
    log "up to date ($OUTDIR)"
    exit 0
fi
rm -f "$OUTDIR/.stamp"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/kasan-image.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

mkdir -p "$SCRATCH/r/lib/modules"
: > "$SCRATCH/r/lib/modules/load.order"
find "$SCRATCH/r" -exec touch -h -d @0 {} +
(cd "$SCRATCH/r" && find lib lib/modules lib/modules/load.order |
    cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -n -9 > "$SCRATCH/overlay.gz"
cat "$GI/initramfs.gz" "$SCRATCH/overlay.gz" > "$OUTDIR/initramfs.gz.tmp"
mv "$OUTDIR/initramfs.gz.tmp" "$OUTDIR/initramfs.gz"
cp "$KD/bzImage" "$OUTDIR/vmlinuz.tmp"
mv "$OUTDIR/vmlinuz.tmp" "$OUTDIR/vmlinuz"
# The setup header's kernel_version (at 0x20e) points to "RELEASE (user@host) #..." .
rel=$(python3 - "$KD/bzImage" <<'EOF2'
import struct, sys
b = open(sys.argv[1], "rb").read()
off = struct.unpack_from("<H", b, 0x20E)[0] + 0x200
print(b[off:off + 128].split(b" ")[0].decode(errors="replace"))
EOF2
) || true
echo "${rel:-kasan}" > "$OUTDIR/kernel-release"
echo "$HASH" > "$OUTDIR/.stamp"
log "wrote $OUTDIR/vmlinuz (KASAN, virtio_net built in), $OUTDIR/initramfs.gz (no modules loaded)"
