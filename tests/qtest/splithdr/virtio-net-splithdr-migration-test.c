/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest testcase for virtio-net split transport header receive across
 * migration: the ring configuration and k travel with the device, so the
 * first packet on the destination lands in slot k with seq k; and a stream
 * whose ring the destination must refuse fails to load, cleanly.
 *
 * The source migrates to a file; the destination, the same command line
 * with its own socket netdev, loads it with migrate-incoming and
 * exit-on-error off so that a failed load can be observed over QMP.
 */

#include "qemu/osdep.h"
#include "libqtest-single.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "standard-headers/linux/virtio_net.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "libqos/qgraph.h"
#include "libqos/virtio.h"
#include "libqos/virtio-pci.h"
#include "libqos/virtio-net.h"
#include "virtio-net-splithdr-rig.h"

#define PACKETS_BEFORE 5

static char *migration_status(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-migrate'}");
    QDict *ret = qdict_get_qdict(rsp, "return");
    char *status = g_strdup(qdict_get_try_str(ret, "status"));

    qobject_unref(rsp);
    return status;
}

/* The error-desc of the migration on @qts, or NULL. */
static char *migration_error(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-migrate'}");
    QDict *ret = qdict_get_qdict(rsp, "return");
    char *desc = g_strdup(qdict_get_try_str(ret, "error-desc"));

    qobject_unref(rsp);
    return desc;
}

/* Poll until the migration on @qts ends; it must end in @want. */
static void wait_migration(QTestState *qts, const char *want)
{
    gint64 start = g_get_monotonic_time();

    for (;;) {
        g_autofree char *st = migration_status(qts);

        if (st && (!strcmp(st, "completed") || !strcmp(st, "failed"))) {
            if (strcmp(st, want)) {
                g_autofree char *desc = migration_error(qts);

                g_test_message("migration %s: %s", st, desc ? desc : "");
            }
            g_assert_cmpstr(st, ==, want);
            return;
        }
        g_assert(g_get_monotonic_time() - start < TIMEOUT_US);
        g_usleep(10000);
    }
}

/*
 * The source's command line with its own socket netdev on @fd: the qos
 * command line leaves out what rig_test_setup() appended.  With @err,
 * the destination's stderr goes to that file (libqtest starts QEMU
 * through sh -c): a failed load says why there, and only there.
 */
static QTestState *start_destination_with(int fd, const char *split_hdr,
                                          const char *err)
{
    g_auto(GStrv) parts = g_strsplit(qos_get_current_command_line(),
                                     "split-hdr=on", 2);
    g_autofree char *cmd = g_strjoinv(split_hdr, parts);
    g_autofree char *redir = err ? g_strdup_printf("2>'%s'", err) : NULL;
    g_autofree char *dest = g_strdup_printf("%s -netdev socket,fd=%d,id=hs0 "
                                            "-incoming defer %s", cmd, fd,
                                            redir ? redir : "");

    g_assert(!strstr(qos_get_current_command_line(), "-netdev"));
    g_assert(parts[0] && parts[1]);
    return qtest_init(dest);
}

static QTestState *start_destination(int fd)
{
    return start_destination_with(fd, "split-hdr=on", NULL);
}

static void migrate_in(QTestState *to, const char *path)
{
    QDict *rsp = qtest_qmp(to, "{'execute': 'migrate-incoming', "
                           "'arguments': {'uri': %s, 'exit-on-error': false}}",
                           path);

    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
}

