/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest testcase for virtio-net split transport header receive: a hostile
 * or broken guest driver.  Rings that run out of RAM, queues that do not
 * exist, SET while packets flow, tiny data buffers, buffers the device
 * must not use (zero-sized, read-only, looping chains, and without a ring
 * a first buffer shorter than the virtio header), guest memory unplugged
 * under the ring or the buffers, or replaced under the ring, and a device
 * without queue reset.  Each
 * test checks guest memory (slots, data buffers, used ring) and the device
 * status against docs/specs/virtio-net-split-hdr.rst.
 */

#include "qemu/osdep.h"
#include "libqtest-single.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "standard-headers/linux/virtio_net.h"
#include "standard-headers/linux/virtio_ring.h"
#include "standard-headers/linux/virtio_config.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "libqos/qgraph.h"
#include "libqos/virtio.h"
#include "libqos/virtio-net.h"
#include "virtio-net-splithdr-rig.h"

#define ALL VIRTIO_NET_SPLIT_HDR_PROTO_ALL
#define SLOT 128
#define RING_LEN (SLOT * RX_QSIZE)
#define VGA_HOLE 0xa0000        /* legacy VGA window: MMIO, not RAM */

/* A UDP/IPv4 frame whose payload starts with @tag, to tell packets apart. */
static size_t tagged_frame(uint8_t *f, uint16_t tag, size_t *hdrs)
{
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 17, .payload = 200 };
    size_t len = rig_build_frame(&spec, f, hdrs);

    f[*hdrs] = tag;
    f[*hdrs + 1] = tag >> 8;
    return len;
}

static uint64_t ram_size(Rig *r)
{
    QDict *rsp = qtest_qmp(r->qts,
                           "{'execute': 'query-memory-size-summary'}");
    uint64_t size = qdict_get_int(qdict_get_qdict(rsp, "return"),
                                  "base-memory");

    qobject_unref(rsp);
    return size;
}

/* ---- A ring that leaves RAM ---------------------------------------------- */

/*
 * SET errors #11: a ring that starts in RAM and runs into the VGA window
 * (MMIO) or past the end of RAM (into the PCI hole) is refused and changes
 * nothing: before a ring the queue stays classic, with a ring the next
 * packet takes the next slot of that ring.  Rings that end exactly at the
 * same boundaries are accepted, so the check is neither late nor early.
 */
static void test_ring_leaves_ram(void *obj, void *data,
                                 QGuestAllocator *alloc)
{
    TestArg *t = data;
    uint64_t ram_end;
    uint64_t bad[2];
    uint8_t frame[512];
    size_t hdrs, len;
    Rig r;
    int i;

    rig_init(&r, obj, alloc, t->sv[0]);
    ram_end = ram_size(&r);
    g_assert_cmpint(ram_end, <, 0xe0000000);   /* RAM below the PCI hole */
    bad[0] = VGA_HOLE - RING_LEN / 8;          /* 4 KiB RAM, then MMIO */
    bad[1] = ram_end - RING_LEN / 2;           /* half past the end */
    len = tagged_frame(frame, 0, &hdrs);

    /* No ring yet: refused, and the queue stays classic. */
    rig_fill(&r, bad[0], VGA_HOLE - bad[0], 0x5a);
    rig_fill(&r, bad[1], ram_end - bad[1], 0x5a);
    for (i = 0; i < 2; i++) {
        g_assert_cmpint(rig_set_raw(&r, 0, SLOT, RX_QSIZE, ALL, 0, bad[i]),
                        ==, VIRTIO_NET_ERR);
    }
    g_assert_cmpint(rig_stat(&r, "enabled"), ==, 0);
    rig_expect_classic(&r, frame, len);

    /* With a ring: refused, the ring and k stay as they were. */
    rig_set_ring(&r, SLOT, RX_QSIZE, ALL);
    rig_post(&r, 1, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdrs);
    for (i = 0; i < 2; i++) {
        g_assert_cmpint(rig_set_raw(&r, 0, SLOT, RX_QSIZE, ALL, 0, bad[i]),
                        ==, VIRTIO_NET_ERR);
    }
    rig_post(&r, 1, BUF_SIZE);
    frame[hdrs] = 1;
    rig_expect_packet(&r, 1, frame, len, hdrs);
    g_assert_cmpint(rig_stat(&r, "k"), ==, 2);

    /* Nothing was written where the refused rings would have been. */
    rig_assert_filled(&r, bad[0], VGA_HOLE - bad[0], 0x5a);
    rig_assert_filled(&r, bad[1], ram_end - bad[1], 0x5a);

    /* Rings that end exactly at the boundary are RAM, and work. */
    rig_set_ring_at(&r, VGA_HOLE - RING_LEN, SLOT, RX_QSIZE, ALL);
    rig_post(&r, 1, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdrs);
    rig_set_ring_at(&r, ram_end - RING_LEN, SLOT, RX_QSIZE, ALL);
    rig_post(&r, 1, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdrs);
}

