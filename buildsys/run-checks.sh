#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run every test of the fork and end with one line "N passed, N failed,
# N skipped (...)".
#
#   buildsys/run-checks.sh --build BUILD [--suite NAME]...
#   buildsys/run-checks.sh --build BUILD --fuzz-long TARGET [--seconds N]
#
# Without --suite every suite runs, in the order below.  --fuzz-long runs
# one fuzz target for N seconds (default 3600) and keeps its corpus
# (make fuzz-long; see fuzz_long).
#
# Suites:
#   selftest     this script's accounting, on fake TAP runners (a second)
#   qos          QEMU's own qos-test on our build: every path, including our
#                split-hdr qtests (tests/qtest/virtio-net-splithdr-test.c)
#   qos-split-on QEMU's virtio-net qos paths again, with split-hdr=on on
#                every virtio-net device (libqos negotiates the feature but
#                never sets a ring, so they must behave as before)
#   vhost-user-valgrind
#                the split-hdr/vhost-user qtests with our vhost-user backend
#                (contrib/vhost-user-net-split) under valgrind; any valgrind
#                error fails its test (the backend must exit 0)
#   sanitize     our split-hdr qtests and QEMU's virtio-net qtests on the
#                ASan + UBSan build (build/qemu/build-sanitize); any
#                sanitizer report fails the suite
#   fuzz         the policy's libFuzzer target: the regression inputs once,
#                then a bounded run (SPLITHDR_FUZZ_SECONDS, default 60)
#                from the seed corpus
#   qemu-fuzz    qemu-fuzz-x86_64 on the sanitizer build, two targets:
#                QEMU's generic-fuzz on virtio-net-pci with split-hdr=on,
#                and our virtio-net-split-hdr qos target
#                (tests/qtest/splithdr/virtio-net-splithdr-fuzz.c); each
#                replays its regression inputs, then runs
#                SPLITHDR_FUZZ_SECONDS (default 60)
#   tools        the split policy outside QEMU: splithdr-classify (top-level
#                meson.build) on a capture of known frames
#   guest        boot the test guest on user networking, one boot per case
#                of run_guest: the stock virtio_net on a split-hdr=on device
#                (DHCP, ping, HTTP), then the patched one
#                (guest/jobs/split-*.sh, guest/split-check.py): counters of
#                guest and device, split-hdr=off, XDP refusal, system
#                sleep, rmmod
#   e2e          tcp_mmap between two guests (guest/e2e-tcp-mmap.sh), one
#                test per case in run_e2e: the stock and the patched
#                virtio_net, zerocopy, counters of device and driver
#                compared, rx resize under traffic, the device's test
#                faults, and (root only, else a skip) a multiqueue tap
#                receiver with RSS, hash report and GSO frames
#   e2e-kasan    the receiver on a KASAN kernel with the patched driver
#                built in (build/guest-kasan): a positive control (lkdtm's
#                slab overflow must be reported), then zerocopy and the
#                three test faults; any KASAN report fails
#   checkpatch   the guest driver series (guest/linux/patches) through the
#                kernel's checkpatch.pl --strict, one test per patch
#   tap:PROGRAM  PROGRAM's TAP output, counted as the qtests are
#
# Each qtest path, each guest boot, each e2e case and each patch count as
# one test.  A TAP runner (qos-test, classify-test.py) that prints no
# plan, fewer or more results than its plan, or exits other than 0 (or 1
# after a failed test) fails its suite.  As root (CI), a skipped test
# fails unless ROOT_SKIP_OK names it; otherwise the skips are listed at
# the end.  The last line counts distinct tests: a qtest path that the
# qos and sanitize suites both run is one test, run twice.  Logs and
# BUILD/check-logs/results.tsv (one line per run) go to BUILD/check-logs/.
set -uo pipefail

BUILD=
SUITES=()
FUZZ_LONG=
FUZZ_LONG_SECONDS=
while [ $# -gt 0 ]; do
    case $1 in
    --build) BUILD=$2; shift 2 ;;
    --suite) SUITES+=("$2"); shift 2 ;;
    --fuzz-long) FUZZ_LONG=$2; shift 2 ;;
    --seconds) FUZZ_LONG_SECONDS=$2; shift 2 ;;
    *) echo "run-checks: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$BUILD" ] || { echo "usage: $0 --build BUILD" >&2; exit 2; }
