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

#define TIMEOUT_US (30 * 1000 * 1000)
#define QOM_PATH "/machine/peripheral/vnet0/virtio-backend"

#define VHDR_LEN sizeof(struct virtio_net_hdr_mrg_rxbuf)   /* 12 */
#define PREFIX VIRTIO_NET_SPLIT_HDR_PREFIX_LEN
#define BUF_SIZE 4096
#define NUM_BUFS 64            /* receive buffers the test keeps posted */
#define RX_QSIZE 256           /* virtio-net's default rx_queue_size */

#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8

/* ---- The test's driver: one receive queue, control queue ---------------- */

typedef struct Rig {
    QTestState *qts;
    QVirtioNet *net;
    QVirtioDevice *vdev;
    QGuestAllocator *alloc;
    QVirtQueue *rxq;
    QVirtQueue *ctrlq;
    int sock;

    uint16_t avail_idx;        /* next avail ring index of rxq */
    uint16_t used_seen;        /* used entries consumed so far */
    uint64_t bufs[NUM_BUFS];   /* guest address of buffer i = descriptor i */
    uint16_t next_buf;         /* buffer to post next, round robin */
    bool no_fill;              /* rig_post skips the 0xee fill */

    uint64_t ctrl_mem;         /* command header + payload + status */
    uint16_t ctrl_avail;
    uint16_t ctrl_used;

    uint64_t ring;             /* header ring of the current SET */
    uint32_t slot_size;
    uint32_t num_slots;
} Rig;

typedef struct UsedElem {
    uint32_t id;
    uint32_t len;
} UsedElem;

static void rig_init(Rig *r, QVirtioNet *net, QGuestAllocator *alloc,
                     int sock)
{
    int i;

    memset(r, 0, sizeof(*r));
    r->qts = global_qtest;
    r->net = net;
    r->vdev = net->vdev;
    r->alloc = alloc;
    r->rxq = net->queues[0];
    r->ctrlq = net->queues[net->n_queues - 1];
    r->sock = sock;
    g_assert_cmpint(r->rxq->size, ==, RX_QSIZE);
    for (i = 0; i < NUM_BUFS; i++) {
        r->bufs[i] = guest_alloc(alloc, BUF_SIZE);
    }
    r->ctrl_mem = guest_alloc(alloc, 64);
}

/* Make buffer @i available as descriptor @i (one writable descriptor). */
static void rig_post_desc(Rig *r, uint16_t i, uint32_t len)
{
    QVirtQueue *vq = r->rxq;

    qtest_writeq(r->qts, vq->desc + 16 * i, r->bufs[i]);
    qtest_writel(r->qts, vq->desc + 16 * i + 8, len);
    qtest_writew(r->qts, vq->desc + 16 * i + 12, VRING_DESC_F_WRITE);
    qtest_writew(r->qts, vq->desc + 16 * i + 14, 0);
    qtest_writew(r->qts, vq->avail + 4 + 2 * (r->avail_idx % vq->size), i);
    r->avail_idx++;
    qtest_writew(r->qts, vq->avail + 2, r->avail_idx);
}

static void rig_kick(Rig *r, QVirtQueue *vq)
{
    r->vdev->bus->virtqueue_kick(r->vdev, vq);
}

/* Post @n buffers of @len bytes, filled with 0xee to expose stale bytes. */
static void rig_post(Rig *r, int n, uint32_t len)
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

static uint16_t rig_used_idx(Rig *r, QVirtQueue *vq)
{
    return qtest_readw(r->qts, vq->used + 2);
}

/* Wait until @n more used entries appeared on rxq and return them. */
static void rig_wait_used(Rig *r, int n, UsedElem *out)
{
    gint64 start = g_get_monotonic_time();
    int i;

    while ((uint16_t)(rig_used_idx(r, r->rxq) - r->used_seen) < n) {
        g_assert(g_get_monotonic_time() - start < TIMEOUT_US);
        qtest_clock_step(r->qts, 100);
        g_usleep(100);
    }
    for (i = 0; i < n; i++) {
        uint64_t e = r->rxq->used + 4 + 8 * (r->used_seen % r->rxq->size);

        out[i].id = qtest_readl(r->qts, e);
        out[i].len = qtest_readl(r->qts, e + 4);
        r->used_seen++;
    }
}

