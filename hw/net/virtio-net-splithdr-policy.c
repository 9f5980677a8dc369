/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Split transport header receive: the split policy.
 * See virtio-net-splithdr-policy.h and docs/specs/virtio-net-split-hdr.rst.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "net/eth.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "virtio-net-splithdr-policy.h"

static const char *const verdict_names[SPLITHDR_VERDICT__MAX] = {
    [SPLITHDR_SPLIT] = "split",
    [SPLITHDR_INLINE_NOT_IP] = "inline-not-ip",
    [SPLITHDR_INLINE_MALFORMED] = "inline-malformed",
    [SPLITHDR_INLINE_FRAGMENT] = "inline-fragment",
    [SPLITHDR_INLINE_NOT_TCP_UDP] = "inline-not-tcp-udp",
    [SPLITHDR_INLINE_MASKED] = "inline-masked",
    [SPLITHDR_INLINE_TOO_BIG] = "inline-too-big",
};

const char *splithdr_verdict_name(SplitHdrVerdict v)
{
    return v < SPLITHDR_VERDICT__MAX ? verdict_names[v] : "invalid";
}

/* What the receive filter drops: no room for the addresses and a tag. */
#define SPLITHDR_RUNT_LEN (ETH_HLEN + sizeof(struct vlan_header))

void splithdr_parse_full(const uint8_t *frame, size_t len, SplitHdrParse *p)
{
    struct iovec iov = { .iov_base = (void *)frame, .iov_len = len };
    /* Per frame: no clearing; we read only what the parser has set. */
    eth_ip6_hdr_info QEMU_UNINITIALIZED ip6;
    eth_ip4_hdr_info QEMU_UNINITIALIZED ip4;
    eth_l4_hdr_info QEMU_UNINITIALIZED l4;
    size_t l5off;

    eth_get_protocols(&iov, 1, 0, &p->hasip4, &p->hasip6, &p->l3off,
                      &p->l4off, &l5off, &ip6, &ip4, &l4);
    p->l4proto = l4.proto;
    p->fragment = false;
    if (p->hasip4) {
        p->fragment = ip4.fragment;
        p->ip_proto = ip4.ip4_hdr.ip_p;
    } else if (p->hasip6) {
        p->fragment = ip6.fragment;
        p->ip_proto = ip6.l4proto;
    }
}

/*
 * What eth_get_protocols() finds for an untagged IPv4 frame, or an
 * untagged IPv6 frame whose next header is TCP or UDP (no extension
 * header chain to walk), read in place: the fields sit at fixed offsets,
 * and the general parser's copies and iovec walks were most of what split
 * cost over classic.  Same checks, same answers: IPv4 needs version 4 and
 * its 20 bytes, IPv6 its 40 (the parser checks no IPv6 version), and the
 * L4 header counts only when its fixed part is in the frame.  The policy
 * fuzz target compares the two on every input.  False: not such a frame.
 */
static bool splithdr_parse_in_place(const uint8_t *f, size_t len,
                                    SplitHdrParse *p)
{
    const uint8_t *ip = f + ETH_HLEN;
    size_t l4off;

    if (len < ETH_HLEN + sizeof(struct ip_header)) {
        return false;
    }
    switch (lduw_be_p(f + 12)) {
    case ETH_P_IP:
        if ((ip[0] >> 4) != IP_HEADER_VERSION_4) {
            return false;
        }
        p->hasip4 = true;
        p->hasip6 = false;
        p->ip_proto = ip[offsetof(struct ip_header, ip_p)];
        p->fragment = lduw_be_p(ip + offsetof(struct ip_header, ip_off)) &
                      (IP_OFFMASK | IP_MF);
        l4off = ETH_HLEN + IP_HDR_GET_LEN(ip);
        break;
    case ETH_P_IPV6:
        p->ip_proto = ip[offsetof(struct ip6_header, ip6_nxt)];
        if (len < ETH_HLEN + sizeof(struct ip6_header) ||
            (p->ip_proto != IP_PROTO_TCP && p->ip_proto != IP_PROTO_UDP)) {
            return false;
        }
        p->hasip4 = false;
        p->hasip6 = true;
        p->fragment = false;
        l4off = ETH_HLEN + sizeof(struct ip6_header);
        break;
    default:
        return false;
    }
    p->l3off = ETH_HLEN;
    p->l4off = l4off;
    p->l4proto = ETH_L4_HDR_PROTO_INVALID;
    if (p->fragment) {
        return true;
    }
    switch (p->ip_proto) {
    case IP_PROTO_TCP:
        if (len >= l4off + sizeof(struct tcp_header)) {
            p->l4proto = ETH_L4_HDR_PROTO_TCP;
        }
        break;
    case IP_PROTO_UDP:
        if (len >= l4off + sizeof(struct udp_header)) {
            p->l4proto = ETH_L4_HDR_PROTO_UDP;
        }
        break;
    case IP_PROTO_SCTP:
        p->l4proto = ETH_L4_HDR_PROTO_SCTP;
        break;
    }
    return true;
}

