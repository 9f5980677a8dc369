#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest job of the check guest-split-suspend: a device reset through the
# driver's freeze and restore.  Traffic, then a system sleep woken by the
# RTC 2 s later, then traffic again; twice, the second time with eth0
# down.  virtio_pci maps system sleep to virtio_device_freeze/restore:
# virtnet_freeze resets the device and frees the header rings,
# virtnet_restore allocates new ones and, if eth0 is up, must send SET
# again before it fills the queue; if eth0 is down the next open does.
# Kprobes show that order; the host then checks that the device has the
# ring again with k restarted and that the counts of guest and device add
# up (guest/split-check.py suspend).
#
# Why S3 ("deep") and not s2idle ("freeze"), though both run the same
# freeze/restore callbacks: nothing wakes s2idle in this guest.  With ACPI,
# rtc_cmos arms the ACPI RTC fixed event, not IRQ 8, as its wakeup source
# (rtc_wake_on), and QEMU sets RTC_STS in PM1 only when the machine is in
# its suspended run state (acpi_notify_wakeup is reached only through
# qemu_system_wakeup_request), i.e. in S3, never in s2idle; the ACPI power
# button is a module (button.ko) this image does not load, and the
# kernel has no CONFIG_PM_DEBUG, so no /sys/power/pm_test either.  In S3
# QEMU resets the whole machine on wakeup and SeaBIOS resumes the kernel.
# That reset also clears the ICH9 LPC's PMBASE, which SeaBIOS's resume
# path does not program again ('info mtree': ich9-pm no longer mapped at
# 0x600), so after resume the kernel's ACPI PM1 registers go nowhere: it
# says "ACPI Error: Could not disable RealTimeClock events" and an ACPI
# poweroff no longer stops QEMU.  This job's boot must therefore end with
# the host's QMP quit, which run-guest.sh sends after --on-done.
# shellcheck source=split-lib.sh
. /jobs/split-lib.sh

kprobes_on "freeze virtio_net:virtnet_freeze" "restore virtio_net:virtnet_restore" \
    "reset virtio_reset_device" "freepg free_pages_exact size=%si:u64" \
    "cmd virtio_net:virtnet_send_command_reply class=%si:u8 cmd=%dx:u8" \
    "retcmd virtio_net:virtnet_send_command_reply ret=\$retval:u8" || exit 1
echo deep > /sys/power/mem_sleep || fail "mem_sleep deep"
ring=$(ring_bytes)

# Packets the guest counted before each sleep (restore starts its
# counters again at 0): the host adds them up against the device's.
acc_split=0 acc_inline=0

# One S3 sleep of 2 s; the kprobe events of it in /tmp/events.
sleep_once() {  # name
    n0=$(cat /sys/power/suspend_stats/success)
    echo 0 > /sys/class/rtc/rtc0/wakealarm
    echo +2 > /sys/class/rtc/rtc0/wakealarm || fail "$1: rtc wakealarm"
    kprobes_clear
    if echo mem > /sys/power/state; then
        ok "$1: resumed"
    else
        fail "$1: echo mem > /sys/power/state failed"
    fi
    n1=$(cat /sys/power/suspend_stats/success)
    [ "$n1" = $((n0 + 1)) ] || fail "$1: suspend_stats/success $n0 -> $n1, want one more"
    kprobes_read > /tmp/events
    ok "$1: trace: $(events_line < /tmp/events)"
    # The ring is freed only after the device was reset.
    reset_then_free freeze "$ring" < /tmp/events ||
        fail "$1: freeze did not reset the device before freeing the $ring-byte ring"
}

# Before a sleep: traffic, the ring on, the counters kept for the host.
before_sleep() {  # name
    if http_fetch; then
        ok "$1: http ok before"
    else
        fail "$1: http before"
    fi
    s=$(tcp_data_split)
    [ "$s" = on ] || fail "$1: before: TCP data split '${s:-n/a}', want on"
    b_split=$(vstat rx0_split_packets) b_inline=$(vstat rx0_inline_packets)
    acc_split=$((acc_split + b_split)) acc_inline=$((acc_inline + b_inline))
    ok "$1: before $(split_stats)"
}

# After restore: new queues, counters from 0, traffic, the ring on.
after_sleep() {  # name
    post=$(($(vstat rx0_split_packets) + $(vstat rx0_inline_packets)))
    [ "$post" -lt $((b_split + b_inline)) ] ||
        fail "$1: $post packets counted after restore, not fewer than the $((b_split + b_inline)) before: counters not restarted?"
    if http_fetch; then ok "$1: http ok after"; else fail "$1: http after"; fi
    s=$(tcp_data_split)
    [ "$s" = on ] || fail "$1: after: TCP data split '${s:-n/a}', want on"
    for k in rx0_slot_errors rx0_split_resets rx0_drops; do
        v=$(vstat $k)
        [ "$v" = 0 ] || fail "$1: after: $k=$v, want 0"
    done
    ok "$1: after $(split_stats)"
}

# 1. Link up: restore reopens the device and sets the ring before it
#    fills the queue.
before_sleep up
sleep_once up
events_in_order "freeze" "reset" "freepg size=$ring" "restore" \
    "cmd class=10 cmd=0" "retcmd ret=1" < /tmp/events ||
    fail "up: want freeze, reset, ring freed, restore, SET acked"
after_sleep up

# 2. Link down: restore allocates the ring but must not set it (the
#    queue is filled only at open); the next open sets it.
before_sleep down
ip link set eth0 down || fail "down: ip link set eth0 down"
sleep_once down
events_in_order "freeze" "reset" "freepg size=$ring" "restore" < /tmp/events ||
    fail "down: want freeze, reset, ring freed, restore"
! grep -q "^cmd class=10 " /tmp/events || fail "down: SET sent while the link is down"
s=$(tcp_data_split)
[ "$s" = off ] || fail "down: TCP data split '${s:-n/a}' while down, want off (no ring set yet)"
kprobes_clear
ip link set eth0 up || fail "down: ip link set eth0 up"
kprobes_read > /tmp/events
ok "down: trace of link up: $(events_line < /tmp/events)"
events_in_order "cmd class=10 cmd=0" "retcmd ret=1" < /tmp/events ||
    fail "down: no SET acked at link up"
after_sleep down

ok "suspend pre rx0_split_packets=$acc_split rx0_inline_packets=$acc_inline"
start_sampler
exit "$rc"
