/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QEMU fuzz target "virtio-net-split-hdr": a hostile guest and a hostile
 * network against a virtio-net-pci with split-hdr=on, built into
 * qemu-fuzz-x86_64 (tests/qtest/fuzz/meson.build, patch 0007).
 *
 * generic-fuzz writes PCI and guest memory at random, so in a bounded run
 * it never brings the device up, let alone sends SET.  This target does
 * the driver's part and lets the input choose what matters to the split
 * path: the negotiated features, SET commands (valid or not, any ring
 * address), other control commands, receive buffers and raw descriptors,
 * frames from the network (zero-length ones too), queue and device
 * resets.
 *
 * Input: one byte of features to withhold, then operations, each a kind
 * byte and its arguments (all little-endian); a short input reads as
 * zeros.  splithdr-tools/tests/make-qemu-fuzz-corpus.py writes the seeds and
 * documents the layout for people writing inputs by hand.
 *
 * The oracle: QEMU's sanitizers and assertions, libFuzzer's timeout for
 * hangs, and check_rx_used() on what the device wrote to the used ring.
 * Between inputs the device is reset as a driver would reset it (not
 * fuzz_reset(), whose machine reset would unmap the PCI BARs the driver
 * relies on), frames the device did not take are thrown away, and the
 * next input starts from DRIVER_OK.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "net/net.h"
#include "standard-headers/linux/virtio_config.h"
#include "standard-headers/linux/virtio_net.h"
#include "standard-headers/linux/virtio_pci.h"
#include "standard-headers/linux/virtio_ring.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/virtio.h"
#include "tests/qtest/libqos/virtio-pci.h"
#include "tests/qtest/libqos/virtio-net.h"
#include "tests/qtest/fuzz/fuzz.h"
#include "tests/qtest/fuzz/qos_fuzz.h"

#define POOL_BUFS 64            /* receive buffers; descriptor i uses i % 64 */
#define POOL_BUF_SIZE 65536
#define RING_REGION (2 * 1024 * 1024) /* where a SET's ring goes by default */
#define CTRL_MAX 256            /* longest control command payload */
#define RX_QSIZE_MAX 1024

/*
 * Operations and their arguments:
 *   OP_SET          rq u16, slot_size u16, num_slots u32, proto_mask u32,
 *                   reserved u32, where u8, then ring_addr u64 if where is
 *                   odd (else the ring is the target's own ring region)
 *   OP_FRAME        len u16, then len bytes: one frame from the network
 *   OP_POST         count u8, len u16: count % 64 + 1 pool buffers, a kick
 *   OP_CTRL         class u8, cmd u8, len u8, then len bytes
 *   OP_DESC         idx u8, addr u64, len u32, flags u16, next u16: one raw
 *                   receive descriptor, made available, a kick
 *   OP_QUEUE_RESET  reset receive queue 0 and enable it again
 *   OP_DEVICE_RESET reset the device and bring it up again
 *   OP_RUN          steps u8: advance the clock (steps + 1) us, run the
 *                   main loop
 */
enum {
    OP_SET,
    OP_FRAME,
    OP_POST,
    OP_CTRL,
    OP_DESC,
    OP_QUEUE_RESET,
    OP_DEVICE_RESET,
    OP_RUN,
    OP_COUNT
};

/* Withheld when the input's first byte has the bit set. */
static const uint64_t optional_features[] = {
    1ull << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER,
    1ull << VIRTIO_NET_F_MRG_RXBUF,
    1ull << VIRTIO_NET_F_HASH_REPORT,
    1ull << VIRTIO_NET_F_RSS,
    1ull << VIRTIO_F_RING_RESET,
    1ull << VIRTIO_NET_F_CTRL_RX,
    1ull << VIRTIO_NET_F_GUEST_CSUM,
    1ull << VIRTIO_NET_F_GUEST_TSO4,
};

typedef struct Input {
    const uint8_t *p;
    size_t left;
} Input;

typedef struct Driver {
    QTestState *qts;
    QVirtioNet *net;
    QVirtioDevice *vdev;
    QVirtQueue *rxq;
    QVirtQueue *ctrlq;
    NetClientState *peer;   /* the netdev; frames are sent as if from it */
    uint64_t features;      /* what the device offered at pre_fuzz */
    uint16_t rx_avail;      /* next avail index of the receive queue */
    uint16_t ctrl_avail;
    uint16_t next_desc;
    /*
     * The oracle on used entries (check_rx_used) holds while the driver
     * knows every receive buffer's size and the device cannot have written
     * over the vrings: only OP_POST buffers, rings only in the ring
     * region, queue resets only when negotiated.
     */
    bool used_known;
    uint16_t rx_used;       /* used entries of the receive queue checked */
    uint32_t posted_len[RX_QSIZE_MAX];
    uint64_t bufs[POOL_BUFS];
    uint64_t ctrl_mem;      /* command header + payload + status byte */
    uint64_t ring;          /* RING_REGION bytes, aligned for a ring */
} Driver;

