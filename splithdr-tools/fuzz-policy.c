/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libFuzzer target: the split decision and the placement of one frame.
 *
 * Input: 3 bytes of configuration, then the frame.
 *   byte 0: slot size = 64 << (b & 7), capped at 4096; bit 3: hash report
 *           (20-byte virtio header instead of 12)
 *   byte 1: proto_mask (low 4 bits)
 *   byte 2: data buffer size = 1 + b * 16 (1..4081 bytes)
 * It runs QEMU's parser and the device's policy exactly as the device
 * does, checks what a verdict promises (the headers fit the slot, lie
 * inside the frame, are at least Ethernet + IP + L4), then places the
 * headers and the payload the way the device does (iov_from_buf into
 * buffers filled completely, one after another) and checks that slot and
 * buffers put together give back the frame.  Built with ASan and UBSan,
 * it also proves that no frame makes the policy read out of bounds.
 * Three differential checks: the parse read in place agrees with
 * eth_get_protocols()'s on every frame it reads, the verdict agrees with
 * the hash type RSS takes from the same parse, and it does not change
 * with the bytes that follow the frame in memory.
 */

#include "qemu/osdep.h"
#include "qemu/iov.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "virtio-net-splithdr-policy.h"

/*
 * RSS (virtio_net_get_hash_type()) hashes a packet as TCP or UDP when the
 * parse has IPv4 or IPv6 and l4proto TCP or UDP, as IP when it has only
 * the IP header.  A split packet must be one RSS hashes as that L4
 * protocol, and a packet RSS hashes as TCP or UDP is not "not IP", "not
 * TCP/UDP" or a fragment to the split decision.
 */
static void check_rss_agrees(const SplitHdrParse *p, SplitHdrVerdict v)
{
    bool ip = p->hasip4 || p->hasip6;
    bool rss_l4 = ip && (p->l4proto == ETH_L4_HDR_PROTO_TCP ||
                         p->l4proto == ETH_L4_HDR_PROTO_UDP);

    if (v == SPLITHDR_SPLIT) {
        assert(rss_l4);
        assert((p->l4proto == ETH_L4_HDR_PROTO_TCP) ==
               (p->ip_proto == IP_PROTO_TCP));
    }
    if (rss_l4) {
        assert(v != SPLITHDR_INLINE_NOT_IP &&
               v != SPLITHDR_INLINE_NOT_TCP_UDP &&
               v != SPLITHDR_INLINE_FRAGMENT);
    }
    if (!ip) {
        assert(v == SPLITHDR_INLINE_NOT_IP || v == SPLITHDR_INLINE_MALFORMED);
    }
}

/*
 * splithdr_parse() reads the commonest frames in place: it must find
 * what eth_get_protocols() finds (splithdr_parse_full()).  Offsets and
 * protocols only mean something where the parse found IP.
 */
static void check_parse_agrees(const uint8_t *frame, size_t len,
                               const SplitHdrParse *p)
{
    SplitHdrParse ref = { 0 };

    splithdr_parse_full(frame, len, &ref);
    assert(p->hasip4 == ref.hasip4 && p->hasip6 == ref.hasip6);
    if (ref.hasip4 || ref.hasip6) {
        assert(p->l3off == ref.l3off && p->l4off == ref.l4off);
        assert(p->fragment == ref.fragment);
        assert(p->ip_proto == ref.ip_proto);
        assert(p->l4proto == ref.l4proto);
    }
}

/* The same frame followed by 64 bytes of @fill: the same decision. */
static void check_ignores_tail(const uint8_t *frame, size_t len,
                               uint32_t mask, size_t room, uint8_t fill,
                               SplitHdrVerdict v, size_t hdr_len)
{
    g_autofree uint8_t *buf = g_malloc(len + 64);
    SplitHdrParse p = { 0 };
    size_t h = 0;

    memcpy(buf, frame, len);
    memset(buf + len, fill, 64);
    splithdr_parse(buf, len, &p);
    assert(splithdr_classify(buf, len, &p, mask, room, &h) == v);
    assert(v != SPLITHDR_SPLIT || h == hdr_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t slot[VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MAX];
    static uint8_t bufs[65536 + 4096];
    SplitHdrParse p = { 0 };
    SplitHdrVerdict v;
    size_t slot_size, vhdr, room, buf_size, hdr_len = 0, len, off, used;
    const uint8_t *frame;
    uint8_t *copy;
    uint32_t mask;

    if (size < 3 || size - 3 > 65535) {
        return -1;
    }
    slot_size = MIN(64u << (data[0] & 7), VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MAX);
    vhdr = data[0] & 8 ? 20 : 12;
    room = slot_size - VIRTIO_NET_SPLIT_HDR_PREFIX_LEN - vhdr;
    mask = data[1] & VIRTIO_NET_SPLIT_HDR_PROTO_ALL;
    buf_size = 1 + data[2] * 16;
    len = size - 3;

    /* An exact-size heap copy, so that ASan sees any overread. */
    copy = g_malloc(len ? len : 1);
    memcpy(copy, data + 3, len);
    frame = copy;

    splithdr_parse(frame, len, &p);
    check_parse_agrees(frame, len, &p);
    v = splithdr_classify(frame, len, &p, mask, room, &hdr_len);
    assert(v < SPLITHDR_VERDICT__MAX);
    assert(strcmp(splithdr_verdict_name(v), "invalid"));
    if (v == SPLITHDR_SPLIT) {
        assert(hdr_len <= room && hdr_len <= len);
        assert(hdr_len >= 14 + 20 + 8);
        assert(p.hasip4 || p.hasip6);
        assert(mask);
    } else {
        hdr_len = 0;
    }
    check_rss_agrees(&p, v);
    check_ignores_tail(frame, len, mask, room, 0x00, v, hdr_len);
    check_ignores_tail(frame, len, mask, room, 0xff, v, hdr_len);

    /* Placement: headers to the slot, payload over the buffers. */
    memcpy(slot + VIRTIO_NET_SPLIT_HDR_PREFIX_LEN + vhdr, frame, hdr_len);
    off = hdr_len;
    used = 0;
    do {
        struct iovec iov = { .iov_base = bufs + used, .iov_len = buf_size };
        size_t n = iov_from_buf(&iov, 1, 0, frame + off, len - off);

        assert(n == MIN(buf_size, len - off));
        off += n;
        used += n;
    } while (off < len);
    assert(used == len - hdr_len);
    assert(!memcmp(slot + VIRTIO_NET_SPLIT_HDR_PREFIX_LEN + vhdr, frame,
                   hdr_len));
    assert(!memcmp(bufs, frame + hdr_len, len - hdr_len));

    g_free(copy);
    return 0;
}
