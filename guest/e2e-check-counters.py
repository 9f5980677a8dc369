#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# guest/e2e-tcp-mmap.sh --check-counters: compare, per receive queue, the
# device's split-hdr-stats (QMP) with the patched driver's ethtool -S.
#
#   e2e-check-counters.py --console RX-CONSOLE [--stats JSON]
#       [--device-split on|off] [--expect-rings all|none]
#       [--fault none|seq|hdr-len|flag-no-ring] [--fault-interval N]
#       [--resizes N] [--min-payload-per-packet BYTES]
#       [--feature BIT]... [--no-feature BIT]... [--data-queue N]
#
# The receiver job (guest/jobs/tcp-mmap-server.sh) samples 'ethtool -S
# eth0' once traffic has stopped ("ethtool -S eth0"), waits while the
# harness reads the device over QMP, and samples again ("ethtool -S eth0
# again").  A device counter must lie between the two samples: equal to
# both when nothing arrived meanwhile, which is what normally happens.
#
# What must match, per queue q (device | guest rx<q>_*):
#   split                         | split_packets
#   sum of inline-*               | inline_packets
#   fault-injected                | slot_errors
# and slot_errors == split_resets, drops >= slot_errors.  (With a fault
# interval below the ring size a fault can also land in a packet that a
# reset drops unseen: then only fault-injected >= slot_errors.)  A queue reset
# (the driver's recovery after a slot error, or an 'ethtool -G' resize)
# drops the packets the device had already placed in the queue without
# the driver seeing them; the driver cannot count those.  So on a queue
# that was reset, split and inline can only be bounded: the device's
# packets minus the driver's (split + inline + slot_errors) is what those
# resets dropped, between 0 and resets * ring size.  It is printed as
# "dropped at reset".
#
# --feature/--no-feature: virtio feature bits the receiver's driver must
# (not) have negotiated ("GUEST: virtio features", from sysfs), e.g. 58
# (split transport header) and 57 (hash report: a 20-byte virtio header).
#
# Prints one line per queue with both sides, then "counters: ok" or
# "counters: FAIL: reason" lines; exit 0 when everything matched.
import argparse
import json
import re
import sys

INLINE = ("inline-not-ip", "inline-malformed", "inline-fragment",
          "inline-not-tcp-udp", "inline-masked", "inline-too-big")
GUEST_KEYS = ("split_packets", "inline_packets", "slot_errors",
              "split_resets", "drops")


def sections(lines):
    """{name: [lines]} for every 'GUEST: NAME begin' ... 'GUEST: NAME end'."""
    out, cur, name = {}, None, None
    for line in lines:
        m = re.match(r"^GUEST: (.*) begin$", line)
        if m and cur is None:
            name, cur = m.group(1), []
            continue
        if cur is not None and line == f"GUEST: {name} end":
            out.setdefault(name, cur)
            cur = None
            continue
        if cur is not None:
            cur.append(line)
    return out


