/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split: a vhost-user virtio-net backend that does split
 * transport header receive (docs/specs/virtio-net-split-hdr.rst, section
 * "vhost-user").
 *
 * Receive places packets exactly as QEMU's virtio-net device does: classic
 * mergeable receive on a queue without a header ring; on a queue with one,
 * the virtio header and (split) the L2..L4 headers in slot k mod N and the
 * payload from offset 0 of the data buffers.  The split decision is the
 * device's own file, hw/net/virtio-net-splithdr-policy.c, linked here.
 *
 * Network side (this version): a stream socket whose records are frames
 * behind a 4-byte big-endian length, as -netdev socket/stream send them.
 * One queue pair.  Every guest address goes through the memory table; a
 * bad one breaks the queue (no more packets on it, error eventfd), never
 * the process.
 */

#include "qemu/osdep.h"
#include <sys/eventfd.h>
#include <glib-unix.h>
#include "qemu/bswap.h"
#include "qemu/iov.h"
#include "qemu/atomic.h"
#include "qemu/cutils.h"
#include "qemu/host-utils.h"
#include "standard-headers/linux/virtio_net.h"
#include "libvhost-user-glib.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "virtio-net-splithdr-policy.h"

#define VNS_QUEUE_PAIRS 1
#define VNS_RX_QUEUE 0
#define VNS_TX_QUEUE 1
#define VNS_MAX_CHAIN 1024              /* VIRTQUEUE_MAX_SIZE */
/* Largest record -netdev stream sends: NET_BUFSIZE. */
#define VNS_MAX_FRAME (4096 + 65536)
#define VNS_RXBUF_SIZE (4 * (4 + VNS_MAX_FRAME))

typedef struct VnsRing {
    /* From SET_RING; ring_addr 0: classic receive. */
    uint64_t ring_addr;
    uint32_t slot_size;
    uint32_t num_slots;
    uint32_t proto_mask;
    uint32_t k;                         /* packets delivered since SET_RING */

    /* Counters, as QEMU's split-hdr-stats. */
    uint64_t verdicts[SPLITHDR_VERDICT__MAX];
    uint64_t header_bytes;
    uint64_t payload_bytes;
} VnsRing;

typedef struct VuNetSplit {
    VugDev dev;
    GMainLoop *loop;
    bool verbose;
    bool connected;                     /* dev is initialized */
    bool disconnecting;                 /* vns_disconnect() is due */
    int listen_fd;                      /* -1: serve one front-end only */
    guint accept_src;

    VnsRing rings[VNS_QUEUE_PAIRS];
    bool broken[VNS_QUEUE_PAIRS];       /* queue stopped on a bad address */

    int net_fd;
    guint net_src;
    uint8_t *rxbuf;                     /* records read, not yet delivered */
    size_t rx_len;
    bool rx_waiting;                    /* head record waits for buffers */

    /* Aligned: the virtio header is built in place at offset 4. */
    uint8_t slot[VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MAX] QEMU_ALIGNED(8);
    uint8_t txbuf[4 + VNS_MAX_FRAME];   /* one record to send */
    VuVirtqElement *elems[VNS_MAX_CHAIN];
    size_t lens[VNS_MAX_CHAIN];
} VuNetSplit;

static VuNetSplit *vns_of(VuDev *dev)
{
    return container_of(dev, VuNetSplit, dev.parent);
}

