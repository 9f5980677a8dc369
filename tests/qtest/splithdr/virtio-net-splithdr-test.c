/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest testcase for virtio-net split transport header receive
 * (docs/specs/virtio-net-split-hdr.rst).
 *
 * The test plays the guest driver: it sets up header rings with the
 * VIRTIO_NET_CTRL_SPLIT_HDR_SET command, posts receive buffers, pushes
 * frames through a socket netdev and checks, byte by byte, what the device
 * wrote into guest memory: slots, data buffers and used ring entries.
 */

#include "qemu/osdep.h"
#include <net/if.h>
#include <linux/if_packet.h>
#include "libqtest-single.h"
#include "qemu/bswap.h"
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

typedef struct SplitCase {
    const char *name;
    FrameSpec frame;
    bool split;                /* expected: split, or inline */
    const char *counter;       /* QMP counter expected to count it */
    uint32_t slot_size;        /* 0: 128 */
    uint32_t mask;             /* 0: all protocols */
    size_t truncate;           /* send this many bytes (0: all; more pads) */
    void (*corrupt)(uint8_t *frame, size_t hdrs); /* lie in a header field */
} SplitCase;

static void corrupt_ihl(uint8_t *f, size_t hdrs)
{
    f[14] = 0x44;                               /* IHL 4 */
}

static void corrupt_ip_len(uint8_t *f, size_t hdrs)
{
    rig_put16(f + 16, 1500);                        /* past the frame */
}

static void corrupt_doff(uint8_t *f, size_t hdrs)
{
    f[14 + 20 + 12] = 4 << 4;                   /* data offset 4 */
}

static void corrupt_doff_long(uint8_t *f, size_t hdrs)
{
    f[14 + 20 + 12] = 15 << 4;                  /* 60 bytes, past IP end */
}

static void corrupt_udp_len(uint8_t *f, size_t hdrs)
{
    rig_put16(f + 14 + 20 + 4, 4000);
}

static void corrupt_ip6_plen(uint8_t *f, size_t hdrs)
{
    rig_put16(f + 14 + 4, 9000);
}

