/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest testcase for virtio-net split transport header receive: hostile
 * packets.  Frames cut at every byte of their headers, header fields that
 * lie, IPv6 extension header chains that are long, cut or hide AH, runts
 * and 64 KiB frames.  Each one must be delivered with the verdict of the
 * spec's Classification section, counted under the right reason, and the
 * frame must be intact in guest memory: in the buffers (inline) or in the
 * slot and the buffers (split).
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

#define SLOT 256
#define ROOM (SLOT - PREFIX - VHDR_LEN)
#define MAX_FRAME 65535
#define RSS_HASH_TYPES (VIRTIO_NET_RSS_HASH_TYPE_IPv4 | \
                        VIRTIO_NET_RSS_HASH_TYPE_TCPv4 | \
                        VIRTIO_NET_RSS_HASH_TYPE_UDPv4 | \
                        VIRTIO_NET_RSS_HASH_TYPE_IPv6 | \
                        VIRTIO_NET_RSS_HASH_TYPE_TCPv6 | \
                        VIRTIO_NET_RSS_HASH_TYPE_UDPv6)

/* Post buffers for one packet, send it, check memory and its counter. */
static void deliver(Rig *r, uint32_t *k, const uint8_t *frame, size_t len,
                    size_t hdr_len, const char *counter)
{
    int64_t before = rig_stat(r, counter);
    size_t data = len - hdr_len;
    int n = data ? DIV_ROUND_UP(data, BUF_SIZE) : 1;

    rig_post(r, n, BUF_SIZE);
    rig_expect_packet(r, *k, frame, len, hdr_len);
    g_assert_cmpint(rig_stat(r, counter), ==, before + 1);
    (*k)++;
}

/* ---- Truncation at every byte ------------------------------------------- */

typedef struct TruncCase {
    const char *name;
    FrameSpec frame;
} TruncCase;

static const TruncCase trunc_cases[] = {
    { "tcp4-options", { .l3 = L3_IP4, .l4 = 6, .ip4_opt_len = 8,
      .tcp_opt_len = 12, .payload = 1 } },
    { "tcp6-ext-headers", { .l3 = L3_IP6, .l4 = 6, .ip6_ext = 1,
      .tcp_opt_len = 12, .payload = 1 } },
    { "udp4-vlan", { .vlan_tags = 1, .l3 = L3_IP4, .l4 = 17,
      .payload = 1 } },
};

static size_t l3_offset(const FrameSpec *s)
{
    return 14 + 4 * s->vlan_tags;
}

/*
 * Make the length fields agree with a frame cut at @len, where the field
 * survives the cut: the IP length, and the UDP length.  What is left is a
 * packet whose only fault is being short.
 */
static void fix_lengths(const FrameSpec *s, uint8_t *f, size_t len,
                        size_t l4)
{
    size_t l3 = l3_offset(s);

    if (s->l3 == L3_IP4 && len >= l3 + 4) {
        rig_put16(f + l3 + 2, len - l3);
    } else if (s->l3 == L3_IP6 && len >= l3 + 40) {
        rig_put16(f + l3 + 4, len - l3 - 40);
    }
    if (s->l4 == 17 && len >= l4 + 6) {
        rig_put16(f + l4 + 4, len - l4);
    }
}

/*
 * Every length from 0 to the headers plus one byte of payload, twice:
 * cut as a wire would cut it (the length fields then reach past the end),
 * and with the length fields shortened to match.  Everything short of the
 * full L2..L4 headers is inline-malformed with the frame in the buffer;
 * complete headers are split.
 */
