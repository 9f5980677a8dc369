/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Split transport header receive for virtio-net.
 *
 * Each receive queue may get a ring of fixed-size header slots in guest
 * memory (VIRTIO_NET_CTRL_SPLIT_HDR_SET).  On such a queue the device writes
 * the k-th packet's virtio header, and for split packets its L2..L4 headers,
 * into slot k mod num_slots, and the payload from offset 0 into the
 * mergeable data buffers.  The split decision is in
 * virtio-net-splithdr-policy.c; the normative text is
 * docs/specs/virtio-net-split-hdr.rst.
 *
 * x-split-hdr-fault makes the device break that text on purpose, on every
 * x-split-hdr-fault-interval-th packet, so that a driver's defences can be
 * tested end to end; see "Test faults" in the spec.
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/iov.h"
#include "qapi/error.h"
#include "qapi/util.h"
#include "qapi/visitor.h"
#include "qapi/qapi-visit-virtio-net-split-hdr.h"
#include "qom/object.h"
#include "hw/qdev-properties.h"
#include "hw/core/qdev-prop-internal.h"
#include "system/dma.h"
#include "exec/memory.h"
#include "migration/vmstate.h"
#include "qemu/rcu.h"
#include "net/net.h"
#include "hw/virtio/virtio.h"
#include "hw/virtio/virtio-net.h"
#include "hw/virtio/virtio-net-splithdr.h"
#include "net_rx_pkt.h"
#include "virtio-net-rx.h"
#include "virtio-net-splithdr-policy.h"
#include "trace.h"

/* The ring mapped for slot writes, from its start to the end of its RAM. */
typedef struct SplitHdrRingCache {
    struct rcu_head rcu;
    uint64_t ring_addr;           /* the ring it maps */
    hwaddr len;                   /* bytes mapped from ring_addr */
    MemoryRegionCache mrc;
} SplitHdrRingCache;

typedef struct VirtIONetSplitHdrRing {
    /* Configuration from SET; ring_addr == 0: classic receive. */
    uint64_t ring_addr;
    uint32_t slot_size;
    uint32_t num_slots;
    uint32_t proto_mask;
    /* k: packets delivered since SET, mod 2^32; picks slot and seq. */
    uint32_t k;

    /*
     * x-split-hdr-fault: packets of the queue the fault applies to since k
     * was last reset; the interval-th, 2 * interval-th, ... get it.
     */
    uint32_t fault_count;

    /* Made at the first slot write; dropped with the ring or the memory map. */
    SplitHdrRingCache *cache;

    /* Counters for QMP; local to this QEMU, not migrated. */
    uint64_t verdicts[SPLITHDR_VERDICT__MAX];
    uint64_t header_bytes;
    uint64_t payload_bytes;
    uint64_t faults_injected;
} VirtIONetSplitHdrRing;

/*
 * A ring as the migration stream carries it.  Loaded apart from the live
 * rings, which change only once every ring of the stream checks out.
 */
typedef struct VirtIONetSplitHdrRingState {
    uint64_t ring_addr;
    uint32_t slot_size;
    uint32_t num_slots;
    uint32_t proto_mask;
    uint32_t k;
} VirtIONetSplitHdrRingState;

struct VirtIONetSplitHdr {
    VirtIONet *n;
    uint32_t nr_rings;            /* max_queue_pairs */
    uint32_t nr_active;           /* rings with ring_addr != 0 */
    VirtIONetSplitHdrRing *rings;
    VirtIONetSplitHdrRingState *mig;  /* nr_rings, for the vmstate only */
    /*
     * A migration stream set rings, and the virtio device's post_load has
     * yet to check them against the features the stream negotiated.
     */
    bool loaded_rings;
    VirtIONetSplitHdrFault fault;   /* NONE but in tests */
    uint32_t fault_interval;
    /* Drops the ring caches when the memory map changes; set up with one. */
    MemoryListener listener;

    /*
     * Scratch for one packet, kept off the stack: large automatic arrays
     * are zeroed on every call under -ftrivial-auto-var-init=zero.
     */
    VirtQueueElement **elems;
    size_t *lens;
    uint8_t *slot;
};

#define SPLITHDR_SLOT_HDR_OFF VIRTIO_NET_SPLIT_HDR_PREFIX_LEN

/*
 * What @features lack for header rings to work, or NULL: the feature and
 * its dependencies (spec section "Feature bit").
 */
static const char *splithdr_features_missing(uint64_t features)
{
    if (!virtio_has_feature(features, VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER)) {
        return "VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER";
    }
    if (!virtio_has_feature(features, VIRTIO_F_VERSION_1)) {
        return "VIRTIO_F_VERSION_1";
    }
    if (!virtio_has_feature(features, VIRTIO_NET_F_CTRL_VQ)) {
        return "VIRTIO_NET_F_CTRL_VQ";
    }
    if (!virtio_has_feature(features, VIRTIO_NET_F_MRG_RXBUF)) {
        return "VIRTIO_NET_F_MRG_RXBUF";
    }
    return NULL;
}

/* --- Slot writes through a cached mapping of the ring -------------------- */

static void splithdr_cache_free(SplitHdrRingCache *c)
{
    address_space_cache_destroy(&c->mrc);
    g_free(c);
}

