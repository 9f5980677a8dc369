#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build a tiny test guest: Debian's cloud kernel plus a busybox initramfs.
#
#   guest/build-image.sh OUTDIR
#
# Outputs OUTDIR/vmlinuz and OUTDIR/initramfs.gz.  The build is reproducible
# (sorted cpio, fixed mtimes/owners, gzip -n) and idempotent: OUTDIR/.stamp
# holds a hash of every input, and a matching stamp means nothing to do.
#
# Knobs (environment):
#   GUEST_MODULES      module names to load at boot; dependencies are added
#                      and ordered automatically from the modules' depends=.
#   GUEST_EXTRA_FILES  whitespace-separated "src:dst" pairs copied into the
#                      initramfs after everything else (dst is an absolute
#                      path in the guest; a trailing "/" means "into this
#                      directory").  A file at /lib/modules/NAME.ko replaces
#                      the stock module NAME, e.g. a patched virtio_net;
#                      modules in /lib/modules/extra/ are loaded after the
#                      GUEST_MODULES ones.
#   GUEST_KERNEL_PKG   exact linux-image-* package to use instead of the one
#                      linux-image-cloud-amd64 currently points at (pinning).
#   GUEST_KERNEL_DEB   a linux-image-*.deb file to use as it is (no apt);
#                      'make guest' passes the 6.12 one that
#                      guest/linux/fetch-kernel.sh chose.
#   GUEST_HOST_BINARIES  whitespace-separated programs of this host (by
#                      name or path) copied to /bin with the shared
#                      libraries and loader ldd lists for them (Debian's
#                      ethtool is dynamic; busybox has none).
#   SOURCE_DATE_EPOCH  mtime stamped on every initramfs entry (default 0).
#
# Needs: apt-get update done once (apt-cache must know the kernel), the
# busybox-static package, dpkg-deb, cpio, gzip, xz; ldd for
# GUEST_HOST_BINARIES.
set -euo pipefail
umask 022

# virtio_pci is the transport that finds the NIC on PCI; virtio_net the
# driver.  virtio, virtio_ring, net_failover, failover come in as deps.
GUEST_MODULES=${GUEST_MODULES:-"virtio_pci virtio_net"}
GUEST_EXTRA_FILES=${GUEST_EXTRA_FILES:-}
GUEST_KERNEL_DEB=${GUEST_KERNEL_DEB:-}
GUEST_HOST_BINARIES=${GUEST_HOST_BINARIES:-}
KERNEL_META=linux-image-cloud-amd64
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}

die() { echo "build-image: error: $*" >&2; exit 1; }
log() { echo "build-image: $*"; }

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
OUTDIR=$1
HERE=$(cd "$(dirname "$0")" && pwd)
export LC_ALL=C

for t in apt-cache apt-get dpkg-deb cpio gzip xz sha256sum; do
    command -v "$t" >/dev/null || die "missing tool '$t'"
done

# --- busybox: must be the static one, it runs alone in the guest ---------
BUSYBOX=${BUSYBOX:-}
if [ -z "$BUSYBOX" ]; then
    dpkg-query -W -f='${Status}\n' busybox-static 2>/dev/null |
        grep -q '^install ok installed' ||
        die "package busybox-static is not installed (the project's install step installs it: buildsys/install-deps.sh)"
    BUSYBOX=$(dpkg -L busybox-static | grep -m1 '/bin/busybox$')
fi
[ -x "$BUSYBOX" ] || die "busybox '$BUSYBOX' not executable"

# --- resolve the kernel package (cheap; done every time for the stamp) --
KPKG=${GUEST_KERNEL_PKG:-}
KVER_DEB=
if [ -n "$GUEST_KERNEL_DEB" ]; then
    [ -s "$GUEST_KERNEL_DEB" ] || die "GUEST_KERNEL_DEB: no file '$GUEST_KERNEL_DEB'"
    GUEST_KERNEL_DEB=$(cd "$(dirname "$GUEST_KERNEL_DEB")" && pwd)/${GUEST_KERNEL_DEB##*/}
    KPKG=$(dpkg-deb -f "$GUEST_KERNEL_DEB" Package)
    KVER_DEB=$(dpkg-deb -f "$GUEST_KERNEL_DEB" Version)
    case $KPKG in linux-image-*) ;; *) die "GUEST_KERNEL_DEB: '$GUEST_KERNEL_DEB' is $KPKG, not a linux-image package" ;; esac
elif [ -z "$KPKG" ]; then
    # The metapackage depends on exactly one versioned image package.
    KPKG=$(apt-cache depends "$KERNEL_META" 2>/dev/null |
           sed -n 's/^ *Depends: *<\{0,1\}\(linux-image-[0-9][^ >]*-cloud-amd64\)>\{0,1\}$/\1/p' |
           head -n1) || true
    [ -n "$KPKG" ] ||
        die "apt-cache knows no $KERNEL_META; run 'apt-get update' first (buildsys/install-deps.sh does it)"
