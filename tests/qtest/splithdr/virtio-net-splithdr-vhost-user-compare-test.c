/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest testcases that hold the project's vhost-user backend
 * (contrib/vhost-user-net-split) to QEMU's in-process device:
 *
 * - split-hdr/vhost-user/compare: one QEMU, two split-hdr devices, vnet0
 *   in process on a socket netdev and vnet1 on the backend.  The same
 *   frames, every shape, through each in turn, on the same header ring
 *   and the same buffers posted as the same descriptors: slot bytes,
 *   buffer bytes, used ids and lengths must be identical, and the
 *   counters QEMU reads for each must agree with what was delivered.
 *
 * - split-hdr/vhost-user/dirty-log: the backend delivers split packets
 *   while a migration runs; every slot and buffer byte it wrote must
 *   reach the destination, which it does only through the dirty log.
 *
 * The backend runs as in virtio-net-splithdr-vhost-user-test.c: binary
 * from SPLITHDR_VHOST_USER_NET_BINARY (skipped without it), listening
 * socket passed as --fd, network side a socketpair, guest RAM in a
 * shared memfd.
 */

#include "qemu/osdep.h"
#include <sys/wait.h>
#include "libqtest-single.h"
#include "qemu/bswap.h"
#include "qemu/module.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "standard-headers/linux/virtio_net.h"
#include "standard-headers/linux/virtio_ring.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "libqos/qgraph.h"
#include "libqos/virtio.h"
#include "libqos/virtio-pci.h"
#include "libqos/virtio-net.h"
#include "virtio-net-splithdr-rig.h"

#define BACKEND_ENV "SPLITHDR_VHOST_USER_NET_BINARY"
#define CMP_SLOT_SIZE 128
#define CMP_PCI_SLOT 6                  /* vnet1; libqos puts vnet0 at 4 */
#define CMP_QOM_PATH1 "/machine/peripheral/vnet1/virtio-backend"
/* UDPv6 left out: its frames are inline-masked. */
#define CMP_MASK (VIRTIO_NET_SPLIT_HDR_PROTO_ALL & \
                  ~VIRTIO_NET_SPLIT_HDR_PROTO_UDPV6)
#define CMP_ROUNDS 16                   /* > RX_QSIZE packets: slots wrap */
#define CMP_MAX_USED 17

typedef struct CmpBackend {
    char *sock_path;
    pid_t pid;
    int net;                            /* the test's end of its network */
} CmpBackend;

typedef struct CmpArg {
    int sv[2];                          /* socket netdev of vnet0 */
    CmpBackend b;
} CmpArg;

typedef struct CmpCase {
    const char *name;
    FrameSpec frame;
    const char *counter;                /* split-hdr-stats key it counts in */
    size_t truncate;
} CmpCase;

static const CmpCase cmp_cases[] = {
    { "tcp4", { .l3 = L3_IP4, .l4 = 6, .tcp_opt_len = 12,
      .payload = 4096 }, "split" },
    { "udp4", { .l3 = L3_IP4, .l4 = 17, .payload = 1000 }, "split" },
    { "tcp6", { .l3 = L3_IP6, .l4 = 6, .payload = 1400 }, "split" },
    { "udp6-masked", { .l3 = L3_IP6, .l4 = 17, .payload = 512 },
      "inline-masked" },
    { "vlan", { .vlan_tags = 1, .l3 = L3_IP4, .l4 = 6, .payload = 700 },
      "split" },
    { "qinq", { .vlan_tags = 2, .l3 = L3_IP6, .l4 = 6, .payload = 700 },
      "split" },
    { "ip4-options", { .l3 = L3_IP4, .l4 = 17, .ip4_opt_len = 40,
      .payload = 300 }, "split" },
    { "ip6-ext-headers", { .l3 = L3_IP6, .l4 = 6, .ip6_ext = 1,
      .payload = 300 }, "split" },
    { "zero-payload", { .l3 = L3_IP4, .l4 = 6, .tcp_opt_len = 12 },
      "split" },
    { "multi-buffer", { .l3 = L3_IP6, .l4 = 6, .tcp_opt_len = 12,
      .payload = 20000 }, "split" },
    { "arp", { .l3 = L3_ARP, .payload = 28 }, "inline-not-ip" },
    { "icmp", { .l3 = L3_IP4, .l4 = 1, .payload = 56 },
      "inline-not-tcp-udp" },
    { "ip4-fragment", { .l3 = L3_IP4, .l4 = 17, .payload = 200,
      .ip4_frag_field = 0x2000 }, "inline-fragment" },
    { "ip6-fragment", { .l3 = L3_IP6, .l4 = 17, .ip6_frag = 1,
      .payload = 200 }, "inline-fragment" },
    { "too-big", { .l3 = L3_IP6, .l4 = 6, .ip6_ext = 1,
      .tcp_opt_len = 40, .payload = 200 }, "inline-too-big" },
    { "truncated-tcp", { .l3 = L3_IP4, .l4 = 6 }, "inline-malformed",
      14 + 20 + 10 },
    { "runt", { .l3 = L3_IP4, .l4 = 6 }, "inline-malformed", 10 },
    { "inline-multi-buffer", { .l3 = L3_IP4, .l4 = 1, .payload = 9000 },
      "inline-not-tcp-udp" },
};

