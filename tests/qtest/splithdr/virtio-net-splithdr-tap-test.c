/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest testcases for virtio-net split transport header receive
 * (docs/specs/virtio-net-split-hdr.rst) that need a peer with a virtio-net
 * header: hash report, GSO packets from the peer, and multiqueue with RSS.
 *
 * The socket netdev of the other split-hdr tests has no vnet header, so
 * QEMU offers neither VIRTIO_NET_F_HASH_REPORT nor the guest offloads with
 * it.  Here the test creates a persistent tap interface before QEMU
 * starts, QEMU attaches to it with vnet_hdr=on, and the test injects
 * frames on the host side with an AF_PACKET socket bound to the interface:
 * the kernel hands them to QEMU as received packets, GSO super-frames
 * included (PACKET_VNET_HDR).  The interface has no address and IPv6 off
 * so that the host sends nothing of its own.  Without root or
 * /dev/net/tun every test is skipped.
 *
 * As in virtio-net-splithdr-test.c the test plays the guest driver (see
 * virtio-net-splithdr-rig.h) and checks what the device wrote into guest
 * memory.  Where the device copies values it does not compute (hash,
 * checksum and GSO fields) the expected values are what the classic path
 * delivers for the same frame.
 */

#include "qemu/osdep.h"
#include <sys/ioctl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/if_packet.h>
#include "libqtest-single.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qemu/module.h"
#include "standard-headers/linux/virtio_net.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "libqos/qgraph.h"
#include "libqos/virtio.h"
#include "libqos/virtio-net.h"
#include "virtio-net-splithdr-rig.h"

typedef struct TapArg {
    char ifname[IFNAMSIZ];
    int queues;                /* tap queues, and the device's queue pairs */
    int tun_flags;
    char *skip;                /* why the test cannot run, or NULL */
    bool created;              /* the interface exists and must go */
    int pkt;                   /* AF_PACKET socket: plain frames */
    int pkt_vnet;              /* AF_PACKET socket: virtio_net_hdr + frame */
    int inject[2];             /* [0]: the test's end of a filter-redirector */
} TapArg;

/* ---- The tap interface --------------------------------------------------- */

/* Attach to the interface and drop its persistence, which deletes it. */
static void tap_delete(TapArg *t)
{
    struct ifreq ifr = { 0 };
    int fd = open("/dev/net/tun", O_RDWR);

    if (fd < 0) {
        return;
    }
    pstrcpy(ifr.ifr_name, IFNAMSIZ, t->ifname);
    ifr.ifr_flags = t->tun_flags;
    if (ioctl(fd, TUNSETIFF, &ifr) == 0) {
        ioctl(fd, TUNSETPERSIST, 0);
        t->created = false;
    }
    close(fd);
}

/* On an assertion QEMU is killed first (libqtest), then the tap goes. */
static void tap_abort_handler(void *opaque)
{
    TapArg *t = opaque;

    if (t->created) {
        tap_delete(t);
    }
}

/* Create the interface, quiet and up; returns why it failed, or NULL. */
static char *tap_create(TapArg *t)
{
    struct ifreq ifr = { 0 };
    char *why;
    int fd;

    fd = open("/dev/net/tun", O_RDWR);
    if (fd < 0) {
        return g_strdup_printf("cannot open /dev/net/tun: %s",
                               strerror(errno));
    }
    pstrcpy(ifr.ifr_name, IFNAMSIZ, t->ifname);
    ifr.ifr_flags = t->tun_flags;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0) {
        why = g_strdup_printf("cannot create tap %s: %s", t->ifname,
                              strerror(errno));
        close(fd);
        return why;
    }
    close(fd);
    t->created = true;
    why = rig_netif_quiet_up(t->ifname, 0);
    if (why) {
        return why;
    }

    t->pkt = rig_packet_socket(t->ifname, 0, false);
    t->pkt_vnet = rig_packet_socket(t->ifname, 0, true);
    if (t->pkt < 0 || t->pkt_vnet < 0) {
        return g_strdup_printf("cannot open AF_PACKET sockets on %s: %s",
                               t->ifname, strerror(errno));
    }
    return NULL;
}

