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
#   guest.driver=stock|split  which virtio_net.ko to load: the kernel's own
#                      (default) or /lib/modules/split/virtio_net.ko, the
#                      patched one (guest/linux/build-driver.sh)
#   guest.vnet_args=A=1,B=2   insmod parameters for virtio_net (whichever is
#                      loaded), commas for spaces: busybox insmod does not
#                      apply the kernel command line's virtio_net.X=
#   guest.ip=ADDR/PREFIX, guest.ip6=ADDR/PREFIX   static addresses on eth0
#                      instead of DHCP (either or both; IPv6 without DAD),
#                      e.g. for two guests on a -netdev stream link
#   guest.mtu=N        MTU of eth0

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
vnet_args=$(echo "${GUEST_VNET_ARGS:-}" | tr , ' ')
while read -r m; do
    ko=/lib/modules/$m.ko args=
    if [ "$m" = virtio_net ]; then
        case ${GUEST_DRIVER:-stock} in
        stock) ;;
        split) ko=/lib/modules/split/virtio_net.ko ;;
        *) mark "FAIL guest.driver=$GUEST_DRIVER: not stock or split" ;;
        esac
        args=$vnet_args
        mark "driver ${GUEST_DRIVER:-stock} $ko${args:+ $args}"
    fi
    # shellcheck disable=SC2086 # args: module parameters, split on purpose
    insmod "$ko" $args || mark "FAIL insmod $ko"
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
        [ -n "${GUEST_MTU:-}" ] && { ip link set eth0 mtu "$GUEST_MTU" || mark "FAIL mtu $GUEST_MTU"; }
        ip link set eth0 up
        if [ -n "${GUEST_IP:-}${GUEST_IP6:-}" ]; then
            ok=1
            if [ -n "${GUEST_IP:-}" ]; then
                ip addr add "$GUEST_IP" dev eth0 || { mark "FAIL ip addr $GUEST_IP"; ok=0; }
            fi
            if [ -n "${GUEST_IP6:-}" ]; then
                # No DAD: the address is usable at once, even before the
                # peer's end of a stream netdev has connected.
                echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad
                ip -6 addr add "$GUEST_IP6" dev eth0 || { mark "FAIL ip -6 addr $GUEST_IP6"; ok=0; }
            fi
            if [ $ok = 1 ]; then
                mark "static ok addr=${GUEST_IP:--} addr6=${GUEST_IP6:--} mtu=$(cat /sys/class/net/eth0/mtu)"
                GUEST_NET_OK=1
            fi
        elif udhcpc -i eth0 -n -q -t 5 -s /etc/udhcpc.script >/tmp/udhcpc.log 2>&1; then
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
