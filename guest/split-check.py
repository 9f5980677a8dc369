#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Host side of the guest-split-* checks: what the device saw, over QMP.

  split-check.py [--device nic0] CASE

Run as run-guest.sh's --on-done hook (it needs $QMP_SOCKET and $GUEST_LOG)
once the guest job (guest/jobs/split-CASE.sh) is done and the guest holds.
CASE is one of:

  net      queue 0 has its ring; the guest's split/inline counts equal
           the device's split and inline-* sums, and k, sampled while no
           packet moves; split, inline-not-ip and inline-not-tcp-udp >= 1,
           the other inline reasons 0
  classic  the device (split-hdr=off) has no split-hdr-stats at all
  xdp      after the job's last load (split_hdr=0) no queue has a ring;
           the first load split packets
  suspend  queue 0 has its ring again with k restarted: k equals what the
           guest counted since the last restore (sampled while quiet), is
           smaller than all the device delivered with a ring, and what the
           guest counted before each freeze ("GUEST: suspend pre ...") and
           since the last restore adds up to that, split and inline apart
  rmmod    every ring disabled with k = 0 (rmmod reset the device); the
           device split packets while the driver was loaded, and masked
           the second load's DHCP replies (split_hdr_proto=1: TCPv4 only)

Prints "split-check: ok: ..." and "split-check: FAIL: ..." lines and the
device's counters; exit status 1 if anything failed.

Stray packets: slirp is quiet once the job is done, but not silent (an
IPv6 router advertisement, an ARP, ...).  So the guest prints its
counters every 0.25 s while it holds ("GUEST: stats seq=N ..."); the
check reads the device (D1), waits for the second sample printed after
that read (so taken after D1), and reads the device again (D2).  Only if
D1 == D2, i.e. the device delivered nothing in between, are the guest's
counts required to equal the device's; otherwise it tries again, up to
ATTEMPTS times, and fails if the network never stayed quiet that long.
"""

import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import QMP  # noqa: E402

INLINE = ("inline-not-ip", "inline-malformed", "inline-fragment",
          "inline-not-tcp-udp", "inline-masked", "inline-too-big")
ATTEMPTS = 6
failed = []


def ok(msg):
    print(f"split-check: ok: {msg}")


def fail(msg):
    print(f"split-check: FAIL: {msg}")
    failed.append(msg)


def check(cond, msg):
    (ok if cond else fail)(msg)
    return cond


class Device:
    def __init__(self, sock, dev_id):
        self.qmp = QMP(sock, 10.0)
        self.path = f"/machine/peripheral/{dev_id}/virtio-backend"

    def stats(self):
        """The split-hdr-stats list, or (None, error) if there is none."""
        r = self.qmp.execute({"execute": "qom-get",
                              "arguments": {"path": self.path,
                                            "property": "split-hdr-stats"}})
        if "error" in r:
            return None, r["error"].get("desc", str(r["error"]))
        return r["return"], None


def show(stats):
    for q in stats:
        print("split-check: device queue %d: %s" % (q["queue"], " ".join(
            f"{k}={v}" for k, v in sorted(q.items()) if k != "queue")))


def inline_sum(q):
    return sum(q[k] for k in INLINE)


def delivered(q):
    return q["split"] + inline_sum(q)


# --- the guest's console --------------------------------------------------

SAMPLE_RE = re.compile(r"GUEST: stats seq=(\d+)((?: rx\d+_[a-z_]+=\d+)+)\s*$")


def console():
    with open(os.environ["GUEST_LOG"], "rb") as f:
        return f.read().decode("utf-8", "replace").replace("\r", "")


def samples():
    """{seq: {counter: value}} of the complete sample lines so far."""
    out = {}
    for line in console().split("\n"):
        m = SAMPLE_RE.search(line)
        if m:
            out[int(m.group(1))] = {
                k: int(v) for k, v in
                (kv.split("=") for kv in m.group(2).split())}
    return out


def marker(prefix):
    """key=value pairs of the last "GUEST: PREFIX k=v ..." line."""
    vals = None
    for line in console().split("\n"):
        if line.startswith(f"GUEST: {prefix} "):
            vals = dict(kv.split("=", 1) for kv in
                        line[len(f"GUEST: {prefix} "):].split() if "=" in kv)
    return vals


def quiet_sample(dev):
    """(device stats, guest sample) taken while the device delivered nothing."""
    for attempt in range(1, ATTEMPTS + 1):
        d1, err = dev.stats()
        if d1 is None:
            fail(f"qom-get split-hdr-stats: {err}")
            return None, None
        s = samples()
        last = max(s) if s else 0
        # Sample last + 1 may have been taken before D1, the next not.
        deadline = time.monotonic() + 10
        while not [n for n in s if n >= last + 2]:
            if time.monotonic() >= deadline:
                fail("the guest printed no counter sample for 10 s")
                return None, None
            time.sleep(0.1)
            s = samples()
        seq = min(n for n in s if n >= last + 2)
        d2, err = dev.stats()
        if d1 == d2:
            print(f"split-check: quiet on attempt {attempt}: device read "
                  f"before and after guest sample seq={seq}")
            return d2, s[seq]
        print(f"split-check: attempt {attempt}: the device delivered "
              "packets while the guest sampled; again")
        time.sleep(0.5)
    fail(f"the network never stayed quiet for a sample in {ATTEMPTS} attempts")
    return None, None


def compare(d, g, before=None):
    """Guest counters against the device's.  BEFORE: what the guest had
    counted on queue 0 before its queues were made anew (each restore), as
    (split, inline); the device's counters go on across a reset."""
    for q in d:
        i = q["queue"]
        gs, gi = g.get(f"rx{i}_split_packets"), g.get(f"rx{i}_inline_packets")
        if gs is None or gi is None:
            if q["enabled"]:
                fail(f"queue {i} has a ring but the guest printed no rx{i} counters")
            continue
        bs, bi = before if before and i == 0 else (0, 0)
        what = f"guest {bs} + {gs}" if before else f"guest {gs}"
        check(bs + gs == q["split"],
              f"queue {i}: {what} split_packets == device split {q['split']}")
        what = f"guest {bi} + {gi}" if before else f"guest {gi}"
        check(bi + gi == inline_sum(q),
              f"queue {i}: {what} inline_packets == device inline-* sum {inline_sum(q)}")
        post = gs + gi
        check(q["k"] == post % 2**32,
              f"queue {i}: device k {q['k']} == guest split + inline {post}"
              + (" since restore" if before else ""))
        for k in ("slot_errors", "split_resets", "drops"):
            v = g.get(f"rx{i}_{k}")
            check(v == 0, f"queue {i}: guest {k} {v} == 0")


