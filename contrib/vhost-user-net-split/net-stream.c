/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split network side: a stream socket whose records are
 * frames behind a 4-byte big-endian length, as -netdev socket/stream
 * send them.  One queue.
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

typedef struct VnsNetStream {
    VnsNet net;
    int fd;
    guint src;
    uint8_t *rxbuf;                     /* records read, not yet delivered */
    size_t rx_len;
    bool rx_waiting;                    /* head record waits for buffers */
    uint8_t txbuf[4 + VNS_MAX_FRAME];   /* one record to send */
} VnsNetStream;

static void vns_stream_log(VnsNetStream *ns, const char *msg)
{
    if (ns->net.verbose) {
        fprintf(stderr, "vhost-user-net-split: %s\n", msg);
    }
}

static void vns_stream_watch(VnsNetStream *ns, bool on);

static void vns_stream_shut(VnsNetStream *ns)
{
    vns_stream_watch(ns, false);
    close(ns->fd);
    ns->fd = -1;
    ns->rx_len = 0;
}

/* Deliver the complete records in rxbuf, in order, until one must wait. */
static void vns_stream_drain(VnsNetStream *ns)
{
    size_t off = 0;

    ns->rx_waiting = false;
    while (ns->rx_len - off >= 4) {
        uint32_t len = ldl_be_p(ns->rxbuf + off);

        if (len > VNS_MAX_FRAME) {
            fprintf(stderr, "vhost-user-net-split: network record of %u "
                    "bytes; closing the network side\n", len);
            vns_stream_shut(ns);
            return;
        }
        if (ns->rx_len - off < 4 + len) {
            break;
        }
        if (!ns->net.receive(ns->net.opaque, 0, ns->rxbuf + off + 4, len)) {
            ns->rx_waiting = true;
            break;
        }
        off += 4 + len;
    }
    memmove(ns->rxbuf, ns->rxbuf + off, ns->rx_len - off);
    ns->rx_len -= off;
    /* Read on while there is room; a waiting record resumes on a kick. */
    vns_stream_watch(ns, ns->fd >= 0 && ns->rx_len < VNS_RXBUF_SIZE &&
                         !ns->rx_waiting);
}

static gboolean vns_stream_readable(gint fd, GIOCondition cond,
                                    gpointer opaque)
{
    VnsNetStream *ns = opaque;
    ssize_t r;

    r = read(ns->fd, ns->rxbuf + ns->rx_len, VNS_RXBUF_SIZE - ns->rx_len);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        vns_stream_log(ns, "network side closed");
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

static void vns_stream_watch(VnsNetStream *ns, bool on)
{
    if (on && !ns->src) {
        ns->src = g_unix_fd_add(ns->fd, G_IO_IN | G_IO_HUP,
                                vns_stream_readable, ns);
    } else if (!on && ns->src) {
        g_source_remove(ns->src);
        ns->src = 0;
    }
}

static void vns_stream_resume(VnsNet *net, unsigned int queue)
{
    VnsNetStream *ns = container_of(net, VnsNetStream, net);

    if (ns->rx_waiting || (ns->fd >= 0 && !ns->src)) {
        vns_stream_drain(ns);
    }
}

static void vns_stream_send(VnsNet *net, unsigned int queue,
                            const struct iovec *iov, unsigned int iov_cnt)
{
    VnsNetStream *ns = container_of(net, VnsNetStream, net);
    size_t len;

    if (ns->fd < 0) {
        return;
    }
    len = iov_to_buf(iov, iov_cnt, 0, ns->txbuf + 4, VNS_MAX_FRAME);
    stl_be_p(ns->txbuf, len);
    if (qemu_write_full(ns->fd, ns->txbuf, 4 + len) != 4 + len &&
        ns->net.verbose) {
        fprintf(stderr, "vhost-user-net-split: network write failed: %s\n",
                strerror(errno));
    }
}

static void vns_stream_close(VnsNet *net)
{
    VnsNetStream *ns = container_of(net, VnsNetStream, net);

    vns_stream_watch(ns, false);
    if (ns->fd >= 0) {
        close(ns->fd);
    }
    g_free(ns->rxbuf);
    g_free(ns);
}

static const VnsNetOps vns_stream_ops = {
    .resume = vns_stream_resume,
    .send = vns_stream_send,
    .close = vns_stream_close,
};

VnsNet *vns_net_stream_new(int fd, VnsNetReceive *receive, void *opaque,
                           bool verbose, Error **errp)
{
    VnsNetStream *ns;

    if (!g_unix_set_fd_nonblocking(fd, true, NULL)) {
        error_setg(errp, "network side: cannot make it non-blocking");
        return NULL;
    }
    ns = g_new0(VnsNetStream, 1);
    ns->net.ops = &vns_stream_ops;
    ns->net.receive = receive;
    ns->net.opaque = opaque;
    ns->net.verbose = verbose;
    ns->net.queues = 1;
    ns->fd = fd;
    ns->rxbuf = g_malloc(VNS_RXBUF_SIZE);
    vns_stream_watch(ns, true);
    return &ns->net;
}