static Driver drv;
static int sockfds[2];

static const uint8_t *take(Input *in, size_t *len)
{
    const uint8_t *p = in->p;

    *len = MIN(*len, in->left);
    in->p += *len;
    in->left -= *len;
    return p;
}

static uint64_t take_le(Input *in, size_t bytes)
{
    uint8_t b[8] = { 0 };
    size_t len = bytes;

    memcpy(b, take(in, &len), len);
    return ldq_le_p(b);
}

static void driver_kick(QVirtQueue *vq)
{
    drv.vdev->bus->virtqueue_kick(drv.vdev, vq);
    flush_events(drv.qts);
}

/* Descriptor @i of the receive queue, whatever its fields say. */
static void write_rx_desc(uint16_t i, uint64_t addr, uint32_t len,
                          uint16_t flags, uint16_t next)
{
    uint64_t d = drv.rxq->desc + 16 * (i % drv.rxq->size);

    qtest_writeq(drv.qts, d, addr);
    qtest_writel(drv.qts, d + 8, len);
    qtest_writew(drv.qts, d + 12, flags);
    qtest_writew(drv.qts, d + 14, next);
}

static void make_rx_avail(uint16_t head)
{
    QVirtQueue *vq = drv.rxq;

    qtest_writew(drv.qts, vq->avail + 4 + 2 * (drv.rx_avail % vq->size),
                 head);
    qtest_writew(drv.qts, vq->avail + 2, ++drv.rx_avail);
}

/*
 * One control command.  The control queue is handled when it is kicked
 * (no ioeventfd under TCG), so the status byte is final on return unless
 * the command broke the device.
 */
static void send_ctrl(uint8_t class, uint8_t cmd, const uint8_t *data,
                      size_t len)
{
    QVirtQueue *vq = drv.ctrlq;
    uint64_t status = drv.ctrl_mem + 2 + CTRL_MAX;
    uint8_t hdr[2] = { class, cmd };
    uint16_t at = drv.ctrl_avail % vq->size;
    uint64_t d = vq->desc + 32 * (drv.ctrl_avail % (vq->size / 2));
    uint16_t head = 2 * (drv.ctrl_avail % (vq->size / 2));

    qtest_memwrite(drv.qts, drv.ctrl_mem, hdr, 2);
    qtest_memwrite(drv.qts, drv.ctrl_mem + 2, data, len);
    qtest_writeb(drv.qts, status, VIRTIO_NET_ERR);  /* if never answered */
    /* A pair of descriptors per command: header + payload, then status. */
    qtest_writeq(drv.qts, d, drv.ctrl_mem);
    qtest_writel(drv.qts, d + 8, 2 + len);
    qtest_writew(drv.qts, d + 12, VRING_DESC_F_NEXT);
    qtest_writew(drv.qts, d + 14, head + 1);
    qtest_writeq(drv.qts, d + 16, status);
    qtest_writel(drv.qts, d + 24, 1);
    qtest_writew(drv.qts, d + 28, VRING_DESC_F_WRITE);
    qtest_writew(drv.qts, vq->avail + 4 + 2 * at, head);
    qtest_writew(drv.qts, vq->avail + 2, ++drv.ctrl_avail);
    driver_kick(vq);
}

static void op_set(Input *in)
{
    struct virtio_net_split_hdr_set c;
    uint8_t where;
    uint64_t addr = drv.ring;

    c.rq_index = cpu_to_le16(take_le(in, 2));
    c.slot_size = cpu_to_le16(take_le(in, 2));
    c.num_slots = cpu_to_le32(take_le(in, 4));
    c.proto_mask = cpu_to_le32(take_le(in, 4));
    c.reserved = cpu_to_le32(take_le(in, 4));
    where = take_le(in, 1);
    if (where & 1) {
        addr = take_le(in, 8);
    }
    c.ring_addr = cpu_to_le64(addr);
    send_ctrl(VIRTIO_NET_CTRL_SPLIT_HDR, VIRTIO_NET_CTRL_SPLIT_HDR_SET,
              (const uint8_t *)&c, sizeof(c));
    if (qtest_readb(drv.qts, drv.ctrl_mem + 2 + CTRL_MAX) != VIRTIO_NET_ERR &&
        addr && (addr != drv.ring ||
         (uint64_t)le16_to_cpu(c.slot_size) * le32_to_cpu(c.num_slots) >
         RING_REGION)) {
        drv.used_known = false;     /* slots may land anywhere */
    }
}

