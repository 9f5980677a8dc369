/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Split transport header receive for virtio-net: the guest-visible ABI.
 *
 * Every number here is provisional (see docs/specs/virtio-net-split-hdr.rst):
 * it is chosen from what virtio 1.4 leaves free and defined only here so
 * that it can move.  This header has no QEMU dependency so that the qtest,
 * the benchmark and the fuzz target share it with the device model.
 */

#ifndef HW_VIRTIO_VIRTIO_NET_SPLITHDR_WIRE_H
#define HW_VIRTIO_VIRTIO_NET_SPLITHDR_WIRE_H

/*
 * Little-endian fields, in the virtio spec's notation.  To the compiler
 * they are plain integers (QEMU imports Linux's __le16 as uint16_t too):
 * read them with le16_to_cpu() and friends.
 */
typedef uint16_t le16;
typedef uint32_t le32;
typedef uint64_t le64;

/* Feature bit; requires VERSION_1, CTRL_VQ and MRG_RXBUF. */
#define VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER 58

/* virtio_net_hdr.flags bit: the L2..L4 headers are in the slot. */
#define VIRTIO_NET_HDR_F_SPLIT_TRANSPORT_HEADER 0x80

/* Control class and command. */
#define VIRTIO_NET_CTRL_SPLIT_HDR 10
#define VIRTIO_NET_CTRL_SPLIT_HDR_SET 0

/* proto_mask bits: which packets are split. */
#define VIRTIO_NET_SPLIT_HDR_PROTO_TCPV4 (1u << 0)
#define VIRTIO_NET_SPLIT_HDR_PROTO_UDPV4 (1u << 1)
#define VIRTIO_NET_SPLIT_HDR_PROTO_TCPV6 (1u << 2)
#define VIRTIO_NET_SPLIT_HDR_PROTO_UDPV6 (1u << 3)
#define VIRTIO_NET_SPLIT_HDR_PROTO_ALL   0xfu

/* Limits on the header ring. */
#define VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MIN 64
#define VIRTIO_NET_SPLIT_HDR_SLOT_SIZE_MAX 4096
#define VIRTIO_NET_SPLIT_HDR_NUM_SLOTS_MAX 32768
/* ring_addr must be a multiple of this. */
#define VIRTIO_NET_SPLIT_HDR_RING_ALIGN 64

/*
 * VIRTIO_NET_CTRL_SPLIT_HDR_SET payload, 24 bytes.  ring_addr == 0 turns
 * the queue's ring off; slot_size, num_slots and proto_mask are then
 * ignored, reserved must still be 0.
 */
struct virtio_net_split_hdr_set {
    le16 rq_index;          /* receive queue: 0 for receiveq1, ... */
    le16 slot_size;         /* power of two, 64..4096 */
    le32 num_slots;         /* power of two, >= queue size, <= 32768 */
    le32 proto_mask;        /* VIRTIO_NET_SPLIT_HDR_PROTO_* */
    le32 reserved;          /* must be zero */
    le64 ring_addr;         /* guest DMA address of slot 0 */
};

/* Every slot starts with this prefix, then the virtio_net_hdr. */
struct virtio_net_split_hdr_slot_prefix {
    le16 seq;               /* packet number k mod 65536 */
    le16 reserved;          /* written as zero */
};

#define VIRTIO_NET_SPLIT_HDR_PREFIX_LEN 4

/*
 * vhost-user (docs/specs/virtio-net-split-hdr.rst, "vhost-user"): the
 * protocol feature a backend announces to take header rings, and its
 * requests.  Provisional, and far from upstream's numbers: upstream uses
 * protocol feature bits up to 19 and requests up to 43, and is about to
 * take bit 20 and request 44.
 */
#define VHOST_USER_PROTOCOL_F_NET_SPLIT_HDR 40

/*
 * Payload: the layout of struct virtio_net_split_hdr_set, but in native
 * byte order like every vhost-user message; REPLY_ACK.
 */
#define VHOST_USER_NET_SPLIT_HDR_SET_RING 1000
/* Payload struct vhost_user_net_split_hdr_state; the reply carries k. */
#define VHOST_USER_NET_SPLIT_HDR_GET_STATE 1001
/* Payload struct vhost_user_net_split_hdr_state; REPLY_ACK. */
#define VHOST_USER_NET_SPLIT_HDR_SET_STATE 1002

/* GET_STATE / SET_STATE payload, 8 bytes, native byte order. */
struct vhost_user_net_split_hdr_state {
    uint32_t rq_index;      /* receive queue: 0 for receiveq1, ... */
    uint32_t k;             /* packets delivered since SET_RING, mod 2^32 */
};

#endif
