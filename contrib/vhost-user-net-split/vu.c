/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split, vhost-user side: the device interface, the
 * split-hdr messages, front-end connections, and guest memory access.
 * Every guest address goes through the memory table; a bad one breaks
 * the queue (no more packets on it, error eventfd), never the process.
 */

#include "qemu/osdep.h"
#include <sys/eventfd.h>
#include <glib-unix.h>
#include "qemu/atomic.h"
#include "qemu/host-utils.h"
#include "standard-headers/linux/virtio_net.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "vns.h"


void vns_log(VuNetSplit *s, const char *fmt, ...)
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

bool vns_has_feature(VuDev *dev, unsigned int bit)
{
    return dev->features & (1ULL << bit);
}

/* Virtio header the driver gets: 12 bytes with VERSION_1 or MRG_RXBUF. */
size_t vns_vhdr_len(VuDev *dev)
{
    return vns_has_feature(dev, VIRTIO_F_VERSION_1) ||
           vns_has_feature(dev, VIRTIO_NET_F_MRG_RXBUF) ?
           sizeof(struct virtio_net_hdr_mrg_rxbuf) :
           sizeof(struct virtio_net_hdr);
}

/* Stop using queue pair @rq: its guest memory cannot be trusted. */
void vns_break_queue(VuNetSplit *s, uint32_t rq, const char *why)
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
bool vns_range_mapped(VuDev *dev, uint64_t gpa, uint64_t len)
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
bool vns_write_guest(VuDev *dev, uint64_t gpa, const void *buf,
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

/*
 * QEMU sends a vring's SET_VRING_CALL after its SET_VRING_KICK: in
 * between, a used entry could not be signalled (libvhost-user would call
 * the device broken).  The queue waits for its call fd.
 */
bool vns_vq_can_notify(VuVirtq *vq)
{
    return vq->call_fd >= 0;
}

/* --- vhost-user --------------------------------------------------------- */

/*
 * A tap with a vnet header carries the checksum and GSO offloads; QEMU
 * offers VIRTIO_NET_F_MQ only when the backend does.  A queue reset
 * (VIRTIO_F_RING_RESET) is a vring stop and start, which any front-end
 * may send at any time anyway, plus, for a receive queue, SET_RING with
 * no ring: nothing more to do.
 */
static uint64_t vns_get_features(VuDev *dev)
{
    VuNetSplit *s = vns_of(dev);

    return 1ULL << VIRTIO_NET_F_MRG_RXBUF |
           1ULL << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER |
           1ULL << VIRTIO_F_RING_RESET |
           (s->queue_pairs > 1 ? 1ULL << VIRTIO_NET_F_MQ : 0) |
           s->net->offloads;
}

/*
 * Every ring off and k back to 0.  The counters go on, as the device's
 * do from QEMU's start: these count from the backend's, across front-ends.
 */
static void vns_rings_drop(VuNetSplit *s)
{
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(s->rings); i++) {
        VnsRing *ring = &s->rings[i];

        ring->ring_addr = 0;
        ring->slot_size = ring->num_slots = ring->proto_mask = 0;
        ring->k = 0;
        ring->bench_slots = NULL;
    }
}

static void vns_set_features(VuDev *dev, uint64_t features)
{
    VuNetSplit *s = vns_of(dev);

    /* A driver without the feature has no rings. */
    if (!(features & (1ULL << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER))) {
        vns_rings_drop(s);
    }
    vns_net_set_features(s->net, features, vns_vhdr_len(dev));
}

static uint64_t vns_get_protocol_features(VuDev *dev)
{
    return 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK |
           1ULL << VHOST_USER_PROTOCOL_F_MQ |
           1ULL << VHOST_USER_PROTOCOL_F_NET_SPLIT_HDR;
}