[ ${#SUITES[@]} -gt 0 ] || SUITES=(selftest qos qos-split-on vhost-user-valgrind sanitize tools fuzz qemu-fuzz guest e2e e2e-kasan checkpatch)
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
QB=$BUILD/qemu/build
QEMU=$QB/qemu-system-x86_64
LOGS=$BUILD/check-logs
mkdir -p "$LOGS"

# Every result goes through record(): one line per run of a test in
# BUILD/check-logs/results.tsv (suite, test, pass|fail|skip, why), so the
# end can report per suite and count a test that two suites run (the
# split-hdr qtests on the normal and the sanitizer build) once.
RESULTS=$LOGS/results.tsv
: > "$RESULTS"
passed=0
failed=0
skipped=0
failures=()
skips=()
SUITES_RUN=()
declare -A SUITE_P SUITE_F SUITE_S

# Who counts as root for the skip rule below; only the selftest suite
# overrides it, to check both behaviours on one machine.
AS_ROOT=${RUN_CHECKS_SELFTEST_ROOT:-$([ "$(id -u)" = 0 ] && echo 1 || echo 0)}

# Skips that stay skips even as root, one extended regex on the test's
# name per line, each with its reason.  Everything else that skips as
# root fails: CI runs as root, and there a skip means a test that did not
# test (the split-hdr/tap/* qtests without /dev/net/tun, for one).
# Empty: as root on a Debian 12 machine with /dev/net/tun, the qos,
# qos-split-on, vhost-user-valgrind, sanitize and tools suites skip
# nothing (238 + 14 + 10 + 125 + 13 results).
ROOT_SKIP_OK=()

root_skip_ok() {    # test-name
    local re
    for re in ${ROOT_SKIP_OK[@]+"${ROOT_SKIP_OK[@]}"}; do
        if [[ $1 =~ $re ]]; then
            return 0
        fi
    done
    return 1
}

# record SUITE TEST pass|fail|skip [WHY]: one run of one test.
record() {
    local suite=$1 test=$2 st=$3 why=${4:-}
    if [ "$st" = skip ] && [ "$AS_ROOT" = 1 ] && ! root_skip_ok "$test"; then
        st=fail
        why="skipped as root, where it must run${why:+ ($why)}"
    fi
    if [ -z "${SUITE_P[$suite]+x}" ]; then
        SUITE_P[$suite]=0 SUITE_F[$suite]=0 SUITE_S[$suite]=0
        SUITES_RUN+=("$suite")
    fi
    case $st in
    pass)
        passed=$((passed + 1))
        SUITE_P[$suite]=$((SUITE_P[$suite] + 1)) ;;
    fail)
        failed=$((failed + 1))
        SUITE_F[$suite]=$((SUITE_F[$suite] + 1))
        failures+=("$suite: $test${why:+: $why}") ;;
    skip)
        skipped=$((skipped + 1))
        SUITE_S[$suite]=$((SUITE_S[$suite] + 1))
        skips+=("$suite: $test${why:+: $why}") ;;
    *) echo "run-checks: record: bad status $st" >&2; exit 2 ;;
    esac
    printf '%s\t%s\t%s\t%s\n' "$suite" "$test" "$st" "$why" >> "$RESULTS"
}

# Why a runner's exit status $1 is wrong, or nothing when it is not.
exit_why() {
    case $1 in
    0) ;;
    124) echo "timed out (timeout(1) killed it)" ;;
    12[5-7]) echo "could not be run (exit status $1)" ;;
    *) if [ "$1" -gt 128 ]; then
           echo "killed by signal $(($1 - 128)) ($(kill -l $(($1 - 128)) 2>/dev/null))"
       else
           echo "exited with status $1"
       fi ;;
    esac
}

