/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The split-hdr qtests' driver; see virtio-net-splithdr-rig.h.
 */

#include "qemu/osdep.h"
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include "libqtest-single.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qemu/host-utils.h"
#include "qemu/iov.h"
#include "qemu/module.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qbool.h"
#include "standard-headers/linux/virtio_net.h"
#include "standard-headers/linux/virtio_pci.h"
#include "standard-headers/linux/virtio_ring.h"
#include "standard-headers/linux/virtio_config.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "libqos/qgraph.h"
#include "libqos/virtio.h"
#include "libqos/virtio-pci.h"
#include "libqos/virtio-net.h"
#include "virtio-net-splithdr-rig.h"

/* ---- The test's driver: one receive queue, control queue ---------------- */

/* Drive receive queue @rq (receiveq(rq + 1), virtqueue 2 * rq). */
void rig_init_queue(Rig *r, QVirtioNet *net, QGuestAllocator *alloc,
                    int sock, uint16_t rq)
{
    int i;

    memset(r, 0, sizeof(*r));
    r->qts = global_qtest;
    r->net = net;
    r->vdev = net->vdev;
    r->alloc = alloc;
    r->rq = rq;
    g_assert_cmpint(2 * rq, <, net->n_queues - 1);
    r->rxq = net->queues[2 * rq];
    r->ctrlq = net->queues[net->n_queues - 1];
    r->sock = sock;
    r->vhdr_len = r->vdev->features & (1ull << VIRTIO_NET_F_HASH_REPORT) ?
                  VHDR_HASH_LEN : VHDR_LEN;
    g_assert_cmpint(r->rxq->size, ==, RX_QSIZE);
    for (i = 0; i < NUM_BUFS; i++) {
        r->bufs[i] = guest_alloc(alloc, BUF_SIZE);
    }
    r->ctrl_mem = guest_alloc(alloc, RIG_CTRL_MAX + 16);
}

void rig_init(Rig *r, QVirtioNet *net, QGuestAllocator *alloc,
              int sock)
{
    rig_init_queue(r, net, alloc, sock, 0);
}

/*
 * Write descriptor @i of rxq as the test wants it, valid or not: a hostile
 * guest's buffers (read-only, zero-sized, looping chains) are built here.
 */
void rig_write_desc(Rig *r, uint16_t i, uint64_t addr, uint32_t len,
                    uint16_t flags, uint16_t next)
{
    QVirtQueue *vq = r->rxq;

    qtest_writeq(r->qts, vq->desc + 16 * i, addr);
    qtest_writel(r->qts, vq->desc + 16 * i + 8, len);
    qtest_writew(r->qts, vq->desc + 16 * i + 12, flags);
    qtest_writew(r->qts, vq->desc + 16 * i + 14, next);
}

/* Make the chain that starts at descriptor @head available; no kick. */
void rig_avail(Rig *r, uint16_t head)
{
    QVirtQueue *vq = r->rxq;

    qtest_writew(r->qts, vq->avail + 4 + 2 * (r->avail_idx % vq->size), head);
    r->avail_idx++;
    qtest_writew(r->qts, vq->avail + 2, r->avail_idx);
}

/* Make buffer @i available as descriptor @i (one writable descriptor). */
void rig_post_desc(Rig *r, uint16_t i, uint32_t len)
{
    rig_write_desc(r, i, r->bufs[i], len, VRING_DESC_F_WRITE, 0);
    rig_avail(r, i);
}

void rig_kick(Rig *r, QVirtQueue *vq)
{
    r->vdev->bus->virtqueue_kick(r->vdev, vq);
}

/* Post @n buffers of @len bytes, filled with 0xee to expose stale bytes. */
void rig_post(Rig *r, int n, uint32_t len)
{
    static uint8_t fill[BUF_SIZE];
    int i;

    memset(fill, 0xee, sizeof(fill));
    for (i = 0; i < n; i++) {
        uint16_t b = r->next_buf;

        if (!r->no_fill) {
            qtest_memwrite(r->qts, r->bufs[b], fill, BUF_SIZE);
        }
        rig_post_desc(r, b, len);
        r->next_buf = (b + 1) % NUM_BUFS;
    }
    rig_kick(r, r->rxq);
}

/*
 * Make @n more buffers available without rewriting their descriptors: for
 * long runs where descriptor i = buffer i was set up once by rig_post().
 * The avail entries go in one write, then the index, then one kick.
 */
void rig_post_fast(Rig *r, int n)
{
    QVirtQueue *vq = r->rxq;
    int i = 0;

    while (i < n) {
        uint16_t at = r->avail_idx % vq->size;
        int run = MIN(n - i, vq->size - at), j;
        g_autofree uint16_t *ids = g_new(uint16_t, run);

        for (j = 0; j < run; j++) {
            ids[j] = cpu_to_le16(r->next_buf);
            r->next_buf = (r->next_buf + 1) % NUM_BUFS;
        }
        qtest_memwrite(r->qts, vq->avail + 4 + 2 * at, ids, 2 * run);
        r->avail_idx += run;
        i += run;
    }
    qtest_writew(r->qts, vq->avail + 2, r->avail_idx);
    rig_kick(r, vq);
}

uint16_t rig_used_idx(Rig *r, QVirtQueue *vq)
{
    return qtest_readw(r->qts, vq->used + 2);
}

