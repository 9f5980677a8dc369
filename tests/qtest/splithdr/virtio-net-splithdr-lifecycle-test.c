/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest testcases for the life of the split-hdr state around the packets:
 * a load that fails (snapshot-load of a stream with a bad ring, or with
 * rings but not the features they need), a driver that renegotiates
 * without a reset or grows a queue under its ring, the device's unrealize
 * and a realize that fails, and how QEMU's own views (qom-list,
 * x-query-virtio-status) name the feature and type its counters.
 *
 * A failed incoming migration leaves a VM that cannot run, so the loads
 * here go through snapshot-save and snapshot-load on a qcow2 node created
 * over QMP: after a failed snapshot-load the VM can be continued, as a
 * user could.  The stream is patched in the image file as
 * virtio-net-splithdr-migration-test.c patches its migration stream.
 */

#include "qemu/osdep.h"
#include "libqtest-single.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qstring.h"
#include "standard-headers/linux/virtio_net.h"
#include "standard-headers/linux/virtio_config.h"
#include "standard-headers/linux/virtio_pci.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "libqos/qgraph.h"
#include "libqos/virtio.h"
#include "libqos/virtio-pci.h"
#include "libqos/virtio-net.h"
#include "virtio-net-splithdr-rig.h"

#define PROXY_PATH "/machine/peripheral/vnet0"
#define PACKETS_BEFORE 3

/* ---- Snapshots on a qcow2 node ------------------------------------------ */

typedef struct Snap {
    char *path;                /* the qcow2 image */
} Snap;

/* Wait for job @id to conclude; returns its error, or NULL. */
static char *job_wait(QTestState *qts, const char *id)
{
    gint64 start = g_get_monotonic_time();

    for (;;) {
        QDict *rsp = qtest_qmp(qts, "{'execute': 'query-jobs'}");
        QList *jobs = qdict_get_qlist(rsp, "return");
        const QListEntry *e;

        for (e = qlist_first(jobs); e; e = qlist_next(e)) {
            QDict *job = qobject_to(QDict, qlist_entry_obj(e));

            if (!strcmp(qdict_get_str(job, "id"), id) &&
                !strcmp(qdict_get_str(job, "status"), "concluded")) {
                char *err = g_strdup(qdict_get_try_str(job, "error"));

                qobject_unref(rsp);
                qtest_qmp_assert_success(qts, "{'execute': 'job-dismiss', "
                                         "'arguments': {'id': %s}}", id);
                return err;
            }
        }
        qobject_unref(rsp);
        g_assert(g_get_monotonic_time() - start < TIMEOUT_US);
        g_usleep(10000);
    }
}

/* A fresh qcow2 node "snap" for the VM state. */
static void snap_init(Snap *s, QTestState *qts)
{
    int fd;

    s->path = g_strdup_printf("%s/splithdr-snap-XXXXXX", g_get_tmp_dir());
    fd = g_mkstemp(s->path);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    qtest_qmp_assert_success(qts, "{'execute': 'blockdev-add', 'arguments': "
                             "{'driver': 'file', 'filename': %s, "
                             "'node-name': 'snap-file'}}", s->path);
    qtest_qmp_assert_success(qts, "{'execute': 'blockdev-create', "
                             "'arguments': {'job-id': 'create', 'options': "
                             "{'driver': 'qcow2', 'file': 'snap-file', "
                             "'size': 1048576}}}");
    g_assert_null(job_wait(qts, "create"));
    qtest_qmp_assert_success(qts, "{'execute': 'blockdev-add', 'arguments': "
                             "{'driver': 'qcow2', 'node-name': 'snap', "
                             "'file': 'snap-file'}}");
}

static void snap_cleanup(Snap *s)
{
    unlink(s->path);
    g_free(s->path);
}

/* snapshot-save or snapshot-load of tag "t"; returns the job's error. */
static char *snap_job(QTestState *qts, const char *cmd)
{
    qtest_qmp_assert_success(qts, "{'execute': %s, 'arguments': "
                             "{'job-id': %s, 'tag': 't', 'vmstate': 'snap', "
                             "'devices': ['snap']}}", cmd, cmd);
    return job_wait(qts, cmd);
}

