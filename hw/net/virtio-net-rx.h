/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Receive helpers of hw/net/virtio-net.c that the split transport header
 * path (virtio-net-splithdr.c) shares, so that filtering, steering and the
 * virtio header stay one piece of code.  Internal to hw/net: nothing
 * outside virtio-net.c and virtio-net-splithdr.c includes this.
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

#endif