static void tap_cleanup(void *opaque)
{
    TapArg *t = opaque;

    if (t->pkt >= 0) {
        close(t->pkt);
    }
    if (t->pkt_vnet >= 0) {
        close(t->pkt_vnet);
    }
    if (t->inject[0] >= 0) {
        close(t->inject[0]);
        close(t->inject[1]);
    }
    /* QEMU holds the tap: end it now, the next test starts its own. */
    qtest_end();
    qos_invalidate_command_line();
    qtest_remove_abrt_handler(t);
    if (t->created) {
        tap_delete(t);
    }
    g_free(t->skip);
    g_free(t);
}

/* qos "before" hook; @arg is the number of tap queues. */
static void *tap_setup(GString *cmd_line, void *arg)
{
    static unsigned int count;
    TapArg *t = g_new0(TapArg, 1);

    t->queues = GPOINTER_TO_INT(arg);
    t->tun_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
                   (t->queues > 1 ? IFF_MULTI_QUEUE : 0);
    t->pkt = t->pkt_vnet = -1;
    t->inject[0] = t->inject[1] = -1;
    snprintf(t->ifname, sizeof(t->ifname), "sht%d_%u", (int)getpid(),
             count++);
    qtest_add_abrt_handler(tap_abort_handler, t);
    g_test_queue_destroy(tap_cleanup, t);

    if (geteuid() != 0) {
        t->skip = g_strdup("needs root to create a tap interface");
    } else if (access("/dev/net/tun", R_OK | W_OK) != 0) {
        t->skip = g_strdup("/dev/net/tun is missing");
    } else {
        t->skip = tap_create(t);
    }
    if (t->skip) {
        /* QEMU must start all the same; the test then skips. */
        g_string_append(cmd_line, " -netdev hubport,id=hs0,hubid=0 ");
    } else {
        g_string_append_printf(cmd_line, " -netdev tap,id=hs0,ifname=%s,"
                               "script=no,downscript=no,vnet_hdr=on,"
                               "vhost=off,queues=%d ", t->ifname, t->queues);
    }
    return t;
}

/*
 * As tap_setup(), plus a filter-redirector on the tap netdev whose
 * packets enter the device's receive path as the tap's own: header and
 * all, and the test writes the header.  The kernel rebuilds the header
 * of what reaches the tap through AF_PACKET, so only this way can the
 * peer's header carry flags the kernel would not set.
 */
static void *tap_setup_inject(GString *cmd_line, void *arg)
{
    TapArg *t = tap_setup(cmd_line, arg);

    if (!t->skip) {
        g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, t->inject), ==,
                        0);
        g_string_append_printf(cmd_line, " -chardev socket,id=inj0,fd=%d "
                               "-object filter-redirector,id=inj,netdev=hs0,"
                               "queue=tx,indev=inj0 ", t->inject[1]);
    }
    return t;
}

static bool tap_ready(TapArg *t)
{
    if (t->skip) {
        g_test_skip(t->skip);
        return false;
    }
    return true;
}

/* ---- Hash report --------------------------------------------------------- */

typedef struct HashFrame {
    FrameSpec spec;
    uint16_t report;           /* hash_report the frame must get */
    bool split;
} HashFrame;

static const HashFrame hash_frames[] = {
    { { .l3 = L3_IP4, .l4 = 6, .tcp_opt_len = 12, .payload = 1000 },
      VIRTIO_NET_HASH_REPORT_TCPv4, true },
    { { .l3 = L3_IP6, .l4 = 17, .payload = 700 },
      VIRTIO_NET_HASH_REPORT_UDPv6, true },
    /* Inline packets carry the hash too. */
    { { .l3 = L3_IP4, .l4 = 1, .payload = 56 },
      VIRTIO_NET_HASH_REPORT_IPv4, false },
};

#define HASH_TYPES_ALL (VIRTIO_NET_RSS_HASH_TYPE_IPv4 | \
                        VIRTIO_NET_RSS_HASH_TYPE_TCPv4 | \
                        VIRTIO_NET_RSS_HASH_TYPE_UDPv4 | \
                        VIRTIO_NET_RSS_HASH_TYPE_IPv6 | \
                        VIRTIO_NET_RSS_HASH_TYPE_TCPv6 | \
                        VIRTIO_NET_RSS_HASH_TYPE_UDPv6)

/*
 * With VIRTIO_NET_F_HASH_REPORT the slot holds the 20-byte header, and its
 * hash_value and hash_report are the ones the classic path reports for
 * the same frame.
 */
