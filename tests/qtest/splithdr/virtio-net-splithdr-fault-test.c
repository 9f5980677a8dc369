/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest testcase for virtio-net split transport header receive: the
 * device's test faults, x-split-hdr-fault and x-split-hdr-fault-interval
 * (docs/specs/virtio-net-split-hdr.rst, "Test faults").  A guest driver
 * uses them to test its defences; these tests pin down what the guest
 * sees: exactly the interval-th, 2 * interval-th, ... packet the fault
 * applies to on a queue is wrong, in exactly the documented way, every
 * other byte is as without the fault, and the per-queue counter
 * fault-injected matches.  The count restarts whenever k does.
 */

#include "qemu/osdep.h"
#include "libqtest-single.h"
#include "qemu/bswap.h"
#include "standard-headers/linux/virtio_net.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "libqos/qgraph.h"
#include "libqos/virtio.h"
#include "libqos/virtio-net.h"
#include "virtio-net-splithdr-rig.h"

#define ALL VIRTIO_NET_SPLIT_HDR_PROTO_ALL
#define SLOT 128
#define FLAG_SPLIT VIRTIO_NET_HDR_F_SPLIT_TRANSPORT_HEADER

/*
 * Frame @i of a mixed stream: split UDP/IPv4 and TCP/IPv6, inline ARP and
 * ICMP, in turn; its first payload byte is @i.  Returns its length, and in
 * @hdrs where a split puts the payload (0 for the inline ones).
 */
static size_t mixed_frame(int i, uint8_t *f, size_t *hdrs)
{
    static const FrameSpec specs[] = {
        { .l3 = L3_IP4, .l4 = 17, .payload = 300 },
        { .l3 = L3_ARP, .payload = 28 },
        { .l3 = L3_IP6, .l4 = 6, .tcp_opt_len = 12, .payload = 500 },
        { .l3 = L3_IP4, .l4 = 1, .payload = 56 },
    };
    const FrameSpec *s = &specs[i % ARRAY_SIZE(specs)];
    size_t len = rig_build_frame(s, f, hdrs);

    if (s->l3 == L3_ARP || s->l4 == 1) {
        f[len - s->payload] = i;
        *hdrs = 0;
    } else {
        f[*hdrs] = i;
    }
    return len;
}

/*
 * Post one buffer, send @frame and expect it as packet @k in one buffer,
 * split at @hdr_len (0: inline), with @seq in the slot and, when split,
 * @hdr_len_field as the header's hdr_len.
 */
static void expect_packet(Rig *r, uint32_t k, const uint8_t *frame,
                          size_t len, size_t hdr_len, uint16_t seq,
                          uint16_t hdr_len_field)
{
    UsedElem used;

    rig_post(r, 1, BUF_SIZE);
    rig_send(r, frame, len);
    rig_wait_used(r, 1, &used);
    rig_check_slot_fault(r, k, seq, frame, hdr_len, hdr_len_field, 1);
    rig_check_data(r, &used, 1, frame + hdr_len, len - hdr_len, BUF_SIZE);
}

/*
 * x-split-hdr-fault=seq: every packet delivered on a queue with a ring
 * counts, split or inline, so the faulty ones are packets k = interval - 1,
 * 2 * interval - 1, ...  Their slot says seq k + 1, the rest of it is
 * right, and k goes on as if nothing happened: the next packet says k + 1
 * too.  A SET restarts the count with k.
 */