static const SplitCase split_cases[] = {
    { "tcp4-timestamps", { .l3 = L3_IP4, .l4 = 6, .tcp_opt_len = 12,
      .payload = 4096 }, true, "split" },
    { "udp4", { .l3 = L3_IP4, .l4 = 17, .payload = 1000 }, true, "split" },
    { "tcp6", { .l3 = L3_IP6, .l4 = 6, .payload = 1400 }, true, "split" },
    { "udp6", { .l3 = L3_IP6, .l4 = 17, .payload = 512 }, true, "split" },
    { "vlan", { .vlan_tags = 1, .l3 = L3_IP4, .l4 = 6, .payload = 700 },
      true, "split" },
    { "qinq", { .vlan_tags = 2, .l3 = L3_IP6, .l4 = 6, .payload = 700 },
      true, "split" },
    { "ip4-options", { .l3 = L3_IP4, .l4 = 6, .ip4_opt_len = 40,
      .payload = 300 }, true, "split" },
    { "ip6-ext-headers", { .l3 = L3_IP6, .l4 = 6, .ip6_ext = 1,
      .payload = 300 }, true, "split" },
    { "tcp-options", { .l3 = L3_IP4, .l4 = 6, .tcp_opt_len = 40,
      .payload = 300 }, true, "split" },
    { "zero-payload", { .l3 = L3_IP4, .l4 = 6, .tcp_opt_len = 12 },
      true, "split" },
    /* Padding to the Ethernet minimum (60) is payload: used length 6. */
    { "pure-ack-padded", { .l3 = L3_IP4, .l4 = 6 }, true, "split",
      .truncate = 60 },
    { "udp4-empty-padded", { .l3 = L3_IP4, .l4 = 17 }, true, "split",
      .truncate = 60 },
    { "multi-buffer-64k", { .l3 = L3_IP4, .l4 = 6, .tcp_opt_len = 12,
      .payload = 65535 - 14 - 20 - 32 }, true, "split" },
    { "arp", { .l3 = L3_ARP, .payload = 28 }, false, "inline-not-ip" },
    { "other-ethertype", { .l3 = L3_OTHER, .payload = 100 }, false,
      "inline-not-ip" },
    { "icmp", { .l3 = L3_IP4, .l4 = 1, .payload = 56 }, false,
      "inline-not-tcp-udp" },
    { "sctp", { .l3 = L3_IP6, .l4 = 132, .payload = 64 }, false,
      "inline-not-tcp-udp" },
    { "ip4-fragment-mf", { .l3 = L3_IP4, .l4 = 17, .payload = 200,
      .ip4_frag_field = 0x2000 }, false, "inline-fragment" },
    { "ip4-fragment-offset", { .l3 = L3_IP4, .l4 = 17, .payload = 200,
      .ip4_frag_field = 0x0010 }, false, "inline-fragment" },
    { "ip6-fragment", { .l3 = L3_IP6, .l4 = 17, .ip6_frag = 1,
      .payload = 200 }, false, "inline-fragment" },
    { "masked-udp4", { .l3 = L3_IP4, .l4 = 17, .payload = 200 }, false,
      "inline-masked", .mask = VIRTIO_NET_SPLIT_HDR_PROTO_TCPV4 |
      VIRTIO_NET_SPLIT_HDR_PROTO_TCPV6 | VIRTIO_NET_SPLIT_HDR_PROTO_UDPV6 },
    { "masked-tcp6", { .l3 = L3_IP6, .l4 = 6, .payload = 200 }, false,
      "inline-masked", .mask = VIRTIO_NET_SPLIT_HDR_PROTO_TCPV4 },
    { "too-big", { .l3 = L3_IP4, .l4 = 6, .payload = 200 }, false,
      "inline-too-big", .slot_size = 64 },
    { "too-big-ip6-ext", { .l3 = L3_IP6, .l4 = 6, .ip6_ext = 1,
      .tcp_opt_len = 40, .payload = 200 }, false, "inline-too-big" },
    { "ip4-ihl-4", { .l3 = L3_IP4, .l4 = 6, .payload = 100 }, false,
      "inline-malformed", .corrupt = corrupt_ihl },
    { "ip4-len-past-frame", { .l3 = L3_IP4, .l4 = 6, .payload = 100 },
      false, "inline-malformed", .corrupt = corrupt_ip_len },
    { "tcp-doff-4", { .l3 = L3_IP4, .l4 = 6, .payload = 100 }, false,
      "inline-malformed", .corrupt = corrupt_doff },
    { "tcp-doff-past-ip", { .l3 = L3_IP4, .l4 = 6, .payload = 20 }, false,
      "inline-malformed", .corrupt = corrupt_doff_long },
    { "udp-len-lies", { .l3 = L3_IP4, .l4 = 17, .payload = 100 }, false,
      "inline-malformed", .corrupt = corrupt_udp_len },
    { "ip6-plen-past-frame", { .l3 = L3_IP6, .l4 = 6, .payload = 100 },
      false, "inline-malformed", .corrupt = corrupt_ip6_plen },
    { "truncated-tcp", { .l3 = L3_IP4, .l4 = 6 }, false,
      "inline-malformed", .truncate = 14 + 20 + 10 },
    { "truncated-ip6", { .l3 = L3_IP6, .l4 = 17 }, false,
      "inline-malformed", .truncate = 14 + 30 },
    { "runt", { .l3 = L3_IP4, .l4 = 6 }, false, "inline-malformed",
      .truncate = 10 },
    /* Promiscuous mode lets runts (< 18 bytes) in: malformed, any type. */
    { "runt-arp", { .l3 = L3_ARP, .payload = 28 }, false,
      "inline-malformed", .truncate = 16 },
    { "runt-ip4", { .l3 = L3_IP4, .l4 = 17 }, false, "inline-malformed",
      .truncate = 17 },
    { "short-arp", { .l3 = L3_ARP, .payload = 28 }, false, "inline-not-ip",
      .truncate = 18 },
};

/* One packet of one shape: split or inline as the spec says. */
static void test_case(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    const SplitCase *c = t->data;
    g_autofree uint8_t *frame = g_malloc0(65536 + 64);
    size_t hdrs, len;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    rig_set_ring(&r, c->slot_size ? c->slot_size : 128, RX_QSIZE,
                 c->mask ? c->mask : VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, NUM_BUFS, BUF_SIZE);

    len = rig_build_frame(&c->frame, frame, &hdrs);
    if (c->corrupt) {
        c->corrupt(frame, hdrs);
    }
    if (c->truncate) {
        len = c->truncate;
    }
    rig_expect_packet(&r, 0, frame, len, c->split ? hdrs : 0);
    g_assert_cmpint(rig_stat(&r, c->counter), ==, 1);
    g_assert_cmpint(rig_stat(&r, "header-bytes"), ==, c->split ? hdrs : 0);
    g_assert_cmpint(rig_stat(&r, "payload-bytes"), ==,
                    len - (c->split ? hdrs : 0));
    g_assert_cmpint(rig_stat(&r, "k"), ==, 1);
}

