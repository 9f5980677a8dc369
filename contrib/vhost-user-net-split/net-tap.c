/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split network side: a tap interface, read and written
 * through io_uring.
 *
 * The tap is opened IFF_TAP | IFF_NO_PI, with IFF_VNET_HDR when the
 * kernel has it (frames then carry a virtio-net header both ways, and
 * TUNSETOFFLOAD lets through the offloads the guest negotiated), and
 * IFF_MULTI_QUEUE with one fd per queue pair when there are several.
 *
 * Each queue pair has its own ring.  Reads: where the kernel has them, a
 * provided-buffer ring and one multishot read that keeps filling its
 * buffers; otherwise a plain read() when glib says the fd is readable.
 * A frame the receive queue cannot take keeps its buffer, and the frames
 * behind it wait too, until the queue has buffers again; with all
 * buffers held the kernel stops reading and the tap's own queue fills,
 * as it does for QEMU's tap netdev.  Writes: one write per frame from a
 * pool of buffers the ring's completions return.
 */

#include "qemu/osdep.h"
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <glib-unix.h>
#include <liburing.h>
#ifdef CONFIG_VALGRIND_H
#include <valgrind/memcheck.h>
#endif
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/host-utils.h"
#include "qemu/iov.h"
#include "standard-headers/linux/virtio_net.h"
#include "net.h"

/* Kernel 6.7's opcode; liburing 2.3 predates it. */
#define VNS_IORING_OP_READ_MULTISHOT 49

#define VNS_TAP_NBUFS 64                /* power of 2: the buffer ring */
#define VNS_TAP_BUFSZ (12 + 65536 + 4096)
#define VNS_TAP_TX_BUFS 64
#define VNS_TAP_BGID 0
#define VNS_TAP_RX_TAG (1ULL << 63)     /* user_data: read, not write */

typedef struct VnsNetTap VnsNetTap;

typedef struct VnsTapQueue {
    VnsNetTap *tap;
    unsigned int index;
    int fd;
    struct io_uring ring;
    bool has_ring;
    int efd;                            /* the ring's completion eventfd */
    guint efd_src;

    /* Receive. */
    uint8_t *bufs;                      /* VNS_TAP_NBUFS x VNS_TAP_BUFSZ */
    struct io_uring_buf_ring *br;
    bool armed;                         /* multishot read in flight */
    GQueue held;                        /* (bid << 32 | len) waiting */
    guint fd_src;                       /* plain read: fd watch */
    size_t plain_len;                   /* plain read: frame in bufs */

    /* Transmit. */
    uint8_t *txbufs;                    /* VNS_TAP_TX_BUFS x VNS_TAP_BUFSZ */
    uint64_t tx_free;                   /* bitmap of free tx buffers */
} VnsTapQueue;

struct VnsNetTap {
    VnsNet net;
    char ifname[IFNAMSIZ];
    bool multishot;
    unsigned int features;              /* TUNGETFEATURES */
    VnsTapQueue *q;
};

static void vns_tap_rx_process(VnsTapQueue *q);

/* Give buffer @bid back to the kernel. */
static void vns_tap_recycle(VnsTapQueue *q, unsigned int bid)
{
    io_uring_buf_ring_add(q->br, q->bufs + (size_t)bid * VNS_TAP_BUFSZ,
                          VNS_TAP_BUFSZ, bid,
                          io_uring_buf_ring_mask(VNS_TAP_NBUFS), 0);
    io_uring_buf_ring_advance(q->br, 1);
}

static void vns_tap_arm(VnsTapQueue *q)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

    if (!sqe) {
        io_uring_submit(&q->ring);
        sqe = io_uring_get_sqe(&q->ring);
    }
    io_uring_prep_rw(VNS_IORING_OP_READ_MULTISHOT, sqe, q->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = VNS_TAP_BGID;
    io_uring_sqe_set_data64(sqe, VNS_TAP_RX_TAG);
    io_uring_submit(&q->ring);
    q->armed = true;
}