/* ---- rq_index beyond the pairs ------------------------------------------- */

/*
 * SET errors #3, for a ring and for turning a ring off: queue 1 and queue
 * 0xffff do not exist on a single-queue device.  Queue 0's ring and k
 * are untouched.
 */
static void test_rq_beyond_pairs(void *obj, void *data,
                                 QGuestAllocator *alloc)
{
    TestArg *t = data;
    static const uint16_t rqs[] = { 1, 2, 0x8000, 0xffff };
    uint8_t frame[512];
    size_t hdrs, len;
    uint64_t other;
    Rig r;
    int i;

    rig_init(&r, obj, alloc, t->sv[0]);
    g_assert_false(r.vdev->features & (1ull << VIRTIO_NET_F_MQ));
    other = QEMU_ALIGN_UP(guest_alloc(alloc, RING_LEN + 64), 64);
    rig_fill(&r, other, RING_LEN, 0x5a);
    len = tagged_frame(frame, 0, &hdrs);

    /* Before any ring: refused, queue 0 stays classic. */
    for (i = 0; i < ARRAY_SIZE(rqs); i++) {
        g_assert_cmpint(rig_set_raw(&r, rqs[i], SLOT, RX_QSIZE, ALL, 0,
                                    other), ==, VIRTIO_NET_ERR);
    }
    g_assert_cmpint(rig_stat(&r, "enabled"), ==, 0);
    rig_expect_classic(&r, frame, len);

    rig_set_ring(&r, SLOT, RX_QSIZE, ALL);
    rig_post(&r, 1, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdrs);
    for (i = 0; i < ARRAY_SIZE(rqs); i++) {
        g_assert_cmpint(rig_set_raw(&r, rqs[i], SLOT, RX_QSIZE, ALL, 0,
                                    other), ==, VIRTIO_NET_ERR);
        g_assert_cmpint(rig_set_raw(&r, rqs[i], 0, 0, 0, 0, 0), ==,
                        VIRTIO_NET_ERR);
    }
    rig_post(&r, 1, BUF_SIZE);
    frame[hdrs] = 1;
    rig_expect_packet(&r, 1, frame, len, hdrs);
    g_assert_cmpint(rig_stat(&r, "enabled"), ==, 1);
    rig_assert_filled(&r, other, RING_LEN, 0x5a);
}

/* ---- SET while packets flow ---------------------------------------------- */

#define FLOW_FIRST 32
#define FLOW_TOTAL 48

/*
 * SET errors #4 under traffic: with buffers posted and a batch of packets
 * in flight, SET of another ring, SET of the same ring (which would reset
 * k) and SET off are all refused, whenever the device sees them relative
 * to the packets.  The stream goes on in the first ring, seq without a
 * gap, and the other ring is never written.
 */