/* Wait until @n more used entries appeared on rxq and return them. */
void rig_wait_used(Rig *r, int n, UsedElem *out)
{
    gint64 start = g_get_monotonic_time();
    int i;

    while ((uint16_t)(rig_used_idx(r, r->rxq) - r->used_seen) < n) {
        g_assert(g_get_monotonic_time() - start < TIMEOUT_US);
        qtest_clock_step(r->qts, 100);
        g_usleep(100);
    }
    /* One read per contiguous run: batches of hundreds stay cheap. */
    for (i = 0; i < n; ) {
        uint16_t at = r->used_seen % r->rxq->size;
        int run = MIN(n - i, r->rxq->size - at), j;
        g_autofree uint32_t *raw = g_new(uint32_t, 2 * run);

        qtest_memread(r->qts, r->rxq->used + 4 + 8 * at, raw, 8 * run);
        for (j = 0; j < run; j++) {
            out[i + j].id = le32_to_cpu(raw[2 * j]);
            out[i + j].len = le32_to_cpu(raw[2 * j + 1]);
        }
        r->used_seen += run;
        i += run;
    }
}

/*
 * Wait until the peer has read everything sent on r->sock: for a Unix
 * socket, SIOCOUTQ counts the bytes the other end has not read yet.  A
 * socket netdev reads only while its device can receive, so this is for
 * frames the device can take, drop or hold.
 */
void rig_wait_taken(Rig *r)
{
    gint64 start = g_get_monotonic_time();
    int outq;

    for (;;) {
        g_assert_cmpint(ioctl(r->sock, SIOCOUTQ, &outq), ==, 0);
        if (!outq) {
            return;
        }
        g_assert(g_get_monotonic_time() - start < TIMEOUT_US);
        g_usleep(100);
    }
}

/*
 * Check that the device used nothing more, deterministically: QEMU has
 * read every frame sent (rig_wait_taken), and it delivers, drops or holds
 * a frame in the same main-loop callback that read it, so the answer to
 * the next qtest command (a 5 us clock step, which also runs any timer
 * due by then) comes after that; a used entry it was going to write is
 * there.  Only for the in-process device on the Rig's socket netdev: a
 * vhost-user backend or a tap peer is not ordered with qtest commands
 * (see rig_expect_marker()).
 */
void rig_assert_no_used(Rig *r)
{
    rig_wait_taken(r);
    qtest_clock_step(r->qts, 5000);
    g_assert_cmpint(rig_used_idx(r, r->rxq), ==, r->used_seen);
}

/*
 * rig_assert_no_used() for a peer in another process that reads frames
 * and serves vhost-user messages in one thread (our vhost-user backend):
 * once it has read every frame sent, a stop makes QEMU fetch each vring's
 * base from it, which it answers only after it has handled what it read,
 * so a used entry it was going to write for those frames is there.  The
 * VM runs again afterwards.  (A transmitted frame would not do: a broken
 * device transmits nothing either.)
 */
void rig_assert_no_used_backend(Rig *r)
{
    QDict *rsp;

    rig_wait_taken(r);
    rsp = qtest_qmp(r->qts, "{'execute': 'stop'}");
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    g_assert_cmpint(rig_used_idx(r, r->rxq), ==, r->used_seen);
    rsp = qtest_qmp(r->qts, "{'execute': 'cont'}");
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
}

/*
 * The other way to show that nothing more was used, for any peer: a
 * marker frame sent now must be the next packet on the queue, as frames
 * are delivered in order.  An ARP request is never split, has no L4 hash
 * and goes to the unclassified queue (0) under RSS; its sender address
 * and padding say "marker".  One buffer is posted for it; it counts as a
 * packet (k, inline counters).
 */
void rig_expect_marker(Rig *r)
{
    uint8_t frame[60] = { 0 }, got[VHDR_HASH_LEN + sizeof(frame)];
    bool ring = r->ring != 0;
    size_t off = ring ? 0 : r->vhdr_len;
    UsedElem used;

    memset(frame, 0xff, 6);                         /* broadcast */
    memcpy(frame + 6, "\x02mrkr\x01", 6);
    rig_put16(frame + 12, ETH_P_ARP);
    memset(frame + 14, 0x6d, sizeof(frame) - 14);   /* 'm' */
    rig_post(r, 1, BUF_SIZE);
    rig_send(r, frame, sizeof(frame));
    rig_wait_used(r, 1, &used);
    g_assert_cmpint(used.len, ==, off + sizeof(frame));
    qtest_memread(r->qts, r->bufs[used.id], got, off + sizeof(frame));
    g_assert_cmpmem(got + off, sizeof(frame), frame, sizeof(frame));
}

/*
 * Send one control command; returns the status byte the device wrote.
 * Commands complete one at a time, so the control queue's avail index in
 * guest memory is also its used index: Rigs of several receive queues can
 * share the queue without sharing counters.
 */
