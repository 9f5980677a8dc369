/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split: a vhost-user virtio-net backend that does split
 * transport header receive (docs/specs/virtio-net-split-hdr.rst, section
 * "vhost-user").  See vns.h for how the files divide the work.
 *
 * Network sides (--net): a stream socket whose records are frames behind
 * a 4-byte big-endian length, as -netdev socket/stream send them; or
 * libslirp user networking, as -netdev user; or a tap through io_uring.
 * --queues N queue pairs (VHOST_USER_PROTOCOL_F_MQ).
 */

#include "qemu/osdep.h"
#include <glib-unix.h>
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "vns.h"

static char *opt_socket_path;
static int opt_fd = -1;
static int opt_net_fd = -1;
static char *opt_net_path;
static char *opt_net;
static int opt_bench_ring;
static gboolean opt_bench_align;
static gboolean opt_print_caps;
static gboolean opt_verbose;
static int opt_queues = 1;
static char *opt_stats_file;

static GOptionEntry entries[] = {
    { "print-capabilities", 'c', 0, G_OPTION_ARG_NONE, &opt_print_caps,
      "Print capabilities", NULL },
    { "socket-path", 's', 0, G_OPTION_ARG_FILENAME, &opt_socket_path,
      "vhost-user socket to listen on", "PATH" },
    { "fd", 'f', 0, G_OPTION_ARG_INT, &opt_fd,
      "vhost-user socket (listening or connected) as this fd", "FDNUM" },
    { "net", 'n', 0, G_OPTION_ARG_STRING, &opt_net,
      "network side: stream,fd=N | stream,connect=PATH | "
      "slirp[,net=ADDR/PREFIX][,hostfwd=tcp::PORT-:PORT]... | "
      "tap,ifname=NAME[,multishot=off] | "
      "bench,size=N[,count=N] (in-process frames)", "SPEC" },
    { "net-fd", 0, 0, G_OPTION_ARG_INT, &opt_net_fd,
      "same as --net stream,fd=FDNUM", "FDNUM" },
    { "net-connect", 0, 0, G_OPTION_ARG_FILENAME, &opt_net_path,
      "same as --net stream,connect=PATH", "PATH" },
    { "queues", 'q', 0, G_OPTION_ARG_INT, &opt_queues,
      "queue pairs (stream: one socket each; tap: multiqueue)", "N" },
    { "stats-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_stats_file,
      "write the counters as JSON here on SIGUSR1 and at exit "
      "(default: SIGUSR1 prints them to stderr)", "PATH" },
    { "x-bench-split-ring", 0, 0, G_OPTION_ARG_INT, &opt_bench_ring,
      "benchmark only: rx queue 0 splits into private slots", "SLOT_SIZE" },
    { "x-bench-align-payload", 0, 0, G_OPTION_ARG_NONE, &opt_bench_align,
      "benchmark only, with --x-bench-split-ring: the payload from each "
      "buffer's first 64-byte boundary", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
      "log vhost-user events to stderr", NULL },
    { NULL, }
};

static bool vns_is_listening(int fd)
{
    int listening = 0;
    socklen_t len = sizeof(listening);

    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 &&
           listening;
}