static void test_set_under_traffic(void *obj, void *data,
                                   QGuestAllocator *alloc)
{
    TestArg *t = data;
    uint8_t *frames[FLOW_TOTAL];
    size_t lens[FLOW_TOTAL], hdrs = 0;
    UsedElem used[FLOW_TOTAL];
    uint64_t ring, other;
    Rig r;
    int k;

    rig_init(&r, obj, alloc, t->sv[0]);
    other = QEMU_ALIGN_UP(guest_alloc(alloc, RING_LEN + 64), 64);
    rig_fill(&r, other, RING_LEN, 0x5a);
    rig_set_ring(&r, SLOT, RX_QSIZE, ALL);
    ring = r.ring;
    for (k = 0; k < FLOW_TOTAL; k++) {
        frames[k] = g_malloc(512);
        lens[k] = tagged_frame(frames[k], k, &hdrs);
    }

    /* 64 buffers for 48 packets: the queue is never empty. */
    rig_post(&r, NUM_BUFS, BUF_SIZE);
    rig_send_batch(&r, frames, lens, FLOW_FIRST);
    g_assert_cmpint(rig_set_raw(&r, 0, SLOT, RX_QSIZE, ALL, 0, other), ==,
                    VIRTIO_NET_ERR);
    g_assert_cmpint(rig_set_raw(&r, 0, SLOT, RX_QSIZE, ALL, 0, ring), ==,
                    VIRTIO_NET_ERR);
    g_assert_cmpint(rig_set_raw(&r, 0, 0, 0, 0, 0, 0), ==, VIRTIO_NET_ERR);
    rig_send_batch(&r, frames + FLOW_FIRST, lens + FLOW_FIRST,
                   FLOW_TOTAL - FLOW_FIRST);
    g_assert_cmpint(rig_set_raw(&r, 0, SLOT, RX_QSIZE, ALL, 0, other), ==,
                    VIRTIO_NET_ERR);

    rig_wait_used(&r, FLOW_TOTAL, used);
    for (k = 0; k < FLOW_TOTAL; k++) {
        rig_check_slot(&r, k, frames[k], hdrs, 1);
        rig_check_data(&r, &used[k], 1, frames[k] + hdrs, lens[k] - hdrs,
                       BUF_SIZE);
        g_free(frames[k]);
    }
    rig_assert_filled(&r, ring + FLOW_TOTAL * SLOT,
                      RING_LEN - FLOW_TOTAL * SLOT, 0xdd);
    rig_assert_filled(&r, other, RING_LEN, 0x5a);
    g_assert_cmpint(rig_stat(&r, "k"), ==, FLOW_TOTAL);
}

/* ---- Data buffers of 1 and 7 bytes --------------------------------------- */

#define TINY_AREA 4096
#define TINY_STRIDE 16          /* 4 marker bytes, buffer, marker to 16 */
#define TINY_BUFS (TINY_AREA / TINY_STRIDE)

typedef struct Tiny {
    uint64_t area;              /* guest memory holding every buffer */
    uint8_t image[TINY_AREA];   /* what the area must hold */
    uint16_t next;              /* next buffer the device takes */
} Tiny;

static uint32_t tiny_len(uint16_t i)
{
    return i % 2 ? 7 : 1;
}

/*
 * Send @frame, expect it split at @hdr_len (0: inline), spread over the
 * tiny buffers: each filled completely before the next, used lengths and
 * num_buffers to match, and not one byte outside the buffers.
 */
static void tiny_expect(Rig *r, Tiny *t, uint32_t k, const uint8_t *frame,
                        size_t len, size_t hdr_len)
{
    size_t data_len = len - hdr_len, off = 0;
    UsedElem used[TINY_BUFS];
    uint32_t want[TINY_BUFS];
    uint8_t got[TINY_AREA];
    int n = 0, i;

    do {
        uint16_t b = t->next + n;

        g_assert_cmpint(b, <, TINY_BUFS);
        want[n] = MIN(data_len - off, tiny_len(b));
        memcpy(t->image + TINY_STRIDE * b + 4, frame + hdr_len + off,
               want[n]);
        off += want[n++];
    } while (off < data_len);

    rig_send(r, frame, len);
    rig_wait_used(r, n, used);
    for (i = 0; i < n; i++) {
        g_assert_cmpint(used[i].id, ==, t->next + i);
        g_assert_cmpint(used[i].len, ==, want[i]);
    }
    t->next += n;
    rig_check_slot(r, k, frame, hdr_len, n);
    qtest_memread(r->qts, t->area, got, TINY_AREA);
    g_assert_cmpmem(got, TINY_AREA, t->image, TINY_AREA);
}