static void splithdr_cache_drop(VirtIONetSplitHdrRing *ring)
{
    if (ring->cache) {
        /* As virtio's vring caches: free it once no reader can hold it. */
        call_rcu(ring->cache, splithdr_cache_free, rcu);
        ring->cache = NULL;
    }
}

/* The memory map changed: a mapping may name memory that is gone. */
static void splithdr_listener_commit(MemoryListener *listener)
{
    VirtIONetSplitHdr *s = container_of(listener, VirtIONetSplitHdr,
                                        listener);
    uint32_t i;

    for (i = 0; i < s->nr_rings; i++) {
        splithdr_cache_drop(&s->rings[i]);
    }
}

static void splithdr_caches_fini(VirtIONetSplitHdr *s)
{
    uint32_t i;

    if (s->listener.commit) {
        memory_listener_unregister(&s->listener);
    }
    for (i = 0; i < s->nr_rings; i++) {
        splithdr_cache_drop(&s->rings[i]);
    }
}

/* @ring's mapping, made now if it has none (first use, or the map changed). */
static SplitHdrRingCache *splithdr_cache_get(VirtIONetSplitHdr *s,
                                             VirtIONetSplitHdrRing *ring)
{
    SplitHdrRingCache *c = ring->cache;
    VirtIODevice *vdev;
    int64_t len;

    /* A ring set by migration or vhost without a clear is mapped anew. */
    if (likely(c && c->ring_addr == ring->ring_addr)) {
        return c;
    }
    /* Only here: a QOM cast costs about 60 instructions a packet. */
    vdev = VIRTIO_DEVICE(s->n);
    splithdr_cache_drop(ring);
    if (!s->listener.commit) {
        /* Here, not at realize: dma_as is set when the device is plugged. */
        s->listener = (MemoryListener) {
            .name = "virtio-net-split-hdr",
            .commit = splithdr_listener_commit,
        };
        memory_listener_register(&s->listener, vdev->dma_as);
    }
    c = g_new0(SplitHdrRingCache, 1);
    c->ring_addr = ring->ring_addr;
    /* Maps less than the ring when the ring spans memory regions. */
    len = address_space_cache_init(&c->mrc, vdev->dma_as, ring->ring_addr,
                                   (hwaddr)ring->num_slots * ring->slot_size,
                                   true);
    c->len = MAX(len, 0);
    ring->cache = c;
    return c;
}

/* Write @len bytes of s->slot at @off in @ring; marks them dirty. */
static bool splithdr_write_slot(VirtIONetSplitHdr *s,
                                VirtIONetSplitHdrRing *ring, hwaddr off,
                                size_t len)
{
    SplitHdrRingCache *c = splithdr_cache_get(s, ring);

    if (likely(off + len <= c->len)) {
        if (address_space_write_cached(&c->mrc, off, s->slot, len) !=
            MEMTX_OK) {
            return false;
        }
        address_space_cache_invalidate(&c->mrc, off, len);
        return true;
    }
    /* A slot beyond the mapping: translate it, as any DMA. */
    return dma_memory_write(VIRTIO_DEVICE(s->n)->dma_as, ring->ring_addr + off,
                            s->slot, len, MEMTXATTRS_UNSPECIFIED) == MEMTX_OK;
}

static bool splithdr_negotiated(VirtIONet *n)
{
    return !splithdr_features_missing(VIRTIO_DEVICE(n)->guest_features);
}

/* --- Test faults (x-split-hdr-fault) ------------------------------------- */

static const QEnumLookup splithdr_fault_lookup = {
    .array = (const char *const[]) {
        [VIRTIO_NET_SPLITHDR_FAULT_NONE] = "none",
        [VIRTIO_NET_SPLITHDR_FAULT_SEQ] = "seq",
        [VIRTIO_NET_SPLITHDR_FAULT_HDR_LEN] = "hdr-len",
        [VIRTIO_NET_SPLITHDR_FAULT_FLAG_NO_RING] = "flag-no-ring",
    },
    .size = VIRTIO_NET_SPLITHDR_FAULT__MAX,
};

const PropertyInfo virtio_net_splithdr_prop_fault = {
    .type = "VirtIONetSplitHdrFault",
    .description = "none/seq/hdr-len/flag-no-ring (test only)",
    .enum_table = &splithdr_fault_lookup,
    .get = qdev_propinfo_get_enum,
    .set = qdev_propinfo_set_enum,
    .set_default_value = qdev_propinfo_set_default_value_enum,
};

static const char *splithdr_fault_name(VirtIONetSplitHdrFault fault)
{
    return qapi_enum_lookup(&splithdr_fault_lookup, fault);
}

bool virtio_net_splithdr_check_props(VirtIONet *n, Error **errp)
{
    if (n->split_hdr_fault == VIRTIO_NET_SPLITHDR_FAULT_NONE) {
        return true;
    }
    if (!virtio_has_feature(n->host_features,
                            VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER)) {
        error_setg(errp, "x-split-hdr-fault needs split-hdr=on");
        return false;
    }
    if (!n->split_hdr_fault_interval) {
        error_setg(errp, "x-split-hdr-fault-interval must be at least 1");
        return false;
    }
    return true;
}

/* Does the next packet that counts for the fault on @ring's queue get it? */
static bool splithdr_fault_due(VirtIONetSplitHdr *s,
                               const VirtIONetSplitHdrRing *ring)
{
    return (ring->fault_count + 1) % s->fault_interval == 0;
}

