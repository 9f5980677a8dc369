/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split, benchmark only: --x-bench-split-ring=SLOT_SIZE.
 *
 * A packet-rate consumer such as DPDK's virtio-user cannot negotiate
 * VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER nor own a slot ring.  With this
 * option the backend acts on receive queue 0 as if the driver had set a
 * ring (all protocols, SLOT_SIZE-byte slots, at least as many as the
 * queue has entries), with the slots in the backend's own memory: the
 * split placement runs in full (policy, slot image, payload from offset 0
 * of the data buffers) against the same consumer as the classic one.
 * The consumer then reads payload where it expects the virtio header, so
 * this is for measuring only, never for a guest.
 *
 * With --x-bench-align-payload too, the payload starts at each buffer's
 * first 64-byte boundary rather than at its offset 0.  virtio-user posts
 * its buffers 52 bytes into a cache line (the mbuf headroom less the
 * virtio header: classic's payload lands aligned), where a split-hdr
 * driver posts page-aligned ones; from offset 0 every line of a split
 * payload is written in two stores that each take a line from the
 * consumer.  The option shows what split costs with the buffers it is
 * made for, beside what it costs with virtio-user's.
 *
 * It costs the normal path nothing but a test or two in the split path:
 * the receive callback is this wrapper only with the option, and rx.c
 * writes a slot to ring->bench_slots and moves a buffer's start only when
 * this file set the ring.
 */

#include "qemu/osdep.h"
#include "qemu/host-utils.h"
#include "vns.h"

static unsigned int vns_bench_slot_size;
static bool vns_bench_align;
static uint8_t *vns_bench_slots;
static uint32_t vns_bench_num_slots;

/* Arm the private ring, again after a new front-end or SET_FEATURES. */
static void vns_bench_arm(VuNetSplit *s, VuVirtq *vq)
{
    VnsRing *ring = &s->rings[0];
    uint32_t num = pow2ceil(MAX(vq->vring.num, 1));

    if (num > vns_bench_num_slots) {
        g_free(vns_bench_slots);
        vns_bench_slots = g_malloc0((size_t)num * vns_bench_slot_size);
        vns_bench_num_slots = num;
    }
    memset(ring, 0, sizeof(*ring));
    ring->bench_slots = vns_bench_slots;
    /* Not a guest address: only non-zero (ring set) and aligned. */
    ring->ring_addr = (uintptr_t)vns_bench_slots;
    ring->slot_size = vns_bench_slot_size;
    ring->num_slots = vns_bench_num_slots;
    ring->proto_mask = VIRTIO_NET_SPLIT_HDR_PROTO_ALL;
    ring->bench_align = vns_bench_align;
    vns_log(s, "bench: private split ring, %u slots of %u bytes",
            ring->num_slots, ring->slot_size);
}

/* --x-bench-split-ring=@slot_size given: check it. */
bool vns_bench_ring_setup(int slot_size, bool align_payload)
{
    if (slot_size < VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MIN ||
        slot_size > VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MAX ||
        !is_power_of_2(slot_size)) {
        fprintf(stderr, "--x-bench-split-ring: the slot size is a power "
                "of 2 from %u to %u\n", VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MIN,
                VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MAX);
        return false;
    }
    vns_bench_slot_size = slot_size;
    vns_bench_align = align_payload;
    return true;
}

/* --x-bench-align-payload: start the buffer at its first 64-byte line. */
void vns_bench_align_buffer(VuVirtqElement *elem)
{
    struct iovec *iov = &elem->in_sg[0];
    size_t skip = -(uintptr_t)iov->iov_base & 63;

    if (skip < iov->iov_len) {
        iov->iov_base = (uint8_t *)iov->iov_base + skip;
        iov->iov_len -= skip;
    }
}

/* The receive callback with --x-bench-split-ring. */
bool vns_bench_rx_frame(void *opaque, unsigned int queue,
                        const uint8_t *frame, size_t len)
{
    VuNetSplit *s = opaque;

    if (s->connected && !s->rings[0].ring_addr) {
        VuVirtq *vq = vu_get_queue(&s->dev.parent, VNS_RXQ(0));

        /* Sized by the queue: wait until the front-end started it. */
        if (vu_queue_started(&s->dev.parent, vq)) {
            vns_bench_arm(s, vq);
        }
    }
    return vns_rx_frame(opaque, queue, frame, len);
}