static const char *const cmp_counters[] = {
    "split", "inline-not-ip", "inline-malformed", "inline-fragment",
    "inline-not-tcp-udp", "inline-masked", "inline-too-big",
};

/* --- the backend process ------------------------------------------------ */

static void cmp_backend_start(CmpBackend *b)
{
    const char *bin = g_getenv(BACKEND_ENV);
    g_autofree char *cmd = NULL;
    int lfd, sv[2], tmp;

    b->sock_path = g_strdup_printf("%s/qtest-splithdr-vhucmp-%d.XXXXXX",
                                   g_get_tmp_dir(), getpid());
    tmp = g_mkstemp(b->sock_path);
    g_assert_cmpint(tmp, >=, 0);
    close(tmp);
    unlink(b->sock_path);
    lfd = qtest_socket_server(b->sock_path);
    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, sv), ==, 0);

    cmd = g_strdup_printf("exec %s --fd=%d --net-fd=%d", bin, lfd, sv[1]);
    b->pid = rig_spawn(cmd, &sv[0], 1);
    close(lfd);
    close(sv[1]);
    b->net = sv[0];
}

/* Its QEMU must be gone: the backend then exits 0 on SIGTERM. */
static void cmp_backend_stop(CmpBackend *b)
{
    int status;

    kill(b->pid, SIGTERM);
    g_assert_cmpint(waitpid(b->pid, &status, 0), ==, b->pid);
    g_assert(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    close(b->net);
    unlink(b->sock_path);
    g_free(b->sock_path);
}

static char *cmp_backend_opts(CmpBackend *b, const char *netdev)
{
    return g_strdup_printf(
        " -object memory-backend-memfd,id=mem,size=256M,share=on"
        " -M memory-backend=mem -m 256M"
        " -chardev socket,id=chr-%s,path=%s"
        " -netdev vhost-user,id=%s,chardev=chr-%s ",
        netdev, b->sock_path, netdev, netdev);
}

static void cmp_cleanup(void *opaque)
{
    CmpArg *a = opaque;

    qtest_kill_qemu(global_qtest);
    qos_invalidate_command_line();
    cmp_backend_stop(&a->b);
    if (a->sv[0] >= 0) {
        close(a->sv[0]);
        close(a->sv[1]);
    }
    g_free(a);
}

/* vnet0 in process on a socket netdev, vnet1 on the backend. */
static void *cmp_setup_two(GString *cmd_line, void *arg)
{
    CmpArg *a = g_new0(CmpArg, 1);
    g_autofree char *opts = NULL;

    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, a->sv), ==, 0);
    cmp_backend_start(&a->b);
    opts = cmp_backend_opts(&a->b, "hs1");
    g_string_append_printf(cmd_line, " -netdev socket,fd=%d,id=hs0 %s"
                           " -device virtio-net-pci,netdev=hs1,"
                           "split-hdr=on,id=vnet1,addr=%02x.0 ",
                           a->sv[1], opts, CMP_PCI_SLOT);
    g_test_queue_destroy(cmp_cleanup, a);
    return a;
}

