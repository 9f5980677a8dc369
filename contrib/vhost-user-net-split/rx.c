/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split, receive: places packets exactly as QEMU's
 * virtio-net device does.  Classic mergeable receive on a queue without
 * a header ring; on a queue with one, the virtio header and (split) the
 * L2..L4 headers in slot k mod N and the payload from offset 0 of the
 * data buffers.  The split decision is the device's own file,
 * hw/net/virtio-net-splithdr-policy.c, linked here.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/iov.h"
#include "net/checksum.h"
#include "net/eth.h"
#include "standard-headers/linux/virtio_net.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "vns.h"

/* The device patches DHCP replies of "normal" MTU-sized frames only. */
#define VNS_DHCP_FIX_MAX 1500

/* The element of a packet's buffer @i, from vns_vq_pop_rx(). */
static void vns_release(VuNetSplit *s, unsigned int i)
{
    if (s->elems[i] != &s->rx_store[i].elem) {
        free(s->elems[i]);
    }
}

static void vns_discard(VuNetSplit *s, VuVirtq *vq, unsigned int n)
{
    unsigned int i;

    vu_queue_rewind(&s->dev.parent, vq, n);
    for (i = 0; i < n; i++) {
        vns_release(s, i);
    }
}

/*
 * Publish what the queue filled: one used index write (behind its write
 * barrier, which also orders the split slots before it) and one
 * notification, whose full barrier dominated the per-packet cost, for
 * the whole batch, as DPDK's vhost PMD does per burst.
 */
static void vns_rx_publish(VuNetSplit *s, unsigned int rq)
{
    VuDev *dev = &s->dev.parent;
    VuVirtq *vq;

    if (!s->rx_unflushed[rq]) {
        return;
    }
    vq = vu_get_queue(dev, VNS_RXQ(rq));
    vu_queue_flush(dev, vq, s->rx_unflushed[rq]);
    vu_queue_notify(dev, vq);
    s->rx_unflushed[rq] = 0;
}

/*
 * The network side has no more frames for @queue right now.  Not called
 * from inside vns_rx_frame(): the callgrind bench toggles on both names.
 */
void vns_rx_flush(void *opaque, unsigned int queue)
{
    VuNetSplit *s = opaque;

    if (s->connected) {
        vns_rx_publish(s, queue);
    }
}

/* Publish everything filled, before a message that may see used->idx. */
void vns_rx_flush_all(VuNetSplit *s)
{
    unsigned int i;

    for (i = 0; i < s->queue_pairs; i++) {
        vns_rx_publish(s, i);
    }
}

/*
 * Fill the used entries of the packet in s->elems behind the batch's;
 * the driver sees them at the batch's flush.
 */
static void vns_fill(VuNetSplit *s, unsigned int rq, VuVirtq *vq,
                     unsigned int n)
{
    VuDev *dev = &s->dev.parent;
    unsigned int i;

    for (i = 0; i < n; i++) {
        vu_queue_fill(dev, vq, s->elems[i], s->lens[i],
                      s->rx_unflushed[rq] + i);
        vns_release(s, i);
    }
    s->rx_unflushed[rq] += n;
    if (s->rx_unflushed[rq] >= VNS_RX_BATCH) {
        vns_rx_publish(s, rq);
    }
}

/*
 * Buffer @i of a packet on receive queue @rq, taken as
 * virtio_net_rx_fill() takes it in the device.  NULL when there is none
 * to take: the packet waits for the driver, or the queue is broken when
 * the buffer is the driver's fault (a chain too long, a buffer it
 * cannot write); vns_rx_taken() tells which.
 *
 * The device asks virtqueue_avail_bytes() first whether the packet
 * fits; the backend takes the buffers instead and gives them back if
 * the queue runs dry within the packet.  The outcome is the same (the
 * packet waits, nothing is published), but libvhost-user's
 * vu_queue_avail_bytes() reads avail->idx, the line the driver writes,
 * on every call, and that miss was 40% of a 64-byte frame's time.
 */