fi
if [ -z "$KVER_DEB" ]; then
    KVER_DEB=$(apt-cache show --no-all-versions "$KPKG" 2>/dev/null |
               sed -n 's/^Version: //p' | head -n1) || true
    [ -n "$KVER_DEB" ] ||
        die "apt-cache knows no package $KPKG; run 'apt-get update' first"
fi
KREL=${KPKG#linux-image-}          # e.g. 6.1.0-56-cloud-amd64 (uname -r)
KREL=${KREL%-unsigned}

# --- host programs and the libraries they load -----------------------------
# "guestpath hostfile" lines: the program into /bin, each library at the
# path ldd names (the loader at its absolute path, e.g. /lib64/...).
host_files() {
    local b path lib
    for b in $GUEST_HOST_BINARIES; do
        path=$(command -v "$b") || die "GUEST_HOST_BINARIES: no program '$b' on this host"
        path=$(readlink -f "$path")
        echo "/bin/${b##*/} $path"
        command -v ldd >/dev/null || die "GUEST_HOST_BINARIES needs ldd (libc-bin)"
        ldd "$path" >/dev/null 2>&1 || continue       # static: nothing more
        ldd "$path" | awk '
            $2 == "=>" && $3 ~ /^\// { print $3 }
            $1 ~ /^\// { print $1 }' |
        while read -r lib; do
            [ -e "$lib" ] || die "GUEST_HOST_BINARIES: $b needs $lib, which is missing"
            echo "$lib $(readlink -f "$lib")"
        done
    done | sort -u
}
HOST_FILES=$(host_files)

# --- stamp: a hash of everything the outputs depend on -------------------
input_hash() {
    {
        echo "kernel $KPKG $KVER_DEB"
        echo "modules $GUEST_MODULES"
        echo "extra $GUEST_EXTRA_FILES"
        echo "epoch $SOURCE_DATE_EPOCH"
        sha256sum "$BUSYBOX" | cut -d' ' -f1
        (cd "$HERE" && sha256sum build-image.sh init.sh udhcpc.script jobs/*.sh)
        for pair in $GUEST_EXTRA_FILES; do
            src=${pair%%:*}
            [ -f "$src" ] || die "GUEST_EXTRA_FILES: '$src' is not a file"
            sha256sum "$src"
        done
        [ -z "$GUEST_KERNEL_DEB" ] || sha256sum "$GUEST_KERNEL_DEB"
        echo "host $GUEST_HOST_BINARIES"
        printf '%s\n' "$HOST_FILES" | while read -r dst src; do
            [ -z "$src" ] || echo "$dst $(sha256sum "$src" | cut -d' ' -f1)"
        done
    } | sha256sum | cut -d' ' -f1
}
HASH=$(input_hash)
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
if [ -f "$OUTDIR/.stamp" ] && [ "$(cat "$OUTDIR/.stamp")" = "$HASH" ] &&
   [ -s "$OUTDIR/vmlinuz" ] && [ -s "$OUTDIR/initramfs.gz" ]; then
    log "up to date ($OUTDIR, kernel $KREL)"
    exit 0
fi

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/guest-build.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

# --- kernel package: download once into OUTDIR/debs -----------------------
mkdir -p "$OUTDIR/debs"
DEB="$OUTDIR/debs/${KPKG}_${KVER_DEB//:/%3a}_amd64.deb"
[ -n "$GUEST_KERNEL_DEB" ] && DEB=$GUEST_KERNEL_DEB
if [ ! -s "$DEB" ]; then
    log "downloading $KPKG $KVER_DEB"
    aptopt=()
    # As root apt drops to _apt, which cannot write here; skip the warning.
    [ "$(id -u)" = 0 ] && aptopt=(-o APT::Sandbox::User=root)
    (cd "$OUTDIR/debs" && apt-get -q "${aptopt[@]}" download "$KPKG=$KVER_DEB") ||
        die "apt-get download $KPKG failed"
    [ -s "$DEB" ] || die "download did not produce $DEB"
fi
dpkg-deb -x "$DEB" "$SCRATCH/k"
MODDIR="$SCRATCH/k/lib/modules/$KREL"
[ -d "$MODDIR" ] || MODDIR="$SCRATCH/k/usr/lib/modules/$KREL"
[ -f "$SCRATCH/k/boot/vmlinuz-$KREL" ] || die "no boot/vmlinuz-$KREL in $DEB"
[ -d "$MODDIR" ] || die "no modules dir for $KREL in $DEB"

# --- modules: resolve deps from each module's own depends= --------------
# The .deb ships no modules.dep (depmod makes it at install time), so read
# the .modinfo strings directly; that works without kmod on the host.
declare -A MODPATH=()
while IFS= read -r f; do
    b=${f##*/}; b=${b%%.ko*}; b=${b//-/_}
    MODPATH[$b]=$f
done < <(find "$MODDIR/kernel" -name '*.ko' -o -name '*.ko.xz' \
              -o -name '*.ko.zst' -o -name '*.ko.gz' | sort)
declare -A BUILTIN=()
while IFS= read -r f; do
    b=${f##*/}; b=${b%.ko}; BUILTIN[${b//-/_}]=1
done < "$MODDIR/modules.builtin"

mkdir -p "$SCRATCH/mods"
# Uncompressed copy: busybox insmod cannot read .ko.xz/.ko.zst.
unpack_mod() {
    local name=$1 src=${MODPATH[$1]} dst="$SCRATCH/mods/$1.ko"
    [ -f "$dst" ] && return 0
    case $src in
    *.ko.xz)  xz -dc "$src" > "$dst" ;;
    *.ko.zst) zstd -qdc "$src" > "$dst" ;;
    *.ko.gz)  gzip -dc "$src" > "$dst" ;;
    *)        cp "$src" "$dst" ;;
    esac
}
mod_depends() {
    tr '\0' '\n' < "$SCRATCH/mods/$1.ko" | sed -n 's/^depends=//p' | head -n1 |
        tr ',' ' '
}
ORDER=()
declare -A SEEN=()
visit() {                       # depth-first: dependencies first
    local m=${1//-/_} d
    [ -n "${SEEN[$m]:-}" ] && return 0
    SEEN[$m]=1
    if [ -z "${MODPATH[$m]:-}" ]; then
        [ -n "${BUILTIN[$m]:-}" ] && return 0    # built in: nothing to load
        die "module '$m' is neither in $KPKG nor built in"
    fi
    unpack_mod "$m"
    for d in $(mod_depends "$m"); do visit "$d"; done
    ORDER+=("$m")
}
for m in $GUEST_MODULES; do visit "$m"; done
log "kernel $KREL; modules: ${ORDER[*]:-(none)}"

# --- initramfs tree -----------------------------------------------------
R="$SCRATCH/root"
mkdir -p "$R"/{bin,dev,etc,jobs,lib/modules,proc,run,sys,tmp,usr,root}
ln -s bin "$R/sbin"
ln -s ../bin "$R/usr/bin"
ln -s ../bin "$R/usr/sbin"
cp "$BUSYBOX" "$R/bin/busybox"
for a in $("$BUSYBOX" --list); do
    case $a in busybox|init|linuxrc) continue ;; esac
    ln -s busybox "$R/bin/$a"
done
install -m 0755 "$HERE/init.sh" "$R/init"
install -m 0755 "$HERE/udhcpc.script" "$R/etc/udhcpc.script"
for j in "$HERE"/jobs/*.sh; do install -m 0755 "$j" "$R/jobs/"; done
for m in "${ORDER[@]}"; do
    install -m 0644 "$SCRATCH/mods/$m.ko" "$R/lib/modules/$m.ko"
    echo "$m"
done > "$R/lib/modules/load.order"
echo "$KREL" > "$R/etc/guest-kernel"
chmod 1777 "$R/tmp"
printf '%s\n' "$HOST_FILES" | while read -r dst src; do
    [ -n "$src" ] || continue
    mkdir -p "$R$(dirname "$dst")"
    rm -f "$R$dst"          # never write through a busybox applet link
    cp -L --preserve=mode "$src" "$R$dst"
    log "host: $src -> $dst"
done
for pair in $GUEST_EXTRA_FILES; do
    src=${pair%%:*} dst=${pair#*:}
    case $dst in /*) ;; *) die "GUEST_EXTRA_FILES: dst '$dst' must be absolute" ;; esac
    case $dst in */) dst="$dst${src##*/}" ;; esac
    mkdir -p "$R$(dirname "$dst")"
    rm -f "$R$dst"
    cp -L --preserve=mode "$src" "$R$dst"
    log "extra: $src -> $dst"