/* Give the device time to act, then check it used nothing more. */
static void rig_assert_no_used(Rig *r)
{
    int i;

    for (i = 0; i < 50; i++) {
        qtest_clock_step(r->qts, 100);
        g_usleep(1000);
    }
    g_assert_cmpint(rig_used_idx(r, r->rxq), ==, r->used_seen);
}

/* Send one control command; returns the status byte the device wrote. */
static uint8_t rig_ctrl(Rig *r, uint8_t class, uint8_t cmd,
                        const void *data, size_t len)
{
    QVirtQueue *vq = r->ctrlq;
    uint8_t hdr[2] = { class, cmd };
    uint64_t status_addr = r->ctrl_mem + 48;
    gint64 start = g_get_monotonic_time();

    g_assert(len <= 40);
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
    qtest_writew(r->qts, vq->avail + 4 + 2 * (r->ctrl_avail % vq->size), 0);
    r->ctrl_avail++;
    qtest_writew(r->qts, vq->avail + 2, r->ctrl_avail);
    rig_kick(r, vq);

    while (rig_used_idx(r, vq) == r->ctrl_used) {
        g_assert(g_get_monotonic_time() - start < TIMEOUT_US);
        qtest_clock_step(r->qts, 100);
        g_usleep(100);
    }
    r->ctrl_used++;
    return qtest_readb(r->qts, status_addr);
}