static VuVirtqElement *vns_rx_pop(VuNetSplit *s, unsigned int rq,
                                  VuVirtq *vq, unsigned int i)
{
    VuDev *dev = &s->dev.parent;
    VuVirtqElement *elem;

    if (i == VNS_MAX_CHAIN) {
        vns_break_queue(s, rq, "buffer chain too long");
        return NULL;
    }
    elem = vns_vq_pop_rx(dev, vq, &s->rx_store[i]);
    if (!elem) {
        return NULL;
    }
    if (elem->in_num < 1) {
        vu_queue_rewind(dev, vq, 1);
        free(elem);             /* not rx_store's: that has in_num 1 */
        vns_break_queue(s, rq, "buffer without writable descriptors");
        return NULL;
    }
    return elem;
}

/*
 * Give back the @n buffers taken for a packet that is not delivered:
 * true (dropped) on a queue vns_rx_pop() or a later check broke, false
 * (wait for buffers) otherwise.
 */
static bool vns_rx_taken(VuNetSplit *s, unsigned int rq, VuVirtq *vq,
                         unsigned int n)
{
    vns_discard(s, vq, n);
    return s->broken[rq] || s->dev.parent.broken;
}

/*
 * Classic receive, as virtio_net_receive_rcu(): the virtio header (all
 * zero, no vnet header from a stream peer) then the frame, each buffer
 * filled before the next.  Returns false when the packet must wait.
 */
static bool vns_rx_classic(VuNetSplit *s, unsigned int rq, VuVirtq *vq,
                           const struct virtio_net_hdr *peer_hdr,
                           const uint8_t *frame, size_t size)
{
    VuDev *dev = &s->dev.parent;
    bool mrg = vns_has_feature(dev, VIRTIO_NET_F_MRG_RXBUF);
    size_t hlen = vns_vhdr_len(dev), offset = 0;
    struct virtio_net_hdr_mrg_rxbuf vhdr = { .hdr = *peer_hdr };
    unsigned int i = 0;

    while (offset < size) {
        VuVirtqElement *elem;
        size_t total = 0, guest_off = 0;

        elem = vns_rx_pop(s, rq, vq, i);
        if (!elem) {
            return vns_rx_taken(s, rq, vq, i);
        }
        s->elems[i] = elem;
        if (i == 0) {
            if (mrg && iov_size(elem->in_sg, elem->in_num) < hlen) {
                vns_break_queue(s, rq, "buffer smaller than the header");
                return vns_rx_taken(s, rq, vq, 1);
            }
            iov_from_buf(elem->in_sg, elem->in_num, 0, &vhdr,
                         sizeof(struct virtio_net_hdr));
            total = guest_off = hlen;
        }
        total += iov_from_buf(elem->in_sg, elem->in_num, guest_off,
                              frame + offset, size - offset);
        offset += total - guest_off;
        s->lens[i++] = total;
        if (!mrg && offset < size) {
            /* Truncated non-mergeable packet: dropped, as QEMU does. */
            vns_discard(s, vq, i);
            return true;
        }
    }
    if (mrg) {
        uint16_t nb = cpu_to_le16(i);

        iov_from_buf(s->elems[0]->in_sg, s->elems[0]->in_num,
                     offsetof(struct virtio_net_hdr_mrg_rxbuf, num_buffers),
                     &nb, sizeof(nb));
    }
    vns_fill(s, rq, vq, i);
    return true;
}

/*
 * Split receive, as splithdr_deliver() in hw/net/virtio-net-splithdr.c:
 * classify, take the data buffers the payload fills (each one full
 * before the next), write slot k mod N and the payload, then publish.
 * Returns false when the packet must wait.
 */
