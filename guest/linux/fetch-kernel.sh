#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fetch the newest complete Debian 6.12 cloud kernel set for the guest
# driver work: image, headers, kbuild and the matching linux-source.
#
#   guest/linux/fetch-kernel.sh OUTDIR
#
# Picks the newest Debian version V (from any configured suite) for which
# apt knows ALL of these at exactly V, with ABI the kernel's ABI name
# (e.g. 6.12.117+deb12):
#   linux-image-ABI-cloud-amd64 (or its -unsigned twin)
#   linux-headers-ABI-cloud-amd64, linux-headers-ABI-common
#   linux-kbuild-ABI (or linux-kbuild-6.12), linux-source-6.12
# Nothing is pinned: the archive drops old point releases, so the choice is
# made from apt's lists every run (KERNEL_DEB_VERSION=V forces one V, for
# reproducing a result while apt still has it).
#
# Outputs, all under OUTDIR:
#   debs/*.deb        the five packages (apt-get download; checked against
#                     apt's SHA256)
#   root/             headers, headers-common and kbuild, extracted with
#                     dpkg-deb -x (never installed: the headers package
#                     pulls in the image, whose hooks build an initramfs)
#   headers           symlink to root/usr/src/linux-headers-ABI-cloud-amd64,
#                     usable as 'make -C OUTDIR/headers M=...'
#   src/              the few files of linux-source needed here: the
#                     virtio_net driver and headers, tcp_mmap.c, checkpatch
#                     and what it reads, include/ (checkpatch's CamelCase
#                     list) and the top-level files that make checkpatch
#                     take src/ for a kernel tree
#   stock/virtio_net.ko   the image's own module (vermagic reference)
#   kernel-release    uname -r of the image, e.g. 6.12.117+deb12-cloud-amd64
#   version           the Debian version V, e.g. 6.12.117-1~deb12u1
#   abi               the ABI name, e.g. 6.12.117+deb12
#   image-pkg, image-deb   the image package's name and its .deb's path
#                     relative to OUTDIR
#
# Idempotent: OUTDIR/.stamp holds V and this script's hash; a match means
# nothing to do.  Debs already in OUTDIR/debs, or in a folder of
# KERNEL_DEB_CACHE (colon-separated; default /var/cache/apt/archives) with
# the right name and SHA256, are not downloaded again.
#
# Needs: apt-get update done (buildsys/install-deps.sh), dpkg-deb, xz, tar.
set -euo pipefail
umask 022

die() { echo "fetch-kernel: error: $*" >&2; exit 1; }
log() { echo "fetch-kernel: $*"; }

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
OUTDIR=$1
HERE=$(cd "$(dirname "$0")" && pwd)
export LC_ALL=C
SERIES=6.12
FLAVOUR=cloud-amd64
KERNEL_DEB_CACHE=${KERNEL_DEB_CACHE:-/var/cache/apt/archives}

for t in apt-cache apt-get dpkg dpkg-deb tar xz sha256sum; do
    command -v "$t" >/dev/null || die "missing tool '$t'"
done

# --- choose V ---------------------------------------------------------------
# "pkg | version | origin Packages" lines of apt-cache madison, for binary
# packages only (deb-src lines end in "Sources").
madison() {
    apt-cache madison "$@" 2>/dev/null |
        awk -F' [|] ' '$3 ~ /Packages$/ { gsub(/ /, "", $1); gsub(/ /, "", $2); print $1, $2 }'
}
has() {         # pkg version: does apt know pkg at exactly version?
    grep -qxF "$1 $2" "$SCRATCH/madison"
}

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/fetch-kernel.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