static uint8_t rig_set_raw(Rig *r, uint16_t rq, uint32_t slot_size,
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

/* Allocate a ring, fill it with 0xdd and SET it on queue 0. */
static void rig_set_ring(Rig *r, uint32_t slot_size, uint32_t num_slots,
                         uint32_t mask)
{
    size_t len = (size_t)slot_size * num_slots;
    g_autofree uint8_t *fill = g_malloc(len);

    r->ring = guest_alloc(r->alloc, len + VIRTIO_NET_SPLIT_HDR_RING_ALIGN);
    r->ring = QEMU_ALIGN_UP(r->ring, VIRTIO_NET_SPLIT_HDR_RING_ALIGN);
    r->slot_size = slot_size;
    r->num_slots = num_slots;
    memset(fill, 0xdd, len);
    qtest_memwrite(r->qts, r->ring, fill, len);
    g_assert_cmpint(rig_set_raw(r, 0, slot_size, num_slots, mask, 0, r->ring),
                    ==, VIRTIO_NET_OK);
}

static void rig_send(Rig *r, const void *frame, size_t len)
{
    uint32_t be = htonl(len);
    struct iovec iov[] = {
        { .iov_base = &be, .iov_len = sizeof(be) },
        { .iov_base = (void *)frame, .iov_len = len },
    };
    ssize_t ret = iov_send(r->sock, iov, 2, 0, sizeof(be) + len);

    g_assert_cmpint(ret, ==, sizeof(be) + len);
}

static void rig_read_slot(Rig *r, uint32_t k, uint8_t *out)
{
    qtest_memread(r->qts, r->ring + (uint64_t)(k % r->num_slots) *
                  r->slot_size, out, r->slot_size);
}

static int64_t rig_stat(Rig *r, const char *name)
{
    QDict *rsp = qtest_qmp(r->qts, "{'execute': 'qom-get', 'arguments': {"
                           "'path': %s, 'property': 'split-hdr-stats'}}",
                           QOM_PATH);
    QList *queues = qdict_get_qlist(rsp, "return");
    QDict *q0 = qobject_to(QDict, qlist_peek(queues));
    QObject *o = qdict_get(q0, name);
    int64_t v = qobject_type(o) == QTYPE_QBOOL ?
                qbool_get_bool(qobject_to(QBool, o)) : qdict_get_int(q0, name);

    qobject_unref(rsp);
    return v;
}

/* ---- Frames ------------------------------------------------------------ */

typedef enum L3 { L3_ARP, L3_OTHER, L3_IP4, L3_IP6 } L3;

typedef struct FrameSpec {
    int vlan_tags;             /* 0, 1 (802.1Q) or 2 (802.1ad + 802.1Q) */
    L3 l3;
    uint8_t l4;                /* IP protocol: 6 TCP, 17 UDP, 1 ICMP, ... */
    int ip4_opt_len;           /* bytes of IPv4 options, multiple of 4 */
    int ip6_ext;               /* add hop-by-hop, routing, dest options */
    int ip6_frag;              /* add an IPv6 fragment header */
    int tcp_opt_len;           /* bytes of TCP options, multiple of 4 */
    size_t payload;            /* bytes after the L4 header */
    uint16_t ip4_frag_field;   /* IPv4 flags/fragment offset */
} FrameSpec;

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

/*
 * Build the frame @s describes into @f; returns its length, and in @hdrs
 * the length of its L2..L4 headers.  Payload byte i is (i * 7 + 3) & 0xff.
 */
static size_t build_frame(const FrameSpec *s, uint8_t *f, size_t *hdrs)
{
    static const uint8_t dst[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    static const uint8_t src[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
    size_t off = 12, l3, l4, l5, ip_end, i;
    uint16_t type;

    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    if (s->vlan_tags == 2) {
        put16(f + off, ETH_P_8021AD);
        put16(f + off + 2, 0x0064);
        off += 4;
    }
    if (s->vlan_tags >= 1) {
        put16(f + off, ETH_P_8021Q);
        put16(f + off + 2, 0x0005);
        off += 4;
    }
    type = s->l3 == L3_IP4 ? ETH_P_IP : s->l3 == L3_IP6 ? ETH_P_IPV6 :
           s->l3 == L3_ARP ? ETH_P_ARP : 0x88b5;
    put16(f + off, type);
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
        put16(f + l3 + 4, 0x1234);
        put16(f + l3 + 6, s->ip4_frag_field);
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
        put16(f + l4, 5001);
        put16(f + l4 + 2, 80);
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
        put16(f + l4, 5001);
        put16(f + l4 + 2, 4789);
        put16(f + l4 + 4, 8 + s->payload);
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
        put16(f + l3 + 2, ip_end - l3);
    } else {
        put16(f + l3 + 4, ip_end - l3 - 40);
    }
    *hdrs = l5;
    return ip_end;
}

/* ---- Checks on guest memory -------------------------------------------- */

/*
 * Check the slot of packet @k: prefix, virtio header, and (when split) the
 * headers; @hdr_len 0 means inline.
 */
static void check_slot(Rig *r, uint32_t k, const uint8_t *frame,
                       size_t hdr_len, uint16_t num_buffers)
{
    g_autofree uint8_t *slot = g_malloc(r->slot_size);
    const struct virtio_net_hdr_mrg_rxbuf *h;

    rig_read_slot(r, k, slot);
    h = (const void *)(slot + PREFIX);
    g_assert_cmpint(lduw_le_p(slot), ==, k & 0xffff);
    g_assert_cmpint(lduw_le_p(slot + 2), ==, 0);
    g_assert_cmpint(le16_to_cpu(h->num_buffers), ==, num_buffers);
    g_assert_cmpint(h->hdr.gso_type, ==, VIRTIO_NET_HDR_GSO_NONE);
    if (hdr_len) {
        g_assert_cmpint(h->hdr.flags, ==,
                        VIRTIO_NET_HDR_F_SPLIT_TRANSPORT_HEADER);
        g_assert_cmpint(le16_to_cpu(h->hdr.hdr_len), ==, hdr_len);
        g_assert_cmpmem(slot + PREFIX + VHDR_LEN, hdr_len, frame, hdr_len);
    } else {
        g_assert_cmpint(h->hdr.flags, ==, 0);
        g_assert_cmpint(le16_to_cpu(h->hdr.hdr_len), ==, 0);
    }
    /* Nothing written past what the packet needs. */
    if (PREFIX + VHDR_LEN + hdr_len < r->slot_size) {
        g_assert_cmpint(slot[PREFIX + VHDR_LEN + hdr_len], ==, 0xdd);
    }
}

/*
 * Check that the @n used buffers hold @data from offset 0, each filled
 * completely before the next, and that nothing follows in the last one.
 */
static void check_data(Rig *r, const UsedElem *used, int n,
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
static void expect_packet(Rig *r, uint32_t k, const uint8_t *frame,
                          size_t len, size_t hdr_len)
{
    size_t data_len = len - hdr_len;
    int n = data_len ? DIV_ROUND_UP(data_len, BUF_SIZE) : 1;
    g_autofree UsedElem *used = g_new(UsedElem, n);

    rig_send(r, frame, len);
    rig_wait_used(r, n, used);
    check_slot(r, k, frame, hdr_len, n);
    check_data(r, used, n, frame + hdr_len, data_len, BUF_SIZE);
}

/* ---- Tests ------------------------------------------------------------- */

typedef struct SplitCase {
    const char *name;
    FrameSpec frame;
    bool split;                /* expected: split, or inline */
    const char *counter;       /* QMP counter expected to count it */
    uint32_t slot_size;        /* 0: 128 */
    uint32_t mask;             /* 0: all protocols */
    size_t truncate;           /* send only this many bytes (0: all) */
    void (*corrupt)(uint8_t *frame, size_t hdrs); /* lie in a header field */
} SplitCase;

typedef struct TestArg {
    int sv[2];
    const void *data;
} TestArg;

static void test_cleanup(void *opaque)
{
    TestArg *t = opaque;

    close(t->sv[0]);
    qos_invalidate_command_line();
    close(t->sv[1]);
    g_free(t);
}

static void *test_setup(GString *cmd_line, void *arg)
{
    TestArg *t = g_new0(TestArg, 1);

    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, t->sv), !=, -1);
    g_string_append_printf(cmd_line, " -netdev socket,fd=%d,id=hs0 ",
                           t->sv[1]);
    t->data = arg;
    g_test_queue_destroy(test_cleanup, t);
    return t;
}

static void corrupt_ihl(uint8_t *f, size_t hdrs)
{
    f[14] = 0x44;                               /* IHL 4 */
}

static void corrupt_ip_len(uint8_t *f, size_t hdrs)
{
    put16(f + 16, 1500);                        /* past the frame */
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
    put16(f + 14 + 20 + 4, 4000);
}

static void corrupt_ip6_plen(uint8_t *f, size_t hdrs)
{
    put16(f + 14 + 4, 9000);
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

    len = build_frame(&c->frame, frame, &hdrs);
    if (c->corrupt) {
        c->corrupt(frame, hdrs);
    }
    if (c->truncate) {
        len = c->truncate;
    }
    expect_packet(&r, 0, frame, len, c->split ? hdrs : 0);
    g_assert_cmpint(rig_stat(&r, c->counter), ==, 1);
    g_assert_cmpint(rig_stat(&r, "header-bytes"), ==, c->split ? hdrs : 0);
    g_assert_cmpint(rig_stat(&r, "payload-bytes"), ==,
                    len - (c->split ? hdrs : 0));
    g_assert_cmpint(rig_stat(&r, "slot"), ==, 1);
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
    len = build_frame(&spec, frame, &hdrs);
    for (k = 0; k < 3 * RX_QSIZE + 7; k++) {
        UsedElem used;

        frame[hdrs] = k;                 /* tell the packets apart */
        frame[hdrs + 1] = k >> 8;
        rig_post(&r, 1, BUF_SIZE);
        rig_send(&r, frame, len);
        rig_wait_used(&r, 1, &used);
        check_slot(&r, k, frame, hdrs, 1);
        check_data(&r, &used, 1, frame + hdrs, len - hdrs, BUF_SIZE);
    }
    g_assert_cmpint(rig_stat(&r, "slot"), ==, 3 * RX_QSIZE + 7);
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
    len = build_frame(&spec, frame, &hdrs);
    rig_send(&r, frame, len);
    rig_wait_used(&r, 6, used);
    check_slot(&r, 0, frame, hdrs, 6);
    check_data(&r, used, 6, frame + hdrs, len - hdrs, 512);
}

/* split-hdr=on and negotiated, but no SET: the classic layout. */
static void test_no_ring_is_classic(void *obj, void *data,
                                    QGuestAllocator *alloc)
{
    TestArg *t = data;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 6, .payload = 500 };
    uint8_t frame[1024], got[1024];
    struct virtio_net_hdr_mrg_rxbuf *h = (void *)got;
    size_t hdrs, len;
    UsedElem used;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    g_assert(r.vdev->features & (1ull << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER));
    rig_post(&r, 4, BUF_SIZE);
    len = build_frame(&spec, frame, &hdrs);
    rig_send(&r, frame, len);
    rig_wait_used(&r, 1, &used);
    g_assert_cmpint(used.len, ==, VHDR_LEN + len);
    qtest_memread(r.qts, r.bufs[used.id], got, VHDR_LEN + len);
    g_assert_cmpint(h->hdr.flags, ==, 0);
    g_assert_cmpint(le16_to_cpu(h->num_buffers), ==, 1);
    g_assert_cmpmem(got + VHDR_LEN, len, frame, len);
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
    len = build_frame(&spec, frame, &hdrs);
    expect_packet(&r, 0, frame, len, hdrs);
    expect_packet(&r, 1, frame, len, hdrs);
}

