/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Receive helpers of hw/net/virtio-net.c that the split transport header
 * path (virtio-net-splithdr.c) shares, so that filtering, steering and the
 * virtio header stay one piece of code.  Internal to hw/net: nothing
 * outside virtio-net.c and virtio-net-splithdr.c includes this.
 *
 * Receiving one packet into buffers: virtio_net_rx_fill() pops and fills
 * them, then virtio_net_rx_publish() hands them to the guest or
 * virtio_net_rx_discard() gives them back.
 */

#ifndef HW_NET_VIRTIO_NET_RX_H
#define HW_NET_VIRTIO_NET_RX_H

#include "hw/virtio/virtio-net.h"

int virtio_net_process_rss(NetClientState *nc, const uint8_t *buf,
                           size_t size, struct virtio_net_hdr_v1_hash *hdr);
bool virtio_net_can_receive(NetClientState *nc);
int virtio_net_has_buffers(VirtIONetQueue *q, int bufsize);
int virtio_net_receive_filter(VirtIONet *n, const uint8_t *buf, int size);
void virtio_net_receive_header(VirtIONet *n, const struct iovec *iov,
                               int iov_cnt, const void *buf, size_t size);

/* The receive buffers one packet takes, in order, and their used lengths. */
typedef struct VirtIONetRxBufs {
    VirtQueueElement **elems;       /* VIRTQUEUE_MAX_SIZE entries */
    size_t *lens;                   /* VIRTQUEUE_MAX_SIZE entries */
    size_t num;
} VirtIONetRxBufs;

/*
 * Writes what precedes the frame into a packet's first buffer @elem and
 * returns its length, or -1 when it refuses the buffer (virtio_error()
 * said why).  @buf and @size are the packet as received.
 */
typedef ssize_t VirtIONetRxFirstBuf(VirtIONet *n, VirtQueueElement *elem,
                                    const uint8_t *buf, size_t size,
                                    void *opaque);

ssize_t virtio_net_rx_fill(VirtIONetQueue *q, const uint8_t *buf,
                           size_t size, size_t skip,
                           VirtIONetRxFirstBuf *first, void *opaque,
                           VirtIONetRxBufs *bufs);
void virtio_net_rx_publish(VirtIODevice *vdev, VirtIONetQueue *q,
                           VirtIONetRxBufs *bufs);
void virtio_net_rx_discard(VirtIONetQueue *q, VirtIONetRxBufs *bufs);

#endif
