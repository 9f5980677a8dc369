/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split: the network side, where the frames the guest
 * receives come from and those it transmits go.
 *
 * A network side reads frames on its own (from the main loop) and hands
 * each to the backend's receive callback.  The callback returns false
 * when the frame must wait for receive buffers: the network side keeps
 * that frame, stops reading that queue, and hands the frame over again
 * when the backend calls vns_net_resume(), as QEMU's net layer queues a
 * packet its device cannot take and flushes it later.
 */

#ifndef VNS_NET_H
#define VNS_NET_H

typedef struct VnsNet VnsNet;

/*
 * One frame for receive queue @queue; @frame starts with the Ethernet
 * header.  True: taken (delivered or dropped); false: hold it.
 */
typedef bool VnsNetReceive(void *opaque, unsigned int queue,
                           const uint8_t *frame, size_t len);

typedef struct VnsNetOps {
    /* Buffers arrived on @queue: hand held frames over, then read on. */
    void (*resume)(VnsNet *net, unsigned int queue);
    /* Send the frame in @iov on @queue; a failure drops it. */
    void (*send)(VnsNet *net, unsigned int queue, const struct iovec *iov,
                 unsigned int iov_cnt);
    /* Stop reading and free everything. */
    void (*close)(VnsNet *net);
} VnsNetOps;

struct VnsNet {
    const VnsNetOps *ops;
    VnsNetReceive *receive;
    void *opaque;
    bool verbose;
};

/* Open the network side; NULL with @errp set on failure. */
VnsNet *vns_net_stream_new(int fd, VnsNetReceive *receive, void *opaque,
                           bool verbose, Error **errp);
/* In-process frame source for benchmarks; @spec is "bench,size=N,...". */
VnsNet *vns_net_bench_new(const char *spec, VnsNetReceive *receive,
                          void *opaque, bool verbose, Error **errp);

static inline void vns_net_resume(VnsNet *net, unsigned int queue)
{
    net->ops->resume(net, queue);
}

static inline void vns_net_send(VnsNet *net, unsigned int queue,
                                const struct iovec *iov, unsigned int iov_cnt)
{
    net->ops->send(net, queue, iov, iov_cnt);
}

static inline void vns_net_close(VnsNet *net)
{
    net->ops->close(net);
}

#endif