void splithdr_parse(const uint8_t *frame, size_t len, SplitHdrParse *p)
{
    if (!splithdr_parse_in_place(frame, len, p)) {
        splithdr_parse_full(frame, len, p);
    }
}

static uint32_t splithdr_proto_bit(bool ip4, uint8_t ip_proto)
{
    if (ip_proto == IP_PROTO_TCP) {
        return ip4 ? VIRTIO_NET_SPLIT_HDR_PROTO_TCPV4
                   : VIRTIO_NET_SPLIT_HDR_PROTO_TCPV6;
    }
    return ip4 ? VIRTIO_NET_SPLIT_HDR_PROTO_UDPV4
               : VIRTIO_NET_SPLIT_HDR_PROTO_UDPV6;
}

/*
 * The parser's answer for a frame that is not IP.  Below 18 bytes it
 * takes the last two bytes of the frame for the ethertype, so a runt
 * (only promiscuous mode lets one through) is malformed, like a frame
 * cut inside its tags.  Otherwise the ethertype ends at the L3 offset,
 * and an IPv4 or IPv6 ethertype means the parser refused the IP header.
 */
static SplitHdrVerdict splithdr_not_ip(const uint8_t *f, size_t len,
                                       const SplitHdrParse *p)
{
    uint16_t type;

    if (len < SPLITHDR_RUNT_LEN || p->l3off > len) {
        return SPLITHDR_INLINE_MALFORMED;
    }
    type = lduw_be_p(f + p->l3off - 2);
    return type == ETH_P_IP || type == ETH_P_IPV6 ? SPLITHDR_INLINE_MALFORMED
                                                  : SPLITHDR_INLINE_NOT_IP;
}

/*
 * The checks eth_get_protocols() does not make; it has found the headers
 * and read the IP header (20 bytes of IPv4, 40 of IPv6) within the frame.
 * Returns the end of the IP packet in the frame, or 0 when the IP header
 * or its extension header chain is inconsistent or cut by the frame end.
 */
static size_t splithdr_ip_end(const uint8_t *f, size_t len,
                              const SplitHdrParse *p)
{
    const uint8_t *ip = f + p->l3off;
    size_t end;

    if (p->hasip4) {
        /* The IHL is l4off - l3off; total length covers it. */
        end = p->l3off + lduw_be_p(ip + offsetof(struct ip_header, ip_len));
        if (p->l4off < p->l3off + sizeof(struct ip_header)) {
            return 0;
        }
    } else {
        end = p->l3off + sizeof(struct ip6_header) +
              lduw_be_p(ip + offsetof(struct ip6_header, ip6_plen));
        if ((ip[0] >> 4) != 6) {
            return 0;
        }
    }
    return end <= len && p->l4off <= end ? end : 0;
}

SplitHdrVerdict splithdr_classify(const uint8_t *f, size_t len,
                                  const SplitHdrParse *p,
                                  uint32_t proto_mask, size_t room,
                                  size_t *hdr_len)
{
    size_t ip_end, l4off = p->l4off, l5off;

    if (!p->hasip4 && !p->hasip6) {
        return splithdr_not_ip(f, len, p);
    }
    ip_end = splithdr_ip_end(f, len, p);
    if (!ip_end) {
        return SPLITHDR_INLINE_MALFORMED;
    }
    if (p->fragment) {
        return SPLITHDR_INLINE_FRAGMENT;
    }
    if (p->ip_proto != IP_PROTO_TCP && p->ip_proto != IP_PROTO_UDP) {
        return SPLITHDR_INLINE_NOT_TCP_UDP;
    }
    if (!(proto_mask & splithdr_proto_bit(p->hasip4, p->ip_proto))) {
        return SPLITHDR_INLINE_MASKED;
    }
    /* The parser takes the L4 header only when all of it is in the frame. */
    if (p->l4proto != ETH_L4_HDR_PROTO_TCP &&
        p->l4proto != ETH_L4_HDR_PROTO_UDP) {
        return SPLITHDR_INLINE_MALFORMED;
    }
    if (p->ip_proto == IP_PROTO_TCP) {
        size_t doff = (f[l4off + 12] >> 4) * 4;

        if (doff < sizeof(struct tcp_header)) {
            return SPLITHDR_INLINE_MALFORMED;
        }
        l5off = l4off + doff;
    } else {
        size_t ulen = lduw_be_p(f + l4off + 4);

        l5off = l4off + sizeof(struct udp_header);
        if (ulen < sizeof(struct udp_header) || l4off + ulen > ip_end) {
            return SPLITHDR_INLINE_MALFORMED;
        }
    }
    if (l5off > ip_end) {
        return SPLITHDR_INLINE_MALFORMED;
    }
    if (l5off > room) {
        return SPLITHDR_INLINE_TOO_BIG;
    }
    *hdr_len = l5off;
    return SPLITHDR_SPLIT;
}
