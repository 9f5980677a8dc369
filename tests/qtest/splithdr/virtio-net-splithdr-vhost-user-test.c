/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest testcase for split transport header receive with the project's
 * vhost-user backend, contrib/vhost-user-net-split, as an external process
 * (docs/specs/virtio-net-split-hdr.rst, section "vhost-user").
 *
 * The backend is started the way vhost-user-blk-test.c starts
 * qemu-storage-daemon: binary from SPLITHDR_VHOST_USER_NET_BINARY (the
 * tests are skipped without it), a listening socket created here and
 * passed as --fd, guest RAM in a shared memfd.  Its network side is one
 * end of a socketpair; the test sends frames into the other with the
 * same 4-byte length framing as the socket netdev of the other split-hdr
 * tests, and checks guest memory with the same rig checks, which state
 * what QEMU's in-process device writes for the same frames.  The slirp
 * and tap tests give the backend those sides instead: slirp answers the
 * frames the guest transmits; the tap is one the test created (as root),
 * with packet sockets on it to put frames in and take them out.
 */

#include "qemu/osdep.h"
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/if_packet.h>
#include "libqtest-single.h"
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qemu/module.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "standard-headers/linux/virtio_net.h"
#include "standard-headers/linux/virtio_ring.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "libqos/qgraph.h"
#include "libqos/virtio.h"
#include "libqos/virtio-pci.h"
#include "libqos/pci.h"
#include "libqos/virtio-net.h"
#include "virtio-net-splithdr-rig.h"

#define BACKEND_ENV "SPLITHDR_VHOST_USER_NET_BINARY"

/*
 * One backend process and the test's end of its network side: a
 * socketpair, or none (net -1) when @net_spec names another side.
 */
#define VHU_QUEUES_MAX 2

typedef struct VhuBackend {
    char *sock_path;
    pid_t pid;
    int net;                    /* qnet[0] */
    const char *net_spec;
    int queues;                 /* queue pairs, 0 meaning 1 */
    char *stats_file;           /* --stats-file, or NULL */
    int qnet[VHU_QUEUES_MAX];   /* stream side: the socket of each pair */
} VhuBackend;

/* A tap interface the test made for the backend's tap side. */
typedef struct VhuTap {
    char ifname[IFNAMSIZ];
    int queues;                 /* > 1: IFF_MULTI_QUEUE */
    char *spec;                 /* the backend's --net */
    char *skip;                 /* why a tap test cannot run, or NULL */
    int send;                   /* AF_PACKET: frames into the backend */
    int capture;                /* AF_PACKET, vnet header: frames out of it */
} VhuTap;

typedef struct VhuArg {
    TestArg t;                  /* sv[0]: the test's end of the network */
    VhuBackend b;
    VhuTap tap;
    int dev_net;                /* counters test: the in-process device's */
} VhuArg;

typedef struct VhuCase {
    const char *name;
    FrameSpec frame;
    bool split;
    size_t truncate;
} VhuCase;

/* The shapes the in-process tests check, split and inline alike. */
static const VhuCase vhu_cases[] = {
    { "tcp4-timestamps", { .l3 = L3_IP4, .l4 = 6, .tcp_opt_len = 12,
      .payload = 4096 }, true },
    { "udp4", { .l3 = L3_IP4, .l4 = 17, .payload = 1000 }, true },
    { "tcp6", { .l3 = L3_IP6, .l4 = 6, .payload = 1400 }, true },
    { "udp6", { .l3 = L3_IP6, .l4 = 17, .payload = 512 }, true },
    { "vlan", { .vlan_tags = 1, .l3 = L3_IP4, .l4 = 6, .payload = 700 },
      true },
    { "qinq", { .vlan_tags = 2, .l3 = L3_IP6, .l4 = 6, .payload = 700 },
      true },
    { "ip4-options", { .l3 = L3_IP4, .l4 = 6, .ip4_opt_len = 40,
      .payload = 300 }, true },
    { "ip6-ext-headers", { .l3 = L3_IP6, .l4 = 6, .ip6_ext = 1,
      .payload = 300 }, true },
    { "zero-payload", { .l3 = L3_IP4, .l4 = 6, .tcp_opt_len = 12 }, true },
    { "multi-buffer-64k", { .l3 = L3_IP4, .l4 = 6, .tcp_opt_len = 12,
      .payload = 65535 - 14 - 20 - 32 }, true },
    { "arp", { .l3 = L3_ARP, .payload = 28 }, false },
    { "icmp", { .l3 = L3_IP4, .l4 = 1, .payload = 56 }, false },
    { "ip4-fragment", { .l3 = L3_IP4, .l4 = 17, .payload = 200,
      .ip4_frag_field = 0x2000 }, false },
    { "ip6-fragment", { .l3 = L3_IP6, .l4 = 17, .ip6_frag = 1,
      .payload = 200 }, false },
    { "too-big-ip6-ext", { .l3 = L3_IP6, .l4 = 6, .ip6_ext = 1,
      .tcp_opt_len = 40, .payload = 200 }, false },
    { "truncated-tcp", { .l3 = L3_IP4, .l4 = 6 }, false, 14 + 20 + 10 },
    { "runt", { .l3 = L3_IP4, .l4 = 6 }, false, 10 },
};

/* Start a backend listening on @path, with a fresh socketpair. */
static void vhu_backend_start_at(VhuBackend *b, const char *path)
{
    const char *bin = g_getenv(BACKEND_ENV);
    g_autofree char *cmd = NULL;
    g_autofree char *net = NULL;
    int lfd, sv[2] = { -1, -1 }, far[VHU_QUEUES_MAX] = { -1, -1 }, i;

    b->sock_path = g_strdup(path);
    lfd = qtest_socket_server(b->sock_path);
    if (b->net_spec) {
        net = g_strdup_printf("--queues=%d --net=%s", MAX(b->queues, 1),
                              b->net_spec);
    } else if (b->queues > 1) {
        GString *spec = g_string_new("");

        g_assert_cmpint(b->queues, <=, VHU_QUEUES_MAX);
        g_string_printf(spec, "--queues=%d --net=stream", b->queues);
        for (i = 0; i < b->queues; i++) {
            g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
            b->qnet[i] = sv[0];
            far[i] = sv[1];
            g_string_append_printf(spec, ",fd=%d", sv[1]);
        }
        sv[0] = b->qnet[0];
        sv[1] = -1;
        net = g_string_free(spec, false);
    } else {
        g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
        net = g_strdup_printf("--net-fd=%d", sv[1]);
    }

    if (b->stats_file) {
        char *more = g_strdup_printf("%s --stats-file=%s", net,
                                     b->stats_file);

        g_free(net);
        net = more;
    }
    cmd = g_strdup_printf("exec %s --fd=%d %s", bin, lfd, net);
    g_test_message("starting vhost-user backend: %s", cmd);
    /* The child keeps only its ends of the network sockets. */
    b->pid = b->queues > 1 ? rig_spawn(cmd, b->qnet, b->queues)
                           : rig_spawn(cmd, &sv[0], sv[0] >= 0);
    close(lfd);
    if (sv[1] >= 0) {
        close(sv[1]);
    }
    for (i = 0; i < VHU_QUEUES_MAX; i++) {
        if (far[i] >= 0) {
            close(far[i]);
        }
    }
    b->net = sv[0];
}

/*
 * Start a backend on a fresh listening socket; returns the QEMU options
 * that connect a device's netdev hs0 to it (@chr_opts: more options of
 * its -chardev).
 */
static char *vhu_backend_start(VhuBackend *b, const char *chr_opts)
{
    g_autofree char *path = g_strdup_printf("%s/qtest-splithdr-vhu-%d."
                                            "XXXXXX", g_get_tmp_dir(),
                                            getpid());
    int tmp = mkstemp(path);

    g_assert_cmpint(tmp, >=, 0);
    close(tmp);
    unlink(path);
    vhu_backend_start_at(b, path);
    return g_strdup_printf(
        " -object memory-backend-memfd,id=mem,size=256M,share=on"
        " -M memory-backend=mem -m 256M"
        " -chardev socket,id=chrvu,path=%s%s"
        " -netdev vhost-user,id=hs0,chardev=chrvu,queues=%d ", b->sock_path,
        chr_opts, MAX(b->queues, 1));
}