static void op_frame(Input *in)
{
    size_t len = take_le(in, 2);
    const uint8_t *frame = take(in, &len);

    qemu_send_packet(drv.peer, frame, len);
    flush_events(drv.qts);
}

static void op_post(Input *in)
{
    int count = take_le(in, 1) % POOL_BUFS + 1;
    uint32_t len = take_le(in, 2);
    int i;

    for (i = 0; i < count; i++) {
        uint16_t d = drv.next_desc++ % drv.rxq->size;

        write_rx_desc(d, drv.bufs[d % POOL_BUFS], len, VRING_DESC_F_WRITE, 0);
        drv.posted_len[d] = len;
        make_rx_avail(d);
    }
    driver_kick(drv.rxq);
}

static void op_ctrl(Input *in)
{
    uint8_t class = take_le(in, 1);
    uint8_t cmd = take_le(in, 1);
    size_t len = take_le(in, 1);
    const uint8_t *data = take(in, &len);

    send_ctrl(class, cmd, data, len);
}

static void op_desc(Input *in)
{
    uint16_t idx = take_le(in, 1);
    uint64_t addr = take_le(in, 8);
    uint32_t len = take_le(in, 4);
    uint16_t flags = take_le(in, 2);
    uint16_t next = take_le(in, 2);

    write_rx_desc(idx, addr, len, flags, next);
    drv.used_known = false;
    make_rx_avail(idx);
    driver_kick(drv.rxq);
}

static void common_cfg_writew(size_t off, uint16_t val)
{
    QVirtioPCIDevice *pdev = container_of(drv.vdev, QVirtioPCIDevice, vdev);

    qpci_io_writew(pdev->pdev, pdev->bar, pdev->common_cfg_offset + off, val);
}

static void op_queue_reset(void)
{
    common_cfg_writew(offsetof(struct virtio_pci_common_cfg, queue_select),
                      0);
    common_cfg_writew(offsetof(struct virtio_pci_modern_common_cfg,
                               queue_reset), 1);
    qtest_writew(drv.qts, drv.rxq->avail + 2, 0);
    qtest_writew(drv.qts, drv.rxq->used + 2, 0);
    drv.rx_avail = drv.rx_used = 0;
    if (!(drv.vdev->features & (1ull << VIRTIO_F_RING_RESET))) {
        drv.used_known = false;     /* the device kept its indices */
    }
    common_cfg_writew(offsetof(struct virtio_pci_common_cfg, queue_enable),
                      1);
    flush_events(drv.qts);
}

/* Reset, then bring the device up with @features and fresh vrings. */
static void device_up(uint64_t features)
{
    QVirtioNet *net = drv.net;
    int i;

    qvirtio_reset(drv.vdev);
    qvirtio_set_acknowledge(drv.vdev);
    qvirtio_set_driver(drv.vdev);
    qvirtio_set_features(drv.vdev, features);
    for (i = 0; i < net->n_queues; i++) {
        qvirtqueue_cleanup(drv.vdev->bus, net->queues[i], fuzz_qos_alloc);
        net->queues[i] = qvirtqueue_setup(drv.vdev, fuzz_qos_alloc, i);
    }
    qvirtio_set_driver_ok(drv.vdev);
    drv.rxq = net->queues[0];
    drv.ctrlq = net->queues[net->n_queues - 1];
    drv.rx_avail = drv.ctrl_avail = drv.next_desc = drv.rx_used = 0;
    drv.used_known = true;
    g_assert_cmpint(drv.rxq->size, <=, RX_QSIZE_MAX);
    flush_events(drv.qts);
}

/*
 * What the device promises about every used entry of the receive queue,
 * split or classic: it names a descriptor the driver made available and
 * claims no more bytes than that buffer holds.  Sanitizers cannot see a
 * wrong length; a guest would read past its buffer.
 */