static void test_hash_report(void *obj, void *data, QGuestAllocator *alloc)
{
    enum { NF = ARRAY_SIZE(hash_frames) };
    TapArg *t = data;
    struct virtio_net_hdr_v1_hash classic[NF];
    uint8_t frame[NF][2048], got[2048];
    size_t len[NF], hdrs[NF];
    const uint16_t table = 0;
    UsedElem used;
    Rig r;
    int i;

    if (!tap_ready(t)) {
        return;
    }
    rig_init(&r, obj, alloc, t->pkt);
    r.sock_dgram = true;
    g_assert(r.vdev->features & (1ull << VIRTIO_NET_F_HASH_REPORT));
    g_assert_cmpint(r.vhdr_len, ==, VHDR_HASH_LEN);
    g_assert_cmpint(rig_rss_config(&r, VIRTIO_NET_CTRL_MQ_HASH_CONFIG,
                                   HASH_TYPES_ALL, &table, 1, 0), ==,
                    VIRTIO_NET_OK);

    /* No ring yet: the classic layout, header then frame in the buffer. */
    rig_post(&r, NF, BUF_SIZE);
    for (i = 0; i < NF; i++) {
        len[i] = rig_build_frame(&hash_frames[i].spec, frame[i], &hdrs[i]);
        rig_send(&r, frame[i], len[i]);
        rig_wait_used(&r, 1, &used);
        g_assert_cmpint(rig_read_classic(&r, &used, 1, &classic[i], got,
                                         sizeof(got)), ==, len[i]);
        g_assert_cmpmem(got, len[i], frame[i], len[i]);
        g_assert_cmpint(le16_to_cpu(classic[i].hash_report), ==,
                        hash_frames[i].report);
        g_assert_cmphex(le32_to_cpu(classic[i].hash_value), !=, 0);
    }

    /* Every posted buffer is used, so the queue is empty and SET works. */
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, NUM_BUFS, BUF_SIZE);
    for (i = 0; i < NF; i++) {
        size_t h = hash_frames[i].split ? hdrs[i] : 0;

        rig_send(&r, frame[i], len[i]);
        rig_wait_used(&r, 1, &used);
        rig_check_slot_hdr(&r, i, frame[i], h, 1, &classic[i]);
        rig_check_data(&r, &used, 1, frame[i] + h, len[i] - h, BUF_SIZE);
    }
    g_assert_cmpint(rig_stat(&r, "split"), ==, 2);
    g_assert_cmpint(rig_stat(&r, "inline-not-tcp-udp"), ==, 1);
    g_assert_cmpint(rig_stat(&r, "header-bytes"), ==, hdrs[0] + hdrs[1]);
    g_assert_cmpint(rig_stat(&r, "k"), ==, NF);
    rig_expect_marker(&r);      /* the next packet: nothing came before it */
}

/*
 * IPv6+AH+TCP: RSS hashes the TCP header behind AH (TCPv6, the same hash
 * as the packet without AH), and the split decision splits after it.
 */
#define AH_OFF (ETH_HLEN + 40)     /* behind the fixed IPv6 header */
#define AH_LEN 24