static int vns_listen(const char *path)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    if (fd < 0 || strlen(path) >= sizeof(un.sun_path)) {
        return -1;
    }
    pstrcpy(un.sun_path, sizeof(un.sun_path), path);
    unlink(path);
    if (bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 ||
        listen(fd, 1) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static gboolean vns_sigterm(gpointer opaque)
{
    VuNetSplit *s = opaque;

    vns_log(s, "SIGTERM: exiting");
    g_main_loop_quit(s->loop);
    return G_SOURCE_REMOVE;
}

static gboolean vns_sigusr1(gpointer opaque)
{
    vns_stats_dump(opaque, opt_stats_file);
    return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GOptionContext) context = NULL;
    Error *err = NULL;
    VuNetSplit *s;
    VnsNetReceive *rx;
    int fd;

    context = g_option_context_new("- vhost-user-net-split backend");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        fprintf(stderr, "option parsing failed: %s\n", error->message);
        return EXIT_FAILURE;
    }
    if (opt_print_caps) {
        printf("{\n  \"type\": \"net\"\n}\n");
        return EXIT_SUCCESS;
    }
    if (!!opt_socket_path + (opt_fd != -1) != 1) {
        fprintf(stderr, "give exactly one of --socket-path and --fd\n");
        return EXIT_FAILURE;
    }
    if ((opt_net_fd != -1) + !!opt_net_path + !!opt_net != 1) {
        fprintf(stderr, "give exactly one of --net, --net-fd and "
                "--net-connect\n");
        return EXIT_FAILURE;
    }
    if (opt_net_fd != -1) {
        opt_net = g_strdup_printf("stream,fd=%d", opt_net_fd);
    } else if (opt_net_path) {
        opt_net = g_strdup_printf("stream,connect=%s", opt_net_path);
    }

    if (opt_queues < 1 || opt_queues > VNS_NET_QUEUES_MAX) {
        fprintf(stderr, "--queues: 1 to %d\n", VNS_NET_QUEUES_MAX);
        return EXIT_FAILURE;
    }

    s = g_new0(VuNetSplit, 1);
    s->verbose = opt_verbose;
    s->queue_pairs = opt_queues;
    s->listen_fd = -1;
    /* First: a SIGTERM from here on takes the clean way out. */
    s->loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGTERM, vns_sigterm, s);
    g_unix_signal_add(SIGINT, vns_sigterm, s);
    g_unix_signal_add(SIGUSR1, vns_sigusr1, s);
    if (opt_bench_align && !opt_bench_ring) {
        fprintf(stderr, "--x-bench-align-payload needs --x-bench-split-ring\n");
        return EXIT_FAILURE;
    }
    if (opt_bench_ring &&
        !vns_bench_ring_setup(opt_bench_ring, opt_bench_align)) {
        return EXIT_FAILURE;
    }
    rx = opt_bench_ring ? vns_bench_rx_frame : vns_rx_frame;
    s->net = vns_net_open(opt_net, s->queue_pairs, rx, s, s->verbose, &err);
    if (!s->net) {
        fprintf(stderr, "%s\n", error_get_pretty(err));
        return EXIT_FAILURE;
    }

    fd = opt_socket_path ? vns_listen(opt_socket_path) : opt_fd;
    if (fd < 0) {
        fprintf(stderr, "vhost-user socket: %s\n", strerror(errno));
        return EXIT_FAILURE;
    }

    /*
     * A listening socket (--socket-path, or --fd given one) serves one
     * front-end after the other, so that QEMU can reconnect; a connected
     * --fd serves that one front-end.  Accepting in the main loop lets
     * SIGTERM end a backend that waits for its first front-end, too.
     */
    if (vns_is_listening(fd)) {
        s->listen_fd = fd;
        if (!g_unix_set_fd_nonblocking(fd, true, NULL)) {
            fprintf(stderr, "vhost-user socket: cannot make it "
                    "non-blocking\n");
            return EXIT_FAILURE;
        }
        s->accept_src = g_unix_fd_add(fd, G_IO_IN, vns_accept_ready, s);
    } else if (!vns_serve(s, fd)) {
        return EXIT_FAILURE;
    }

    g_main_loop_run(s->loop);

    if (opt_stats_file) {
        vns_stats_dump(s, opt_stats_file);
    }

    if (s->connected) {
        vu_deinit(&s->dev.parent);
        vug_deinit(&s->dev);
    }
    if (s->accept_src) {
        g_source_remove(s->accept_src);
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    vns_net_close(s->net);
    if (opt_socket_path) {
        unlink(opt_socket_path);
    }
    g_main_loop_unref(s->loop);
    g_free(s);
    return EXIT_SUCCESS;
}