static void check_rx_used(void)
{
    QVirtQueue *vq = drv.rxq;
    uint16_t idx = qtest_readw(drv.qts, vq->used + 2);

    if (!drv.used_known) {
        return;
    }
    g_assert_cmpint((uint16_t)(idx - drv.rx_used), <=, vq->size);
    for (; drv.rx_used != idx; drv.rx_used++) {
        uint64_t e = vq->used + 4 + 8 * (drv.rx_used % vq->size);
        uint32_t id = qtest_readl(drv.qts, e);
        uint32_t len = qtest_readl(drv.qts, e + 4);

        g_assert_cmpuint(id, <, vq->size);
        g_assert_cmpuint(len, <=, drv.posted_len[id]);
    }
}

/* Frames the device did not take must not reach the next input. */
static void discard_pending_frames(void)
{
    qemu_purge_queued_packets(drv.peer);
}

static void split_hdr_fuzz(QTestState *s, const unsigned char *data,
                           size_t size)
{
    Input in = { .p = data, .left = size };
    uint8_t withhold = take_le(&in, 1);
    uint64_t features = drv.features;
    int i;

    for (i = 0; i < ARRAY_SIZE(optional_features); i++) {
        if (withhold & (1u << i)) {
            features &= ~optional_features[i];
        }
    }
    device_up(features);

    while (in.left) {
        switch (take_le(&in, 1) % OP_COUNT) {
        case OP_SET:
            op_set(&in);
            break;
        case OP_FRAME:
            op_frame(&in);
            break;
        case OP_POST:
            op_post(&in);
            break;
        case OP_CTRL:
            op_ctrl(&in);
            break;
        case OP_DESC:
            op_desc(&in);
            break;
        case OP_QUEUE_RESET:
            op_queue_reset();
            break;
        case OP_DEVICE_RESET:
            device_up(features);
            break;
        case OP_RUN:
            qtest_clock_step(s, (take_le(&in, 1) + 1) * 1000);
            flush_events(s);
            break;
        }
        check_rx_used();
    }
    discard_pending_frames();
}

static void split_hdr_pre_fuzz(QTestState *s)
{
    int i;

    qos_init_path(s);
    drv.qts = s;
    drv.net = fuzz_qos_obj;
    drv.vdev = drv.net->vdev;
    drv.peer = qemu_find_netdev("hs0");
    g_assert(drv.peer);
    drv.features = qvirtio_get_features(drv.vdev) &
                   ~(QVIRTIO_F_BAD_FEATURE |
                     (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
                     (1ull << VIRTIO_RING_F_EVENT_IDX));
    g_assert(drv.features & (1ull << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER));
    g_assert(drv.features & (1ull << VIRTIO_NET_F_CTRL_VQ));
    for (i = 0; i < POOL_BUFS; i++) {
        drv.bufs[i] = guest_alloc(fuzz_qos_alloc, POOL_BUF_SIZE);
    }
    drv.ctrl_mem = guest_alloc(fuzz_qos_alloc, 2 + CTRL_MAX + 1);
    drv.ring = QEMU_ALIGN_UP(guest_alloc(fuzz_qos_alloc, RING_REGION +
                                         VIRTIO_NET_SPLIT_HDR_RING_ALIGN),
                             VIRTIO_NET_SPLIT_HDR_RING_ALIGN);
}

/*
 * The netdev: a datagram socket nobody writes to.  Frames are injected as
 * if the netdev had received them (op_frame), not through the socket: the
 * dgram netdev reads a zero-length datagram as end of file and stops
 * reading, which would silence every later input, and a zero-length frame
 * is one the device must survive.
 */
static void *split_hdr_setup(GString *cmd_line, void *arg)
{
    g_assert_cmpint(socketpair(PF_UNIX, SOCK_DGRAM, 0, sockfds), ==, 0);
    g_string_append_printf(cmd_line,
                           " -netdev dgram,id=hs0,local.type=fd,"
                           "local.str=%d ", sockfds[1]);
    return arg;
}

static void register_split_hdr_fuzz_target(void)
{
    fuzz_add_qos_target(&(FuzzTarget){
        .name = "virtio-net-split-hdr",
        .description = "Fuzz a split-hdr=on virtio-net: features, SET and "
                       "other control commands, receive buffers, frames, "
                       "queue and device resets",
        .pre_fuzz = split_hdr_pre_fuzz,
        .fuzz = split_hdr_fuzz,
    }, "virtio-net", &(QOSGraphTestOptions){
        .before = split_hdr_setup,
        .edge.extra_device_opts = "split-hdr=on,hash=on,rss=on",
    });
}

fuzz_target_init(register_split_hdr_fuzz_target);
