/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Split transport header receive: the split policy.
 *
 * Decides, for one received frame, whether its L2..L4 headers go to the
 * header slot (split) or the whole frame goes inline into the data buffers,
 * and why.  It works on the result of QEMU's own parser (eth_get_protocols()
 * through NetRxPkt, the parse RSS uses) and adds the checks that parser does
 * not make.  It knows nothing about virtqueues, so that the device model and
 * the vhost-user backend share it, and it can be fuzzed alone.
 */

#ifndef HW_NET_VIRTIO_NET_SPLITHDR_POLICY_H
#define HW_NET_VIRTIO_NET_SPLITHDR_POLICY_H

#include "net/eth.h"

/* Outcome of the split decision; the order is the order of the checks. */
typedef enum SplitHdrVerdict {
    SPLITHDR_SPLIT,
    SPLITHDR_INLINE_NOT_IP,       /* ethertype neither IPv4 nor IPv6 */
    SPLITHDR_INLINE_MALFORMED,    /* truncated or inconsistent headers */
    SPLITHDR_INLINE_FRAGMENT,     /* IPv4 or IPv6 fragment */
    SPLITHDR_INLINE_NOT_TCP_UDP,  /* ICMP, SCTP, tunnels, ... */
    SPLITHDR_INLINE_MASKED,       /* protocol not in proto_mask */
    SPLITHDR_INLINE_TOO_BIG,      /* headers larger than the slot */
    SPLITHDR_VERDICT__MAX,
} SplitHdrVerdict;

/*
 * What QEMU's parser (eth_get_protocols()) finds, offsets relative to the
 * frame.  This is the only parse of a frame: the policy reads header
 * fields only at these offsets, and never walks a header chain itself.
 */
typedef struct SplitHdrParse {
    bool hasip4;                  /* an IPv4 header of 20 bytes, version 4 */
    bool hasip6;                  /* an IPv6 header of 40 bytes */
    bool fragment;                /* MF or offset set, or a fragment header */
    uint8_t ip_proto;             /* IPv4 protocol / IPv6 last next header */
    EthL4HdrProto l4proto;        /* INVALID when the L4 header is cut */
    size_t l3off;                 /* end of the L2 header */
    size_t l4off;                 /* end of the IP header chain */
} SplitHdrParse;

/* Name of a verdict, as used by the QMP counters ("split", "inline-..."). */
const char *splithdr_verdict_name(SplitHdrVerdict v);

/*
 * Parse @frame (no virtio header in front): what eth_get_protocols()
 * finds.  Untagged IPv4, and IPv6 straight to TCP or UDP, are read in
 * place; every other frame goes through the parser.
 */
void splithdr_parse(const uint8_t *frame, size_t len, SplitHdrParse *p);

/* The same with eth_get_protocols() for every frame: the reference. */
void splithdr_parse_full(const uint8_t *frame, size_t len, SplitHdrParse *p);

/*
 * Decide for @frame of @len bytes, parsed into @p.  @proto_mask holds
 * VIRTIO_NET_SPLIT_HDR_PROTO_* bits; @room is the number of slot bytes left
 * for L2..L4 headers.  On SPLITHDR_SPLIT, *@hdr_len is the length of the
 * L2..L4 headers (the payload offset).
 */
SplitHdrVerdict splithdr_classify(const uint8_t *frame, size_t len,
                                  const SplitHdrParse *p,
                                  uint32_t proto_mask, size_t room,
                                  size_t *hdr_len);

#endif