/*
 * Patch the saved state in the image: @patch gets the file, its length
 * and where the subsection's ring of queue 0 starts (ring_addr,
 * slot_size, num_slots, proto_mask, k; big endian), and changes it.
 */
static void snap_patch(Snap *s, Rig *r,
                       void (*patch)(uint8_t *file, size_t len,
                                     uint8_t *ring, Rig *r))
{
    const char *name = "virtio-net-device/split-hdr";
    g_autofree gchar *file = NULL;
    uint8_t pattern[20], *sub, *at;
    gsize len;
    int fd;

    g_assert(g_file_get_contents(s->path, &file, &len, NULL));
    sub = memmem(file, len, name, strlen(name));
    g_assert(sub);
    stq_be_p(pattern, r->ring);
    stl_be_p(pattern + 8, r->slot_size);
    stl_be_p(pattern + 12, r->num_slots);
    stl_be_p(pattern + 16, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    at = memmem(sub, (uint8_t *)file + len - sub, pattern, sizeof(pattern));
    g_assert(at);
    g_assert_cmpint(ldl_be_p(at + 20), ==, PACKETS_BEFORE);
    patch((uint8_t *)file, len, at, r);
    /* In place: QEMU has the image open. */
    fd = open(s->path, O_WRONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, file, len, 0), ==, len);
    close(fd);
}

static void cont(QTestState *qts)
{
    qtest_qmp_assert_success(qts, "{'execute': 'cont'}");
}

/* Set a ring, deliver a few packets, save the VM. */
static void save_with_ring(Rig *r, Snap *s, uint8_t *frame, size_t *len,
                           size_t *hdrs)
{
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 6, .payload = 300 };
    uint32_t k;

    *len = rig_build_frame(&spec, frame, hdrs);
    rig_set_ring(r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(r, PACKETS_BEFORE, BUF_SIZE);
    for (k = 0; k < PACKETS_BEFORE; k++) {
        rig_expect_packet(r, k, frame, *len, *hdrs);
    }
    snap_init(s, r->qts);
    g_assert_null(snap_job(r->qts, "snapshot-save"));
}

/* ---- A ring the load must refuse ---------------------------------------- */

/* slot_size 96: not a power of two; the slots would sit 96 bytes apart. */
static void patch_slot_size(uint8_t *file, size_t len, uint8_t *ring, Rig *r)
{
    stl_be_p(ring + 8, 96);
}

/*
 * A load whose ring fails its check leaves the device without any ring,
 * and with its counts straight: continued, then reset by its driver, the
 * VM gets a working device, and nothing lands in the refused ring.
 */
static void test_load_bad_ring(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    uint8_t frame[1024];
    size_t len, hdrs;
    g_autofree char *err = NULL;
    uint64_t bad_ring;
    Snap s;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    save_with_ring(&r, &s, frame, &len, &hdrs);
    snap_patch(&s, &r, patch_slot_size);
    bad_ring = r.ring;

    err = snap_job(r.qts, "snapshot-load");
    g_assert_nonnull(err);
    g_test_message("snapshot-load: %s", err);
    g_assert_cmpint(rig_stat(&r, "enabled"), ==, 0);
    g_assert_cmpint(rig_stat(&r, "k"), ==, 0);

    /*
     * The VM goes on, its driver starting over.  The reset comes first:
     * the load stopped inside virtio_load(), which leaves any virtio
     * device's endianness unset, and QEMU would abort on its first vring
     * access after cont.
     */
    rig_device_reset(&r);
    cont(r.qts);
    rig_fill(&r, bad_ring, 96 * RX_QSIZE, 0xdd);
    rig_device_init(&r);
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, 2, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdrs);
    rig_expect_packet(&r, 1, frame, len, hdrs);
    g_assert_cmpint(rig_stat(&r, "k"), ==, 2);
    if (bad_ring != r.ring) {
        rig_assert_filled(&r, bad_ring, 96 * RX_QSIZE, 0xdd);
    }
    snap_cleanup(&s);
}

/* ---- Rings without the features they need -------------------------------- */

/*
 * Clear VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER in the features the stream
 * negotiated: the virtio subsection "virtio/64bit_features" after the
 * device's, a version and then the features, big endian.
 */