/* Set a ring, deliver a few packets, migrate the source to @path. */
static void source_side(Rig *r, const uint8_t *frame, size_t len,
                        size_t hdrs, const char *path)
{
    QDict *rsp;
    uint32_t k;

    rig_set_ring(r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(r, PACKETS_BEFORE + 3, BUF_SIZE);
    for (k = 0; k < PACKETS_BEFORE; k++) {
        rig_expect_packet(r, k, frame, len, hdrs);
    }
    rsp = qtest_qmp(r->qts, "{'execute': 'migrate', 'arguments': "
                    "{'uri': %s}}", path);
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    wait_migration(r->qts, "completed");
}

static void test_migrate(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    QVirtioPCIDevice *pdev = container_of(((QVirtioNet *)obj)->vdev,
                                          QVirtioPCIDevice, vdev);
    FrameSpec spec = { .l3 = L3_IP6, .l4 = 6, .tcp_opt_len = 12,
                       .payload = 1000 };
    g_autofree char *path = g_strdup_printf("%s/splithdr-mig-XXXXXX",
                                            g_get_tmp_dir());
    g_autofree char *uri = NULL;
    QTestState *src, *to;
    uint8_t frame[2048];
    size_t hdrs, len;
    int sv[2], fd;
    Rig r;

    fd = g_mkstemp(path);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    uri = g_strdup_printf("file:%s", path);
    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    rig_init(&r, obj, alloc, t->sv[0]);
    src = r.qts;
    len = rig_build_frame(&spec, frame, &hdrs);
    source_side(&r, frame, len, hdrs, uri);

    to = start_destination(sv[1]);
    migrate_in(to, uri);
    wait_migration(to, "completed");
    qtest_qmp_eventwait(to, "RESUME");

    /* Drive the destination: same guest memory, same queue state. */
    r.qts = to;
    r.sock = sv[0];
    pdev->pdev->bus->qts = to;
    g_assert_cmpint(rig_stat(&r, "enabled"), ==, 1);
    g_assert_cmpint(rig_stat(&r, "k"), ==, PACKETS_BEFORE);
    /* Three buffers posted on the source are still there; add one. */
    rig_post(&r, 1, BUF_SIZE);
    frame[hdrs] ^= 0xff;
    rig_expect_packet(&r, PACKETS_BEFORE, frame, len, hdrs);
    rig_expect_packet(&r, PACKETS_BEFORE + 1, frame, len, hdrs);
    g_assert_cmpint(rig_stat(&r, "k"), ==, PACKETS_BEFORE + 2);
    /* The source's slots are the destination's: slot 0 still packet 0. */
    frame[hdrs] ^= 0xff;
    rig_check_slot(&r, 0, frame, hdrs, 1);

    pdev->pdev->bus->qts = src;
    qtest_quit(to);
    close(sv[0]);
    close(sv[1]);
    unlink(path);
}

/* query-migrate's ram.@key on @qts, 0 before the migration has one. */
static uint64_t migration_ram(QTestState *qts, const char *key)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-migrate'}");
    QDict *ram = qdict_get_qdict(qdict_get_qdict(rsp, "return"), "ram");
    uint64_t v = ram ? qdict_get_int(ram, key) : 0;

    qobject_unref(rsp);
    return v;
}

#define LIVE_PACKETS 4
#define LIVE_FILL_ADDR (64 << 20)   /* pages that take a while to send */
#define LIVE_FILL_LEN (16 << 20)
#define LIVE_SLOW_BW (4 << 20)      /* bytes per second */

/*
 * Slots written during the migration, after the ring's pages were sent,
 * reach the destination: the device marks them dirty, so the next pass
 * sends them again.  RAM goes in address order, the ring first, then
 * 16 MiB of non-zero pages at a low bandwidth: the packets arrive
 * while those are sent.  They can only arrive before the switchover,
 * which stops the source.
 */