static void test_tiny_buffers(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    FrameSpec tcp = { .l3 = L3_IP4, .l4 = 6, .tcp_opt_len = 12,
                      .payload = 100 };
    FrameSpec ack = { .l3 = L3_IP4, .l4 = 6, .tcp_opt_len = 12 };
    FrameSpec udp1 = { .l3 = L3_IP6, .l4 = 17, .payload = 1 };
    FrameSpec arp = { .l3 = L3_ARP, .payload = 28 };
    g_autofree Tiny *tiny = g_new0(Tiny, 1);
    uint8_t frame[512];
    size_t hdrs, len;
    Rig r;
    int i;

    rig_init(&r, obj, alloc, t->sv[0]);
    rig_set_ring(&r, SLOT, RX_QSIZE, ALL);
    tiny->area = guest_alloc(alloc, TINY_AREA);
    memset(tiny->image, 0xee, TINY_AREA);
    qtest_memwrite(r.qts, tiny->area, tiny->image, TINY_AREA);
    for (i = 0; i < TINY_BUFS; i++) {
        rig_write_desc(&r, i, tiny->area + TINY_STRIDE * i + 4, tiny_len(i),
                       VRING_DESC_F_WRITE, 0);
        rig_avail(&r, i);
    }
    rig_kick(&r, r.rxq);

    /* 100 bytes of payload: 26 buffers, the last one 3 of 7 bytes. */
    len = rig_build_frame(&tcp, frame, &hdrs);
    tiny_expect(&r, tiny, 0, frame, len, hdrs);
    g_assert_cmpint(tiny->next, ==, 26);
    /* An inline frame is spread the same way, from its first byte. */
    len = rig_build_frame(&arp, frame, &hdrs);
    tiny_expect(&r, tiny, 1, frame, len, 0);
    /* No payload: one buffer, used length 0, its byte untouched. */
    len = rig_build_frame(&ack, frame, &hdrs);
    tiny_expect(&r, tiny, 2, frame, len, hdrs);
    /* One byte of payload in a 7-byte buffer. */
    len = rig_build_frame(&udp1, frame, &hdrs);
    tiny_expect(&r, tiny, 3, frame, len, hdrs);
}

/* ---- Buffers the device must refuse ------------------------------------- */

typedef struct BadBuf {
    const char *name;
    /* Descriptor 1 (and its chain) as the guest writes it. */
    uint32_t len;
    uint16_t flags;
    uint16_t next;
    bool second;                /* behind a good 64-byte buffer */
} BadBuf;

#define NEXT VRING_DESC_F_NEXT
#define WR VRING_DESC_F_WRITE

static const BadBuf bad_bufs[] = {
    /* Errors during receive: QEMU refuses to map a zero-sized buffer. */
    { "zero-sized", 0, WR, 0 },
    { "zero-sized-second", 0, WR, 0, true },
    /* ... and a chain with no device-writable descriptor. */
    { "read-only", BUF_SIZE, 0, 0 },
    { "read-only-second", BUF_SIZE, 0, 0, true },
    /* Classic virtqueue errors: a chain that loops, a next out of range. */
    { "loop", BUF_SIZE, WR | NEXT, 1 },
    { "next-out-of-range", BUF_SIZE, WR | NEXT, RX_QSIZE + 44 },
};

/*
 * The device takes a buffer only once the queue reports enough writable
 * bytes, so good buffers follow the bad one.  The device must enter
 * NEEDS_RESET, write no slot, publish no used entry (not even for the good
 * buffer a packet took before the bad one) and write no buffer.
 */