/* Accepted SETs: replace, turn off, and the largest slot size. */
static void test_ctrl_accepts(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 6, .payload = 100 };
    uint8_t frame[256], got[256];
    size_t hdrs, len;
    UsedElem used;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    len = build_frame(&spec, frame, &hdrs);

    /* Off while off is fine, and so is a replacement. */
    g_assert_cmpint(rig_set_raw(&r, 0, 0, 0, 0, 0, 0), ==, VIRTIO_NET_OK);
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_set_ring(&r, 4096, 512, VIRTIO_NET_SPLIT_HDR_PROTO_TCPV4);
    g_assert_cmpint(rig_stat(&r, "enabled"), ==, 1);
    rig_post(&r, 4, BUF_SIZE);
    expect_packet(&r, 0, frame, len, hdrs);

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
    rig_post(&r, 1, BUF_SIZE);
    rig_send(&r, frame, len);
    rig_wait_used(&r, 1, &used);
    g_assert_cmpint(used.len, ==, VHDR_LEN + len);
    qtest_memread(r.qts, r.bufs[used.id], got, VHDR_LEN + len);
    g_assert_cmpmem(got + VHDR_LEN, len, frame, len);
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
    len = build_frame(&spec, frame, &hdrs);
    expect_packet(&r, 0, frame, len, hdrs);

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
    r.avail_idx = r.used_seen = r.ctrl_avail = r.ctrl_used = 0;
    memset(slot, 0xdd, sizeof(slot));
    qtest_memwrite(r.qts, r.ring, slot, sizeof(slot));
    rig_post(&r, 2, BUF_SIZE);
    rig_send(&r, frame, len);
    {
        UsedElem used;
        uint8_t got[512];

        rig_wait_used(&r, 1, &used);
        g_assert_cmpint(used.len, ==, VHDR_LEN + len);
        qtest_memread(r.qts, r.bufs[used.id], got, VHDR_LEN + len);
        g_assert_cmpmem(got + VHDR_LEN, len, frame, len);
    }
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
    uint8_t frame[256], got[512];
    uint64_t cfg = pdev->common_cfg_offset;
    size_t hdrs, len;
    UsedElem used;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    g_assert(r.vdev->features & (1ull << VIRTIO_F_RING_RESET));
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, 3, BUF_SIZE);
    len = build_frame(&spec, frame, &hdrs);
    expect_packet(&r, 0, frame, len, hdrs);

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
    g_assert_cmpint(rig_stat(&r, "slot"), ==, 0);
    qtest_writew(r.qts, r.rxq->avail + 2, 0);
    qtest_writew(r.qts, r.rxq->used + 2, 0);
    r.avail_idx = r.used_seen = 0;
    qpci_io_writew(pdev->pdev, pdev->bar, cfg +
                   offsetof(struct virtio_pci_common_cfg, queue_enable), 1);

    /* Classic again until the driver sends SET. */
    rig_post(&r, 1, BUF_SIZE);
    rig_send(&r, frame, len);
    rig_wait_used(&r, 1, &used);
    g_assert_cmpint(used.len, ==, VHDR_LEN + len);
    qtest_memread(r.qts, r.bufs[used.id], got, VHDR_LEN + len);
    g_assert_cmpmem(got + VHDR_LEN, len, frame, len);

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
    expect_packet(&r, 0, frame, len, hdrs);
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
    len = build_frame(&spec, frame, &hdrs);
    rig_post(&r, 1, BUF_SIZE);             /* 4096 < 6000 bytes of payload */
    rig_send(&r, frame, len);
    rig_assert_no_used(&r);
    rig_post(&r, 1, BUF_SIZE);
    rig_wait_used(&r, 2, used);
    check_slot(&r, 0, frame, hdrs, 2);
    check_data(&r, used, 2, frame + hdrs, len - hdrs, BUF_SIZE);
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
 * that each frame is received exactly once.
 */
