/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split network side: libslirp user networking, as
 * -netdev user: no root, a 10.0.2.0/24 network with the host at .2, DNS
 * at .3 and DHCP from .15, and host forwards into the guest.  One queue.
 *
 * slirp's sockets and timers run in the glib main loop: a GSource fills
 * its poll set from slirp_pollfds_fill() before each poll and hands the
 * results to slirp_pollfds_poll().  slirp cannot be told to wait, so the
 * frames a full receive queue cannot take wait in a bounded queue here,
 * as QEMU's net queue holds them for a device; beyond it they are
 * dropped and TCP retransmits.
 */

#include "qemu/osdep.h"
#include <slirp/libslirp.h>
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/iov.h"
#include "net.h"

#define VNS_SLIRP_HELD_MAX 512
#define VNS_SLIRP_FRAME_MAX 65536

typedef struct VnsNetSlirp VnsNetSlirp;

typedef struct VnsSlirpSource {
    GSource source;
    VnsNetSlirp *ns;
} VnsSlirpSource;

typedef struct VnsSlirpTimer {
    VnsNetSlirp *ns;
    SlirpTimerCb cb;
    void *cb_opaque;
    guint src;
} VnsSlirpTimer;

struct VnsNetSlirp {
    VnsNet net;
    Slirp *slirp;
    GSource *source;
    GArray *pollfds;                    /* GPollFD, as slirp asked */
    GQueue held;                        /* GBytes for a full queue */
    uint64_t dropped;
    uint8_t txbuf[VNS_SLIRP_FRAME_MAX];
};

static const struct {
    int slirp;
    GIOCondition glib;
} vns_slirp_events[] = {
    { SLIRP_POLL_IN, G_IO_IN },
    { SLIRP_POLL_OUT, G_IO_OUT },
    { SLIRP_POLL_PRI, G_IO_PRI },
    { SLIRP_POLL_ERR, G_IO_ERR },
    { SLIRP_POLL_HUP, G_IO_HUP },
};

static int vns_slirp_add_poll(int fd, int events, void *opaque)
{
    VnsNetSlirp *ns = opaque;
    GPollFD pfd = { .fd = fd };
    int i;

    for (i = 0; i < ARRAY_SIZE(vns_slirp_events); i++) {
        if (events & vns_slirp_events[i].slirp) {
            pfd.events |= vns_slirp_events[i].glib;
        }
    }
    g_array_append_val(ns->pollfds, pfd);
    return ns->pollfds->len - 1;
}

static int vns_slirp_get_revents(int idx, void *opaque)
{
    VnsNetSlirp *ns = opaque;
    GPollFD *pfd = &g_array_index(ns->pollfds, GPollFD, idx);
    int i, events = 0;

    for (i = 0; i < ARRAY_SIZE(vns_slirp_events); i++) {
        if (pfd->revents & vns_slirp_events[i].glib) {
            events |= vns_slirp_events[i].slirp;
        }
    }
    return events;
}

static gboolean vns_slirp_prepare(GSource *source, gint *timeout)
{
    VnsNetSlirp *ns = ((VnsSlirpSource *)source)->ns;
    uint32_t t = UINT32_MAX;
    guint i;

    for (i = 0; i < ns->pollfds->len; i++) {
        g_source_remove_poll(source,
                             &g_array_index(ns->pollfds, GPollFD, i));
    }
    g_array_set_size(ns->pollfds, 0);
    slirp_pollfds_fill(ns->slirp, &t, vns_slirp_add_poll, ns);
    /* Only now: the array no longer moves until the next prepare. */
    for (i = 0; i < ns->pollfds->len; i++) {
        g_source_add_poll(source, &g_array_index(ns->pollfds, GPollFD, i));
    }
    *timeout = t == UINT32_MAX ? -1 : t;
    return FALSE;
}

/* slirp's TCP timers run in slirp_pollfds_poll(): dispatch every time. */
static gboolean vns_slirp_check(GSource *source)
{
    return TRUE;
}