# count_tap SUITE LOG STATUS RUNNER: count the TAP stream in LOG that
# RUNNER wrote and then exited with STATUS.  Each result is one test
# (named by its description: the qtest path); "# SKIP" and "# TODO" are
# skips.  The plan is the largest "1..N": glib prints it first when it
# runs every test, but after each -p path, counting so far, when given
# paths, and a test's forked child can print a stale one on exit.  The runner itself fails the suite, as one more failed test
# named after it, when it printed no plan (it died before it had a
# graph, or never ran), fewer or more results than its plan, or "Bail
# out!", or when its exit status is not 0, unless that status is 1 and
# it reported a failure (a glib test program's exit on a failed test).
count_tap() {
    local suite=$1 log=$2 rc=$3 runner=$4
    local plan='' n=0 f=0 line desc st why re_res re_dir
    local p0=${SUITE_P[$suite]:-0} f0=${SUITE_F[$suite]:-0} s0=${SUITE_S[$suite]:-0}
    local -a bad=()
    re_res='^(not )?ok [0-9]+ ?-? ?(.*)$'
    re_dir='^(.*[^ ]) *# *(SKIP|skip|Skip|TODO|todo|Todo)(.*)$'
    while IFS= read -r line; do
        if [[ $line =~ ^1\.\.([0-9]+) ]]; then
            if [ -z "$plan" ] || [ "${BASH_REMATCH[1]}" -gt "$plan" ]; then
                plan=${BASH_REMATCH[1]}
            fi
        elif [[ $line =~ $re_res ]]; then
            n=$((n + 1))
            desc=${BASH_REMATCH[2]} why=''
            if [ -n "${BASH_REMATCH[1]}" ]; then
                st=fail
                f=$((f + 1))
            else
                st=pass
            fi
            if [[ $desc =~ $re_dir ]]; then
                desc=${BASH_REMATCH[1]}
                why=${BASH_REMATCH[3]# }
                st=skip
            fi
            record "$suite" "${desc:-result $n}" "$st" "$why"
        elif [[ $line == 'Bail out!'* ]]; then
            bad+=("$line")
        fi
    done < "$log"
    if [ -z "$plan" ]; then
        bad+=("no TAP plan: it died before starting its tests, or never ran")
    elif [ "$n" -lt "$plan" ]; then
        bad+=("stopped after $n of $plan results")
    elif [ "$n" -gt "$plan" ]; then
        bad+=("$n results for a plan of $plan")
    fi
    if [ "$rc" != 0 ] && ! { [ "$rc" = 1 ] && [ "$f" -gt 0 ]; }; then
        bad+=("$(exit_why "$rc")")
    fi
    if [ ${#bad[@]} -gt 0 ]; then
        why=$(printf '%s; ' "${bad[@]}")
        record "$suite" "runner $runner" fail "${why%; } (log: $log)"
        echo "run-checks: $suite: FAIL: runner $runner: ${why%; }"
    fi
    echo "run-checks: $suite: $((SUITE_P[$suite] - p0)) passed," \
        "$((SUITE_F[$suite] - f0)) failed, $((SUITE_S[$suite] - s0)) skipped (log: $log)"
}

# A suite that runs the qos-test paths it listed fails when it listed
# none: qos-test -l died, or the paths moved; without -p, qos-test would
# run every path instead.
no_paths() {        # suite count what
    if [ "$2" = 0 ]; then
        record "$1" "qos-test -l" fail "no $3 paths listed"
        echo "run-checks: $1: FAIL: qos-test -l listed no $3 paths"
        return 1
    fi
}

run_qos() {
    local log=$LOGS/qos.log
    echo "run-checks: qos-test, all paths (about 1.5 min)"
    # split-hdr/vhost-user/* start our vhost-user backend as a process.
    (cd "$QB" && QTEST_QEMU_BINARY=$QEMU \
        SPLITHDR_VHOST_USER_NET_BINARY=$QB/contrib/vhost-user-net-split/vhost-user-net-split \
        timeout 1200 ./tests/qtest/qos-test --tap -k) > "$log" 2>&1
    count_tap qos "$log" $? qos-test
}

run_qos_split_on() {
    local log=$LOGS/qos-split-on.log wrap=$BUILD/qtest-split-hdr-on
    local -a paths=()
    # libqtest takes the target from the binary's name: wrap it, keep it.
    mkdir -p "$wrap"
    printf '#!/bin/sh\nexec %s -global virtio-net-device.split-hdr=on "$@"\n' \
        "$QEMU" > "$wrap/qemu-system-x86_64"
    chmod +x "$wrap/qemu-system-x86_64"
    mapfile -t paths < <(cd "$QB" && QTEST_QEMU_BINARY=$QEMU \
        ./tests/qtest/qos-test -l | grep -E '/virtio-net' | grep -v split-hdr)
    local -a args=()
    for p in "${paths[@]}"; do
        args+=(-p "$p")
    done
    no_paths qos-split-on "${#paths[@]}" "virtio-net" || return
    echo "run-checks: qos-test, ${#paths[@]} virtio-net paths with split-hdr=on"
    (cd "$QB" && QTEST_QEMU_BINARY=$wrap/qemu-system-x86_64 timeout 1200 \
        ./tests/qtest/qos-test --tap -k "${args[@]}") > "$log" 2>&1
    count_tap qos-split-on "$log" $? qos-test
    # The vhost-user paths must have dropped the feature, saying why.
    if grep -q 'split-hdr=on is not offered: the vhost backend' "$log"; then
        record qos-split-on "vhost-user warns that it drops split-hdr" pass
    else
        record qos-split-on "vhost-user warns that it drops split-hdr" fail \
            "no warning in $log"
    fi
}

run_vhost_user_valgrind() {
    local log=$LOGS/vhost-user-valgrind.log wrap=$BUILD/vhost-user-valgrind
    local bin=$QB/contrib/vhost-user-net-split/vhost-user-net-split
    local -a args=() paths=()
    # The qtests start the backend through this wrapper; valgrind's exit
    # status 99 on an error fails the test that stops the backend.
    mkdir -p "$wrap"
    rm -f "$wrap"/vg.*.log
    printf '#!/bin/sh\nexec valgrind -q --error-exitcode=99 --leak-check=no --log-file=%s/vg.%%p.log %s "$@"\n' \
        "$wrap" "$bin" > "$wrap/vhost-user-net-split"
    chmod +x "$wrap/vhost-user-net-split"
    mapfile -t paths < <(cd "$QB" && QTEST_QEMU_BINARY=$QEMU \
        SPLITHDR_VHOST_USER_NET_BINARY=$bin ./tests/qtest/qos-test -l |
        grep 'split-hdr/vhost-user/')
    for p in "${paths[@]}"; do
        args+=(-p "$p")
    done
    no_paths vhost-user-valgrind "${#paths[@]}" "split-hdr/vhost-user" || return
    echo "run-checks: ${#paths[@]} split-hdr vhost-user qtests, backend under valgrind"
    (cd "$QB" && QTEST_QEMU_BINARY=$QEMU \
        SPLITHDR_VHOST_USER_NET_BINARY=$wrap/vhost-user-net-split \
        timeout 1200 ./tests/qtest/qos-test --tap -k "${args[@]}") > "$log" 2>&1
    count_tap vhost-user-valgrind "$log" $? qos-test
    if grep -qsE '^==[0-9]+==' "$wrap"/vg.*.log; then
        record vhost-user-valgrind "valgrind reports" fail \
            "valgrind report in $wrap/vg.*.log"
    fi
}

run_sanitize() {
    local log=$LOGS/sanitize.log qb=$BUILD/qemu/build-sanitize
    local -a args=() paths=()
    local backend=$qb/contrib/vhost-user-net-split/vhost-user-net-split
    # The split-hdr/vhost-user tests exist only when their backend is
    # named, and then start that (sanitized) backend.
    mapfile -t paths < <(cd "$qb" && QTEST_QEMU_BINARY=./qemu-system-x86_64 \
        SPLITHDR_VHOST_USER_NET_BINARY=$backend \
        ./tests/qtest/qos-test -l | grep -E '/virtio-net|/split-hdr/')
    for p in "${paths[@]}"; do
        args+=(-p "$p")
    done
    no_paths sanitize "${#paths[@]}" "virtio-net or split-hdr" || return
    echo "run-checks: ${#paths[@]} virtio-net and split-hdr qtests under ASan+UBSan"
    # Leaks are not what this run looks for (qtest and glib keep some on
    # exit); out-of-bounds accesses and undefined behaviour are.
    # The backend reports into the same log.
    (cd "$qb" && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1 \
        SPLITHDR_VHOST_USER_NET_BINARY=$backend \
        QTEST_QEMU_BINARY=./qemu-system-x86_64 timeout 2400 \
        ./tests/qtest/qos-test --tap -k "${args[@]}") > "$log" 2>&1
    count_tap sanitize "$log" $? qos-test
    if grep -qE 'runtime error:|ERROR: AddressSanitizer' "$log"; then
        record sanitize "sanitizer reports" fail "sanitizer report in $log"
    fi
}

# libFuzzer's figures from LOG: executions, coverage, the new inputs it
# kept, crash inputs left in WORK.
fuzz_figures() {    # log work
    local stats
    stats=$(awk '/^stat::/ { sub(/^stat::/, ""); $1 = $1; printf "%s%s", sep, $0
                             sep = ", " }' "$1")
    echo "$(grep -E '#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$1" | tail -n 1 |
        sed -E 's/^#([0-9]+)[[:space:]]+[A-Z]+[[:space:]]+/\1 execs, /');" \
        "${stats:-no final stats};" \
        "crash inputs: $(find "$2" -maxdepth 1 \( -name 'crash-*' -o \
            -name 'timeout-*' -o -name 'oom-*' \) 2>/dev/null | wc -l)"
}

# One libFuzzer run of the split policy's target for SECS seconds, in
# WORK (new inputs go there, crash inputs too), after replaying its
# regression inputs.  Returns libFuzzer's status.
policy_fuzz() {     # secs work log
    local fz=$BUILD/fuzz/splithdr-fuzz-policy secs=$1 work=$2 log=$3
    local regress=$SRC/splithdr-tools/fuzz-regressions
    rm -rf "$BUILD/fuzz-corpus"
    mkdir -p "$work"
    python3 "$SRC/splithdr-tools/tests/make-fuzz-corpus.py" "$BUILD/fuzz-corpus"
    (cd "$work" && "$fz" -runs=0 "$regress" &&
        "$fz" -max_total_time="$secs" -print_final_stats=1 \
            "$work" "$BUILD/fuzz-corpus") > "$log" 2>&1
}

run_fuzz() {
    local log=$LOGS/fuzz.log work=$BUILD/fuzz-work rc
    local secs=${SPLITHDR_FUZZ_SECONDS:-60}
    echo "run-checks: fuzzing the split policy for ${secs}s"
    rm -rf "$work"
    policy_fuzz "$secs" "$work" "$log"
    rc=$?
    if [ "$rc" = 0 ]; then
        record fuzz policy pass
    else
        record fuzz policy fail "$(exit_why $rc); see $log and $work/crash-*"
    fi
    echo "run-checks: fuzz: $(fuzz_figures "$log" "$work")"
}

# One libFuzzer run of qemu-fuzz-x86_64's target TARGET for SECS seconds
# in WORK (its corpus: new inputs go there, crash inputs too), also
# reading seed directory SEEDS (may be empty), after replaying the
# target's regression inputs.  Returns libFuzzer's status.
qemu_fuzz_run() {   # target seeds secs work log
    local target=$1 seeds=$2 secs=$3 work=$4 log=$5 qb=$BUILD/qemu/build-sanitize
    local regress=$SRC/splithdr-tools/qemu-fuzz-regressions/$target
    local fuzz=("$qb/qemu-fuzz-x86_64" --fuzz-target="$target")
    mkdir -p "$work"
    qemu_fuzz_env "$target"
    (cd "$work" && export ASAN_OPTIONS=detect_leaks=0 &&
        { [ ! -d "$regress" ] || "${fuzz[@]}" -runs=0 "$regress"; } &&
        "${fuzz[@]}" -max_total_time="$secs" -timeout=30 \
            -print_final_stats=1 -print_coverage=1 "$work" $seeds) \
        > "$log" 2>&1
}

# What qemu-fuzz-x86_64's target $1 needs in its environment, and, for
# those that start from seeds, BUILD/qemu-fuzz-corpus made afresh.
qemu_fuzz_env() {
    unset QEMU_FUZZ_ARGS QEMU_FUZZ_OBJECTS
    case $1 in
    generic-fuzz)
        # generic-fuzz sees the device as a guest driver would: it writes
        # PCI config, BARs and guest memory.  In a bounded run it does not
        # get through the driver handshake to SET, hence our own target.
        # (One line: QEMU's fuzzer splits it with wordexp(), which refuses
        # newlines.)
        export QEMU_FUZZ_ARGS="-M q35 -nodefaults -netdev user,id=net0 -device virtio-net-pci,netdev=net0,split-hdr=on"
        export QEMU_FUZZ_OBJECTS="virtio*" ;;
    virtio-net-split-hdr)
        # Our qos target does the handshake and fuzzes features, SET,
        # control commands, descriptors, frames and resets, from seeds
        # that already bring the rings up.
        rm -rf "$BUILD/qemu-fuzz-corpus"
        python3 "$SRC/splithdr-tools/tests/make-qemu-fuzz-corpus.py" \
            "$BUILD/qemu-fuzz-corpus" ;;
    esac
}

