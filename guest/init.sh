#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# /init of the test guest (busybox sh).  Sets up the network, runs the job
# named by guest.job= on the kernel command line, then powers off.
# Lines starting "GUEST: " are markers that guest/run-guest.sh reads from
# the serial console; keep their wording stable.
#
# Kernel command line knobs (every guest.KEY=VAL becomes GUEST_KEY=VAL in
# the environment of the job; a later occurrence wins):
#   guest.job=NAME     run /jobs/NAME.sh ("shell" or none: interactive sh)
#   guest.net=0        skip bringing up eth0 and DHCP (jobs without network)
#   guest.hold=1|SECS  after the job, wait (1 means 30 s) before poweroff so
#                      the host can query QEMU (QMP) and quit it itself

export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts

mark() { echo "GUEST: $*"; }

for w in $(cat /proc/cmdline); do
    case $w in
    guest.*=*)
        k=${w%%=*}; k=${k#guest.}
        # Only plain names: the value is never evaluated, the name is.
        case $k in *[!a-zA-Z0-9_]*|'') continue ;; esac
        export "GUEST_$(echo "$k" | tr a-z A-Z)=${w#*=}"
        ;;
    esac
done

mark "init start kernel=$(uname -r)"

# Load in the order build-image.sh computed (dependencies first).
while read -r m; do
    insmod "/lib/modules/$m.ko" || mark "FAIL insmod $m"
done < /lib/modules/load.order
# Out-of-tree modules added with GUEST_EXTRA_FILES=x.ko:/lib/modules/extra/
for f in /lib/modules/extra/*.ko; do
    [ -f "$f" ] && { insmod "$f" || mark "FAIL insmod $f"; }
done

ip link set lo up
GUEST_NET_OK=0
if [ "${GUEST_NET:-1}" != 0 ]; then
    # No udev here: the first NIC is eth0, and it may show up a bit after
    # the driver loads.
    i=0
    while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 20 ]; do
        sleep 0.1; i=$((i + 1))
    done
    if [ ! -e /sys/class/net/eth0 ]; then
        mark "FAIL no eth0"
    else
        ip link set eth0 up
        if udhcpc -i eth0 -n -q -t 5 -s /etc/udhcpc.script >/tmp/udhcpc.log 2>&1; then
            addr=$(ip -4 -o addr show dev eth0 | awk '{print $4; exit}')
            mark "dhcp ok addr=$addr"
            GUEST_NET_OK=1
        else
            cat /tmp/udhcpc.log
            mark "FAIL dhcp"
        fi
    fi
fi
export GUEST_NET_OK

job=${GUEST_JOB:-shell}
if [ "$job" = shell ]; then
    mark "no job: interactive shell, exit to power off"
    setsid cttyhack sh
    rc=$?
elif [ -f "/jobs/$job.sh" ]; then
    mark "job $job start"
    sh "/jobs/$job.sh"
    rc=$?
else
    mark "FAIL no such job /jobs/$job.sh"
    rc=127
fi
mark "job $job done rc=$rc"

case ${GUEST_HOLD:-0} in
0|'') ;;
1) mark "holding 30s"; sleep 30 ;;
*) mark "holding ${GUEST_HOLD}s"; sleep "$GUEST_HOLD" ;;
esac

mark "poweroff"
sync
poweroff -f
# Not reached; if it were, init exiting panics and panic=-1 reboots, which
# -no-reboot turns into a QEMU exit.
sleep 5