/* SIGTERM ends the backend, cleanly; its QEMU must be gone already. */
static void vhu_backend_stop(VhuBackend *b)
{
    int status, i;

    kill(b->pid, SIGTERM);
    g_assert_cmpint(waitpid(b->pid, &status, 0), ==, b->pid);
    g_assert(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    if (b->net >= 0) {
        close(b->net);
    }
    for (i = 1; !b->net_spec && i < b->queues; i++) {
        close(b->qnet[i]);
    }
    unlink(b->sock_path);
    g_free(b->sock_path);
}

static void vhu_tap_delete(VhuTap *t);

/* On a failed assertion libqtest kills QEMU; the backend and tap go too. */
static void vhu_abort(void *opaque)
{
    VhuArg *a = opaque;

    kill(a->b.pid, SIGKILL);
    waitpid(a->b.pid, NULL, 0);         /* it holds the tap till then */
    vhu_tap_delete(&a->tap);
}

static void vhu_cleanup(void *opaque)
{
    VhuArg *a = opaque;

    qtest_remove_abrt_handler(a);

    /* QEMU first, so that the backend sees its front-end go. */
    qtest_kill_qemu(global_qtest);
    qos_invalidate_command_line();
    vhu_backend_stop(&a->b);
    vhu_tap_delete(&a->tap);
    if (a->dev_net >= 0) {
        close(a->dev_net);
    }
    if (a->b.stats_file) {
        unlink(a->b.stats_file);
        g_free(a->b.stats_file);
    }
    g_free(a);
}

static void *vhu_setup_arg(GString *cmd_line, void *arg, VhuArg *a,
                           const char *chr_opts, const char *net_spec)
{
    g_autofree char *opts = NULL;

    a->b.net_spec = net_spec;
    opts = vhu_backend_start(&a->b, chr_opts);

    a->t.data = arg;
    a->t.sv[0] = a->b.net;
    g_string_append(cmd_line, opts);
    qtest_add_abrt_handler(vhu_abort, a);
    g_test_queue_destroy(vhu_cleanup, a);
    return a;
}

static void *vhu_setup_net(GString *cmd_line, void *arg,
                           const char *chr_opts, const char *net_spec)
{
    VhuArg *a = g_new0(VhuArg, 1);

    a->tap.send = a->tap.capture = a->dev_net = -1;
    return vhu_setup_arg(cmd_line, arg, a, chr_opts, net_spec);
}

static void *vhu_setup_with(GString *cmd_line, void *arg,
                            const char *chr_opts)
{
    return vhu_setup_net(cmd_line, arg, chr_opts, NULL);
}

static void *vhu_setup(GString *cmd_line, void *arg)
{
    return vhu_setup_with(cmd_line, arg, "");
}

/* Two queue pairs, a socketpair each. */
static void *vhu_setup_mq(GString *cmd_line, void *arg)
{
    VhuArg *a = g_new0(VhuArg, 1);

    a->tap.send = a->tap.capture = a->dev_net = -1;
    a->b.queues = 2;
    return vhu_setup_arg(cmd_line, arg, a, "", NULL);
}

/*
 * The backend with --stats-file, and beside its device a second one,
 * in-process (QEMU's own split-hdr receive) on a socket netdev.
 */
static void *vhu_setup_counters(GString *cmd_line, void *arg)
{
    VhuArg *a = g_new0(VhuArg, 1);
    int sv[2];

    a->tap.send = a->tap.capture = -1;
    a->b.stats_file = g_strdup_printf("%s/splithdr-vhu-stats-%d.json",
                                      g_get_tmp_dir(), getpid());
    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    a->dev_net = sv[0];
    g_string_append_printf(cmd_line, " -netdev socket,fd=%d,id=hs1"
                           " -device virtio-net-pci,netdev=hs1,"
                           "split-hdr=on,id=vnet1,addr=05.0 ", sv[1]);
    return vhu_setup_arg(cmd_line, arg, a, "", NULL);
}

/* The backend's network side is libslirp (-netdev user's network). */
static void *vhu_setup_slirp(GString *cmd_line, void *arg)
{
    return vhu_setup_net(cmd_line, arg, "", "slirp");
}

/* QEMU reconnects to the socket path when its backend went away. */
static void *vhu_setup_reconnect(GString *cmd_line, void *arg)
{
    return vhu_setup_with(cmd_line, arg, ",reconnect-ms=100");
}

static void vhu_init(Rig *r, void *obj, QGuestAllocator *alloc, void *data)
{
    VhuArg *a = data;

    rig_init(r, obj, alloc, a->t.sv[0]);
    /* The backend announced the protocol feature: bit 58 passed. */
    g_assert(r->vdev->features &
             (1ull << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER));
}

static size_t vhu_frame(const VhuCase *c, uint8_t *frame, size_t *hdr_len)
{
    size_t hdrs, len = rig_build_frame(&c->frame, frame, &hdrs);

    *hdr_len = c->split ? hdrs : 0;
    return c->truncate ? c->truncate : len;
}

/* Buffers a packet takes on a queue with a ring. */
static int vhu_bufs(size_t len, size_t hdr_len)
{
    return len > hdr_len ? DIV_ROUND_UP(len - hdr_len, BUF_SIZE) : 1;
}

/*
 * Every shape, one after another on one ring: slot k, seq k, the split
 * or inline layout, the payload from offset 0 of the buffers.
 */
static void test_vhu_packets(void *obj, void *data, QGuestAllocator *alloc)
{
    g_autofree uint8_t *frame = g_malloc0(65536 + 64);
    uint32_t k;
    Rig r;

    vhu_init(&r, obj, alloc, data);
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, NUM_BUFS, BUF_SIZE);
    for (k = 0; k < ARRAY_SIZE(vhu_cases); k++) {
        size_t hdr_len, len = vhu_frame(&vhu_cases[k], frame, &hdr_len);

        g_test_message("packet %u: %s", k, vhu_cases[k].name);
        rig_expect_packet(&r, k, frame, len, hdr_len);
        rig_post(&r, vhu_bufs(len, hdr_len), BUF_SIZE);
    }
}

/* Feature negotiated, no SET: the classic mergeable layout. */
static void test_vhu_classic(void *obj, void *data, QGuestAllocator *alloc)
{
    g_autofree uint8_t *frame = g_malloc0(4096);
    size_t hdr_len, len;
    Rig r;

    vhu_init(&r, obj, alloc, data);
    len = vhu_frame(&vhu_cases[1], frame, &hdr_len);       /* udp4 */
    rig_expect_classic(&r, frame, len);
    len = vhu_frame(&vhu_cases[10], frame, &hdr_len);      /* arp */
    rig_expect_classic(&r, frame, len);
}

/*
 * QEMU still validates SET; the backend refuses a SET while the queue
 * holds buffers (the empty-queue rule is its own while it runs the
 * queue), and the guest gets VIRTIO_NET_ERR either way.
 */
static void test_vhu_ctrl(void *obj, void *data, QGuestAllocator *alloc)
{
    uint64_t ring = QEMU_ALIGN_UP(guest_alloc(alloc, 128 * RX_QSIZE + 64),
                                  64);
    g_autofree uint8_t *frame = g_malloc0(4096);
    size_t hdr_len, len;
    Rig r;

    vhu_init(&r, obj, alloc, data);
    g_assert_cmpint(rig_set_raw(&r, 0, 100, RX_QSIZE, 0xf, 0, ring), ==,
                    VIRTIO_NET_ERR);
    g_assert_cmpint(rig_set_raw(&r, 1, 128, RX_QSIZE, 0xf, 0, ring), ==,
                    VIRTIO_NET_ERR);
    rig_post(&r, 1, BUF_SIZE);
    g_assert_cmpint(rig_set_raw(&r, 0, 128, RX_QSIZE, 0xf, 0, ring), ==,
                    VIRTIO_NET_ERR);
    /* The queue is classic still, and empty after this packet: SET now. */
    len = vhu_frame(&vhu_cases[1], frame, &hdr_len);
    {
        UsedElem used;

        rig_send(&r, frame, len);
        rig_wait_used(&r, 1, &used);
        g_assert_cmpint(used.len, ==, VHDR_LEN + len);
    }
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, NUM_BUFS - 1, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdr_len);
}

/*
 * stop/cont stops and starts the backend: QEMU fetches k after
 * GET_VRING_BASE and pushes ring and k before SET_VRING_KICK, so the next
 * packet goes on in slot k with seq k.
 */
static void test_vhu_stop_cont(void *obj, void *data,
                               QGuestAllocator *alloc)
{
    g_autofree uint8_t *frame = g_malloc0(4096);
    size_t hdr_len, len = vhu_frame(&vhu_cases[1], frame, &hdr_len);
    QDict *rsp;
    uint32_t k;
    Rig r;

    vhu_init(&r, obj, alloc, data);
    rig_set_ring(&r, 64, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, NUM_BUFS, BUF_SIZE);
    for (k = 0; k < 6; k++) {
        if (k == 3) {
            rsp = qmp("{'execute': 'stop'}");
            qobject_unref(rsp);
            rsp = qmp("{'execute': 'cont'}");
            qobject_unref(rsp);
        }
        frame[hdr_len] = k;
        rig_expect_packet(&r, k, frame, len, hdr_len);
    }
    g_assert_cmpint(rig_stat(&r, "k"), ==, 3);
}

/* Transmit: the backend drops the virtio header and sends one record. */
static void test_vhu_tx(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtQueue *txq;
    g_autofree uint8_t *frame = g_malloc0(4096);
    g_autofree uint8_t *got = g_malloc0(4096);
    size_t hdr_len, len = vhu_frame(&vhu_cases[2], frame, &hdr_len);
    uint64_t addr;
    uint32_t head, be;
    Rig r;

    vhu_init(&r, obj, alloc, data);
    txq = r.net->queues[1];
    addr = guest_alloc(alloc, VHDR_LEN + len);
    rig_fill(&r, addr, VHDR_LEN, 0);
    qtest_memwrite(r.qts, addr + VHDR_LEN, frame, len);
    head = qvirtqueue_add(r.qts, txq, addr, VHDR_LEN + len, false, false);
    qvirtqueue_kick(r.qts, r.vdev, txq, head);
    qvirtio_wait_used_elem(r.qts, r.vdev, txq, head, NULL, TIMEOUT_US);

    g_assert_cmpint(recv(r.sock, &be, sizeof(be), MSG_WAITALL), ==,
                    sizeof(be));
    g_assert_cmpint(ntohl(be), ==, len);
    g_assert_cmpint(recv(r.sock, got, len, MSG_WAITALL), ==, len);
    g_assert_cmpmem(got, len, frame, len);
}

