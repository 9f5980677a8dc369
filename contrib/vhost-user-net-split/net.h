/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split: the network side, where the frames the guest
 * receives come from and those it transmits go.
 *
 * A network side reads frames on its own (from the main loop) and hands
 * each to the backend's receive callback.  The callback returns false
 * when the frame must wait for receive buffers: the network side keeps
 * that frame and those behind it (stream and tap stop reading that
 * queue; slirp, which cannot be stopped, keeps a bounded queue) and
 * hands them over again, in order, when the backend calls
 * vns_net_resume(), as QEMU's net layer queues a packet its device
 * cannot take and flushes it later.
 *
 * The backend publishes received frames to the driver in batches: a
 * network side calls vns_rx_flush() once it has handed over all the
 * frames it has for a queue right now (the end of a read or dispatch),
 * else the last ones wait for the next.
 */

#ifndef VNS_NET_H
#define VNS_NET_H

#define VNS_NET_QUEUES_MAX 8

typedef struct VnsNet VnsNet;

/*
 * One frame for receive queue @queue; @frame starts with a virtio-net
 * header of vnet_hdr_len bytes when the side has one (tap), else with the
 * Ethernet header.  True: taken (delivered or dropped); false: hold it.
 */
typedef bool VnsNetReceive(void *opaque, unsigned int queue,
                           const uint8_t *frame, size_t len);

/* No more frames for @queue now: publish what it took (rx.c). */
void vns_rx_flush(void *opaque, unsigned int queue);

typedef struct VnsNetOps {
    /* Buffers arrived on @queue: hand held frames over, then read on. */
    void (*resume)(VnsNet *net, unsigned int queue);
    /*
     * Send the frame in @iov on @queue, behind a virtio-net header of
     * vnet_hdr_len bytes when the side has one; a failure drops it.
     */
    void (*send)(VnsNet *net, unsigned int queue, const struct iovec *iov,
                 unsigned int iov_cnt);
    /*
     * Optional: the driver negotiated @features; a side with a vnet
     * header takes headers of @hdr_len bytes and the offloads that the
     * guest can receive from here on.
     */
    void (*set_features)(VnsNet *net, uint64_t features, size_t hdr_len);
    /* Stop reading and free everything. */
    void (*close)(VnsNet *net);
} VnsNetOps;

struct VnsNet {
    const VnsNetOps *ops;
    VnsNetReceive *receive;
    void *opaque;
    bool verbose;
    unsigned int queues;                /* queue pairs it serves */
    size_t vnet_hdr_len;                /* 0: plain frames */
    uint64_t offloads;                  /* VIRTIO_NET_F_* it can carry */
};

/*
 * Open the network side @spec, "TYPE,OPTION,...", for @queues queue
 * pairs:
 *   stream,fd=N|connect=PATH,...   (net-stream.c; one per queue pair)
 *   slirp[,net=ADDR/PREFIX][,hostfwd=RULE]...   (net-slirp.c)
 *   tap,ifname=NAME[,multishot=off]   (net-tap.c)
 * NULL with @errp set on failure.
 */
VnsNet *vns_net_open(const char *spec, unsigned int queues,
                     VnsNetReceive *receive, void *opaque, bool verbose,
                     Error **errp);

/* The types; @opts: the NULL-terminated options after the type name. */
VnsNet *vns_net_stream_new(const int *fds, unsigned int queues,
                           VnsNetReceive *receive, void *opaque,
                           bool verbose, Error **errp);
VnsNet *vns_net_slirp_new(char **opts, VnsNetReceive *receive, void *opaque,
                          bool verbose, Error **errp);
VnsNet *vns_net_tap_new(char **opts, unsigned int queues,
                        VnsNetReceive *receive, void *opaque, bool verbose,
                        Error **errp);
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

static inline void vns_net_set_features(VnsNet *net, uint64_t features,
                                        size_t hdr_len)
{
    if (net->ops->set_features) {
        net->ops->set_features(net, features, hdr_len);
    }
}

static inline void vns_net_close(VnsNet *net)
{
    net->ops->close(net);
}

#endif