static void vns_queue_set_started(VuDev *dev, int qidx, bool started)
{
    VuNetSplit *s = vns_of(dev);
    VuVirtq *vq = vu_get_queue(dev, qidx);

    vns_log(s, "queue %d %s", qidx, started ? "started" : "stopped");
    if (VNS_IS_RXQ(qidx) && started) {
        VnsRing *ring = &s->rings[qidx / 2];

        s->broken[qidx / 2] = false;
        /* Checked at SET_RING too, when the size was known. */
        if (ring->ring_addr && ring->num_slots < vq->vring.num) {
            vns_break_queue(s, qidx / 2,
                            "ring has fewer slots than the queue");
        }
    }
    vu_set_queue_handler(dev, vq, !started ? NULL :
                         VNS_IS_RXQ(qidx) ? vns_rx_kick : vns_tx_kick);
    if (VNS_IS_RXQ(qidx) && started) {
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
    if (c->rq_index >= s->queue_pairs) {
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
    if (vu_queue_started(dev, vq) && vns_vq_mapped(dev, vq) &&
        !vu_queue_empty(dev, vq)) {
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
                          VNS_RXQ(MIN(c.rq_index, s->queue_pairs - 1)));
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
        ok = st.rq_index < s->queue_pairs;
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

/* Does one fd of the memory table hold [@off, @off + @size)? */
static const char *vns_region_error(const VhostUserMemoryRegion *r, int fd)
{
    struct stat st;

    if (!r->memory_size ||
        r->guest_phys_addr + r->memory_size < r->guest_phys_addr ||
        r->userspace_addr + r->memory_size < r->userspace_addr ||
        r->mmap_offset + r->memory_size < r->mmap_offset) {
        return "region wraps around";
    }
    /* Beyond the end of the file a mapping faults: SIGBUS. */
    if (fd < 0 || fstat(fd, &st) < 0 ||
        (uint64_t)st.st_size < r->mmap_offset + r->memory_size) {
        return "region beyond the end of its fd";
    }
    return NULL;
}

/* Do the rings of @vq, @num entries, lie in the memory table? */
static bool vns_vring_mapped(VuDev *dev, uint64_t desc, uint64_t avail,
                             uint64_t used, unsigned int num)
{
    const struct { uint64_t qva, len; } r[] = {
        { desc, 16ULL * num },
        { avail, 6 + 2ULL * num },
        { used, 6 + 8ULL * num },
    };
    unsigned int i, j;

    for (i = 0; i < ARRAY_SIZE(r); i++) {
        for (j = 0; j < dev->nregions; j++) {
            VuDevRegion *reg = &dev->regions[j];

            if (r[i].qva >= reg->qva && r[i].qva - reg->qva < reg->size &&
                r[i].len <= reg->size - (r[i].qva - reg->qva)) {
                break;
            }
        }
        if (j == dev->nregions) {
            return false;
        }
    }
    return true;
}

/*
 * Can @vq's rings be used as they are now?  SET_VRING_NUM or a new
 * memory table after SET_VRING_ADDR can leave them partly unmapped.
 */
bool vns_vq_mapped(VuDev *dev, VuVirtq *vq)
{
    return vns_vring_mapped(dev, vq->vra.desc_user_addr,
                            vq->vra.avail_user_addr, vq->vra.used_user_addr,
                            vq->vring.num);
}

/*
 * vu_queue_pop() for a receive buffer, without its costs per buffer (a
 * malloc'ed element, a division, 48 KiB of scratch arrays on the stack):
 * a buffer in the shape drivers post for receive, one direct writable
 * descriptor inside one memory region, is taken into @store.  Anything
 * else, and any state libvhost-user would complain about, is left to
 * vu_queue_pop() itself, which panics or maps it as it always does.  The
 * result is the same element either way: the caller frees it unless it
 * is @store's.
 */
VuVirtqElement *vns_vq_pop_rx(VuDev *dev, VuVirtq *vq, VnsRxElem *store)
{
    unsigned int num = vq->vring.num, head;
    struct vring_desc desc;
    uint64_t len;
    void *va;

    if (unlikely(dev->broken || !vq->vring.avail || vq->resubmit_list ||
                 vq->inuse >= num || !num || vq->inflight)) {
        goto generic;
    }
    /* Reads avail->idx only once what it read last time is used up. */
    if (vu_queue_empty(dev, vq)) {
        return NULL;
    }
    smp_rmb();          /* the ring entry after the index, as vu_queue_pop */
    head = le16_to_cpu(qatomic_read(&vq->vring.avail->ring[
                           is_power_of_2(num) ? vq->last_avail_idx & (num - 1)
                                              : vq->last_avail_idx % num]));
    if (head >= num) {
        goto generic;
    }
    /* One copy: the driver can rewrite the descriptor under us. */
    memcpy(&desc, &vq->vring.desc[head], sizeof(desc));
    len = le32_to_cpu(desc.len);
    if (le16_to_cpu(desc.flags) != VRING_DESC_F_WRITE || !len) {
        goto generic;
    }
    va = vu_gpa_to_va(dev, &len, le64_to_cpu(desc.addr));
    if (!va || len != le32_to_cpu(desc.len)) {
        goto generic;
    }

    /*
     * Unlike vu_queue_pop(), no avail event per buffer: it is a line the
     * driver reads, and the backend needs a kick only once it waits for
     * buffers, when vns_vq_wait_rx() moves the event.
     */
    vq->last_avail_idx++;
    vq->inuse++;
    store->iov = (struct iovec) { .iov_base = va, .iov_len = len };
    store->elem = (VuVirtqElement) {
        .index = head, .in_num = 1, .in_sg = &store->iov,
    };
    return &store->elem;

generic:
    return vu_queue_pop(dev, vq, sizeof(VuVirtqElement));
}

/*
 * Receive queue @vq cannot take the next packet: ask the driver for a
 * kick when it adds any buffer.  False if it added one meanwhile, and
 * the packet should be tried again rather than wait for a kick that
 * may have come before the request.
 */
bool vns_vq_wait_rx(VuDev *dev, VuVirtq *vq)
{
    uint16_t seen = vq->shadow_avail_idx;

    /*
     * The avail event (or flag), a full barrier, then avail->idx again:
     * the driver writes the index, a barrier, then reads the event.
     */
    vu_queue_set_notification(dev, vq, true);
    return le16_to_cpu(qatomic_read(&vq->vring.avail->idx)) == seen &&
           vq->shadow_avail_idx == seen;
}

/*
 * What libvhost-user would take from the front-end unchecked, and index
 * or map with: why @vmsg is refused, or NULL.
 */
static const char *vns_msg_error(VuDev *dev, VhostUserMsg *vmsg)
{
    VhostUserMemory mem;
    VhostUserMemRegMsg reg;
    struct vhost_vring_addr a;
    unsigned int i;

    switch ((unsigned int)vmsg->request) {
    case VHOST_USER_SET_MEM_TABLE:
        memcpy(&mem, &vmsg->payload.memory, sizeof(mem));
        if (vmsg->size < offsetof(VhostUserMemory, regions) ||
            mem.nregions > VHOST_MEMORY_BASELINE_NREGIONS ||
            mem.nregions != vmsg->fd_num ||
            vmsg->size < offsetof(VhostUserMemory, regions) +
                         mem.nregions * sizeof(mem.regions[0])) {
            return "malformed SET_MEM_TABLE";
        }
        for (i = 0; i < mem.nregions; i++) {
            const char *err = vns_region_error(&mem.regions[i],
                                               vmsg->fds[i]);

            if (err) {
                return err;
            }
        }
        return NULL;
    case VHOST_USER_ADD_MEM_REG:
        if (vmsg->fd_num != 1 ||
            vmsg->size < sizeof(vmsg->payload.memreg)) {
            return "malformed ADD_MEM_REG";
        }
        memcpy(&reg, &vmsg->payload.memreg, sizeof(reg));
        return vns_region_error(&reg.region, vmsg->fds[0]);
    case VHOST_USER_SET_LOG_BASE: {
        struct stat st;

        if (vmsg->fd_num != 1 || vmsg->size != sizeof(vmsg->payload.log) ||
            !vmsg->payload.log.mmap_size ||
            vmsg->payload.log.mmap_offset + vmsg->payload.log.mmap_size <
            vmsg->payload.log.mmap_offset ||
            fstat(vmsg->fds[0], &st) < 0 ||
            (uint64_t)st.st_size < vmsg->payload.log.mmap_offset +
                                   vmsg->payload.log.mmap_size) {
            return "bad dirty log";
        }
        return NULL;
    }
    case VHOST_USER_SET_VRING_NUM:
    case VHOST_USER_SET_VRING_BASE:
    case VHOST_USER_GET_VRING_BASE:
        if (vmsg->size < sizeof(vmsg->payload.state) ||
            vmsg->payload.state.index >= dev->max_queues) {
            return "no such vring";
        }
        if (vmsg->request == VHOST_USER_SET_VRING_NUM &&
            (!vmsg->payload.state.num ||
             vmsg->payload.state.num > VIRTQUEUE_MAX_SIZE)) {
            return "bad vring size";
        }
        return NULL;
    case VHOST_USER_SET_VRING_ADDR:
        memcpy(&a, &vmsg->payload.addr, sizeof(a));
        if (vmsg->size < sizeof(a) || a.index >= dev->max_queues) {
            return "no such vring";
        }
        /* Split virtqueue alignment (virtio 1.x, 2.7). */
        if (a.desc_user_addr % 16 || a.avail_user_addr % 2 ||
            a.used_user_addr % 4) {
            return "vring not aligned";
        }
        if (!vns_vring_mapped(dev, a.desc_user_addr, a.avail_user_addr,
                              a.used_user_addr,
                              MAX(dev->vq[a.index].vring.num, 1))) {
            return "vring outside the memory table";
        }
        return NULL;
    case VHOST_USER_GET_INFLIGHT_FD:
    case VHOST_USER_SET_INFLIGHT_FD:
        return "inflight tracking not offered";
    default:
        return NULL;
    }
}

/*
 * Refuse @vmsg: the device is broken (libvhost-user stops using its
 * queues), the front-end gets a failure where it asked for a reply.
 */
static int vns_refuse(VuDev *dev, VhostUserMsg *vmsg, const char *why,
                      int *do_reply)
{
    int i;

    for (i = 0; i < vmsg->fd_num; i++) {
        close(vmsg->fds[i]);
    }
    vmsg->fd_num = 0;
    dev->broken = true;
    dev->panic(dev, why);
    if (vmsg->request == VHOST_USER_GET_VRING_BASE) {
        vmsg->flags &= ~VHOST_USER_NEED_REPLY_MASK;
        vmsg->payload.state.num = 0;
        vmsg->size = sizeof(vmsg->payload.state);
        *do_reply = 1;
        return 1;
    }
    *do_reply = !!(vmsg->flags & VHOST_USER_NEED_REPLY_MASK);
    vns_reply_u64(vmsg, 1);
    return 1;
}

static void vns_lost_frontend(VuNetSplit *s);

/* After a SET_VRING_CALL or _ENABLE: serve what waited for it. */
static gboolean vns_resume(gpointer opaque)
{
    VuNetSplit *s = opaque;
    VuDev *dev = &s->dev.parent;
    unsigned int i;

    if (!s->connected) {
        return G_SOURCE_REMOVE;
    }
    for (i = 0; i < s->queue_pairs; i++) {
        if (vu_queue_started(dev, vu_get_queue(dev, VNS_TXQ(i)))) {
            vns_tx_kick(dev, VNS_TXQ(i));
        }
        vns_rx_kick(dev, VNS_RXQ(i));
    }
    return G_SOURCE_REMOVE;
}

static int vns_process_msg(VuDev *dev, VhostUserMsg *vmsg, int *do_reply)
{
    VuNetSplit *s = vns_of(dev);
    bool ack = vmsg->flags & VHOST_USER_NEED_REPLY_MASK;
    const char *err;

    /*
     * Whatever the message, the front-end sees every frame taken so far:
     * GET_VRING_BASE, stop, reset, GET_STATE and SET_RING need k, the
     * slots and used->idx consistent, and the memory and log messages
     * must not come between a used entry and its index.
     */
    vns_rx_flush_all(s);
    /* Any message may move a vring or the memory under it: check again. */
    memset(s->rx_vring_mapped, 0, sizeof(s->rx_vring_mapped));

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
    err = vns_msg_error(dev, vmsg);
    if (err) {
        return vns_refuse(dev, vmsg, err, do_reply);
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

/* The front-end went away: forget it, then wait for the next one. */
static gboolean vns_disconnect(gpointer opaque)
{
    VuNetSplit *s = opaque;

    vns_log(s, "vhost-user connection closed");
    /* As if published frame by frame; nothing is left for the next one. */
    vns_rx_flush_all(s);
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
    for (i = 0; i < 2 * s->queue_pairs; i++) {
        VuVirtq *vq = vu_get_queue(dev, i);

        if (vq->err_fd >= 0) {
            eventfd_write(vq->err_fd, 1);
        }
    }
}

/* Serve the front-end on @conn: a new device, rings and all. */
bool vns_serve(VuNetSplit *s, int conn)
{
    vns_rings_drop(s);
    memset(s->broken, 0, sizeof(s->broken));
    memset(s->rx_unflushed, 0, sizeof(s->rx_unflushed));
    if (!vug_init(&s->dev, 2 * s->queue_pairs, conn, vns_panic,
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

gboolean vns_accept_ready(gint fd, GIOCondition cond, gpointer opaque)
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