static void patch_no_feature(uint8_t *file, size_t len, uint8_t *ring,
                             Rig *r)
{
    const char *name = "virtio/64bit_features";
    uint8_t *at = memmem(ring, file + len - ring, name, strlen(name));
    uint64_t features;

    g_assert(at);
    at += strlen(name) + 4;
    features = ldq_be_p(at);
    g_assert_cmphex(features, ==, r->vdev->features);
    g_assert(features & (1ull << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER));
    stq_be_p(at, features & ~(1ull << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER));
}

/*
 * The device subsection loads before the features; a stream that sets
 * rings without negotiating the feature must still fail, at the virtio
 * device's post_load, and keep no ring: the VM continued after it
 * receives classic, with nothing in the ring.
 */
static void test_load_no_feature(void *obj, void *data,
                                 QGuestAllocator *alloc)
{
    TestArg *t = data;
    uint8_t frame[1024];
    size_t len, hdrs;
    g_autofree char *err = NULL;
    Snap s;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    save_with_ring(&r, &s, frame, &len, &hdrs);
    snap_patch(&s, &r, patch_no_feature);

    err = snap_job(r.qts, "snapshot-load");
    g_assert_nonnull(err);
    g_test_message("snapshot-load: %s", err);
    g_assert_cmpint(rig_stat(&r, "enabled"), ==, 0);

    /* Everything else loaded: the queues run as they were. */
    cont(r.qts);
    rig_fill(&r, r.ring, 128 * RX_QSIZE, 0xdd);
    rig_expect_classic(&r, frame, len);
    rig_assert_filled(&r, r.ring, 128 * RX_QSIZE, 0xdd);
    snap_cleanup(&s);
}

/* ---- Renegotiation without a reset --------------------------------------- */

/*
 * A driver that rewrites the status without a reset and negotiates again
 * without MRG_RXBUF loses its rings: the device no longer splits, and a
 * SET is refused.
 */
static void test_renegotiate(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    FrameSpec spec = { .l3 = L3_IP6, .l4 = 17, .payload = 200 };
    uint64_t features;
    uint8_t frame[1024];
    size_t len, hdrs;
    UsedElem used;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    len = rig_build_frame(&spec, frame, &hdrs);
    rig_set_ring(&r, 128, RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, 1, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdrs);

    features = r.vdev->features & ~(1ull << VIRTIO_NET_F_MRG_RXBUF);
    r.vdev->bus->set_status(r.vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                            VIRTIO_CONFIG_S_DRIVER);
    qvirtio_set_features(r.vdev, features);
    qvirtio_set_driver_ok(r.vdev);
    g_assert_cmpint(rig_stat(&r, "enabled"), ==, 0);
    g_assert_cmpint(rig_set_raw(&r, 0, 128, RX_QSIZE,
                                VIRTIO_NET_SPLIT_HDR_PROTO_ALL, 0, r.ring),
                    ==, VIRTIO_NET_ERR);

    rig_fill(&r, r.ring, 128 * RX_QSIZE, 0xdd);
    rig_post(&r, 1, BUF_SIZE);
    rig_send(&r, frame, len);
    rig_wait_used(&r, 1, &used);
    g_assert_cmpint(used.len, ==, VHDR_LEN + len);
    rig_assert_filled(&r, r.ring, 128 * RX_QSIZE, 0xdd);
    g_assert_cmpint(rig_stat(&r, "split"), ==, 1);
}

/* ---- Queue size ---------------------------------------------------------- */

static void write_queue_size(Rig *r, uint16_t size)
{
    QVirtioPCIDevice *pdev = container_of(r->vdev, QVirtioPCIDevice, vdev);
    uint64_t base = pdev->common_cfg_offset;

    qpci_io_writew(pdev->pdev, pdev->bar, base +
                   offsetof(struct virtio_pci_common_cfg, queue_select),
                   2 * r->rq);
    qpci_io_writew(pdev->pdev, pdev->bar, base +
                   offsetof(struct virtio_pci_common_cfg, queue_size), size);
    g_assert_cmpint(qpci_io_readw(pdev->pdev, pdev->bar, base +
                                  offsetof(struct virtio_pci_common_cfg,
                                           queue_size)), ==, size);
}

/*
 * SET checked num_slots against the queue size; a queue the driver makes
 * larger than num_slots afterwards breaks the device at the next packet
 * (NEEDS_RESET), before anything is written.  Up to num_slots is fine.
 */