static void test_hash_ah(void *obj, void *data, QGuestAllocator *alloc)
{
    TapArg *t = data;
    FrameSpec spec = { .l3 = L3_IP6, .l4 = 6, .payload = 200 };
    uint8_t plain[512], ah[512];
    g_autofree uint8_t *slot = NULL;
    const struct virtio_net_hdr_v1_hash *h;
    const uint16_t table = 0;
    uint32_t hash[2];
    size_t hdrs, len, i;
    UsedElem used;
    Rig r;

    if (!tap_ready(t)) {
        return;
    }
    rig_init(&r, obj, alloc, t->pkt);
    r.sock_dgram = true;
    g_assert_cmpint(rig_rss_config(&r, VIRTIO_NET_CTRL_MQ_HASH_CONFIG,
                                   HASH_TYPES_ALL, &table, 1, 0), ==,
                    VIRTIO_NET_OK);
    rig_set_ring(&r, 256, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, NUM_BUFS, BUF_SIZE);
    /*
     * The same frame with a 24-byte AH between IPv6 (next header 51) and
     * TCP: Payload Len 4 means (4 + 2) * 4 bytes (RFC 4302).
     */
    len = rig_build_frame(&spec, plain, &hdrs);
    memcpy(ah, plain, AH_OFF);
    ah[ETH_HLEN + 6] = 51;
    memset(ah + AH_OFF, 0, AH_LEN);
    ah[AH_OFF] = 6;
    ah[AH_OFF + 1] = AH_LEN / 4 - 2;
    memcpy(ah + AH_OFF + AH_LEN, plain + AH_OFF, len - AH_OFF);
    rig_put16(ah + ETH_HLEN + 4, len + AH_LEN - AH_OFF);
    slot = g_malloc(r.slot_size);
    for (i = 0; i < 2; i++) {
        size_t h_len = hdrs + (i ? AH_LEN : 0);

        rig_send(&r, i ? ah : plain, len + (i ? AH_LEN : 0));
        rig_wait_used(&r, 1, &used);
        rig_read_slot(&r, i, slot);
        h = (const void *)(slot + PREFIX);
        g_assert_cmpint(le16_to_cpu(h->hash_report), ==,
                        VIRTIO_NET_HASH_REPORT_TCPv6);
        hash[i] = le32_to_cpu(h->hash_value);
        g_assert_cmphex(h->hdr.flags & VIRTIO_NET_HDR_F_SPLIT_TRANSPORT_HEADER,
                        ==, VIRTIO_NET_HDR_F_SPLIT_TRANSPORT_HEADER);
        g_assert_cmpint(le16_to_cpu(h->hdr.hdr_len), ==, h_len);
        g_test_message("frame %zu: hash 0x%08x hdr_len %zu", i, hash[i],
                       h_len);
    }
    g_assert_cmphex(hash[0], ==, hash[1]);
    g_assert_cmpint(rig_stat(&r, "split"), ==, 2);
}

/* ---- GSO from the peer --------------------------------------------------- */

#define GSO_MSS 1448
#define GSO_PAYLOAD (15 * BUF_SIZE)

/* Inject @frame as one TSO super-frame of the host's stack would be. */
static void tap_send_tso4(TapArg *t, const uint8_t *frame, size_t len,
                          size_t hdrs)
{
    /* Host byte order: the socket's header follows legacy virtio rules. */
    struct virtio_net_hdr vh = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
        .hdr_len = hdrs,
        .gso_size = GSO_MSS,
        .csum_start = 14 + 20,
        .csum_offset = 16,                      /* tcphdr.check */
    };
    struct iovec iov[] = {
        { .iov_base = &vh, .iov_len = sizeof(vh) },
        { .iov_base = (void *)frame, .iov_len = len },
    };

    g_assert_cmpint(writev(t->pkt_vnet, iov, 2), ==, sizeof(vh) + len);
}

/*
 * A TSO packet from the peer is classified and split once: one slot, the
 * GSO and checksum fields as the classic path has them, and the 60 KiB of
 * payload in 15 full pages (classic needs 16 buffers for the same frame).
 */
