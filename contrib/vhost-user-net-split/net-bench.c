/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split network side for benchmarks: an in-process frame
 * source.  It builds a few TCP/IPv4 frames of one size at start and hands
 * them to the receive path, one after the other, as fast as the guest's
 * buffers allow: no socket, no copy, no system call per frame, so that
 * what a packet rate measures is the backend's receive placement and the
 * consumer.  Frames sent by the guest are counted and dropped.
 *
 *   --net bench,size=N[,count=N]
 *
 * size   frame length in bytes, Ethernet header included (54 to 65535);
 *        TCP timestamps from 128 bytes up, as bench/splithdr-bench.sh
 * count  end the backend (as SIGTERM does) after this many frames were
 *        taken: the callgrind benchmark divides by it; 0 (default) runs on
 */

#include "qemu/osdep.h"
#include <glib-unix.h>
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "net/checksum.h"
#include "net.h"

/* Distinct frames (TCP sequence numbers, IP ids) handed over in turn. */
#define VNS_BENCH_FRAMES 16
/* Frames per main loop dispatch, so that vhost-user messages get a turn. */
#define VNS_BENCH_BATCH 256
#define VNS_BENCH_MIN 54                /* Ethernet + IPv4 + TCP headers */
#define VNS_BENCH_MAX 65535

typedef struct VnsNetBench {
    VnsNet net;
    uint8_t *frames;                    /* VNS_BENCH_FRAMES, stride apart */
    size_t size;
    size_t stride;
    unsigned int next;
    uint64_t count;                     /* 0: unlimited */
    uint64_t taken;
    uint64_t tx_dropped;
    guint idle;                         /* batch source while buffers last */
    guint report;                       /* SIGUSR2 source */
    bool done;
} VnsNetBench;

/*
 * Frame @n: Ethernet, IPv4 (no options), TCP with ACK|PSH and, from 128
 * bytes up, the 12-byte timestamp option; a zero payload.  Checksums are
 * right, so that a consumer that checks them accepts the frame.
 */
static void vns_bench_build(uint8_t *f, size_t size, unsigned int n)
{
    static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
    static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
    size_t opt_len = size < 128 ? 0 : 12;
    size_t payload = size - VNS_BENCH_MIN - opt_len;
    uint8_t *ip = f + 14, *tcp = ip + 20;

    memset(f, 0, size);
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    stw_be_p(f + 12, 0x0800);

    ip[0] = 0x45;
    stw_be_p(ip + 2, size - 14);
    stw_be_p(ip + 4, n);
    stw_be_p(ip + 6, 0x4000);           /* DF */
    ip[8] = 64;
    ip[9] = 6;
    stl_be_p(ip + 12, 0x0a000001);      /* 10.0.0.1 */
    stl_be_p(ip + 16, 0x0a000002);      /* 10.0.0.2 */

    stw_be_p(tcp, 40000);
    stw_be_p(tcp + 2, 5201);
    stl_be_p(tcp + 4, 1 + n * payload);
    stl_be_p(tcp + 8, 1);
    tcp[12] = ((20 + opt_len) / 4) << 4;
    tcp[13] = 0x18;                     /* ACK | PSH */
    stw_be_p(tcp + 14, 65535);
    if (opt_len) {
        tcp[20] = 1;                    /* NOP, NOP, timestamp */
        tcp[21] = 1;
        tcp[22] = 8;
        tcp[23] = 10;
        stl_be_p(tcp + 24, 1000 + n);
        stl_be_p(tcp + 28, 1);
    }
    net_checksum_calculate(f, size, CSUM_IP | CSUM_TCP);
}

/* Hand a batch of frames over; true: buffers remain. */
static bool vns_bench_batch(VnsNetBench *nb)
{
    unsigned int i;

    for (i = 0; i < VNS_BENCH_BATCH; i++) {
        if (nb->done) {
            return false;
        }
        if (!nb->net.receive(nb->net.opaque, 0,
                             nb->frames + nb->next * nb->stride, nb->size)) {
            return false;               /* resumes on the next kick */
        }
        nb->next = (nb->next + 1) % VNS_BENCH_FRAMES;
        if (++nb->taken == nb->count) {
            nb->done = true;
            /* main()'s clean way out, with callgrind's dump. */
            raise(SIGTERM);
        }
    }
    return true;
}