static void test_queue_grows(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    FrameSpec spec = { .l3 = L3_IP4, .l4 = 17, .payload = 100 };
    uint8_t frame[1024];
    size_t len, hdrs;
    Rig r;

    rig_init(&r, obj, alloc, t->sv[0]);
    len = rig_build_frame(&spec, frame, &hdrs);
    rig_set_ring(&r, 128, 2 * RX_QSIZE, VIRTIO_NET_SPLIT_HDR_PROTO_ALL);
    rig_post(&r, 3, BUF_SIZE);
    rig_expect_packet(&r, 0, frame, len, hdrs);

    write_queue_size(&r, 2 * RX_QSIZE);
    rig_expect_packet(&r, 1, frame, len, hdrs);

    write_queue_size(&r, 4 * RX_QSIZE);
    rig_send(&r, frame, len);
    rig_wait_status(&r, VIRTIO_CONFIG_S_NEEDS_RESET);
    rig_assert_no_used(&r);
    rig_assert_filled(&r, r.ring + 2 * 128, 128, 0xdd);
    g_assert_cmpint(rig_stat(&r, "k"), ==, 2);
}

/* ---- Unrealize, and a realize that fails --------------------------------- */

/*
 * The counters property goes with the state it reads: on a device
 * unrealized but still there (qom-set realized off), it is gone.
 */