qemu_fuzz_seeds() {
    case $1 in
    virtio-net-split-hdr) echo "$BUILD/qemu-fuzz-corpus" ;;
    esac
}

# A bounded run of target $1 (SPLITHDR_FUZZ_SECONDS, default 60) from an
# empty corpus: one test; prints executions, coverage and the split-hdr
# functions the run reached.
qemu_fuzz_target() {
    local target=$1 log=$LOGS/qemu-fuzz-$1.log work=$BUILD/qemu-fuzz-work/$1
    local secs=${SPLITHDR_FUZZ_SECONDS:-60} rc
    echo "run-checks: qemu-fuzz-x86_64 --fuzz-target=$target, ${secs}s"
    rm -rf "$work"
    qemu_fuzz_run "$target" "$(qemu_fuzz_seeds "$target")" "$secs" "$work" "$log"
    rc=$?
    if [ "$rc" = 0 ]; then
        record qemu-fuzz "$target" pass
    else
        record qemu-fuzz "$target" fail \
            "$(exit_why $rc); see $log and $work/crash-*"
    fi
    echo "run-checks: qemu-fuzz $target: $(fuzz_figures "$log" "$work");" \
        "split-hdr functions reached: $(awk '$1 == "COVERED_FUNC:" &&
            $6 ~ /splithdr/ { print $6 }' "$log" | sort -u | tr '\n' ' ')"
}