mapfile -t SRCVERS < <(madison "linux-source-$SERIES" | awk '{ print $2 }' | sort -u)
[ ${#SRCVERS[@]} -gt 0 ] ||
    die "apt knows no linux-source-$SERIES; run 'apt-get update' (buildsys/install-deps.sh) with bookworm-security or bookworm-backports configured"
mapfile -t IMAGES < <(apt-cache pkgnames "linux-image-$SERIES." 2>/dev/null |
    grep -E "^linux-image-$SERIES\.[0-9]+\+[^-]+-$FLAVOUR(-unsigned)?\$" | sort)
[ ${#IMAGES[@]} -gt 0 ] || die "apt knows no linux-image-$SERIES.*-$FLAVOUR package"
ABIS=()
for p in "${IMAGES[@]}"; do
    a=${p#linux-image-}; a=${a%-unsigned}; ABIS+=("${a%-"$FLAVOUR"}")
done
mapfile -t ABIS < <(printf '%s\n' "${ABIS[@]}" | sort -u)
names=("linux-source-$SERIES" "linux-kbuild-$SERIES" "${IMAGES[@]}")
for a in "${ABIS[@]}"; do
    names+=("linux-headers-$a-$FLAVOUR" "linux-headers-$a-common" "linux-kbuild-$a")
done
madison "${names[@]}" | sort -u > "$SCRATCH/madison"

BEST='' BEST_ABI='' BEST_IMG='' BEST_KBUILD='' considered=0
for a in "${ABIS[@]}"; do
    for v in "${SRCVERS[@]}"; do
        [ -n "${KERNEL_DEB_VERSION:-}" ] && [ "$v" != "$KERNEL_DEB_VERSION" ] && continue
        img=''
        if has "linux-image-$a-$FLAVOUR" "$v"; then
            img="linux-image-$a-$FLAVOUR"
        elif has "linux-image-$a-$FLAVOUR-unsigned" "$v"; then
            img="linux-image-$a-$FLAVOUR-unsigned"
        fi
        [ -n "$img" ] || continue
        considered=$((considered + 1))
        kb=''
        if has "linux-kbuild-$a" "$v"; then kb="linux-kbuild-$a"
        elif has "linux-kbuild-$SERIES" "$v"; then kb="linux-kbuild-$SERIES"
        fi
        if [ -z "$kb" ] || ! has "linux-headers-$a-$FLAVOUR" "$v" ||
           ! has "linux-headers-$a-common" "$v"; then
            log "skipping $a at $v: headers or kbuild missing at that version"
            continue
        fi
        if [ -z "$BEST" ] || dpkg --compare-versions "$v" gt "$BEST"; then
            BEST=$v BEST_ABI=$a BEST_IMG=$img BEST_KBUILD=$kb
        fi
    done
done
if [ -z "$BEST" ]; then
    [ -n "${KERNEL_DEB_VERSION:-}" ] &&
        die "no complete $SERIES $FLAVOUR set at KERNEL_DEB_VERSION=$KERNEL_DEB_VERSION (linux-source-$SERIES has: ${SRCVERS[*]})"
    die "no Debian version has image, headers, kbuild and linux-source-$SERIES together ($considered image/source matches; linux-source-$SERIES has: ${SRCVERS[*]})"
fi
V=$BEST ABI=$BEST_ABI
KREL="$ABI-$FLAVOUR"
PKGS=("$BEST_IMG" "linux-headers-$ABI-$FLAVOUR" "linux-headers-$ABI-common"
      "$BEST_KBUILD" "linux-source-$SERIES")
log "newest complete set: $V (ABI $ABI, image $BEST_IMG)"

# --- stamp ----------------------------------------------------------------
HASH=$( { echo "$V ${PKGS[*]}"; sha256sum "$HERE/fetch-kernel.sh" | cut -d' ' -f1; } |
        sha256sum | cut -d' ' -f1)
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
if [ -f "$OUTDIR/.stamp" ] && [ "$(cat "$OUTDIR/.stamp")" = "$HASH" ] &&
   [ -f "$OUTDIR/headers/Makefile" ] && [ -s "$OUTDIR/stock/virtio_net.ko" ] &&
   [ -f "$OUTDIR/src/scripts/checkpatch.pl" ] &&
   [ -s "$OUTDIR/$(cat "$OUTDIR/image-deb" 2>/dev/null)" ]; then
    log "up to date ($OUTDIR, $KREL, $V)"
    exit 0
fi
rm -f "$OUTDIR/.stamp"

# --- download -------------------------------------------------------------
mkdir -p "$OUTDIR/debs"
aptopt=()
# As root apt drops to _apt, which cannot write here; skip the warning.
[ "$(id -u)" = 0 ] && aptopt=(-o APT::Sandbox::User=root)
declare -A DEB=()
ok() { [ -s "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$sum" ]; }
for p in "${PKGS[@]}"; do
    apt-cache show --no-all-versions "$p=$V" > "$SCRATCH/show" 2>/dev/null ||
        die "apt-cache show $p=$V failed"
    arch=$(sed -n 's/^Architecture: //p' "$SCRATCH/show" | head -n1)
    sum=$(sed -n 's/^SHA256: //p' "$SCRATCH/show" | head -n1)
    { [ -n "$arch" ] && [ -n "$sum" ]; } || die "apt has no Architecture/SHA256 for $p=$V"
    f="$OUTDIR/debs/${p}_${V//:/%3a}_$arch.deb"
    DEB[$p]=$f
    if ok "$f"; then
        continue
    fi
    rm -f "$f"
    IFS=: read -r -a cache <<< "$KERNEL_DEB_CACHE"
    for d in "${cache[@]}"; do
        c="$d/${f##*/}"
        if [ -n "$d" ] && ok "$c"; then
            log "using $c"
            cp "$c" "$f.tmp" && mv "$f.tmp" "$f"
            break
        fi
    done
    ok "$f" && continue
    log "downloading $p $V"
    (cd "$OUTDIR/debs" && apt-get -q "${aptopt[@]}" download "$p=$V") ||
        die "apt-get download $p=$V failed"
    ok "$f" || die "downloaded $f is missing or does not match apt's SHA256"
done
# Older versions' debs would only accumulate.
for f in "$OUTDIR"/debs/*.deb; do
    keep=0
    for p in "${PKGS[@]}"; do [ "$f" = "${DEB[$p]}" ] && keep=1; done
    [ $keep = 1 ] || { log "removing old ${f##*/}"; rm -f "$f"; }
done

# --- headers + kbuild: extract, never install -----------------------------
rm -rf "$OUTDIR/root" "$OUTDIR/headers"
for p in "linux-headers-$ABI-$FLAVOUR" "linux-headers-$ABI-common" "$BEST_KBUILD"; do
    dpkg-deb -x "${DEB[$p]}" "$OUTDIR/root"
done
HDR="$OUTDIR/root/usr/src/linux-headers-$KREL"
COMMON="$OUTDIR/root/usr/src/linux-headers-$ABI-common"
[ -f "$HDR/Makefile" ] || die "no usr/src/linux-headers-$KREL/Makefile in ${DEB[linux-headers-$ABI-$FLAVOUR]}"
[ -f "$COMMON/Makefile" ] || die "no usr/src/linux-headers-$ABI-common/Makefile in ${DEB[linux-headers-$ABI-common]}"
# The flavour's Makefile is one line: include /usr/src/linux-headers-ABI-common/Makefile
grep -q "^include /usr/src/linux-headers-$ABI-common/Makefile\$" "$HDR/Makefile" ||
    die "unexpected $HDR/Makefile (no 'include /usr/src/linux-headers-$ABI-common/Makefile'): Debian changed its layout"
sed -i "s|^include /usr/src/linux-headers-$ABI-common/Makefile\$|include $COMMON/Makefile|" "$HDR/Makefile"
[ -e "$HDR/scripts/Makefile.build" ] || die "$HDR/scripts does not lead to the kbuild scripts ($BEST_KBUILD)"
ln -s "root/usr/src/linux-headers-$KREL" "$OUTDIR/headers"

# --- the image's own virtio_net.ko (vermagic / CRC reference) --------------
rm -rf "$OUTDIR/stock" "$SCRATCH/img"
mkdir -p "$OUTDIR/stock" "$SCRATCH/img"
dpkg-deb --fsys-tarfile "${DEB[$BEST_IMG]}" |
    tar -x -C "$SCRATCH/img" --wildcards '*/kernel/drivers/net/virtio_net.ko*'
m=$(find "$SCRATCH/img" -name 'virtio_net.ko*' | head -n1)
[ -n "$m" ] || die "no virtio_net.ko in ${DEB[$BEST_IMG]}"
case $m in
*.xz) xz -dc "$m" ;;
*.zst) zstd -qdc "$m" ;;
*.gz) gzip -dc "$m" ;;
*) cat "$m" ;;
esac > "$OUTDIR/stock/virtio_net.ko"