uint8_t rig_ctrl(Rig *r, uint8_t class, uint8_t cmd,
                 const void *data, size_t len)
{
    QVirtQueue *vq = r->ctrlq;
    uint8_t hdr[2] = { class, cmd };
    uint64_t status_addr = r->ctrl_mem + 2 + RIG_CTRL_MAX;
    gint64 start = g_get_monotonic_time();
    uint16_t idx = qtest_readw(r->qts, vq->avail + 2);

    g_assert(len <= RIG_CTRL_MAX);
    g_assert_cmpint(rig_used_idx(r, vq), ==, idx);
    qtest_memwrite(r->qts, r->ctrl_mem, hdr, 2);
    qtest_memwrite(r->qts, r->ctrl_mem + 2, data, len);
    qtest_writeb(r->qts, status_addr, 0xaa);

    /* Descriptors 0 (header + payload) and 1 (status), reused each time. */
    qtest_writeq(r->qts, vq->desc, r->ctrl_mem);
    qtest_writel(r->qts, vq->desc + 8, 2 + len);
    qtest_writew(r->qts, vq->desc + 12, VRING_DESC_F_NEXT);
    qtest_writew(r->qts, vq->desc + 14, 1);
    qtest_writeq(r->qts, vq->desc + 16, status_addr);
    qtest_writel(r->qts, vq->desc + 24, 1);
    qtest_writew(r->qts, vq->desc + 28, VRING_DESC_F_WRITE);
    qtest_writew(r->qts, vq->avail + 4 + 2 * (idx % vq->size), 0);
    qtest_writew(r->qts, vq->avail + 2, idx + 1);
    rig_kick(r, vq);

    while (rig_used_idx(r, vq) == idx) {
        g_assert(g_get_monotonic_time() - start < TIMEOUT_US);
        qtest_clock_step(r->qts, 100);
        g_usleep(100);
    }
    return qtest_readb(r->qts, status_addr);
}

uint8_t rig_set_raw(Rig *r, uint16_t rq, uint32_t slot_size,
                    uint32_t num_slots, uint32_t mask,
                    uint32_t reserved, uint64_t addr)
{
    struct virtio_net_split_hdr_set c = {
        .rq_index = cpu_to_le16(rq),
        .slot_size = cpu_to_le16(slot_size),
        .num_slots = cpu_to_le32(num_slots),
        .proto_mask = cpu_to_le32(mask),
        .reserved = cpu_to_le32(reserved),
        .ring_addr = cpu_to_le64(addr),
    };

    return rig_ctrl(r, VIRTIO_NET_CTRL_SPLIT_HDR,
                    VIRTIO_NET_CTRL_SPLIT_HDR_SET, &c, sizeof(c));
}

/*
 * Fill the ring at @addr with 0xdd and SET it on the Rig's queue: for a
 * ring the test placed itself (at the edge of RAM, say).
 */
void rig_set_ring_at(Rig *r, uint64_t addr, uint32_t slot_size,
                     uint32_t num_slots, uint32_t mask)
{
    r->ring = addr;
    r->slot_size = slot_size;
    r->num_slots = num_slots;
    rig_fill(r, addr, (size_t)slot_size * num_slots, 0xdd);
    g_assert_cmpint(rig_set_raw(r, r->rq, slot_size, num_slots, mask, 0,
                                addr), ==, VIRTIO_NET_OK);
}

/* Allocate a ring, fill it with 0xdd and SET it on the Rig's queue. */
void rig_set_ring(Rig *r, uint32_t slot_size, uint32_t num_slots,
                  uint32_t mask)
{
    size_t len = (size_t)slot_size * num_slots;
    uint64_t addr = guest_alloc(r->alloc,
                                len + VIRTIO_NET_SPLIT_HDR_RING_ALIGN);

    rig_set_ring_at(r, QEMU_ALIGN_UP(addr, VIRTIO_NET_SPLIT_HDR_RING_ALIGN),
                    slot_size, num_slots, mask);
}

uint8_t rig_mq_pairs_set(Rig *r, uint16_t pairs)
{
    uint16_t le = cpu_to_le16(pairs);

    return rig_ctrl(r, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
                    &le, sizeof(le));
}

/*
 * VIRTIO_NET_CTRL_MQ_RSS_CONFIG (struct virtio_net_rss_config) or, with
 * @table_len 1, @table[0] 0 and @max_tx_vq 0, VIRTIO_NET_CTRL_MQ_HASH_CONFIG
 * (struct virtio_net_hash_config, whose reserved fields sit where RSS has
 * its table): same layout.  The key is the usual Toeplitz example key.
 */
uint8_t rig_rss_config(Rig *r, uint8_t cmd, uint32_t hash_types,
                       const uint16_t *table, uint16_t table_len,
                       uint16_t max_tx_vq)
{
    static const uint8_t key[RIG_RSS_KEY_LEN] = {
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
        0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
        0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
        0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
        0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    };
    uint8_t buf[RIG_CTRL_MAX];
    size_t off = 0;
    int i;

    g_assert(is_power_of_2(table_len));
    g_assert_cmpint(13 + 2 * table_len + RIG_RSS_KEY_LEN, <=, sizeof(buf));
    stl_le_p(buf, hash_types);
    stw_le_p(buf + 4, table_len - 1);           /* indirection_table_mask */
    stw_le_p(buf + 6, 0);                       /* unclassified_queue */
    off = 8;
    for (i = 0; i < table_len; i++, off += 2) {
        stw_le_p(buf + off, table[i]);
    }
    stw_le_p(buf + off, max_tx_vq);
    buf[off + 2] = RIG_RSS_KEY_LEN;
    memcpy(buf + off + 3, key, RIG_RSS_KEY_LEN);
    off += 3 + RIG_RSS_KEY_LEN;
    return rig_ctrl(r, VIRTIO_NET_CTRL_MQ, cmd, buf, off);
}