# The vhost-user backend's libFuzzer target, bounded the same way.
vhost_user_fuzz() {
    local log=$LOGS/fuzz-vhost-user.log rc
    echo "run-checks: vhost-user-net-split-fuzz, ${SPLITHDR_FUZZ_SECONDS:-60}s"
    "$SRC/buildsys/fuzz-vhost-user.sh" --build "$BUILD" --log "$log"
    rc=$?
    if [ "$rc" = 0 ]; then
        record qemu-fuzz vhost-user-net-split pass
    else
        record qemu-fuzz vhost-user-net-split fail \
            "$(exit_why $rc); see $log and $BUILD/vhost-user-fuzz-work/crash-*"
    fi
}

run_qemu_fuzz() {
    qemu_fuzz_target generic-fuzz
    qemu_fuzz_target virtio-net-split-hdr
    unset QEMU_FUZZ_ARGS QEMU_FUZZ_OBJECTS
    vhost_user_fuzz
}

# make fuzz-long: one target for SECS seconds, its corpus kept in
# BUILD/fuzz-long/TARGET across runs so that each run goes on where the
# last stopped.  TARGET is "policy" or a qemu-fuzz-x86_64 target.  A crash
# input stays in that directory; copy it into the target's regression
# directory (splithdr-tools/qemu-fuzz-regressions/TARGET/, or
# fuzz-regressions/ for the policy) once it is understood.
fuzz_long() {       # target secs
    local target=$1 secs=$2 work=$BUILD/fuzz-long/$1 rc t0=$SECONDS
    local log=$LOGS/fuzz-long-$1.log
    echo "run-checks: fuzz-long: $target for ${secs}s, corpus $work, log $log"
    if [ "$target" = policy ]; then
        policy_fuzz "$secs" "$work" "$log"
    else
        qemu_fuzz_run "$target" "$(qemu_fuzz_seeds "$target")" "$secs" \
            "$work" "$log"
    fi
    rc=$?
    echo "run-checks: fuzz-long $target, $((SECONDS - t0)) s: $(fuzz_figures "$log" "$work")"
    echo "run-checks: fuzz-long $target: corpus of $(find "$work" -maxdepth 1 -type f \
        ! -name 'crash-*' ! -name 'timeout-*' ! -name 'oom-*' | wc -l) inputs"
    if [ "$target" != policy ]; then
        echo "run-checks: fuzz-long $target: split-hdr functions reached:" \
            "$(awk '$1 == "COVERED_FUNC:" && $6 ~ /splithdr/ { print $6 }' \
                "$log" | sort -u | tr '\n' ' ')"
    fi
    if [ "$rc" != 0 ]; then
        echo "run-checks: fuzz-long $target: FAIL: $(exit_why $rc);" \
            "inputs: $(ls "$work"/crash-* "$work"/timeout-* "$work"/oom-* 2>/dev/null | tr '\n' ' ')"
        return 1
    fi
}

run_tools() {
    local log=$LOGS/tools.log
    echo "run-checks: splithdr-classify on a capture of known frames"
    python3 "$SRC/splithdr-tools/tests/classify-test.py" \
        "$BUILD/tools/splithdr-classify" > "$log" 2>&1
    count_tap tools "$log" $? classify-test.py
}

# One guest boot (guest/run-guest.sh with the options given), counted as
# one test: log BUILD/check-logs/guest-NAME.log, serial console
# guest-NAME.console.  The kernel runs with loglevel=5 so that warnings
# reach the console despite 'quiet', and any oops, BUG, WARNING, general
# protection fault or call trace there fails the test.
# SPLITHDR_GUEST_IMAGE picks another guest image than BUILD/guest.
guest_case() {  # name run-guest-options...
    local name=$1 log=$LOGS/guest-$1.log con=$LOGS/guest-$1.console why='' bad
    shift
    if ! "$SRC/guest/run-guest.sh" --qemu "$QEMU" \
        --image "${SPLITHDR_GUEST_IMAGE:-$BUILD/guest}" --timeout 120 \
        --log "$con" "$@" > "$log" 2>&1; then
        why=$(tail -n 1 "$log")
    fi
    if [ -f "$con" ] &&
        bad=$(tr -d '\r' < "$con" | grep -a -m1 -E 'Oops|BUG:|WARNING:|general protection|Call Trace'); then
        why="kernel: $bad${why:+; $why}"
    fi
    if [ -z "$why" ]; then
        record guest "$name" pass
        echo "run-checks: guest $name: $(tail -n 1 "$log")"
    else
        record guest "$name" fail "$why"
        echo "run-checks: guest $name: FAIL: $why"
    fi
}

# A guest-split-* case: the patched virtio_net (guest.driver=split) on a
# split-hdr device with id nic0 over slirp, job guest/jobs/split-CASE.sh,
# then guest/split-check.py CASE over QMP while the guest holds.
split_case() {  # case split-hdr=on|off
    local qmp
    qmp=$(mktemp -u "${TMPDIR:-/tmp}/guest-split-$1.XXXXXX.qmp")
    guest_case "split-$1" --job "split-$1" \
        --device "virtio-net-pci,netdev=n0,romfile=,split-hdr=$2,id=nic0" \
        --append "guest.driver=split loglevel=5" --qmp-socket "$qmp" \
        --on-done "python3 '$SRC/guest/split-check.py' $1"
    rm -f "$qmp"
}

run_guest() {
    local p0=$passed f0=$failed t0=$SECONDS
    echo "run-checks: guest, one TCG guest per case on slirp (~15 s per case)"
    # Debian's stock virtio_net on a split-hdr=on device: it negotiates
    # nothing it does not know, so the device must stay classic.
    guest_case stock --job netcheck --append loglevel=5 \
        --device 'virtio-net-pci,netdev=n0,romfile=,split-hdr=on'
    # The patched driver (guest/linux/patches): DHCP, ping, ARP, HTTP with
    # the ring, guest and device counters equal.
    split_case net on
    # ... and on a device without the feature: classic, as before.
    split_case classic off
    # XDP refused while a ring is set, taken without one; AF_XDP zerocopy.
    split_case xdp on
    # System sleep: freeze resets the device, restore sets the ring again.
    split_case suspend on
    # rmmod: reset, then the ring freed; the device has no ring left.
    split_case rmmod on
    echo "run-checks: guest: $((passed - p0)) passed, $((failed - f0)) failed in $((SECONDS - t0)) s"
}

