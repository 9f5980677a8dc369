/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest soak for virtio-net split transport header receive: at least
 * 100,000 packets of mixed shapes (SPLITHDR_SOAK_PACKETS for more) through
 * one queue, wrapping the slot ring hundreds of times and recycling the
 * buffers.  Every packet's slot (seq, flags, hdr_len, num_buffers, the
 * headers of split packets) and used entry (buffer, length) is checked,
 * payloads are spot-checked, and at the end the per-reason counters must
 * equal what was sent: nothing lost while buffers were available.
 */

#include "qemu/osdep.h"
#include "libqtest-single.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "standard-headers/linux/virtio_net.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "libqos/qgraph.h"
#include "libqos/virtio.h"
#include "libqos/virtio-net.h"
#include "virtio-net-splithdr-rig.h"

#define SOAK_SLOT 128
#define SOAK_ROOM (SOAK_SLOT - PREFIX - VHDR_LEN)
#define BATCH NUM_BUFS         /* one buffer per packet, all posted */
#define SOAK_DEFAULT 100000
#define SPOT_EVERY 97          /* read back the payload of every 97th */

typedef struct Shape {
    FrameSpec spec;
    const char *counter;
    size_t max_payload;        /* payload varies in [0, max_payload] */
    size_t cut;                /* send only this many bytes (0: all) */
    bool lie_ip_len;           /* IPv4 total length past the frame */
} Shape;

/* UDPv6 is left out of proto_mask, so that inline-masked is exercised. */
static const Shape shapes[] = {
    { { .l3 = L3_IP4, .l4 = 6, .tcp_opt_len = 12 }, "split", 4096 },
    { { .l3 = L3_IP4, .l4 = 17 }, "split", 1472 },
    { { .l3 = L3_IP6, .l4 = 6, .tcp_opt_len = 12 }, "split", 4096 },
    { { .l3 = L3_IP6, .l4 = 6, .ip6_ext = 1 }, "split", 2000 },
    { { .vlan_tags = 2, .l3 = L3_IP4, .l4 = 17 }, "split", 900 },
    { { .l3 = L3_IP6, .l4 = 17 }, "inline-masked", 1400 },
    { { .l3 = L3_ARP, .payload = 28 }, "inline-not-ip", 0 },
    { { .l3 = L3_IP4, .l4 = 1 }, "inline-not-tcp-udp", 1000 },
    { { .l3 = L3_IP4, .l4 = 17, .ip4_frag_field = 0x2000 },
      "inline-fragment", 1400 },
    { { .l3 = L3_IP6, .l4 = 17, .ip6_frag = 1 }, "inline-fragment", 1400 },
    { { .l3 = L3_IP4, .l4 = 6 }, "inline-malformed", 500, 0, true },
    { { .l3 = L3_IP4, .l4 = 6 }, "inline-malformed", 0, 9 },
    { { .l3 = L3_IP6, .l4 = 6, .ip6_ext = 1, .tcp_opt_len = 40 },
      "inline-too-big", 1000 },
};

typedef struct Pkt {
    uint8_t frame[BUF_SIZE + 128];
    size_t len;
    size_t hdr_len;            /* 0: inline */
    int shape;
} Pkt;

/* Packet @k: shape and payload size are a function of @k only. */
static void make_packet(uint32_t k, Pkt *p)
{
    uint32_t h = k * 2654435761u;
    const Shape *s;
    FrameSpec spec;
    size_t hdrs;

    p->shape = (h >> 8) % ARRAY_SIZE(shapes);
    s = &shapes[p->shape];
    spec = s->spec;
    if (s->max_payload) {
        spec.payload = (h >> 16) % (s->max_payload + 1);
    }
    p->len = rig_build_frame(&spec, p->frame, &hdrs);
    if (s->lie_ip_len) {
        rig_put16(p->frame + 14 + 2, p->len - 14 + 1);
    }
    if (s->cut) {
        p->len = s->cut;
    }
    /* Stamp k into the payload so that a misplaced packet shows. */
    if (p->len >= hdrs + 4 && spec.payload >= 4) {
        stl_le_p(p->frame + p->len - 4, k);
    }
    p->hdr_len = !strcmp(s->counter, "split") ? hdrs : 0;
    g_assert_cmpint(p->len - p->hdr_len, <=, BUF_SIZE);
}