static gboolean vns_slirp_dispatch(GSource *source, GSourceFunc cb,
                                   gpointer data)
{
    VnsNetSlirp *ns = ((VnsSlirpSource *)source)->ns;

    slirp_pollfds_poll(ns->slirp, 0, vns_slirp_get_revents, ns);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs vns_slirp_source_funcs = {
    .prepare = vns_slirp_prepare,
    .check = vns_slirp_check,
    .dispatch = vns_slirp_dispatch,
};

/* slirp sends a frame to the guest. */
static ssize_t vns_slirp_send_packet(const void *buf, size_t len,
                                     void *opaque)
{
    VnsNetSlirp *ns = opaque;

    /*
     * Frames come one by one from timers, input and dispatch alike, at
     * rates where one publication each costs nothing: publish each.
     */
    if (g_queue_is_empty(&ns->held) &&
        ns->net.receive(ns->net.opaque, 0, buf, len)) {
        vns_rx_flush(ns->net.opaque, 0);
        return len;
    }
    if (g_queue_get_length(&ns->held) >= VNS_SLIRP_HELD_MAX) {
        ns->dropped++;
        return len;
    }
    g_queue_push_tail(&ns->held, g_bytes_new(buf, len));
    return len;
}

static void vns_slirp_guest_error(const char *msg, void *opaque)
{
    fprintf(stderr, "vhost-user-net-split: slirp: %s\n", msg);
}

static int64_t vns_slirp_clock_get_ns(void *opaque)
{
    return g_get_monotonic_time() * 1000;
}

static gboolean vns_slirp_timer_fire(gpointer opaque)
{
    VnsSlirpTimer *t = opaque;

    t->src = 0;
    t->cb(t->cb_opaque);
    return G_SOURCE_REMOVE;
}

static void *vns_slirp_timer_new(SlirpTimerCb cb, void *cb_opaque,
                                 void *opaque)
{
    VnsSlirpTimer *t = g_new0(VnsSlirpTimer, 1);

    t->ns = opaque;
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    return t;
}

static void vns_slirp_timer_free(void *timer, void *opaque)
{
    VnsSlirpTimer *t = timer;

    if (t->src) {
        g_source_remove(t->src);
    }
    g_free(t);
}

/* @expire_time: milliseconds on clock_get_ns's clock. */
static void vns_slirp_timer_mod(void *timer, int64_t expire_time,
                                void *opaque)
{
    VnsSlirpTimer *t = timer;
    int64_t delay = expire_time - g_get_monotonic_time() / 1000;

    if (t->src) {
        g_source_remove(t->src);
    }
    t->src = g_timeout_add(MAX(delay, 0), vns_slirp_timer_fire, t);
}

static void vns_slirp_register_poll_fd(int fd, void *opaque)
{
}

static void vns_slirp_unregister_poll_fd(int fd, void *opaque)
{
}

/* A socket can take data again: poll afresh. */
static void vns_slirp_notify(void *opaque)
{
    g_main_context_wakeup(NULL);
}

static const SlirpCb vns_slirp_cb = {
    .send_packet = vns_slirp_send_packet,
    .guest_error = vns_slirp_guest_error,
    .clock_get_ns = vns_slirp_clock_get_ns,
    .timer_new = vns_slirp_timer_new,
    .timer_free = vns_slirp_timer_free,
    .timer_mod = vns_slirp_timer_mod,
    .register_poll_fd = vns_slirp_register_poll_fd,
    .unregister_poll_fd = vns_slirp_unregister_poll_fd,
    .notify = vns_slirp_notify,
};

static void vns_slirp_resume(VnsNet *net, unsigned int queue)
{
    VnsNetSlirp *ns = container_of(net, VnsNetSlirp, net);
    GBytes *b;

    while ((b = g_queue_peek_head(&ns->held))) {
        gsize len;
        const uint8_t *p = g_bytes_get_data(b, &len);

        if (!ns->net.receive(ns->net.opaque, 0, p, len)) {
            break;
        }
        g_bytes_unref(g_queue_pop_head(&ns->held));
    }
    vns_rx_flush(ns->net.opaque, 0);
}

static void vns_slirp_send(VnsNet *net, unsigned int queue,
                           const struct iovec *iov, unsigned int iov_cnt)
{
    VnsNetSlirp *ns = container_of(net, VnsNetSlirp, net);
    size_t len = iov_to_buf(iov, iov_cnt, 0, ns->txbuf, sizeof(ns->txbuf));

    slirp_input(ns->slirp, ns->txbuf, len);
}

static void vns_slirp_close(VnsNet *net)
{
    VnsNetSlirp *ns = container_of(net, VnsNetSlirp, net);

    g_source_destroy(ns->source);
    g_source_unref(ns->source);
    slirp_cleanup(ns->slirp);
    g_queue_clear_full(&ns->held, (GDestroyNotify)g_bytes_unref);
    g_array_free(ns->pollfds, TRUE);
    g_free(ns);
}

static const VnsNetOps vns_slirp_ops = {
    .resume = vns_slirp_resume,
    .send = vns_slirp_send,
    .close = vns_slirp_close,
};

/* "ADDR/PREFIX" (an IPv4 network) into @net and @mask. */
static bool vns_slirp_parse_net(const char *str, struct in_addr *net,
                                struct in_addr *mask, Error **errp)
{
    g_auto(GStrv) parts = g_strsplit(str, "/", 2);
    uint64_t prefix = 24;

    if (!inet_aton(parts[0], net) ||
        (parts[1] && (qemu_strtou64(parts[1], NULL, 10, &prefix) < 0 ||
                      prefix < 1 || prefix > 30))) {
        error_setg(errp, "slirp: net=%s: want ADDR/PREFIX, prefix 1..30",
                   str);
        return false;
    }
    mask->s_addr = htonl(~0u << (32 - prefix));
    net->s_addr &= mask->s_addr;
    return true;
}

/* "[ADDR]:PORT" into @addr (@dflt when empty) and @port. */
static bool vns_slirp_parse_endpoint(const char *str, struct in_addr dflt,
                                     struct in_addr *addr, int *port)
{
    const char *colon = strrchr(str, ':');
    g_autofree char *host = NULL;
    uint64_t p;

    if (!colon || qemu_strtou64(colon + 1, NULL, 10, &p) < 0 || p > 65535) {
        return false;
    }
    host = g_strndup(str, colon - str);
    *addr = dflt;
    if (*host && !inet_aton(host, addr)) {
        return false;
    }
    *port = p;
    return true;
}

/* hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT */
static bool vns_slirp_hostfwd(VnsNetSlirp *ns, const char *str,
                              struct in_addr guest_dflt, Error **errp)
{
    g_auto(GStrv) sides = NULL;
    struct in_addr any = { .s_addr = INADDR_ANY }, haddr, gaddr;
    const char *rest;
    int udp, hport, gport;

    if (g_str_has_prefix(str, "tcp:")) {
        udp = 0;
    } else if (g_str_has_prefix(str, "udp:")) {
        udp = 1;
    } else {
        goto bad;
    }
    rest = str + 4;
    sides = g_strsplit(rest, "-", 2);
    if (!sides[1] ||
        !vns_slirp_parse_endpoint(sides[0], any, &haddr, &hport) ||
        !vns_slirp_parse_endpoint(sides[1], guest_dflt, &gaddr, &gport)) {
        goto bad;
    }
    if (slirp_add_hostfwd(ns->slirp, udp, haddr, hport, gaddr, gport) < 0) {
        error_setg(errp, "slirp: hostfwd=%s: cannot forward (port in "
                   "use?)", str);
        return false;
    }
    return true;

bad:
    error_setg(errp, "slirp: hostfwd=%s: want "
               "tcp|udp:[HOSTADDR]:PORT-[GUESTADDR]:PORT", str);
    return false;
}

VnsNet *vns_net_slirp_new(char **opts, VnsNetReceive *receive, void *opaque,
                          bool verbose, Error **errp)
{
    VnsNetSlirp *ns = g_new0(VnsNetSlirp, 1);
    SlirpConfig cfg = {
        .version = 1,
        .in_enabled = true,
        .in6_enabled = true,
        .vprefix_len = 64,
    };
    char **o;

    inet_aton("10.0.2.0", &cfg.vnetwork);
    inet_aton("255.255.255.0", &cfg.vnetmask);
    for (o = opts; *o; o++) {
        if (g_str_has_prefix(*o, "net=") &&
            !vns_slirp_parse_net(*o + 4, &cfg.vnetwork, &cfg.vnetmask,
                                 errp)) {
            goto fail;
        }
    }
    /* As -netdev user: host .2, DNS .3, DHCP from .15; fec0::/64. */
    cfg.vhost.s_addr = cfg.vnetwork.s_addr | htonl(2);
    cfg.vnameserver.s_addr = cfg.vnetwork.s_addr | htonl(3);
    cfg.vdhcp_start.s_addr = cfg.vnetwork.s_addr | htonl(15);
    inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
    inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
    inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);

    ns->net.ops = &vns_slirp_ops;
    ns->net.receive = receive;
    ns->net.opaque = opaque;
    ns->net.verbose = verbose;
    ns->net.queues = 1;
    ns->pollfds = g_array_new(FALSE, FALSE, sizeof(GPollFD));
    g_queue_init(&ns->held);
    ns->slirp = slirp_new(&cfg, &vns_slirp_cb, ns);
    if (!ns->slirp) {
        error_setg(errp, "slirp: cannot start");
        goto fail;
    }
    for (o = opts; *o; o++) {
        if (g_str_has_prefix(*o, "net=")) {
            continue;
        }
        if (!g_str_has_prefix(*o, "hostfwd=")) {
            error_setg(errp, "slirp: unknown option '%s' (net=, hostfwd=)",
                       *o);
            goto fail_slirp;
        }
        if (!vns_slirp_hostfwd(ns, *o + 8, cfg.vdhcp_start, errp)) {
            goto fail_slirp;
        }
    }
    ns->source = g_source_new(&vns_slirp_source_funcs,
                              sizeof(VnsSlirpSource));
    ((VnsSlirpSource *)ns->source)->ns = ns;
    g_source_attach(ns->source, NULL);
    return &ns->net;

fail_slirp:
    slirp_cleanup(ns->slirp);
fail:
    g_array_free(ns->pollfds, TRUE);
    g_free(ns);
    return NULL;
}