/*
 * Device reset clears the rings: QEMU forgets them and the next start
 * tells the backend (SET_RING with ring_addr 0), so a driver that does
 * not SET again gets the classic layout; one that does starts at k 0.
 */
static void test_vhu_reset(void *obj, void *data, QGuestAllocator *alloc)
{
    g_autofree uint8_t *frame = g_malloc0(4096);
    size_t hdr_len, len = vhu_frame(&vhu_cases[1], frame, &hdr_len);
    Rig r;

    vhu_init(&r, obj, alloc, data);
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, 2, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdr_len);
    rig_expect_packet(&r, 1, frame, len, hdr_len);

    rig_device_reset(&r);
    rig_device_init(&r);
    rig_expect_classic(&r, frame, len);

    rig_device_reset(&r);
    rig_device_init(&r);
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, 1, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdr_len);
}

/*
 * A receive buffer outside guest RAM: the backend finds it in no region
 * of the memory table, delivers nothing and breaks the device, and lives
 * on (the cleanup checks that SIGTERM still ends it with status 0).
 */
static void test_vhu_bad_buffer(void *obj, void *data,
                                QGuestAllocator *alloc)
{
    g_autofree uint8_t *frame = g_malloc0(4096);
    size_t hdr_len, len = vhu_frame(&vhu_cases[1], frame, &hdr_len);
    Rig r;

    vhu_init(&r, obj, alloc, data);
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_write_desc(&r, 0, 1ull << 46, BUF_SIZE, VRING_DESC_F_WRITE, 0);
    rig_avail(&r, 0);
    rig_kick(&r, r.rxq);
    rig_send(&r, frame, len);
    rig_assert_no_used_backend(&r);
    rig_assert_filled(&r, r.ring, 128, 0xdd);
}

static void wait_migration(QTestState *qts)
{
    gint64 start = g_get_monotonic_time();

    for (;;) {
        QDict *rsp = qtest_qmp(qts, "{'execute': 'query-migrate'}");
        const char *st = qdict_get_try_str(qdict_get_qdict(rsp, "return"),
                                           "status");
        bool done = st && (!strcmp(st, "completed") ||
                           !strcmp(st, "failed"));

        if (done) {
            g_assert_cmpstr(st, ==, "completed");
        }
        qobject_unref(rsp);
        if (done) {
            return;
        }
        g_assert(g_get_monotonic_time() - start < TIMEOUT_US);
        g_usleep(10000);
    }
}

/*
 * Migration to a fresh QEMU with a fresh backend: the source fetches k
 * when it stops, the vmstate subsection carries ring and k, and the
 * destination pushes both into its backend before the vrings start, so
 * the first packet there lands in slot k with seq k.
 */
static void test_vhu_migrate(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioPCIDevice *pdev = container_of(((QVirtioNet *)obj)->vdev,
                                          QVirtioPCIDevice, vdev);
    g_autofree uint8_t *frame = g_malloc0(4096);
    size_t hdr_len, len = vhu_frame(&vhu_cases[2], frame, &hdr_len);
    g_autofree char *path = g_strdup_printf("%s/splithdr-vhu-mig-XXXXXX",
                                            g_get_tmp_dir());
    g_autofree char *uri = NULL, *opts = NULL, *dest = NULL;
    QTestState *src, *to;
    VhuBackend b2 = { 0 };
    QDict *rsp;
    uint32_t k;
    int fd;
    Rig r;

    fd = g_mkstemp(path);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    uri = g_strdup_printf("file:%s", path);

    vhu_init(&r, obj, alloc, data);
    src = r.qts;
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, 8, BUF_SIZE);
    for (k = 0; k < 5; k++) {
        rig_expect_packet(&r, k, frame, len, hdr_len);
    }
    rsp = qtest_qmp(src, "{'execute': 'migrate', 'arguments': "
                    "{'uri': %s}}", uri);
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    wait_migration(src);

    opts = vhu_backend_start(&b2, "");
    dest = g_strdup_printf("%s %s -incoming defer",
                           qos_get_current_command_line(), opts);
    to = qtest_init(dest);
    rsp = qtest_qmp(to, "{'execute': 'migrate-incoming', "
                    "'arguments': {'uri': %s}}", uri);
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    wait_migration(to);
    qtest_qmp_eventwait(to, "RESUME");

    /* Drive the destination: same guest memory, same queue state. */
    r.qts = to;
    r.sock = b2.net;
    pdev->pdev->bus->qts = to;
    g_assert_cmpint(rig_stat(&r, "k"), ==, 5);
    frame[hdr_len] ^= 0xff;
    rig_expect_packet(&r, 5, frame, len, hdr_len);
    rig_expect_packet(&r, 6, frame, len, hdr_len);

    pdev->pdev->bus->qts = src;
    qtest_quit(to);
    vhu_backend_stop(&b2);
    unlink(path);
}

/*
 * A backend replaced while the guest is stopped: QEMU fetched k when it
 * stopped the old one, reconnects to the new one on the same socket path
 * and, at cont, pushes ring and k into it: slot k, seq k go on.
 */
static void test_vhu_reconnect(void *obj, void *data,
                               QGuestAllocator *alloc)
{
    VhuArg *a = data;
    g_autofree uint8_t *frame = g_malloc0(4096);
    g_autofree char *path = g_strdup(a->b.sock_path);
    size_t hdr_len, len = vhu_frame(&vhu_cases[3], frame, &hdr_len);
    QDict *rsp;
    uint32_t k;
    Rig r;

    vhu_init(&r, obj, alloc, data);
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, 8, BUF_SIZE);
    for (k = 0; k < 3; k++) {
        rig_expect_packet(&r, k, frame, len, hdr_len);
    }
    rsp = qmp("{'execute': 'stop'}");
    qobject_unref(rsp);

    vhu_backend_stop(&a->b);
    vhu_backend_start_at(&a->b, path);
    r.sock = a->b.net;
    /* The new backend hears from QEMU once it reconnected. */
    qtest_qmp_eventwait(r.qts, "NETDEV_VHOST_USER_CONNECTED");

    rsp = qmp("{'execute': 'cont'}");
    qobject_unref(rsp);
    frame[hdr_len] ^= 0xff;
    rig_expect_packet(&r, 3, frame, len, hdr_len);
    rig_expect_packet(&r, 4, frame, len, hdr_len);
}

/* The guest transmits @frame behind virtio header @vh on its tx queue. */
static void vhu_transmit_hdr(Rig *r, const struct virtio_net_hdr_mrg_rxbuf *vh,
                             const uint8_t *frame, size_t len)
{
    QVirtQueue *txq = r->net->queues[2 * r->rq + 1];
    uint64_t addr = guest_alloc(r->alloc, VHDR_LEN + len);
    uint32_t head;

    qtest_memwrite(r->qts, addr, vh, VHDR_LEN);
    qtest_memwrite(r->qts, addr + VHDR_LEN, frame, len);
    head = qvirtqueue_add(r->qts, txq, addr, VHDR_LEN + len, false, false);
    qvirtqueue_kick(r->qts, r->vdev, txq, head);
    qvirtio_wait_used_elem(r->qts, r->vdev, txq, head, NULL, TIMEOUT_US);
    guest_free(r->alloc, addr);
}

static void vhu_transmit(Rig *r, const uint8_t *frame, size_t len)
{
    struct virtio_net_hdr_mrg_rxbuf vh = { 0 };

    vhu_transmit_hdr(r, &vh, frame, len);
}

static const uint8_t vhu_guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* Ethernet header from the guest's MAC to broadcast. */
static size_t vhu_eth_bcast(uint8_t *f, uint16_t type)
{
    memset(f, 0xff, 6);
    memcpy(f + 6, vhu_guest_mac, 6);
    rig_put16(f + 12, type);
    return 14;
}

static uint16_t vhu_ip_csum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    size_t i;

    for (i = 0; i < len; i += 2) {
        sum += p[i] << 8 | p[i + 1];
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum;
}

#define BOOTP_LEN 548          /* fixed part + 312 bytes of options */
#define DHCP_XID 0x5eed1234

/* DHCPDISCOVER from 0.0.0.0:68 to 255.255.255.255:67. */
static size_t vhu_dhcp_discover(uint8_t *f)
{
    size_t eth = vhu_eth_bcast(f, ETH_P_IP);
    uint8_t *ip = f + eth, *udp = ip + 20, *bp = udp + 8;
    static const uint8_t opts[] = { 0x63, 0x82, 0x53, 0x63, 53, 1, 1, 255 };

    memset(ip, 0, 20 + 8 + BOOTP_LEN);
    ip[0] = 0x45;
    rig_put16(ip + 2, 20 + 8 + BOOTP_LEN);
    ip[8] = 64;
    ip[9] = 17;
    memset(ip + 16, 0xff, 4);
    rig_put16(ip + 10, vhu_ip_csum(ip, 20));
    rig_put16(udp, 68);
    rig_put16(udp + 2, 67);
    rig_put16(udp + 4, 8 + BOOTP_LEN);
    bp[0] = 1;                          /* BOOTREQUEST */
    bp[1] = 1;
    bp[2] = 6;
    stl_be_p(bp + 4, DHCP_XID);
    memcpy(bp + 28, vhu_guest_mac, 6);
    memcpy(bp + 236, opts, sizeof(opts));
    return eth + 20 + 8 + BOOTP_LEN;
}