/* Slot k mod num_slots, seq k mod 65536, across several wraps. */
static void test_slot_wrap(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 17, .payload = 64 };
    uint8_t frame[256];
    size_t hdrs, len;
    uint32_t k;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    rig_set_ring(&r, 64, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    len = rig_build_frame(&spec, frame, &hdrs);
    for (k = 0; k < 3 * RX_QSIZE + 7; k++) {
        UsedElem used;

        frame[hdrs] = k;                 /* tell the packets apart */
        frame[hdrs + 1] = k >> 8;
        rig_post(&r, 1, BUF_SIZE);
        rig_send(&r, frame, len);
        rig_wait_used(&r, 1, &used);
        rig_check_slot(&r, k, frame, hdrs, 1);
        rig_check_data(&r, &used, 1, frame + hdrs, len - hdrs, BUF_SIZE);
    }
    g_assert_cmpint(rig_stat(&r, "k"), ==, 3 * RX_QSIZE + 7);
}

/* Data buffers smaller than a page: filled completely, one after another. */
static void test_small_buffers(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    FrameSpec spec = { .l3 = L3_IP6, .l4 = 6, .tcp_opt_len = 12,
                       .payload = 3000 };
    g_autofree uint8_t *frame = g_malloc(4096);
    UsedElem used[NUM_BUFS];
    size_t hdrs, len;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, NUM_BUFS, 512);
    len = rig_build_frame(&spec, frame, &hdrs);
    rig_send(&r, frame, len);
    rig_wait_used(&r, 6, used);
    rig_check_slot(&r, 0, frame, hdrs, 6);
    rig_check_data(&r, used, 6, frame + hdrs, len - hdrs, 512);
}

/* split-hdr=on and negotiated, but no SET: the classic layout. */
static void test_no_ring_is_classic(void *obj, void *data,
                                    QGuestAllocator *alloc)
{
    TestArg *t = data;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 6, .payload = 500 };
    uint8_t frame[1024];
    size_t hdrs, len;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    g_assert(r.vdev->features & (1ull << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER));
    len = rig_build_frame(&spec, frame, &hdrs);
    rig_expect_classic(&r, frame, len);
}

/* Every SET the spec refuses: VIRTIO_NET_ERR and nothing changed. */
static void test_ctrl_rejects(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 6, .payload = 100 };
    const uint32_t all = VIRTIO_NET_SPLIT_HDR_PROTO_ALL;
    uint8_t frame[256], longer[32] = { 0 };
    uint64_t ring, mmio = 0xfebf0000;   /* below the PCI hole's top */
    size_t hdrs, len;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    rig_set_ring(&r, 128, RX_QSIZE, all);
    ring = r.ring;

    g_assert_cmpint(rig_set_raw(&r, 1, 128, 256, all, 0, ring), ==,
                    VIRTIO_NET_ERR);                 /* no such queue */
    g_assert_cmpint(rig_set_raw(&r, 0, 128, 256, all, 1, ring), ==,
                    VIRTIO_NET_ERR);                 /* reserved */
    g_assert_cmpint(rig_set_raw(&r, 0, 128, 256, 0x10, 0, ring), ==,
                    VIRTIO_NET_ERR);                 /* unknown protocol */
    g_assert_cmpint(rig_set_raw(&r, 0, 128, 256, 0, 0, ring), ==,
                    VIRTIO_NET_ERR);                 /* empty mask */
    g_assert_cmpint(rig_set_raw(&r, 0, 96, 256, all, 0, ring), ==,
                    VIRTIO_NET_ERR);                 /* not a power of 2 */
    g_assert_cmpint(rig_set_raw(&r, 0, 32, 256, all, 0, ring), ==,
                    VIRTIO_NET_ERR);                 /* below 64 */
    g_assert_cmpint(rig_set_raw(&r, 0, 8192, 256, all, 0, ring), ==,
                    VIRTIO_NET_ERR);                 /* above 4096 */
    g_assert_cmpint(rig_set_raw(&r, 0, 128, 128, all, 0, ring), ==,
                    VIRTIO_NET_ERR);                 /* < queue size */
    g_assert_cmpint(rig_set_raw(&r, 0, 128, 384, all, 0, ring), ==,
                    VIRTIO_NET_ERR);                 /* not a power of 2 */
    g_assert_cmpint(rig_set_raw(&r, 0, 128, 65536, all, 0, ring), ==,
                    VIRTIO_NET_ERR);                 /* above 32768 */
    g_assert_cmpint(rig_set_raw(&r, 0, 128, 256, all, 0, ring + 32), ==,
                    VIRTIO_NET_ERR);                 /* misaligned */
    g_assert_cmpint(rig_set_raw(&r, 0, 128, 256, all, 0, mmio), ==,
                    VIRTIO_NET_ERR);                 /* MMIO, not RAM */
    g_assert_cmpint(rig_set_raw(&r, 0, 128, 256, all, 0,
                                0x100000000000ull), ==,
                    VIRTIO_NET_ERR);                 /* nothing there */
    g_assert_cmpint(rig_set_raw(&r, 0, 4096, 32768, all, 0,
                                0xfffffffffff00000ull), ==,
                    VIRTIO_NET_ERR);                 /* wraps */
    g_assert_cmpint(rig_set_raw(&r, 0, 4096, 32768, all, 0,
                                ring & ~0xfffull), ==,
                    VIRTIO_NET_ERR);                 /* runs past RAM */
    g_assert_cmpint(rig_ctrl(&r, VIRTIO_NET_CTRL_SPLIT_HDR,
                             VIRTIO_NET_CTRL_SPLIT_HDR_SET, longer, 16), ==,
                    VIRTIO_NET_ERR);                 /* short command */
    g_assert_cmpint(rig_ctrl(&r, VIRTIO_NET_CTRL_SPLIT_HDR,
                             VIRTIO_NET_CTRL_SPLIT_HDR_SET, longer, 32), ==,
                    VIRTIO_NET_ERR);                 /* long command */
    g_assert_cmpint(rig_ctrl(&r, VIRTIO_NET_CTRL_SPLIT_HDR, 1, longer, 24),
                    ==, VIRTIO_NET_ERR);             /* unknown command */

    /* Buffers posted: even a valid SET, or turning the ring off, fails. */
    rig_post(&r, NUM_BUFS, BUF_SIZE);
    g_assert_cmpint(rig_set_raw(&r, 0, 256, 256, all, 0, ring), ==,
                    VIRTIO_NET_ERR);
    g_assert_cmpint(rig_set_raw(&r, 0, 128, 256, all, 0, 0), ==,
                    VIRTIO_NET_ERR);

    /* The first configuration is still the one in force. */
    len = rig_build_frame(&spec, frame, &hdrs);
    rig_expect_packet(&r, 0, frame, len, hdrs);
    rig_expect_packet(&r, 1, frame, len, hdrs);
}

