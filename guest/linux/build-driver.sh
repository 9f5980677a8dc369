#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the guest's patched virtio_net.ko out of tree.
#
#   guest/linux/build-driver.sh KDIR OUTDIR
#
# KDIR is guest/linux/fetch-kernel.sh's OUTDIR (headers, linux-source
# bits).  Steps:
#   1. OUTDIR/src: a fresh git repo holding linux-source's
#      drivers/net/virtio_net.c, include/uapi/linux/virtio_net.h and
#      include/linux/virtio_net.h at their kernel paths, one commit tagged
#      "upstream";
#   2. git am of every guest/linux/patches/*.patch, in name order (none:
#      the pristine driver is built, which is what the guest runs until the
#      series exists); if one does not apply, stop and name it;
#   3. make -C KDIR/headers M=OUTDIR/build: Kbuild puts the kernel's include
#      paths before ccflags-y, so the module would see the kernel's own
#      virtio_net headers; '-include' forces ours in first (same include
#      guard, so the kernel's copy then is a no-op);
#   4. check vermagic against the image's own virtio_net.ko, strip debug
#      info (BTF stays), write OUTDIR/virtio_net.ko.
#
# OUTDIR/src is recreated on every build (do your own work in a clone of it:
# 'git clone OUTDIR/src', then 'git format-patch upstream' into
# guest/linux/patches/).  OUTDIR/build keeps the unstripped module for gdb.
# OUTDIR/series lists the applied patches.
#
# Idempotent: OUTDIR/.stamp is a hash of the kernel set, the patches and
# this script.  PATCHES_DIR overrides guest/linux/patches.
#
# Needs: make, gcc-12 (the kernel's compiler), git, objcopy; pahole (Debian
# package dwarves) for the module's BTF.
set -euo pipefail
umask 022

die() { echo "build-driver: error: $*" >&2; exit 1; }
log() { echo "build-driver: $*"; }