/* ARP request: who has @tpa?  From 10.0.2.15. */
static size_t vhu_arp_request(uint8_t *f, const uint8_t *tpa)
{
    static const uint8_t spa[4] = { 10, 0, 2, 15 };
    size_t eth = vhu_eth_bcast(f, ETH_P_ARP);
    uint8_t *a = f + eth;

    memset(a, 0, 28);
    rig_put16(a, 1);
    rig_put16(a + 2, ETH_P_IP);
    a[4] = 6;
    a[5] = 4;
    rig_put16(a + 6, 1);
    memcpy(a + 8, vhu_guest_mac, 6);
    memcpy(a + 14, spa, 4);
    memcpy(a + 24, tpa, 4);
    return eth + 28;
}

/*
 * slirp through the backend, no guest kernel: the guest's DHCPDISCOVER
 * gets slirp's DHCPOFFER, split (UDP/IPv4: Ethernet, IP and UDP headers
 * in slot 0, the BOOTP message from offset 0 of a buffer); its ARP
 * request for the host gets the ARP reply, inline in slot 1's packet.
 */
static void test_vhu_slirp(void *obj, void *data, QGuestAllocator *alloc)
{
    static const uint8_t host[4] = { 10, 0, 2, 2 };
    static const uint8_t offered[4] = { 10, 0, 2, 15 };
    static const uint8_t offer_opt[3] = { 53, 1, 2 };
    uint8_t frame[1024], slot[128], bootp[BOOTP_LEN], arp[64];
    const uint8_t *vh = slot + PREFIX, *hdrs = slot + PREFIX + VHDR_LEN;
    UsedElem used;
    Rig r;

    vhu_init(&r, obj, alloc, data);
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, NUM_BUFS, BUF_SIZE);

    vhu_transmit(&r, frame, vhu_dhcp_discover(frame));
    rig_wait_used(&r, 1, &used);
    rig_read_slot(&r, 0, slot);
    g_assert_cmpint(lduw_le_p(slot), ==, 0);                     /* seq */
    g_assert_cmphex(vh[0], ==, VIRTIO_NET_HDR_F_SPLIT_TRANSPORT_HEADER);
    g_assert_cmpint(lduw_le_p(vh + 2), ==, 14 + 20 + 8);         /* hdr_len */
    g_assert_cmpint(lduw_le_p(vh + 10), ==, 1);              /* num_buffers */
    g_assert_cmpint(lduw_be_p(hdrs + 12), ==, ETH_P_IP);
    g_assert_cmpmem(hdrs + 6, 4, "\x52\x55\x0a\x00", 4);   /* slirp's MAC */
    g_assert_cmpint(hdrs[14 + 9], ==, 17);
    g_assert_cmpint(lduw_be_p(hdrs + 34), ==, 67);
    g_assert_cmpint(lduw_be_p(hdrs + 36), ==, 68);
    g_assert_cmpint(used.len, ==, lduw_be_p(hdrs + 38) - 8);
    g_assert_cmpint(used.len, >=, 240 + sizeof(offer_opt));
    qtest_memread(r.qts, r.bufs[used.id], bootp, MIN(used.len, BOOTP_LEN));
    g_assert_cmpint(bootp[0], ==, 2);                       /* BOOTREPLY */
    g_assert_cmphex(ldl_be_p(bootp + 4), ==, DHCP_XID);
    g_assert_cmpmem(bootp + 16, 4, offered, 4);                /* yiaddr */
    g_assert_cmpmem(bootp + 28, 6, vhu_guest_mac, 6);
    g_assert_cmphex(ldl_be_p(bootp + 236), ==, 0x63825363);
    g_assert_cmpmem(bootp + 240, 3, offer_opt, 3);          /* DHCPOFFER */

    vhu_transmit(&r, frame, vhu_arp_request(frame, host));
    rig_wait_used(&r, 1, &used);
    rig_read_slot(&r, 1, slot);
    g_assert_cmpint(lduw_le_p(slot), ==, 1);
    g_assert_cmphex(vh[0], ==, 0);                      /* inline: no ARP */
    g_assert_cmpint(lduw_le_p(vh + 2), ==, 0);
    g_assert_cmpint(lduw_le_p(vh + 10), ==, 1);
    g_assert_cmpint(used.len, >=, 42);
    g_assert_cmpint(used.len, <=, sizeof(arp));
    qtest_memread(r.qts, r.bufs[used.id], arp, used.len);
    g_assert_cmpmem(arp, 6, vhu_guest_mac, 6);
    g_assert_cmpint(lduw_be_p(arp + 12), ==, ETH_P_ARP);
    g_assert_cmpint(lduw_be_p(arp + 14 + 6), ==, 2);            /* reply */
    g_assert_cmpmem(arp + 14 + 14, 4, host, 4);                   /* spa */
    g_assert_cmpmem(arp + 14 + 24, 4, offered, 4);                /* tpa */
}

/* ---- tap ----------------------------------------------------------------- */

#define VHU_TAP_FLAGS (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)

static int vhu_tap_persist(VhuTap *t, int on)
{
    struct ifreq ifr = {
        .ifr_flags = VHU_TAP_FLAGS | (t->queues > 1 ? IFF_MULTI_QUEUE : 0),
    };
    const char *ifname = t->ifname;
    int fd = open("/dev/net/tun", O_RDWR), ret;

    if (fd < 0) {
        return -1;
    }
    pstrcpy(ifr.ifr_name, IFNAMSIZ, ifname);
    ret = ioctl(fd, TUNSETIFF, &ifr) < 0 ? -1 : ioctl(fd, TUNSETPERSIST, on);
    close(fd);
    return ret;
}

static void vhu_tap_delete(VhuTap *t)
{
    if (t->send >= 0) {
        close(t->send);
    }
    if (t->capture >= 0) {
        close(t->capture);
    }
    if (t->ifname[0]) {
        vhu_tap_persist(t, 0);
    }
    g_free(t->spec);
    g_free(t->skip);
    memset(t, 0, sizeof(*t));
    t->send = t->capture = -1;
}

/*
 * A persistent tap, quiet (no address, IPv6 off: the host sends nothing
 * of its own) and up, and two packet sockets on it.  Returns why not.
 */
static char *vhu_tap_create(VhuTap *t)
{
    static unsigned int count;
    char *why;

    if (geteuid() != 0) {
        return g_strdup("needs root to create a tap interface");
    }
    snprintf(t->ifname, sizeof(t->ifname), "shvu%d_%u", (int)getpid(),
             count++);
    if (vhu_tap_persist(t, 1) < 0) {
        why = g_strdup_printf("cannot create tap %s: %s", t->ifname,
                              strerror(errno));
        t->ifname[0] = 0;
        return why;
    }
    /* Room for the 64 KiB frames of vhu_cases: a tap's largest MTU. */
    why = rig_netif_quiet_up(t->ifname, 65535 - 14);
    if (why) {
        return why;
    }
    /* Protocol 0: the sending socket never queues what it sees. */
    t->send = rig_packet_socket(t->ifname, 0, false);
    t->capture = rig_packet_socket(t->ifname, htons(ETH_P_ALL), true);
    if (t->send < 0 || t->capture < 0) {
        return g_strdup_printf("no packet sockets on %s", t->ifname);
    }
    return NULL;
}

/* The backend's network side is a tap that the test made. */
static void *vhu_setup_tap_queues(GString *cmd_line, void *arg, int queues,
                                  const char *more)
{
    VhuArg *a = g_new0(VhuArg, 1);

    a->tap.send = a->tap.capture = a->dev_net = -1;
    a->tap.queues = queues;
    a->tap.skip = vhu_tap_create(&a->tap);
    if (!a->tap.skip) {
        a->tap.spec = g_strdup_printf("tap,ifname=%s%s", a->tap.ifname,
                                      more);
        a->b.queues = queues;
    }
    /* Without a tap the backend runs on a socketpair; the test skips. */
    return vhu_setup_arg(cmd_line, arg, a, "", a->tap.spec);
}

static void *vhu_setup_tap(GString *cmd_line, void *arg)
{
    return vhu_setup_tap_queues(cmd_line, arg, 1, "");
}

/* The same, on the plain read() path of kernels without multishot reads. */
static void *vhu_setup_tap_plain(GString *cmd_line, void *arg)
{
    return vhu_setup_tap_queues(cmd_line, arg, 1, ",multishot=off");
}

static void *vhu_setup_tap_mq(GString *cmd_line, void *arg)
{
    return vhu_setup_tap_queues(cmd_line, arg, 2, "");
}

static bool vhu_tap_ready(VhuArg *a)
{
    if (a->tap.skip) {
        g_test_skip(a->tap.skip);
        return false;
    }
    return true;
}

/*
 * Frames into the tap reach the guest as the device places them: every
 * shape through the tap, its (zero) vnet header taken off, each split or
 * inline in slot k as with the stream side.
 */
static void test_vhu_tap_rx(void *obj, void *data, QGuestAllocator *alloc)
{
    VhuArg *a = data;
    g_autofree uint8_t *frame = g_malloc0(65536 + 64);
    uint32_t i, k = 0;
    Rig r;

    if (!vhu_tap_ready(a)) {
        return;
    }
    vhu_init(&r, obj, alloc, data);
    r.sock = a->tap.send;
    r.sock_dgram = true;
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, NUM_BUFS, BUF_SIZE);
    for (i = 0; i < ARRAY_SIZE(vhu_cases); i++) {
        size_t hdr_len, len = vhu_frame(&vhu_cases[i], frame, &hdr_len);

        if (len < 14) {
            continue;                   /* a packet socket refuses runts */
        }
        g_test_message("packet %u: %s", k, vhu_cases[i].name);
        rig_expect_packet(&r, k++, frame, len, hdr_len);
        rig_post(&r, vhu_bufs(len, hdr_len), BUF_SIZE);
    }
}