static void test_unrealize(void *obj, void *data, QGuestAllocator *alloc)
{
    QDict *rsp;

    qtest_qmp_assert_success(global_qtest, "{'execute': 'qom-set', "
                             "'arguments': {'path': %s, 'property': "
                             "'realized', 'value': false}}", PROXY_PATH);
    rsp = qtest_qmp(global_qtest, "{'execute': 'qom-get', 'arguments': {"
                    "'path': %s, 'property': 'split-hdr-stats'}}", QOM_PATH);
    g_assert(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    /* The rest of the object still answers. */
    rsp = qtest_qmp(global_qtest, "{'execute': 'qom-get', 'arguments': {"
                    "'path': %s, 'property': 'split-hdr'}}", QOM_PATH);
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
}

/*
 * virtio-net's realize fails after the split-hdr state is set up
 * (ebpf-rss-fds needs a tap peer, and four of them); then a device_add
 * that works.  The failed realize must undo itself (patch 0014): it used
 * to leave the split-hdr state and its property to leak, and virtio's
 * VM state change handler to crash QEMU, with the freed device, when it
 * quits at the end of the test.
 */
static void test_realize_fails(void *obj, void *data, QGuestAllocator *alloc)
{
    QDict *rsp;

    if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
        g_test_skip("needs root and /dev/net/tun for a tap netdev");
        return;
    }
    qtest_qmp_assert_success(global_qtest, "{'execute': 'netdev_add', "
                             "'arguments': {'type': 'tap', 'id': 'tap1', "
                             "'script': 'no', 'downscript': 'no'}}");
    rsp = qtest_qmp(global_qtest, "{'execute': 'device_add', 'arguments': {"
                    "'driver': 'virtio-net-pci', 'id': 'bad0', "
                    "'netdev': 'tap1', 'split-hdr': true, 'rss': true, "
                    "'ebpf-rss-fds': ['nofd']}}");
    g_assert(qdict_haskey(rsp, "error"));
    g_test_message("device_add: %s",
                   qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"));
    qobject_unref(rsp);

    qtest_qmp_assert_success(global_qtest, "{'execute': 'netdev_add', "
                             "'arguments': {'type': 'hubport', 'id': 'hp1', "
                             "'hubid': 1}}");
    qtest_qmp_assert_success(global_qtest, "{'execute': 'device_add', "
                             "'arguments': {'driver': 'virtio-net-pci', "
                             "'id': 'good0', 'netdev': 'hp1', "
                             "'split-hdr': true}}");
    rsp = qtest_qmp(global_qtest, "{'execute': 'qom-get', 'arguments': {"
                    "'path': '/machine/peripheral/good0/virtio-backend', "
                    "'property': 'split-hdr-stats'}}");
    g_assert_cmpint(qlist_size(qdict_get_qlist(rsp, "return")), ==, 1);
    qobject_unref(rsp);
}

/* ---- QEMU's views of the device ------------------------------------------ */

static const char *const stats_keys[] = {
    "queue", "enabled", "k", "split", "inline-not-ip", "inline-malformed",
    "inline-fragment", "inline-not-tcp-udp", "inline-masked",
    "inline-too-big", "header-bytes", "payload-bytes", "fault-injected",
};

/* Is a "NAME: description" entry for @name in feature list @list? */
static bool features_name(QList *list, const char *name)
{
    const QListEntry *e;

    for (e = qlist_first(list); e; e = qlist_next(e)) {
        const char *f = qstring_get_str(qobject_to(QString,
                                                   qlist_entry_obj(e)));

        if (g_str_has_prefix(f, name) && f[strlen(name)] == ':') {
            return true;
        }
    }
    return false;
}

/*
 * qom-list types the counters property with its QAPI type, and qom-get
 * returns exactly its members; x-query-virtio-status names bit 58 among
 * the offered and the negotiated features.
 */
static void test_views(void *obj, void *data, QGuestAllocator *alloc)
{
    TestArg *t = data;
    const char *name = "VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER";
    QDict *rsp, *ret, *q;
    const QListEntry *e;
    bool found = false;
    Rig r;
    int i;

    rig_init(&r, obj, alloc, t->sv[0]);
    rsp = qtest_qmp(r.qts, "{'execute': 'qom-list', 'arguments': "
                    "{'path': %s}}", QOM_PATH);
    for (e = qlist_first(qdict_get_qlist(rsp, "return")); e;
         e = qlist_next(e)) {
        QDict *p = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(p, "name"), "split-hdr-stats")) {
            g_assert_cmpstr(qdict_get_str(p, "type"), ==,
                            "VirtioNetSplitHdrQueueStatsList");
            found = true;
        }
    }
    g_assert(found);
    qobject_unref(rsp);

    rsp = qtest_qmp(r.qts, "{'execute': 'qom-get', 'arguments': {"
                    "'path': %s, 'property': 'split-hdr-stats'}}", QOM_PATH);
    g_assert_cmpint(qlist_size(qdict_get_qlist(rsp, "return")), ==, 1);
    q = qobject_to(QDict, qlist_peek(qdict_get_qlist(rsp, "return")));
    g_assert_cmpint(qdict_size(q), ==, ARRAY_SIZE(stats_keys));
    for (i = 0; i < ARRAY_SIZE(stats_keys); i++) {
        g_assert(qdict_haskey(q, stats_keys[i]));
    }
    qobject_unref(rsp);

    rsp = qtest_qmp(r.qts, "{'execute': 'x-query-virtio-status', "
                    "'arguments': {'path': %s}}", QOM_PATH);
    ret = qdict_get_qdict(rsp, "return");
    g_assert(ret);
    g_assert(features_name(qdict_get_qlist(qdict_get_qdict(ret,
                                                           "host-features"),
                                           "dev-features"), name));
    g_assert(features_name(qdict_get_qlist(qdict_get_qdict(ret,
                                                           "guest-features"),
                                           "dev-features"), name));
    g_assert(!qdict_haskey(qdict_get_qdict(ret, "host-features"),
                           "unknown-dev-features"));
    qobject_unref(rsp);
}

static void register_lifecycle_tests(void)
{
    QOSGraphTestOptions opts = {
        .before = rig_test_setup,
        .edge.extra_device_opts = "split-hdr=on,id=vnet0",
    };

    qos_add_test("split-hdr/lifecycle/load-bad-ring", "virtio-net",
                 test_load_bad_ring, &opts);
    qos_add_test("split-hdr/lifecycle/load-no-feature", "virtio-net",
                 test_load_no_feature, &opts);
    qos_add_test("split-hdr/lifecycle/renegotiate", "virtio-net",
                 test_renegotiate, &opts);
    qos_add_test("split-hdr/lifecycle/queue-grows", "virtio-net",
                 test_queue_grows, &opts);
    qos_add_test("split-hdr/lifecycle/unrealize", "virtio-net",
                 test_unrealize, &opts);
    qos_add_test("split-hdr/lifecycle/realize-fails", "virtio-net",
                 test_realize_fails, &opts);
    qos_add_test("split-hdr/views", "virtio-net", test_views, &opts);
}

libqos_init(register_lifecycle_tests);