static void test_fault_seq(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    uint32_t every = *(const uint32_t *)t->data;
    uint32_t total = 3 * every + 2, k;
    uint8_t frame[1024];
    size_t hdrs, len;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    g_assert_cmpint(rig_stat(&r, "fault-injected"), ==, 0);
    rig_set_ring(&r, SLOT, RX_QSIZE, ALL);
    for (k = 0; k < total; k++) {
        bool fault = (k + 1) % every == 0;

        len = mixed_frame(k, frame, &hdrs);
        expect_packet(&r, k, frame, len, hdrs, fault ? k + 1 : k, hdrs);
        g_assert_cmpint(rig_stat(&r, "fault-injected"), ==, (k + 1) / every);
    }
    g_assert_cmpint(rig_stat(&r, "k"), ==, total);
    g_assert_cmpint(rig_stat(&r, "fault-injected"), ==, total / every);

    /* Every buffer is used, the queue is empty: a new ring, a new count. */
    rig_set_ring(&r, SLOT, RX_QSIZE, ALL);
    for (k = 0; k < every; k++) {
        len = mixed_frame(k, frame, &hdrs);
        expect_packet(&r, k, frame, len, hdrs,
                      k == every - 1 ? k + 1 : k, hdrs);
    }
    g_assert_cmpint(rig_stat(&r, "fault-injected"), ==, total / every + 1);
    g_assert_cmpint(rig_stat(&r, "k"), ==, every);
}

/*
 * x-split-hdr-fault=hdr-len: only split packets count.  The interval-th,
 * 2 * interval-th, ... split packet says hdr_len = slot_size, more than
 * the slot holds after the prefix and the header (S - 4 - H); its flags,
 * seq, the headers in the slot and the payload in the buffer are right.
 * Inline packets between them are untouched.
 */
static void test_fault_hdr_len(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    uint32_t every = *(const uint32_t *)t->data;
    uint32_t k, split = 0;
    uint8_t frame[1024];
    size_t hdrs, len;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    rig_set_ring(&r, SLOT, RX_QSIZE, ALL);
    g_assert_cmpint(SLOT, >, SLOT - PREFIX - r.vhdr_len);
    for (k = 0; k < 4 * every; k++) {
        bool fault;

        len = mixed_frame(k, frame, &hdrs);
        split += hdrs != 0;
        fault = hdrs && split % every == 0;
        expect_packet(&r, k, frame, len, hdrs, k, fault ? SLOT : hdrs);
    }
    g_assert_cmpint(split, ==, 2 * every);
    g_assert_cmpint(rig_stat(&r, "split"), ==, split);
    g_assert_cmpint(rig_stat(&r, "fault-injected"), ==, 2);
    g_assert_cmpint(rig_stat(&r, "k"), ==, 4 * every);
}

/*
 * Post the buffers a classic packet needs, send @frame and expect it with
 * the virtio header at the start of the first buffer, flags @flags, the
 * rest of the header and the frame as classic receive writes them.
 */
static void expect_classic(Rig *r, const uint8_t *frame, size_t len,
                           uint8_t flags)
{
    int n = DIV_ROUND_UP(VHDR_LEN + len, BUF_SIZE);
    g_autofree uint8_t *got = g_malloc(len);
    g_autofree UsedElem *used = g_new(UsedElem, n);
    struct virtio_net_hdr_v1_hash hdr;

    rig_post(r, n, BUF_SIZE);
    rig_send(r, frame, len);
    rig_wait_used(r, n, used);
    g_assert_cmpint(rig_read_classic(r, used, n, &hdr, got, len), ==, len);
    g_assert_cmpmem(got, len, frame, len);
    g_assert_cmphex(hdr.hdr.flags, ==, flags);
    g_assert_cmpint(hdr.hdr.gso_type, ==, VIRTIO_NET_HDR_GSO_NONE);
    g_assert_cmpint(le16_to_cpu(hdr.hdr.hdr_len), ==, 0);
    g_assert_cmpint(le16_to_cpu(hdr.hdr.csum_start), ==, 0);
}

/*
 * x-split-hdr-fault=flag-no-ring: packets classic receive delivers on a
 * queue without a ring count while the feature is negotiated; the
 * interval-th, 2 * interval-th, ... has VIRTIO_NET_HDR_F_SPLIT_TRANSPORT_HEADER
 * set in the virtio header at the start of its first buffer, all else
 * classic.  Packets on a ring do not count and are never wrong; SET (on
 * or off) and device reset restart the count; a driver that did not
 * negotiate the feature never sees the flag.
 */