done

# Fixed mtimes and sorted entries make the archive byte-for-byte stable.
find "$R" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# newc entry for /dev/console (char 5:1) written by hand: the kernel needs
# it to give /init a console, and mknod would need root.  Appended as a
# second archive; the kernel unpacks concatenated cpio archives.
newc_entry() {  # name mode rdevmajor rdevminor
    local name=$1 nsz=$(( ${#1} + 1 ))
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        0 "$2" 0 0 1 "$SOURCE_DATE_EPOCH" 0 0 0 "$3" "$4" "$nsz" 0
    printf '%s\0' "$name"
    # header (110) + name padded to a multiple of 4
    head -c $(( (4 - (110 + nsz) % 4) % 4 )) /dev/zero
}
(
    cd "$R"
    find . -mindepth 1 | sed 's|^\./||' | sort |
        cpio --quiet -o -H newc -R 0:0 --reproducible
    newc_entry dev/console $((0020600)) 5 1
    newc_entry 'TRAILER!!!' 0 0 0
) | gzip -n -9 > "$SCRATCH/initramfs.gz"

cp "$SCRATCH/k/boot/vmlinuz-$KREL" "$OUTDIR/vmlinuz.tmp"
mv "$OUTDIR/vmlinuz.tmp" "$OUTDIR/vmlinuz"
mv "$SCRATCH/initramfs.gz" "$OUTDIR/initramfs.gz"
echo "$KREL" > "$OUTDIR/kernel-release"
echo "$HASH" > "$OUTDIR/.stamp"
log "wrote $OUTDIR/vmlinuz, $OUTDIR/initramfs.gz ($(stat -c %s "$OUTDIR/initramfs.gz") bytes)"
