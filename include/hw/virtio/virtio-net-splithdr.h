/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Split transport header receive for virtio-net: the device side.
 *
 * hw/net/virtio-net.c calls these hooks; everything else lives in
 * hw/net/virtio-net-splithdr.c.  The guest-visible ABI is in
 * virtio-net-splithdr-wire.h, the normative text in
 * docs/specs/virtio-net-split-hdr.rst.
 */

#ifndef HW_VIRTIO_VIRTIO_NET_SPLITHDR_H
#define HW_VIRTIO_VIRTIO_NET_SPLITHDR_H

#include "hw/virtio/virtio-net.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"

/* Per-device state; NULL in VirtIONet when split-hdr=off. */
typedef struct VirtIONetSplitHdr VirtIONetSplitHdr;

/*
 * Faults the device injects to test a driver's defences, property
 * x-split-hdr-fault (test only; see "Test faults" in the spec).
 */
typedef enum VirtIONetSplitHdrFault {
    VIRTIO_NET_SPLITHDR_FAULT_NONE,
    VIRTIO_NET_SPLITHDR_FAULT_SEQ,          /* slot prefix: seq k + 1 */
    VIRTIO_NET_SPLITHDR_FAULT_HDR_LEN,      /* split: hdr_len = slot_size */
    VIRTIO_NET_SPLITHDR_FAULT_FLAG_NO_RING, /* no ring: split flag set */
    VIRTIO_NET_SPLITHDR_FAULT__MAX,
} VirtIONetSplitHdrFault;

extern const PropertyInfo virtio_net_splithdr_prop_fault;

/* First thing in realize: refuse inconsistent split-hdr properties. */
bool virtio_net_splithdr_check_props(VirtIONet *n, Error **errp);

/* Allocate the per-queue state when the property is on (realize). */
void virtio_net_splithdr_realize(VirtIONet *n, Error **errp);
void virtio_net_splithdr_unrealize(VirtIONet *n);

/*
 * Feature negotiation: keep the feature only when it can work (not with
 * vhost backends, only with its dependencies).  @vhost: the peer is vhost.
 */
void virtio_net_splithdr_get_features(VirtIONet *n, uint64_t *features,
                                      bool vhost);

/*
 * The driver (or virtio_load()) set @features: rings that lost the
 * feature or a dependency are dropped.
 */
void virtio_net_splithdr_set_features(VirtIONet *n, uint64_t features);

/*
 * VirtioDeviceClass post_load of virtio-net, features loaded: refuse a
 * stream whose rings need features it did not negotiate.  0 or -errno.
 */
int virtio_net_splithdr_post_load(VirtIONet *n);

/* VIRTIO_NET_CTRL_SPLIT_HDR class; returns VIRTIO_NET_OK or _ERR. */
uint8_t virtio_net_splithdr_handle_ctrl(VirtIONet *n, uint8_t cmd,
                                        const struct iovec *iov,
                                        unsigned int iov_cnt);

/* Device reset, and reset of virtqueue @vq_index (VIRTIO_F_RING_RESET). */
void virtio_net_splithdr_reset(VirtIONet *n);
void virtio_net_splithdr_queue_reset(VirtIONet *n, uint32_t vq_index);

/*
 * Receive path.  Returns false, having changed nothing, when the packet is
 * not for a queue with a header ring: the classic path then takes it.
 * Otherwise delivers (or refuses) it and sets *@ret as NetReceive would.
 * Called under the RCU read lock.
 */
bool virtio_net_splithdr_receive(VirtIONet *n, NetClientState *nc,
                                 const uint8_t *buf, size_t size,
                                 ssize_t *ret);

/*
 * @hdr is a vnet-header peer's struct virtio_net_hdr, about to be copied
 * to the guest.  The split flag is the device's to set, and only on a
 * packet it split: whatever the peer put there goes (spec section
 * "Inline packet").
 */
static inline void virtio_net_splithdr_peer_hdr(VirtIONet *n, void *hdr)
{
    if (n->splithdr) {
        ((struct virtio_net_hdr *)hdr)->flags &=
            ~VIRTIO_NET_HDR_F_SPLIT_TRANSPORT_HEADER;
    }
}

void virtio_net_splithdr_fault_classic(VirtIONet *n, NetClientState *nc,
                                       const VirtQueueElement *first);

/*
 * Classic receive is about to publish a packet in @elems[0..@count) on
 * @nc's queue, which has no ring.  Only x-split-hdr-fault=flag-no-ring
 * acts here; otherwise this costs one compare.
 */
static inline void virtio_net_splithdr_classic_rx(VirtIONet *n,
                                                  NetClientState *nc,
                                                  VirtQueueElement **elems,
                                                  size_t count)
{
    if (unlikely(n->split_hdr_fault ==
                 VIRTIO_NET_SPLITHDR_FAULT_FLAG_NO_RING) && count) {
        virtio_net_splithdr_fault_classic(n, nc, elems[0]);
    }
}

/*
 * vhost-user backends (virtio-net-splithdr-vhost.c; spec section
 * "vhost-user").  _capable: the peer announced the protocol feature, so
 * the feature may pass through.  _set: forward an accepted SET to a
 * running backend; false, with @errp set, when the backend refused it.
 * _push / _fetch: struct vhost_dev's push_state and fetch_state hooks.
 * _queue_reset: virtqueue @vq_index was reset and its vring stopped.
 */
struct vhost_dev;
bool virtio_net_splithdr_vhost_capable(VirtIONet *n);
bool virtio_net_splithdr_vhost_set(VirtIONet *n,
                                   const struct virtio_net_split_hdr_set *set,
                                   Error **errp);
int virtio_net_splithdr_vhost_push(struct vhost_dev *hdev,
                                   VirtIODevice *vdev);
void virtio_net_splithdr_vhost_fetch(struct vhost_dev *hdev,
                                     VirtIODevice *vdev);
void virtio_net_splithdr_vhost_queue_reset(VirtIONet *n, uint32_t vq_index);
bool virtio_net_splithdr_get_ring(VirtIONet *n, uint32_t rq,
                                  struct virtio_net_split_hdr_set *set,
                                  uint32_t *k);
void virtio_net_splithdr_set_k(VirtIONet *n, uint32_t rq, uint32_t k);

/* Subsection of the device's vmstate, sent only when a ring is set. */
extern const VMStateDescription vmstate_virtio_net_splithdr;

#endif