static bool vns_rx_split(VuNetSplit *s, unsigned int rq, VuVirtq *vq,
                         VnsRing *ring,
                         const struct virtio_net_hdr *peer_hdr,
                         const uint8_t *frame, size_t flen)
{
    VuDev *dev = &s->dev.parent;
    size_t vhdr_len = vns_vhdr_len(dev);
    struct virtio_net_hdr_mrg_rxbuf *vhdr =
        (void *)(s->slot + VIRTIO_NET_SPLIT_HDR_PREFIX_LEN);
    size_t hdr_len = 0, offset, slot_len, room;
    SplitHdrParse parse = { 0 };
    SplitHdrVerdict verdict;
    unsigned int i = 0, n;
    uint64_t slot_addr;

    splithdr_parse(frame, flen, &parse);
    verdict = splithdr_classify(frame, flen, &parse, ring->proto_mask,
                                ring->slot_size -
                                VIRTIO_NET_SPLIT_HDR_PREFIX_LEN - vhdr_len,
                                &hdr_len);
    if (verdict != SPLITHDR_SPLIT) {
        hdr_len = 0;
    }
    memset(vhdr, 0, vhdr_len);
    vhdr->hdr = *peer_hdr;
    offset = hdr_len;
    /* A packet without payload still takes one buffer, used length 0. */
    do {
        VuVirtqElement *elem;

        elem = vns_rx_pop(s, rq, vq, i);
        if (!elem) {
            return vns_rx_taken(s, rq, vq, i);
        }
        if (unlikely(ring->bench_align)) {
            vns_bench_align_buffer(elem);
        }
        /* iov_size() is a call; nearly every buffer has one iovec. */
        room = elem->in_num == 1 ? elem->in_sg[0].iov_len
                                 : iov_size(elem->in_sg, elem->in_num);
        s->lens[i] = MIN(room, flen - offset);
        offset += s->lens[i];
        s->elems[i++] = elem;
    } while (offset < flen);

    stw_le_p(s->slot, ring->k);
    stw_le_p(s->slot + 2, 0);
    vhdr->num_buffers = cpu_to_le16(i);
    if (verdict == SPLITHDR_SPLIT) {
        vhdr->hdr.flags |= VIRTIO_NET_HDR_F_SPLIT_TRANSPORT_HEADER;
        vhdr->hdr.hdr_len = cpu_to_le16(hdr_len);
        memcpy(s->slot + VIRTIO_NET_SPLIT_HDR_PREFIX_LEN + vhdr_len, frame,
               hdr_len);
    }
    slot_len = VIRTIO_NET_SPLIT_HDR_PREFIX_LEN + vhdr_len + hdr_len;
    slot_addr = ring->ring_addr +
                (uint64_t)(ring->k & (ring->num_slots - 1)) * ring->slot_size;
    /*
     * Before the used index that publishes the packet (vu_queue_flush()'s
     * write barrier orders them): the driver owns the slot from there on.
     */
    if (unlikely(ring->bench_slots)) {
        /* --x-bench-split-ring: the slots are ours, not the guest's. */
        memcpy(ring->bench_slots + (slot_addr - ring->ring_addr), s->slot,
               slot_len);
    } else if (!vns_write_guest(dev, slot_addr, s->slot, slot_len)) {
        vns_break_queue(s, rq, "slot outside the memory table");
        return vns_rx_taken(s, rq, vq, i);
    }
    /*
     * The payload last: copying the slot (a load of what was just
     * stored) behind a payload's stores to lines the driver holds waits
     * for all of them, and took half of a 1514-byte frame's time.
     */
    for (n = 0, offset = hdr_len; n < i; offset += s->lens[n++]) {
        iov_from_buf(s->elems[n]->in_sg, s->elems[n]->in_num, 0,
                     frame + offset, s->lens[n]);
    }
    vns_fill(s, rq, vq, i);

    ring->verdicts[verdict]++;
    ring->header_bytes += hdr_len;
    ring->payload_bytes += flen - hdr_len;
    ring->k++;
    return true;
}

/*
 * Classic or split by the queue's ring.  A packet that does not fit
 * waits for a kick; the retries are for buffers added while the kick was
 * being asked for, and bounded, so that a driver racing its index cannot
 * keep the backend here.
 */
static bool vns_rx_deliver(VuNetSplit *s, unsigned int rq, VuVirtq *vq,
                           const struct virtio_net_hdr *peer_hdr,
                           const uint8_t *frame, size_t len)
{
    VuDev *dev = &s->dev.parent;
    unsigned int tries;

    for (tries = 0; tries < 4; tries++) {
        bool taken = s->rings[rq].ring_addr ?
            vns_rx_split(s, rq, vq, &s->rings[rq], peer_hdr, frame, len) :
            vns_rx_classic(s, rq, vq, peer_hdr, frame, len);

        if (taken) {
            return true;
        }
        /* The driver refills only after seeing what it has got. */
        vns_rx_publish(s, rq);
        if (vns_vq_wait_rx(dev, vq)) {
            break;
        }
    }
    return false;
}

