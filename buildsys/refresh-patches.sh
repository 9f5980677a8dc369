#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Export the commits of the prepared tree on top of "upstream" as the
# patch series.  Workflow: edit a hook in build/qemu, `git commit` (or
# `git commit --fixup` + rebase) there, then `make refresh-patches`.
set -eu
tree=$(cd "$1" && pwd)
mkdir -p "$2"; out=$(cd "$2" && pwd)
cd "$tree"
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    echo "refresh-patches: $tree has uncommitted changes; commit them first" >&2
    exit 1
fi
rm -f "$out"/*.patch
mkdir -p "$out"
git format-patch -q --zero-commit --no-signature --no-numbered \
    -o "$out" upstream..HEAD
git rev-list --count upstream..HEAD > .git/splithdr-patch-count
cat "$out"/*.patch 2>/dev/null | sha256sum | cut -d' ' -f1 > .git/splithdr-patches
ls "$out"
