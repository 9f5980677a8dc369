/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split network side: a stream socket whose records are
 * frames behind a 4-byte big-endian length, as -netdev socket/stream
 * send them.  One socket per queue pair.
 */

#include "qemu/osdep.h"
#include <glib-unix.h>
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "qemu/iov.h"
#include "qemu/cutils.h"
#include "net.h"

/* Largest record -netdev stream sends: NET_BUFSIZE. */
#define VNS_MAX_FRAME (4096 + 65536)
#define VNS_RXBUF_SIZE (4 * (4 + VNS_MAX_FRAME))

typedef struct VnsNetStream VnsNetStream;

typedef struct VnsStreamQueue {
    VnsNetStream *stream;
    unsigned int index;
    int fd;
    guint src;
    uint8_t *rxbuf;                     /* records read, not yet delivered */
    size_t rx_len;
    bool rx_waiting;                    /* head record waits for buffers */
    uint8_t txbuf[4 + VNS_MAX_FRAME];   /* one record to send */
} VnsStreamQueue;

struct VnsNetStream {
    VnsNet net;
    VnsStreamQueue *q[VNS_NET_QUEUES_MAX];
};

static void vns_stream_log(VnsStreamQueue *ns, const char *msg)
{
    fprintf(stderr, "vhost-user-net-split: queue %u: %s\n", ns->index, msg);
}

static void vns_stream_watch(VnsStreamQueue *ns, bool on);

static void vns_stream_shut(VnsStreamQueue *ns)
{
    vns_stream_watch(ns, false);
    close(ns->fd);
    ns->fd = -1;
    ns->rx_len = 0;
}

/* Deliver the complete records in rxbuf, in order, until one must wait. */
static void vns_stream_drain(VnsStreamQueue *ns)
{
    size_t off = 0;

    ns->rx_waiting = false;
    while (ns->rx_len - off >= 4) {
        uint32_t len = ldl_be_p(ns->rxbuf + off);

        if (len > VNS_MAX_FRAME) {
            fprintf(stderr, "vhost-user-net-split: network record of %u "
                    "bytes; closing the network side\n", len);
            vns_rx_flush(ns->stream->net.opaque, ns->index);
            vns_stream_shut(ns);
            return;
        }
        if (ns->rx_len - off < 4 + len) {
            break;
        }
        if (!ns->stream->net.receive(ns->stream->net.opaque, ns->index,
                                 ns->rxbuf + off + 4, len)) {
            ns->rx_waiting = true;
            break;
        }
        off += 4 + len;
    }
    vns_rx_flush(ns->stream->net.opaque, ns->index);
    memmove(ns->rxbuf, ns->rxbuf + off, ns->rx_len - off);
    ns->rx_len -= off;
    /* Read on while there is room; a waiting record resumes on a kick. */
    vns_stream_watch(ns, ns->fd >= 0 && ns->rx_len < VNS_RXBUF_SIZE &&
                         !ns->rx_waiting);
}

static gboolean vns_stream_readable(gint fd, GIOCondition cond,
                                    gpointer opaque)
{
    VnsStreamQueue *ns = opaque;
    ssize_t r;

    r = read(ns->fd, ns->rxbuf + ns->rx_len, VNS_RXBUF_SIZE - ns->rx_len);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        /* The peer is gone: said always, frames to it are dropped. */
        vns_stream_log(ns, r ? "network side failed; closed" :
                               "network peer closed the stream");
        ns->src = 0;
        close(ns->fd);
        ns->fd = -1;
        return G_SOURCE_REMOVE;
    }
    if (r > 0) {
        ns->rx_len += r;
    }
    vns_stream_drain(ns);
    return G_SOURCE_CONTINUE;
}

static void vns_stream_watch(VnsStreamQueue *ns, bool on)
{
    if (on && !ns->src) {
        ns->src = g_unix_fd_add(ns->fd, G_IO_IN | G_IO_HUP,
                                vns_stream_readable, ns);
    } else if (!on && ns->src) {
        g_source_remove(ns->src);
        ns->src = 0;
    }
}

static VnsStreamQueue *vns_stream_queue(VnsNet *net, unsigned int queue)
{
    return container_of(net, VnsNetStream, net)->q[queue];
}

static void vns_stream_resume(VnsNet *net, unsigned int queue)
{
    VnsStreamQueue *ns = vns_stream_queue(net, queue);

    if (ns->rx_waiting || (ns->fd >= 0 && !ns->src)) {
        vns_stream_drain(ns);
    }
}

static void vns_stream_send(VnsNet *net, unsigned int queue,
                            const struct iovec *iov, unsigned int iov_cnt)
{
    VnsStreamQueue *ns = vns_stream_queue(net, queue);
    size_t len;

    if (ns->fd < 0) {
        return;
    }
    len = iov_to_buf(iov, iov_cnt, 0, ns->txbuf + 4, VNS_MAX_FRAME);
    stl_be_p(ns->txbuf, len);
    if (qemu_write_full(ns->fd, ns->txbuf, 4 + len) != 4 + len &&
        net->verbose) {
        fprintf(stderr, "vhost-user-net-split: network write failed: %s\n",
                strerror(errno));
    }
}

static void vns_stream_close(VnsNet *net)
{
    VnsNetStream *stream = container_of(net, VnsNetStream, net);
    unsigned int i;

    for (i = 0; i < net->queues; i++) {
        VnsStreamQueue *ns = stream->q[i];

        vns_stream_watch(ns, false);
        if (ns->fd >= 0) {
            close(ns->fd);
        }
        g_free(ns->rxbuf);
        g_free(ns);
    }
    g_free(stream);
}

static const VnsNetOps vns_stream_ops = {
    .resume = vns_stream_resume,
    .send = vns_stream_send,
    .close = vns_stream_close,
};

/* @fds[i]: the socket of queue pair i. */
VnsNet *vns_net_stream_new(const int *fds, unsigned int queues,
                           VnsNetReceive *receive, void *opaque,
                           bool verbose, Error **errp)
{
    VnsNetStream *stream;
    unsigned int i;

    for (i = 0; i < queues; i++) {
        if (!g_unix_set_fd_nonblocking(fds[i], true, NULL)) {
            error_setg(errp, "network side: cannot make fd %d "
                       "non-blocking", fds[i]);
            return NULL;
        }
    }
    stream = g_new0(VnsNetStream, 1);
    stream->net.ops = &vns_stream_ops;
    stream->net.receive = receive;
    stream->net.opaque = opaque;
    stream->net.verbose = verbose;
    stream->net.queues = queues;
    for (i = 0; i < queues; i++) {
        VnsStreamQueue *ns = g_new0(VnsStreamQueue, 1);

        ns->stream = stream;
        ns->index = i;
        ns->fd = fds[i];
        ns->rxbuf = g_malloc(VNS_RXBUF_SIZE);
        stream->q[i] = ns;
        vns_stream_watch(ns, true);
    }
    return &stream->net;
}