/* vnet0 on the backend. */
static void *cmp_setup_backend(GString *cmd_line, void *arg)
{
    CmpArg *a = g_new0(CmpArg, 1);
    g_autofree char *opts = NULL;

    a->sv[0] = a->sv[1] = -1;
    cmp_backend_start(&a->b);
    opts = cmp_backend_opts(&a->b, "hs0");
    g_string_append(cmd_line, opts);
    g_test_queue_destroy(cmp_cleanup, a);
    return a;
}

/* --- the second device ----------------------------------------------- */

/*
 * Drive vnet1 as libqos drives vnet0: reset, the features vnet0 got
 * where vnet1 offers them, rx, tx and control queue, DRIVER_OK.
 */
static QVirtioNet *cmp_attach(QVirtioNet *net0, QGuestAllocator *alloc)
{
    QVirtioPCIDevice *p0 = container_of(net0->vdev, QVirtioPCIDevice, vdev);
    QPCIAddress addr = { .devfn = QPCI_DEVFN(CMP_PCI_SLOT, 0) };
    QVirtioPCIDevice *p1 = virtio_pci_new(p0->pdev->bus, &addr);
    QVirtioNet *n = g_new0(QVirtioNet, 1);
    uint64_t want = 1ull << VIRTIO_F_VERSION_1 |
                    1ull << VIRTIO_NET_F_MRG_RXBUF |
                    1ull << VIRTIO_NET_F_CTRL_VQ |
                    1ull << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER;
    uint64_t f;
    int i;

    g_assert(p1);
    qvirtio_pci_device_enable(p1);
    qvirtio_start_device(&p1->vdev);
    n->vdev = &p1->vdev;
    f = qvirtio_get_features(n->vdev) & net0->vdev->features;
    /* The layout depends on these only: both must have them. */
    g_assert_cmphex(f & want, ==, want);
    g_assert_cmphex(net0->vdev->features & want, ==, want);
    qvirtio_set_features(n->vdev, f);
    n->n_queues = 3;
    n->queues = g_new(QVirtQueue *, n->n_queues);
    for (i = 0; i < n->n_queues; i++) {
        n->queues[i] = qvirtqueue_setup(n->vdev, alloc, i);
    }
    qvirtio_set_driver_ok(n->vdev);
    return n;
}

static void cmp_detach(QVirtioNet *n, QGuestAllocator *alloc)
{
    QVirtioPCIDevice *p = container_of(n->vdev, QVirtioPCIDevice, vdev);
    int i;

    for (i = 0; i < n->n_queues; i++) {
        qvirtqueue_cleanup(n->vdev->bus, n->queues[i], alloc);
    }
    g_free(n->queues);
    qvirtio_pci_device_disable(p);
    g_free(p->pdev);
    g_free(p);
    g_free(n);
}

static int64_t cmp_stat(QTestState *qts, const char *path, const char *name)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': {"
                           "'path': %s, 'property': 'split-hdr-stats'}}",
                           path);
    QList *queues = qdict_get_qlist(rsp, "return");
    QDict *q;
    int64_t v;

    g_assert(queues && qlist_first(queues));
    q = qobject_to(QDict, qlist_entry_obj(qlist_first(queues)));
    v = qdict_get_int(q, name);
    qobject_unref(rsp);
    return v;
}

/* --- byte-for-byte comparison ---------------------------------------- */

static size_t cmp_frame(const CmpCase *c, unsigned int n, uint8_t *frame,
                        size_t *hdr_len)
{
    size_t hdrs, len = rig_build_frame(&c->frame, frame, &hdrs);

    *hdr_len = !strcmp(c->counter, "split") ? hdrs : 0;
    len = c->truncate ? c->truncate : len;
    /* Each packet its own bytes: a stale buffer cannot pass for it. */
    if (len > hdrs) {
        frame[len - 1] = n;
        frame[hdrs] = n >> 8;
    }
    return len;
}

static int cmp_nbufs(size_t len, size_t hdr_len)
{
    return len > hdr_len ? DIV_ROUND_UP(len - hdr_len, BUF_SIZE) : 1;
}

/*
 * Every case, CMP_ROUNDS times, through the device of @r, on the header
 * ring at @ring: returns what the driver sees, packet after packet (used
 * ids and lengths, the slot, the used buffers whole).
 */