/* Accepted SETs: replace, turn off, and the largest slot size. */
static void test_ctrl_accepts(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 6, .payload = 100 };
    uint8_t frame[256];
    size_t hdrs, len;
    UsedElem used;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    len = rig_build_frame(&spec, frame, &hdrs);

    /* Off while off is fine, and so is a replacement. */
    g_assert_cmpint(rig_set_raw(&r, 0, 0, 0, 0, 0, 0), ==, VIRTIO_NET_OK);
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_set_ring(&r, 4096, 512, VIRTIO_NET_SPLIT_HDR_PROTO_TCPV4);
    g_assert_cmpint(rig_stat(&r, "enabled"), ==, 1);
    rig_post(&r, 4, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdrs);

    /* Queue empty again (all used): turn the ring off, back to classic. */
    g_assert_cmpint(rig_set_raw(&r, 0, 0, 0, 0, 0, 0), ==, VIRTIO_NET_ERR);
    /* ... not while 3 buffers remain posted. */
    rig_send(&r, frame, len);
    rig_wait_used(&r, 1, &used);
    rig_send(&r, frame, len);
    rig_wait_used(&r, 1, &used);
    rig_send(&r, frame, len);
    rig_wait_used(&r, 1, &used);
    g_assert_cmpint(rig_set_raw(&r, 0, 0, 0, 0, 0, 0), ==, VIRTIO_NET_OK);
    g_assert_cmpint(rig_stat(&r, "enabled"), ==, 0);
    rig_expect_classic(&r, frame, len);
}

