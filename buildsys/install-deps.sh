#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Install what building and testing the fork needs on Debian 12.
# Does nothing when everything is present.  Needs root (or sudo) only when
# something is missing.
#
# dwarves (pahole), libssl-dev and ethtool are for the guest side
# (guest/linux/): BTF of the out-of-tree virtio_net module, a static
# tcp_mmap with SHA256, and an ethtool binary copied into the guest.
# libelf-dev (objtool) and bc build the KASAN guest kernel
# (guest/linux/build-kasan-kernel.sh, make guest-kasan).
#
# QEMU 10.0.2 wants meson >= 1.5, which bookworm has only in
# bookworm-backports; its source package also lives there.  We add that
# suite (binary and source lines) with the same mirror the machine already
# uses for bookworm, pinned so that nothing else is upgraded from it.
set -eu

PKGS="build-essential gcc-multilib git pkg-config ninja-build python3 python3-venv
python3-pycotap flex bison dpkg-dev ca-certificates xz-utils bzip2 cpio
libglib2.0-dev libpixman-1-dev libslirp-dev liburing-dev zlib1g-dev
libfdt-dev seabios ipxe-qemu busybox-static valgrind ccache
clang-14 libclang-rt-14-dev dwarves libssl-dev ethtool libelf-dev bc
python3-matplotlib iproute2"
BPO_PKGS="meson"
# --bench: also what bench/vhost-user-*.sh run (make bench-deps), never
# needed by make check: DPDK 22.11's testpmd (in dpdk-dev) with the vhost
# and virtio-user PMDs and the ring mempool, which it loads as plugins.
if [ "${1:-}" = --bench ]; then
    PKGS="$PKGS dpdk-dev librte-net-vhost23 librte-net-virtio23
librte-mempool-ring23"
fi

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
        missing="$missing $p"
done
meson_ok=no
if command -v meson >/dev/null 2>&1; then
    v=$(meson --version 2>/dev/null || echo 0)
    if [ "$(printf '%s\n1.5.0\n' "$v" | sort -V | head -n1)" = "1.5.0" ]; then
        meson_ok=yes
    fi
fi
need_update=no
[ "${NEED_DEB_SRC:-0}" = 1 ] && need_update=yes
# The guest image builder downloads Debian's cloud kernel by name, and
# guest/linux/fetch-kernel.sh the 6.12 one with its source (bookworm-security
# or bookworm-backports).
apt-cache show linux-image-cloud-amd64 >/dev/null 2>&1 || need_update=yes
apt-cache show linux-source-6.12 >/dev/null 2>&1 || need_update=yes

if [ -z "$missing" ] && [ $meson_ok = yes ] && [ $need_update = no ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi

list=/etc/apt/sources.list.d/qemu-splithdr-bpo.sources
if [ ! -f "$list" ]; then
    # Reuse the mirror already configured for bookworm.
    uri=$(grep -h -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources \
              /etc/apt/sources.list 2>/dev/null |
          grep -v -e security -e '\[' |
          sed -E 's/^URIs: *//; s/^deb +//; s/ .*//' |
          grep -E '/debian/?$' | head -n1)
    if [ -z "$uri" ]; then
        echo "install-deps: no Debian mirror found in the apt sources;" \
             "add bookworm-backports (deb and deb-src) by hand" >&2
        exit 1
    fi
    echo "install-deps: adding bookworm and bookworm-backports (deb, deb-src) from $uri"
    $SUDO tee "$list" >/dev/null <<EOS
Types: deb deb-src
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: $uri
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
    $SUDO rm -f /var/lib/apt/periodic/update-success-stamp
fi

echo "install-deps: apt-get update"
$SUDO apt-get update -q
if [ -n "$missing" ] || [ $meson_ok = no ]; then
    echo "install-deps: installing$missing meson (bookworm-backports)"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -q -y \
        --no-install-recommends $missing
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -q -y \
        --no-install-recommends -t bookworm-backports $BPO_PKGS
fi