static void test_truncate(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    const TruncCase *c = t->data;
    uint8_t full[512], frame[512];
    size_t hdrs, flen, len, l4;
    uint32_t k = 0;
    int fixed;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    rig_set_ring(&r, SLOT, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    flen = rig_build_frame(&c->frame, full, &hdrs);
    g_assert_cmpint(flen, ==, hdrs + 1);
    l4 = hdrs - (c->frame.l4 == 6 ? 20 + c->frame.tcp_opt_len : 8);

    for (fixed = 0; fixed < 2; fixed++) {
        for (len = 0; len <= flen; len++) {
            memcpy(frame, full, flen);
            if (fixed) {
                fix_lengths(&c->frame, frame, len, l4);
            }
            if (len == 0) {
                /*
                 * A zero-length record is no frame: dropped, not counted,
                 * and it must not hold up the frames behind it.
                 */
                rig_post(&r, 1, BUF_SIZE);
                rig_send(&r, frame, 0);
                rig_assert_no_used(&r);
                r.next_buf = (r.next_buf + NUM_BUFS - 1) % NUM_BUFS;
                r.avail_idx--;
                qtest_writew(r.qts, r.rxq->avail + 2, r.avail_idx);
            } else if (len < hdrs) {
                deliver(&r, &k, frame, len, 0, "inline-malformed");
            } else if (len == hdrs && !fixed) {
                /* The IP length still counts the byte that was cut. */
                deliver(&r, &k, frame, len, 0, "inline-malformed");
            } else {
                deliver(&r, &k, frame, len, hdrs, "split");
            }
        }
    }
    g_assert_cmpint(rig_stat(&r, "k"), ==, k);
    g_assert_cmpint(k, ==, 2 * flen);
}

/* ---- Fields that lie, chains, sizes ------------------------------------- */

typedef struct LieCase {
    const char *name;
    /* Build the frame; return its length and the expected split point. */
    size_t (*build)(uint8_t *f, size_t *hdr_len);
    const char *counter;
    uint32_t slot_size;        /* 0: SLOT */
} LieCase;

static size_t tcp4(uint8_t *f, size_t payload, size_t *hdrs)
{
    FrameSpec s = { .l3 = L3_IP4, .l4 = 6, .payload = payload };

    return rig_build_frame(&s, f, hdrs);
}

/*
 * IHL 15 inside a long enough packet is no lie the device can see: the
 * TCP header and payload become options, TCP is read from the payload,
 * and the packet is split there if that reading is consistent.
 */
static size_t ihl_15(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = tcp4(f, 100, &hdrs);

    f[14] = 0x4f;
    *hdr_len = 14 + 60 + (f[14 + 60 + 12] >> 4) * 4;
    g_assert_cmpint(*hdr_len, <=, len);
    return len;
}

static size_t lie_ihl_past_frame(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = tcp4(f, 0, &hdrs);

    f[14] = 0x4f;                 /* the frame has 40 bytes after L2 */
    *hdr_len = 0;
    return len;
}

static size_t lie_ip_version(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = tcp4(f, 100, &hdrs);

    f[14] = 0x65;                 /* version 6 behind ethertype IPv4 */
    *hdr_len = 0;
    return len;
}

static size_t lie_ip6_version(uint8_t *f, size_t *hdr_len)
{
    FrameSpec s = { .l3 = L3_IP6, .l4 = 6, .payload = 100 };
    size_t hdrs, len = rig_build_frame(&s, f, &hdrs);

    f[14] = 0x40;                 /* version 4 behind ethertype IPv6 */
    *hdr_len = 0;
    return len;
}

static size_t lie_tot_below_ihl(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = tcp4(f, 100, &hdrs);

    rig_put16(f + 16, 19);
    *hdr_len = 0;
    return len;
}

static size_t lie_tot_cuts_tcp(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = tcp4(f, 100, &hdrs);

    rig_put16(f + 16, 20 + 19);   /* IP ends inside the TCP header */
    *hdr_len = 0;
    return len;
}

/* Ethernet padding after the IP packet is payload, not a lie. */
static size_t padding(uint8_t *f, size_t *hdr_len)
{
    size_t len = tcp4(f, 6, hdr_len);

    memset(f + len, 0x5a, 30);
    return len + 30;
}

static size_t lie_doff_15_short(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = tcp4(f, 39, &hdrs);

    f[14 + 20 + 12] = 0xf0;       /* 60-byte TCP header, IP has 59 */
    *hdr_len = 0;
    return len;
}

static size_t doff_15_fits(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = tcp4(f, 40, &hdrs);

    f[14 + 20 + 12] = 0xf0;       /* 60-byte TCP header, exactly fits */
    *hdr_len = 14 + 20 + 60;
    return len;
}

static size_t udp4(uint8_t *f, size_t payload, size_t *hdrs)
{
    FrameSpec s = { .l3 = L3_IP4, .l4 = 17, .payload = payload };

    return rig_build_frame(&s, f, hdrs);
}

static size_t lie_udp_len_7(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = udp4(f, 50, &hdrs);

    rig_put16(f + 14 + 20 + 4, 7);
    *hdr_len = 0;
    return len;
}

static size_t udp_len_short(uint8_t *f, size_t *hdr_len)
{
    size_t len = udp4(f, 50, hdr_len);

    rig_put16(f + 14 + 20 + 4, 8);  /* shorter than IP: allowed */
    return len;
}

static size_t lie_udp_len_past_ip(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = udp4(f, 50, &hdrs);

    rig_put16(f + 14 + 20 + 4, 8 + 51);
    *hdr_len = 0;
    return len;
}

/*
 * IPv6 frame with @n extension headers of type @type and @per bytes each,
 * then @l4 (TCP: 20-byte header) and @payload bytes.  Payload length as
 * the bytes say unless @plen >= 0.
 */
static size_t ip6_chain(uint8_t *f, int n, uint8_t type, size_t per,
                        uint8_t l4, size_t payload, int plen, size_t *hdrs)
{
    FrameSpec s = { .l3 = L3_IP6, .l4 = 59 };
    size_t h, off = 14 + 40, i;
    uint8_t *nh = f + 14 + 6;

    rig_build_frame(&s, f, &h);
    for (i = 0; i < n; i++) {
        *nh = type;
        memset(f + off, 0, per);
        f[off + 1] = per / 8 - 1;
        nh = f + off;
        off += per;
    }
    *nh = l4;
    if (l4 == 6) {
        memset(f + off, 0, 20);
        rig_put16(f + off, 5001);
        rig_put16(f + off + 2, 80);
        f[off + 12] = 5 << 4;
        off += 20;
    }
    *hdrs = off;
    for (i = 0; i < payload; i++) {
        f[off + i] = i * 3;
    }
    off += payload;
    rig_put16(f + 14 + 4, plen >= 0 ? plen : off - 14 - 40);
    return off;
}

static size_t chain_8(uint8_t *f, size_t *hdr_len)
{
    return ip6_chain(f, 8, 60, 8, 6, 100, -1, hdr_len);
}

static size_t chain_400(uint8_t *f, size_t *hdr_len)
{
    return ip6_chain(f, 400, 60, 8, 6, 100, -1, hdr_len);
}

static size_t chain_600(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = ip6_chain(f, 600, 0, 8, 6, 100, -1, &hdrs);

    *hdr_len = 0;
    return len;
}

static size_t chain_cut(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs;

    ip6_chain(f, 20, 43, 16, 6, 0, -1, &hdrs);
    *hdr_len = 0;
    return 14 + 40 + 16 * 7 + 5;  /* inside the 8th header */
}

static size_t chain_past_plen(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = ip6_chain(f, 4, 60, 8, 6, 0, 24, &hdrs);

    memset(f + len, 0, 64);       /* the chain is in the frame, not in IP */
    *hdr_len = 0;
    return len + 64;
}

/* A chain of headers that never ends: it runs into the end of the frame. */
static size_t chain_endless(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs;
    int n = (MAX_FRAME - 14 - 40) / 8 + 1;

    ip6_chain(f, n, 60, 8, 60, 0, 0xffff, &hdrs);
    *hdr_len = 0;
    return MAX_FRAME;
}

static size_t plen_zero_tcp(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = ip6_chain(f, 0, 0, 8, 6, 10, 0, &hdrs);

    *hdr_len = 0;                 /* jumbogram-style 0: TCP past IP end */
    return len;
}

/*
 * AH (51) counts its length in 4-byte units minus 2 (RFC 4302): a parser
 * that takes it as (len + 1) * 8 like the other extension headers lands
 * in the wrong place.  The spec's walk steps over it, so TCP behind it is
 * split with AH in the slot, and RSS hashes the same TCP header.
 */
static size_t ah(uint8_t *f, uint8_t ah_len, size_t *hdr_len)
{
    size_t real = (ah_len + 2) * 4, hdrs, len;

    len = ip6_chain(f, 0, 0, 8, 51, 0, -1, &hdrs);
    memset(f + len, 0, real);
    f[len] = 6;                   /* AH next header: TCP */
    f[len + 1] = ah_len;
    len += real;
    memset(f + len, 0, 20);
    f[len + 12] = 5 << 4;
    len += 20;
    *hdr_len = len;
    memset(f + len, 0x3c, 16);
    len += 16;
    rig_put16(f + 14 + 4, len - 14 - 40);
    return len;
}

static size_t ah_short(uint8_t *f, size_t *hdr_len)
{
    return ah(f, 4, hdr_len);
}

static size_t ah_long(uint8_t *f, size_t *hdr_len)
{
    return ah(f, 40, hdr_len);
}

/* Hop-by-hop, AH (248 bytes), destination options, TCP. */
static size_t hbh_then_ah(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = ip6_chain(f, 1, 0, 8, 51, 0, -1, &hdrs);
    size_t real = (60 + 2) * 4;

    memset(f + len, 0, real + 8 + 20);
    f[len] = 60;                  /* AH next header: destination options */
    f[len + 1] = 60;
    len += real;
    f[len] = 6;                   /* destination options, 8 bytes: TCP */
    len += 8;
    f[len + 12] = 5 << 4;
    len += 20;
    *hdr_len = len;
    memset(f + len, 0xc3, 10);
    len += 10;
    rig_put16(f + 14 + 4, len - 14 - 40);
    return len;
}

/*
 * The fragment header is 8 bytes whatever its second byte holds: that
 * byte is reserved (RFC 8200 4.5), not a length.
 */
static size_t frag_reserved(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = ip6_chain(f, 1, 44, 8, 17, 0, -1, &hdrs);

    f[14 + 40 + 1] = 0xff;
    memset(f + len, 0, 8 + 32);
    rig_put16(f + len + 4, 8 + 32);
    len += 8 + 32;
    rig_put16(f + 14 + 4, len - 14 - 40);
    *hdr_len = 0;
    return len;
}

/*
 * A Mobility header (RFC 6275) is an extension header whose next header
 * should be No Next Header (59): nothing to split, as RSS sees it too.
 */
static size_t mobility(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = ip6_chain(f, 1, 135, 16, 59, 24, -1, &hdrs);

    *hdr_len = 0;
    return len;
}

static size_t esp(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = ip6_chain(f, 1, 60, 8, 50, 64, -1, &hdrs);

    *hdr_len = 0;
    return len;
}

static size_t no_next_header(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = ip6_chain(f, 2, 0, 8, 59, 16, -1, &hdrs);

    *hdr_len = 0;
    return len;
}

static size_t frag_deep_in_chain(uint8_t *f, size_t *hdr_len)
{
    size_t hdrs, len = ip6_chain(f, 6, 60, 8, 6, 64, -1, &hdrs);

    f[14 + 40 + 8 * 3] = 44;      /* 4th header's next: a fragment header */
    *hdr_len = 0;
    return len;
}

static size_t big_inline(uint8_t *f, size_t *hdr_len)
{
    FrameSpec s = { .l3 = L3_IP4, .l4 = 1, .payload = MAX_FRAME - 42 };
    size_t hdrs;

    *hdr_len = 0;
    return rig_build_frame(&s, f, &hdrs);
}

static size_t big_udp6(uint8_t *f, size_t *hdr_len)
{
    FrameSpec s = { .l3 = L3_IP6, .l4 = 17, .ip6_ext = 1,
                    .payload = MAX_FRAME - 14 - 40 - 32 - 8 };

    return rig_build_frame(&s, f, hdr_len);
}

static size_t big_padded(uint8_t *f, size_t *hdr_len)
{
    size_t len = tcp4(f, 1000, hdr_len);

    memset(f + len, 0xa5, MAX_FRAME - len);
    return MAX_FRAME;             /* 64 KiB of which most is padding */
}

static const LieCase lie_cases[] = {
    { "ip4-ihl-15", ihl_15, "split" },
    { "ip4-ihl-past-frame", lie_ihl_past_frame, "inline-malformed" },
    { "ip4-version-6", lie_ip_version, "inline-malformed" },
    { "ip6-version-4", lie_ip6_version, "inline-malformed" },
    { "ip4-len-below-ihl", lie_tot_below_ihl, "inline-malformed" },
    { "ip4-len-cuts-tcp", lie_tot_cuts_tcp, "inline-malformed" },
    { "ip4-padding", padding, "split" },
    { "tcp-doff-15-past-ip", lie_doff_15_short, "inline-malformed" },
    { "tcp-doff-15-fits", doff_15_fits, "split" },
    { "udp-len-7", lie_udp_len_7, "inline-malformed" },
    { "udp-len-short", udp_len_short, "split" },
    { "udp-len-past-ip", lie_udp_len_past_ip, "inline-malformed" },
    { "ip6-chain-8", chain_8, "split" },
    { "ip6-chain-400", chain_400, "split", 4096 },
    { "ip6-chain-600", chain_600, "inline-too-big", 4096 },
    { "ip6-chain-cut", chain_cut, "inline-malformed" },
    { "ip6-chain-past-plen", chain_past_plen, "inline-malformed" },
    { "ip6-chain-endless", chain_endless, "inline-malformed" },
    { "ip6-plen-0-tcp", plen_zero_tcp, "inline-malformed" },
    { "ip6-ah", ah_short, "split" },
    { "ip6-ah-long", ah_long, "split", 512 },
    { "ip6-hbh-ah-dstopt", hbh_then_ah, "split", 512 },
    { "ip6-fragment-reserved", frag_reserved, "inline-fragment" },
    { "ip6-mobility", mobility, "inline-not-tcp-udp" },
    { "ip6-esp", esp, "inline-not-tcp-udp" },
    { "ip6-no-next-header", no_next_header, "inline-not-tcp-udp" },
    { "ip6-fragment-deep", frag_deep_in_chain, "inline-fragment" },
    { "64k-inline", big_inline, "inline-not-tcp-udp" },
    { "64k-udp6", big_udp6, "split" },
    { "64k-padding", big_padded, "split" },
};

static void lie_run(void *obj, void *data, QGuestAllocator *alloc, bool rss)
{
    static const uint16_t table[1] = { 0 };
    TestArg *t = data;
    const LieCase *c = t->data;
    g_autofree uint8_t *frame = g_malloc0(MAX_FRAME + 4096);
    size_t hdr_len, len;
    uint32_t k = 0;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    if (rss) {
        g_assert(r.vdev->features & (1ull << VIRTIO_NET_F_RSS));
        g_assert_cmpint(rig_rss_config(&r, VIRTIO_NET_CTRL_MQ_RSS_CONFIG,
                                       RSS_HASH_TYPES, table, 1, 1), ==,
                        VIRTIO_NET_OK);
    }
    rig_set_ring(&r, c->slot_size ? c->slot_size : SLOT, RX_QSIZE,
                 VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    len = c->build(frame, &hdr_len);
    g_assert_cmpint(len, <=, MAX_FRAME);
    deliver(&r, &k, frame, len, hdr_len, c->counter);
    g_assert_cmpint(rig_stat(&r, "header-bytes"), ==, hdr_len);
    g_assert_cmpint(rig_stat(&r, "payload-bytes"), ==, len - hdr_len);
}

static void test_lie(void *obj, void *data, QGuestAllocator *alloc)
{
    lie_run(obj, data, alloc, false);
}

/*
 * The same packets with RSS on: the device parses each frame for RSS,
 * and the split decision takes that parse (NetRxPkt) instead of parsing
 * again.  The verdict must not change.
 */
static void test_lie_rss(void *obj, void *data, QGuestAllocator *alloc)
{
    lie_run(obj, data, alloc, true);
}

static void register_hostile_pkt_tests(void)
{
    QOSGraphTestOptions opts = {
        .before = rig_test_setup,
        .edge.extra_device_opts = "split-hdr=on,id=vnet0",
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(trunc_cases); i++) {
        g_autofree char *name = g_strdup_printf("split-hdr/truncate/%s",
                                                trunc_cases[i].name);

        opts.arg = (void *)&trunc_cases[i];
        qos_add_test(name, "virtio-net", test_truncate, &opts);
    }
    for (i = 0; i < ARRAY_SIZE(lie_cases); i++) {
        g_autofree char *name = g_strdup_printf("split-hdr/hostile-pkt/%s",
                                                lie_cases[i].name);

        opts.arg = (void *)&lie_cases[i];
        qos_add_test(name, "virtio-net", test_lie, &opts);
    }
    opts.edge.extra_device_opts = "split-hdr=on,id=vnet0,rss=on";
    for (i = 0; i < ARRAY_SIZE(lie_cases); i++) {
        g_autofree char *name = g_strdup_printf(
            "split-hdr/hostile-pkt-rss/%s", lie_cases[i].name);

        opts.arg = (void *)&lie_cases[i];
        qos_add_test(name, "virtio-net", test_lie_rss, &opts);
    }
}

libqos_init(register_hostile_pkt_tests);