void rig_send(Rig *r, const void *frame, size_t len)
{
    uint32_t be = htonl(len);

    if (r->sock_dgram) {
        g_assert_cmpint(send(r->sock, frame, len, 0), ==, len);
        return;
    }
    struct iovec iov[] = {
        { .iov_base = &be, .iov_len = sizeof(be) },
        { .iov_base = (void *)frame, .iov_len = len },
    };
    ssize_t ret = iov_send(r->sock, iov, 2, 0, sizeof(be) + len);

    g_assert_cmpint(ret, ==, sizeof(be) + len);
}

/*
 * Send @n frames with one system call: the socket netdev reads them back
 * to back, so a batch costs one round trip instead of @n.
 */
void rig_send_batch(Rig *r, uint8_t *const *frames, const size_t *lens,
                    int n)
{
    g_autofree struct iovec *iov = g_new(struct iovec, 2 * n);
    g_autofree uint32_t *be = g_new(uint32_t, n);
    size_t total = 0;
    int i;

    for (i = 0; i < n; i++) {
        be[i] = htonl(lens[i]);
        iov[2 * i].iov_base = &be[i];
        iov[2 * i].iov_len = sizeof(be[i]);
        iov[2 * i + 1].iov_base = frames[i];
        iov[2 * i + 1].iov_len = lens[i];
        total += sizeof(be[i]) + lens[i];
    }
    g_assert_cmpint(iov_send(r->sock, iov, 2 * n, 0, total), ==, total);
}

/* The device status byte: VIRTIO_CONFIG_S_NEEDS_RESET after virtio_error. */
uint8_t rig_status(Rig *r)
{
    return r->vdev->bus->get_status(r->vdev);
}

/* Wait until the device status has all of @bits, e.g. NEEDS_RESET. */
void rig_wait_status(Rig *r, uint8_t bits)
{
    gint64 start = g_get_monotonic_time();

    while ((rig_status(r) & bits) != bits) {
        g_assert(g_get_monotonic_time() - start < TIMEOUT_US);
        qtest_clock_step(r->qts, 100);
        g_usleep(100);
    }
}

/*
 * Device reset (status 0).  The vrings stay where they were in guest
 * memory until rig_device_init(), so a test can still read what the
 * device left in them.
 */
void rig_device_reset(Rig *r)
{
    qvirtio_reset(r->vdev);
    g_assert_cmpint(rig_status(r), ==, 0);
}

/*
 * Bring the device up again after rig_device_reset() as a driver would:
 * same features, fresh vrings for every queue, DRIVER_OK.  The Rig starts
 * over on the new receive queue; its data buffers are reused.
 */
void rig_device_init(Rig *r)
{
    QVirtioNet *net = r->net;
    int i;

    qvirtio_set_acknowledge(r->vdev);
    qvirtio_set_driver(r->vdev);
    qvirtio_set_features(r->vdev, r->vdev->features);
    for (i = 0; i < net->n_queues; i++) {
        qvirtqueue_cleanup(r->vdev->bus, net->queues[i], r->alloc);
        net->queues[i] = qvirtqueue_setup(r->vdev, r->alloc, i);
    }
    qvirtio_set_driver_ok(r->vdev);
    r->rxq = net->queues[2 * r->rq];
    r->ctrlq = net->queues[net->n_queues - 1];
    r->avail_idx = r->used_seen = 0;
}

static void rig_common_cfg_writew(Rig *r, size_t off, uint16_t val)
{
    QVirtioPCIDevice *pdev = container_of(r->vdev, QVirtioPCIDevice, vdev);

    qpci_io_writew(pdev->pdev, pdev->bar, pdev->common_cfg_offset + off,
                   val);
}

static uint16_t rig_common_cfg_readw(Rig *r, size_t off)
{
    QVirtioPCIDevice *pdev = container_of(r->vdev, QVirtioPCIDevice, vdev);

    return qpci_io_readw(pdev->pdev, pdev->bar,
                         pdev->common_cfg_offset + off);
}

/*
 * Reset the Rig's receive queue through the PCI common configuration
 * (VIRTIO_F_RING_RESET); the register reads back 0 once it is done.
 */
void rig_queue_reset(Rig *r)
{
    size_t reg = offsetof(struct virtio_pci_modern_common_cfg, queue_reset);

    rig_common_cfg_writew(r, offsetof(struct virtio_pci_common_cfg,
                                      queue_select), 2 * r->rq);
    rig_common_cfg_writew(r, reg, 1);
    g_assert_cmpint(rig_common_cfg_readw(r, reg), ==, 0);
}

/*
 * Enable the queue again after rig_queue_reset(), empty: same vring
 * memory, indices back to 0 as the reset left them in the device.
 */
void rig_queue_enable(Rig *r)
{
    qtest_writew(r->qts, r->rxq->avail + 2, 0);
    qtest_writew(r->qts, r->rxq->used + 2, 0);
    r->avail_idx = r->used_seen = 0;
    rig_common_cfg_writew(r, offsetof(struct virtio_pci_common_cfg,
                                      queue_select), 2 * r->rq);
    rig_common_cfg_writew(r, offsetof(struct virtio_pci_common_cfg,
                                      queue_enable), 1);
}