def ethtool_stats(lines):
    """{queue or None: {key: value}} from 'ethtool -S' lines."""
    per = {}
    for line in lines or ():
        m = re.match(r"^\s*rx(\d*)_([a-z_]+):\s*(\d+)\s*$", line)
        if not m or m.group(2) not in GUEST_KEYS:
            continue
        q = int(m.group(1)) if m.group(1) else None
        per.setdefault(q, {})[m.group(2)] = int(m.group(3))
    return per


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--console", required=True)
    ap.add_argument("--stats")
    ap.add_argument("--device-split", choices=("on", "off"), default="on")
    ap.add_argument("--expect-rings", choices=("all", "none", "any"),
                    default="any")
    ap.add_argument("--fault", default="none")
    ap.add_argument("--fault-interval", type=int, default=1000)
    ap.add_argument("--resizes", type=int, default=0)
    ap.add_argument("--min-payload-per-packet", type=int, default=0)
    ap.add_argument("--feature", type=int, action="append", default=[])
    ap.add_argument("--data-queue", type=int)
    ap.add_argument("--no-feature", type=int, action="append", default=[])
    a = ap.parse_args()

    fails = []

    def fail(msg):
        fails.append(msg)

    with open(a.console, "rb") as f:
        lines = f.read().decode("utf-8", "replace").replace("\r", "").split("\n")
    secs = sections(lines)
    s1 = ethtool_stats(secs.get("ethtool -S eth0"))
    s2 = ethtool_stats(secs.get("ethtool -S eth0 again"))
    bracketed = bool(s2)
    if not s1:
        fail("no 'ethtool -S eth0' from the receiver")
    if not bracketed:
        # Without the second sample the device must equal the first.
        s2 = s1
        fail("no second 'ethtool -S eth0' after the device read: the "
             "counters were not bracketed")
    ring_max = 256
    for line in secs.get("ethtool -g eth0", []):
        m = re.match(r"^RX:\s+(\d+)$", line)
        if m:
            ring_max = int(m.group(1))
            break
    rxp = rxb = None
    for line in lines:
        m = re.match(r"^GUEST: eth0 rx_packets=(\d+) rx_bytes=(\d+)", line)
        if m:
            rxp, rxb = int(m.group(1)), int(m.group(2))
    feats = None
    for line in lines:
        m = re.match(r"^GUEST: virtio features ([01]+)\s*$", line)
        if m:
            feats = {i for i, c in enumerate(m.group(1)) if c == "1"}
    names = {15: "MRG_RXBUF", 17: "CTRL_VQ", 22: "MQ", 57: "HASH_REPORT",
             58: "SPLIT_TRANSPORT_HEADER", 60: "RSS"}
    if feats is None:
        if a.feature or a.no_feature:
            fail("the receiver printed no virtio feature bits")
    else:
        print("counters: negotiated " + " ".join(
            f"{names[b]}({b})" for b in sorted(names) if b in feats) +
            (f"; expected {a.feature}" if a.feature else "") +
            (f", not {a.no_feature}" if a.no_feature else ""))
        for b in a.feature:
            if b not in feats:
                fail(f"feature bit {b} ({names.get(b, '?')}) not negotiated")
        for b in a.no_feature:
            if b in feats:
                fail(f"feature bit {b} ({names.get(b, '?')}) negotiated")
    has_split_keys = any("split_packets" in v for v in s1.values())

    stats = None
    if a.stats:
        try:
            with open(a.stats) as f:
                stats = json.load(f)
        except (OSError, ValueError):
            stats = None

    def g(sample, q, k):
        return sample.get(q, {}).get(k, 0)

    def rng(q, k):
        lo, hi = g(s1, q, k), g(s2, q, k)
        return lo, hi, (f"{lo}" if lo == hi else f"{lo}..{hi}")

    if stats is None:
        if a.device_split == "on":
            fail("no split-hdr-stats from the device")
        else:
            print("counters: device without split-hdr (no split-hdr-stats); "
                  "the driver must not split")
        for k in ("split_packets", "inline_packets", "slot_errors",
                  "split_resets"):
            lo, hi, txt = rng(None, k)
            if has_split_keys and hi:
                fail(f"guest rx_{k} {txt} without a splitting device")
        if has_split_keys:
            print("counters: guest rx_split_packets %s, rx_inline_packets %s, "
                  "rx_slot_errors %s, rx_split_resets %s" %
                  tuple(rng(None, k)[2] for k in ("split_packets",
                                                  "inline_packets",
                                                  "slot_errors",
                                                  "split_resets")))
        else:
            print("counters: the receiver's driver has no split counters")
    elif not has_split_keys:
        # A driver without the feature (the stock one): the device must
        # never have had a ring to split into.
        for st in stats:
            d_inline = sum(st[k] for k in INLINE)
            print(f"counters q{st['queue']}: ring "
                  f"{'on' if st['enabled'] else 'off'}; device split "
                  f"{st['split']}, inline {d_inline}, fault-injected "
                  f"{st['fault-injected']}; the guest's driver has no split "
                  f"counters")
            if st["enabled"] or st["split"] or d_inline:
                fail(f"queue {st['queue']}: the device split for a driver "
                     f"without the feature")
    else:
        fault_total = 0
        best = None   # (packets, queue, payload per packet)
        for st in stats:
            q = st["queue"]
            d_split = st["split"]
            d_inline = sum(st[k] for k in INLINE)
            d_fault = st["fault-injected"]
            fault_total += d_fault
            enabled = st["enabled"]
            shown = q in s1
            if a.expect_rings == "all" and not enabled:
                fail(f"queue {q}: no header ring at the end (enabled=false)")
            if a.expect_rings == "none" and enabled:
                fail(f"queue {q}: a header ring is set (enabled=true)")
            pkts = d_split + d_inline
            ppp = st["payload-bytes"] / pkts if pkts else 0
            if pkts and (best is None or pkts > best[0]):
                best = (pkts, q, ppp)
            if not shown:
                print(f"counters q{q}: ring {'on' if enabled else 'off'}; "
                      f"device split {d_split}, inline {d_inline}, "
                      f"faults {d_fault}; not in the guest's ethtool -S "
                      f"(queue pair not in use)")
                if pkts or d_fault:
                    fail(f"queue {q}: the device delivered packets on a "
                         f"queue the guest does not show")
                continue
            sp = rng(q, "split_packets")
            il = rng(q, "inline_packets")
            se = rng(q, "slot_errors")
            rs = rng(q, "split_resets")
            dr = rng(q, "drops")
            resets = rs[1] + a.resizes
            line = (f"counters q{q}: ring {'on' if enabled else 'off'}; "
                    f"split device {d_split} | guest {sp[2]}; "
                    f"inline device {d_inline} | guest {il[2]}; "
                    f"fault-injected {d_fault} | slot_errors {se[2]}; "
                    f"split_resets {rs[2]}; drops {dr[2]}; "
                    f"payload {st['payload-bytes']} B, "
                    f"{ppp:.0f} B per packet")
            if resets:
                own = se if enabled else (0, 0)
                dev_total = d_split + d_inline
                lost_lo = dev_total - (sp[1] + il[1] + own[1])
                lost_hi = dev_total - (sp[0] + il[0] + own[0])
                line += (f"; dropped at {resets} queue reset(s): "
                         f"{max(lost_lo, 0)}" +
                         ("" if lost_lo == lost_hi else f"..{lost_hi}"))
                if lost_hi < 0 or d_split < sp[0] or d_inline < il[0]:
                    fail(f"queue {q}: the guest counted more packets than "
                         f"the device delivered")
                if lost_lo > resets * ring_max:
                    fail(f"queue {q}: {lost_lo} packets unaccounted for, "
                         f"more than {resets} reset(s) of a "
                         f"{ring_max}-entry ring can drop")
            else:
                if not sp[0] <= d_split <= sp[1]:
                    fail(f"queue {q}: device split {d_split} != guest "
                         f"rx{q}_split_packets {sp[2]}")
                if not il[0] <= d_inline <= il[1]:
                    fail(f"queue {q}: device inline {d_inline} != guest "
                         f"rx{q}_inline_packets {il[2]}")
            print(line)
            if resets and a.fault_interval < ring_max:
                # Faults can land in packets a reset then drops unseen.
                if d_fault < se[0]:
                    fail(f"queue {q}: device fault-injected {d_fault} < "
                         f"guest rx{q}_slot_errors {se[2]}")
            elif not se[0] <= d_fault <= se[1]:
                fail(f"queue {q}: device fault-injected {d_fault} != guest "
                     f"rx{q}_slot_errors {se[2]}")
            if se[1] != rs[1]:
                fail(f"queue {q}: rx{q}_slot_errors {se[2]} != "
                     f"rx{q}_split_resets {rs[2]}")
            if dr[1] < se[0]:
                fail(f"queue {q}: rx{q}_drops {dr[2]} < rx{q}_slot_errors {se[2]}")
            if a.fault == "none" and (se[1] or rs[1]):
                fail(f"queue {q}: {se[2]} slot error(s), {rs[2]} reset(s) "
                     f"from a device that injects no fault")
        if a.fault != "none" and fault_total < 1:
            fail(f"x-split-hdr-fault={a.fault} injected nothing")
        if a.fault != "none":
            print(f"counters: x-split-hdr-fault={a.fault} every "
                  f"{a.fault_interval}: {fault_total} injected")
        if a.data_queue is not None and (best is None or
                                         best[1] != a.data_queue):
            fail(f"the busiest queue is "
                 f"{'none' if best is None else best[1]}, expected "
                 f"{a.data_queue}")
        if a.min_payload_per_packet:
            if best is None:
                fail("no packet on any queue")
            else:
                print(f"counters: busiest queue q{best[1]}: {best[2]:.0f} "
                      f"payload bytes per packet at the device; guest eth0 "
                      f"{(rxb / rxp) if rxp else 0:.0f} bytes per packet "
                      f"({rxb} / {rxp})")
                if best[2] < a.min_payload_per_packet:
                    fail(f"queue {best[1]}: {best[2]:.0f} payload bytes per "
                         f"packet at the device, expected at least "
                         f"{a.min_payload_per_packet} (GSO frames)")
                if not rxp or rxb / rxp < a.min_payload_per_packet:
                    fail(f"guest eth0: {(rxb / rxp) if rxp else 0:.0f} bytes "
                         f"per packet, expected at least "
                         f"{a.min_payload_per_packet} (GSO frames)")
    print("counters: bracketed: the device was read between two guest "
          "samples, which %s" % (
              "agree" if bracketed and s1 == s2 else
              "differ (packets arrived meanwhile)" if bracketed else
              "are missing"))
    for m in fails:
        print(f"counters: FAIL: {m}")
    if not fails:
        print("counters: ok")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