static void test_gso_tcp4(void *obj, void *data, QGuestAllocator *alloc)
{
    TapArg *t = data;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 6, .tcp_opt_len = 12,
                       .payload = GSO_PAYLOAD };
    g_autofree uint8_t *frame = g_malloc(65536);
    g_autofree uint8_t *got = g_malloc(65536);
    struct virtio_net_hdr_v1_hash classic;
    UsedElem used[NUM_BUFS];
    size_t hdrs, len;
    int n_classic, n_split;
    Rig r;

    if (!tap_ready(t)) {
        return;
    }
    rig_init(&r, obj, alloc, t->pkt);
    r.sock_dgram = true;
    /* The device then asks tap for TSO4 and the host does not segment. */
    g_assert(r.vdev->features & (1ull << VIRTIO_NET_F_GUEST_CSUM));
    g_assert(r.vdev->features & (1ull << VIRTIO_NET_F_GUEST_TSO4));
    len = rig_build_frame(&spec, frame, &hdrs);
    g_assert_cmpint(hdrs, ==, 14 + 20 + 32);
    n_classic = DIV_ROUND_UP(VHDR_LEN + len, BUF_SIZE);
    n_split = DIV_ROUND_UP(len - hdrs, BUF_SIZE);
    g_assert_cmpint(n_classic, ==, 16);
    g_assert_cmpint(n_split, ==, 15);

    /* Classic delivery of the frame gives the reference header. */
    rig_post(&r, n_classic, BUF_SIZE);
    tap_send_tso4(t, frame, len, hdrs);
    rig_wait_used(&r, n_classic, used);
    g_assert_cmpint(rig_read_classic(&r, used, n_classic, &classic, got,
                                     65536), ==, len);
    g_assert_cmpmem(got, len, frame, len);
    /* Not segmented on the way, and the fields we asked for. */
    g_assert_cmpint(classic.hdr.gso_type, ==, VIRTIO_NET_HDR_GSO_TCPV4);
    g_assert_cmphex(classic.hdr.flags, ==, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    g_assert_cmpint(le16_to_cpu(classic.hdr.gso_size), ==, GSO_MSS);
    g_assert_cmpint(le16_to_cpu(classic.hdr.csum_start), ==, 34);
    g_assert_cmpint(le16_to_cpu(classic.hdr.csum_offset), ==, 16);

    /* Queue empty again: set the ring, and the same frame is split. */
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, NUM_BUFS, BUF_SIZE);
    tap_send_tso4(t, frame, len, hdrs);
    rig_wait_used(&r, n_split, used);
    rig_check_slot_hdr(&r, 0, frame, hdrs, n_split, &classic);
    rig_check_data(&r, used, n_split, frame + hdrs, len - hdrs, BUF_SIZE);
    g_assert_cmpint(rig_stat(&r, "split"), ==, 1);
    g_assert_cmpint(rig_stat(&r, "k"), ==, 1);
    g_assert_cmpint(rig_stat(&r, "header-bytes"), ==, hdrs);
    g_assert_cmpint(rig_stat(&r, "payload-bytes"), ==, len - hdrs);
    rig_expect_marker(&r);      /* the next packet: nothing came before it */
}

/* ---- Multiqueue ---------------------------------------------------------- */

#define MQ_FLOWS 12

static const uint16_t mq_table[2] = { 0, 1 };

static uint8_t mq_steer(Rig *r)
{
    return rig_rss_config(r, VIRTIO_NET_CTRL_MQ_RSS_CONFIG,
                          VIRTIO_NET_RSS_HASH_TYPE_IPv4 |
                          VIRTIO_NET_RSS_HASH_TYPE_TCPv4 |
                          VIRTIO_NET_RSS_HASH_TYPE_UDPv4,
                          mq_table, ARRAY_SIZE(mq_table), 2);
}

/* Wait for one packet on either receive queue; returns the queue. */
static int mq_wait_either(Rig *r, UsedElem *used)
{
    gint64 start = g_get_monotonic_time();
    int q;

    for (;;) {
        for (q = 0; q < 2; q++) {
            if (rig_used_idx(&r[q], r[q].rxq) != r[q].used_seen) {
                rig_wait_used(&r[q], 1, used);
                return q;
            }
        }
        g_assert(g_get_monotonic_time() - start < TIMEOUT_US);
        qtest_clock_step(r[0].qts, 100);
        g_usleep(100);
    }
}

/*
 * Send flow @flow's packet; check it landed in the next slot of the queue
 * it went to (k counts per queue) and return that queue.  With @rss the
 * queue must be the one the indirection table gives for the reported hash.
 */
static int mq_send_flow(Rig *r, uint32_t *k, int flow, bool rss)
{
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 6, .payload = 200 };
    struct virtio_net_hdr_v1_hash want = { };
    g_autofree uint8_t *slot = NULL;
    const struct virtio_net_hdr_v1_hash *h;
    uint8_t frame[512];
    size_t hdrs, len;
    UsedElem used;
    int q;

    len = rig_build_frame(&spec, frame, &hdrs);
    rig_put16(frame + 14 + 20, 1000 + flow);    /* TCP source port */
    rig_send(&r[0], frame, len);
    q = mq_wait_either(r, &used);

    /* The hash fields are checked against the steering, the rest below. */
    slot = g_malloc(r[q].slot_size);
    rig_read_slot(&r[q], k[q], slot);
    h = (const void *)(slot + PREFIX);
    if (rss) {
        uint32_t hash = le32_to_cpu(h->hash_value);

        g_assert_cmpint(le16_to_cpu(h->hash_report), ==,
                        VIRTIO_NET_HASH_REPORT_TCPv4);
        g_assert_cmpint(q, ==, mq_table[hash & (ARRAY_SIZE(mq_table) - 1)]);
    }
    want.hash_value = h->hash_value;
    want.hash_report = h->hash_report;
    rig_check_slot_hdr(&r[q], k[q], frame, hdrs, 1, &want);
    rig_check_data(&r[q], &used, 1, frame + hdrs, len - hdrs, BUF_SIZE);
    k[q]++;
    return q;
}