typedef struct BenchCase {
    const char *name;
    bool split;
    size_t frame_len;
} BenchCase;

static const BenchCase bench_cases[] = {
    { "split/64", true, 64 }, { "classic/64", false, 64 },
    { "split/1514", true, 1514 }, { "classic/1514", false, 1514 },
    { "split/9014", true, 9014 }, { "classic/9014", false, 9014 },
    { "split/65535", true, 65535 }, { "classic/65535", false, 65535 },
};

static void test_bench(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    const BenchCase *b = t->data;
    const char *env = g_getenv("SPLITHDR_BENCH_FRAMES");
    int frames = env ? atoi(env) : 100, i, n;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 6 };
    g_autofree uint8_t *frame = g_malloc(65536 + 64);
    UsedElem used[NUM_BUFS];
    size_t hdrs, len;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    r.no_fill = true;
    if (b->split) {
        rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    }
    /* A 64-byte frame has no room for the timestamp option. */
    spec.tcp_opt_len = b->frame_len < 128 ? 0 : 12;
    spec.payload = b->frame_len - 14 - 20 - 20 - spec.tcp_opt_len;
    len = build_frame(&spec, frame, &hdrs);
    g_assert_cmpint(len, ==, b->frame_len);
    /* Buffers a frame takes: classic adds the 12-byte header in front. */
    n = DIV_ROUND_UP(b->split ? len - hdrs : len + VHDR_LEN, BUF_SIZE);
    rig_post(&r, NUM_BUFS, BUF_SIZE);
    for (i = 0; i < frames; i++) {
        rig_send(&r, frame, len);
        rig_wait_used(&r, n, used);
        rig_post(&r, n, BUF_SIZE);
    }
    if (b->split) {
        g_assert_cmpint(rig_stat(&r, "split"), ==, frames);
    }
}

static void register_splithdr_tests(void)
{
    QOSGraphTestOptions opts = {
        .before = test_setup,
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
    qos_add_test("split-hdr/waits-for-buffers", "virtio-net",
                 test_waits_for_buffers, &opts);

    if (g_getenv("SPLITHDR_BENCH")) {
        for (i = 0; i < ARRAY_SIZE(bench_cases); i++) {
            g_autofree char *name = g_strdup_printf("split-hdr/bench/%s",
                                                    bench_cases[i].name);

            opts.arg = (void *)&bench_cases[i];
            qos_add_test(name, "virtio-net", test_bench, &opts);
        }
        opts.arg = NULL;
    }

    opts.edge.extra_device_opts = "split-hdr=off,id=vnet0";
    qos_add_test("split-hdr/off", "virtio-net", test_split_hdr_off,
                 &opts);
}

libqos_init(register_splithdr_tests);
