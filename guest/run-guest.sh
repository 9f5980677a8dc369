#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Boot the test guest (guest/build-image.sh) under QEMU with TCG, stream
# its console, and judge the job from the "GUEST: " marker lines.
#
#   guest/run-guest.sh --qemu BIN --image OUTDIR [--job netcheck]
#       [--timeout 120] [--qmp-socket PATH] [--on-done CMD]
#       [--extra-args 'QEMU ARGS'] [--append 'KERNEL ARGS']
#       [--device 'virtio-net-pci,netdev=n0,...' | --device none]
#       [--netdev 'user,id=n0'] [--log FILE]
#
# --on-done CMD (or $GUEST_ON_DONE) runs through sh once the guest prints
# "GUEST: job ... done"; the guest is told to hold (guest.hold=1) so QEMU
# is still up, and CMD sees QMP_SOCKET, GUEST_LOG and QEMU_PID.  Then, if
# --qmp-socket was given, QEMU is sent "quit".
# --extra-args is split on whitespace (no quoting): use it for -L DIR etc.
# --append adds to the kernel command line; later guest.KEY= wins there.
#
# Exit status 0 only if the guest printed "GUEST: job JOB done rc=0" (and
# --on-done, if any, succeeded).  The last line is a one-line verdict.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
QEMU='' IMAGE='' JOB=netcheck TIMEOUT=120 QMP='' ON_DONE=${GUEST_ON_DONE:-}
EXTRA='' APPEND='' DEVICE='virtio-net-pci,netdev=n0,romfile=' NETDEV='user,id=n0'
LOG=''

usage() { sed -n '5,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
    --qemu) QEMU=$2; shift 2 ;;
    --image) IMAGE=$2; shift 2 ;;
    --job) JOB=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --qmp-socket) QMP=$2; shift 2 ;;
    --on-done) ON_DONE=$2; shift 2 ;;
    --extra-args) EXTRA=$2; shift 2 ;;
    --append) APPEND=$2; shift 2 ;;
    --device) DEVICE=$2; shift 2 ;;
    --netdev) NETDEV=$2; shift 2 ;;
    --log) LOG=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run-guest: unknown argument '$1'" >&2; usage ;;
    esac
done
{ [ -n "$QEMU" ] && [ -n "$IMAGE" ]; } || usage
[ -x "$QEMU" ] || { echo "run-guest: '$QEMU' is not executable" >&2; exit 2; }
for f in vmlinuz initramfs.gz; do
    [ -s "$IMAGE/$f" ] || { echo "run-guest: no $IMAGE/$f (run guest/build-image.sh $IMAGE)" >&2; exit 2; }