/* Hand the held frames over in order, then publish them. */
static void vns_tap_deliver_held(VnsTapQueue *q)
{
    VnsNetTap *tap = q->tap;
    gpointer e;

    while ((e = g_queue_peek_head(&q->held))) {
        uint64_t v = (uintptr_t)e;
        unsigned int bid = (v >> 32) & 0xffff, len = v & 0xffffffff;

        if (!tap->net.receive(tap->net.opaque, q->index,
                              q->bufs + (size_t)bid * VNS_TAP_BUFSZ, len)) {
            break;
        }
        g_queue_pop_head(&q->held);
        vns_tap_recycle(q, bid);
    }
    vns_rx_flush(tap->net.opaque, q->index);
}

/* Reap completions: reads queue their frames, writes free their buffer. */
static void vns_tap_rx_process(VnsTapQueue *q)
{
    struct io_uring_cqe *cqe;
    unsigned int head, n = 0;

    io_uring_for_each_cqe(&q->ring, head, cqe) {
        n++;
        if (!(cqe->user_data & VNS_TAP_RX_TAG)) {
            q->tx_free |= 1ULL << cqe->user_data;
            continue;
        }
        if (!(cqe->flags & IORING_CQE_F_MORE)) {
            q->armed = false;           /* re-armed below */
        }
        if (cqe->res > 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
            uint64_t bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

#ifdef CONFIG_VALGRIND_H
            /* The kernel wrote it without a syscall valgrind can see. */
            VALGRIND_MAKE_MEM_DEFINED(q->bufs + (size_t)bid * VNS_TAP_BUFSZ,
                                      cqe->res);
#endif
            g_queue_push_tail(&q->held,
                              (gpointer)(uintptr_t)(bid << 32 | cqe->res));
        } else if (cqe->res < 0 && cqe->res != -ENOBUFS) {
            fprintf(stderr, "vhost-user-net-split: tap %s queue %u: read: "
                    "%s\n", q->tap->ifname, q->index, strerror(-cqe->res));
        }
    }
    io_uring_cq_advance(&q->ring, n);
    vns_tap_deliver_held(q);
    /* Out of buffers (-ENOBUFS) ends the read: again once some are back. */
    if (!q->armed && g_queue_get_length(&q->held) < VNS_TAP_NBUFS) {
        vns_tap_arm(q);
    }
}

static gboolean vns_tap_efd_ready(gint fd, GIOCondition cond,
                                  gpointer opaque)
{
    VnsTapQueue *q = opaque;
    eventfd_t v;

    eventfd_read(fd, &v);
    if (q->tap->multishot) {
        vns_tap_rx_process(q);
    } else {
        struct io_uring_cqe *cqe;
        unsigned int head, n = 0;

        io_uring_for_each_cqe(&q->ring, head, cqe) {
            q->tx_free |= 1ULL << cqe->user_data;
            n++;
        }
        io_uring_cq_advance(&q->ring, n);
    }
    return G_SOURCE_CONTINUE;
}

static void vns_tap_plain_watch(VnsTapQueue *q, bool on);

/* The plain fallback: one frame in buffer 0 at a time. */
static gboolean vns_tap_plain_readable(gint fd, GIOCondition cond,
                                       gpointer opaque)
{
    VnsTapQueue *q = opaque;
    VnsNetTap *tap = q->tap;

    for (;;) {
        ssize_t r = read(q->fd, q->bufs, VNS_TAP_BUFSZ);

        if (r < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                fprintf(stderr, "vhost-user-net-split: tap %s: read: %s\n",
                        tap->ifname, strerror(errno));
            }
            vns_rx_flush(tap->net.opaque, q->index);
            return G_SOURCE_CONTINUE;
        }
        if (!tap->net.receive(tap->net.opaque, q->index, q->bufs, r)) {
            q->plain_len = r;
            q->fd_src = 0;
            vns_rx_flush(tap->net.opaque, q->index);
            return G_SOURCE_REMOVE;
        }
    }
}

static void vns_tap_plain_watch(VnsTapQueue *q, bool on)
{
    if (on && !q->fd_src) {
        q->fd_src = g_unix_fd_add(q->fd, G_IO_IN, vns_tap_plain_readable, q);
    } else if (!on && q->fd_src) {
        g_source_remove(q->fd_src);
        q->fd_src = 0;
    }
}

