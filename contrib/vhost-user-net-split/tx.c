/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split, transmit: each packet goes to the network side as
 * one frame; with its virtio header when the side takes one (a tap does
 * the checksum and segmentation it asks for), without it otherwise.
 */

#include "qemu/osdep.h"
#include "qemu/iov.h"
#include "vns.h"

void vns_tx_kick(VuDev *dev, int qidx)
{
    VuNetSplit *s = vns_of(dev);
    VuVirtq *vq = vu_get_queue(dev, qidx);
    size_t hlen = vns_vhdr_len(dev);

    if (!vns_vq_can_notify(vq)) {
        return;                         /* resumes on SET_VRING_CALL */
    }
    if (!vns_vq_mapped(dev, vq)) {
        return;                         /* a later table may map it */
    }
    for (;;) {
        VuVirtqElement *elem = vu_queue_pop(dev, vq, sizeof(*elem));
        struct iovec frame[VNS_MAX_CHAIN];
        size_t size;
        unsigned int cnt;

        if (!elem) {
            break;
        }
        size = iov_size(elem->out_sg, elem->out_num);
        if (size >= hlen) {
            size_t skip = s->net->vnet_hdr_len ? 0 : hlen;

            cnt = iov_copy(frame, VNS_MAX_CHAIN, elem->out_sg, elem->out_num,
                           skip, size - skip);
            vns_net_send(s->net, qidx / 2, frame, cnt);
        }
        vu_queue_push(dev, vq, elem, 0);
        free(elem);
    }
    vu_queue_notify(dev, vq);
}