/*
 * Give the Rig's receive queue MSI-X vector @vector, as a driver does
 * before it enables the queue again: a queue reset cleared it.
 */
void rig_queue_set_vector(Rig *r, uint16_t vector)
{
    size_t reg = offsetof(struct virtio_pci_common_cfg, queue_msix_vector);

    rig_common_cfg_writew(r, offsetof(struct virtio_pci_common_cfg,
                                      queue_select), 2 * r->rq);
    rig_common_cfg_writew(r, reg, vector);
    g_assert_cmpint(rig_common_cfg_readw(r, reg), ==, vector);
}

/* Fill [@addr, @addr + @len) with @byte. */
void rig_fill(Rig *r, uint64_t addr, size_t len, uint8_t byte)
{
    g_autofree uint8_t *fill = g_malloc(len);

    memset(fill, byte, len);
    qtest_memwrite(r->qts, addr, fill, len);
}

/* Assert that every byte of [@addr, @addr + @len) is still @byte. */
void rig_assert_filled(Rig *r, uint64_t addr, size_t len, uint8_t byte)
{
    g_autofree uint8_t *got = g_malloc(len);
    size_t i;

    qtest_memread(r->qts, addr, got, len);
    for (i = 0; i < len; i++) {
        if (got[i] != byte) {
            g_error("byte 0x%" PRIx64 " (+%zu) is 0x%02x, not 0x%02x",
                    addr + i, i, got[i], byte);
        }
    }
}

void rig_read_slot(Rig *r, uint32_t k, uint8_t *out)
{
    qtest_memread(r->qts, r->ring + (uint64_t)(k % r->num_slots) *
                  r->slot_size, out, r->slot_size);
}

/* Counter @name of the Rig's receive queue. */
int64_t rig_stat(Rig *r, const char *name)
{
    QDict *rsp = qtest_qmp(r->qts, "{'execute': 'qom-get', 'arguments': {"
                           "'path': %s, 'property': 'split-hdr-stats'}}",
                           QOM_PATH);
    QList *queues = qdict_get_qlist(rsp, "return");
    const QListEntry *e = qlist_first(queues);
    QDict *q;
    QObject *o;
    int64_t v;
    int i;

    for (i = 0; i < r->rq; i++) {
        g_assert(e);
        e = qlist_next(e);
    }
    g_assert(e);
    q = qobject_to(QDict, qlist_entry_obj(e));
    g_assert_cmpint(qdict_get_int(q, "queue"), ==, r->rq);
    o = qdict_get(q, name);
    g_assert(o);
    v = qobject_type(o) == QTYPE_QBOOL ?
        qbool_get_bool(qobject_to(QBool, o)) : qdict_get_int(q, name);
    qobject_unref(rsp);
    return v;
}

/* ---- Frames ------------------------------------------------------------ */

void rig_put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

/*
 * Build the frame @s describes into @f; returns its length, and in @hdrs
 * the length of its L2..L4 headers.  Payload byte i is (i * 7 + 3) & 0xff.
 */
