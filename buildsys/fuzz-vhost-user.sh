#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Bounded run of vhost-user-net-split-fuzz, the libFuzzer target of the
# vhost-user backend's message and ring handling
# (contrib/vhost-user-net-split/fuzz-vhost-user.c, built in the sanitizer
# build): the regression inputs of splithdr-tools/vhost-user-fuzz-
# regressions/ once, then SECONDS (default 60, or SPLITHDR_FUZZ_SECONDS)
# from the seeds of splithdr-tools/tests/make-vhost-user-fuzz-corpus.py.
# Prints executions and coverage; exits 1 on a crash, a sanitizer report
# or a failed oracle (the input is left in WORK/crash-*).
#
#   buildsys/fuzz-vhost-user.sh --build BUILD [--seconds N] [--log FILE]
set -uo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build
SECS=${SPLITHDR_FUZZ_SECONDS:-60}
LOG=
while [ $# -gt 0 ]; do
    case $1 in
    --build) BUILD=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --log) LOG=$2; shift 2 ;;
    *) echo "fuzz-vhost-user: unknown argument $1" >&2; exit 2 ;;
    esac
done

BUILD=$(cd "$BUILD" && pwd)     # the run below is from inside $WORK
QB=$BUILD/qemu/build-sanitize
TARGET=contrib/vhost-user-net-split/vhost-user-net-split-fuzz
FZ=$QB/$TARGET
WORK=$BUILD/vhost-user-fuzz-work
SEEDS=$BUILD/vhost-user-fuzz-corpus
REGRESS=$SRC/splithdr-tools/vhost-user-fuzz-regressions
LOG=${LOG:-$WORK.log}

# Not built by default: only this run needs it (seconds when up to date).
ninja -C "$QB" "$TARGET" > /dev/null || {
    echo "fuzz-vhost-user: cannot build $FZ (make sanitize-build first)" >&2
    exit 1
}
rm -rf "$WORK" "$SEEDS"
mkdir -p "$WORK"
python3 "$SRC/splithdr-tools/tests/make-vhost-user-fuzz-corpus.py" "$SEEDS"

# UBSan must stop the run, as ASan does; leaks count too.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1
echo "fuzz-vhost-user: regressions, then ${SECS}s"
(cd "$WORK" &&
 { [ ! -d "$REGRESS" ] || "$FZ" -runs=0 "$REGRESS"; } &&
 "$FZ" -max_total_time="$SECS" -timeout=10 -max_len=8192 \
     -print_final_stats=1 -artifact_prefix="$WORK/" "$WORK" "$SEEDS") \
    > "$LOG" 2>&1
rc=$?
echo "fuzz-vhost-user: $(grep -E '#[0-9]+[[:space:]]+DONE' "$LOG" | tail -n 1)"
echo "fuzz-vhost-user: $(grep -h number_of_executed_units "$LOG" | tail -n 1)"
if [ $rc != 0 ]; then
    echo "fuzz-vhost-user: FAILED, see $LOG and $WORK/crash-*" >&2
    grep -m 3 -E 'ERROR: |runtime error|fuzz: ' "$LOG" >&2
    exit 1
fi