static void test_bad_buffer(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    const BadBuf *c = t->data;
    uint8_t frame[512];
    size_t hdrs, len;
    uint16_t d = 1;
    Rig r;
    int i;

    rig_init(&r, obj, alloc, t->sv[0]);
    rig_set_ring(&r, SLOT, RX_QSIZE, ALL);
    for (i = 0; i < 4; i++) {
        rig_fill(&r, r.bufs[i], BUF_SIZE, 0xee);
    }
    if (c->second) {
        rig_write_desc(&r, 0, r.bufs[0], 64, WR, 0);
        rig_avail(&r, 0);
    }
    rig_write_desc(&r, d, r.bufs[d], c->len, c->flags, c->next);
    rig_avail(&r, d);
    for (i = 2; i < 4; i++) {
        rig_write_desc(&r, i, r.bufs[i], BUF_SIZE, WR, 0);
        rig_avail(&r, i);
    }
    rig_kick(&r, r.rxq);

    len = tagged_frame(frame, 0, &hdrs);
    rig_send(&r, frame, len);
    rig_wait_status(&r, VIRTIO_CONFIG_S_NEEDS_RESET);
    rig_assert_no_used(&r);
    rig_assert_filled(&r, r.ring, RING_LEN, 0xdd);
    /*
     * A good buffer the device took before the bad one may hold payload
     * (classic receive fills buffers as it takes them too); it is never
     * published.  The bad buffer and those behind it are not written.
     */
    for (i = c->second ? 1 : 0; i < 4; i++) {
        rig_assert_filled(&r, r.bufs[i], BUF_SIZE, 0xee);
    }
    g_assert_cmpint(rig_stat(&r, "k"), ==, 0);
    g_assert_cmpint(rig_stat(&r, "split"), ==, 0);

    /* Broken until reset: more traffic changes nothing. */
    rig_send(&r, frame, len);
    rig_assert_no_used(&r);
    rig_assert_filled(&r, r.ring, RING_LEN, 0xdd);
}

/* ---- Classic receive: a first buffer shorter than the virtio header ------ */

typedef struct ShortBuf {
    const char *name;
    uint32_t len;               /* of the packet's first buffer */
    bool split_hdr;             /* split-hdr=on (negotiated, no ring) */
} ShortBuf;

static const ShortBuf short_bufs[] = {
    { "1", 1, true },
    { "11", VHDR_LEN - 1, true },
    { "12", VHDR_LEN, true },
    { "1-split-hdr-off", 1, false },
};

/*
 * No ring, so the classic path, which puts the virtio header at the start
 * of a packet's first buffer.  With VIRTIO_NET_F_MRG_RXBUF the driver must
 * post buffers of at least the header's size (virtio 1.x, "Setting Up
 * Receive Buffers"); with a ring the header is in the slot and a 1-byte
 * buffer is fine (tiny-buffers above).  A shorter first buffer used to get
 * a used entry claiming the whole header, 12 bytes of a 1-byte buffer.  The
 * device must enter NEEDS_RESET instead, without a used entry and without
 * writing any buffer, until a reset.  A buffer of exactly the header's
 * size holds the header alone and the frame goes to the next buffer.
 */
static void test_classic_short_buffer(void *obj, void *data,
                                      QGuestAllocator *alloc)
{
    TestArg *t = data;
    const ShortBuf *c = t->data;
    struct virtio_net_hdr_v1_hash hdr;
    uint8_t frame[512], got[512];
    size_t hdrs, len;
    UsedElem used[2];
    Rig r;
    int i;

    rig_init(&r, obj, alloc, t->sv[0]);
    g_assert(r.vdev->features & (1ull << VIRTIO_NET_F_MRG_RXBUF));
    g_assert_cmpint(!!(r.vdev->features &
                       (1ull << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER)), ==,
                    c->split_hdr);
    for (i = 0; i < 4; i++) {
        rig_fill(&r, r.bufs[i], BUF_SIZE, 0xee);
        rig_write_desc(&r, i, r.bufs[i], i ? BUF_SIZE : c->len, WR, 0);
        rig_avail(&r, i);
    }
    rig_kick(&r, r.rxq);
    len = tagged_frame(frame, 0, &hdrs);
    rig_send(&r, frame, len);

    if (c->len >= VHDR_LEN) {
        rig_wait_used(&r, 2, used);
        g_assert_cmpint(used[0].id, ==, 0);
        g_assert_cmpint(used[0].len, ==, VHDR_LEN);
        g_assert_cmpint(used[1].id, ==, 1);
        g_assert_cmpint(used[1].len, ==, len);
        g_assert_cmpint(rig_read_classic(&r, used, 2, &hdr, got, sizeof(got)),
                        ==, len);
        g_assert_cmpmem(got, len, frame, len);
        g_assert_cmphex(hdr.hdr.flags, ==, 0);
        rig_assert_filled(&r, r.bufs[0] + VHDR_LEN, BUF_SIZE - VHDR_LEN, 0xee);
        rig_assert_no_used(&r);
        g_assert_cmphex(rig_status(&r) & VIRTIO_CONFIG_S_NEEDS_RESET, ==, 0);
        return;
    }

    rig_wait_status(&r, VIRTIO_CONFIG_S_NEEDS_RESET);
    rig_assert_no_used(&r);
    for (i = 0; i < 4; i++) {
        rig_assert_filled(&r, r.bufs[i], BUF_SIZE, 0xee);
    }
    /* Broken until reset: more traffic changes nothing. */
    rig_send(&r, frame, len);
    rig_assert_no_used(&r);
    rig_assert_filled(&r, r.bufs[1], BUF_SIZE, 0xee);

    /* A reset and buffers of the right size bring it back. */
    rig_device_reset(&r);
    rig_device_init(&r);
    rig_expect_classic(&r, frame, len);
}