/* One batch, published; true: go on from the main loop. */
static bool vns_bench_run(VnsNetBench *nb)
{
    bool more = vns_bench_batch(nb);

    vns_rx_flush(nb->net.opaque, 0);
    return more;
}

static gboolean vns_bench_idle(gpointer opaque)
{
    VnsNetBench *nb = opaque;

    if (vns_bench_run(nb)) {
        return G_SOURCE_CONTINUE;
    }
    nb->idle = 0;
    return G_SOURCE_REMOVE;
}

static void vns_bench_resume(VnsNet *net, unsigned int queue)
{
    VnsNetBench *nb = container_of(net, VnsNetBench, net);

    if (!nb->idle && vns_bench_run(nb)) {
        nb->idle = g_idle_add(vns_bench_idle, nb);
    }
}

static void vns_bench_send(VnsNet *net, unsigned int queue,
                           const struct iovec *iov, unsigned int iov_cnt)
{
    VnsNetBench *nb = container_of(net, VnsNetBench, net);

    nb->tx_dropped++;
}

/*
 * SIGUSR2: the frames taken so far, on stderr.  bench/vhost-user-rate.sh
 * counts split mode here, since the consumer misreads split frames.
 */
static gboolean vns_bench_report(gpointer opaque)
{
    VnsNetBench *nb = opaque;

    fprintf(stderr, "vhost-user-net-split: bench: %" PRIu64 " taken\n",
            nb->taken);
    return G_SOURCE_CONTINUE;
}

static void vns_bench_close(VnsNet *net)
{
    VnsNetBench *nb = container_of(net, VnsNetBench, net);

    if (nb->net.verbose) {
        fprintf(stderr, "vhost-user-net-split: bench: %" PRIu64 " frames "
                "of %zu bytes taken, %" PRIu64 " transmitted frames "
                "dropped\n", nb->taken, nb->size, nb->tx_dropped);
    }
    if (nb->idle) {
        g_source_remove(nb->idle);
    }
    g_source_remove(nb->report);
    g_free(nb->frames);
    g_free(nb);
}

static const VnsNetOps vns_bench_ops = {
    .resume = vns_bench_resume,
    .send = vns_bench_send,
    .close = vns_bench_close,
};

/* @spec: "bench,size=N[,count=N]" */
VnsNet *vns_net_bench_new(const char *spec, VnsNetReceive *receive,
                          void *opaque, bool verbose, Error **errp)
{
    g_auto(GStrv) opts = g_strsplit(spec, ",", -1);
    uint64_t size = 0, count = 0;
    VnsNetBench *nb;
    unsigned int i;

    if (!opts[0] || strcmp(opts[0], "bench")) {
        error_setg(errp, "--net: unknown network side '%s'", spec);
        return NULL;
    }
    for (i = 1; opts[i]; i++) {
        const char *val = strchr(opts[i], '=');
        uint64_t *dst = NULL;

        if (val && !strncmp(opts[i], "size=", 5)) {
            dst = &size;
        } else if (val && !strncmp(opts[i], "count=", 6)) {
            dst = &count;
        }
        if (!dst || qemu_strtou64(val + 1, NULL, 0, dst)) {
            error_setg(errp, "--net bench: bad option '%s'", opts[i]);
            return NULL;
        }
    }
    if (size < VNS_BENCH_MIN || size > VNS_BENCH_MAX) {
        error_setg(errp, "--net bench: size=N between %d and %d is needed",
                   VNS_BENCH_MIN, VNS_BENCH_MAX);
        return NULL;
    }

    nb = g_new0(VnsNetBench, 1);
    nb->net.ops = &vns_bench_ops;
    nb->net.receive = receive;
    nb->net.opaque = opaque;
    nb->net.verbose = verbose;
    nb->size = size;
    nb->stride = ROUND_UP(size, 64);
    nb->count = count;
    nb->frames = g_malloc(nb->stride * VNS_BENCH_FRAMES);
    for (i = 0; i < VNS_BENCH_FRAMES; i++) {
        vns_bench_build(nb->frames + i * nb->stride, size, i);
    }
    nb->report = g_unix_signal_add(SIGUSR2, vns_bench_report, nb);
    return &nb->net;
}