static void vns_tap_resume(VnsNet *net, unsigned int queue)
{
    VnsNetTap *tap = container_of(net, VnsNetTap, net);
    VnsTapQueue *q = &tap->q[queue];

    if (tap->multishot) {
        vns_tap_rx_process(q);
        return;
    }
    if (q->plain_len) {
        bool taken = net->receive(net->opaque, queue, q->bufs, q->plain_len);

        vns_rx_flush(net->opaque, queue);
        if (!taken) {
            return;
        }
        q->plain_len = 0;
    }
    vns_tap_plain_watch(q, true);
}

static int vns_tap_tx_buf(VnsTapQueue *q)
{
    struct io_uring_cqe *cqe;

    while (!q->tx_free) {
        /* Tap writes do not block: this waits for a completion only. */
        if (io_uring_wait_cqe(&q->ring, &cqe) < 0) {
            return -1;
        }
        if (q->tap->multishot) {
            vns_tap_rx_process(q);
        } else {
            q->tx_free |= 1ULL << cqe->user_data;
            io_uring_cqe_seen(&q->ring, cqe);
        }
    }
    return ctz64(q->tx_free);
}

static void vns_tap_send(VnsNet *net, unsigned int queue,
                         const struct iovec *iov, unsigned int iov_cnt)
{
    VnsNetTap *tap = container_of(net, VnsNetTap, net);
    VnsTapQueue *q = &tap->q[queue];
    struct io_uring_sqe *sqe;
    uint8_t *buf;
    size_t len;
    int b;

    if (!q->has_ring) {
        g_autofree uint8_t *lin = g_malloc(VNS_TAP_BUFSZ);

        len = iov_to_buf(iov, iov_cnt, 0, lin, VNS_TAP_BUFSZ);
        if (write(q->fd, lin, len) < 0 && net->verbose) {
            fprintf(stderr, "vhost-user-net-split: tap write: %s\n",
                    strerror(errno));
        }
        return;
    }
    b = vns_tap_tx_buf(q);
    if (b < 0) {
        return;
    }
    buf = q->txbufs + (size_t)b * VNS_TAP_BUFSZ;
    len = iov_to_buf(iov, iov_cnt, 0, buf, VNS_TAP_BUFSZ);
    sqe = io_uring_get_sqe(&q->ring);
    if (!sqe) {
        io_uring_submit(&q->ring);
        sqe = io_uring_get_sqe(&q->ring);
    }
    io_uring_prep_write(sqe, q->fd, buf, len, 0);
    io_uring_sqe_set_data64(sqe, b);
    q->tx_free &= ~(1ULL << b);
    io_uring_submit(&q->ring);
}

/* The offloads the guest can receive, and the header size it speaks. */
static void vns_tap_set_features(VnsNet *net, uint64_t features,
                                 size_t hdr_len)
{
    VnsNetTap *tap = container_of(net, VnsNetTap, net);
    static const struct {
        unsigned int feature, tun;
    } map[] = {
        { VIRTIO_NET_F_GUEST_CSUM, TUN_F_CSUM },
        { VIRTIO_NET_F_GUEST_TSO4, TUN_F_TSO4 },
        { VIRTIO_NET_F_GUEST_TSO6, TUN_F_TSO6 },
        { VIRTIO_NET_F_GUEST_ECN, TUN_F_TSO_ECN },
    };
    unsigned int offload = 0, i;
    int sz = hdr_len;

    if (!net->vnet_hdr_len) {
        return;
    }
    for (i = 0; i < ARRAY_SIZE(map); i++) {
        if (features & (1ULL << map[i].feature)) {
            offload |= map[i].tun;
        }
    }
    /* TSO without checksum offload means nothing to the tap. */
    if (!(offload & TUN_F_CSUM)) {
        offload = 0;
    }
    for (i = 0; i < net->queues; i++) {
        if (ioctl(tap->q[i].fd, TUNSETVNETHDRSZ, &sz) < 0 ||
            ioctl(tap->q[i].fd, TUNSETOFFLOAD, offload) < 0) {
            fprintf(stderr, "vhost-user-net-split: tap %s: offloads 0x%x: "
                    "%s\n", tap->ifname, offload, strerror(errno));
        }
    }
    net->vnet_hdr_len = hdr_len;
}