/* ---- Guest memory removed while traffic flows ---------------------------- */

/*
 * The ring or the data buffers live in a pc-dimm that is unplugged between
 * two packets.  The test plays the guest's ACPI memory hotplug driver
 * (docs/specs/acpi_mem_hotplug.rst): after device_del it selects the slot
 * and writes the eject bit, and QEMU removes the memory.
 */
#define MEMHP_BASE 0x0a00       /* ACPI_MEMORY_HOTPLUG_BASE, pc machine */
#define MEMHP_SLOT_SELECTOR 0x0
#define MEMHP_FLAGS 0x14
#define MEMHP_EJECT 0x8

static void *dimm_test_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line,
                    " -m 128M,slots=1,maxmem=512M"
                    " -object memory-backend-ram,id=hsmem,size=128M"
                    " -device pc-dimm,id=hsdimm,memdev=hsmem ");
    return rig_test_setup(cmd_line, arg);
}

static uint64_t dimm_addr(Rig *r)
{
    QDict *rsp = qtest_qmp(r->qts, "{'execute': 'qom-get', 'arguments': "
                           "{'path': '/machine/peripheral/hsdimm', "
                           "'property': 'addr'}}");
    uint64_t addr = qdict_get_int(rsp, "return");

    qobject_unref(rsp);
    return addr;
}

static void dimm_unplug(Rig *r)
{
    qtest_qmp_device_del_send(r->qts, "hsdimm");
    qtest_outl(r->qts, MEMHP_BASE + MEMHP_SLOT_SELECTOR, 0);
    qtest_outb(r->qts, MEMHP_BASE + MEMHP_FLAGS, MEMHP_EJECT);
    qtest_qmp_eventwait(r->qts, "DEVICE_DELETED");
}

/*
 * Errors during receive, ring in the DIMM: the slot of the next packet
 * cannot be written, so the device enters NEEDS_RESET and publishes
 * nothing.
 *
 * Buffers in the DIMM: as in classic receive, QEMU maps a buffer that has
 * no memory behind it through its one-page bounce buffer.  A packet that
 * fits one buffer is delivered (slot and used entry) and its payload is
 * lost; a packet that needs a second such buffer cannot map it, and the
 * device enters NEEDS_RESET without writing a slot or a used entry.
 *
 * Either way, after a reset and a SET on memory that exists, the device
 * works again from slot 0.
 */