/* Device reset turns the ring off; slots are not written afterwards. */
static void test_device_reset(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    QVirtioNet *net = obj;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 6, .payload = 100 };
    uint8_t frame[256], slot[128];
    size_t hdrs, len;
    Rig r;
    int i;

    rig_init(&r, obj, alloc, t->sv[0]);
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, 2, BUF_SIZE);
    len = rig_build_frame(&spec, frame, &hdrs);
    rig_expect_packet(&r, 0, frame, len, hdrs);

    /* Reset and bring the device up again as a driver would. */
    qvirtio_reset(r.vdev);
    qvirtio_set_acknowledge(r.vdev);
    qvirtio_set_driver(r.vdev);
    qvirtio_set_features(r.vdev, r.vdev->features);
    for (i = 0; i < net->n_queues; i++) {
        qvirtqueue_cleanup(r.vdev->bus, net->queues[i], alloc);
        net->queues[i] = qvirtqueue_setup(r.vdev, alloc, i);
    }
    qvirtio_set_driver_ok(r.vdev);
    g_assert_cmpint(rig_stat(&r, "enabled"), ==, 0);

    r.rxq = net->queues[0];
    r.ctrlq = net->queues[net->n_queues - 1];
    r.avail_idx = r.used_seen = 0;
    memset(slot, 0xdd, sizeof(slot));
    qtest_memwrite(r.qts, r.ring, slot, sizeof(slot));
    rig_post(&r, 1, BUF_SIZE);            /* stays posted, see below */
    rig_expect_classic(&r, frame, len);
    qtest_memread(r.qts, r.ring, slot, sizeof(slot));
    for (i = 0; i < sizeof(slot); i++) {
        g_assert_cmpint(slot[i], ==, 0xdd);
    }
    /* The driver filled the queue before SET: too late now. */
    g_assert_cmpint(rig_set_raw(&r, 0, 128, 256,
                                VIRTIO_NET_SPLIT_HDR_PROTO_ALL, 0, r.ring),
                    ==, VIRTIO_NET_ERR);
}

/* Queue reset (VIRTIO_F_RING_RESET) turns that queue's ring off. */
static void test_queue_reset(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    QVirtioPCIDevice *pdev = container_of(((QVirtioNet *)obj)->vdev,
                                          QVirtioPCIDevice, vdev);
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 17, .payload = 100 };
    uint8_t frame[256];
    uint64_t cfg = pdev->common_cfg_offset;
    size_t hdrs, len;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    g_assert(r.vdev->features & (1ull << VIRTIO_F_RING_RESET));
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, 3, BUF_SIZE);
    len = rig_build_frame(&spec, frame, &hdrs);
    rig_expect_packet(&r, 0, frame, len, hdrs);

    /* Reset receive queue 0, then enable it again, empty. */
    qpci_io_writew(pdev->pdev, pdev->bar, cfg +
                   offsetof(struct virtio_pci_common_cfg, queue_select), 0);
    qpci_io_writew(pdev->pdev, pdev->bar, cfg +
                   offsetof(struct virtio_pci_modern_common_cfg, queue_reset),
                   1);
    /* Reads back 0 once the reset is complete. */
    g_assert_cmpint(qpci_io_readw(pdev->pdev, pdev->bar, cfg +
                    offsetof(struct virtio_pci_modern_common_cfg,
                             queue_reset)), ==, 0);
    g_assert_cmpint(rig_stat(&r, "enabled"), ==, 0);
    g_assert_cmpint(rig_stat(&r, "k"), ==, 0);
    qtest_writew(r.qts, r.rxq->avail + 2, 0);
    qtest_writew(r.qts, r.rxq->used + 2, 0);
    r.avail_idx = r.used_seen = 0;
    qpci_io_writew(pdev->pdev, pdev->bar, cfg +
                   offsetof(struct virtio_pci_common_cfg, queue_enable), 1);

    /* Classic again until the driver sends SET. */
    rig_expect_classic(&r, frame, len);

    /* After the next reset, SET is accepted again and starts at k = 0. */
    qpci_io_writew(pdev->pdev, pdev->bar, cfg +
                   offsetof(struct virtio_pci_modern_common_cfg, queue_reset),
                   1);
    qtest_writew(r.qts, r.rxq->avail + 2, 0);
    qtest_writew(r.qts, r.rxq->used + 2, 0);
    r.avail_idx = r.used_seen = 0;
    qpci_io_writew(pdev->pdev, pdev->bar, cfg +
                   offsetof(struct virtio_pci_common_cfg, queue_enable), 1);
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, 1, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdrs);
}

/* Not enough buffers: the packet waits, then lands in the next slot. */
static void test_waits_for_buffers(void *obj, void *data,
                                   QGuestAllocator *alloc)
{
    TestArg *t = data;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 6, .payload = 6000 };
    g_autofree uint8_t *frame = g_malloc(8192);
    UsedElem used[2];
    size_t hdrs, len;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    len = rig_build_frame(&spec, frame, &hdrs);
    rig_post(&r, 1, BUF_SIZE);             /* 4096 < 6000 bytes of payload */
    rig_send(&r, frame, len);
    rig_assert_no_used(&r);
    rig_post(&r, 1, BUF_SIZE);
    rig_wait_used(&r, 2, used);
    rig_check_slot(&r, 0, frame, hdrs, 2);
    rig_check_data(&r, used, 2, frame + hdrs, len - hdrs, BUF_SIZE);
}

/* Post buffers and send a 10- and a 17-byte runt: neither may arrive. */
static void expect_runts_dropped(Rig *r, const uint8_t *frame)
{
    rig_post(r, 4, BUF_SIZE);
    rig_send(r, frame, 10);
    rig_send(r, frame, 17);
    rig_assert_no_used(r);
}