# One e2e case: guest/e2e-tcp-mmap.sh with the options given, counted as
# one test; its log is BUILD/check-logs/e2e-NAME.log (consoles, counters in
# e2e-NAME/).  SPLITHDR_E2E_IMAGE picks another guest image than
# BUILD/guest.
e2e_case() {    # name e2e-options...
    local name=$1 log=$LOGS/e2e-$1.log t0=$SECONDS
    shift
    if "$SRC/guest/e2e-tcp-mmap.sh" --qemu "$QEMU" \
        --image "${SPLITHDR_E2E_IMAGE:-$BUILD/guest}" \
        --timeout 240 --log-dir "$LOGS/e2e-$name" --result "$LOGS/e2e-$name.result" \
        "$@" > "$log" 2>&1; then
        record "${E2E_SUITE:-e2e}" "$name" pass
    else
        record "${E2E_SUITE:-e2e}" "$name" fail "$(tail -n 1 "$log")"
    fi
    echo "run-checks: e2e $name ($((SECONDS - t0)) s): $(tail -n 1 "$log")"
}

# A case that cannot run here: counted as a skip, never as a pass.
e2e_skip() {    # name reason
    record "${E2E_SUITE:-e2e}" "$1" skip "$2"
    echo "run-checks: e2e $1: SKIP: $2"
}

run_e2e() {
    local p0=$passed f0=$failed s0=$skipped t0=$SECONDS
    # The receiver with tcp_mmap -i is slower than the link under TCG: an
    # unpaced sender closes the window, and its zero-window probes leave
    # partial pages that cannot be mapped.  16 MB/s stays below it.
    local zc=(--driver split -z -i --pace 16000000 --size 128M)
    local fault=split-hdr=on,x-split-hdr-fault-interval=3000,x-split-hdr-fault
    echo "run-checks: e2e, tcp_mmap between two TCG guests (10 cases, ~3.5 min)"
    # Plumbing: the stock driver on both ends over a split-hdr=on device
    # that it never configures, so nothing may be mapped and the device
    # must never split; the whole 256 MiB must arrive with the right
    # SHA256, on both IP versions.
    e2e_case stock-v4 --family 4 --driver stock --check-counters
    e2e_case stock-v6 --family 6 --driver stock --check-counters
    # The patched driver: a header ring on the queue, payload mapped; the
    # device's split/inline counts equal the driver's, no slot error.
    e2e_case split-zc-v4 --family 4 "${zc[@]}" --min-mmap 99.9 \
        --check-counters --expect-data-split on
    e2e_case split-zc-v6 --family 6 "${zc[@]}" --min-mmap 99.9 \
        --check-counters --expect-data-split on
    # The patched driver on a device without the feature: classic receive.
    e2e_case split-classic-device --driver split -z -i --size 128M \
        --rx-props split-hdr=off --check-counters --expect-data-split n/a
    # ethtool -G under traffic: each resize resets the queue, the driver
    # sets the ring again; the packets the device had placed in the queue
    # are dropped, counted from the slots in reset_drops (TCP resends
    # them): device delivered = driver took + reset_drops, exactly.
    e2e_case split-resize "${zc[@]}" --resize 128,256 --check-counters \
        --expect-data-split on
    # Test faults, about 5 per run: the driver drops the packet, counts it,
    # resets the queue (counting what the reset throws away), sets the
    # ring again; TCP resends.
    e2e_case fault-seq "${zc[@]}" --size 64M --rx-props "$fault=seq" \
        --check-counters --expect-data-split on
    e2e_case fault-hdr-len "${zc[@]}" --size 64M --rx-props "$fault=hdr-len" \
        --check-counters --expect-data-split on
    e2e_case fault-flag-no-ring "${zc[@]}" --size 64M \
        --vnet-args split_hdr_proto=0 --rx-props "$fault=flag-no-ring" \
        --check-counters --expect-data-split off
    # A tap peer (GSO frames: a 64 KiB segment is split once, its payload
    # in 16 pages), two queues with RSS and hash report (a 20-byte virtio
    # header in each slot; the driver uses the hash), a ring on every
    # queue, the indirection table sending the flow to queue 1.
    if [ "$(id -u)" = 0 ]; then
        e2e_case tap-mq-hash-gso "${zc[@]}" --net tap --rx-queues 2 \
            --rx-props split-hdr=on,rss=on,hash=on \
            --rx-ethtool '-K eth0 rxhash on; -X eth0 weight 0 1' \
            --min-mmap 99.9 --check-counters --data-queue 1 \
            --min-payload-per-packet 16384 --expect-data-split on
    else
        e2e_skip tap-mq-hash-gso "needs root for tap devices in a network namespace"
    fi
    echo "run-checks: e2e: $((passed - p0)) passed, $((failed - f0)) failed," \
        "$((skipped - s0)) skipped in $((SECONDS - t0)) s"
}

