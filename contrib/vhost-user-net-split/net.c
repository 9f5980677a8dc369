/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split: --net TYPE,OPTIONS to a network side.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "net.h"

static int vns_net_connect(const char *path, Error **errp)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(un.sun_path)) {
        error_setg(errp, "network side: path too long: %s", path);
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "network side");
        return -1;
    }
    pstrcpy(un.sun_path, sizeof(un.sun_path), path);
    if (connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
        error_setg_errno(errp, errno, "network side: %s", path);
        close(fd);
        return -1;
    }
    return fd;
}

/* stream,fd=N|connect=PATH,...: one socket per queue pair, in order. */
static VnsNet *vns_net_stream_open(char **opts, unsigned int queues,
                                   VnsNetReceive *receive, void *opaque,
                                   bool verbose, Error **errp)
{
    int fds[VNS_NET_QUEUES_MAX];
    unsigned int n = 0, i;
    VnsNet *net;
    int64_t v;

    for (; *opts; opts++) {
        if (n == queues) {
            error_setg(errp, "stream: more sockets than the %u queue "
                       "pair%s", queues, queues > 1 ? "s" : "");
            goto fail;
        }
        if (g_str_has_prefix(*opts, "fd=")) {
            if (qemu_strtoi64(*opts + 3, NULL, 10, &v) < 0 || v < 0 ||
                v > INT_MAX) {
                error_setg(errp, "stream: bad %s", *opts);
                goto fail;
            }
            fds[n++] = v;
        } else if (g_str_has_prefix(*opts, "connect=")) {
            fds[n] = vns_net_connect(*opts + 8, errp);
            if (fds[n] < 0) {
                goto fail;
            }
            n++;
        } else {
            error_setg(errp, "stream: unknown option '%s' (fd=, connect=)",
                       *opts);
            goto fail;
        }
    }
    if (n != queues) {
        error_setg(errp, "stream: %u socket%s for %u queue pair%s", n,
                   n == 1 ? "" : "s", queues, queues > 1 ? "s" : "");
        goto fail;
    }
    net = vns_net_stream_new(fds, queues, receive, opaque, verbose, errp);
    if (net) {
        return net;
    }
fail:
    for (i = 0; i < n; i++) {
        close(fds[i]);
    }
    return NULL;
}

VnsNet *vns_net_open(const char *spec, unsigned int queues,
                     VnsNetReceive *receive, void *opaque, bool verbose,
                     Error **errp)
{
    g_auto(GStrv) parts = g_strsplit(spec, ",", -1);

    if (!g_strcmp0(parts[0], "tap")) {
        return vns_net_tap_new(parts + 1, queues, receive, opaque, verbose,
                               errp);
    }
    if (!g_strcmp0(parts[0], "stream")) {
        return vns_net_stream_open(parts + 1, queues, receive, opaque,
                                   verbose, errp);
    }
    /* One slirp stack, one frame source: one queue pair. */
    if (queues != 1) {
        error_setg(errp, "--net %s: slirp has one queue pair", spec);
        return NULL;
    }
    if (!g_strcmp0(parts[0], "slirp") || !g_strcmp0(parts[0], "user")) {
        return vns_net_slirp_new(parts + 1, receive, opaque, verbose, errp);
    }
    if (!g_strcmp0(parts[0], "bench")) {
        return vns_net_bench_new(spec, receive, opaque, verbose, errp);
    }
    error_setg(errp, "--net %s: unknown type (stream, slirp, tap, bench)",
               spec);
    return NULL;
}