static GByteArray *cmp_run(Rig *r, uint64_t ring, uint64_t *payload_bytes,
                           uint64_t *header_bytes, uint64_t *split)
{
    g_autofree uint8_t *frame = g_malloc0(65536);
    g_autofree uint8_t *buf = g_malloc(BUF_SIZE);
    GByteArray *out = g_byte_array_new();
    unsigned int n, ncases = ARRAY_SIZE(cmp_cases);
    uint8_t slot[CMP_SLOT_SIZE];

    *payload_bytes = *header_bytes = *split = 0;
    rig_set_ring_at(r, ring, CMP_SLOT_SIZE, RX_QSIZE, CMP_MASK);
    for (n = 0; n < CMP_ROUNDS * ncases; n++) {
        const CmpCase *c = &cmp_cases[n % ncases];
        size_t hdr_len, len = cmp_frame(c, n, frame, &hdr_len);
        int nb = cmp_nbufs(len, hdr_len), i;
        UsedElem used[CMP_MAX_USED];

        g_assert_cmpint(nb, <=, CMP_MAX_USED);
        rig_post(r, nb, BUF_SIZE);
        rig_send(r, frame, len);
        rig_wait_used(r, nb, used);
        g_byte_array_append(out, (uint8_t *)used, nb * sizeof(used[0]));
        rig_read_slot(r, n, slot);
        g_byte_array_append(out, slot, sizeof(slot));
        for (i = 0; i < nb; i++) {
            g_assert_cmpint(used[i].id, <, NUM_BUFS);
            qtest_memread(r->qts, r->bufs[used[i].id], buf, BUF_SIZE);
            g_byte_array_append(out, buf, BUF_SIZE);
            *payload_bytes += used[i].len;
        }
        /* The virtio header's flags and hdr_len, as the driver reads. */
        if (slot[PREFIX] & VIRTIO_NET_HDR_F_SPLIT_TRANSPORT_HEADER) {
            (*split)++;
            *header_bytes += lduw_le_p(slot + PREFIX + 2);
        }
    }
    return out;
}

/* Where two runs part: packet by packet, as cmp_run() wrote them. */
static void cmp_assert_same(GByteArray *a, GByteArray *b)
{
    guint i;

    g_assert_cmpuint(a->len, ==, b->len);
    for (i = 0; i < a->len && a->data[i] == b->data[i]; i++) {
        /* find the first difference */
    }
    if (i < a->len) {
        g_test_message("in-process and backend differ at byte %u of %u",
                       i, a->len);
    }
    g_assert_cmpmem(a->data, a->len, b->data, b->len);
}

static void test_compare(void *obj, void *data, QGuestAllocator *alloc)
{
    CmpArg *a = data;
    QVirtioNet *net1;
    g_autoptr(GByteArray) in_proc = NULL;
    g_autoptr(GByteArray) backend = NULL;
    uint64_t ring = QEMU_ALIGN_UP(guest_alloc(alloc, CMP_SLOT_SIZE *
                                              RX_QSIZE + 64), 64);
    uint64_t pay0, hdr0, split0, pay1, hdr1, split1;
    unsigned int i, packets = CMP_ROUNDS * ARRAY_SIZE(cmp_cases);
    QDict *rsp;
    Rig r0, r1;

    rig_init(&r0, obj, alloc, a->sv[0]);
    net1 = cmp_attach(obj, alloc);
    rig_init(&r1, net1, alloc, a->b.net);
    /* Same buffers, posted as the same descriptors, same header ring. */
    memcpy(r1.bufs, r0.bufs, sizeof(r0.bufs));

    g_test_message("%u packets through the in-process device", packets);
    in_proc = cmp_run(&r0, ring, &pay0, &hdr0, &split0);
    rig_device_reset(&r0);
    g_test_message("%u packets through the backend", packets);
    backend = cmp_run(&r1, ring, &pay1, &hdr1, &split1);
    cmp_assert_same(in_proc, backend);

    /* QEMU's counters of vnet0: what was delivered, reason by reason. */
    g_assert_cmpint(split0, ==, split1);
    g_assert_cmpint(hdr0, ==, hdr1);
    g_assert_cmpint(pay0, ==, pay1);
    g_assert_cmpint(rig_stat(&r0, "header-bytes"), ==, hdr1);
    g_assert_cmpint(rig_stat(&r0, "payload-bytes"), ==, pay1);
    for (i = 0; i < ARRAY_SIZE(cmp_counters); i++) {
        int64_t want = 0;
        unsigned int c;

        for (c = 0; c < ARRAY_SIZE(cmp_cases); c++) {
            want += !strcmp(cmp_cases[c].counter, cmp_counters[i]) ?
                    CMP_ROUNDS : 0;
        }
        g_assert_cmpint(rig_stat(&r0, cmp_counters[i]), ==, want);
    }
    g_assert_cmpint(rig_stat(&r0, "split"), ==, split1);

    /*
     * Of vnet1 QEMU knows k, fetched from the backend (GET_STATE) when
     * the device stops; the other counters live in the backend.
     */
    rsp = qmp("{'execute': 'stop'}");
    qobject_unref(rsp);
    g_assert_cmpint(cmp_stat(r1.qts, CMP_QOM_PATH1, "k"), ==, packets);
    rsp = qmp("{'execute': 'cont'}");
    qobject_unref(rsp);

    cmp_detach(net1, alloc);
}

