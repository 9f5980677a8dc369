#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run the kernel's scripts/checkpatch.pl --strict on every patch of the
# guest driver series; fail on any ERROR, WARNING or CHECK.
#
#   guest/linux/checkpatch.sh KDIR [PATCH...]
#
# KDIR is guest/linux/fetch-kernel.sh's OUTDIR: its src/ holds checkpatch.pl
# with spelling.txt, const_structs.checkpatch, get_maintainer.pl,
# MAINTAINERS and include/, enough for checkpatch to take it for a kernel
# tree (--root): the CamelCase check is seeded from that include/.  Without
# PATCH arguments, every guest/linux/patches/*.patch (PATCHES_DIR
# overrides); no patch at all is a pass.  checkpatch runs from KDIR/src,
# which is not a git repository, so commit ids in messages are not looked
# up.  Extra checkpatch options: CHECKPATCH_OPTS (e.g. "--ignore X").
set -euo pipefail

die() { echo "checkpatch: error: $*" >&2; exit 2; }

[ $# -ge 1 ] || die "usage: $0 KDIR [PATCH...]"
KDIR=$(cd "$1" 2>/dev/null && pwd) || die "no folder '$1' (run guest/linux/fetch-kernel.sh $1)"
shift
HERE=$(cd "$(dirname "$0")" && pwd)
PATCHES_DIR=${PATCHES_DIR:-$HERE/patches}
CP="$KDIR/src/scripts/checkpatch.pl"
[ -f "$CP" ] || die "no $CP (run guest/linux/fetch-kernel.sh $KDIR)"
command -v perl >/dev/null || die "missing tool 'perl'"

PATCHES=()
for p in "$@"; do
    [ -f "$p" ] || die "no patch '$p'"
    PATCHES+=("$(cd "$(dirname "$p")" && pwd)/${p##*/}")
done
if [ $# -eq 0 ] && [ -d "$PATCHES_DIR" ]; then
    mapfile -t PATCHES < <(find "$PATCHES_DIR" -maxdepth 1 -name '*.patch' | sort)
fi
if [ ${#PATCHES[@]} -eq 0 ]; then
    echo "checkpatch: no patches in $PATCHES_DIR: nothing to check"
    exit 0
fi

bad=0
for p in "${PATCHES[@]}"; do
    # shellcheck disable=SC2086 # CHECKPATCH_OPTS is a list of options
    out=$(cd "$KDIR/src" && env -u GIT_DIR perl "$CP" --strict --no-color \
        --root="$KDIR/src" --showfile ${CHECKPATCH_OPTS:-} "$p" 2>&1) || true
    total=$(printf '%s\n' "$out" | grep -E '^total: [0-9]+ errors, [0-9]+ warnings' | tail -n1)
    if [ -z "$total" ]; then
        printf '%s\n' "$out"
        echo "checkpatch: ${p##*/}: checkpatch.pl printed no summary"
        bad=$((bad + 1))
    elif printf '%s\n' "$total" | grep -qE '^total: 0 errors, 0 warnings, (0 checks, )?[0-9]+ lines'; then
        echo "checkpatch: ${p##*/}: clean ($total)"
    else
        printf '%s\n' "$out"
        echo "checkpatch: ${p##*/}: NOT clean ($total)"
        bad=$((bad + 1))
    fi
done
echo "checkpatch: ${#PATCHES[@]} patch(es), $bad not clean (linux-source-6.12 $(cat "$KDIR/version" 2>/dev/null || echo '?'))"
[ $bad = 0 ]
