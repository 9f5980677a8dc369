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

void splithdr_parse(const uint8_t *frame, size_t len, SplitHdrParse *p)
{
    struct iovec iov = { .iov_base = (void *)frame, .iov_len = len };
    eth_ip6_hdr_info ip6;
    eth_ip4_hdr_info ip4;
    eth_l4_hdr_info l4;
    size_t l3off, l5off;

    eth_get_protocols(&iov, 1, 0, &p->hasip4, &p->hasip6, &l3off,
                      &p->l4off, &l5off, &ip6, &ip4, &l4);
    p->l4proto = l4.proto;
    if (p->hasip4) {
        p->fragment = ip4.fragment;
        p->ip_proto = ip4.ip4_hdr.ip_p;
    } else if (p->hasip6) {
        p->fragment = ip6.fragment;
        p->ip_proto = ip6.l4proto;
    }
}

/*
 * Length of the L2 header and the ethertype behind it; the same tags as
 * eth_get_l2_hdr_length() (802.1Q, 802.1ad optionally followed by 802.1Q),
 * but never reading past @len.  Returns 0 for a frame cut inside L2.
 */
static size_t splithdr_l2_len(const uint8_t *f, size_t len, uint16_t *type)
{
    size_t off = offsetof(struct eth_header, h_proto);
    uint16_t outer;

    if (len < ETH_HLEN) {
        return 0;
    }
    outer = *type = lduw_be_p(f + off);
    if (outer == ETH_P_VLAN || outer == ETH_P_DVLAN) {
        off += sizeof(struct vlan_header);
        if (len < off + 2) {
            return 0;
        }
        *type = lduw_be_p(f + off);
        if (outer == ETH_P_DVLAN && *type == ETH_P_VLAN) {
            off += sizeof(struct vlan_header);
            if (len < off + 2) {
                return 0;
            }
            *type = lduw_be_p(f + off);
        }
    }
    return off + 2;
}

/*
 * Checks of IPv4 that eth_get_protocols() leaves out.  Returns the end of
 * the IP packet within the frame, or 0 when the headers are inconsistent.
 */
static size_t splithdr_ip4_end(const uint8_t *f, size_t len, size_t l3off,
                               const SplitHdrParse *p)
{
    size_t ihl = (f[l3off] & 0xf) * 4;
    size_t end = l3off + lduw_be_p(f + l3off + 2);

    if (ihl < sizeof(struct ip_header) || end < l3off + ihl ||
        p->l4off != l3off + ihl) {
        return 0;
    }
    return end <= len ? end : 0;
}

/*
 * The spec's IPv6 extension header walk: hop-by-hop, routing, fragment and
 * destination options, each (Hdr Ext Len + 1) * 8 bytes, never reading
 * past @len.  The first other next header value is the L4 protocol.
 * eth_parse_ipv6_hdr() cannot be used for this: it also steps over AH and
 * Mobility headers, whose length it does not know (AH counts 4-byte
 * units), and then lands anywhere, so that an AH packet came out
 * inline-malformed instead of inline-not-tcp-udp.  Returns the L4 offset,
 * or 0 when the chain is cut by the end of the frame.
 */
static size_t splithdr_ip6_walk(const uint8_t *f, size_t len, size_t l3off,
                                uint8_t *proto, bool *fragment)
{
    size_t off = l3off + sizeof(struct ip6_header);
    uint8_t nh = f[l3off + offsetof(struct ip6_header, ip6_nxt)];

    *fragment = false;
    while (nh == IP6_HOP_BY_HOP || nh == IP6_ROUTING ||
           nh == IP6_DESTINATON || nh == IP6_FRAGMENT) {
        size_t ext;

        if (len < off + 2) {
            return 0;
        }
        ext = (f[off + 1] + 1) * IP6_EXT_GRANULARITY;
        if (len < off + ext) {
            return 0;
        }
        *fragment |= nh == IP6_FRAGMENT;
        nh = f[off];
        off += ext;
    }
    *proto = nh;
    return off;
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

SplitHdrVerdict splithdr_classify(const uint8_t *f, size_t len,
                                  const SplitHdrParse *p,
                                  uint32_t proto_mask, size_t room,
                                  size_t *hdr_len)
{
    uint16_t type = 0;
    size_t l3off = splithdr_l2_len(f, len, &type);
    size_t ip_end, l4off, l5off;
    bool fragment;
    uint8_t ip_proto;

    if (!l3off) {
        return SPLITHDR_INLINE_MALFORMED;
    }
    if (type != ETH_P_IP && type != ETH_P_IPV6) {
        return SPLITHDR_INLINE_NOT_IP;
    }
    if (type == ETH_P_IP) {
        /* The parser refuses a cut IPv4 header and a version other than 4. */
        if (!p->hasip4) {
            return SPLITHDR_INLINE_MALFORMED;
        }
        ip_end = splithdr_ip4_end(f, len, l3off, p);
        l4off = p->l4off;
        fragment = p->fragment;
        ip_proto = p->ip_proto;
    } else {
        if (len < l3off + sizeof(struct ip6_header) ||
            (f[l3off] >> 4) != 6) {
            return SPLITHDR_INLINE_MALFORMED;
        }
        ip_end = l3off + sizeof(struct ip6_header) +
                 lduw_be_p(f + l3off + offsetof(struct ip6_header, ip6_plen));
        l4off = splithdr_ip6_walk(f, len, l3off, &ip_proto, &fragment);
        if (ip_end > len || !l4off || l4off > ip_end) {
            ip_end = 0;
        }
    }
    if (!ip_end) {
        return SPLITHDR_INLINE_MALFORMED;
    }
    if (fragment) {
        return SPLITHDR_INLINE_FRAGMENT;
    }
    if (ip_proto != IP_PROTO_TCP && ip_proto != IP_PROTO_UDP) {
        return SPLITHDR_INLINE_NOT_TCP_UDP;
    }
    if (!(proto_mask & splithdr_proto_bit(type == ETH_P_IP, ip_proto))) {
        return SPLITHDR_INLINE_MASKED;
    }
    /* L4 header cut by the end of the frame (the IP end is checked next). */
    if (len < l4off + (ip_proto == IP_PROTO_TCP ? sizeof(struct tcp_header)
                                                : sizeof(struct udp_header))) {
        return SPLITHDR_INLINE_MALFORMED;
    }
    if (ip_proto == IP_PROTO_TCP) {
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