/* A packet the fault applies to was delivered on @rq, with it or not. */
static void splithdr_fault_count(VirtIONetSplitHdr *s, uint32_t rq,
                                 bool injected)
{
    VirtIONetSplitHdrRing *ring = &s->rings[rq];

    ring->fault_count++;
    if (injected) {
        ring->faults_injected++;
        trace_virtio_net_splithdr_fault(rq, splithdr_fault_name(s->fault),
                                        ring->fault_count);
    }
}

/*
 * flag-no-ring: classic receive of a packet on @nc's queue, which has no
 * ring, about to be published; @first is its first buffer, the virtio
 * header at its start.  Applies only while the feature is negotiated,
 * when the flag means something to the driver.
 */
void virtio_net_splithdr_fault_classic(VirtIONet *n, NetClientState *nc,
                                       const VirtQueueElement *first)
{
    VirtIONetSplitHdr *s = n->splithdr;
    uint32_t rq = nc->queue_index;
    bool inject;
    uint8_t flags;

    if (!s || rq >= s->nr_rings || s->rings[rq].ring_addr ||
        !splithdr_negotiated(n)) {
        return;
    }
    inject = splithdr_fault_due(s, &s->rings[rq]) &&
             iov_to_buf(first->in_sg, first->in_num, 0, &flags, 1) == 1;
    if (inject) {
        flags |= VIRTIO_NET_HDR_F_SPLIT_TRANSPORT_HEADER;
        iov_from_buf(first->in_sg, first->in_num, 0, &flags, 1);
    }
    splithdr_fault_count(s, rq, inject);
}

/* --- Feature negotiation and lifetime ------------------------------------ */

void virtio_net_splithdr_get_features(VirtIONet *n, uint64_t *features,
                                      bool vhost)
{
    const char *why = NULL;

    if (!virtio_has_feature(*features, VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER)) {
        return;
    }
    if (vhost && !virtio_net_splithdr_vhost_capable(n)) {
        why = "the vhost backend does its own receive";
    } else if (!virtio_has_feature(*features, VIRTIO_NET_F_CTRL_VQ)) {
        why = "it needs ctrl_vq=on";
    } else if (!virtio_has_feature(*features, VIRTIO_NET_F_MRG_RXBUF)) {
        why = "it needs mrg_rxbuf=on";
    }
    if (why) {
        virtio_clear_feature(features, VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER);
        warn_report_once("virtio-net: split-hdr=on is not offered: %s", why);
    }
}

static void splithdr_get_stats(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    VirtIONetSplitHdr *s = opaque;
    VirtioNetSplitHdrQueueStatsList *list = NULL, **tail = &list;
    uint32_t i;

    for (i = 0; i < s->nr_rings; i++) {
        const VirtIONetSplitHdrRing *ring = &s->rings[i];
        const uint64_t *verdicts = ring->verdicts;
        VirtioNetSplitHdrQueueStats *q = g_new(VirtioNetSplitHdrQueueStats, 1);

        *q = (VirtioNetSplitHdrQueueStats) {
            .queue = i,
            .enabled = ring->ring_addr != 0,
            .k = ring->k,
            .split = verdicts[SPLITHDR_SPLIT],
            .inline_not_ip = verdicts[SPLITHDR_INLINE_NOT_IP],
            .inline_malformed = verdicts[SPLITHDR_INLINE_MALFORMED],
            .inline_fragment = verdicts[SPLITHDR_INLINE_FRAGMENT],
            .inline_not_tcp_udp = verdicts[SPLITHDR_INLINE_NOT_TCP_UDP],
            .inline_masked = verdicts[SPLITHDR_INLINE_MASKED],
            .inline_too_big = verdicts[SPLITHDR_INLINE_TOO_BIG],
            .header_bytes = ring->header_bytes,
            .payload_bytes = ring->payload_bytes,
            .fault_injected = ring->faults_injected,
        };
        QAPI_LIST_APPEND(tail, q);
    }
    visit_type_VirtioNetSplitHdrQueueStatsList(v, name, &list, errp);
    qapi_free_VirtioNetSplitHdrQueueStatsList(list);
}

void virtio_net_splithdr_realize(VirtIONet *n, Error **errp)
{
    VirtIONetSplitHdr *s;

    if (!virtio_has_feature(n->host_features,
                            VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER)) {
        return;
    }
    s = g_new0(VirtIONetSplitHdr, 1);
    s->n = n;
    s->nr_rings = n->max_queue_pairs;
    s->rings = g_new0(VirtIONetSplitHdrRing, s->nr_rings);
    s->mig = g_new0(VirtIONetSplitHdrRingState, s->nr_rings);
    s->elems = g_new(VirtQueueElement *, VIRTQUEUE_MAX_SIZE);
    s->lens = g_new(size_t, VIRTQUEUE_MAX_SIZE);
    s->slot = g_malloc(VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MAX);
    s->fault = n->split_hdr_fault;
    s->fault_interval = n->split_hdr_fault_interval;
    if (s->fault != VIRTIO_NET_SPLITHDR_FAULT_NONE) {
        warn_report("virtio-net: x-split-hdr-fault=%s, interval %" PRIu32
                    ": this device breaks the split-hdr spec on purpose "
                    "(test only)", splithdr_fault_name(s->fault),
                    s->fault_interval);
    }
    n->splithdr = s;
    /* Removed again in unrealize: its opaque lives no longer than that. */
    object_property_add(OBJECT(n), "split-hdr-stats",
                        "VirtioNetSplitHdrQueueStatsList",
                        splithdr_get_stats, NULL, NULL, s);
}