/* --- dirty logging during migration -------------------------------------- */

static QDict *cmp_migrate_status(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-migrate'}");
    QDict *ret = qdict_get_qdict(rsp, "return");

    qobject_ref(ret);
    qobject_unref(rsp);
    return ret;
}

static void cmp_wait_migration(QTestState *qts)
{
    gint64 start = g_get_monotonic_time();

    for (;;) {
        QDict *st = cmp_migrate_status(qts);
        const char *s = qdict_get_try_str(st, "status");
        bool done = s && (!strcmp(s, "completed") || !strcmp(s, "failed"));

        if (done) {
            g_assert_cmpstr(s, ==, "completed");
        }
        qobject_unref(st);
        if (done) {
            return;
        }
        g_assert(g_get_monotonic_time() - start < TIMEOUT_US);
        g_usleep(10000);
    }
}

/* RAM bytes the migration stream has taken so far, in page order. */
static uint64_t cmp_ram_sent(QTestState *qts)
{
    QDict *st = cmp_migrate_status(qts);
    QDict *ram = qdict_haskey(st, "ram") ? qdict_get_qdict(st, "ram") : NULL;
    uint64_t sent = ram ? qdict_get_int(ram, "total") -
                          qdict_get_int(ram, "remaining") : 0;

    qobject_unref(st);
    return sent;
}

/* Copy what the migration stream has for us, @limit bytes at most. */
static bool cmp_pump_stream(int from, int to, size_t limit)
{
    static uint8_t buf[65536];
    ssize_t n = read(from, buf, MIN(limit, sizeof(buf)));

    g_assert_cmpint(n, >=, 0);
    g_assert_cmpint(write(to, buf, n), ==, n);
    return n > 0;
}

/*
 * The source migrates into a socket the test reads from and copies into
 * a file.  Once the stream has taken every page below 32 MiB, where the
 * test's rings and buffers are, the test stops reading: the migration
 * blocks, its RAM pass done for those pages, logging still on.  Now the
 * backend delivers packets: their slots and buffers reach the
 * destination only if the backend marked them in the dirty log, for the
 * final pass resends exactly what the log and QEMU's own bitmap say.
 * Buffers and ring were posted before the migration, so QEMU's bitmap
 * does not have them.
 */