/*
 * With the receive filter on (promiscuous mode off), a runt is dropped
 * rather than read past its end (the sanitizer run catches an overread);
 * frames for our MAC still arrive.  First on a classic queue, whose
 * filter is the same function, then with a ring.
 */
static void test_runt_filtered(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 17, .payload = 64 };
    uint8_t frame[256], off = 0;
    size_t hdrs, len;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    g_assert_cmpint(rig_ctrl(&r, VIRTIO_NET_CTRL_RX,
                             VIRTIO_NET_CTRL_RX_PROMISC, &off, 1), ==,
                    VIRTIO_NET_OK);
    len = rig_build_frame(&spec, frame, &hdrs);

    expect_runts_dropped(&r, frame);
    rig_expect_classic(&r, frame, len);
    rig_queue_reset(&r);
    rig_queue_enable(&r);

    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    expect_runts_dropped(&r, frame);
    rig_expect_packet(&r, 0, frame, len, hdrs);
    g_assert_cmpint(rig_stat(&r, "inline-malformed"), ==, 0);
}

/*
 * Only k restarts, with SET and queue reset; the other counters are
 * cumulative, as the spec's Observability section says.
 */
static void test_counters_cumulative(void *obj, void *data,
                                     QGuestAllocator *alloc)
{
    TestArg *t = data;
    FrameSpec udp = { .l3 = L3_IP4, .l4 = 17, .payload = 100 };
    FrameSpec arp = { .l3 = L3_ARP, .payload = 28 };
    uint8_t frame[256], frame_arp[256];
    size_t hdrs, len, len_arp, h;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    len = rig_build_frame(&udp, frame, &hdrs);
    len_arp = rig_build_frame(&arp, frame_arp, &h);

    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, 1, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdrs);

    /* The queue is empty: SET again, k restarts at 0. */
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    g_assert_cmpint(rig_stat(&r, "k"), ==, 0);
    rig_post(&r, 1, BUF_SIZE);
    rig_expect_packet(&r, 0, frame_arp, len_arp, 0);

    rig_queue_reset(&r);
    rig_queue_enable(&r);
    g_assert_cmpint(rig_stat(&r, "k"), ==, 0);
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, 1, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdrs);

    g_assert_cmpint(rig_stat(&r, "k"), ==, 1);
    g_assert_cmpint(rig_stat(&r, "split"), ==, 2);
    g_assert_cmpint(rig_stat(&r, "inline-not-ip"), ==, 1);
    g_assert_cmpint(rig_stat(&r, "header-bytes"), ==, 2 * hdrs);
    g_assert_cmpint(rig_stat(&r, "payload-bytes"), ==,
                    2 * (len - hdrs) + len_arp);
}

/*
 * Two pc-dimms side by side, so that their memory regions meet at
 * STRADDLE_EDGE, and a ring across the edge: slot 1 has its first 64
 * bytes in one region and the rest in the other.  The device takes the
 * ring at SET and writes that slot whole, as any other.
 */
#define STRADDLE_DIMM 0x100000000ull
#define STRADDLE_DIMM_SIZE 0x200000ull
#define STRADDLE_EDGE (STRADDLE_DIMM + STRADDLE_DIMM_SIZE)

static void *straddle_setup(GString *cmd_line, void *arg)
{
    g_string_append_printf(cmd_line,
                           " -m 128M,slots=2,maxmem=512M"
                           " -object memory-backend-ram,id=sdm0,size=2M"
                           " -device pc-dimm,id=sd0,memdev=sdm0,addr=%llu"
                           " -object memory-backend-ram,id=sdm1,size=2M"
                           " -device pc-dimm,id=sd1,memdev=sdm1,addr=%llu ",
                           STRADDLE_DIMM, STRADDLE_EDGE);
    return rig_test_setup(cmd_line, arg);
}