void virtio_net_splithdr_unrealize(VirtIONet *n)
{
    VirtIONetSplitHdr *s = n->splithdr;

    if (!s) {
        return;
    }
    splithdr_caches_fini(s);
    object_property_del(OBJECT(n), "split-hdr-stats");
    g_free(s->rings);
    g_free(s->mig);
    g_free(s->elems);
    g_free(s->lens);
    g_free(s->slot);
    g_free(s);
    n->splithdr = NULL;
}

static void splithdr_ring_clear(VirtIONetSplitHdr *s, uint32_t rq)
{
    VirtIONetSplitHdrRing *ring = &s->rings[rq];

    if (ring->ring_addr) {
        s->nr_active--;
        trace_virtio_net_splithdr_clear(rq, ring->k);
    }
    splithdr_cache_drop(ring);
    ring->ring_addr = 0;
    ring->k = 0;
    ring->fault_count = 0;
}

void virtio_net_splithdr_reset(VirtIONet *n)
{
    VirtIONetSplitHdr *s = n->splithdr;
    uint32_t i;

    if (!s) {
        return;
    }
    for (i = 0; i < s->nr_rings; i++) {
        splithdr_ring_clear(s, i);
    }
    s->loaded_rings = false;
}

/*
 * The driver wrote its features: without the feature or one of its
 * dependencies the rings are gone, as after a reset.  A driver gets there
 * only by rewriting the status without a reset; virtio_load() gets there
 * with the features of the stream, which virtio_net_splithdr_post_load()
 * then refuses if the stream set rings.
 */
void virtio_net_splithdr_set_features(VirtIONet *n, uint64_t features)
{
    VirtIONetSplitHdr *s = n->splithdr;
    uint32_t i;

    if (!s || !s->nr_active || !splithdr_features_missing(features)) {
        return;
    }
    for (i = 0; i < s->nr_rings; i++) {
        splithdr_ring_clear(s, i);
    }
}

void virtio_net_splithdr_queue_reset(VirtIONet *n, uint32_t vq_index)
{
    /* Receive queues are the even virtqueues below the control queue. */
    if (n->splithdr && vq_index % 2 == 0 &&
        vq_index / 2 < n->splithdr->nr_rings) {
        splithdr_ring_clear(n->splithdr, vq_index / 2);
    }
}

/* --- Ring configuration --------------------------------------------------- */

/* Is [addr, addr + len) writable RAM in the device's DMA address space? */
static bool splithdr_range_is_ram(AddressSpace *as, hwaddr addr, hwaddr len)
{
    RCU_READ_LOCK_GUARD();

    while (len) {
        hwaddr xlat, l = len;
        MemoryRegion *mr = address_space_translate(as, addr, &xlat, &l, true,
                                                   MEMTXATTRS_UNSPECIFIED);

        if (!l || !memory_region_is_ram(mr) || mr->readonly ||
            memory_region_is_romd(mr)) {
            return false;
        }
        addr += l;
        len -= l;
    }
    return true;
}

/*
 * Check a ring configuration for receive queue @rq.  Shared by SET and
 * by migration, which must refuse what SET would refuse.
 */
static bool splithdr_ring_check(VirtIONet *n, uint32_t rq,
                                const VirtIONetSplitHdrRing *c, Error **errp)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(n);
    uint64_t len;
    int qsize;

    if (rq >= n->max_queue_pairs) {
        error_setg(errp, "queue %u beyond %u pairs", rq, n->max_queue_pairs);
        return false;
    }
    if (!c->ring_addr) {
        return true;
    }
    if (!c->proto_mask || (c->proto_mask & ~VIRTIO_NET_SPLIT_HDR_PROTO_ALL)) {
        error_setg(errp, "bad proto_mask 0x%x", c->proto_mask);
        return false;
    }
    if (!is_power_of_2(c->slot_size) ||
        c->slot_size < VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MIN ||
        c->slot_size > VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MAX) {
        error_setg(errp, "bad slot_size %u", c->slot_size);
        return false;
    }
    qsize = virtio_queue_get_num(vdev, rq * 2);
    if (!is_power_of_2(c->num_slots) || c->num_slots < qsize ||
        c->num_slots > VIRTIO_NET_SPLIT_HDR_NUM_SLOTS_MAX) {
        error_setg(errp, "bad num_slots %u (queue size %d)", c->num_slots,
                   qsize);
        return false;
    }
    if (c->ring_addr % VIRTIO_NET_SPLIT_HDR_RING_ALIGN) {
        error_setg(errp, "ring_addr 0x%" PRIx64 " not aligned", c->ring_addr);
        return false;
    }
    len = (uint64_t)c->num_slots * c->slot_size;
    if (c->ring_addr + len < c->ring_addr ||
        !splithdr_range_is_ram(vdev->dma_as, c->ring_addr, len)) {
        error_setg(errp, "ring 0x%" PRIx64 "+0x%" PRIx64 " is not RAM",
                   c->ring_addr, len);
        return false;
    }
    return true;
}

