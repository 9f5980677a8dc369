#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run every test of the fork and end with one line "N passed, N failed".
#
#   buildsys/run-checks.sh --build BUILD [--suite NAME]...
#
# Suites:
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
# Each qtest path, each guest boot, each e2e case and each patch count as
# one test.  Logs go to BUILD/check-logs/.
set -uo pipefail

BUILD=
SUITES=()
while [ $# -gt 0 ]; do
    case $1 in
    --build) BUILD=$2; shift 2 ;;
    --suite) SUITES+=("$2"); shift 2 ;;
    *) echo "run-checks: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$BUILD" ] || { echo "usage: $0 --build BUILD" >&2; exit 2; }
[ ${#SUITES[@]} -gt 0 ] || SUITES=(qos qos-split-on vhost-user-valgrind sanitize tools fuzz qemu-fuzz guest e2e e2e-kasan checkpatch)
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
QB=$BUILD/qemu/build
QEMU=$QB/qemu-system-x86_64
LOGS=$BUILD/check-logs
mkdir -p "$LOGS"

passed=0
failed=0
skipped=0
failures=()

# Count a TAP stream's results; remember the names of failures.
count_tap() {
    local suite=$1 log=$2 p f s
    p=$(grep -E '^ok ' "$log" | grep -vc '# SKIP')
    s=$(grep -E '^ok .*# SKIP' -c "$log")
    f=$(grep -cE '^not ok ' "$log")
    passed=$((passed + p))
    skipped=$((skipped + s))
    failed=$((failed + f))
    while IFS= read -r line; do
        failures+=("$suite: ${line#not ok }")
    done < <(grep -E '^not ok ' "$log")
    echo "run-checks: $suite: $p passed, $f failed, $s skipped (log: $log)"
    # A crashed runner leaves fewer results than its plan promised, and
    # one that never ran leaves no plan at all.
    local plan
    plan=$(grep -m1 -E '^1\.\.[0-9]+' "$log" | cut -d. -f3)
    if [ -z "$plan" ] && [ $((p + f + s)) -eq 0 ]; then
        failed=$((failed + 1))
        failures+=("$suite: no results (see $log)")
    fi
    if [ -n "$plan" ] && [ $((p + f + s)) -lt "$plan" ]; then
        failed=$((failed + 1))
        failures+=("$suite: runner stopped after $((p + f + s)) of $plan")
    fi
}

run_qos() {
    local log=$LOGS/qos.log
    echo "run-checks: qos-test, all paths (about 1.5 min)"
    # split-hdr/vhost-user/* start our vhost-user backend as a process.
    (cd "$QB" && QTEST_QEMU_BINARY=$QEMU \
        SPLITHDR_VHOST_USER_NET_BINARY=$QB/contrib/vhost-user-net-split/vhost-user-net-split \
        timeout 1200 ./tests/qtest/qos-test --tap -k) > "$log" 2>&1
    count_tap qos "$log"
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
    echo "run-checks: qos-test, ${#paths[@]} virtio-net paths with split-hdr=on"
    (cd "$QB" && QTEST_QEMU_BINARY=$wrap/qemu-system-x86_64 timeout 1200 \
        ./tests/qtest/qos-test --tap -k "${args[@]}") > "$log" 2>&1
    count_tap qos-split-on "$log"
    # The vhost-user paths must have dropped the feature, saying why.
    if grep -q 'split-hdr=on is not offered: the vhost backend' "$log"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("qos-split-on: no warning that vhost-user drops split-hdr")
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
    echo "run-checks: ${#paths[@]} split-hdr vhost-user qtests, backend under valgrind"
    (cd "$QB" && QTEST_QEMU_BINARY=$QEMU \
        SPLITHDR_VHOST_USER_NET_BINARY=$wrap/vhost-user-net-split \
        timeout 1200 ./tests/qtest/qos-test --tap -k "${args[@]}") > "$log" 2>&1
    count_tap vhost-user-valgrind "$log"
    if grep -qsE '^==[0-9]+==' "$wrap"/vg.*.log; then
        failed=$((failed + 1))
        failures+=("vhost-user-valgrind: valgrind report in $wrap/vg.*.log")
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
    echo "run-checks: ${#paths[@]} virtio-net and split-hdr qtests under ASan+UBSan"
    # Leaks are not what this run looks for (qtest and glib keep some on
    # exit); out-of-bounds accesses and undefined behaviour are.
    # The backend reports into the same log.
    (cd "$qb" && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1 \
        SPLITHDR_VHOST_USER_NET_BINARY=$backend \
        QTEST_QEMU_BINARY=./qemu-system-x86_64 timeout 2400 \
        ./tests/qtest/qos-test --tap -k "${args[@]}") > "$log" 2>&1
    count_tap sanitize "$log"
    if grep -qE 'runtime error:|ERROR: AddressSanitizer' "$log"; then
        failed=$((failed + 1))
        failures+=("sanitize: sanitizer report in $log")
    fi
}

run_fuzz() {
    local log=$LOGS/fuzz.log fz=$BUILD/fuzz/splithdr-fuzz-policy
    local secs=${SPLITHDR_FUZZ_SECONDS:-60} work=$BUILD/fuzz-work
    local regress=$SRC/splithdr-tools/fuzz-regressions
    echo "run-checks: fuzzing the split policy for ${secs}s"
    rm -rf "$BUILD/fuzz-corpus" "$work"
    mkdir -p "$work"
    python3 "$SRC/splithdr-tools/tests/make-fuzz-corpus.py" "$BUILD/fuzz-corpus"
    if (cd "$work" && "$fz" -runs=0 "$regress" &&
        "$fz" -max_total_time="$secs" -print_final_stats=1 \
            "$work" "$BUILD/fuzz-corpus") > "$log" 2>&1; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("fuzz: crash, see $log and $work/crash-*")
    fi
    echo "run-checks: fuzz: $(grep -E 'DONE' "$log" | tail -n 1)" \
        "$(grep -h number_of_executed_units "$log" | tail -n 1)"
}

# One bounded libFuzzer run of qemu-fuzz-x86_64's target $1 from seed
# directory $2 (may be empty): the target's regression inputs once, then
# SPLITHDR_FUZZ_SECONDS.  Counts one test; prints executions and the
# split-hdr functions the run reached.
qemu_fuzz_target() {
    local target=$1 seeds=$2 qb=$BUILD/qemu/build-sanitize
    local log=$LOGS/qemu-fuzz-$target.log work=$BUILD/qemu-fuzz-work/$target
    local secs=${SPLITHDR_FUZZ_SECONDS:-60}
    local regress=$SRC/splithdr-tools/qemu-fuzz-regressions/$target
    local fuzz=("$qb/qemu-fuzz-x86_64" --fuzz-target="$target")
    echo "run-checks: qemu-fuzz-x86_64 --fuzz-target=$target, ${secs}s"
    rm -rf "$work"
    mkdir -p "$work"
    if (cd "$work" && export ASAN_OPTIONS=detect_leaks=0 &&
        { [ ! -d "$regress" ] || "${fuzz[@]}" -runs=0 "$regress"; } &&
        "${fuzz[@]}" -max_total_time="$secs" -timeout=30 \
            -print_final_stats=1 -print_coverage=1 "$work" $seeds) \
        > "$log" 2>&1; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("qemu-fuzz $target: crash, see $log and $work/crash-*")
    fi
    echo "run-checks: qemu-fuzz $target: $(grep -E 'DONE' "$log" | tail -n 1)" \
        "$(grep -h number_of_executed_units "$log" | tail -n 1);" \
        "split-hdr functions reached: $(awk '$1 == "COVERED_FUNC:" &&
            $6 ~ /splithdr/ { print $6 }' "$log" | sort -u | tr '\n' ' ')"
}

run_qemu_fuzz() {
    # generic-fuzz sees the device as a guest driver would: it writes PCI
    # config, BARs and guest memory.  In a bounded run it does not get
    # through the driver handshake to SET, hence the second target.
    # (One line: QEMU's fuzzer splits it with wordexp(), which refuses
    # newlines.)
    export QEMU_FUZZ_ARGS="-M q35 -nodefaults -netdev user,id=net0 -device virtio-net-pci,netdev=net0,split-hdr=on"
    export QEMU_FUZZ_OBJECTS="virtio*"
    qemu_fuzz_target generic-fuzz ""
    unset QEMU_FUZZ_ARGS QEMU_FUZZ_OBJECTS
    # Our qos target does the handshake and fuzzes features, SET, control
    # commands, descriptors, frames and resets, from seeds that already
    # bring the rings up.
    local seeds=$BUILD/qemu-fuzz-corpus
    rm -rf "$seeds"
    python3 "$SRC/splithdr-tools/tests/make-qemu-fuzz-corpus.py" "$seeds"
    qemu_fuzz_target virtio-net-split-hdr "$seeds"
}

run_tools() {
    local log=$LOGS/tools.log
    echo "run-checks: splithdr-classify on a capture of known frames"
    python3 "$SRC/splithdr-tools/tests/classify-test.py" \
        "$BUILD/tools/splithdr-classify" > "$log" 2>&1
    count_tap tools "$log"
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
        passed=$((passed + 1))
        echo "run-checks: guest $name: $(tail -n 1 "$log")"
    else
        failed=$((failed + 1))
        failures+=("guest $name: $why")
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
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("e2e $name: $(tail -n 1 "$log")")
    fi
    echo "run-checks: e2e $name ($((SECONDS - t0)) s): $(tail -n 1 "$log")"
}

# A case that cannot run here: counted as a skip, never as a pass.
e2e_skip() {    # name reason
    skipped=$((skipped + 1))
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
    echo "run-checks: e2e-kasan, the receiver on a KASAN kernel (a boot and 4 cases, ~1.5 min)"
    if [ ! -s "$img/vmlinuz" ] || [ ! -s "$img/initramfs.gz" ]; then
        failed=$((failed + 1))
        failures+=("e2e-kasan: no $img (make guest-kasan)")
        echo "run-checks: e2e-kasan: FAIL: no $img (make guest-kasan)"
        return
    fi
    "$SRC/guest/run-guest.sh" --qemu "$QEMU" --image "$img" --job netcheck \
        --timeout 120 --log "$con" \
        --append 'loglevel=5 lkdtm.cpoint_name=DIRECT lkdtm.cpoint_type=SLAB_LINEAR_OVERFLOW' \
        > "$log" 2>&1
    if tr -d '\r' < "$con" |
        grep -a 'BUG: KASAN: slab-out-of-bounds in lkdtm_SLAB_LINEAR_OVERFLOW' > /dev/null; then
        passed=$((passed + 1))
        echo "run-checks: e2e kasan-control: KASAN reported lkdtm's slab overflow"
    else
        failed=$((failed + 1))
        failures+=("e2e kasan-control: no KASAN report of lkdtm's slab overflow in $con")
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
    local log=$LOGS/checkpatch.log p f
    echo "run-checks: checkpatch --strict on guest/linux/patches"
    "$SRC/guest/linux/checkpatch.sh" "$BUILD/linux" > "$log" 2>&1
    p=$(grep -c '^checkpatch: .*: clean (' "$log")
    f=$(grep -c '^checkpatch: .*: NOT clean (\|^checkpatch: .*: checkpatch.pl printed no summary' "$log")
    passed=$((passed + p))
    failed=$((failed + f))
    while IFS= read -r line; do
        failures+=("checkpatch: ${line#checkpatch: }")
    done < <(grep '^checkpatch: .*: NOT clean (\|printed no summary' "$log")
    if grep -q '^checkpatch: error:' "$log"; then
        failed=$((failed + 1))
        failures+=("checkpatch: $(grep -m1 '^checkpatch: error:' "$log")")
    fi
    echo "run-checks: checkpatch: $p passed, $f failed (log: $log)"
}

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
    *) echo "run-checks: no suite $s" >&2; exit 2 ;;
    esac
done

for f in "${failures[@]}"; do
    echo "FAILED: $f"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