size_t rig_build_frame(const FrameSpec *s, uint8_t *f, size_t *hdrs)
{
    static const uint8_t dst[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    static const uint8_t src[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
    size_t off = 12, l3, l4, l5, ip_end, i;
    uint16_t type;

    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    if (s->vlan_tags == 2) {
        rig_put16(f + off, ETH_P_8021AD);
        rig_put16(f + off + 2, 0x0064);
        off += 4;
    }
    if (s->vlan_tags >= 1) {
        rig_put16(f + off, ETH_P_8021Q);
        rig_put16(f + off + 2, 0x0005);
        off += 4;
    }
    type = s->l3 == L3_IP4 ? ETH_P_IP : s->l3 == L3_IP6 ? ETH_P_IPV6 :
           s->l3 == L3_ARP ? ETH_P_ARP : 0x88b5;
    rig_put16(f + off, type);
    l3 = off + 2;

    if (s->l3 == L3_ARP || s->l3 == L3_OTHER) {
        for (i = 0; i < s->payload; i++) {
            f[l3 + i] = (i * 7 + 3) & 0xff;
        }
        *hdrs = 0;
        return l3 + s->payload;
    }

    if (s->l3 == L3_IP4) {
        size_t ihl = 20 + s->ip4_opt_len;

        memset(f + l3, 0, ihl);
        f[l3] = 0x40 | (ihl / 4);
        rig_put16(f + l3 + 4, 0x1234);
        rig_put16(f + l3 + 6, s->ip4_frag_field);
        f[l3 + 8] = 64;
        f[l3 + 9] = s->l4;
        f[l3 + 12] = 10; f[l3 + 15] = 2;     /* 10.0.0.2 -> 10.0.0.15 */
        f[l3 + 16] = 10; f[l3 + 19] = 15;
        for (i = 20; i < ihl; i++) {
            f[l3 + i] = 1;                    /* NOP options */
        }
        l4 = l3 + ihl;
    } else {
        uint8_t *nh = f + l3 + 6;

        memset(f + l3, 0, 40);
        f[l3] = 0x60;
        f[l3 + 7] = 64;
        f[l3 + 8] = 0xfd; f[l3 + 23] = 2;
        f[l3 + 24] = 0xfd; f[l3 + 39] = 15;
        l4 = l3 + 40;
        if (s->ip6_ext) {
            /* hop-by-hop (8), routing type 0 with no address (8), dest (16) */
            *nh = 0;
            memset(f + l4, 0, 32);
            f[l4 + 2] = 1; f[l4 + 3] = 4;      /* PadN */
            nh = f + l4;
            l4 += 8;
            *nh = 43;
            f[l4 + 2] = 0;
            nh = f + l4;
            l4 += 8;
            *nh = 60;
            f[l4 + 1] = 1;                      /* 16 bytes */
            f[l4 + 2] = 1; f[l4 + 3] = 12;      /* PadN */
            nh = f + l4;
            l4 += 16;
        }
        if (s->ip6_frag) {
            *nh = 44;
            memset(f + l4, 0, 8);
            f[l4 + 3] = 1;                      /* M flag */
            nh = f + l4;
            l4 += 8;
        }
        *nh = s->l4;
    }

    if (s->l4 == 6) {
        size_t doff = 20 + s->tcp_opt_len;

        memset(f + l4, 0, doff);
        rig_put16(f + l4, 5001);
        rig_put16(f + l4 + 2, 80);
        f[l4 + 12] = (doff / 4) << 4;
        f[l4 + 13] = 0x10;                      /* ACK */
        for (i = 20; i < doff; i++) {
            f[l4 + i] = 1;                      /* NOP */
        }
        if (s->tcp_opt_len >= 12) {             /* timestamps */
            f[l4 + 22] = 8; f[l4 + 23] = 10;
        }
        l5 = l4 + doff;
    } else if (s->l4 == 17) {
        memset(f + l4, 0, 8);
        rig_put16(f + l4, 5001);
        rig_put16(f + l4 + 2, 4789);
        rig_put16(f + l4 + 4, 8 + s->payload);
        l5 = l4 + 8;
    } else {
        memset(f + l4, 0, 8);                   /* ICMP echo and others */
        f[l4] = 8;
        l5 = l4 + 8;
    }
    for (i = 0; i < s->payload; i++) {
        f[l5 + i] = (i * 7 + 3) & 0xff;
    }
    ip_end = l5 + s->payload;
    if (s->l3 == L3_IP4) {
        rig_put16(f + l3 + 2, ip_end - l3);
    } else {
        rig_put16(f + l3 + 4, ip_end - l3 - 40);
    }
    *hdrs = l5;
    return ip_end;
}

/* @sum plus the 16-bit big-endian words of @len bytes at @p. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += p[i] << 8 | p[i + 1];
    }
    if (len & 1) {
        sum += p[len - 1] << 8;
    }
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

/* The sum of the UDP/IPv4 pseudo-header of @f (20-byte IPv4 header). */
static uint32_t udp4_pseudo_sum(const uint8_t *f)
{
    const uint8_t *ip = f + 14;

    return csum_add(0, ip + 12, 8) + 17 +
           (ip[20 + 4] << 8 | ip[20 + 5]);
}

/* Does the UDP checksum of @f (20-byte IPv4 header) verify? */
bool rig_udp4_csum_ok(const uint8_t *f)
{
    const uint8_t *udp = f + 14 + 20;

    return csum_fold(csum_add(udp4_pseudo_sum(f), udp,
                              udp[4] << 8 | udp[5])) == 0xffff;
}

/*
 * A DHCP reply (UDP from port 67) as a host stack with checksum offload
 * hands it to a tap: only the pseudo-header sum in the checksum field
 * (the vnet header in front must say NEEDS_CSUM, csum_start 34,
 * csum_offset 6).  Returns its length, and in @hdrs its headers'.
 */
size_t rig_dhcp_partial_csum(uint8_t *f, size_t *hdrs)
{
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 17, .payload = 300 };
    size_t len = rig_build_frame(&spec, f, hdrs);

    rig_put16(f + 14 + 20, 67);
    rig_put16(f + 14 + 20 + 2, 68);
    rig_put16(f + RIG_DHCP_CSUM_OFF, csum_fold(udp4_pseudo_sum(f)));
    return len;
}

/* ---- Checks on guest memory -------------------------------------------- */

/*
 * Check the slot of packet @k as rig_check_slot_hdr() does, but expecting
 * @seq in the prefix and, for a split packet, @hdr_len_field in the
 * header's hdr_len: what the device's test faults write.
 */
static void check_slot(Rig *r, uint32_t k, uint16_t seq,
                       const uint8_t *frame, size_t hdr_len,
                       uint16_t hdr_len_field, uint16_t num_buffers,
                       const struct virtio_net_hdr_v1_hash *classic)
{
    static const struct virtio_net_hdr_v1_hash zero;
    const struct virtio_net_hdr_v1_hash *c = classic ? classic : &zero;
    g_autofree uint8_t *slot = g_malloc(r->slot_size);
    const struct virtio_net_hdr_v1_hash *h;
    size_t end = PREFIX + r->vhdr_len + hdr_len;

    rig_read_slot(r, k, slot);
    h = (const void *)(slot + PREFIX);
    g_assert_cmpint(lduw_le_p(slot), ==, seq);
    g_assert_cmpint(lduw_le_p(slot + 2), ==, 0);
    g_assert_cmpint(le16_to_cpu(h->hdr.num_buffers), ==, num_buffers);
    g_assert_cmpint(h->hdr.gso_type, ==, c->hdr.gso_type);
    g_assert_cmpint(le16_to_cpu(h->hdr.gso_size), ==,
                    le16_to_cpu(c->hdr.gso_size));
    g_assert_cmpint(le16_to_cpu(h->hdr.csum_start), ==,
                    le16_to_cpu(c->hdr.csum_start));
    g_assert_cmpint(le16_to_cpu(h->hdr.csum_offset), ==,
                    le16_to_cpu(c->hdr.csum_offset));
    if (hdr_len) {
        g_assert_cmphex(h->hdr.flags, ==,
                        c->hdr.flags | VIRTIO_NET_HDR_F_SPLIT_TRANSPORT_HEADER);
        g_assert_cmpint(le16_to_cpu(h->hdr.hdr_len), ==, hdr_len_field);
        g_assert_cmpmem(slot + PREFIX + r->vhdr_len, hdr_len, frame, hdr_len);
    } else {
        g_assert_cmphex(h->hdr.flags, ==, c->hdr.flags);
        g_assert_cmpint(le16_to_cpu(h->hdr.hdr_len), ==,
                        le16_to_cpu(c->hdr.hdr_len));
    }
    if (r->vhdr_len == VHDR_HASH_LEN) {
        g_assert_cmphex(le32_to_cpu(h->hash_value), ==,
                        le32_to_cpu(c->hash_value));
        g_assert_cmpint(le16_to_cpu(h->hash_report), ==,
                        le16_to_cpu(c->hash_report));
        g_assert_cmpint(le16_to_cpu(h->padding), ==, 0);
    }
    /* Nothing written past what the packet needs. */
    if (end < r->slot_size) {
        g_assert_cmpint(slot[end], ==, 0xdd);
    }
}

/*
 * Check the slot of packet @k: prefix, virtio header, and (when split) the
 * headers; @hdr_len 0 means inline.  @classic is the virtio header the
 * classic path writes for the same packet (all fields little-endian; NULL:
 * all zero): the slot must hold the same, but for the split flag and, when
 * split, hdr_len.  Its hash fields count only with a 20-byte header.
 */
void rig_check_slot_hdr(Rig *r, uint32_t k, const uint8_t *frame,
                        size_t hdr_len, uint16_t num_buffers,
                        const struct virtio_net_hdr_v1_hash *classic)
{
    check_slot(r, k, k & 0xffff, frame, hdr_len, hdr_len, num_buffers,
               classic);
}

void rig_check_slot(Rig *r, uint32_t k, const uint8_t *frame,
                    size_t hdr_len, uint16_t num_buffers)
{
    rig_check_slot_hdr(r, k, frame, hdr_len, num_buffers, NULL);
}

/*
 * As rig_check_slot(), for a packet the device was told to get wrong
 * (x-split-hdr-fault): the prefix carries @seq and, when split, the
 * header's hdr_len is @hdr_len_field.  The slot must be right otherwise:
 * the real @hdr_len bytes of headers, nothing written past them.
 */
void rig_check_slot_fault(Rig *r, uint32_t k, uint16_t seq,
                          const uint8_t *frame, size_t hdr_len,
                          uint16_t hdr_len_field, uint16_t num_buffers)
{
    check_slot(r, k, seq, frame, hdr_len, hdr_len_field, num_buffers, NULL);
}

/*
 * Read a packet the classic path delivered in the @n used buffers: the
 * virtio header (vhdr_len bytes, the rest of @hdr zeroed) and the frame,
 * of at most @max bytes, into @frame.  Returns the frame length.
 */
size_t rig_read_classic(Rig *r, const UsedElem *used, int n,
                        struct virtio_net_hdr_v1_hash *hdr,
                        uint8_t *frame, size_t max)
{
    g_autofree uint8_t *got = g_malloc(BUF_SIZE);
    size_t off = 0, skip = r->vhdr_len;
    int i;

    memset(hdr, 0, sizeof(*hdr));
    for (i = 0; i < n; i++) {
        g_assert_cmpint(used[i].id, <, NUM_BUFS);
        g_assert_cmpint(used[i].len, <=, BUF_SIZE);
        qtest_memread(r->qts, r->bufs[used[i].id], got, used[i].len);
        if (i == 0) {
            g_assert_cmpint(used[i].len, >=, r->vhdr_len);
            memcpy(hdr, got, r->vhdr_len);
        }
        g_assert_cmpint(off + used[i].len - skip, <=, max);
        memcpy(frame + off, got + skip, used[i].len - skip);
        off += used[i].len - skip;
        skip = 0;
    }
    g_assert_cmpint(le16_to_cpu(hdr->hdr.num_buffers), ==, n);
    return off;
}

/*
 * Check that the @n used buffers hold @data from offset 0, each filled
 * completely before the next, and that nothing follows in the last one.
 */
void rig_check_data(Rig *r, const UsedElem *used, int n,
                    const uint8_t *data, size_t len, uint32_t buf_len)
{
    g_autofree uint8_t *got = g_malloc(BUF_SIZE);
    size_t off = 0;
    int i;

    for (i = 0; i < n; i++) {
        size_t want = MIN(len - off, buf_len);

        g_assert_cmpint(used[i].id, <, NUM_BUFS);
        g_assert_cmpint(used[i].len, ==, want);
        qtest_memread(r->qts, r->bufs[used[i].id], got, BUF_SIZE);
        g_assert_cmpmem(got, want, data + off, want);
        if (want < BUF_SIZE) {
            g_assert_cmpint(got[want], ==, 0xee);
        }
        off += want;
    }
    g_assert_cmpint(off, ==, len);
}

/* Send @frame, expect it as packet @k, split at @hdr_len (0: inline). */
void rig_expect_packet(Rig *r, uint32_t k, const uint8_t *frame,
                       size_t len, size_t hdr_len)
{
    size_t data_len = len - hdr_len;
    int n = data_len ? DIV_ROUND_UP(data_len, BUF_SIZE) : 1;
    g_autofree UsedElem *used = g_new(UsedElem, n);

    rig_send(r, frame, len);
    rig_wait_used(r, n, used);
    rig_check_slot(r, k, frame, hdr_len, n);
    rig_check_data(r, used, n, frame + hdr_len, data_len, BUF_SIZE);
}

/* ---- Tests ------------------------------------------------------------- */

void rig_test_cleanup(void *opaque)
{
    TestArg *t = opaque;

    close(t->sv[0]);
    qos_invalidate_command_line();
    close(t->sv[1]);
    g_free(t);
}


/*
 * A packet socket bound to interface @ifname: protocol @proto (0: it
 * only sends, it never queues the frames it sees), a virtio_net_hdr in
 * front of each frame with @vnet_hdr.  -1 on failure.
 */
int rig_packet_socket(const char *ifname, int proto, bool vnet_hdr)
{
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = proto,
        .sll_ifindex = if_nametoindex(ifname),
    };
    int one = 1, fd = socket(AF_PACKET, SOCK_RAW, proto);

    if (fd < 0) {
        return -1;
    }
    if ((vnet_hdr && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one,
                                sizeof(one)) < 0) ||
        bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * Make the interface @ifname quiet and bring it up, with MTU @mtu unless
 * 0: no address, and IPv6 off, since router and neighbour solicitations
 * would reach the guest as frames.  Returns why it failed, or NULL.
 */
char *rig_netif_quiet_up(const char *ifname, int mtu)
{
    g_autofree char *ipv6 = g_strdup_printf(
        "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
    struct ifreq ifr = { 0 };
    int fd, ret = 0;

    if (g_file_test("/proc/sys/net/ipv6", G_FILE_TEST_IS_DIR)) {
        fd = open(ipv6, O_WRONLY);
        ret = fd < 0 ? -1 : write(fd, "1", 1);
        if (fd >= 0) {
            close(fd);
        }
        if (ret != 1) {
            return g_strdup_printf("cannot disable IPv6 on %s", ifname);
        }
    }
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    pstrcpy(ifr.ifr_name, IFNAMSIZ, ifname);
    ifr.ifr_mtu = mtu;
    ret = fd < 0 ? -1 : mtu ? ioctl(fd, SIOCSIFMTU, &ifr) : 0;
    if (ret == 0) {
        ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
    }
    if (ret == 0) {
        ifr.ifr_flags |= IFF_UP;
        ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    if (fd >= 0) {
        close(fd);
    }
    if (ret < 0) {
        return g_strdup_printf("cannot bring %s up: %s", ifname,
                               strerror(errno));
    }
    return NULL;
}

/*
 * Run @cmd ("exec BACKEND ...") under /bin/sh as a child that dies with
 * the test (a test that aborts must not leave it behind), its stdin and
 * stdout on /dev/null so that tap-driver.pl's pipe sees the test's end,
 * and without the @n fds of @close_fds (the test's ends of the sockets
 * it shares with the child).  Returns its pid.
 */
pid_t rig_spawn(const char *cmd, const int *close_fds, int n)
{
    pid_t pid = fork();
    int i;

    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        close(0);
        close(1);
        open("/dev/null", O_RDONLY);
        open("/dev/null", O_WRONLY);
        for (i = 0; i < n; i++) {
            close(close_fds[i]);
        }
        execlp("/bin/sh", "sh", "-c", cmd, NULL);
        _exit(1);
    }
    return pid;
}
void *rig_test_setup(GString *cmd_line, void *arg)
{
    TestArg *t = g_new0(TestArg, 1);

    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, t->sv), !=, -1);
    g_string_append_printf(cmd_line, " -netdev socket,fd=%d,id=hs0 ",
                           t->sv[1]);
    t->data = arg;
    g_test_queue_destroy(rig_test_cleanup, t);
    return t;
}

/* Post one buffer, send @frame and check it landed classic (no ring). */
void rig_expect_classic(Rig *r, const uint8_t *frame, size_t len)
{
    g_autofree uint8_t *got = g_malloc(VHDR_LEN + len);
    struct virtio_net_hdr_mrg_rxbuf *h = (void *)got;
    UsedElem used;

    rig_post(r, 1, BUF_SIZE);
    rig_send(r, frame, len);
    rig_wait_used(r, 1, &used);
    g_assert_cmpint(used.len, ==, VHDR_LEN + len);
    qtest_memread(r->qts, r->bufs[used.id], got, VHDR_LEN + len);
    g_assert_cmphex(h->hdr.flags, ==, 0);
    g_assert_cmpint(le16_to_cpu(h->num_buffers), ==, 1);
    g_assert_cmpmem(got + VHDR_LEN, len, frame, len);
}