static void test_migrate_live(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    QVirtioPCIDevice *pdev = container_of(((QVirtioNet *)obj)->vdev,
                                          QVirtioPCIDevice, vdev);
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 6, .payload = 300 };
    g_autofree char *path = g_strdup_printf("%s/splithdr-mig-XXXXXX",
                                            g_get_tmp_dir());
    g_autofree char *uri = NULL;
    uint8_t frames[LIVE_PACKETS][512];
    QTestState *src, *to;
    uint64_t ring_end;
    size_t hdrs, len;
    int sv[2], fd, k;
    QDict *rsp;
    Rig r;

    fd = g_mkstemp(path);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    uri = g_strdup_printf("file:%s", path);
    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    rig_init(&r, obj, alloc, t->sv[0]);
    src = r.qts;
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    ring_end = r.ring + 128 * RX_QSIZE;
    g_assert_cmphex(ring_end, <, LIVE_FILL_ADDR);
    rig_post(&r, LIVE_PACKETS, BUF_SIZE);
    for (k = 0; k < LIVE_PACKETS; k++) {
        len = rig_build_frame(&spec, frames[k], &hdrs);
        frames[k][hdrs] = k + 1;
    }
    qtest_memset(src, LIVE_FILL_ADDR, 0x5a, LIVE_FILL_LEN);

    qtest_qmp_assert_success(src, "{'execute': 'migrate-set-parameters', "
                             "'arguments': {'max-bandwidth': %d}}",
                             LIVE_SLOW_BW);
    rsp = qtest_qmp(src, "{'execute': 'migrate', 'arguments': "
                    "{'uri': %s}}", uri);
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    /* Until the ring's pages are sent: fewer bytes remain than lie past it. */
    for (;;) {
        uint64_t total = migration_ram(src, "total");
        uint64_t left = migration_ram(src, "remaining");

        if (total && left && left < total - ring_end) {
            break;
        }
        g_usleep(1000);
    }
    for (k = 0; k < LIVE_PACKETS; k++) {
        rig_expect_packet(&r, k, frames[k], len, hdrs);
    }
    qtest_qmp_assert_success(src, "{'execute': 'migrate-set-parameters', "
                             "'arguments': {'max-bandwidth': %" PRId64 "}}",
                             (int64_t)1 << 40);
    wait_migration(src, "completed");

    to = start_destination(sv[1]);
    migrate_in(to, uri);
    wait_migration(to, "completed");
    r.qts = to;
    pdev->pdev->bus->qts = to;
    g_assert_cmpint(rig_stat(&r, "k"), ==, LIVE_PACKETS);
    for (k = 0; k < LIVE_PACKETS; k++) {
        rig_check_slot(&r, k, frames[k], hdrs, 1);
    }

    pdev->pdev->bus->qts = src;
    qtest_quit(to);
    close(sv[0]);
    close(sv[1]);
    unlink(path);
}

/*
 * Rings the destination must refuse, patched into a valid stream: the
 * subsection holds ring_addr, slot_size, num_slots, proto_mask, k, big
 * endian.  Each load must fail and leave the destination answering; so
 * must the valid stream into a destination with split-hdr=off.
 */
typedef struct BadRing {
    const char *what;
    uint64_t ring_addr;        /* 0: keep */
    uint32_t slot_size;
    uint32_t num_slots;
    uint32_t proto_mask;
    const char *why;           /* the destination's reason, on stderr */
} BadRing;

static const BadRing bad_rings[] = {
    { "slot_size 96", 0, 96, 256, 0xf, "bad slot_size 96" },
    { "num_slots below the queue size", 0, 128, 128, 0xf,
      "bad num_slots 128 (queue size 256)" },
    { "proto_mask 0", 0, 128, 256, 0, "bad proto_mask 0x0" },
    { "ring in MMIO", 0xfebf0000, 128, 256, 0xf,
      "ring 0xfebf0000+0x8000 is not RAM" },
    { "ring runs past RAM", 0x7ffc000, 128, 256, 0xf,
      "ring 0x7ffc000+0x8000 is not RAM" },
    { "ring misaligned", 1, 128, 256, 0xf, NULL },     /* at the ring + 32 */
};

/*
 * Loading @uri into a fresh destination fails for the reason @why, which
 * the device reports on stderr, and nothing else: QMP's error-desc says
 * only that the load failed, stderr names the section that refused it
 * and the device's reason.  The destination lives on.
 */