/*
 * The device's work_around_broken_dhclient(): a DHCP reply from a peer
 * with a vnet header whose UDP checksum is left partial (NEEDS_CSUM) gets
 * it completed and the flag cleared, since some DHCP clients drop such
 * replies.  The device patches the frame before copying any of it; here
 * it is patched in a copy, the net side's buffer being read-only.
 */
static bool vns_rx_is_partial_dhcp(const struct virtio_net_hdr *peer_hdr,
                                   const uint8_t *f, size_t len)
{
    return (peer_hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
           len >= ETH_HLEN + sizeof(struct ip_header) +
                  sizeof(struct udp_header) &&
           len < VNS_DHCP_FIX_MAX &&
           lduw_be_p(f + 12) == ETH_P_IP && f[23] == IP_PROTO_UDP &&
           lduw_be_p(f + 34) == 67;
}

static bool vns_rx_deliver_dhcp(VuNetSplit *s, unsigned int rq, VuVirtq *vq,
                                const struct virtio_net_hdr *peer_hdr,
                                const uint8_t *frame, size_t len)
{
    uint8_t QEMU_UNINITIALIZED copy[VNS_DHCP_FIX_MAX];
    struct virtio_net_hdr hdr = *peer_hdr;

    memcpy(copy, frame, len);
    net_checksum_calculate(copy, len, CSUM_UDP);
    hdr.flags &= ~VIRTIO_NET_HDR_F_NEEDS_CSUM;
    return vns_rx_deliver(s, rq, vq, &hdr, copy, len);
}

/* Deliver one frame on receive queue @queue; false: wait for buffers. */
bool vns_rx_frame(void *opaque, unsigned int queue, const uint8_t *frame,
                  size_t len)
{
    VuNetSplit *s = opaque;
    VuDev *dev = &s->dev.parent;
    struct virtio_net_hdr peer_hdr = { 0 };
    VuVirtq *vq;

    if (!s->connected) {
        return false;                   /* held for the next front-end */
    }
    vq = vu_get_queue(dev, VNS_RXQ(queue));
    if (dev->broken || s->broken[queue]) {
        return true;                    /* dropped: nobody will take it */
    }
    /*
     * A stopped queue holds the frame, as QEMU's net layer holds it for a
     * stopped device, and reading stops behind it; the queue's start,
     * enable or call fd resumes.  (After stop/cont the frame can come
     * before the messages that restart the vring.)
     */
    if (!vu_queue_started(dev, vq) || !vu_queue_enabled(dev, vq) ||
        !vns_vq_can_notify(vq)) {
        return false;
    }
    /* Once per message at most: 100 instructions, an eighth of classic. */
    if (!s->rx_vring_mapped[queue]) {
        if (!vns_vq_mapped(dev, vq)) {
            vns_break_queue(s, queue, "vring outside the memory table");
            return true;
        }
        s->rx_vring_mapped[queue] = true;
    }
    /* The peer's checksum and GSO fields, as the device copies them. */
    if (s->net->vnet_hdr_len) {
        if (len <= s->net->vnet_hdr_len) {
            return true;                /* nothing to deliver: dropped */
        }
        memcpy(&peer_hdr, frame, sizeof(peer_hdr));
        frame += s->net->vnet_hdr_len;
        len -= s->net->vnet_hdr_len;
        if (unlikely(vns_rx_is_partial_dhcp(&peer_hdr, frame, len))) {
            return vns_rx_deliver_dhcp(s, queue, vq, &peer_hdr, frame, len);
        }
    }
    if (!len) {
        return true;                    /* nothing to deliver: dropped */
    }
    return vns_rx_deliver(s, queue, vq, &peer_hdr, frame, len);
}

/* The driver made receive buffers available. */
void vns_rx_kick(VuDev *dev, int qidx)
{
    VuNetSplit *s = vns_of(dev);

    vns_net_resume(s->net, qidx / 2);
}