static void test_slot_straddles(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    FrameSpec spec = { .l3 = L3_IP6, .l4 = 6, .tcp_opt_len = 12,
                       .payload = 300 };
    uint8_t frame[512];
    size_t hdrs, len;
    uint32_t k;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    rig_set_ring_at(&r, STRADDLE_EDGE - 128 - 64, 128, RX_QSIZE,
                    VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    len = rig_build_frame(&spec, frame, &hdrs);
    g_assert_cmpint(PREFIX + VHDR_LEN + hdrs, >, 64);
    for (k = 0; k < 3; k++) {
        frame[hdrs] = k;
        rig_post(&r, 1, BUF_SIZE);
        rig_expect_packet(&r, k, frame, len, hdrs);
    }
    g_assert_cmpint(rig_stat(&r, "split"), ==, 3);
}

/* split-hdr=off: the feature is not offered and SET is refused. */
static void test_split_hdr_off(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    g_assert_false(r.vdev->features &
                   (1ull << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER));
    g_assert_cmpint(rig_set_raw(&r, 0, 128, 256,
                                VIRTIO_NET_SPLIT_HDR_PROTO_ALL, 0,
                                guest_alloc(alloc, 65536)), ==,
                    VIRTIO_NET_ERR);
}

/*
 * Benchmark driver, registered only with SPLITHDR_BENCH=1 in the
 * environment (bench/splithdr-bench.sh runs it with QEMU under callgrind):
 * SPLITHDR_BENCH_FRAMES frames of one size, buffers always posted ahead so
 * that each frame is received exactly once.  TCP/IPv4 frames through the
 * socket netdev, or, for the "tap" cases, through the tap interface named
 * by SPLITHDR_BENCH_TAP (created by the script, so QEMU gets a peer with a
 * vnet header) from an AF_PACKET socket.
 */
typedef enum BenchMode {
    BENCH_CLASSIC,             /* no ring */
    BENCH_SPLIT,               /* ring set, TCPv4 split */
    BENCH_INLINE,              /* ring set, TCPv4 left out of proto_mask */
} BenchMode;

typedef struct BenchCase {
    const char *name;
    BenchMode mode;
    bool rss;                  /* software RSS on: hash computed per frame */
    bool tap;                  /* vnet-header peer */
} BenchCase;

static const BenchCase bench_cases[] = {
    { "classic", BENCH_CLASSIC }, { "split", BENCH_SPLIT },
    { "inline", BENCH_INLINE },
    { "rss-classic", BENCH_CLASSIC, true }, { "rss-split", BENCH_SPLIT, true },
    { "tap-classic", BENCH_CLASSIC, false, true },
    { "tap-split", BENCH_SPLIT, false, true },
};

static const size_t bench_sizes[] = { 64, 1514, 9014, 65535 };

typedef struct BenchArg {
    const BenchCase *c;
    size_t frame_len;
} BenchArg;

/* qos "before" hook of the tap cases: QEMU on the script's tap. */
static void *bench_tap_setup(GString *cmd_line, void *arg)
{
    const char *ifname = g_getenv("SPLITHDR_BENCH_TAP");
    struct sockaddr_ll sll = { .sll_family = AF_PACKET };
    TestArg *t = g_new0(TestArg, 1);

    g_string_append_printf(cmd_line, " -netdev tap,id=hs0,ifname=%s,"
                           "script=no,downscript=no,vnet_hdr=on ", ifname);
    /* Protocol 0: the socket only sends, it never queues what it sees. */
    t->sv[0] = socket(AF_PACKET, SOCK_RAW, 0);
    t->sv[1] = -1;
    sll.sll_ifindex = if_nametoindex(ifname);
    g_assert_cmpint(t->sv[0], >=, 0);
    g_assert_cmpint(bind(t->sv[0], (struct sockaddr *)&sll, sizeof(sll)),
                    ==, 0);
    t->data = arg;
    g_test_queue_destroy(rig_test_cleanup, t);
    return t;
}

static void test_bench(void *obj, void *data, QGuestAllocator *alloc)
{
    static const uint16_t table;
    TestArg *t = data;
    const BenchArg *b = t->data;
    const char *env = g_getenv("SPLITHDR_BENCH_FRAMES");
    int frames = env ? atoi(env) : 100, i, n;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 6 };
    g_autofree uint8_t *frame = g_malloc(65536 + 64);
    UsedElem used[NUM_BUFS];
    size_t hdrs, len;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    r.sock_dgram = b->c->tap;
    r.no_fill = true;
    if (b->c->rss) {
        g_assert_cmpint(rig_rss_config(&r, VIRTIO_NET_CTRL_MQ_RSS_CONFIG,
                                       VIRTIO_NET_RSS_HASH_TYPE_IPv4 |
                                       VIRTIO_NET_RSS_HASH_TYPE_TCPv4,
                                       &table, 1, 1), ==, VIRTIO_NET_OK);
    }
    if (b->c->mode != BENCH_CLASSIC) {
        rig_set_ring(&r, 128, RX_QSIZE, b->c->mode == BENCH_SPLIT ?
                     VIRTIO_NET_SPLIT_HDR_PROTO_ALL :
                     VIRTIO_NET_SPLIT_HDR_PROTO_ALL &
                     ~VIRTIO_NET_SPLIT_HDR_PROTO_TCPV4);
    }
    /* A 64-byte frame has no room for the timestamp option. */
    spec.tcp_opt_len = b->frame_len < 128 ? 0 : 12;
    spec.payload = b->frame_len - 14 - 20 - 20 - spec.tcp_opt_len;
    len = rig_build_frame(&spec, frame, &hdrs);
    g_assert_cmpint(len, ==, b->frame_len);
    /* Buffers a frame takes: classic adds the virtio header in front. */
    switch (b->c->mode) {
    case BENCH_CLASSIC:
        n = DIV_ROUND_UP(len + r.vhdr_len, BUF_SIZE);
        break;
    case BENCH_SPLIT:
        n = DIV_ROUND_UP(len - hdrs, BUF_SIZE);
        break;
    default:
        n = DIV_ROUND_UP(len, BUF_SIZE);
    }
    rig_post(&r, NUM_BUFS, BUF_SIZE);
    for (i = 0; i < frames; i++) {
        rig_send(&r, frame, len);
        rig_wait_used(&r, n, used);
        rig_post(&r, n, BUF_SIZE);
    }
    if (b->c->mode == BENCH_SPLIT) {
        g_assert_cmpint(rig_stat(&r, "split"), ==, frames);
    } else if (b->c->mode == BENCH_INLINE) {
        g_assert_cmpint(rig_stat(&r, "inline-masked"), ==, frames);
    }
}

