/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest testcase for virtio-net split transport header receive: device
 * reset and queue reset while packets keep arriving.  The spec
 * (docs/specs/virtio-net-split-hdr.rst, "Device requirements") says both
 * clear the ring configuration: after the reset no slot of the old ring
 * may be written, the slots of packets delivered before it must be
 * complete, and once the driver sends SET again the next packet is packet
 * 0 of the new ring.
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

#define SLOT 128
#define RING_LEN (SLOT * RX_QSIZE)
#define BEFORE 10     /* buffers posted before the reset: packets 0..9 */
#define FIRST 20      /* packets sent before the reset */
#define DURING 8      /* sent while the device or queue is reset */
#define AFTER 4       /* sent after DRIVER_OK or enable, before SET */
#define TOTAL (FIRST + DURING + AFTER)

typedef enum ResetKind { RESET_DEVICE, RESET_QUEUE } ResetKind;

static void reset_under_traffic(Rig *r, ResetKind kind)
{
    g_autofree uint8_t *snap = g_malloc(RING_LEN);
    g_autofree uint8_t *now = g_malloc(RING_LEN);
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 17, .payload = 300 };
    uint8_t *frames[TOTAL];
    size_t lens[TOTAL], hdrs = 0;
    UsedElem used[TOTAL];
    uint64_t old;
    int j, k, first = 0;

    for (j = 0; j < TOTAL; j++) {
        frames[j] = g_malloc(512);
        lens[j] = rig_build_frame(&spec, frames[j], &hdrs);
        frames[j][hdrs] = j;                /* tell the packets apart */
    }
    rig_set_ring(r, SLOT, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    old = r->ring;

    /*
     * Fewer buffers than packets: packet BEFORE waits in the net layer
     * when the reset comes, the rest of the batch behind it.  That makes
     * the point of the reset in the stream exact.
     */
    rig_post(r, BEFORE, BUF_SIZE);
    rig_send_batch(r, frames, lens, FIRST);
    rig_wait_used(r, BEFORE, used);
    for (k = 0; k < BEFORE; k++) {
        rig_check_slot(r, k, frames[k], hdrs, 1);
        rig_check_data(r, &used[k], 1, frames[k] + hdrs, lens[k] - hdrs,
                       BUF_SIZE);
    }
    rig_assert_no_used(r);
    qtest_memread(r->qts, old, snap, RING_LEN);

    if (kind == RESET_DEVICE) {
        rig_device_reset(r);
    } else {
        rig_queue_reset(r);
    }
    g_assert_cmpint(rig_stat(r, "enabled"), ==, 0);
    g_assert_cmpint(rig_stat(r, "k"), ==, 0);
    rig_send_batch(r, frames + FIRST, lens + FIRST, DURING);
    if (kind == RESET_DEVICE) {
        rig_device_init(r);
    } else {
        rig_queue_enable(r);
    }
    rig_send_batch(r, frames + FIRST + DURING, lens + FIRST + DURING,
                   AFTER);
    qtest_memread(r->qts, old, now, RING_LEN);
    g_assert_cmpmem(now, RING_LEN, snap, RING_LEN);

    /*
     * A new ring.  What waited in the net layer across the reset may be
     * lost: QEMU flushes that queue while DRIVER_OK is being set, before
     * virtio_net_can_receive() sees it, and drops what it cannot deliver,
     * as in classic mode.  Everything sent after the reset arrives.  The
     * stream resumes, without a gap, as packet 0 of the new ring, and
     * none of it touches the old ring.
     */
    rig_set_ring(r, SLOT, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    g_assert_cmphex(r->ring, !=, old);
    rig_post(r, NUM_BUFS, BUF_SIZE);
    k = 0;
    do {
        rig_wait_used(r, 1, &used[k]);
        if (k == 0) {
            first = qtest_readb(r->qts, r->bufs[used[0].id]);
            g_test_message("first packet after the reset: %d", first);
            g_assert_cmpint(first, >=, BEFORE);
            g_assert_cmpint(first, <=, FIRST);
        }
        j = first + k;
        rig_check_slot(r, k, frames[j], hdrs, 1);
        rig_check_data(r, &used[k], 1, frames[j] + hdrs, lens[j] - hdrs,
                       BUF_SIZE);
        k++;
    } while (j < TOTAL - 1);
    rig_assert_no_used(r);
    g_assert_cmpint(rig_stat(r, "k"), ==, TOTAL - first);
    qtest_memread(r->qts, old, now, RING_LEN);
    g_assert_cmpmem(now, RING_LEN, snap, RING_LEN);
    /* Slots past the delivered packets were never written at all. */
    for (k = BEFORE * SLOT; k < RING_LEN; k++) {
        g_assert_cmphex(snap[k], ==, 0xdd);
    }
    for (j = 0; j < TOTAL; j++) {
        g_free(frames[j]);
    }
}

static void test_device_reset_traffic(void *obj, void *data,
                                      QGuestAllocator *alloc)
{
    TestArg *t = data;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    reset_under_traffic(&r, RESET_DEVICE);
}

static void test_queue_reset_traffic(void *obj, void *data,
                                     QGuestAllocator *alloc)
{
    TestArg *t = data;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    g_assert(r.vdev->features & (1ull << VIRTIO_F_RING_RESET));
    reset_under_traffic(&r, RESET_QUEUE);
}

static void register_reset_tests(void)
{
    QOSGraphTestOptions opts = {
        .before = rig_test_setup,
        .edge.extra_device_opts = "split-hdr=on,id=vnet0",
    };

    qos_add_test("split-hdr/reset-under-traffic/device", "virtio-net",
                 test_device_reset_traffic, &opts);
    qos_add_test("split-hdr/reset-under-traffic/queue", "virtio-net",
                 test_queue_reset_traffic, &opts);
}

libqos_init(register_reset_tests);