static void test_memory_removed(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    bool ring_in_dimm = !strcmp(t->data, "ring");
    FrameSpec two_bufs = { .l3 = L3_IP4, .l4 = 17, .payload = BUF_SIZE + 500 };
    uint64_t saved_bufs[NUM_BUFS], dimm;
    uint8_t frame[512], big[BUF_SIZE + 1024];
    size_t hdrs, len, big_len;
    UsedElem used;
    Rig r;
    int i;

    rig_init(&r, obj, alloc, t->sv[0]);
    dimm = dimm_addr(&r);
    g_assert_cmphex(dimm, >=, 0x100000000ull);
    memcpy(saved_bufs, r.bufs, sizeof(saved_bufs));
    if (ring_in_dimm) {
        rig_set_ring_at(&r, dimm, SLOT, RX_QSIZE, ALL);
    } else {
        for (i = 0; i < NUM_BUFS; i++) {
            r.bufs[i] = dimm + (uint64_t)i * BUF_SIZE;
        }
        rig_set_ring(&r, SLOT, RX_QSIZE, ALL);
    }

    /* Packet 0 lands while the memory is there. */
    len = tagged_frame(frame, 0, &hdrs);
    rig_post(&r, 1, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdrs);

    /* Buffers posted, then the memory goes, then packets arrive. */
    rig_post(&r, 3, BUF_SIZE);
    dimm_unplug(&r);
    frame[hdrs] = 1;
    rig_send(&r, frame, len);
    if (!ring_in_dimm) {
        rig_wait_used(&r, 1, &used);
        g_assert_cmpint(used.len, ==, len - hdrs);
        rig_check_slot(&r, 1, frame, hdrs, 1);

        big_len = rig_build_frame(&two_bufs, big, &hdrs);
        rig_send(&r, big, big_len);
    }
    rig_wait_status(&r, VIRTIO_CONFIG_S_NEEDS_RESET);
    rig_assert_no_used(&r);
    g_assert_cmpint(rig_stat(&r, "k"), ==, ring_in_dimm ? 1 : 2);
    if (!ring_in_dimm) {
        rig_assert_filled(&r, r.ring + 2 * SLOT, SLOT, 0xdd);
    }

    /* A reset and a ring in memory that exists bring it back. */
    memcpy(r.bufs, saved_bufs, sizeof(saved_bufs));
    rig_device_reset(&r);
    rig_device_init(&r);
    rig_set_ring(&r, SLOT, RX_QSIZE, ALL);
    rig_post(&r, 1, BUF_SIZE);
    len = tagged_frame(frame, 2, &hdrs);
    rig_expect_packet(&r, 0, frame, len, hdrs);
}

/*
 * The device keeps a mapping of the ring between packets.  Here the DIMM
 * under the ring is unplugged and another plugged at the same address,
 * with no packet in between: the next slot must land in the new memory
 * (where slot 0 stays as the test filled it), not in the old one.
 */
static void test_memory_replaced(void *obj, void *data,
                                 QGuestAllocator *alloc)
{
    TestArg *t = data;
    uint8_t frame[512];
    size_t hdrs, len;
    uint64_t dimm;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    dimm = dimm_addr(&r);
    rig_set_ring_at(&r, dimm, SLOT, RX_QSIZE, ALL);
    len = tagged_frame(frame, 0, &hdrs);
    rig_post(&r, 1, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdrs);

    dimm_unplug(&r);
    qtest_qmp_assert_success(r.qts, "{'execute': 'object-add', 'arguments': "
                             "{'qom-type': 'memory-backend-ram', "
                             "'id': 'hsmem2', 'size': %d}}", 128 << 20);
    qtest_qmp_device_add(r.qts, "pc-dimm", "hsdimm2",
                         "{'memdev': 'hsmem2', 'addr': %" PRIu64 "}", dimm);
    rig_fill(&r, dimm, RING_LEN, 0xdd);

    rig_post(&r, 1, BUF_SIZE);
    len = tagged_frame(frame, 1, &hdrs);
    rig_expect_packet(&r, 1, frame, len, hdrs);
    rig_assert_filled(&r, r.ring, SLOT, 0xdd);
    g_assert_cmpint(rig_status(&r) & VIRTIO_CONFIG_S_NEEDS_RESET, ==, 0);
}

/* ---- No queue reset ------------------------------------------------------ */

/*
 * queue_reset=off: VIRTIO_F_RING_RESET is not offered, so once buffers are
 * posted only a device reset empties the queue.  SET is refused until
 * then, the queue staying classic, and accepted after it, the next packet
 * landing in slot 0 with seq 0.
 */