static void register_bench(void)
{
    QOSGraphTestOptions opts = { 0 };
    bool tap = g_getenv("SPLITHDR_BENCH_TAP") != NULL;
    int c, i;

    for (c = 0; c < ARRAY_SIZE(bench_cases); c++) {
        const BenchCase *bc = &bench_cases[c];

        if (bc->tap && !tap) {
            continue;
        }
        opts.before = bc->tap ? bench_tap_setup : rig_test_setup;
        opts.edge.extra_device_opts = bc->rss ? "split-hdr=on,id=vnet0,rss=on"
                                              : "split-hdr=on,id=vnet0";
        for (i = 0; i < ARRAY_SIZE(bench_sizes); i++) {
            BenchArg *arg = g_new(BenchArg, 1);
            g_autofree char *name = g_strdup_printf("split-hdr/bench/%s/%zu",
                                                    bc->name,
                                                    bench_sizes[i]);

            /* Lives as long as the test registry: never freed. */
            arg->c = bc;
            arg->frame_len = bench_sizes[i];
            opts.arg = arg;
            qos_add_test(name, "virtio-net", test_bench, &opts);
        }
    }
}

static void register_splithdr_tests(void)
{
    QOSGraphTestOptions opts = {
        .before = rig_test_setup,
        .edge.extra_device_opts = "split-hdr=on,id=vnet0",
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(split_cases); i++) {
        g_autofree char *name = g_strdup_printf("split-hdr/packet/%s",
                                                split_cases[i].name);

        opts.arg = (void *)&split_cases[i];
        qos_add_test(name, "virtio-net", test_case, &opts);
    }
    opts.arg = NULL;
    qos_add_test("split-hdr/slot-wrap", "virtio-net", test_slot_wrap,
                 &opts);
    qos_add_test("split-hdr/small-buffers", "virtio-net",
                 test_small_buffers, &opts);
    qos_add_test("split-hdr/no-ring-is-classic", "virtio-net",
                 test_no_ring_is_classic, &opts);
    qos_add_test("split-hdr/ctrl-rejects", "virtio-net",
                 test_ctrl_rejects, &opts);
    qos_add_test("split-hdr/ctrl-accepts", "virtio-net",
                 test_ctrl_accepts, &opts);
    qos_add_test("split-hdr/device-reset", "virtio-net",
                 test_device_reset, &opts);
    qos_add_test("split-hdr/queue-reset", "virtio-net",
                 test_queue_reset, &opts);
    qos_add_test("split-hdr/runt-filtered", "virtio-net",
                 test_runt_filtered, &opts);
    qos_add_test("split-hdr/waits-for-buffers", "virtio-net",
                 test_waits_for_buffers, &opts);

    qos_add_test("split-hdr/counters-cumulative", "virtio-net",
                 test_counters_cumulative, &opts);
    opts.before = straddle_setup;
    qos_add_test("split-hdr/slot-straddles-dimms", "virtio-net",
                 test_slot_straddles, &opts);
    opts.before = rig_test_setup;

    if (g_getenv("SPLITHDR_BENCH")) {
        register_bench();
    }

    opts.edge.extra_device_opts = "split-hdr=off,id=vnet0";
    qos_add_test("split-hdr/off", "virtio-net", test_split_hdr_off,
                 &opts);
}

libqos_init(register_splithdr_tests);
