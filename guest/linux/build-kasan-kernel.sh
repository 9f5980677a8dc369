#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build a small KASAN guest kernel with the patched virtio_net BUILT IN.
#
#   guest/linux/build-kasan-kernel.sh KDIR OUTDIR
#
# KDIR is guest/linux/fetch-kernel.sh's OUTDIR: its version file names the
# Debian version V and debs/ holds linux-source-6.12_V_all.deb, already
# downloaded (fetch-kernel.sh extracts only a few files of it).  Steps:
#   1. OUTDIR/src: the whole linux-source-6.12 tree out of that .deb,
#      extracted once per .deb (OUTDIR/src/.deb-sha256);
#   2. the files the series touches are restored from OUTDIR/pristine/
#      (saved before the first patch), then 'patch -p1' of every
#      guest/linux/patches/*.patch in name order; stop and name the patch
#      that does not apply;
#   3. config in OUTDIR/obj: 'make allnoconfig' for x86_64 with
#      KCONFIG_ALLCONFIG=guest/linux/kasan.config, then a check that every
#      CONFIG_X=y of the fragment is y in the result (Kconfig drops
#      options whose dependencies are missing without a word);
#   4. make -j$JOBS bzImage in OUTDIR/obj (incremental: a changed patch
#      rebuilds the driver and relinks); OUTDIR/bzImage, OUTDIR/config.
#
# Outputs: OUTDIR/bzImage, OUTDIR/config, OUTDIR/series (applied patches),
# OUTDIR/build.log, OUTDIR/build-seconds (time of the last real build).
# Idempotent: OUTDIR/.stamp hashes the .deb, the series, the fragment,
# this script and the compiler; a matching stamp means nothing to do.
#
# Knobs (environment): JOBS (default 2), PATCHES_DIR (default
# guest/linux/patches), KASAN_FRAGMENT (default guest/linux/kasan.config),
# KASAN_CCACHE=0 to build without ccache (used when installed).
#
# Needs: make, gcc, flex, bison, bc, libelf-dev (objtool), libssl-dev,
# patch, dpkg-deb, xz.
set -euo pipefail
umask 022

die() { echo "build-kasan-kernel: error: $*" >&2; exit 1; }
log() { echo "build-kasan-kernel: $*"; }