static uint8_t splithdr_set(VirtIONet *n, const struct iovec *iov,
                            unsigned int iov_cnt)
{
    VirtIONetSplitHdr *s = n->splithdr;
    struct virtio_net_split_hdr_set cmd, hset;
    VirtIONetSplitHdrRing c = { 0 };
    Error *err = NULL;
    uint32_t rq;

    if (iov_size(iov, iov_cnt) != sizeof(cmd) ||
        iov_to_buf(iov, iov_cnt, 0, &cmd, sizeof(cmd)) != sizeof(cmd)) {
        error_setg(&err, "command length %zu", iov_size(iov, iov_cnt));
        goto fail;
    }
    rq = le16_to_cpu(cmd.rq_index);
    c.slot_size = le16_to_cpu(cmd.slot_size);
    c.num_slots = le32_to_cpu(cmd.num_slots);
    c.proto_mask = le32_to_cpu(cmd.proto_mask);
    c.ring_addr = le64_to_cpu(cmd.ring_addr);
    if (cmd.reserved) {
        error_setg(&err, "reserved field set");
        goto fail;
    }
    if (!splithdr_ring_check(n, rq, &c, &err)) {
        goto fail;
    }
    /*
     * Slots would otherwise race with buffers the device already owns.
     * A running vhost backend owns the queue's indices: it checks.
     */
    if (!n->vhost_started && !virtio_queue_empty(n->vqs[rq].rx_vq)) {
        error_setg(&err, "receive queue %u holds buffers", rq);
        goto fail;
    }
    hset = (struct virtio_net_split_hdr_set) {
        .rq_index = rq,
        .slot_size = c.slot_size,
        .num_slots = c.num_slots,
        .proto_mask = c.proto_mask,
        .ring_addr = c.ring_addr,
    };
    if (!virtio_net_splithdr_vhost_set(n, &hset, &err)) {
        goto fail;
    }

    splithdr_ring_clear(s, rq);
    if (c.ring_addr) {
        s->rings[rq].ring_addr = c.ring_addr;
        s->rings[rq].slot_size = c.slot_size;
        s->rings[rq].num_slots = c.num_slots;
        s->rings[rq].proto_mask = c.proto_mask;
        s->nr_active++;
    }
    trace_virtio_net_splithdr_set(rq, c.slot_size, c.num_slots, c.proto_mask,
                                  c.ring_addr);
    return VIRTIO_NET_OK;

fail:
    trace_virtio_net_splithdr_set_error(error_get_pretty(err));
    error_free(err);
    return VIRTIO_NET_ERR;
}

uint8_t virtio_net_splithdr_handle_ctrl(VirtIONet *n, uint8_t cmd,
                                        const struct iovec *iov,
                                        unsigned int iov_cnt)
{
    if (!n->splithdr || !splithdr_negotiated(n) ||
        cmd != VIRTIO_NET_CTRL_SPLIT_HDR_SET) {
        return VIRTIO_NET_ERR;
    }
    return splithdr_set(n, iov, iov_cnt);
}

/*
 * Receive queue @rq's ring in host byte order, and its k, for the vhost
 * backend (virtio-net-splithdr-vhost.c).  False when the feature is not
 * in use; ring_addr 0 when the queue has no ring.
 */
bool virtio_net_splithdr_get_ring(VirtIONet *n, uint32_t rq,
                                  struct virtio_net_split_hdr_set *set,
                                  uint32_t *k)
{
    VirtIONetSplitHdr *s = n->splithdr;
    VirtIONetSplitHdrRing *ring;

    if (!s || rq >= s->nr_rings || !splithdr_negotiated(n)) {
        return false;
    }
    ring = &s->rings[rq];
    memset(set, 0, sizeof(*set));
    set->rq_index = rq;
    if (ring->ring_addr) {
        set->slot_size = ring->slot_size;
        set->num_slots = ring->num_slots;
        set->proto_mask = ring->proto_mask;
        set->ring_addr = ring->ring_addr;
    }
    *k = ring->k;
    return true;
}

/* k of queue @rq as the vhost backend left it when it stopped. */
void virtio_net_splithdr_set_k(VirtIONet *n, uint32_t rq, uint32_t k)
{
    if (n->splithdr && rq < n->splithdr->nr_rings &&
        n->splithdr->rings[rq].ring_addr) {
        n->splithdr->rings[rq].k = k;
    }
}

/* --- Receive -------------------------------------------------------------- */

/* The parse RSS made of this packet, as the policy wants it. */
static void splithdr_parse_from_rx_pkt(struct NetRxPkt *pkt, size_t off,
                                       SplitHdrParse *p)
{
    net_rx_pkt_get_protocols(pkt, &p->hasip4, &p->hasip6, &p->l4proto);
    p->l3off = net_rx_pkt_get_l3_hdr_offset(pkt) - off;
    p->l4off = net_rx_pkt_get_l4_hdr_offset(pkt) - off;
    p->fragment = false;
    if (p->hasip4) {
        eth_ip4_hdr_info *ip4 = net_rx_pkt_get_ip4_info(pkt);

        p->fragment = ip4->fragment;
        p->ip_proto = ip4->ip4_hdr.ip_p;
    } else if (p->hasip6) {
        eth_ip6_hdr_info *ip6 = net_rx_pkt_get_ip6_info(pkt);

        p->fragment = ip6->fragment;
        p->ip_proto = ip6->l4proto;
    }
}