static void test_fault_flag_no_ring(void *obj, void *data,
                                    QGuestAllocator *alloc)
{
    TestArg *t = data;
    uint32_t every = *(const uint32_t *)t->data;
    FrameSpec big = { .l3 = L3_IP4, .l4 = 17, .payload = BUF_SIZE + 100 };
    g_autofree uint8_t *frame = g_malloc(2 * BUF_SIZE);
    size_t hdrs, len;
    uint32_t i;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    g_assert(r.vdev->features & (1ull << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER));

    /* Classic; the second faulty packet takes two buffers. */
    for (i = 1; i <= 2 * every + 1; i++) {
        if (i == 2 * every) {
            len = rig_build_frame(&big, frame, &hdrs);
        } else {
            len = mixed_frame(i, frame, &hdrs);
        }
        expect_classic(&r, frame, len, i % every ? 0 : FLAG_SPLIT);
    }
    g_assert_cmpint(rig_stat(&r, "fault-injected"), ==, 2);

    /* With a ring: nothing counts, nothing is wrong. */
    rig_set_ring(&r, SLOT, RX_QSIZE, ALL);
    for (i = 0; i < every + 1; i++) {
        len = mixed_frame(i, frame, &hdrs);
        expect_packet(&r, i, frame, len, hdrs, i, hdrs);
    }
    g_assert_cmpint(rig_stat(&r, "fault-injected"), ==, 2);

    /* Ring off: classic again, counting from 1. */
    g_assert_cmpint(rig_set_raw(&r, 0, 0, 0, 0, 0, 0), ==, VIRTIO_NET_OK);
    for (i = 1; i <= every; i++) {
        len = mixed_frame(i, frame, &hdrs);
        expect_classic(&r, frame, len, i % every ? 0 : FLAG_SPLIT);
    }
    g_assert_cmpint(rig_stat(&r, "fault-injected"), ==, 3);

    /* A driver without the feature: the flag means nothing, never set. */
    rig_device_reset(&r);
    r.vdev->features &= ~(1ull << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER);
    rig_device_init(&r);
    for (i = 1; i <= 2 * every; i++) {
        len = mixed_frame(i, frame, &hdrs);
        expect_classic(&r, frame, len, 0);
    }
    g_assert_cmpint(rig_stat(&r, "fault-injected"), ==, 3);
}

static const uint32_t every_1 = 1, every_3 = 3, every_4 = 4;

static void register_fault_tests(void)
{
    QOSGraphTestOptions opts = {
        .before = rig_test_setup,
    };

    opts.arg = (void *)&every_4;
    opts.edge.extra_device_opts = "split-hdr=on,id=vnet0,"
        "x-split-hdr-fault=seq,x-split-hdr-fault-interval=4";
    qos_add_test("split-hdr/fault/seq", "virtio-net", test_fault_seq, &opts);
    opts.arg = (void *)&every_1;
    opts.edge.extra_device_opts = "split-hdr=on,id=vnet0,"
        "x-split-hdr-fault=seq,x-split-hdr-fault-interval=1";
    qos_add_test("split-hdr/fault/seq-every-packet", "virtio-net",
                 test_fault_seq, &opts);
    opts.arg = (void *)&every_3;
    opts.edge.extra_device_opts = "split-hdr=on,id=vnet0,"
        "x-split-hdr-fault=hdr-len,x-split-hdr-fault-interval=3";
    qos_add_test("split-hdr/fault/hdr-len", "virtio-net", test_fault_hdr_len,
                 &opts);
    opts.edge.extra_device_opts = "split-hdr=on,id=vnet0,"
        "x-split-hdr-fault=flag-no-ring,x-split-hdr-fault-interval=3";
    qos_add_test("split-hdr/fault/flag-no-ring", "virtio-net",
                 test_fault_flag_no_ring, &opts);
}

libqos_init(register_fault_tests);