static void mq_check_stats(Rig *r, const uint32_t *k)
{
    int q;

    for (q = 0; q < 2; q++) {
        g_assert_cmpint(rig_stat(&r[q], "enabled"), ==, 1);
        g_assert_cmpint(rig_stat(&r[q], "k"), ==, k[q]);
        g_assert_cmpint(rig_stat(&r[q], "split"), ==, k[q]);
    }
}

/*
 * Two receive queues with rings of different slot sizes: RSS spreads
 * flows over both, each queue counts its own packets, and
 * VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (down to one pair and back) and a new
 * RSS_CONFIG leave both rings and their k alone.
 */
static void test_multiqueue(void *obj, void *data, QGuestAllocator *alloc)
{
    TapArg *t = data;
    QVirtioNet *net = obj;
    uint32_t k[2] = { 0, 0 };
    int hits[2] = { 0, 0 };
    Rig r[2];
    int i, q;

    if (!tap_ready(t)) {
        return;
    }
    g_assert(net->vdev->features & (1ull << VIRTIO_NET_F_MQ));
    g_assert(net->vdev->features & (1ull << VIRTIO_NET_F_RSS));
    g_assert_cmpint(net->n_queues, ==, 5);
    for (q = 0; q < 2; q++) {
        rig_init_queue(&r[q], obj, alloc, t->pkt, q);
        r[q].sock_dgram = true;
        g_assert_cmpint(r[q].vhdr_len, ==, VHDR_HASH_LEN);
    }
    rig_set_ring(&r[0], 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_set_ring(&r[1], 256, 2 * RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    g_assert_cmpint(rig_mq_pairs_set(&r[0], 2), ==, VIRTIO_NET_OK);
    g_assert_cmpint(mq_steer(&r[0]), ==, VIRTIO_NET_OK);
    /* Enough for every packet of the test on either queue. */
    rig_post(&r[0], NUM_BUFS, BUF_SIZE);
    rig_post(&r[1], NUM_BUFS, BUF_SIZE);

    /* The key and the flows are fixed, so the spread is too. */
    for (i = 0; i < MQ_FLOWS; i++) {
        hits[mq_send_flow(r, k, i, true)]++;
    }
    g_assert_cmpint(hits[0], >, 0);
    g_assert_cmpint(hits[1], >, 0);
    mq_check_stats(r, k);

    /* One pair: receiveq2 is idle, but its ring and k stay. */
    g_assert_cmpint(rig_mq_pairs_set(&r[0], 1), ==, VIRTIO_NET_OK);
    mq_check_stats(r, k);
    g_assert_cmpint(mq_send_flow(r, k, 0, false), ==, 0);
    g_assert_cmpint(mq_send_flow(r, k, 1, false), ==, 0);

    /* Two pairs and RSS again: the same flows continue where they were. */
    g_assert_cmpint(rig_mq_pairs_set(&r[0], 2), ==, VIRTIO_NET_OK);
    g_assert_cmpint(mq_steer(&r[0]), ==, VIRTIO_NET_OK);
    mq_check_stats(r, k);
    hits[0] = hits[1] = 0;
    for (i = 0; i < MQ_FLOWS; i++) {
        hits[mq_send_flow(r, k, i, true)]++;
    }
    g_assert_cmpint(hits[0], >, 0);
    g_assert_cmpint(hits[1], >, 0);
    mq_check_stats(r, k);
    /*
     * Nothing more on either queue: the next packet on each is a flow
     * sent now (mq_send_flow() checks the next slot of the queue it hit).
     */
    hits[0] = hits[1] = 0;
    for (i = 0; !hits[0] || !hits[1]; i++) {
        g_assert_cmpint(i, <, MQ_FLOWS);
        hits[mq_send_flow(r, k, i, true)]++;
    }
}

/* ---- The peer's flags ---------------------------------------------------- */

#define STALE_HDR_LEN 0x1234

/*
 * Send @frame as from the tap, behind a header that claims a split
 * (0x80) with a stale hdr_len, as a peer's header could.
 */
static void inject_flagged(Rig *r, const uint8_t *frame, size_t len)
{
    g_autofree uint8_t *pkt = g_malloc(VHDR_LEN + len);
    struct virtio_net_hdr_mrg_rxbuf h = {
        .hdr.flags = VIRTIO_NET_HDR_F_SPLIT_TRANSPORT_HEADER,
        .hdr.hdr_len = cpu_to_le16(STALE_HDR_LEN),
    };

    memcpy(pkt, &h, VHDR_LEN);
    memcpy(pkt + VHDR_LEN, frame, len);
    rig_send(r, pkt, VHDR_LEN + len);
}

/*
 * The split flag is the device's: a peer's 0x80 never reaches the guest
 * on a packet the device did not split, neither on a queue without a
 * ring (feature negotiated) nor inline on a queue with one.  On a packet
 * it splits, flag and hdr_len are the device's own.
 */
static void test_peer_flags(void *obj, void *data, QGuestAllocator *alloc)
{
    TapArg *t = data;
    FrameSpec icmp = { .l3 = L3_IP4, .l4 = 1, .payload = 56 };
    FrameSpec tcp = { .l3 = L3_IP6, .l4 = 6, .tcp_opt_len = 12,
                      .payload = 500 };
    struct virtio_net_hdr_v1_hash classic;
    uint8_t icmp_frame[512], tcp_frame[1024], got[1024];
    size_t icmp_len, tcp_len, icmp_hdrs, tcp_hdrs;
    UsedElem used;
    Rig r;

    if (!tap_ready(t)) {
        return;
    }
    rig_init(&r, obj, alloc, t->inject[0]);
    g_assert(r.vdev->features &
             (1ull << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER));
    g_assert_cmpint(r.vhdr_len, ==, VHDR_LEN);
    icmp_len = rig_build_frame(&icmp, icmp_frame, &icmp_hdrs);
    tcp_len = rig_build_frame(&tcp, tcp_frame, &tcp_hdrs);

    /* No ring: classic, flag cleared, the rest of the header as sent. */
    rig_post(&r, 1, BUF_SIZE);
    inject_flagged(&r, icmp_frame, icmp_len);
    rig_wait_used(&r, 1, &used);
    g_assert_cmpint(rig_read_classic(&r, &used, 1, &classic, got,
                                     sizeof(got)), ==, icmp_len);
    g_assert_cmpmem(got, icmp_len, icmp_frame, icmp_len);
    g_assert_cmphex(classic.hdr.flags, ==, 0);
    g_assert_cmpint(le16_to_cpu(classic.hdr.hdr_len), ==, STALE_HDR_LEN);

    /* With a ring: inline like classic, split with the device's fields. */
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, 2, BUF_SIZE);
    inject_flagged(&r, icmp_frame, icmp_len);
    rig_wait_used(&r, 1, &used);
    rig_check_slot_hdr(&r, 0, icmp_frame, 0, 1, &classic);
    rig_check_data(&r, &used, 1, icmp_frame, icmp_len, BUF_SIZE);
    inject_flagged(&r, tcp_frame, tcp_len);
    rig_wait_used(&r, 1, &used);
    rig_check_slot_hdr(&r, 1, tcp_frame, tcp_hdrs, 1, &classic);
    rig_check_data(&r, &used, 1, tcp_frame + tcp_hdrs, tcp_len - tcp_hdrs,
                   BUF_SIZE);
    g_assert_cmpint(rig_stat(&r, "inline-not-tcp-udp"), ==, 1);
    g_assert_cmpint(rig_stat(&r, "split"), ==, 1);
    rig_assert_no_used(&r);
}

/* ---- A DHCP reply with a partial checksum -------------------------------- */

static void inject_partial_csum(Rig *r, const uint8_t *frame, size_t len)
{
    g_autofree uint8_t *pkt = g_malloc(VHDR_LEN + len);
    struct virtio_net_hdr_mrg_rxbuf h = {
        .hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .hdr.csum_start = cpu_to_le16(ETH_HLEN + 20),
        .hdr.csum_offset = cpu_to_le16(6),
    };

    memcpy(pkt, &h, VHDR_LEN);
    memcpy(pkt + VHDR_LEN, frame, len);
    rig_send(r, pkt, VHDR_LEN + len);
}

/*
 * virtio-net completes such a checksum and clears NEEDS_CSUM, for the
 * DHCP clients that drop a reply whose checksum is partial
 * (work_around_broken_dhclient()), and classic does it before copying
 * the frame.  A queue with a ring must give the same bytes: inline
 * (UDPv4 masked) in the buffers, split in the slot, never the partial
 * checksum under a header that no longer asks for one.
 */
static void test_dhcp_csum(void *obj, void *data, QGuestAllocator *alloc)
{
    TapArg *t = data;
    struct virtio_net_hdr_v1_hash classic;
    uint8_t frame[1024], got[1024];
    size_t len, hdrs;
    UsedElem used;
    Rig r;

    if (!tap_ready(t)) {
        return;
    }
    rig_init(&r, obj, alloc, t->inject[0]);
    len = rig_dhcp_partial_csum(frame, &hdrs);
    g_assert(!rig_udp4_csum_ok(frame));

    /* No ring: classic completes the checksum, the reference. */
    rig_post(&r, 1, BUF_SIZE);
    inject_partial_csum(&r, frame, len);
    rig_wait_used(&r, 1, &used);
    g_assert_cmpint(rig_read_classic(&r, &used, 1, &classic, got,
                                     sizeof(got)), ==, len);
    g_assert_cmphex(classic.hdr.flags, ==, 0);
    g_assert(rig_udp4_csum_ok(got));
    g_assert_cmpmem(got, RIG_DHCP_CSUM_OFF, frame, RIG_DHCP_CSUM_OFF);
    g_assert_cmpmem(got + RIG_DHCP_CSUM_OFF + 2, len - RIG_DHCP_CSUM_OFF - 2,
                    frame + RIG_DHCP_CSUM_OFF + 2, len - RIG_DHCP_CSUM_OFF - 2);

    /* UDPv4 masked: inline, the whole completed frame in the buffer. */
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_TCPV4);
    rig_post(&r, 1, BUF_SIZE);
    inject_partial_csum(&r, frame, len);
    rig_wait_used(&r, 1, &used);
    rig_check_slot_hdr(&r, 0, got, 0, 1, &classic);
    rig_check_data(&r, &used, 1, got, len, BUF_SIZE);
    g_assert_cmpint(rig_stat(&r, "inline-masked"), ==, 1);

    /* UDPv4 split: the completed UDP header in the slot. */
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, 1, BUF_SIZE);
    inject_partial_csum(&r, frame, len);
    rig_wait_used(&r, 1, &used);
    rig_check_slot_hdr(&r, 0, got, hdrs, 1, &classic);
    rig_check_data(&r, &used, 1, got + hdrs, len - hdrs, BUF_SIZE);
    g_assert_cmpint(rig_stat(&r, "split"), ==, 1);
    rig_assert_no_used(&r);
}

