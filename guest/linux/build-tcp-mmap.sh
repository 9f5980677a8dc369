#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the kernel selftest tcp_mmap, static, for the test guest.
#
#   guest/linux/build-tcp-mmap.sh KDIR OUTDIR
#
# KDIR is guest/linux/fetch-kernel.sh's OUTDIR; the source is its
# src/tools/testing/selftests/net/tcp_mmap.c, so tcp_mmap matches the
# guest's kernel.  Writes OUTDIR/tcp_mmap (static: the guest is busybox
# only; SHA256 from libssl-dev's libcrypto.a).
#
# Transfer size: upstream hard-codes '#define FILE_SZ (1ULL << 35)' (32 GiB,
# hours under TCG).  The copy built here has that define wrapped in
# '#ifndef FILE_SZ' and is compiled with -DFILE_SZ=tcp_mmap_file_sz, a
# variable of tcp_mmap-shim.c: TCP_MMAP_DEFAULT_SZ bytes (environment of
# this script; default 268435456 = 256 MiB), or at run time the guest's
# environment variable TCP_MMAP_FILE_SZ (bytes or with a K/M/G suffix).
# Both ends must use the same size.  The shim also makes stdout line
# buffered, so the server's summary line reaches a file or a pipe.
#
# Options of the program (see the source): -s server, -H HOST client,
# -4/-6 family (default IPv6; a -6 server also takes IPv4 clients), -p PORT
# (8787), -z receiver TCP_ZEROCOPY_RECEIVE / sender MSG_ZEROCOPY, -i SHA256
# of the data checked by the receiver ("SHA256 is correct" on stdout, or
# "Error: SHA256 of the data is not right" on stderr), -M MSS, -r/-w
# SO_RCVBUF/SO_SNDBUF, -C chunk size (512 KiB), -a map alignment, -P pacing,
# -x xor hash, -k keep.  The server prints per connection, after the
# transfer:
#   received 256 MB (0 % mmap'ed) in 8.1 s, 0.26 Gbit
#     cpu usage user:0.01 sys:1.1, 4400 usec per MB, 123 c-switches, rcv_mss 4096
#
# Idempotent: OUTDIR/.stamp hashes the inputs.
set -euo pipefail
umask 022

die() { echo "build-tcp-mmap: error: $*" >&2; exit 1; }
log() { echo "build-tcp-mmap: $*"; }

[ $# -eq 2 ] || die "usage: $0 KDIR OUTDIR"
KDIR=$(cd "$1" 2>/dev/null && pwd) || die "no folder '$1' (run guest/linux/fetch-kernel.sh $1)"
OUTDIR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
SRC="$KDIR/src/tools/testing/selftests/net/tcp_mmap.c"
DEFAULT_SZ=${TCP_MMAP_DEFAULT_SZ:-268435456}
CC=${CC:-gcc}
export LC_ALL=C

[ -f "$SRC" ] || die "no $SRC (run guest/linux/fetch-kernel.sh $KDIR)"
case $DEFAULT_SZ in ''|*[!0-9]*|0) die "TCP_MMAP_DEFAULT_SZ must be a number of bytes" ;; esac
command -v "$CC" >/dev/null || die "missing compiler '$CC'"
LIBCRYPTO=$("$CC" -print-file-name=libcrypto.a)
[ -f "$LIBCRYPTO" ] ||
    die "no static libcrypto.a (package libssl-dev; buildsys/install-deps.sh installs it)"

HASH=$( {
    echo "size $DEFAULT_SZ cc $CC $("$CC" -dumpfullversion)"
    sha256sum "$SRC" "$LIBCRYPTO" "$HERE/build-tcp-mmap.sh" \
        "$HERE/tcp_mmap-shim.c" "$HERE/tcp_mmap-shim.h" | cut -d' ' -f1
} | sha256sum | cut -d' ' -f1)
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
if [ -f "$OUTDIR/.stamp" ] && [ "$(cat "$OUTDIR/.stamp")" = "$HASH" ] &&
   [ -x "$OUTDIR/tcp_mmap" ]; then
    log "up to date ($OUTDIR/tcp_mmap)"
    exit 0
fi
rm -f "$OUTDIR/.stamp"

# Make FILE_SZ overridable: exactly one plain define is expected.
n=$(grep -cE '^#define FILE_SZ ' "$SRC" || true)
[ "$n" = 1 ] || die "$SRC: expected one '#define FILE_SZ' line, found $n (the selftest changed)"
sed -E 's/^(#define FILE_SZ .*)$/#ifndef FILE_SZ\n\1\n#endif/' "$SRC" > "$OUTDIR/tcp_mmap.c"

log "$CC -static tcp_mmap.c tcp_mmap-shim.c -lcrypto -lpthread (default size $DEFAULT_SZ bytes)"
"$CC" -O2 -g -Wall -static -o "$OUTDIR/tcp_mmap.tmp" \
    -DFILE_SZ=tcp_mmap_file_sz -DTCP_MMAP_DEFAULT_SZ="${DEFAULT_SZ}ULL" \
    -include "$HERE/tcp_mmap-shim.h" -I"$HERE" \
    "$OUTDIR/tcp_mmap.c" "$HERE/tcp_mmap-shim.c" -lcrypto -lpthread \
    > "$OUTDIR/cc.log" 2>&1 || { cat "$OUTDIR/cc.log" >&2; die "compiling tcp_mmap failed"; }
# Static glibc's getaddrinfo/dlopen notes are expected; show anything else.
grep -v -e 'statically linked applications requires at runtime' \
    -e 'in function' "$OUTDIR/cc.log" >&2 || true
strip -o "$OUTDIR/tcp_mmap.stripped" "$OUTDIR/tcp_mmap.tmp"
mv "$OUTDIR/tcp_mmap.tmp" "$OUTDIR/tcp_mmap.debug"
mv "$OUTDIR/tcp_mmap.stripped" "$OUTDIR/tcp_mmap"
# A static binary must not ask for an interpreter.
if command -v readelf >/dev/null && readelf -l "$OUTDIR/tcp_mmap" | grep -q INTERP; then
    die "$OUTDIR/tcp_mmap is not static"
fi
echo "$HASH" > "$OUTDIR/.stamp"
log "wrote $OUTDIR/tcp_mmap ($(stat -c %s "$OUTDIR/tcp_mmap") bytes)"