# The receiver on the KASAN kernel (make guest-kasan: build/guest-kasan,
# allnoconfig + guest/linux/kasan.config, the patched virtio_net built in;
# e2e puts --vnet-args on its command line as virtio_net.NAME=VAL).  The
# test faults drive the driver's error paths (drop, count, reset the
# queue, count what the reset threw away, set the ring again) under
# KASAN, and e2e fails on any KASAN report, oops, BUG, WARNING or call
# trace on the receiver's console.  First a positive control: lkdtm
# writes past a kmalloc()ed object at boot, and KASAN must report it.
run_e2e_kasan() {
    local p0=$passed f0=$failed t0=$SECONDS img=$BUILD/guest-kasan
    local log=$LOGS/e2e-kasan-control.log con=$LOGS/e2e-kasan-control.console
    local k=(--rx-image "$img" --driver split -z -i --pace 16000000 --size 64M)
    local fault=split-hdr=on,x-split-hdr-fault-interval=500,x-split-hdr-fault
    # e2e_case records under this suite (dynamic scope), not under e2e.
    local E2E_SUITE=e2e-kasan
    echo "run-checks: e2e-kasan, the receiver on a KASAN kernel (a boot and 4 cases, ~1.5 min)"
    if [ ! -s "$img/vmlinuz" ] || [ ! -s "$img/initramfs.gz" ]; then
        record e2e-kasan "guest image" fail "no $img (make guest-kasan)"
        echo "run-checks: e2e-kasan: FAIL: no $img (make guest-kasan)"
        return
    fi
    "$SRC/guest/run-guest.sh" --qemu "$QEMU" --image "$img" --job netcheck \
        --timeout 120 --log "$con" \
        --append 'loglevel=5 lkdtm.cpoint_name=DIRECT lkdtm.cpoint_type=SLAB_LINEAR_OVERFLOW' \
        > "$log" 2>&1
    if tr -d '\r' < "$con" |
        grep -a 'BUG: KASAN: slab-out-of-bounds in lkdtm_SLAB_LINEAR_OVERFLOW' > /dev/null; then
        record e2e-kasan kasan-control pass
        echo "run-checks: e2e kasan-control: KASAN reported lkdtm's slab overflow"
    else
        record e2e-kasan kasan-control fail \
            "no KASAN report of lkdtm's slab overflow in $con"
        echo "run-checks: e2e kasan-control: FAIL: no KASAN report of lkdtm's slab overflow ($(tail -n 1 "$log"))"
    fi
    e2e_case kasan-split "${k[@]}" --min-mmap 99.9 --check-counters \
        --expect-data-split on
    e2e_case kasan-fault-seq "${k[@]}" --rx-props "$fault=seq" \
        --check-counters --expect-data-split on
    e2e_case kasan-fault-hdr-len "${k[@]}" --rx-props "$fault=hdr-len" \
        --check-counters --expect-data-split on
    e2e_case kasan-fault-flag-no-ring "${k[@]}" --vnet-args split_hdr_proto=0 \
        --rx-props "$fault=flag-no-ring" --check-counters --expect-data-split off
    echo "run-checks: e2e-kasan: $((passed - p0)) passed, $((failed - f0)) failed in $((SECONDS - t0)) s"
}