static void test_dirty_log(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioPCIDevice *pdev = container_of(((QVirtioNet *)obj)->vdev,
                                          QVirtioPCIDevice, vdev);
    g_autofree uint8_t *frame = g_malloc0(65536);
    g_autofree char *path = g_strdup_printf("%s/splithdr-vhu-log-XXXXXX",
                                            g_get_tmp_dir());
    g_autofree char *uri = NULL, *dest = NULL, *opts = NULL;
    g_autofree uint8_t *src_mem = g_malloc(CMP_SLOT_SIZE * RX_QSIZE);
    g_autofree uint8_t *dst_mem = g_malloc(CMP_SLOT_SIZE * RX_QSIZE);
    const unsigned int npkts = 24;
    size_t hdr_len, len;
    QTestState *src, *to;
    CmpArg *a = data;
    CmpBackend b2 = { 0 };
    QDict *rsp;
    int sv[2], file, nused = 0, i;
    unsigned int k;
    Rig r;

    file = g_mkstemp(path);
    g_assert_cmpint(file, >=, 0);
    uri = g_strdup_printf("file:%s", path);

    rig_init(&r, obj, alloc, a->b.net);
    src = r.qts;
    rig_set_ring(&r, CMP_SLOT_SIZE, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    for (k = 0; k < npkts; k++) {
        len = cmp_frame(&cmp_cases[k % 3], k, frame, &hdr_len);
        nused += cmp_nbufs(len, hdr_len);
    }
    g_assert_cmpint(nused, <=, NUM_BUFS);
    rig_post(&r, nused, BUF_SIZE);
    g_assert_cmphex(r.ring + CMP_SLOT_SIZE * RX_QSIZE, <, 32 << 20);
    for (i = 0; i < nused; i++) {
        g_assert_cmphex(r.bufs[i] + BUF_SIZE, <, 32 << 20);
    }

    /* A small socket buffer: the migration blocks soon when not read. */
    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    g_assert_cmpint(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF,
                               &(int){ 4096 }, sizeof(int)), ==, 0);
    rsp = qtest_qmp_fds(src, &sv[1], 1, "{'execute': 'getfd', "
                        "'arguments': {'fdname': 'mig'}}");
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    close(sv[1]);
    rsp = qtest_qmp(src, "{'execute': 'migrate', 'arguments': "
                    "{'uri': 'fd:mig'}}");
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    while (cmp_ram_sent(src) < (32 << 20)) {
        g_assert(cmp_pump_stream(sv[0], file, 4096));
    }

    /* The backend writes slots and buffers while the migration waits. */
    for (k = 0; k < npkts; k++) {
        len = cmp_frame(&cmp_cases[k % 3], k, frame, &hdr_len);
        rig_expect_packet(&r, k, frame, len, hdr_len);
    }

    while (cmp_pump_stream(sv[0], file, SIZE_MAX)) {
        /* the rest of the stream, until the source closes it */
    }
    close(sv[0]);
    close(file);
    cmp_wait_migration(src);

    cmp_backend_start(&b2);
    opts = cmp_backend_opts(&b2, "hs0");
    dest = g_strdup_printf("%s %s -incoming defer",
                           qos_get_current_command_line(), opts);
    to = qtest_init(dest);
    rsp = qtest_qmp(to, "{'execute': 'migrate-incoming', "
                    "'arguments': {'uri': %s}}", uri);
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    cmp_wait_migration(to);

    /* The ring and the buffers written, byte for byte as the source's. */
    qtest_memread(src, r.ring, src_mem, CMP_SLOT_SIZE * RX_QSIZE);
    qtest_memread(to, r.ring, dst_mem, CMP_SLOT_SIZE * RX_QSIZE);
    g_assert_cmpmem(src_mem, CMP_SLOT_SIZE * RX_QSIZE, dst_mem,
                    CMP_SLOT_SIZE * RX_QSIZE);
    for (i = 0; i < nused; i++) {
        qtest_memread(src, r.bufs[i], src_mem, BUF_SIZE);
        qtest_memread(to, r.bufs[i], dst_mem, BUF_SIZE);
        g_assert_cmpmem(src_mem, BUF_SIZE, dst_mem, BUF_SIZE);
    }
    /* And they hold the packets, not the fill from before. */
    r.qts = to;
    pdev->pdev->bus->qts = to;
    for (k = 0; k < npkts; k++) {
        len = cmp_frame(&cmp_cases[k % 3], k, frame, &hdr_len);
        rig_check_slot(&r, k, frame, hdr_len, cmp_nbufs(len, hdr_len));
    }
    pdev->pdev->bus->qts = src;
    qtest_quit(to);
    cmp_backend_stop(&b2);
    unlink(path);
}

static void register_cmp_tests(void)
{
    QOSGraphTestOptions opts = {
        .before = cmp_setup_two,
        .edge.extra_device_opts = "split-hdr=on,id=vnet0",
    };

    if (!g_getenv(BACKEND_ENV)) {
        g_test_message(BACKEND_ENV " not set: skipping the split-hdr "
                       "vhost-user comparison tests");
        return;
    }
    qos_add_test("split-hdr/vhost-user/compare", "virtio-net", test_compare,
                 &opts);
    opts.before = cmp_setup_backend;
    qos_add_test("split-hdr/vhost-user/dirty-log", "virtio-net",
                 test_dirty_log, &opts);
}

libqos_init(register_cmp_tests);