/*
 * A DHCP reply whose UDP checksum the host left partial comes out of the
 * tap with NEEDS_CSUM, and the backend completes it as the device does
 * (split-hdr/tap/dhcp-csum has why): classic, inline and split, the
 * guest gets the same completed bytes under a header without NEEDS_CSUM.
 */
static void test_vhu_tap_dhcp_csum(void *obj, void *data,
                                   QGuestAllocator *alloc)
{
    VhuArg *a = data;
    /* Host byte order: the socket's header follows legacy virtio rules. */
    struct virtio_net_hdr vh = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .csum_start = 14 + 20,
        .csum_offset = 6,
    };
    struct virtio_net_hdr_v1_hash classic;
    uint8_t frame[1024], got[1024];
    struct iovec iov[] = {
        { .iov_base = &vh, .iov_len = sizeof(vh) },
        { .iov_base = frame },
    };
    size_t len, hdrs;
    UsedElem used;
    int vnet, step;
    Rig r;

    if (!vhu_tap_ready(a)) {
        return;
    }
    vhu_init(&r, obj, alloc, data);
    /* Else the host completes the checksum before the tap. */
    g_assert(r.vdev->features & (1ull << VIRTIO_NET_F_GUEST_CSUM));
    vnet = rig_packet_socket(a->tap.ifname, 0, true);
    g_assert_cmpint(vnet, >=, 0);
    len = rig_dhcp_partial_csum(frame, &hdrs);
    iov[1].iov_len = len;
    g_assert(!rig_udp4_csum_ok(frame));

    for (step = 0; step < 3; step++) {
        if (step == 1) {            /* UDPv4 masked: inline */
            rig_set_ring(&r, 128, RX_QSIZE,
                         VIRTIO_NET_SPLIT_HDR_PROTO_TCPV4);
        } else if (step == 2) {     /* split */
            rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
        }
        rig_post(&r, 1, BUF_SIZE);
        g_assert_cmpint(writev(vnet, iov, 2), ==, sizeof(vh) + len);
        rig_wait_used(&r, 1, &used);
        if (step == 0) {            /* no ring: the reference */
            g_assert_cmpint(rig_read_classic(&r, &used, 1, &classic, got,
                                             sizeof(got)), ==, len);
            g_assert_cmphex(classic.hdr.flags, ==, 0);
            g_assert(rig_udp4_csum_ok(got));
            g_assert_cmpmem(got, RIG_DHCP_CSUM_OFF, frame,
                            RIG_DHCP_CSUM_OFF);
        } else {
            size_t h = step == 1 ? 0 : hdrs;

            /* The slot tells inline from split: no --stats-file here. */
            rig_check_slot_hdr(&r, 0, got, h, 1, &classic);
            rig_check_data(&r, &used, 1, got + h, len - h, BUF_SIZE);
        }
    }
    close(vnet);
}

/* The next frame that came out of the tap: its vnet header and bytes. */
static size_t vhu_tap_capture(VhuTap *t, struct virtio_net_hdr *vh,
                              uint8_t *buf, size_t max)
{
    gint64 start = g_get_monotonic_time();

    for (;;) {
        struct sockaddr_ll from;
        socklen_t fromlen = sizeof(from);
        struct iovec iov[] = {
            { .iov_base = vh, .iov_len = sizeof(*vh) },
            { .iov_base = buf, .iov_len = max },
        };
        struct msghdr msg = {
            .msg_name = &from, .msg_namelen = fromlen,
            .msg_iov = iov, .msg_iovlen = 2,
        };
        ssize_t n = recvmsg(t->capture, &msg, MSG_DONTWAIT);

        if (n >= (ssize_t)sizeof(*vh) && from.sll_pkttype != PACKET_OUTGOING) {
            return n - sizeof(*vh);
        }
        g_assert(n >= 0 || errno == EAGAIN);
        g_assert(g_get_monotonic_time() - start < TIMEOUT_US);
        g_usleep(1000);
    }
}

/*
 * A TSO packet the guest transmits comes out of the tap as one GSO
 * frame with the guest's header honoured: the tap took its gso_type,
 * gso_size and checksum request, the bytes are the guest's.
 */
static void test_vhu_tap_tx(void *obj, void *data, QGuestAllocator *alloc)
{
    VhuArg *a = data;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 6, .tcp_opt_len = 12,
                       .payload = 3000 };
    g_autofree uint8_t *frame = g_malloc0(8192);
    g_autofree uint8_t *got = g_malloc0(8192);
    struct virtio_net_hdr_mrg_rxbuf vh = { 0 };
    struct virtio_net_hdr out;
    size_t hdrs, len, n;
    Rig r;

    if (!vhu_tap_ready(a)) {
        return;
    }
    vhu_init(&r, obj, alloc, data);
    len = rig_build_frame(&spec, frame, &hdrs);
    vh.hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vh.hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    vh.hdr.hdr_len = cpu_to_le16(hdrs);
    vh.hdr.gso_size = cpu_to_le16(1000);
    vh.hdr.csum_start = cpu_to_le16(14 + 20);
    vh.hdr.csum_offset = cpu_to_le16(16);
    vhu_transmit_hdr(&r, &vh, frame, len);

    n = vhu_tap_capture(&a->tap, &out, got, 8192);
    g_assert_cmpint(n, ==, len);
    g_assert_cmpmem(got, n, frame, len);
    g_assert_cmpint(out.gso_type, ==, VIRTIO_NET_HDR_GSO_TCPV4);
    g_assert_cmpint(out.gso_size, ==, 1000);
    g_assert_cmphex(out.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM, ==,
                    VIRTIO_NET_HDR_F_NEEDS_CSUM);
    g_assert_cmpint(out.csum_start, ==, 14 + 20);
    g_assert_cmpint(out.csum_offset, ==, 16);
}

/*
 * Two queue pairs (VHOST_USER_PROTOCOL_F_MQ), each with its own socket
 * on the network side: each receive queue has its own ring (different
 * slot sizes and counts) and its own k, packets alternate between them,
 * and what the guest transmits on pair 1 leaves through pair 1's socket.
 */