static void vns_log(VuNetSplit *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void vns_log(VuNetSplit *s, const char *fmt, ...)
{
    va_list ap;

    if (!s->verbose) {
        return;
    }
    va_start(ap, fmt);
    fprintf(stderr, "vhost-user-net-split: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static bool vns_has_feature(VuDev *dev, unsigned int bit)
{
    return dev->features & (1ULL << bit);
}

/* Virtio header the driver gets: 12 bytes with VERSION_1 or MRG_RXBUF. */
static size_t vns_vhdr_len(VuDev *dev)
{
    return vns_has_feature(dev, VIRTIO_F_VERSION_1) ||
           vns_has_feature(dev, VIRTIO_NET_F_MRG_RXBUF) ?
           sizeof(struct virtio_net_hdr_mrg_rxbuf) :
           sizeof(struct virtio_net_hdr);
}

/* Stop using queue pair @rq: its guest memory cannot be trusted. */
static void vns_break_queue(VuNetSplit *s, uint32_t rq, const char *why)
{
    VuVirtq *vq = vu_get_queue(&s->dev.parent, 2 * rq);

    fprintf(stderr, "vhost-user-net-split: receive queue %u broken: %s\n",
            rq, why);
    s->broken[rq] = true;
    if (vq->err_fd >= 0) {
        eventfd_write(vq->err_fd, 1);
    }
}

/*
 * Mark [@gpa, @gpa + @len) dirty for migration (VHOST_F_LOG_ALL), as
 * libvhost-user does for the buffers it fills; its vu_log_write() is
 * static, hence this small copy.
 */
static void vns_log_write(VuDev *dev, uint64_t gpa, uint64_t len)
{
    uint64_t page;

    if (!vns_has_feature(dev, VHOST_F_LOG_ALL) || !dev->log_table || !len) {
        return;
    }
    if ((gpa + len - 1) / VHOST_LOG_PAGE / 8 >= dev->log_size) {
        return;
    }
    for (page = gpa / VHOST_LOG_PAGE; page * VHOST_LOG_PAGE < gpa + len;
         page++) {
        qatomic_or(&dev->log_table[page / 8], 1 << (page % 8));
    }
    if (dev->log_call_fd != -1) {
        eventfd_write(dev->log_call_fd, 1);
    }
}

/* Is [@gpa, @gpa + @len) all in the memory table? */
static bool vns_range_mapped(VuDev *dev, uint64_t gpa, uint64_t len)
{
    while (len) {
        uint64_t l = len;

        if (!vu_gpa_to_va(dev, &l, gpa) || !l) {
            return false;
        }
        gpa += l;
        len -= l;
    }
    return true;
}

/* Copy @len bytes to guest @gpa through the memory table. */
static bool vns_write_guest(VuDev *dev, uint64_t gpa, const void *buf,
                            uint64_t len)
{
    const uint8_t *p = buf;
    uint64_t start = gpa, left = len;

    if (!vns_range_mapped(dev, gpa, len)) {
        return false;
    }
    while (left) {
        uint64_t l = left;
        void *va = vu_gpa_to_va(dev, &l, gpa);

        memcpy(va, p, l);
        gpa += l;
        p += l;
        left -= l;
    }
    vns_log_write(dev, start, len);
    return true;
}

/* --- Receive ------------------------------------------------------------ */

static void vns_discard(VuNetSplit *s, VuVirtq *vq, unsigned int n)
{
    unsigned int i;

    vu_queue_rewind(&s->dev.parent, vq, n);
    for (i = 0; i < n; i++) {
        free(s->elems[i]);
    }
}

static void vns_publish(VuNetSplit *s, VuVirtq *vq, unsigned int n)
{
    VuDev *dev = &s->dev.parent;
    unsigned int i;

    for (i = 0; i < n; i++) {
        vu_queue_fill(dev, vq, s->elems[i], s->lens[i], i);
        free(s->elems[i]);
    }
    vu_queue_flush(dev, vq, n);
    vu_queue_notify(dev, vq);
}

/*
 * Classic receive, as virtio_net_receive_rcu(): the virtio header (all
 * zero, no vnet header from a stream peer) then the frame, each buffer
 * filled before the next.  Returns false when the packet must wait.
 */
static bool vns_rx_classic(VuNetSplit *s, VuVirtq *vq, const uint8_t *frame,
                           size_t size)
{
    VuDev *dev = &s->dev.parent;
    bool mrg = vns_has_feature(dev, VIRTIO_NET_F_MRG_RXBUF);
    size_t hlen = vns_vhdr_len(dev), offset = 0;
    struct virtio_net_hdr_mrg_rxbuf vhdr = { 0 };
    unsigned int i = 0;

    if (mrg ? !vu_queue_avail_bytes(dev, vq, size + hlen, 0)
            : vu_queue_empty(dev, vq)) {
        return false;
    }
    while (offset < size) {
        VuVirtqElement *elem;
        size_t total = 0, guest_off = 0;

        if (i == VNS_MAX_CHAIN) {
            vns_break_queue(s, 0, "buffer chain too long");
            goto err;
        }
        elem = vu_queue_pop(dev, vq, sizeof(VuVirtqElement));
        if (!elem) {
            if (i) {
                vns_break_queue(s, 0, "queue ran dry");
            }
            goto err;
        }
        if (elem->in_num < 1) {
            vu_queue_rewind(dev, vq, 1);
            free(elem);
            vns_break_queue(s, 0, "buffer without writable descriptors");
            goto err;
        }
        if (i == 0) {
            if (mrg && iov_size(elem->in_sg, elem->in_num) < hlen) {
                vu_queue_rewind(dev, vq, 1);
                free(elem);
                vns_break_queue(s, 0, "buffer smaller than the header");
                goto err;
            }
            iov_from_buf(elem->in_sg, elem->in_num, 0, &vhdr,
                         sizeof(struct virtio_net_hdr));
            total = guest_off = hlen;
        }
        total += iov_from_buf(elem->in_sg, elem->in_num, guest_off,
                              frame + offset, size - offset);
        offset += total - guest_off;
        s->elems[i] = elem;
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
    vns_publish(s, vq, i);
    return true;

err:
    vns_discard(s, vq, i);
    return true;
}

/*
 * Split receive, as splithdr_deliver() in hw/net/virtio-net-splithdr.c:
 * classify, take data buffers and fill them with the payload, write slot
 * k mod N, then publish.  Returns false when the packet must wait.
 */
static bool vns_rx_split(VuNetSplit *s, VuVirtq *vq, VnsRing *ring,
                         const uint8_t *frame, size_t flen)
{
    VuDev *dev = &s->dev.parent;
    size_t vhdr_len = vns_vhdr_len(dev);
    struct virtio_net_hdr_mrg_rxbuf *vhdr =
        (void *)(s->slot + VIRTIO_NET_SPLIT_HDR_PREFIX_LEN);
    size_t hdr_len = 0, offset, slot_len;
    SplitHdrParse parse = { 0 };
    SplitHdrVerdict verdict;
    unsigned int i = 0;
    uint64_t slot_addr;

    splithdr_parse(frame, flen, &parse);
    verdict = splithdr_classify(frame, flen, &parse, ring->proto_mask,
                                ring->slot_size -
                                VIRTIO_NET_SPLIT_HDR_PREFIX_LEN - vhdr_len,
                                &hdr_len);
    if (verdict != SPLITHDR_SPLIT) {
        hdr_len = 0;
    }
    /* A packet without payload still takes one buffer, used length 0. */
    if (!vu_queue_avail_bytes(dev, vq, MAX(flen - hdr_len, 1), 0)) {
        return false;
    }

    memset(vhdr, 0, vhdr_len);
    offset = hdr_len;
    do {
        VuVirtqElement *elem;

        if (i == VNS_MAX_CHAIN) {
            vns_break_queue(s, 0, "buffer chain too long");
            goto err;
        }
        elem = vu_queue_pop(dev, vq, sizeof(VuVirtqElement));
        if (!elem) {
            if (i) {
                vns_break_queue(s, 0, "queue ran dry");
            }
            goto err;
        }
        if (elem->in_num < 1) {
            vu_queue_rewind(dev, vq, 1);
            free(elem);
            vns_break_queue(s, 0, "buffer without writable descriptors");
            goto err;
        }
        s->lens[i] = iov_from_buf(elem->in_sg, elem->in_num, 0,
                                  frame + offset, flen - offset);
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
    /* Before the used entries: the driver owns the slot from there on. */
    if (!vns_write_guest(dev, slot_addr, s->slot, slot_len)) {
        vns_break_queue(s, 0, "slot outside the memory table");
        goto err;
    }
    vns_publish(s, vq, i);

    ring->verdicts[verdict]++;
    ring->header_bytes += hdr_len;
    ring->payload_bytes += flen - hdr_len;
    ring->k++;
    return true;

err:
    vns_discard(s, vq, i);
    return true;
}

/*
 * QEMU sends a vring's SET_VRING_CALL after its SET_VRING_KICK: in
 * between, a used entry could not be signalled (libvhost-user would call
 * the device broken).  The queue waits for its call fd.
 */
static bool vns_vq_can_notify(VuVirtq *vq)
{
    return vq->call_fd >= 0;
}

/* Deliver one frame on receive queue 0; false: wait for buffers. */
static bool vns_rx_frame(VuNetSplit *s, const uint8_t *frame, size_t len)
{
    VuDev *dev = &s->dev.parent;
    VuVirtq *vq;

    if (!s->connected) {
        return false;                   /* held for the next front-end */
    }
    vq = vu_get_queue(dev, VNS_RX_QUEUE);
    if (dev->broken || s->broken[0]) {
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
    if (!len) {
        return true;                    /* nothing to deliver: dropped */
    }
    if (s->rings[0].ring_addr) {
        return vns_rx_split(s, vq, &s->rings[0], frame, len);
    }
    return vns_rx_classic(s, vq, frame, len);
}

static void vns_net_watch(VuNetSplit *s, bool on);

/* Deliver the complete records in rxbuf, in order, until one must wait. */
static void vns_rx_drain(VuNetSplit *s)
{
    size_t off = 0;

    s->rx_waiting = false;
    while (s->rx_len - off >= 4) {
        uint32_t len = ldl_be_p(s->rxbuf + off);

        if (len > VNS_MAX_FRAME) {
            fprintf(stderr, "vhost-user-net-split: network record of %u "
                    "bytes; closing the network side\n", len);
            vns_net_watch(s, false);
            close(s->net_fd);
            s->net_fd = -1;
            s->rx_len = 0;
            return;
        }
        if (s->rx_len - off < 4 + len) {
            break;
        }
        if (!vns_rx_frame(s, s->rxbuf + off + 4, len)) {
            s->rx_waiting = true;
            break;
        }
        off += 4 + len;
    }
    memmove(s->rxbuf, s->rxbuf + off, s->rx_len - off);
    s->rx_len -= off;
    /* Read on while there is room; a waiting record resumes on a kick. */
    vns_net_watch(s, s->net_fd >= 0 && s->rx_len < VNS_RXBUF_SIZE &&
                     !s->rx_waiting);
}

static gboolean vns_net_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    VuNetSplit *s = opaque;
    ssize_t r;

    r = read(s->net_fd, s->rxbuf + s->rx_len, VNS_RXBUF_SIZE - s->rx_len);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        vns_log(s, "network side closed");
        s->net_src = 0;
        close(s->net_fd);
        s->net_fd = -1;
        return G_SOURCE_REMOVE;
    }
    if (r > 0) {
        s->rx_len += r;
    }
    vns_rx_drain(s);
    return G_SOURCE_CONTINUE;
}

static void vns_net_watch(VuNetSplit *s, bool on)
{
    if (on && !s->net_src) {
        s->net_src = g_unix_fd_add(s->net_fd, G_IO_IN | G_IO_HUP,
                                   vns_net_readable, s);
    } else if (!on && s->net_src) {
        g_source_remove(s->net_src);
        s->net_src = 0;
    }
}

/* The driver made receive buffers available. */
static void vns_rx_kick(VuDev *dev, int qidx)
{
    VuNetSplit *s = vns_of(dev);

    if (s->rx_waiting || (s->net_fd >= 0 && !s->net_src)) {
        vns_rx_drain(s);
    }
}

/* --- Transmit ----------------------------------------------------------- */

/* Each packet: drop the virtio header, send the frame as one record. */
static void vns_tx_kick(VuDev *dev, int qidx)
{
    VuNetSplit *s = vns_of(dev);
    VuVirtq *vq = vu_get_queue(dev, qidx);
    size_t hlen = vns_vhdr_len(dev);
    uint8_t *buf = s->txbuf;

    if (!vns_vq_can_notify(vq)) {
        return;                         /* resumes on SET_VRING_CALL */
    }
    for (;;) {
        VuVirtqElement *elem = vu_queue_pop(dev, vq, sizeof(*elem));
        size_t size, len;

        if (!elem) {
            break;
        }
        size = iov_size(elem->out_sg, elem->out_num);
        if (size >= hlen && s->net_fd >= 0) {
            len = MIN(size - hlen, VNS_MAX_FRAME);
            iov_to_buf(elem->out_sg, elem->out_num, hlen, buf + 4, len);
            stl_be_p(buf, len);
            if (qemu_write_full(s->net_fd, buf, 4 + len) != 4 + len) {
                vns_log(s, "network write failed: %s", strerror(errno));
            }
        }
        vu_queue_push(dev, vq, elem, 0);
        free(elem);
    }
    vu_queue_notify(dev, vq);
}

/* --- vhost-user --------------------------------------------------------- */

static uint64_t vns_get_features(VuDev *dev)
{
    return 1ULL << VIRTIO_NET_F_MRG_RXBUF |
           1ULL << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER;
}

static void vns_set_features(VuDev *dev, uint64_t features)
{
    VuNetSplit *s = vns_of(dev);

    /* A driver without the feature has no rings. */
    if (!(features & (1ULL << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER))) {
        memset(s->rings, 0, sizeof(s->rings));
    }
}

static uint64_t vns_get_protocol_features(VuDev *dev)
{
    return 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK |
           1ULL << VHOST_USER_PROTOCOL_F_NET_SPLIT_HDR;
}

static void vns_queue_set_started(VuDev *dev, int qidx, bool started)
{
    VuNetSplit *s = vns_of(dev);
    VuVirtq *vq = vu_get_queue(dev, qidx);

    vns_log(s, "queue %d %s", qidx, started ? "started" : "stopped");
    if (qidx == VNS_RX_QUEUE && started) {
        VnsRing *ring = &s->rings[0];

        s->broken[0] = false;
        /* Checked at SET_RING too, when the size was known. */
        if (ring->ring_addr && ring->num_slots < vq->vring.num) {
            vns_break_queue(s, 0, "ring has fewer slots than the queue");
        }
    }
    vu_set_queue_handler(dev, vq, !started ? NULL :
                         qidx == VNS_RX_QUEUE ? vns_rx_kick : vns_tx_kick);
    if (qidx == VNS_RX_QUEUE && started) {
        vns_rx_kick(dev, qidx);
    }
}

/* Why SET_RING @c for a receive queue is refused, or NULL. */
static const char *vns_ring_error(VuNetSplit *s, VuVirtq *vq,
                                  const struct virtio_net_split_hdr_set *c)
{
    VuDev *dev = &s->dev.parent;
    uint64_t len;

    if (!vns_has_feature(dev, VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER)) {
        return "feature not negotiated";
    }
    if (c->rq_index >= VNS_QUEUE_PAIRS) {
        return "no such receive queue";
    }
    if (c->reserved) {
        return "reserved field set";
    }
    if (!c->ring_addr) {
        return NULL;
    }
    if (!c->proto_mask || (c->proto_mask & ~VIRTIO_NET_SPLIT_HDR_PROTO_ALL)) {
        return "bad proto_mask";
    }
    if (!is_power_of_2(c->slot_size) ||
        c->slot_size < VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MIN ||
        c->slot_size > VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MAX) {
        return "bad slot_size";
    }
    if (!is_power_of_2(c->num_slots) ||
        c->num_slots > VIRTIO_NET_SPLIT_HDR_NUM_SLOTS_MAX ||
        (vq->vring.num && c->num_slots < vq->vring.num)) {
        return "bad num_slots";
    }
    if (c->ring_addr % VIRTIO_NET_SPLIT_HDR_RING_ALIGN) {
        return "ring_addr not aligned";
    }
    len = (uint64_t)c->num_slots * c->slot_size;
    if (c->ring_addr + len < c->ring_addr ||
        !vns_range_mapped(dev, c->ring_addr, len)) {
        return "ring outside the memory table";
    }
    /* A running queue that holds buffers would race with the slots. */
    if (vu_queue_started(dev, vq) && !vu_queue_empty(dev, vq)) {
        return "receive queue holds buffers";
    }
    return NULL;
}

static void vns_reply_u64(VhostUserMsg *vmsg, uint64_t val)
{
    vmsg->flags &= ~VHOST_USER_NEED_REPLY_MASK;
    vmsg->payload.u64 = val;
    vmsg->size = sizeof(vmsg->payload.u64);
    vmsg->fd_num = 0;
}

static bool vns_set_ring(VuNetSplit *s, VhostUserMsg *vmsg)
{
    struct virtio_net_split_hdr_set c;
    const char *err = "bad message size";
    VuVirtq *vq;

    if (vmsg->size == sizeof(c)) {
        memcpy(&c, &vmsg->payload, sizeof(c));
        vq = vu_get_queue(&s->dev.parent,
                          2 * MIN(c.rq_index, VNS_QUEUE_PAIRS - 1));
        err = vns_ring_error(s, vq, &c);
    }
    if (!err) {
        VnsRing *ring = &s->rings[c.rq_index];

        ring->ring_addr = c.ring_addr;
        ring->slot_size = c.slot_size;
        ring->num_slots = c.num_slots;
        ring->proto_mask = c.proto_mask;
        ring->k = 0;
        s->broken[c.rq_index] = false;
        vns_log(s, "SET_RING rq %u slot_size %u num_slots %u mask 0x%x "
                "ring 0x%" PRIx64, c.rq_index, c.slot_size, c.num_slots,
                c.proto_mask, c.ring_addr);
    } else {
        vns_log(s, "SET_RING refused: %s", err);
    }
    vns_reply_u64(vmsg, err ? 1 : 0);
    return true;
}

static bool vns_state(VuNetSplit *s, VhostUserMsg *vmsg, bool set)
{
    struct vhost_user_net_split_hdr_state st;
    bool ok = vmsg->size == sizeof(st);

    if (ok) {
        memcpy(&st, &vmsg->payload, sizeof(st));
        ok = st.rq_index < VNS_QUEUE_PAIRS;
    }
    if (!set) {
        /* A reply for no queue of ours: the front-end sees rq_index. */
        if (!ok) {
            st.rq_index = UINT32_MAX;
            st.k = 0;
        } else {
            st.k = s->rings[st.rq_index].k;
        }
        vns_log(s, "GET_STATE rq %u: k %u", st.rq_index, st.k);
        memcpy(&vmsg->payload, &st, sizeof(st));
        vmsg->size = sizeof(st);
        vmsg->fd_num = 0;
        return true;
    }
    ok = ok && s->rings[st.rq_index].ring_addr;
    if (ok) {
        s->rings[st.rq_index].k = st.k;
        vns_log(s, "SET_STATE rq %u: k %u", st.rq_index, st.k);
    }
    vns_reply_u64(vmsg, ok ? 0 : 1);
    return true;
}

static void vns_lost_frontend(VuNetSplit *s);

/* After a SET_VRING_CALL or _ENABLE: serve what waited for it. */
static gboolean vns_resume(gpointer opaque)
{
    VuNetSplit *s = opaque;
    VuDev *dev = &s->dev.parent;

    if (!s->connected) {
        return G_SOURCE_REMOVE;
    }
    if (vu_queue_started(dev, vu_get_queue(dev, VNS_TX_QUEUE))) {
        vns_tx_kick(dev, VNS_TX_QUEUE);
    }
    vns_rx_kick(dev, VNS_RX_QUEUE);
    return G_SOURCE_REMOVE;
}

static int vns_process_msg(VuDev *dev, VhostUserMsg *vmsg, int *do_reply)
{
    VuNetSplit *s = vns_of(dev);
    bool ack = vmsg->flags & VHOST_USER_NEED_REPLY_MASK;

    /*
     * libvhost-user reads the end of the connection as a message of
     * request 0 (VHOST_USER_NONE) and exits the process on it; serve the
     * next front-end instead, or leave through main()'s cleanup.
     */
    if (vmsg->request == VHOST_USER_NONE) {
        vns_lost_frontend(s);
        *do_reply = 0;
        return 1;
    }
    /* libvhost-user takes the message; act once it has. */
    if (vmsg->request == VHOST_USER_SET_VRING_CALL ||
        vmsg->request == VHOST_USER_SET_VRING_ENABLE) {
        g_idle_add(vns_resume, s);
        return 0;
    }

    /* SET_RING and SET_STATE answer only when asked (REPLY_ACK). */
    switch ((unsigned int)vmsg->request) {
    case VHOST_USER_NET_SPLIT_HDR_SET_RING:
        *do_reply = vns_set_ring(s, vmsg) && ack;
        return 1;
    case VHOST_USER_NET_SPLIT_HDR_GET_STATE:
        *do_reply = vns_state(s, vmsg, false);
        return 1;
    case VHOST_USER_NET_SPLIT_HDR_SET_STATE:
        *do_reply = vns_state(s, vmsg, true) && ack;
        return 1;
    default:
        return 0;
    }
}

static const VuDevIface vns_iface = {
    .get_features = vns_get_features,
    .set_features = vns_set_features,
    .get_protocol_features = vns_get_protocol_features,
    .queue_set_started = vns_queue_set_started,
    .process_msg = vns_process_msg,
};

/* libvhost-user-glib's report of a failed vhost-user message read. */
#define VNS_DISPATCH_FAILED "Error processing vhost message"

static gboolean vns_accept_ready(gint fd, GIOCondition cond,
                                 gpointer opaque);

/* The front-end went away: forget it, then wait for the next one. */
static gboolean vns_disconnect(gpointer opaque)
{
    VuNetSplit *s = opaque;

    vns_log(s, "vhost-user connection closed");
    vu_deinit(&s->dev.parent);
    vug_deinit(&s->dev);
    s->connected = false;
    s->disconnecting = false;
    if (s->listen_fd < 0) {
        g_main_loop_quit(s->loop);
    } else {
        s->accept_src = g_unix_fd_add(s->listen_fd, G_IO_IN,
                                      vns_accept_ready, s);
    }
    return G_SOURCE_REMOVE;
}

/* Tear the connection down once the library's callback has returned. */
static void vns_lost_frontend(VuNetSplit *s)
{
    if (!s->disconnecting) {
        s->disconnecting = true;
        /* Before the dead socket's next wake-up: it stays readable. */
        g_idle_add_full(G_PRIORITY_HIGH, vns_disconnect, s, NULL);
    }
}

static void vns_panic(VuDev *dev, const char *msg)
{
    VuNetSplit *s = vns_of(dev);
    int i;

    /*
     * The connection failed or spoke nonsense: drop it.  Anything else is
     * the library refusing guest input: the device stays broken, the
     * process serves on.
     */
    if (msg && !strcmp(msg, VNS_DISPATCH_FAILED)) {
        vns_lost_frontend(s);
        return;
    }
    fprintf(stderr, "vhost-user-net-split: device broken: %s\n",
            msg ? msg : "");
    for (i = 0; i < 2 * VNS_QUEUE_PAIRS; i++) {
        VuVirtq *vq = vu_get_queue(dev, i);

        if (vq->err_fd >= 0) {
            eventfd_write(vq->err_fd, 1);
        }
    }
}

/* --- main ---------------------------------------------------------------- */

static char *opt_socket_path;
static int opt_fd = -1;
static int opt_net_fd = -1;
static char *opt_net_path;
static gboolean opt_print_caps;
static gboolean opt_verbose;

static GOptionEntry entries[] = {
    { "print-capabilities", 'c', 0, G_OPTION_ARG_NONE, &opt_print_caps,
      "Print capabilities", NULL },
    { "socket-path", 's', 0, G_OPTION_ARG_FILENAME, &opt_socket_path,
      "vhost-user socket to listen on", "PATH" },
    { "fd", 'f', 0, G_OPTION_ARG_INT, &opt_fd,
      "vhost-user socket (listening or connected) as this fd", "FDNUM" },
    { "net-fd", 0, 0, G_OPTION_ARG_INT, &opt_net_fd,
      "network side: a connected stream socket", "FDNUM" },
    { "net-connect", 0, 0, G_OPTION_ARG_FILENAME, &opt_net_path,
      "network side: connect to this Unix stream socket", "PATH" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
      "log vhost-user events to stderr", NULL },
    { NULL, }
};

/* Serve the front-end on @conn: a new device, rings and all. */
static bool vns_serve(VuNetSplit *s, int conn)
{
    memset(s->rings, 0, sizeof(s->rings));
    memset(s->broken, 0, sizeof(s->broken));
    if (!vug_init(&s->dev, 2 * VNS_QUEUE_PAIRS, conn, vns_panic,
                  &vns_iface)) {
        fprintf(stderr, "vhost-user-net-split: libvhost-user-glib "
                "failed to initialize\n");
        close(conn);
        return false;
    }
    s->connected = true;
    vns_log(s, "vhost-user front-end connected");
    return true;
}

static gboolean vns_accept_ready(gint fd, GIOCondition cond,
                                 gpointer opaque)
{
    VuNetSplit *s = opaque;
    int conn = accept(fd, NULL, NULL);

    if (conn < 0) {
        return G_SOURCE_CONTINUE;       /* EINTR, EAGAIN: next time */
    }
    s->accept_src = 0;
    if (!vns_serve(s, conn)) {
        g_main_loop_quit(s->loop);
    }
    return G_SOURCE_REMOVE;
}

static bool vns_is_listening(int fd)
{
    int listening = 0;
    socklen_t len = sizeof(listening);

    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 &&
           listening;
}

static int vns_listen(const char *path)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    if (fd < 0 || strlen(path) >= sizeof(un.sun_path)) {
        return -1;
    }
    pstrcpy(un.sun_path, sizeof(un.sun_path), path);
    unlink(path);
    if (bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 ||
        listen(fd, 1) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int vns_connect(const char *path)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    if (fd < 0 || strlen(path) >= sizeof(un.sun_path)) {
        return -1;
    }
    pstrcpy(un.sun_path, sizeof(un.sun_path), path);
    if (connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static gboolean vns_sigterm(gpointer opaque)
{
    VuNetSplit *s = opaque;

    vns_log(s, "SIGTERM: exiting");
    g_main_loop_quit(s->loop);
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GOptionContext) context = NULL;
    VuNetSplit *s;
    int fd;

    context = g_option_context_new("- vhost-user-net-split backend");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        fprintf(stderr, "option parsing failed: %s\n", error->message);
        return EXIT_FAILURE;
    }
    if (opt_print_caps) {
        printf("{\n  \"type\": \"net\"\n}\n");
        return EXIT_SUCCESS;
    }
    if (!!opt_socket_path + (opt_fd != -1) != 1) {
        fprintf(stderr, "give exactly one of --socket-path and --fd\n");
        return EXIT_FAILURE;
    }
    if ((opt_net_fd != -1) + !!opt_net_path != 1) {
        fprintf(stderr, "give exactly one of --net-fd and --net-connect\n");
        return EXIT_FAILURE;
    }

    s = g_new0(VuNetSplit, 1);
    s->verbose = opt_verbose;
    s->listen_fd = -1;
    /* First: a SIGTERM from here on takes the clean way out. */
    s->loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGTERM, vns_sigterm, s);
    g_unix_signal_add(SIGINT, vns_sigterm, s);
    s->rxbuf = g_malloc(VNS_RXBUF_SIZE);
    s->net_fd = opt_net_fd != -1 ? opt_net_fd : vns_connect(opt_net_path);
    if (s->net_fd < 0) {
        fprintf(stderr, "network side: %s\n", strerror(errno));
        return EXIT_FAILURE;
    }
    if (!g_unix_set_fd_nonblocking(s->net_fd, true, NULL)) {
        fprintf(stderr, "network side: cannot make it non-blocking\n");
        return EXIT_FAILURE;
    }

    fd = opt_socket_path ? vns_listen(opt_socket_path) : opt_fd;
    if (fd < 0) {
        fprintf(stderr, "vhost-user socket: %s\n", strerror(errno));
        return EXIT_FAILURE;
    }

    /*
     * A listening socket (--socket-path, or --fd given one) serves one
     * front-end after the other, so that QEMU can reconnect; a connected
     * --fd serves that one front-end.  Accepting in the main loop lets
     * SIGTERM end a backend that waits for its first front-end, too.
     */
    if (vns_is_listening(fd)) {
        s->listen_fd = fd;
        if (!g_unix_set_fd_nonblocking(fd, true, NULL)) {
            fprintf(stderr, "vhost-user socket: cannot make it "
                    "non-blocking\n");
            return EXIT_FAILURE;
        }
        s->accept_src = g_unix_fd_add(fd, G_IO_IN, vns_accept_ready, s);
    } else if (!vns_serve(s, fd)) {
        return EXIT_FAILURE;
    }
    vns_net_watch(s, true);

    g_main_loop_run(s->loop);

    vns_net_watch(s, false);
    if (s->connected) {
        vu_deinit(&s->dev.parent);
        vug_deinit(&s->dev);
    }
    if (s->accept_src) {
        g_source_remove(s->accept_src);
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    if (s->net_fd >= 0) {
        close(s->net_fd);
    }
    if (opt_socket_path) {
        unlink(opt_socket_path);
    }
    g_main_loop_unref(s->loop);
    g_free(s->rxbuf);
    g_free(s);
    return EXIT_SUCCESS;
}