[ $# -eq 2 ] || die "usage: $0 KDIR OUTDIR"
KDIR=$(cd "$1" 2>/dev/null && pwd) || die "no folder '$1' (run guest/linux/fetch-kernel.sh $1)"
OUTDIR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
PATCHES_DIR=${PATCHES_DIR:-$HERE/patches}
export LC_ALL=C

for f in version kernel-release headers/Makefile stock/virtio_net.ko \
         src/drivers/net/virtio_net.c; do
    [ -e "$KDIR/$f" ] || die "no $KDIR/$f (run guest/linux/fetch-kernel.sh $KDIR)"
done
for t in make git objcopy strip; do
    command -v "$t" >/dev/null || die "missing tool '$t'"
done
command -v pahole >/dev/null ||
    die "pahole is missing (package dwarves; buildsys/install-deps.sh installs it): the kernel wants BTF for modules"
V=$(cat "$KDIR/version")
KREL=$(cat "$KDIR/kernel-release")

# Files taken from linux-source, at their kernel paths.
FILES=(drivers/net/virtio_net.c include/uapi/linux/virtio_net.h
       include/linux/virtio_net.h)
PATCHES=()
if [ -d "$PATCHES_DIR" ]; then
    mapfile -t PATCHES < <(find "$PATCHES_DIR" -maxdepth 1 -name '*.patch' | sort)
fi

HASH=$( {
    echo "kernel $V $KREL"
    (cd "$KDIR/src" && sha256sum "${FILES[@]}")
    sha256sum "$HERE/build-driver.sh" | cut -d' ' -f1
    for p in "${PATCHES[@]}"; do echo "${p##*/}"; sha256sum < "$p"; done
} | sha256sum | cut -d' ' -f1)
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
if [ -f "$OUTDIR/.stamp" ] && [ "$(cat "$OUTDIR/.stamp")" = "$HASH" ] &&
   [ -s "$OUTDIR/virtio_net.ko" ]; then
    log "up to date ($OUTDIR/virtio_net.ko, ${#PATCHES[@]} patch(es), $KREL)"
    exit 0
fi
rm -f "$OUTDIR/.stamp" "$OUTDIR/virtio_net.ko"

# --- 1. pristine sources in a small git repo -------------------------------
SRC="$OUTDIR/src"
rm -rf "$SRC"
mkdir -p "$SRC"
for f in "${FILES[@]}"; do
    install -D -m 0644 "$KDIR/src/$f" "$SRC/$f"
done
export GIT_AUTHOR_NAME=linux-source GIT_AUTHOR_EMAIL=linux-source@localhost
export GIT_COMMITTER_NAME=build-driver GIT_COMMITTER_EMAIL=build-driver@localhost
export GIT_AUTHOR_DATE='1970-01-01T00:00:00Z' GIT_COMMITTER_DATE='1970-01-01T00:00:00Z'
g() { git -C "$SRC" -c core.autocrlf=false -c advice.detachedHead=false "$@"; }
g init -q -b main
g config user.name build-driver
g config user.email build-driver@localhost
g add -A
g commit -q -m "upstream: linux-source-6.12 $V" \
    -m "drivers/net/virtio_net.c and its headers as Debian ships them."
g tag upstream

# --- 2. the series -----------------------------------------------------------
: > "$OUTDIR/series"
unset GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_AUTHOR_DATE
for p in "${PATCHES[@]}"; do
    if ! g am -q --committer-date-is-author-date "$p" > "$OUTDIR/am.log" 2>&1; then
        sed 's/^/  git am| /' "$OUTDIR/am.log" >&2
        g am --abort >/dev/null 2>&1 || true
        die "patch ${p##*/} does not apply: the series no longer applies to linux-source-6.12 $V ($KREL); rebase it on $SRC's 'upstream' tag"
    fi
    echo "${p##*/}: $(g log -1 --format=%s)" >> "$OUTDIR/series"
done
rm -f "$OUTDIR/am.log"
log "${#PATCHES[@]} patch(es) applied on linux-source-6.12 $V"

# --- 3. out-of-tree build ---------------------------------------------------
# Headers the series changed, plus always the uapi one: each is forced in
# with -include and must carry the kernel copy's include guard, or both
# copies would be compiled.
FORCE=(include/uapi/linux/virtio_net.h)
while IFS= read -r f; do
    case $f in include/*.h) [ "$f" = "${FORCE[0]}" ] || FORCE+=("$f") ;; esac
done < <(g diff --name-only upstream HEAD)
COMMON=$(sed -n 's|^include \(.*\)/Makefile$|\1|p' "$KDIR/headers/Makefile")
[ -d "$COMMON/include" ] || die "cannot find the common headers from $KDIR/headers/Makefile"
guard() { sed -n 's/^#ifndef \([A-Z0-9_]*_H\)$/\1/p' "$1" | head -n1; }
for f in "${FORCE[@]}"; do
    [ -f "$SRC/$f" ] || die "the series deletes $f"
    kf="$COMMON/$f"
    if [ -f "$kf" ]; then
        gk=$(guard "$kf") go=$(guard "$SRC/$f")
        if [ -z "$gk" ] || [ "$gk" != "$go" ]; then
            die "$f: include guard '${go:-none}' differs from the kernel's '${gk:-none}' ($kf); keep it, or the kernel's copy is compiled too"
        fi
    fi
done

B="$OUTDIR/build"
rm -rf "$B"
mkdir -p "$B"
cp "$SRC/drivers/net/virtio_net.c" "$B/"
for f in "${FORCE[@]}"; do install -D -m 0644 "$SRC/$f" "$B/$f"; done
{
    echo "# Generated by guest/linux/build-driver.sh"
    echo "obj-m := virtio_net.o"
    for f in "${FORCE[@]}"; do echo "ccflags-y += -include \$(src)/$f"; done
} > "$B/Kbuild"
log "make -C $KDIR/headers M=$B modules (forced headers: ${FORCE[*]})"
if ! make -C "$KDIR/headers" M="$B" modules > "$B/make.log" 2>&1; then
    tail -n 40 "$B/make.log" >&2
    die "building virtio_net.ko failed (full log: $B/make.log)"
fi
grep -E 'warning:|Skipping BTF' "$B/make.log" >&2 || true
[ -s "$B/virtio_net.ko" ] || die "make produced no $B/virtio_net.ko"

# --- 4. checks, output -------------------------------------------------------
modinfo_field() {   # ko field
    objcopy -O binary --only-section=.modinfo "$1" /dev/stdout 2>/dev/null |
        tr '\0' '\n' | sed -n "s/^$2=//p" | head -n1
}
mine=$(modinfo_field "$B/virtio_net.ko" vermagic)
theirs=$(modinfo_field "$KDIR/stock/virtio_net.ko" vermagic)
if [ -z "$mine" ] || [ "$mine" != "$theirs" ]; then
    die "vermagic '$mine' of the built module differs from the image's '$theirs'"
fi
log "vermagic ok: $mine; depends: $(modinfo_field "$B/virtio_net.ko" depends)"
objcopy --dump-section .BTF=/dev/null "$B/virtio_net.ko" 2>/dev/null ||
    log "warning: the module has no .BTF section (pahole too old?)"
strip --strip-debug -o "$OUTDIR/virtio_net.ko.tmp" "$B/virtio_net.ko"
mv "$OUTDIR/virtio_net.ko.tmp" "$OUTDIR/virtio_net.ko"
echo "$HASH" > "$OUTDIR/.stamp"
log "wrote $OUTDIR/virtio_net.ko ($(stat -c %s "$OUTDIR/virtio_net.ko") bytes)"