/* One packet on its way to a queue whose ring is set. */
typedef struct SplitHdrPacket {
    uint32_t rq;
    VirtIONetSplitHdrRing *ring;
    VirtIONetQueue *q;
    const uint8_t *frame;         /* L2 on, after the peer's vnet header */
    size_t flen;
    SplitHdrVerdict verdict;
    size_t hdr_len;               /* L2..L4 bytes into the slot; 0 inline */
    VirtIONetRxBufs bufs;         /* data buffers holding the payload */
} SplitHdrPacket;

/* Split or inline, and how many header bytes go into the slot. */
static void splithdr_decide(VirtIONet *n, SplitHdrPacket *pkt,
                            const SplitHdrParse *rss_parse)
{
    size_t room = pkt->ring->slot_size - SPLITHDR_SLOT_HDR_OFF -
                  n->guest_hdr_len;
    SplitHdrParse parse;

    if (!rss_parse) {
        splithdr_parse(pkt->frame, pkt->flen, &parse);
        rss_parse = &parse;
    }
    pkt->verdict = splithdr_classify(pkt->frame, pkt->flen, rss_parse,
                                     pkt->ring->proto_mask, room,
                                     &pkt->hdr_len);
    if (pkt->verdict != SPLITHDR_SPLIT) {
        pkt->hdr_len = 0;
    }
}

/*
 * Place the payload, from offset 0, into data buffers and the slot image
 * (prefix, virtio header, and the headers when split) into s->slot.
 * Returns the image's length, or 0 when no buffer was taken (@ret is then
 * what receive returns).
 */
static size_t splithdr_place(VirtIONet *n, SplitHdrPacket *pkt,
                             const uint8_t *buf, size_t size,
                             const struct virtio_net_hdr_v1_hash *hash,
                             ssize_t *ret)
{
    VirtIONetSplitHdr *s = n->splithdr;
    struct virtio_net_hdr_v1_hash *vhdr = (void *)(s->slot +
                                                   SPLITHDR_SLOT_HDR_OFF);
    struct iovec vhdr_iov = { .iov_base = vhdr, .iov_len = n->guest_hdr_len };

    /*
     * The virtio header: classic code, but into the slot image.  First:
     * it completes a DHCP reply's partial checksum in the frame (and
     * clears NEEDS_CSUM), which classic does before copying any of it.
     */
    virtio_net_receive_header(n, &vhdr_iov, 1, buf, size);
    *ret = virtio_net_rx_fill(pkt->q, pkt->frame, pkt->flen, pkt->hdr_len,
                              NULL, NULL, &pkt->bufs);
    if (*ret) {
        return 0;
    }

    stw_le_p(s->slot, pkt->ring->k);
    stw_le_p(s->slot + 2, 0);
    vhdr->hdr.num_buffers = cpu_to_le16(pkt->bufs.num);
    /* Zero unless RSS populated them; past guest_hdr_len they are unused. */
    vhdr->hash_value = cpu_to_le32(hash->hash_value);
    vhdr->hash_report = cpu_to_le16(hash->hash_report);
    vhdr->padding = 0;
    if (pkt->verdict == SPLITHDR_SPLIT) {
        vhdr->hdr.flags |= VIRTIO_NET_HDR_F_SPLIT_TRANSPORT_HEADER;
        vhdr->hdr.hdr_len = cpu_to_le16(pkt->hdr_len);
        memcpy(s->slot + SPLITHDR_SLOT_HDR_OFF + n->guest_hdr_len,
               pkt->frame, pkt->hdr_len);
    }
    return SPLITHDR_SLOT_HDR_OFF + n->guest_hdr_len + pkt->hdr_len;
}

/* x-split-hdr-fault seq or hdr-len: break the slot image if it is due. */
static void splithdr_fault_slot(VirtIONetSplitHdr *s,
                                const SplitHdrPacket *pkt, bool *counts,
                                bool *injected)
{
    struct virtio_net_hdr *vhdr = (void *)(s->slot + SPLITHDR_SLOT_HDR_OFF);

    *counts = s->fault == VIRTIO_NET_SPLITHDR_FAULT_SEQ ||
              (s->fault == VIRTIO_NET_SPLITHDR_FAULT_HDR_LEN &&
               pkt->verdict == SPLITHDR_SPLIT);
    *injected = *counts && splithdr_fault_due(s, pkt->ring);
    if (*injected && s->fault == VIRTIO_NET_SPLITHDR_FAULT_SEQ) {
        stw_le_p(s->slot, pkt->ring->k + 1);
    } else if (*injected) {
        /* More than the slot holds after the prefix and the header. */
        vhdr->hdr_len = cpu_to_le16(pkt->ring->slot_size);
    }
}

/*
 * Publish: the slot first, then the used entries, from which the driver
 * owns the slot.  False, with nothing published, if the slot cannot be
 * written.
 */
