#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the test guest's own small programs, static, one per source file.
#
#   guest/tools/build-tools.sh OUTDIR
#
# Every guest/tools/NAME.c becomes OUTDIR/NAME, a stripped static binary
# (the guest is busybox only); 'make guest' puts each into the image as
# /bin/NAME.  They use only libc and the kernel's UAPI headers of this
# host (linux-libc-dev): the interfaces they call (bpf(2), rtnetlink,
# AF_XDP) are stable ABI, older than the guest's 6.12 kernel.
#
# Idempotent: OUTDIR/NAME.stamp hashes the compiler, this script and the
# source, so a changed source (or compiler) rebuilds that program only.
set -euo pipefail
umask 022

die() { echo "build-tools: error: $*" >&2; exit 1; }
log() { echo "build-tools: $*"; }

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
HERE=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-gcc}
export LC_ALL=C
command -v "$CC" >/dev/null || die "missing compiler '$CC'"
mkdir -p "$1"
OUTDIR=$(cd "$1" && pwd)

n=0
for src in "$HERE"/*.c; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .c)
    out=$OUTDIR/$name
    n=$((n + 1))
    hash=$( {
        echo "cc $CC $("$CC" -dumpfullversion)"
        sha256sum "$src" "$HERE/build-tools.sh" | cut -d' ' -f1
    } | sha256sum | cut -d' ' -f1)
    if [ -f "$out.stamp" ] && [ "$(cat "$out.stamp")" = "$hash" ] && [ -x "$out" ]; then
        log "up to date ($out)"
        continue
    fi
    rm -f "$out.stamp"
    log "$CC -static $name.c"
    "$CC" -O2 -g -Wall -Wextra -Werror -static -o "$out.tmp" "$src" ||
        die "compiling $src failed"
    strip -o "$out.stripped" "$out.tmp"
    rm -f "$out.tmp"
    if command -v readelf >/dev/null && readelf -l "$out.stripped" | grep -q INTERP; then
        die "$out is not static"
    fi
    mv "$out.stripped" "$out"
    echo "$hash" > "$out.stamp"
    log "wrote $out ($(stat -c %s "$out") bytes)"
done
[ $n -gt 0 ] || die "no program in $HERE"