static void test_no_queue_reset(void *obj, void *data,
                                QGuestAllocator *alloc)
{
    TestArg *t = data;
    uint8_t frame[512];
    size_t hdrs, len;
    uint64_t ring;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    g_assert_false(r.vdev->features & (1ull << VIRTIO_F_RING_RESET));
    g_assert(r.vdev->features & (1ull << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER));
    ring = QEMU_ALIGN_UP(guest_alloc(alloc, RING_LEN + 64), 64);
    rig_fill(&r, ring, RING_LEN, 0x5a);
    len = tagged_frame(frame, 0, &hdrs);

    rig_post(&r, 4, BUF_SIZE);
    g_assert_cmpint(rig_set_raw(&r, 0, SLOT, RX_QSIZE, ALL, 0, ring), ==,
                    VIRTIO_NET_ERR);
    rig_expect_classic(&r, frame, len);
    g_assert_cmpint(rig_set_raw(&r, 0, SLOT, RX_QSIZE, ALL, 0, ring), ==,
                    VIRTIO_NET_ERR);
    rig_expect_classic(&r, frame, len);
    g_assert_cmpint(rig_stat(&r, "enabled"), ==, 0);
    rig_assert_filled(&r, ring, RING_LEN, 0x5a);

    rig_device_reset(&r);
    rig_device_init(&r);
    rig_set_ring_at(&r, ring, SLOT, RX_QSIZE, ALL);
    rig_post(&r, 1, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdrs);
}

static void register_hostile_guest_tests(void)
{
    QOSGraphTestOptions opts = {
        .before = rig_test_setup,
        .edge.extra_device_opts = "split-hdr=on,id=vnet0",
    };
    int i;

    qos_add_test("split-hdr/hostile-guest/ring-leaves-ram", "virtio-net",
                 test_ring_leaves_ram, &opts);
    qos_add_test("split-hdr/hostile-guest/rq-beyond-pairs", "virtio-net",
                 test_rq_beyond_pairs, &opts);
    qos_add_test("split-hdr/hostile-guest/set-under-traffic", "virtio-net",
                 test_set_under_traffic, &opts);
    qos_add_test("split-hdr/hostile-guest/tiny-buffers", "virtio-net",
                 test_tiny_buffers, &opts);
    for (i = 0; i < ARRAY_SIZE(bad_bufs); i++) {
        g_autofree char *name =
            g_strdup_printf("split-hdr/hostile-guest/bad-buffer/%s",
                            bad_bufs[i].name);

        opts.arg = (void *)&bad_bufs[i];
        qos_add_test(name, "virtio-net", test_bad_buffer, &opts);
    }
    opts.arg = NULL;

    for (i = 0; i < ARRAY_SIZE(short_bufs); i++) {
        g_autofree char *name =
            g_strdup_printf("split-hdr/hostile-guest/classic-short-buffer/%s",
                            short_bufs[i].name);

        opts.arg = (void *)&short_bufs[i];
        opts.edge.extra_device_opts = short_bufs[i].split_hdr ?
                                      "split-hdr=on,id=vnet0" : "id=vnet0";
        qos_add_test(name, "virtio-net", test_classic_short_buffer, &opts);
    }
    opts.arg = NULL;
    opts.edge.extra_device_opts = "split-hdr=on,id=vnet0";

    opts.before = dimm_test_setup;
    opts.arg = (void *)"ring";
    qos_add_test("split-hdr/hostile-guest/memory-removed/ring", "virtio-net",
                 test_memory_removed, &opts);
    opts.arg = (void *)"buffers";
    qos_add_test("split-hdr/hostile-guest/memory-removed/buffers",
                 "virtio-net", test_memory_removed, &opts);
    opts.arg = NULL;
    qos_add_test("split-hdr/hostile-guest/memory-replaced/ring",
                 "virtio-net", test_memory_replaced, &opts);
    opts.before = rig_test_setup;
    opts.arg = NULL;

    opts.edge.extra_device_opts = "split-hdr=on,id=vnet0,queue_reset=off";
    qos_add_test("split-hdr/hostile-guest/no-queue-reset", "virtio-net",
                 test_no_queue_reset, &opts);
}

libqos_init(register_hostile_guest_tests);
