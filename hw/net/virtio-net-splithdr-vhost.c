/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Split transport header receive with a vhost-user backend.
 *
 * QEMU keeps the control queue: it validates VIRTIO_NET_CTRL_SPLIT_HDR_SET
 * (virtio-net-splithdr.c) and forwards an accepted ring to the backend,
 * answering the guest only with the backend's REPLY_ACK.  The backend
 * keeps k; QEMU fetches it when the vrings stop and pushes ring and k back
 * before they start, so that stop/cont, reconnect and migration (which
 * carries QEMU's copy) keep slot k and seq k.  A queue reset turns the
 * backend's ring off, as it does QEMU's.  See the "vhost-user" section
 * of docs/specs/virtio-net-split-hdr.rst.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "net/net.h"
#include "net/vhost_net.h"
#include "hw/virtio/vhost.h"
#include "hw/virtio/virtio-net.h"
#include "hw/virtio/virtio-net-splithdr.h"
#include "trace.h"

static struct vhost_net *splithdr_vhost_net(VirtIONet *n, uint32_t rq)
{
    NetClientState *peer;

    if (!n->nic || rq >= n->max_queue_pairs) {
        return NULL;
    }
    peer = qemu_get_peer(n->nic->ncs, rq);
    return peer ? get_vhost_net(peer) : NULL;
}

bool virtio_net_splithdr_vhost_capable(VirtIONet *n)
{
    struct vhost_net *net = splithdr_vhost_net(n, 0);

    return net && vhost_net_split_hdr_supported(net);
}

bool virtio_net_splithdr_vhost_set(VirtIONet *n,
                                   const struct virtio_net_split_hdr_set *set,
                                   Error **errp)
{
    struct vhost_net *net;
    int r;

    if (!n->vhost_started) {
        return true;                /* the next start pushes it */
    }
    net = splithdr_vhost_net(n, set->rq_index);
    if (!net || !vhost_net_split_hdr_supported(net)) {
        error_setg(errp, "the vhost backend does not take header rings");
        return false;
    }
    r = vhost_net_split_hdr_set_ring(net, set);
    trace_virtio_net_splithdr_vhost_set_ring(set->rq_index, set->ring_addr,
                                             r);
    if (r < 0) {
        error_setg_errno(errp, -r, "the vhost backend refused the ring");
        return false;
    }
    return true;
}

/* The receive queue a vhost_dev of a data queue pair serves, or -1. */
static int splithdr_vhost_rq(VirtIONet *n, struct vhost_dev *hdev)
{
    if (hdev->nvqs != 2 || hdev->vq_index % 2 ||
        hdev->vq_index / 2 >= n->max_queue_pairs) {
        return -1;
    }
    return hdev->vq_index / 2;
}

int virtio_net_splithdr_vhost_push(struct vhost_dev *hdev,
                                   VirtIODevice *vdev)
{
    VirtIONet *n = VIRTIO_NET(vdev);
    struct vhost_net *net = container_of(hdev, struct vhost_net, dev);
    struct virtio_net_split_hdr_set set;
    int rq = splithdr_vhost_rq(n, hdev);
    uint32_t k;
    int r;

    if (rq < 0 || !vhost_net_split_hdr_supported(net) ||
        !virtio_net_splithdr_get_ring(n, rq, &set, &k)) {
        return 0;
    }
    /* Every start, ring or not: a reset cleared QEMU's, clear the backend's. */
    r = vhost_net_split_hdr_set_ring(net, &set);
    trace_virtio_net_splithdr_vhost_set_ring(rq, set.ring_addr, r);
    if (r >= 0 && set.ring_addr) {
        r = vhost_net_split_hdr_set_state(net, rq, k);
        trace_virtio_net_splithdr_vhost_push(rq, k, r);
    }
    if (r < 0) {
        error_report("virtio-net: split-hdr: the vhost backend refused the "
                     "ring of queue %d: %s", rq, strerror(-r));
    }
    return r < 0 ? r : 0;
}

void virtio_net_splithdr_vhost_fetch(struct vhost_dev *hdev,
                                     VirtIODevice *vdev)
{
    VirtIONet *n = VIRTIO_NET(vdev);
    struct vhost_net *net = container_of(hdev, struct vhost_net, dev);
    struct virtio_net_split_hdr_set set;
    int rq = splithdr_vhost_rq(n, hdev);
    uint32_t k;
    int r;

    if (rq < 0 || !vhost_net_split_hdr_supported(net) ||
        !virtio_net_splithdr_get_ring(n, rq, &set, &k) || !set.ring_addr) {
        return;
    }
    r = vhost_net_split_hdr_get_state(net, rq, &k);
    trace_virtio_net_splithdr_vhost_fetch(rq, k, r);
    if (r < 0) {
        /* A lost backend: keep the last k; the driver sees seq if wrong. */
        warn_report("virtio-net: split-hdr: could not read k of queue %d "
                    "from the vhost backend", rq);
        return;
    }
    virtio_net_splithdr_set_k(n, rq, k);
}

/*
 * Virtqueue @vq_index was reset (VIRTIO_F_RING_RESET) and its vring
 * stopped (GET_VRING_BASE).  virtio_net_splithdr_queue_reset() forgot a
 * receive queue's ring and k; the backend must too before the vring
 * restarts, or it would place the next packets in the old ring at the
 * old k.  The per-queue restart pushes nothing: the driver SETs again.
 */
void virtio_net_splithdr_vhost_queue_reset(VirtIONet *n, uint32_t vq_index)
{
    struct virtio_net_split_hdr_set set;
    uint32_t rq = vq_index / 2, k;
    Error *err = NULL;

    if (vq_index % 2 || !virtio_net_splithdr_get_ring(n, rq, &set, &k) ||
        !virtio_net_splithdr_vhost_capable(n)) {
        return;
    }
    /* QEMU's copy is off already: set.ring_addr is 0. */
    if (!virtio_net_splithdr_vhost_set(n, &set, &err)) {
        warn_reportf_err(err, "virtio-net: split-hdr: the ring of reset "
                         "queue %u is not off in the vhost backend: ", rq);
    }
}