static void register_splithdr_tap_tests(void)
{
    QOSGraphTestOptions opts = {
        .before = tap_setup,
        .arg = GINT_TO_POINTER(1),
    };

    opts.edge.extra_device_opts = "split-hdr=on,id=vnet0,hash=on";
    qos_add_test("split-hdr/tap/hash-report", "virtio-net",
                 test_hash_report, &opts);
    qos_add_test("split-hdr/tap/hash-ah", "virtio-net", test_hash_ah, &opts);
    opts.edge.extra_device_opts = "split-hdr=on,id=vnet0";
    qos_add_test("split-hdr/tap/gso-tcp4", "virtio-net", test_gso_tcp4,
                 &opts);
    opts.before = tap_setup_inject;
    qos_add_test("split-hdr/tap/peer-flags", "virtio-net", test_peer_flags,
                 &opts);
    qos_add_test("split-hdr/tap/dhcp-csum", "virtio-net", test_dhcp_csum,
                 &opts);
    opts.before = tap_setup;
    opts.arg = GINT_TO_POINTER(2);
    opts.edge.extra_device_opts = "split-hdr=on,id=vnet0,mq=on,rss=on,"
                                  "hash=on";
    qos_add_test("split-hdr/tap/multiqueue", "virtio-net", test_multiqueue,
                 &opts);
}

libqos_init(register_splithdr_tap_tests);