static void vns_tap_queue_close(VnsTapQueue *q)
{
    if (q->efd_src) {
        g_source_remove(q->efd_src);
    }
    vns_tap_plain_watch(q, false);
    if (q->has_ring) {
        io_uring_queue_exit(&q->ring);
    }
    if (q->efd >= 0) {
        close(q->efd);
    }
    if (q->br) {
        munmap(q->br, VNS_TAP_NBUFS * sizeof(struct io_uring_buf));
    }
    if (q->fd >= 0) {
        close(q->fd);
    }
    g_queue_clear(&q->held);
    g_free(q->bufs);
    g_free(q->txbufs);
}

static void vns_tap_close(VnsNet *net)
{
    VnsNetTap *tap = container_of(net, VnsNetTap, net);
    unsigned int i;

    for (i = 0; i < net->queues; i++) {
        vns_tap_queue_close(&tap->q[i]);
    }
    g_free(tap->q);
    g_free(tap);
}

static const VnsNetOps vns_tap_ops = {
    .resume = vns_tap_resume,
    .send = vns_tap_send,
    .set_features = vns_tap_set_features,
    .close = vns_tap_close,
};

/* Can this kernel do multishot reads into a provided-buffer ring? */
static bool vns_tap_probe_multishot(struct io_uring *ring)
{
    struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
    bool ok = probe &&
              io_uring_opcode_supported(probe, VNS_IORING_OP_READ_MULTISHOT);

    io_uring_free_probe(probe);
    return ok;
}

static bool vns_tap_queue_open(VnsNetTap *tap, VnsTapQueue *q, int flags,
                               Error **errp)
{
    struct ifreq ifr = { 0 };
    unsigned int i;

    q->tap = tap;
    q->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (q->fd < 0) {
        error_setg_errno(errp, errno, "tap: cannot open /dev/net/tun");
        return false;
    }
    pstrcpy(ifr.ifr_name, IFNAMSIZ, tap->ifname);
    ifr.ifr_flags = flags;
    if (ioctl(q->fd, TUNSETIFF, &ifr) < 0) {
        error_setg_errno(errp, errno, "tap: cannot attach to %s",
                         tap->ifname[0] ? tap->ifname : "a new tap");
        return false;
    }
    /* The kernel names a new interface; the other queues join it. */
    pstrcpy(tap->ifname, IFNAMSIZ, ifr.ifr_name);
    if (flags & IFF_VNET_HDR) {
        int sz = sizeof(struct virtio_net_hdr_mrg_rxbuf);

        if (ioctl(q->fd, TUNSETVNETHDRSZ, &sz) < 0 ||
            ioctl(q->fd, TUNSETOFFLOAD, 0) < 0) {
            error_setg_errno(errp, errno, "tap: vnet header on %s",
                             tap->ifname);
            return false;
        }
    }
    q->bufs = g_malloc(tap->multishot ? VNS_TAP_NBUFS * VNS_TAP_BUFSZ :
                       VNS_TAP_BUFSZ);
    q->txbufs = g_malloc(VNS_TAP_TX_BUFS * VNS_TAP_BUFSZ);
    q->tx_free = VNS_TAP_TX_BUFS == 64 ? ~0ULL : (1ULL << VNS_TAP_TX_BUFS) - 1;
    g_queue_init(&q->held);

    if (!q->has_ring) {
        vns_tap_plain_watch(q, true);
        return true;
    }
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0 || io_uring_register_eventfd(&q->ring, q->efd) < 0) {
        error_setg(errp, "tap: cannot register the ring's eventfd");
        return false;
    }
    q->efd_src = g_unix_fd_add(q->efd, G_IO_IN, vns_tap_efd_ready, q);
    if (!tap->multishot) {
        vns_tap_plain_watch(q, true);
        return true;
    }

    q->br = mmap(NULL, VNS_TAP_NBUFS * sizeof(struct io_uring_buf),
                 PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (q->br == MAP_FAILED) {
        q->br = NULL;
        error_setg_errno(errp, errno, "tap: buffer ring");
        return false;
    }
    {
        struct io_uring_buf_reg reg = {
            .ring_addr = (uintptr_t)q->br,
            .ring_entries = VNS_TAP_NBUFS,
            .bgid = VNS_TAP_BGID,
        };
        int r = io_uring_register_buf_ring(&q->ring, &reg, 0);

        if (r < 0) {
            error_setg_errno(errp, -r, "tap: register buffer ring");
            return false;
        }
    }
    io_uring_buf_ring_init(q->br);
    for (i = 0; i < VNS_TAP_NBUFS; i++) {
        vns_tap_recycle(q, i);
    }
    vns_tap_arm(q);
    return true;
}