def case_net(dev):
    d, g = quiet_sample(dev)
    if d is None:
        return
    show(d)
    print(f"split-check: guest sample: {g}")
    check(d[0]["enabled"], "queue 0 has a ring")
    compare(d, g)
    total = {k: sum(q[k] for q in d) for k in ("split",) + INLINE}
    check(total["split"] >= 1, f"split {total['split']} >= 1 (DHCP, HTTP)")
    check(total["inline-not-ip"] >= 1,
          f"inline-not-ip {total['inline-not-ip']} >= 1 (ARP)")
    check(total["inline-not-tcp-udp"] >= 1,
          f"inline-not-tcp-udp {total['inline-not-tcp-udp']} >= 1 (ICMP)")
    for k in ("inline-malformed", "inline-fragment", "inline-masked",
              "inline-too-big"):
        check(total[k] == 0, f"{k} {total[k]} == 0 (slirp sends none)")
    check(all(q["fault-injected"] == 0 for q in d), "no fault injected")


def case_classic(dev):
    d, err = dev.stats()
    if d is not None:
        show(d)
    check(d is None, "split-hdr=off: the device has no split-hdr-stats"
          + (f" ({err})" if err else ""))


def case_xdp(dev):
    d, err = dev.stats()
    if d is None:
        fail(f"qom-get split-hdr-stats: {err}")
        return
    show(d)
    check(all(not q["enabled"] and q["k"] == 0 for q in d),
          "split_hdr=0: no queue has a ring, k = 0")
    check(d[0]["split"] >= 1,
          f"queue 0 split {d[0]['split']} >= 1 while the first load had its ring")


def case_suspend(dev):
    pre = marker("suspend pre")
    if pre is None:
        fail("no 'GUEST: suspend pre' line: the job did not get that far")
        return
    d, g = quiet_sample(dev)
    if d is None:
        return
    show(d)
    print(f"split-check: guest sample since restore: {g}")
    q = d[0]
    check(q["enabled"], "queue 0 has a ring again after restore")
    before = (int(pre["rx0_split_packets"]), int(pre["rx0_inline_packets"]))
    compare(d, g, before)
    check(q["k"] < delivered(q),
          f"k {q['k']} restarted: < {delivered(q)} delivered with a ring in all")
    check(all(q["fault-injected"] == 0 for q in d), "no fault injected")


def case_rmmod(dev):
    d, err = dev.stats()
    if d is None:
        fail(f"qom-get split-hdr-stats: {err}")
        return
    show(d)
    check(all(not q["enabled"] and q["k"] == 0 for q in d),
          "after rmmod no queue has a ring, k = 0 (device reset)")
    check(d[0]["split"] >= 2,
          f"queue 0 split {d[0]['split']} >= 2 (both loads split packets)")
    check(d[0]["inline-masked"] >= 2,
          f"queue 0 inline-masked {d[0]['inline-masked']} >= 2 (the DHCP "
          "offer and ack of the split_hdr_proto=1 load)")


CASES = {"net": case_net, "classic": case_classic, "xdp": case_xdp,
         "suspend": case_suspend, "rmmod": case_rmmod}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="nic0", help="the NIC's id")
    ap.add_argument("case", choices=sorted(CASES))
    args = ap.parse_args()
    for v in ("QMP_SOCKET", "GUEST_LOG"):
        if not os.environ.get(v):
            sys.exit(f"split-check: ${v} not set: run me as run-guest.sh's --on-done hook")
    CASES[args.case](Device(os.environ["QMP_SOCKET"], args.device))
    print(f"split-check: {args.case}: "
          + (f"{len(failed)} failed" if failed else "all ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
