# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Sourced by bench/vhost-user-rate.sh and bench/vhost-user-callgrind.sh:
# the consumer both use, DPDK's virtio-user in testpmd's rxonly mode, and
# the producers on the other end of its vhost-user socket.
#
# Every DPDK process runs without hugepages (--no-huge, memory from a
# memfd that virtio-user shares with the backend) and on one core: its
# main lcore (which only sleeps and prints) and its forwarding lcore both
# on the CPU given, as DPDK's --lcores syntax allows.

VU_PREFIX=vubench$$
VU_PIDS=()

vu_need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null ||
            { echo "bench: $c is missing (make bench-deps)" >&2; exit 1; }
    done
}

# The DPDK processes' runtime folders, and whatever still runs.
vu_cleanup() {
    local p
    for p in "${VU_PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${VU_PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    VU_PIDS=()
    rm -rf /var/run/dpdk/"$VU_PREFIX"-*
}

# vu_wait_socket PATH: until a producer listens there (10 s at most;
# valgrind takes a few seconds to start a backend).
vu_wait_socket() {
    for _ in $(seq 100); do
        [ -S "$1" ] && return 0
        sleep 0.1
    done
    echo "bench: nobody listens on $1" >&2
    return 1
}

# vu_testpmd NAME CPU LOG ARGS...: testpmd in the background on one CPU,
# its pid appended to VU_PIDS.  64 MiB of mbufs are plenty for a 256-entry
# ring each way; testpmd's default pool does not fit in --no-huge memory.
vu_testpmd() {
    local name=$1 cpu=$2 log=$3
    shift 3
    taskset -c "$cpu" dpdk-testpmd --no-huge -m 256 --no-pci \
        --file-prefix="$VU_PREFIX-$name" --lcores="0@$cpu,1@$cpu" \
        "$@" >"$log" 2>&1 &
    VU_PIDS+=($!)
}

# vu_consumer CPU SOCK LOG [TESTPMD-ARGS...]: virtio-user, client of the
# producer listening on SOCK, counting in rxonly mode; the port's counters
# every second in LOG.
vu_consumer() {
    local cpu=$1 sock=$2 log=$3
    shift 3
    vu_testpmd cons "$cpu" "$log" \
        --vdev "net_virtio_user0,path=$sock,queues=1,queue_size=256" -- \
        --forward-mode=rxonly --stats-period 1 -a --nb-cores=1 \
        --rxd=256 --txd=256 --total-num-mbufs=8192 "$@"
}

# vu_dpdk_producer CPU SOCK SIZE LOG: DPDK's vhost PMD serving SOCK,
# testpmd sending SIZE-byte frames in txonly mode.  --stats-period keeps
# it from its interactive prompt, which would end it on our stdin's EOF.
vu_dpdk_producer() {
    local cpu=$1 sock=$2 size=$3 log=$4
    rm -f "$sock"
    vu_testpmd prod "$cpu" "$log" --vdev "net_vhost0,iface=$sock,queues=1" -- \
        --forward-mode=txonly --txpkts="$size" -a --nb-cores=1 \
        --stats-period 1 \
        --rxd=256 --txd=256 --total-num-mbufs=8192
}