# --- linux-source: only what is needed ------------------------------------
# The .deb holds usr/src/linux-source-6.12.tar.xz (~150 MB, 1.5 GB
# unpacked); take the tarball out of the deb's data stream, then the
# members below out of the tarball (one pass of xz, ~10 s).
TOP="linux-source-$SERIES"
MEMBERS=(
    drivers/net/virtio_net.c
    include                         # virtio_net headers; checkpatch's CamelCase seed
    tools/testing/selftests/net/tcp_mmap.c
    scripts/checkpatch.pl scripts/spelling.txt scripts/const_structs.checkpatch
    scripts/get_maintainer.pl
    Documentation/dev-tools/checkpatch.rst
    COPYING CREDITS Kbuild MAINTAINERS Makefile README
)
rm -rf "$OUTDIR/src" "$SCRATCH/src"
mkdir -p "$SCRATCH/src"
dpkg-deb --fsys-tarfile "${DEB[linux-source-$SERIES]}" |
    tar -x -O --wildcards "*/usr/src/$TOP.tar.xz" |
    xz -dc |
    tar -x -C "$SCRATCH/src" "${MEMBERS[@]/#/$TOP/}" ||
    die "could not extract ${MEMBERS[*]} from ${DEB[linux-source-$SERIES]}"
# checkpatch.pl recognizes a kernel tree by these folders (it never looks
# into the empty ones).
mkdir -p "$SCRATCH/src/$TOP"/{arch,fs,init,ipc,kernel,lib}
mv "$SCRATCH/src/$TOP" "$OUTDIR/src"
for f in drivers/net/virtio_net.c include/uapi/linux/virtio_net.h \
         include/linux/virtio_net.h tools/testing/selftests/net/tcp_mmap.c \
         scripts/checkpatch.pl; do
    [ -f "$OUTDIR/src/$f" ] || die "linux-source-$SERIES $V has no $f"
done

echo "$KREL" > "$OUTDIR/kernel-release"
echo "$V" > "$OUTDIR/version"
echo "$ABI" > "$OUTDIR/abi"
echo "$BEST_IMG" > "$OUTDIR/image-pkg"
echo "debs/${DEB[$BEST_IMG]##*/}" > "$OUTDIR/image-deb"
echo "$HASH" > "$OUTDIR/.stamp"
log "ready: $OUTDIR ($KREL, Debian $V; headers in $OUTDIR/headers)"