run_checkpatch() {
    local log=$LOGS/checkpatch.log p f rc
    echo "run-checks: checkpatch --strict on guest/linux/patches"
    "$SRC/guest/linux/checkpatch.sh" "$BUILD/linux" > "$log" 2>&1
    rc=$?
    p=$(grep -c '^checkpatch: .*: clean (' "$log")
    f=$(grep -c '^checkpatch: .*: NOT clean (\|^checkpatch: .*: checkpatch.pl printed no summary' "$log")
    while IFS= read -r line; do
        line=${line#checkpatch: }
        record checkpatch "${line%%: *}" pass
    done < <(grep '^checkpatch: .*: clean (' "$log")
    while IFS= read -r line; do
        line=${line#checkpatch: }
        record checkpatch "${line%%: *}" fail "${line#*: }"
    done < <(grep '^checkpatch: .*: NOT clean (\|printed no summary' "$log")
    # The script's own status counts too, and so does checking nothing.
    if grep -q '^checkpatch: error:' "$log"; then
        record checkpatch checkpatch.sh fail \
            "$(grep -m1 '^checkpatch: error:' "$log")"
    elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        record checkpatch checkpatch.sh fail "$(exit_why $rc) (log: $log)"
    elif [ $((p + f)) = 0 ]; then
        record checkpatch checkpatch.sh fail "no patch checked (log: $log)"
    fi
    echo "run-checks: checkpatch: $p passed, $f failed (log: $log)"
}

# A TAP runner given on the command line (--suite tap:PROGRAM): the suite
# is PROGRAM's name.  The selftest runs its fake runners this way.
run_tap_program() {
    local prog=$1 name log
    name=tap:$(basename "$prog")
    log=$LOGS/$(basename "$prog").log
    "$prog" > "$log" 2>&1
    count_tap "$name" "$log" $? "$(basename "$prog")"
}

# The accounting above, checked on fake runners: each case runs this
# script on one of them (in BUILD/selftest) and checks its exit status
# and the line that says why.  Seconds; a regression of the accounting
# fails make check.
selftest_case() {   # name expect-status expect-line as-root script-body
    local name=$1 want=$2 line=$3 root=$4 body=$5 d=$BUILD/selftest/$1 rc out
    rm -rf "$d"
    mkdir -p "$d"
    printf '#!/bin/bash\n%s\n' "$body" > "$d/fake"
    chmod +x "$d/fake"
    out=$(RUN_CHECKS_SELFTEST_ROOT=$root bash "$0" --build "$d" \
          --suite tap:"$d/fake" --suite tap:"$d/fake" 2>&1)
    rc=$?
    if [ "$rc" = "$want" ] && grep -qF -- "$line" <<< "$out"; then
        record selftest "$name" pass
    else
        record selftest "$name" fail \
            "exit $rc (want $want), no line \"$line\" in: $(tr '\n' '|' <<< "$out")"
    fi
}

run_selftest() {
    local two='echo 1..2; echo ok 1 /a; echo ok 2 /b'
    echo "run-checks: selftest: the accounting on fake runners"
    selftest_case good 0 "2 passed, 0 failed, 0 skipped (2 distinct tests; 4 runs" 0 \
        "$two"
    selftest_case plan-after-each-path 0 "3 passed, 0 failed, 0 skipped" 0 \
        'echo ok 1 /a; echo 1..1; echo 1..0; echo ok 2 /b; echo 1..2; echo ok 3 /c; echo 1..3'
    selftest_case dies-before-plan 1 "FAILED: tap:fake: runner fake: no TAP plan" 0 \
        'echo "building the graph" >&2; kill -SEGV $$'
    selftest_case dies-after-ok 1 "stopped after 1 of 3 results; killed by signal 6 (ABRT)" 0 \
        'echo 1..3; echo ok 1 /a; kill -ABRT $$'
    selftest_case exit-1-after-oks 1 "runner fake: exited with status 1" 0 \
        "$two; exit 1"
    selftest_case timeout 1 "runner fake: timed out" 0 "$two; exit 124"
    selftest_case bail-out 1 "runner fake: Bail out! no device" 0 \
        'echo 1..2; echo ok 1 /a; echo "Bail out! no device"; echo ok 2 /b'
    selftest_case too-many 1 "3 results for a plan of 2" 0 "$two; echo ok 3 /c"
    selftest_case not-ok 1 "FAILED: tap:fake: /b: broken" 0 \
        'echo 1..2; echo ok 1 /a; echo "not ok 2 /b: broken"; exit 1'
    selftest_case skip-as-user 0 "SKIPPED tap:fake: /b: needs root" 0 \
        'echo 1..2; echo ok 1 /a; echo "ok 2 /b # SKIP needs root"'
    selftest_case skip-as-root 1 "FAILED: tap:fake: /b: skipped as root, where it must run (needs root)" 1 \
        'echo 1..2; echo ok 1 /a; echo "ok 2 /b # SKIP needs root"'
    selftest_case skip-only-once 0 "1 passed, 0 failed, 1 skipped (2 distinct tests; 4 runs" 0 \
        'echo 1..2; echo ok 1 /a; echo "ok 2 /b # SKIP needs root"'
    selftest_fuzz
}

# The fuzz suite on a fake policy fuzzer that replays its regression
# inputs cleanly, then "crashes": the suite must fail and name why.
selftest_fuzz() {
    local d=$BUILD/selftest/fuzz-crash rc out
    local want="FAILED: fuzz: policy: exited with status 1"
    rm -rf "$d"
    mkdir -p "$d/fuzz"
    printf '#!/bin/sh\ncase "$*" in *-runs=0*) exit 0 ;; esac\n%s\n' \
        'echo "#7 DONE cov: 5 ft: 6"; : > crash-fake; exit 1' \
        > "$d/fuzz/splithdr-fuzz-policy"
    chmod +x "$d/fuzz/splithdr-fuzz-policy"
    out=$(RUN_CHECKS_SELFTEST_ROOT=0 SPLITHDR_FUZZ_SECONDS=1 bash "$0" --build "$d" \
          --suite fuzz 2>&1)
    rc=$?
    if [ "$rc" = 1 ] && grep -qF -- "$want" <<< "$out" &&
        grep -qF "crash inputs: 1" <<< "$out"; then
        record selftest fuzz-crash pass
    else
        record selftest fuzz-crash fail \
            "exit $rc (want 1), no line \"$want\" in: $(tr '\n' '|' <<< "$out")"
    fi
}

if [ -n "$FUZZ_LONG" ]; then
    fuzz_long "$FUZZ_LONG" "${FUZZ_LONG_SECONDS:-3600}"
    exit
fi

for s in "${SUITES[@]}"; do
    case $s in
    qos) run_qos ;;
    qos-split-on) run_qos_split_on ;;
    vhost-user-valgrind) run_vhost_user_valgrind ;;
    tools) run_tools ;;
    sanitize) run_sanitize ;;
    fuzz) run_fuzz ;;
    qemu-fuzz) run_qemu_fuzz ;;
    guest) run_guest ;;
    e2e) run_e2e ;;
    e2e-kasan) run_e2e_kasan ;;
    checkpatch) run_checkpatch ;;
    selftest) run_selftest ;;
    tap:*) run_tap_program "${s#tap:}" ;;
    *) echo "run-checks: no suite $s" >&2; exit 2 ;;
    esac
done

# Per suite, every run; then the tests once each: a test that several
# suites run (a qtest path on the normal and the sanitizer build, or
# with split-hdr=on) is one test, failed if any run failed, skipped if
# every run skipped.
echo "run-checks: results per suite (runs):"
for s in ${SUITES_RUN[@]+"${SUITES_RUN[@]}"}; do
    printf 'run-checks:   %-22s %5d passed %5d failed %5d skipped\n' \
        "$s" "${SUITE_P[$s]}" "${SUITE_F[$s]}" "${SUITE_S[$s]}"
done
read -r d_total d_pass d_fail d_skip < <(awk -F '\t' '
    { if ($2 ~ /^runner /) $2 = $1 ": " $2; seen[$2] = 1 }
    $3 == "fail" { bad[$2] = 1 }
    $3 == "pass" { good[$2] = 1 }
    END {
        for (t in seen) {
            n++
            if (t in bad) f++; else if (t in good) p++; else s++
        }
        print n + 0, p + 0, f + 0, s + 0
    }' "$RESULTS")
if [ "$skipped" -gt 0 ]; then
    echo "run-checks: ================================================================"
    echo "run-checks: $skipped SKIPPED: these did not test anything (as root they fail):"
    for s in "${skips[@]}"; do
        echo "SKIPPED $s"
    done
    echo "run-checks: ================================================================"
fi
for f in ${failures[@]+"${failures[@]}"}; do
    echo "FAILED: $f"
done
echo "$d_pass passed, $d_fail failed, $d_skip skipped" \
    "($d_total distinct tests; $((passed + failed + skipped)) runs in" \
    "${#SUITES_RUN[@]} suites: $passed passed, $failed failed, $skipped skipped)"
[ "$failed" = 0 ]