static void expect_load_fails(const char *uri, const char *split_hdr,
                              const char *why)
{
    g_autofree char *err = g_strdup_printf("%s/splithdr-mig-err-XXXXXX",
                                           g_get_tmp_dir());
    g_autofree char *desc = NULL;
    g_autofree gchar *out = NULL;
    QTestState *to;
    QDict *rsp;
    int sv[2], fd;

    fd = g_mkstemp(err);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    to = start_destination_with(sv[1], split_hdr, err);
    migrate_in(to, uri);
    wait_migration(to, "failed");
    desc = migration_error(to);
    g_assert_nonnull(desc);
    g_assert(strstr(desc, "load of migration failed"));
    rsp = qtest_qmp(to, "{'execute': 'query-status'}");
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    qtest_quit(to);

    g_assert(g_file_get_contents(err, &out, NULL, NULL));
    g_test_message("destination's stderr: %s", out);
    g_assert(strstr(out, why));
    g_assert(strstr(out, "error while loading state for instance"));
    g_assert(strstr(out, "/virtio-net'"));
    unlink(err);
    close(sv[0]);
    close(sv[1]);
}

static void test_migrate_bad_ring(void *obj, void *data,
                                  QGuestAllocator *alloc)
{
    TestArg *t = data;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 17, .payload = 100 };
    g_autofree char *path = g_strdup_printf("%s/splithdr-mig-XXXXXX",
                                            g_get_tmp_dir());
    g_autofree char *bad = g_strdup_printf("%s.bad", path);
    g_autofree char *uri = NULL, *bad_uri = NULL;
    g_autofree gchar *stream = NULL;
    uint8_t frame[256], pattern[20];
    gsize stream_len;
    size_t hdrs, len;
    const char *name = "virtio-net-device/split-hdr";
    uint8_t *sub, *at;
    int i, fd;
    Rig r;

    fd = g_mkstemp(path);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    uri = g_strdup_printf("file:%s", path);
    bad_uri = g_strdup_printf("file:%s", bad);
    rig_init(&r, obj, alloc, t->sv[0]);
    len = rig_build_frame(&spec, frame, &hdrs);
    source_side(&r, frame, len, hdrs, uri);

    g_assert(g_file_get_contents(path, &stream, &stream_len, NULL));
    sub = memmem(stream, stream_len, name, strlen(name));
    g_assert(sub);
    stq_be_p(pattern, r.ring);
    stl_be_p(pattern + 8, 128);
    stl_be_p(pattern + 12, RX_QSIZE);
    stl_be_p(pattern + 16, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    at = memmem(sub, (uint8_t *)stream + stream_len - sub, pattern,
                sizeof(pattern));
    g_assert(at);
    g_assert_cmpint(ldl_be_p(at + 20), ==, PACKETS_BEFORE);

    for (i = 0; i < ARRAY_SIZE(bad_rings); i++) {
        const BadRing *b = &bad_rings[i];

        g_test_message("bad ring: %s", b->what);
        stq_be_p(at, b->ring_addr == 1 ? r.ring + 32 :
                 b->ring_addr ? b->ring_addr : r.ring);
        stl_be_p(at + 8, b->slot_size);
        stl_be_p(at + 12, b->num_slots);
        stl_be_p(at + 16, b->proto_mask);
        g_assert(g_file_set_contents(bad, stream, stream_len, NULL));
        if (b->ring_addr == 1) {
            g_autofree char *why =
                g_strdup_printf("ring_addr 0x%" PRIx64 " not aligned",
                                r.ring + 32);

            expect_load_fails(bad_uri, "split-hdr=on", why);
        } else {
            expect_load_fails(bad_uri, "split-hdr=on", b->why);
        }
    }
    unlink(bad);

    /* The valid stream, into a device whose split-hdr is off. */
    expect_load_fails(uri, "split-hdr=off",
                      "the migration stream has split-hdr rings but this "
                      "device has split-hdr=off");
    unlink(path);
}

static void register_migration_tests(void)
{
    QOSGraphTestOptions opts = {
        .before = rig_test_setup,
        .edge.extra_device_opts = "split-hdr=on,id=vnet0",
    };

    qos_add_test("split-hdr/migrate", "virtio-net", test_migrate, &opts);
    qos_add_test("split-hdr/migrate-live", "virtio-net", test_migrate_live,
                 &opts);
    qos_add_test("split-hdr/migrate-bad-ring", "virtio-net",
                 test_migrate_bad_ring, &opts);
}

libqos_init(register_migration_tests);