static bool splithdr_publish(VirtIONet *n, SplitHdrPacket *pkt,
                             size_t slot_len)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(n);
    VirtIONetSplitHdr *s = n->splithdr;
    VirtIONetSplitHdrRing *ring = pkt->ring;
    size_t payload_len = pkt->flen - pkt->hdr_len;
    bool fault_counts = false, fault = false;
    hwaddr slot_off;

    if (unlikely(s->fault)) {
        splithdr_fault_slot(s, pkt, &fault_counts, &fault);
    }
    slot_off = (hwaddr)(ring->k & (ring->num_slots - 1)) * ring->slot_size;
    if (!splithdr_write_slot(s, ring, slot_off, slot_len)) {
        virtio_error(vdev, "virtio-net split-hdr: slot at 0x%" HWADDR_PRIx
                     " of queue %u is not writable",
                     ring->ring_addr + slot_off, pkt->rq);
        return false;
    }
    virtio_net_rx_publish(vdev, pkt->q, &pkt->bufs);

    /* The verdict's name is a call: only when tracing. */
    if (trace_event_get_state_backends(TRACE_VIRTIO_NET_SPLITHDR_RX)) {
        trace_virtio_net_splithdr_rx(pkt->rq, ring->k,
                                     splithdr_verdict_name(pkt->verdict),
                                     pkt->hdr_len, payload_len,
                                     pkt->bufs.num);
    }
    ring->verdicts[pkt->verdict]++;
    ring->header_bytes += pkt->hdr_len;
    ring->payload_bytes += payload_len;
    if (fault_counts) {
        splithdr_fault_count(s, pkt->rq, fault);
    }
    ring->k++;
    return true;
}

/*
 * Deliver one packet on a queue whose ring is set: decide, place, publish.
 * @rss_parse: the parse RSS made, if any; @hash: the hash fields RSS
 * computed.
 */
static ssize_t splithdr_deliver(VirtIONet *n, NetClientState *nc,
                                const uint8_t *buf, size_t size,
                                const SplitHdrParse *rss_parse,
                                const struct virtio_net_hdr_v1_hash *hash)
{
    VirtIONetSplitHdr *s = n->splithdr;
    SplitHdrPacket pkt = {
        .rq = nc->queue_index,
        .ring = &s->rings[nc->queue_index],
        .q = &n->vqs[nc->queue_index],
        .frame = buf + n->host_hdr_len,
        .flen = size - n->host_hdr_len,
        .bufs = { .elems = s->elems, .lens = s->lens },
    };
    size_t slot_len;
    ssize_t ret;

    if (!virtio_net_can_receive(nc)) {
        return -1;
    }
    /*
     * A frame of zero bytes (a zero-length record from a socket peer),
     * or one shorter than the peer's own vnet header, has nothing to
     * deliver, and returning its size, 0, would tell the net layer "retry
     * later": it would stop the queue and hand the same empty frame back
     * at every refill, each time taking a buffer and a slot, and nothing
     * behind it would ever arrive.  Drop it instead.
     */
    if (size <= n->host_hdr_len) {
        return -1;
    }
    /* With the filter on, virtio_net_receive_filter() drops runts too. */
    if (!virtio_net_receive_filter(n, buf, size)) {
        return size;
    }

    splithdr_decide(n, &pkt, rss_parse);
    /* A packet without payload still takes one buffer, used length 0. */
    if (!virtio_net_has_buffers(pkt.q, MAX(pkt.flen - pkt.hdr_len, 1))) {
        return 0;
    }
    slot_len = splithdr_place(n, &pkt, buf, size, hash, &ret);
    if (!slot_len) {
        return ret;
    }
    if (!splithdr_publish(n, &pkt, slot_len)) {
        virtio_net_rx_discard(pkt.q, &pkt.bufs);
        return -1;
    }
    return size;
}

/*
 * SET checked num_slots against the queue size in force, but a driver can
 * still write a larger one (virtio-pci applies queue_size at once): the
 * slot of packet k could then still be the driver's when the device
 * reuses it.  The spec forbids that while a ring is set (section "Queue
 * size"); the device checks it where it relies on it, here, and stops.
 */
static bool splithdr_qsize_ok(VirtIONet *n, uint32_t rq)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(n);
    int qsize = virtio_queue_get_num(vdev, rq * 2);
    uint32_t num_slots = n->splithdr->rings[rq].num_slots;

    if (likely(qsize <= num_slots)) {
        return true;
    }
    if (!virtio_device_disabled(vdev)) {
        virtio_error(vdev, "virtio-net split-hdr: receive queue %u grew to "
                     "%d entries, beyond its ring's %u slots", rq, qsize,
                     num_slots);
    }
    return false;
}

bool virtio_net_splithdr_receive(VirtIONet *n, NetClientState *nc,
                                 const uint8_t *buf, size_t size,
                                 ssize_t *ret)
{
    VirtIONetSplitHdr *s = n->splithdr;
    struct virtio_net_hdr_v1_hash hash;
    SplitHdrParse rss_parse;
    bool parsed = false;

    if (!s || !s->nr_active) {
        return false;
    }
    hash.hash_value = 0;
    hash.hash_report = 0;

    /* Steer first; the ring of the queue the packet lands on decides. */
    if (n->rss_data.enabled && n->rss_data.enabled_software_rss) {
        int index = virtio_net_process_rss(nc, buf, size, &hash);

        if (index >= 0) {
            nc = qemu_get_subqueue(n->nic, index % n->curr_queue_pairs);
        }
        splithdr_parse_from_rx_pkt(n->rx_pkt, n->host_hdr_len, &rss_parse);
        parsed = true;
    }
    if (nc->queue_index >= s->nr_rings ||
        !s->rings[nc->queue_index].ring_addr) {
        return false;
    }
    if (unlikely(!splithdr_qsize_ok(n, nc->queue_index))) {
        *ret = -1;
        return true;
    }
    *ret = splithdr_deliver(n, nc, buf, size, parsed ? &rss_parse : NULL,
                            &hash);
    return true;
}