/*
 * tap[,ifname=NAME][,multishot=off]: attach to (or create) the
 * interface; multishot=off takes the plain read() path a kernel without
 * multishot reads gets.
 */
VnsNet *vns_net_tap_new(char **opts, unsigned int queues,
                        VnsNetReceive *receive, void *opaque, bool verbose,
                        Error **errp)
{
    VnsNetTap *tap = g_new0(VnsNetTap, 1);
    struct io_uring probe_ring;
    int flags = IFF_TAP | IFF_NO_PI, fd;
    bool uring, no_multishot = false;
    unsigned int i;
    char **o;

    for (o = opts; *o; o++) {
        if (g_str_has_prefix(*o, "ifname=") &&
            strlen(*o + 7) < IFNAMSIZ) {
            pstrcpy(tap->ifname, IFNAMSIZ, *o + 7);
        } else if (!strcmp(*o, "multishot=off")) {
            no_multishot = true;
        } else {
            error_setg(errp, "tap: unknown or bad option '%s' (ifname=, "
                       "multishot=off)", *o);
            g_free(tap);
            return NULL;
        }
    }
    tap->net.ops = &vns_tap_ops;
    tap->net.receive = receive;
    tap->net.opaque = opaque;
    tap->net.verbose = verbose;
    tap->net.queues = queues;

    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        error_setg_errno(errp, errno, "tap: cannot open /dev/net/tun");
        g_free(tap);
        return NULL;
    }
    if (ioctl(fd, TUNGETFEATURES, &tap->features) < 0) {
        tap->features = 0;
    }
    close(fd);
    if (tap->features & IFF_VNET_HDR) {
        flags |= IFF_VNET_HDR;
        tap->net.vnet_hdr_len = sizeof(struct virtio_net_hdr_mrg_rxbuf);
        tap->net.offloads = 1ULL << VIRTIO_NET_F_CSUM |
                            1ULL << VIRTIO_NET_F_HOST_TSO4 |
                            1ULL << VIRTIO_NET_F_HOST_TSO6 |
                            1ULL << VIRTIO_NET_F_HOST_ECN |
                            1ULL << VIRTIO_NET_F_GUEST_CSUM |
                            1ULL << VIRTIO_NET_F_GUEST_TSO4 |
                            1ULL << VIRTIO_NET_F_GUEST_TSO6 |
                            1ULL << VIRTIO_NET_F_GUEST_ECN;
    }
    if (queues > 1) {
        if (!(tap->features & IFF_MULTI_QUEUE)) {
            error_setg(errp, "tap: this kernel has no multiqueue taps");
            g_free(tap);
            return NULL;
        }
        flags |= IFF_MULTI_QUEUE;
    }

    uring = io_uring_queue_init(8, &probe_ring, 0) == 0;
    if (uring) {
        tap->multishot = !no_multishot &&
                         vns_tap_probe_multishot(&probe_ring);
        io_uring_queue_exit(&probe_ring);
    }
    tap->q = g_new0(VnsTapQueue, queues);
    for (i = 0; i < queues; i++) {
        VnsTapQueue *q = &tap->q[i];

        q->index = i;
        q->efd = -1;
        q->has_ring = uring &&
                      io_uring_queue_init(2 * VNS_TAP_NBUFS, &q->ring, 0) == 0;
        if (!vns_tap_queue_open(tap, q, flags, errp)) {
            tap->net.queues = i + 1;
            vns_tap_close(&tap->net);
            return NULL;
        }
    }
    fprintf(stderr, "vhost-user-net-split: tap %s, %u queue pair%s, vnet "
            "header %s, reads: %s, writes: %s\n", tap->ifname, queues,
            queues > 1 ? "s" : "", flags & IFF_VNET_HDR ? "on" : "off",
            !uring ? "read()" : tap->multishot ?
            "io_uring multishot read, provided-buffer ring" : "read()",
            uring ? "io_uring" : "write()");
    return &tap->net;
}
