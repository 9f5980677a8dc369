/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * splithdr-classify: run the device's split policy over a packet capture.
 *
 *   splithdr-classify [--slot-size N] [--mask M] [--hash] FILE.pcap...
 *
 * Prints, for every Ethernet frame of a classic pcap file (tcpdump -w),
 * the verdict the virtio-net device would reach with a header ring of
 * that slot size and protocol mask, and the header length when split;
 * then the count per verdict.  It links the very policy code the device
 * uses (hw/net/virtio-net-splithdr-policy.c) and QEMU's parser, so it
 * answers "why did this packet go inline?" without a guest.
 */

#include "qemu/osdep.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "virtio-net-splithdr-policy.h"

#define PCAP_MAGIC 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define LINKTYPE_ETHERNET 1

static uint64_t counts[SPLITHDR_VERDICT__MAX];

static bool read_exact(FILE *f, void *buf, size_t len)
{
    return fread(buf, 1, len, f) == len;
}

static int classify_file(const char *name, uint32_t room, uint32_t mask)
{
    FILE *f = fopen(name, "rb");
    uint32_t ghdr[6], rec[4], magic;
    g_autofree uint8_t *frame = g_malloc(65536);
    bool swap;
    unsigned long n = 0;

    if (!f || !read_exact(f, ghdr, sizeof(ghdr))) {
        fprintf(stderr, "%s: cannot read a pcap header\n", name);
        return 1;
    }
    magic = ghdr[0];
    swap = magic == bswap32(PCAP_MAGIC) || magic == bswap32(PCAP_MAGIC_NS);
    if (swap) {
        magic = bswap32(magic);
    }
    if ((magic != PCAP_MAGIC && magic != PCAP_MAGIC_NS) ||
        (swap ? bswap32(ghdr[5]) : ghdr[5]) != LINKTYPE_ETHERNET) {
        fprintf(stderr, "%s: not an Ethernet pcap file\n", name);
        fclose(f);
        return 1;
    }
    while (read_exact(f, rec, sizeof(rec))) {
        uint32_t caplen = swap ? bswap32(rec[2]) : rec[2];
        uint32_t origlen = swap ? bswap32(rec[3]) : rec[3];
        SplitHdrParse p = { 0 };
        SplitHdrVerdict v;
        size_t hdr_len = 0;

        if (caplen > 65536 || !read_exact(f, frame, caplen)) {
            fprintf(stderr, "%s: record %lu is cut\n", name, n + 1);
            fclose(f);
            return 1;
        }
        n++;
        splithdr_parse(frame, caplen, &p);
        v = splithdr_classify(frame, caplen, &p, mask, room, &hdr_len);
        counts[v]++;
        printf("%s:%lu len %u%s %s", name, n, caplen,
               caplen < origlen ? " (snapped)" : "", splithdr_verdict_name(v));
        if (v == SPLITHDR_SPLIT) {
            printf(" hdr_len %zu payload %zu", hdr_len, caplen - hdr_len);
        }
        printf("\n");
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    uint32_t slot_size = 128, mask = VIRTIO_NET_SPLIT_HDR_PROTO_ALL;
    size_t vhdr = 12;
    int i, ret = 0;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--slot-size") && i + 1 < argc) {
            slot_size = g_ascii_strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--mask") && i + 1 < argc) {
            mask = g_ascii_strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--hash")) {
            vhdr = 20;
        } else {
            break;
        }
    }
    if (i == argc || slot_size < VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MIN ||
        slot_size > VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MAX) {
        fprintf(stderr, "usage: %s [--slot-size 64..4096] [--mask BITS] "
                "[--hash] FILE.pcap...\n", argv[0]);
        return 2;
    }
    for (; i < argc; i++) {
        ret |= classify_file(argv[i], slot_size -
                             VIRTIO_NET_SPLIT_HDR_PREFIX_LEN - vhdr, mask);
    }
    for (i = 0; i < SPLITHDR_VERDICT__MAX; i++) {
        printf("%-20s %" PRIu64 "\n", splithdr_verdict_name(i), counts[i]);
    }
    return ret;
}