/* --- Migration ------------------------------------------------------------ */

static int splithdr_pre_save(void *opaque)
{
    VirtIONetSplitHdr *s = opaque;
    uint32_t i;

    for (i = 0; i < s->nr_rings; i++) {
        const VirtIONetSplitHdrRing *ring = &s->rings[i];

        s->mig[i] = (VirtIONetSplitHdrRingState) {
            .ring_addr = ring->ring_addr,
            .slot_size = ring->slot_size,
            .num_slots = ring->num_slots,
            .proto_mask = ring->proto_mask,
            .k = ring->k,
        };
    }
    return 0;
}

/*
 * Check every ring the stream set, as SET would, and only then make them
 * the device's.  A stream that fails leaves the device without rings, so
 * that a VM continued after the failed load writes through none.
 */
static int splithdr_post_load(void *opaque, int version_id)
{
    VirtIONetSplitHdr *s = opaque;
    Error *err = NULL;
    uint32_t i;

    virtio_net_splithdr_reset(s->n);
    for (i = 0; i < s->nr_rings; i++) {
        const VirtIONetSplitHdrRingState *m = &s->mig[i];
        const VirtIONetSplitHdrRing c = {
            .ring_addr = m->ring_addr,
            .slot_size = m->slot_size,
            .num_slots = m->num_slots,
            .proto_mask = m->proto_mask,
        };

        if (!splithdr_ring_check(s->n, i, &c, &err)) {
            error_prepend(&err, "virtio-net: split-hdr ring of receive "
                          "queue %u in the migration stream: ", i);
            error_report_err(err);
            return -EINVAL;
        }
    }
    for (i = 0; i < s->nr_rings; i++) {
        const VirtIONetSplitHdrRingState *m = &s->mig[i];
        VirtIONetSplitHdrRing *ring = &s->rings[i];

        if (!m->ring_addr) {
            continue;
        }
        ring->ring_addr = m->ring_addr;
        ring->slot_size = m->slot_size;
        ring->num_slots = m->num_slots;
        ring->proto_mask = m->proto_mask;
        ring->k = m->k;
        s->nr_active++;
    }
    s->loaded_rings = s->nr_active != 0;
    return 0;
}

/*
 * The virtio device's post_load: the features are loaded now (the
 * subsection above loads before them), and rings need the feature and
 * its dependencies.  A stream that set rings without them is refused, and
 * the device keeps none.
 */
int virtio_net_splithdr_post_load(VirtIONet *n)
{
    VirtIONetSplitHdr *s = n->splithdr;
    const char *missing;
    bool loaded;

    if (!s) {
        return 0;
    }
    loaded = s->loaded_rings;
    s->loaded_rings = false;
    missing = splithdr_features_missing(VIRTIO_DEVICE(n)->guest_features);
    if (loaded && missing) {
        error_report("virtio-net: the migration stream sets split-hdr rings "
                     "but does not negotiate %s", missing);
        virtio_net_splithdr_reset(n);
        return -EINVAL;
    }
    return 0;
}

static const VMStateDescription vmstate_splithdr_ring = {
    .name = "virtio-net-splithdr-ring",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(ring_addr, VirtIONetSplitHdrRingState),
        VMSTATE_UINT32(slot_size, VirtIONetSplitHdrRingState),
        VMSTATE_UINT32(num_slots, VirtIONetSplitHdrRingState),
        VMSTATE_UINT32(proto_mask, VirtIONetSplitHdrRingState),
        VMSTATE_UINT32(k, VirtIONetSplitHdrRingState),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_splithdr_state = {
    .name = "virtio-net-splithdr-state",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = splithdr_pre_save,
    .post_load = splithdr_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_EQUAL(nr_rings, VirtIONetSplitHdr, NULL),
        VMSTATE_STRUCT_VARRAY_POINTER_UINT32(mig, VirtIONetSplitHdr,
                                             nr_rings, vmstate_splithdr_ring,
                                             VirtIONetSplitHdrRingState),
        VMSTATE_END_OF_LIST()
    },
};

static bool splithdr_needed(void *opaque)
{
    VirtIONet *n = opaque;

    return n->splithdr && n->splithdr->nr_active;
}

/* A source with rings set needs a destination with split-hdr=on. */
static int splithdr_pre_load(void *opaque)
{
    VirtIONet *n = opaque;

    if (!n->splithdr) {
        error_report("virtio-net: the migration stream has split-hdr rings "
                     "but this device has split-hdr=off");
        return -EINVAL;
    }
    return 0;
}

const VMStateDescription vmstate_virtio_net_splithdr = {
    .name = "virtio-net-device/split-hdr",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = splithdr_needed,
    .pre_load = splithdr_pre_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_POINTER(splithdr, VirtIONet, vmstate_splithdr_state,
                               VirtIONetSplitHdr),
        VMSTATE_END_OF_LIST()
    },
};