[ $# -eq 2 ] || die "usage: $0 KDIR OUTDIR"
KDIR=$(cd "$1" 2>/dev/null && pwd) || die "no folder '$1' (run guest/linux/fetch-kernel.sh $1)"
OUTDIR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
PATCHES_DIR=${PATCHES_DIR:-$HERE/patches}
FRAGMENT=${KASAN_FRAGMENT:-$HERE/kasan.config}
JOBS=${JOBS:-2}
export LC_ALL=C

[ -f "$KDIR/version" ] || die "no $KDIR/version (run guest/linux/fetch-kernel.sh $KDIR)"
V=$(cat "$KDIR/version")
SERIES=6.12
DEB="$KDIR/debs/linux-source-${SERIES}_${V//:/%3a}_all.deb"
[ -s "$DEB" ] || die "no $DEB (run guest/linux/fetch-kernel.sh $KDIR)"
[ "$(dpkg-deb -f "$DEB" Version)" = "$V" ] || die "$DEB is not version $V"
[ -f "$FRAGMENT" ] || die "no config fragment $FRAGMENT"
for t in make gcc flex bison bc patch dpkg-deb xz sha256sum; do
    command -v "$t" >/dev/null || die "missing tool '$t'"
done
[ -f /usr/include/gelf.h ] || die "no libelf headers (package libelf-dev; objtool needs them)"

CC=gcc
if [ "${KASAN_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null; then
    CC="ccache gcc"
fi

PATCHES=()
if [ -d "$PATCHES_DIR" ]; then
    mapfile -t PATCHES < <(find "$PATCHES_DIR" -maxdepth 1 -name '*.patch' | sort)
fi

DEB_SHA=$(sha256sum < "$DEB" | cut -d' ' -f1)
HASH=$( {
    echo "deb $V $DEB_SHA"
    echo "cc $(gcc -dumpfullversion) jobs-independent"
    sha256sum "$HERE/build-kasan-kernel.sh" "$FRAGMENT" | cut -d' ' -f1
    for p in "${PATCHES[@]}"; do echo "${p##*/}"; sha256sum < "$p"; done
} | sha256sum | cut -d' ' -f1)
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
if [ -f "$OUTDIR/.stamp" ] && [ "$(cat "$OUTDIR/.stamp")" = "$HASH" ] &&
   [ -s "$OUTDIR/bzImage" ]; then
    log "up to date ($OUTDIR/bzImage, ${#PATCHES[@]} patch(es), linux-source-$SERIES $V)"
    exit 0
fi
rm -f "$OUTDIR/.stamp"
T0=$(date +%s)

# --- 1. the whole source tree, once per .deb ------------------------------
SRC="$OUTDIR/src"
if [ ! -f "$SRC/.deb-sha256" ] || [ "$(cat "$SRC/.deb-sha256")" != "$DEB_SHA" ]; then
    log "extracting linux-source-$SERIES $V (whole tree)"
    rm -rf "$SRC" "$OUTDIR/src.tmp" "$OUTDIR/pristine" "$OUTDIR/obj"
    mkdir -p "$OUTDIR/src.tmp"
    dpkg-deb --fsys-tarfile "$DEB" |
        tar -x -O --wildcards "*/usr/src/linux-source-$SERIES.tar.xz" |
        xz -dc | tar -x -C "$OUTDIR/src.tmp" ||
        die "could not extract the source tarball from $DEB"
    [ -f "$OUTDIR/src.tmp/linux-source-$SERIES/Makefile" ] ||
        die "no linux-source-$SERIES/Makefile in $DEB"
    mv "$OUTDIR/src.tmp/linux-source-$SERIES" "$SRC"
    rmdir "$OUTDIR/src.tmp"
    echo "$DEB_SHA" > "$SRC/.deb-sha256"
    log "extracted in $(( $(date +%s) - T0 )) s"
fi

# --- 2. the series on pristine copies of the files it touches -------------
PRISTINE="$OUTDIR/pristine"
mkdir -p "$PRISTINE"
# Put back every file an earlier series changed (list kept in pristine/).
if [ -f "$PRISTINE/.files" ]; then
    while IFS= read -r f; do
        if [ -f "$PRISTINE/$f" ]; then
            cmp -s "$PRISTINE/$f" "$SRC/$f" || cp "$PRISTINE/$f" "$SRC/$f"
        else
            rm -f "$SRC/$f"         # created by the old series
        fi
    done < "$PRISTINE/.files"
fi
FILES=()
for p in "${PATCHES[@]}"; do
    while IFS= read -r f; do FILES+=("$f"); done < <(
        sed -n -e 's|^+++ b/\(.*\)$|\1|p' -e 's|^--- a/\(.*\)$|\1|p' "$p")
done
for f in $(printf '%s\n' "${FILES[@]}" | sort -u); do
    [ "$f" = /dev/null ] && continue
    grep -qxF "$f" "$PRISTINE/.files" 2>/dev/null && continue
    if [ -f "$SRC/$f" ]; then install -D -m 0644 "$SRC/$f" "$PRISTINE/$f"; fi
    echo "$f" >> "$PRISTINE/.files"
done
: > "$OUTDIR/series"
for p in "${PATCHES[@]}"; do
    if ! (cd "$SRC" && patch -p1 --batch --forward --no-backup-if-mismatch -s) \
            < "$p" > "$OUTDIR/patch.log" 2>&1; then
        sed 's/^/  patch| /' "$OUTDIR/patch.log" >&2
        die "patch ${p##*/} does not apply to linux-source-$SERIES $V"
    fi
    # The Subject, folded header lines joined.
    subj=$(awk '/^Subject: / { s = $0; f = 1; next }
                f && /^[ \t]/ { s = s $0; next } f { exit } END { print s }' "$p" |
           sed -e 's/^Subject: //' -e 's/^\[PATCH[^]]*\] //' -e 's/[ \t][ \t]*/ /g')
    echo "${p##*/}: $subj" >> "$OUTDIR/series"
done
rm -f "$OUTDIR/patch.log"
log "${#PATCHES[@]} patch(es) applied"

# --- 3. config ------------------------------------------------------------
OBJ="$OUTDIR/obj"
mkdir -p "$OBJ"
export KBUILD_BUILD_USER=guest KBUILD_BUILD_HOST=split-hdr
export KBUILD_BUILD_TIMESTAMP='1970-01-01'
MK=(make -C "$SRC" O="$OBJ" ARCH=x86_64 CC="$CC" -j"$JOBS")
"${MK[@]}" KCONFIG_ALLCONFIG="$FRAGMENT" allnoconfig > "$OUTDIR/config.log" 2>&1 ||
    { cat "$OUTDIR/config.log" >&2; die "make allnoconfig failed"; }
missing=()
while IFS= read -r opt; do
    grep -qx "$opt=y" "$OBJ/.config" || missing+=("$opt")
done < <(sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=y$/\1/p' "$FRAGMENT")
[ ${#missing[@]} = 0 ] ||
    die "not y in the final config (missing dependency?): ${missing[*]}"

# --- 4. build ---------------------------------------------------------------
log "make -j$JOBS bzImage (CC=$CC; log: $OUTDIR/build.log)"
TB=$(date +%s)
if ! "${MK[@]}" bzImage > "$OUTDIR/build.log" 2>&1; then
    grep -E 'error|Error' "$OUTDIR/build.log" | head -n 20 >&2
    tail -n 20 "$OUTDIR/build.log" >&2
    die "kernel build failed (full log: $OUTDIR/build.log)"
fi
grep -E 'warning:' "$OUTDIR/build.log" | grep virtio_net >&2 || true
cp "$OBJ/arch/x86/boot/bzImage" "$OUTDIR/bzImage.tmp"
mv "$OUTDIR/bzImage.tmp" "$OUTDIR/bzImage"
cp "$OBJ/.config" "$OUTDIR/config"
T1=$(date +%s)
echo $((T1 - TB)) > "$OUTDIR/build-seconds"
echo "$HASH" > "$OUTDIR/.stamp"
log "wrote $OUTDIR/bzImage ($(stat -c %s "$OUTDIR/bzImage") bytes, $(cat "$OBJ/include/config/kernel.release")); make took $((T1 - TB)) s, all $((T1 - T0)) s"