static void test_vhu_mq(void *obj, void *data, QGuestAllocator *alloc)
{
    VhuArg *a = data;
    QVirtioNet *net = obj;
    g_autofree uint8_t *frame = g_malloc0(4096);
    g_autofree uint8_t *got = g_malloc0(4096);
    size_t hdr_len, len = vhu_frame(&vhu_cases[1], frame, &hdr_len);
    uint32_t k[2] = { 0, 0 }, be;
    Rig r[2];
    int i, q;

    g_assert(net->vdev->features & (1ull << VIRTIO_NET_F_MQ));
    g_assert_cmpint(net->n_queues, ==, 5);
    for (q = 0; q < 2; q++) {
        rig_init_queue(&r[q], obj, alloc, a->b.qnet[q], q);
    }
    rig_set_ring(&r[0], 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_set_ring(&r[1], 256, 2 * RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    g_assert_cmpint(rig_mq_pairs_set(&r[0], 2), ==, VIRTIO_NET_OK);
    rig_post(&r[0], NUM_BUFS, BUF_SIZE);
    rig_post(&r[1], NUM_BUFS, BUF_SIZE);
    for (i = 0; i < 7; i++) {
        q = i % 3 == 2;                 /* 0 0 1 0 0 1 0 */
        frame[hdr_len] = i;
        rig_expect_packet(&r[q], k[q]++, frame, len, hdr_len);
    }
    g_assert_cmpint(k[0], ==, 5);
    g_assert_cmpint(k[1], ==, 2);
    rig_assert_no_used(&r[0]);
    rig_assert_no_used(&r[1]);

    vhu_transmit(&r[1], frame, len);
    g_assert_cmpint(recv(a->b.qnet[1], &be, sizeof(be), MSG_WAITALL), ==,
                    sizeof(be));
    g_assert_cmpint(ntohl(be), ==, len);
    g_assert_cmpint(recv(a->b.qnet[1], got, len, MSG_WAITALL), ==, len);
    g_assert_cmpmem(got, len, frame, len);
    g_assert_cmpint(recv(a->b.qnet[0], &be, sizeof(be), MSG_DONTWAIT), ==,
                    -1);
}

/* The backend's counters: SIGUSR1 rewrites its --stats-file. */
static QList *vhu_backend_stats(VhuBackend *b)
{
    gint64 start = g_get_monotonic_time();
    g_autofree char *json = NULL;

    unlink(b->stats_file);
    kill(b->pid, SIGUSR1);
    /* Renamed into place whole: once it exists, it is complete. */
    while (!g_file_get_contents(b->stats_file, &json, NULL, NULL)) {
        g_assert(g_get_monotonic_time() - start < TIMEOUT_US);
        g_usleep(1000);
    }
    return qobject_to(QList, qobject_from_json(json, &error_abort));
}

/* The in-process device vnet1's split-hdr-stats. */
static QList *vhu_device_stats(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': {"
                           "'path': '/machine/peripheral/vnet1/"
                           "virtio-backend', 'property': 'split-hdr-stats'}}");
    QList *l = qdict_get_qlist(rsp, "return");

    qobject_ref(l);
    qobject_unref(rsp);
    return l;
}

/* Counter @name of the backend's receive queue 0. */
static int64_t vhu_backend_stat(VhuBackend *b, const char *name)
{
    QList *l = vhu_backend_stats(b);
    int64_t v = qdict_get_int(qobject_to(QDict, qlist_peek(l)), name);

    qobject_unref(l);
    return v;
}

/*
 * The second device of the counters setup, vnet1 (in-process), driven as
 * libqos drives the first; @r2 its Rig.  Free with vhu_second_free().
 */
static QVirtioNet *vhu_second_init(QVirtioNet *net, QGuestAllocator *alloc,
                                   VhuArg *a, Rig *r2)
{
    QVirtioPCIDevice *pdev = container_of(net->vdev, QVirtioPCIDevice, vdev);
    QVirtioPCIDevice *pdev2 = g_new0(QVirtioPCIDevice, 1);
    QPCIAddress addr = { .devfn = QPCI_DEVFN(5, 0) };
    QVirtioNet *net2 = g_new0(QVirtioNet, 1);
    int i;

    virtio_pci_init(pdev2, pdev->pdev->bus, &addr);
    qvirtio_pci_start_hw(&pdev2->obj);
    net2->vdev = &pdev2->vdev;
    qvirtio_set_features(net2->vdev, qvirtio_get_features(net2->vdev) &
                         ~(QVIRTIO_F_BAD_FEATURE |
                           (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
                           (1ull << VIRTIO_RING_F_EVENT_IDX)));
    net2->n_queues = 3;
    net2->queues = g_new(QVirtQueue *, 3);
    for (i = 0; i < 3; i++) {
        net2->queues[i] = qvirtqueue_setup(net2->vdev, alloc, i);
    }
    qvirtio_set_driver_ok(net2->vdev);
    rig_init(r2, net2, alloc, a->dev_net);
    return net2;
}

static void vhu_second_free(QVirtioNet *net2)
{
    g_free(net2->queues);
    g_free(container_of(net2->vdev, QVirtioPCIDevice, vdev));
    g_free(net2);
}

/*
 * The backend's counters of receive queue 0 equal those of the
 * in-process device vnet1, every one under the same name but the
 * device-only fault-injected; k is @k.
 */
static void vhu_assert_stats_equal(VhuArg *a, QTestState *qts, int64_t k)
{
    QList *dev_stats = vhu_device_stats(qts);
    QList *vu_stats = vhu_backend_stats(&a->b);
    QDict *dq, *vq;
    const QDictEntry *e;
    int compared = 0;

    g_assert_cmpint(qlist_size(vu_stats), ==, 1);
    dq = qobject_to(QDict, qlist_peek(dev_stats));
    vq = qobject_to(QDict, qlist_peek(vu_stats));
    g_assert_cmpint(qdict_get_int(vq, "k"), ==, k);
    for (e = qdict_first(dq); e; e = qdict_next(dq, e)) {
        g_autoptr(GString) want = NULL, got = NULL;

        if (!strcmp(e->key, "fault-injected")) {
            g_assert(!qdict_haskey(vq, e->key));
            continue;
        }
        g_assert(qdict_haskey(vq, e->key));
        want = qobject_to_json(e->value);
        got = qobject_to_json(qdict_get(vq, e->key));
        g_test_message("%s: device %s, backend %s", e->key, want->str,
                       got->str);
        g_assert_cmpstr(got->str, ==, want->str);
        compared++;
    }
    g_assert_cmpint(compared, ==, qdict_size(vq));
    qobject_unref(dev_stats);
    qobject_unref(vu_stats);
}

/*
 * The backend counts as the device does: the same frames through QEMU's
 * in-process device and through the backend, one ring each with the
 * same mask (UDP over IPv6 masked off, so that inline-masked counts
 * too), give the same counters under the same names, every one of
 * them but the device-only fault-injected.
 */
static void test_vhu_counters(void *obj, void *data, QGuestAllocator *alloc)
{
    VhuArg *a = data;
    uint32_t mask = VIRTIO_NET_SPLIT_HDR_PROTO_ALL &
                    ~VIRTIO_NET_SPLIT_HDR_PROTO_UDPV6;
    g_autofree uint8_t *frame = g_malloc0(65536 + 64);
    QVirtioNet *net2;
    int i, n = 0;
    Rig r, r2;

    vhu_init(&r, obj, alloc, data);
    net2 = vhu_second_init(obj, alloc, a, &r2);
    rig_set_ring(&r, 128, RX_QSIZE, mask);
    rig_set_ring(&r2, 128, RX_QSIZE, mask);
    rig_post(&r, NUM_BUFS, BUF_SIZE);
    rig_post(&r2, NUM_BUFS, BUF_SIZE);
    for (i = 0; i < ARRAY_SIZE(vhu_cases); i++) {
        size_t hdr_len, len = vhu_frame(&vhu_cases[i], frame, &hdr_len);

        if (vhu_cases[i].frame.l3 == L3_IP6 && vhu_cases[i].frame.l4 == 17 &&
            !vhu_cases[i].frame.ip6_frag) {
            hdr_len = 0;                /* masked: inline */
        }
        rig_expect_packet(&r, n, frame, len, hdr_len);
        rig_expect_packet(&r2, n, frame, len, hdr_len);
        rig_post(&r, vhu_bufs(len, hdr_len), BUF_SIZE);
        rig_post(&r2, vhu_bufs(len, hdr_len), BUF_SIZE);
        n++;
    }
    g_assert_cmpint(vhu_backend_stat(&a->b, "inline-masked"), >, 0);
    g_assert_cmpint(vhu_backend_stat(&a->b, "split"), >, 0);
    vhu_assert_stats_equal(a, r.qts, n);

    /*
     * A driver that renegotiates without the feature: no ring and k 0,
     * but the counters go on, in the backend as in the device.
     */
    rig_device_reset(&r);
    rig_device_reset(&r2);
    r.vdev->features &= ~(1ull << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER);
    r2.vdev->features &= ~(1ull << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER);
    rig_device_init(&r);
    rig_device_init(&r2);
    g_assert_cmpint(vhu_backend_stat(&a->b, "split"), >, 0);
    vhu_assert_stats_equal(a, r.qts, 0);
    vhu_second_free(net2);
}

/*
 * Reset receive queue @r (VIRTIO_F_RING_RESET) and enable it again,
 * empty; then fill the header ring it had with 0xa5, so that any later
 * write into it shows.  The backend published everything before it
 * answered GET_VRING_BASE, which the reset waits for.
 */
static void vhu_queue_reset(Rig *r)
{
    uint64_t old_ring = r->ring;

    rig_queue_reset(r);
    rig_queue_enable(r);
    if (old_ring) {
        rig_fill(r, old_ring, (size_t)r->slot_size * r->num_slots, 0xa5);
    }
}

/*
 * Queue reset over vhost-user, beside the in-process device given the
 * same frames and the same driver steps.  QEMU stops the backend's
 * receive vring, turns its ring off, and restarts the vring at index 0
 * when the driver enables the queue: without a new SET the queue is
 * classic and the old ring stays untouched; after one, packets start
 * again at slot 0 with seq 0 of the new ring.  k restarts, the other
 * counters go on, in the backend as in the device.
 */
static void test_vhu_queue_reset(void *obj, void *data,
                                 QGuestAllocator *alloc)
{
    static const int first[] = { 1, 10, 2 };     /* udp4, arp, tcp6 */
    static const int after[] = { 0, 11, 1 };     /* tcp4, icmp, udp4 */
    VhuArg *a = data;
    g_autofree uint8_t *frame = g_malloc0(65536 + 64);
    uint64_t ring_a, ring_b;
    size_t hdr_len, len, ring_len = 128 * RX_QSIZE;
    QVirtioNet *net2;
    Rig *rigs[2], r, r2;
    int i, j;

    vhu_init(&r, obj, alloc, data);
    g_assert(r.vdev->features & (1ull << VIRTIO_F_RING_RESET));
    net2 = vhu_second_init(obj, alloc, a, &r2);
    rigs[0] = &r;
    rigs[1] = &r2;

    for (j = 0; j < 2; j++) {
        rig_set_ring(rigs[j], 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
        rig_post(rigs[j], NUM_BUFS, BUF_SIZE);
    }
    ring_a = r.ring;
    for (i = 0; i < ARRAY_SIZE(first); i++) {
        len = vhu_frame(&vhu_cases[first[i]], frame, &hdr_len);
        for (j = 0; j < 2; j++) {
            rig_expect_packet(rigs[j], i, frame, len, hdr_len);
        }
    }

    /* No SET after the reset: classic, nothing in the old ring. */
    for (j = 0; j < 2; j++) {
        vhu_queue_reset(rigs[j]);
        rigs[j]->ring = 0;
    }
    len = vhu_frame(&vhu_cases[1], frame, &hdr_len);
    for (j = 0; j < 2; j++) {
        rig_expect_classic(rigs[j], frame, len);
    }
    len = vhu_frame(&vhu_cases[10], frame, &hdr_len);
    for (j = 0; j < 2; j++) {
        rig_expect_classic(rigs[j], frame, len);
    }
    rig_assert_filled(&r, ring_a, ring_len, 0xa5);
    vhu_assert_stats_equal(a, r.qts, 0);         /* "enabled" too */

    /* A SET after the next reset: slot 0, seq 0 of the new ring. */
    for (j = 0; j < 2; j++) {
        vhu_queue_reset(rigs[j]);
        rig_set_ring(rigs[j], 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
        rig_post(rigs[j], NUM_BUFS, BUF_SIZE);
    }
    ring_b = r.ring;
    g_assert_cmphex(ring_b, !=, ring_a);
    for (i = 0; i < ARRAY_SIZE(after); i++) {
        len = vhu_frame(&vhu_cases[after[i]], frame, &hdr_len);
        for (j = 0; j < 2; j++) {
            rig_expect_packet(rigs[j], i, frame, len, hdr_len);
            rig_post(rigs[j], vhu_bufs(len, hdr_len), BUF_SIZE);
        }
    }
    rig_assert_filled(&r, ring_a, ring_len, 0xa5);
    vhu_assert_stats_equal(a, r.qts, ARRAY_SIZE(after));
    g_assert_cmpint(vhu_backend_stat(&a->b, "split"), ==, 4);
    vhu_second_free(net2);
}

/*
 * Bring vnet0 up again with VIRTIO_RING_F_EVENT_IDX and an MSI-X vector
 * per virtqueue (configuration 0, then 1 + the queue index), so that the
 * receive queue's interrupts show alone, in its vector's message.
 */
static void vhu_init_event_idx_msix(Rig *r)
{
    QVirtioPCIDevice *pdev = container_of(r->vdev, QVirtioPCIDevice, vdev);
    QVirtioNet *net = r->net;
    int i;

    g_assert(qvirtio_get_features(r->vdev) &
             (1ull << VIRTIO_RING_F_EVENT_IDX));
    rig_device_reset(r);
    qpci_msix_enable(pdev->pdev);
    qvirtio_set_acknowledge(r->vdev);
    qvirtio_set_driver(r->vdev);
    qvirtio_set_features(r->vdev, r->vdev->features |
                         (1ull << VIRTIO_RING_F_EVENT_IDX));
    qvirtio_pci_set_msix_configuration_vector(pdev, r->alloc, 0);
    for (i = 0; i < net->n_queues; i++) {
        qvirtqueue_cleanup(r->vdev->bus, net->queues[i], r->alloc);
        net->queues[i] = qvirtqueue_setup(r->vdev, r->alloc, i);
        qvirtqueue_pci_msix_setup(pdev, (QVirtQueuePCI *)net->queues[i],
                                  r->alloc, i + 1);
    }
    qvirtio_set_driver_ok(r->vdev);
    r->rxq = net->queues[0];
    r->ctrlq = net->queues[net->n_queues - 1];
    r->avail_idx = r->used_seen = 0;
}

/* The driver's used_event (VIRTIO_RING_F_EVENT_IDX) of the receive queue. */
static void vhu_set_used_event(Rig *r, uint16_t idx)
{
    qtest_writew(r->qts, r->rxq->avail + 4 + 2 * r->rxq->size, idx);
}

/*
 * Whether the backend signalled the receive queue: QMP stop stops the
 * backend after it handled what it read (its notifications are written
 * by then) and then reads the guest notifiers; the MSI-X message is in
 * guest memory once stop returns.
 */
static bool vhu_rx_signalled(Rig *r)
{
    QDict *rsp = qtest_qmp(r->qts, "{'execute': 'stop'}");
    bool signalled;

    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    signalled = r->vdev->bus->get_queue_isr_status(r->vdev, r->rxq);
    rsp = qtest_qmp(r->qts, "{'execute': 'cont'}");
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    return signalled;
}

/*
 * Interrupts after a queue reset, with VIRTIO_RING_F_EVENT_IDX and MSI-X
 * as Linux drives them: the restarted vring must have its call fd again
 * (vhost-user back-ends drop it at GET_VRING_BASE), and the first packet
 * after the reset, used index 1 with used_event 0, must be signalled
 * although the backend signalled index 1 of the old ring last
 * (libvhost-user forgets that index in vu_queue_flush(), which sees it
 * ahead of the new one).  libvhost-user signals every SET_VRING_CALL on
 * its own; the test waits for that signal before each packet, so that
 * only the packet's own signal can be left in the vector.
 */
static void test_vhu_queue_reset_event_idx(void *obj, void *data,
                                           QGuestAllocator *alloc)
{
    g_autofree uint8_t *frame = g_malloc0(4096);
    size_t hdr_len, len = vhu_frame(&vhu_cases[1], frame, &hdr_len);
    UsedElem used;
    Rig r;

    vhu_init(&r, obj, alloc, data);
    vhu_init_event_idx_msix(&r);
    /* The start's SET_VRING_CALL. */
    qvirtio_wait_queue_isr(r.qts, r.vdev, r.rxq, TIMEOUT_US);

    vhu_set_used_event(&r, 0);
    rig_post(&r, 2, BUF_SIZE);
    rig_send(&r, frame, len);
    rig_wait_used(&r, 1, &used);
    g_assert_cmpint(used.len, ==, VHDR_LEN + len);
    qvirtio_wait_queue_isr(r.qts, r.vdev, r.rxq, TIMEOUT_US);

    rig_queue_reset(&r);
    rig_queue_set_vector(&r, 1);
    rig_queue_enable(&r);
    /* The restart's SET_VRING_CALL. */
    qvirtio_wait_queue_isr(r.qts, r.vdev, r.rxq, TIMEOUT_US);

    vhu_set_used_event(&r, 0);
    rig_post(&r, 2, BUF_SIZE);
    rig_send(&r, frame, len);
    rig_wait_used(&r, 1, &used);
    g_assert_cmpint(used.len, ==, VHDR_LEN + len);
    g_assert(vhu_rx_signalled(&r));
}

/*
 * Queue reset of the second queue pair: its vring (virtqueue 2, the
 * first of the second vhost_dev) stops and restarts, its ring goes and
 * comes back at k 0, while queue pair 0 runs on with its ring and k.
 */
static void test_vhu_queue_reset_mq(void *obj, void *data,
                                    QGuestAllocator *alloc)
{
    VhuArg *a = data;
    QVirtioNet *net = obj;
    g_autofree uint8_t *frame = g_malloc0(4096);
    size_t hdr_len, len = vhu_frame(&vhu_cases[1], frame, &hdr_len);
    uint32_t k[2] = { 0, 0 };
    uint64_t old_ring;
    Rig r[2];
    int i, q;

    g_assert(net->vdev->features & (1ull << VIRTIO_F_RING_RESET));
    for (q = 0; q < 2; q++) {
        rig_init_queue(&r[q], obj, alloc, a->b.qnet[q], q);
        rig_set_ring(&r[q], 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
        rig_post(&r[q], NUM_BUFS, BUF_SIZE);
    }
    g_assert_cmpint(rig_mq_pairs_set(&r[0], 2), ==, VIRTIO_NET_OK);
    for (i = 0; i < 4; i++) {
        q = i % 2;
        frame[hdr_len] = i;
        rig_expect_packet(&r[q], k[q]++, frame, len, hdr_len);
    }

    old_ring = r[1].ring;
    vhu_queue_reset(&r[1]);
    rig_set_ring(&r[1], 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r[1], NUM_BUFS, BUF_SIZE);
    k[1] = 0;
    for (i = 4; i < 8; i++) {
        q = i % 2;
        frame[hdr_len] = i;
        rig_expect_packet(&r[q], k[q]++, frame, len, hdr_len);
    }
    g_assert_cmpint(k[0], ==, 4);
    g_assert_cmpint(k[1], ==, 2);
    rig_assert_filled(&r[1], old_ring, 128 * RX_QSIZE, 0xa5);
}

/*
 * Frames the tap delivers while the queue has no buffers keep their
 * io_uring buffers and wait, in order; buffers posted later get all of
 * them, slot k for the k-th, none lost or reordered.
 */
static void test_vhu_tap_hold(void *obj, void *data, QGuestAllocator *alloc)
{
    VhuArg *a = data;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 6, .tcp_opt_len = 12,
                       .payload = 1000 };
    uint8_t frames[3][2048];
    size_t hdrs, len = 0;
    UsedElem used[3];
    int i;
    Rig r;

    if (!vhu_tap_ready(a)) {
        return;
    }
    vhu_init(&r, obj, alloc, data);
    r.sock = a->tap.send;
    r.sock_dgram = true;
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    for (i = 0; i < 3; i++) {
        len = rig_build_frame(&spec, frames[i], &hdrs);
        frames[i][hdrs] = 0xa0 + i;
        rig_send(&r, frames[i], len);
    }
    rig_assert_no_used(&r);
    rig_post(&r, 3, BUF_SIZE);
    rig_wait_used(&r, 3, used);
    for (i = 0; i < 3; i++) {
        rig_check_slot(&r, i, frames[i], hdrs, 1);
        rig_check_data(&r, &used[i], 1, frames[i] + hdrs, len - hdrs,
                       BUF_SIZE);
    }
}

#define VHU_TAP_FLOWS 32

/*
 * A multiqueue tap (IFF_MULTI_QUEUE, one fd and one ring per queue
 * pair): the tap spreads flows over its queues by their hash, and each
 * frame lands on the receive queue of the fd the tap chose, in that
 * queue's own ring at that queue's own k.  Which flow goes where depends
 * on the kernel's hash key, so the test follows each frame to whichever
 * queue got it; 32 flows all on one queue would be a broken spread.
 */
static void test_vhu_tap_mq(void *obj, void *data, QGuestAllocator *alloc)
{
    VhuArg *a = data;
    QVirtioNet *net = obj;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 17, .payload = 300 };
    g_autofree uint8_t *frame = g_malloc0(4096);
    uint32_t k[2] = { 0, 0 };
    size_t hdrs, len;
    UsedElem used;
    Rig r[2];
    int i, q;

    if (!vhu_tap_ready(a)) {
        return;
    }
    g_assert(net->vdev->features & (1ull << VIRTIO_NET_F_MQ));
    for (q = 0; q < 2; q++) {
        rig_init_queue(&r[q], obj, alloc, a->tap.send, q);
        r[q].sock_dgram = true;
    }
    rig_set_ring(&r[0], 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_set_ring(&r[1], 256, 2 * RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    g_assert_cmpint(rig_mq_pairs_set(&r[0], 2), ==, VIRTIO_NET_OK);
    rig_post(&r[0], NUM_BUFS, BUF_SIZE);
    rig_post(&r[1], NUM_BUFS, BUF_SIZE);

    len = rig_build_frame(&spec, frame, &hdrs);
    for (i = 0; i < VHU_TAP_FLOWS; i++) {
        gint64 start = g_get_monotonic_time();

        rig_put16(frame + 14 + 20, 1000 + i);           /* UDP source port */
        rig_send(&r[0], frame, len);
        for (;;) {
            for (q = 0; q < 2; q++) {
                if (rig_used_idx(&r[q], r[q].rxq) != r[q].used_seen) {
                    break;
                }
            }
            if (q < 2) {
                break;
            }
            g_assert(g_get_monotonic_time() - start < TIMEOUT_US);
            g_usleep(1000);
        }
        rig_wait_used(&r[q], 1, &used);
        rig_check_slot(&r[q], k[q], frame, hdrs, 1);
        rig_check_data(&r[q], &used, 1, frame + hdrs, len - hdrs, BUF_SIZE);
        k[q]++;
    }
    g_test_message("flows on queue 0: %u, queue 1: %u", k[0], k[1]);
    g_assert_cmpint(k[0], >, 0);
    g_assert_cmpint(k[1], >, 0);
    rig_assert_no_used(&r[0]);
    rig_assert_no_used(&r[1]);
}

/*
 * The backend's life without a guest: one process serves one QEMU after
 * the other on its listening socket; SIGTERM ends it cleanly while a QEMU
 * is connected and while it waits for its first front-end, and
 * --socket-path's socket goes with it.
 */
static void test_vhu_lifecycle(void)
{
    static const char *const bad_nets[][2] = {
        { "1", "bogus" },
        { "1", "slirp,hostfwd=tcp::x-:22" },
        { "1", "stream,fd=999" },
        { "2", "slirp" },
        { "0", "slirp" },
        { "1", "tap,ifname=12345678901234567" },
    };
    g_autofree char *dir = g_dir_make_tmp("splithdr-vhu-XXXXXX", NULL);
    g_autofree char *path = g_strdup_printf("%s/sock", dir);
    g_autofree char *opts = NULL;
    VhuBackend b = { 0 };
    pid_t pid;
    int i, status;

    opts = vhu_backend_start(&b, "");
    for (i = 0; i < 3; i++) {
        g_autofree char *args = g_strdup_printf("-M pc %s", opts);
        QTestState *qts = qtest_init(args);
        QDict *rsp = qtest_qmp(qts, "{'execute': 'query-status'}");

        g_assert(qdict_haskey(rsp, "return"));
        qobject_unref(rsp);
        if (i == 2) {
            vhu_backend_stop(&b);       /* under the connected QEMU */
        }
        qtest_quit(qts);
    }

    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        execl(g_getenv(BACKEND_ENV), "vhost-user-net-split",
              "--socket-path", path, "--net-connect", path, NULL);
        _exit(1);
    }
    waitpid(pid, &status, 0);
    g_assert(WIFEXITED(status));        /* nothing listens at --net-connect */
    g_assert_cmpint(WEXITSTATUS(status), !=, 0);

    /* Bad options end it at once, before it listens. */
    for (i = 0; i < ARRAY_SIZE(bad_nets); i++) {
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
            execl(g_getenv(BACKEND_ENV), "vhost-user-net-split",
                  "--socket-path", path, "--queues", bad_nets[i][0],
                  "--net", bad_nets[i][1], NULL);
            _exit(0);
        }
        waitpid(pid, &status, 0);
        g_assert(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), !=, 0);
        g_assert(!g_file_test(path, G_FILE_TEST_EXISTS));
    }

    b.sock_path = g_strdup_printf("%s/net", dir);
    b.net = qtest_socket_server(b.sock_path);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        execl(g_getenv(BACKEND_ENV), "vhost-user-net-split",
              "--socket-path", path, "--net-connect", b.sock_path, NULL);
        _exit(1);
    }
    while (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_usleep(10000);
    }
    b.pid = pid;
    vhu_backend_stop(&b);
    g_assert(!g_file_test(path, G_FILE_TEST_EXISTS));
    rmdir(dir);
}

static void register_vhu_tests(void)
{
    QOSGraphTestOptions opts = {
        .before = vhu_setup,
        .edge.extra_device_opts = "split-hdr=on,id=vnet0",
    };

    if (!g_getenv(BACKEND_ENV)) {
        g_test_message(BACKEND_ENV " not set: skipping the split-hdr "
                       "vhost-user tests");
        return;
    }
    qtest_add_func("split-hdr/vhost-user/lifecycle", test_vhu_lifecycle);
    qos_add_test("split-hdr/vhost-user/packets", "virtio-net",
                 test_vhu_packets, &opts);
    qos_add_test("split-hdr/vhost-user/classic", "virtio-net",
                 test_vhu_classic, &opts);
    qos_add_test("split-hdr/vhost-user/ctrl", "virtio-net",
                 test_vhu_ctrl, &opts);
    qos_add_test("split-hdr/vhost-user/stop-cont", "virtio-net",
                 test_vhu_stop_cont, &opts);
    qos_add_test("split-hdr/vhost-user/tx", "virtio-net", test_vhu_tx,
                 &opts);
    qos_add_test("split-hdr/vhost-user/device-reset", "virtio-net",
                 test_vhu_reset, &opts);
    qos_add_test("split-hdr/vhost-user/migrate", "virtio-net",
                 test_vhu_migrate, &opts);
    opts.before = vhu_setup_reconnect;
    qos_add_test("split-hdr/vhost-user/reconnect", "virtio-net",
                 test_vhu_reconnect, &opts);
    opts.before = vhu_setup;
    qos_add_test("split-hdr/vhost-user/bad-buffer", "virtio-net",
                 test_vhu_bad_buffer, &opts);
    opts.before = vhu_setup_slirp;
    qos_add_test("split-hdr/vhost-user/slirp", "virtio-net",
                 test_vhu_slirp, &opts);
    opts.before = vhu_setup_mq;
    opts.edge.extra_device_opts = "split-hdr=on,id=vnet0,mq=on";
    qos_add_test("split-hdr/vhost-user/multiqueue", "virtio-net",
                 test_vhu_mq, &opts);
    opts.edge.extra_device_opts = "split-hdr=on,id=vnet0";
    opts.before = vhu_setup_counters;
    qos_add_test("split-hdr/vhost-user/counters", "virtio-net",
                 test_vhu_counters, &opts);
    qos_add_test("split-hdr/vhost-user/queue-reset", "virtio-net",
                 test_vhu_queue_reset, &opts);
    opts.before = vhu_setup;
    qos_add_test("split-hdr/vhost-user/queue-reset-event-idx", "virtio-net",
                 test_vhu_queue_reset_event_idx, &opts);
    opts.before = vhu_setup_mq;
    opts.edge.extra_device_opts = "split-hdr=on,id=vnet0,mq=on";
    qos_add_test("split-hdr/vhost-user/queue-reset-multiqueue", "virtio-net",
                 test_vhu_queue_reset_mq, &opts);
    opts.edge.extra_device_opts = "split-hdr=on,id=vnet0";
    opts.before = vhu_setup_tap;
    qos_add_test("split-hdr/vhost-user/tap-rx", "virtio-net",
                 test_vhu_tap_rx, &opts);
    qos_add_test("split-hdr/vhost-user/tap-tx", "virtio-net",
                 test_vhu_tap_tx, &opts);
    qos_add_test("split-hdr/vhost-user/tap-hold", "virtio-net",
                 test_vhu_tap_hold, &opts);
    qos_add_test("split-hdr/vhost-user/tap-dhcp-csum", "virtio-net",
                 test_vhu_tap_dhcp_csum, &opts);
    opts.before = vhu_setup_tap_plain;
    qos_add_test("split-hdr/vhost-user/tap-rx-plain-read", "virtio-net",
                 test_vhu_tap_rx, &opts);
    qos_add_test("split-hdr/vhost-user/tap-hold-plain-read", "virtio-net",
                 test_vhu_tap_hold, &opts);
    opts.before = vhu_setup_tap_mq;
    opts.edge.extra_device_opts = "split-hdr=on,id=vnet0,mq=on";
    qos_add_test("split-hdr/vhost-user/tap-multiqueue", "virtio-net",
                 test_vhu_tap_mq, &opts);
}

libqos_init(register_vhu_tests);