static void check_slot(const uint8_t *slot, uint32_t k, const Pkt *p)
{
    const struct virtio_net_hdr_mrg_rxbuf *h = (const void *)(slot + PREFIX);

    if (lduw_le_p(slot) != (k & 0xffff)) {
        g_error("packet %u: slot seq %u", k, lduw_le_p(slot));
    }
    g_assert_cmpint(lduw_le_p(slot + 2), ==, 0);
    g_assert_cmpint(le16_to_cpu(h->num_buffers), ==, 1);
    if (p->hdr_len) {
        g_assert_cmpint(h->hdr.flags, ==,
                        VIRTIO_NET_HDR_F_SPLIT_TRANSPORT_HEADER);
        g_assert_cmpint(le16_to_cpu(h->hdr.hdr_len), ==, p->hdr_len);
        g_assert_cmpmem(slot + PREFIX + VHDR_LEN, p->hdr_len,
                        p->frame, p->hdr_len);
    } else {
        g_assert_cmpint(h->hdr.flags, ==, 0);
    }
}

static void test_soak(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    const char *env = g_getenv("SPLITHDR_SOAK_PACKETS");
    uint64_t total = SOAK_DEFAULT;
    g_autofree Pkt *pkts = g_new(Pkt, BATCH);
    g_autofree uint8_t *slots = g_malloc(BATCH * SOAK_SLOT);
    g_autofree uint8_t *got = g_malloc(BUF_SIZE);
    uint8_t *frames[BATCH];
    size_t lens[BATCH];
    int64_t want[ARRAY_SIZE(shapes)] = { 0 };
    uint64_t hdr_bytes = 0, payload_bytes = 0;
    gint64 start = g_get_monotonic_time();
    UsedElem used[BATCH];
    uint32_t k = 0;
    int i;
    Rig r;

    if (env) {
        g_assert_cmpint(qemu_strtou64(env, NULL, 0, &total), ==, 0);
    }
    total = ROUND_UP(MAX(total, BATCH), BATCH);
    rig_init(&r, obj, alloc, t->sv[0]);
    rig_set_ring(&r, SOAK_SLOT, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL &
                 ~VIRTIO_NET_SPLIT_HDR_PROTO_UDPV6);
    /* Descriptor i = buffer i, written once; later batches only repost. */
    r.no_fill = true;
    rig_post(&r, BATCH, BUF_SIZE);

    while (k < total) {
        for (i = 0; i < BATCH; i++) {
            make_packet(k + i, &pkts[i]);
            frames[i] = pkts[i].frame;
            lens[i] = pkts[i].len;
        }
        rig_send_batch(&r, frames, lens, BATCH);
        rig_wait_used(&r, BATCH, used);

        /* A batch is 64 consecutive slots: one read for all of them. */
        qtest_memread(r.qts, r.ring + (uint64_t)(k % RX_QSIZE) * SOAK_SLOT,
                      slots, BATCH * SOAK_SLOT);
        for (i = 0; i < BATCH; i++, k++) {
            const Pkt *p = &pkts[i];
            size_t data_len = p->len - p->hdr_len;

            check_slot(slots + i * SOAK_SLOT, k, p);
            g_assert_cmpint(used[i].id, ==, k % NUM_BUFS);
            g_assert_cmpint(used[i].len, ==, data_len);
            if (k % SPOT_EVERY == 0) {
                qtest_memread(r.qts, r.bufs[used[i].id], got, data_len);
                g_assert_cmpmem(got, data_len, p->frame + p->hdr_len,
                                data_len);
            }
            want[p->shape]++;
            hdr_bytes += p->hdr_len;
            payload_bytes += data_len;
        }
        rig_post_fast(&r, BATCH);
    }

    g_assert_cmpint(rig_stat(&r, "k"), ==, total);
    g_assert_cmpint(rig_stat(&r, "header-bytes"), ==, hdr_bytes);
    g_assert_cmpint(rig_stat(&r, "payload-bytes"), ==, payload_bytes);
    {
        static const char *const counters[] = {
            "split", "inline-not-ip", "inline-malformed", "inline-fragment",
            "inline-not-tcp-udp", "inline-masked", "inline-too-big",
        };
        int c, s;

        for (c = 0; c < ARRAY_SIZE(counters); c++) {
            int64_t n = 0;

            for (s = 0; s < ARRAY_SIZE(shapes); s++) {
                n += strcmp(shapes[s].counter, counters[c]) ? 0 : want[s];
            }
            g_assert_cmpint(n, >, 0);
            g_assert_cmpint(rig_stat(&r, counters[c]), ==, n);
        }
    }
    g_test_message("soak: %" PRIu64 " packets, %" PRIu64 " ring wraps, "
                   "%.1f s", total, total / RX_QSIZE,
                   (g_get_monotonic_time() - start) / 1e6);
}

static void register_soak_tests(void)
{
    QOSGraphTestOptions opts = {
        .before = rig_test_setup,
        .edge.extra_device_opts = "split-hdr=on,id=vnet0",
    };

    qos_add_test("split-hdr/soak", "virtio-net", test_soak, &opts);
}

libqos_init(register_soak_tests);
