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

/* stream,fd=N or stream,connect=PATH */
static VnsNet *vns_net_stream_open(char **opts, VnsNetReceive *receive,
                                   void *opaque, bool verbose, Error **errp)
{
    int fd = -1;
    int64_t n;

    if (!opts[0] || opts[1]) {
        goto bad;
    }
    if (g_str_has_prefix(opts[0], "fd=")) {
        if (qemu_strtoi64(opts[0] + 3, NULL, 10, &n) < 0 || n < 0 ||
            n > INT_MAX) {
            goto bad;
        }
        fd = n;
    } else if (g_str_has_prefix(opts[0], "connect=")) {
        fd = vns_net_connect(opts[0] + 8, errp);
        if (fd < 0) {
            return NULL;
        }
    } else {
        goto bad;
    }
    return vns_net_stream_new(fd, receive, opaque, verbose, errp);

bad:
    error_setg(errp, "stream: want stream,fd=N or stream,connect=PATH");
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
    /* One stream, one slirp: one queue pair. */
    if (queues != 1) {
        error_setg(errp, "--net %s: only tap has more than one queue pair",
                   spec);
        return NULL;
    }

    if (!g_strcmp0(parts[0], "stream")) {
        return vns_net_stream_open(parts + 1, receive, opaque, verbose,
                                   errp);
    }
    if (!g_strcmp0(parts[0], "slirp") || !g_strcmp0(parts[0], "user")) {
        return vns_net_slirp_new(parts + 1, receive, opaque, verbose, errp);
    }
    error_setg(errp, "--net %s: unknown type (stream, slirp, tap)", spec);
    return NULL;
}