done
case $TIMEOUT in ''|*[!0-9]*) echo "run-guest: bad --timeout" >&2; exit 2 ;; esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/run-guest.XXXXXX")
[ -n "$LOG" ] || LOG="$TMP/console.log"
: > "$LOG"
HTTP_PID='' QEMU_PID='' TAIL_PID=''
# shellcheck disable=SC2317 # called from the trap
cleanup() {
    for p in $QEMU_PID $HTTP_PID $TAIL_PID; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

verdict() { # rc text
    echo "run-guest: $([ "$1" = 0 ] && echo PASS || echo FAIL): $2"
    exit "$1"
}

# --- host HTTP server the guest fetches from (via slirp's 10.0.2.2) -----
TOKEN=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
mkdir "$TMP/www"
echo "$TOKEN" > "$TMP/www/hello.txt"
# Port 0: the kernel picks a free port, the server prints which (-u: now).
# The log exists before the loop below reads it, not only once the
# background job has opened it.
: > "$TMP/http.log"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$TMP/www" \
    > "$TMP/http.log" 2>&1 &
HTTP_PID=$!
PORT=
for _ in $(seq 50); do
    PORT=$(sed -n 's/^Serving HTTP on [^ ]* port \([0-9]*\).*/\1/p' "$TMP/http.log")
    [ -n "$PORT" ] && break
    kill -0 "$HTTP_PID" 2>/dev/null || break
    sleep 0.1
done
[ -n "$PORT" ] || { cat "$TMP/http.log" >&2; verdict 2 "could not start the HTTP server"; }

# --- QEMU ------------------------------------------------------------------
CMDLINE="console=ttyS0 panic=-1 quiet guest.job=$JOB guest.http_port=$PORT guest.token=$TOKEN"
[ -n "$ON_DONE" ] && CMDLINE="$CMDLINE guest.hold=1"
[ -n "$APPEND" ] && CMDLINE="$CMDLINE $APPEND"
args=(-accel tcg -M q35 -m 512 -smp 1 -nodefaults -no-user-config
      -display none -serial "file:$LOG" -no-reboot
      -kernel "$IMAGE/vmlinuz" -initrd "$IMAGE/initramfs.gz"
      -append "$CMDLINE" -netdev "$NETDEV")
[ "$DEVICE" != none ] && args+=(-device "$DEVICE")
[ -n "$QMP" ] && { rm -f "$QMP"; args+=(-qmp "unix:$QMP,server=on,wait=off"); }
# shellcheck disable=SC2206 # split on purpose: plain QEMU options
[ -n "$EXTRA" ] && args+=($EXTRA)

echo "run-guest: $(printf '%q ' "$QEMU" "${args[@]}")"
START=$(date +%s.%N)
"$QEMU" "${args[@]}" < /dev/null > "$TMP/qemu.out" 2>&1 &
QEMU_PID=$!
# The console, prefixed, as it arrives; the serial line ends in \r\n.
tail -n +1 -F --pid="$QEMU_PID" "$LOG" 2>/dev/null |
    sed -u -e 's/\r$//' -e 's/^/  guest| /' &
TAIL_PID=$!

elapsed() { echo "$(date +%s.%N) $START" | awk '{printf "%.1f", $1 - $2}'; }
markers() { tr -d '\r' < "$LOG" | grep -a '^GUEST: '; }

DONE_RE="^GUEST: job $JOB done rc="
timed_out=0 on_done_rc=
while kill -0 "$QEMU_PID" 2>/dev/null; do
    if [ "$(elapsed | cut -d. -f1)" -ge "$TIMEOUT" ]; then
        timed_out=1
        kill "$QEMU_PID" 2>/dev/null
        sleep 1; kill -9 "$QEMU_PID" 2>/dev/null
        break
    fi
    if [ -n "$ON_DONE" ] && [ -z "$on_done_rc" ] && markers | grep -q "$DONE_RE"; then
        echo "run-guest: job done after $(elapsed)s; running on-done hook"
        QMP_SOCKET=$QMP GUEST_LOG=$LOG QEMU_PID=$QEMU_PID sh -c "$ON_DONE"
        on_done_rc=$?
        echo "run-guest: on-done hook rc=$on_done_rc"
        if [ -n "$QMP" ]; then
            python3 "$HERE/qmp.py" --socket "$QMP" --quit >/dev/null ||
                echo "run-guest: QMP quit failed; waiting for the guest's poweroff"
        fi
    fi
    sleep 0.2
done
wait "$QEMU_PID" 2>/dev/null
qemu_rc=$?
QEMU_PID=
wait "$TAIL_PID" 2>/dev/null
TAIL_PID=
T=$(elapsed)
if [ -s "$TMP/qemu.out" ]; then
    sed 's/^/  qemu| /' "$TMP/qemu.out"
fi

[ $timed_out = 1 ] && verdict 124 "timeout after ${TIMEOUT}s (job $JOB; last marker: $(markers | tail -n1 || true))"
rcline=$(markers | grep "$DONE_RE" | tail -n1)
if [ -z "$rcline" ]; then
    verdict 1 "job $JOB never finished (QEMU exit $qemu_rc after ${T}s)"
fi
rc=${rcline##*rc=}
fails=$(markers | grep -c '^GUEST: FAIL')
if [ "$rc" != 0 ]; then
    verdict 1 "job $JOB rc=$rc, $fails FAIL marker(s): $(markers | grep '^GUEST: FAIL' | head -n1) (${T}s)"
fi
if [ -n "$ON_DONE" ] && [ "${on_done_rc:-1}" != 0 ]; then
    verdict 1 "job $JOB ok but on-done hook rc=${on_done_rc:-not run} (${T}s)"
fi
verdict 0 "job $JOB rc=0 in ${T}s"
