/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split: the backend's state and what its files share.
 *
 *   main.c        options, sockets, main loop
 *   vu.c          vhost-user: device interface, split-hdr messages,
 *                 connections, guest memory access through the table
 *   rx.c          receive placement, classic and split
 *   tx.c          transmit
 *   stats.c       the counters, as QEMU's split-hdr-stats
 *   net.h, net.c  the network side's interface; --net parsing
 *   net-stream.c  network side: 4-byte length framed stream socket
 *   net-slirp.c   network side: libslirp user networking
 *   net-tap.c     network side: tap through io_uring
 *   net-bench.c   network side: in-process frame source (benchmarks)
 *   bench-ring.c  --x-bench-split-ring: a private slot ring (benchmarks)
 */

#ifndef VNS_H
#define VNS_H

#include "libvhost-user-glib.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "virtio-net-splithdr-policy.h"
#include "net.h"

/* Virtqueue 2i receives for queue pair i, 2i + 1 transmits. */
#define VNS_RXQ(pair) (2 * (pair))
#define VNS_TXQ(pair) (2 * (pair) + 1)
#define VNS_IS_RXQ(qidx) (!((qidx) & 1))
#define VNS_MAX_CHAIN 1024              /* VIRTQUEUE_MAX_SIZE */
/* Used entries a receive queue publishes at most in one go (rx.c). */
#define VNS_RX_BATCH 32

typedef struct VnsRing {
    /* From SET_RING; ring_addr 0: classic receive. */
    uint64_t ring_addr;
    uint32_t slot_size;
    uint32_t num_slots;
    uint32_t proto_mask;
    uint32_t k;                         /* packets delivered since SET_RING */

    /* Counters, as QEMU's split-hdr-stats (stats.c). */
    uint64_t verdicts[SPLITHDR_VERDICT__MAX];
    uint64_t header_bytes;
    uint64_t payload_bytes;

    uint8_t *bench_slots;               /* bench-ring.c's, not the guest's */
    bool bench_align;                   /* --x-bench-align-payload */
} VnsRing;

/*
 * A receive buffer's element without malloc: vns_vq_pop_rx() fills it for
 * the one-descriptor buffers drivers post.
 */
typedef struct VnsRxElem {
    VuVirtqElement elem;
    struct iovec iov;
} VnsRxElem;

typedef struct VuNetSplit {
    VugDev dev;
    GMainLoop *loop;
    bool verbose;
    bool connected;                     /* dev is initialized */
    bool disconnecting;                 /* vns_disconnect() is due */
    int listen_fd;                      /* -1: serve one front-end only */
    guint accept_src;

    unsigned int queue_pairs;           /* --queues */
    VnsRing rings[VNS_NET_QUEUES_MAX];
    bool broken[VNS_NET_QUEUES_MAX];    /* queue stopped on a bad address */
    /* Used entries filled, not yet published (rx.c's batch). */
    unsigned int rx_unflushed[VNS_NET_QUEUES_MAX];
    /* vns_vq_mapped() held for the rx vring since the last message. */
    bool rx_vring_mapped[VNS_NET_QUEUES_MAX];

    VnsNet *net;

    /* Aligned: the virtio header is built in place at offset 4. */
    uint8_t slot[VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MAX] QEMU_ALIGNED(8);
    VuVirtqElement *elems[VNS_MAX_CHAIN];  /* &rx_store[i] or malloc'ed */
    size_t lens[VNS_MAX_CHAIN];
    VnsRxElem rx_store[VNS_MAX_CHAIN];
} VuNetSplit;

static inline VuNetSplit *vns_of(VuDev *dev)
{
    return container_of(dev, VuNetSplit, dev.parent);
}

/* vu.c */
void vns_log(VuNetSplit *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
bool vns_has_feature(VuDev *dev, unsigned int bit);
size_t vns_vhdr_len(VuDev *dev);
bool vns_vq_can_notify(VuVirtq *vq);
void vns_break_queue(VuNetSplit *s, uint32_t rq, const char *why);
bool vns_range_mapped(VuDev *dev, uint64_t gpa, uint64_t len);
bool vns_vq_mapped(VuDev *dev, VuVirtq *vq);
VuVirtqElement *vns_vq_pop_rx(VuDev *dev, VuVirtq *vq, VnsRxElem *store);
bool vns_vq_wait_rx(VuDev *dev, VuVirtq *vq);
bool vns_write_guest(VuDev *dev, uint64_t gpa, const void *buf,
                     uint64_t len);
bool vns_serve(VuNetSplit *s, int conn);
gboolean vns_accept_ready(gint fd, GIOCondition cond, gpointer opaque);

/* rx.c */
VnsNetReceive vns_rx_frame;
void vns_rx_flush_all(VuNetSplit *s);
void vns_rx_kick(VuDev *dev, int qidx);

/* tx.c */
void vns_tx_kick(VuDev *dev, int qidx);

/* stats.c */
GString *vns_stats_json(VuNetSplit *s);
void vns_stats_dump(VuNetSplit *s, const char *path);
/* bench-ring.c */
bool vns_bench_ring_setup(int slot_size, bool align_payload);
void vns_bench_align_buffer(VuVirtqElement *elem);
VnsNetReceive vns_bench_rx_frame;

#endif
