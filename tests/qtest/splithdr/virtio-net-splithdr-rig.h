/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The split-hdr qtests' driver ("rig"): a minimal virtio-net driver over
 * libqos for one receive queue and the control queue, frame builders, and
 * checks of what the device wrote into guest memory.  Shared by the
 * virtio-net-splithdr-*-test.c files.  A multiqueue test uses one Rig per
 * receive queue (rig_init_queue); they share the control queue.
 */

#ifndef TESTS_QTEST_VIRTIO_NET_SPLITHDR_RIG_H
#define TESTS_QTEST_VIRTIO_NET_SPLITHDR_RIG_H

#include "libqos/qgraph.h"
#include "libqos/virtio.h"
#include "libqos/virtio-net.h"
#include "standard-headers/linux/virtio_net.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"

#define TIMEOUT_US (30 * 1000 * 1000)
#define QOM_PATH "/machine/peripheral/vnet0/virtio-backend"
#define VHDR_LEN sizeof(struct virtio_net_hdr_mrg_rxbuf)   /* 12 */
#define VHDR_HASH_LEN sizeof(struct virtio_net_hdr_v1_hash) /* 20 */
#define PREFIX VIRTIO_NET_SPLIT_HDR_PREFIX_LEN
#define BUF_SIZE 4096
#define NUM_BUFS 64            /* receive buffers the test keeps posted */
#define RX_QSIZE 256           /* virtio-net's default rx_queue_size */
#ifndef ETH_P_IP               /* else <linux/if_ether.h> has them */
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#endif
#define RIG_CTRL_MAX 256       /* longest control command payload */
#define RIG_RSS_KEY_LEN 40

typedef struct Rig {
    QTestState *qts;
    QVirtioNet *net;
    QVirtioDevice *vdev;
    QGuestAllocator *alloc;
    QVirtQueue *rxq;
    QVirtQueue *ctrlq;
    int sock;
    bool sock_dgram;           /* sock takes one frame per send, no prefix */
    uint16_t rq;               /* receive queue index, as rq_index */
    size_t vhdr_len;           /* H: 12, or 20 with VIRTIO_NET_F_HASH_REPORT */

    uint16_t avail_idx;        /* next avail ring index of rxq */
    uint16_t used_seen;        /* used entries consumed so far */
    uint64_t bufs[NUM_BUFS];   /* guest address of buffer i = descriptor i */
    uint16_t next_buf;         /* buffer to post next, round robin */
    bool no_fill;              /* rig_post skips the 0xee fill */

    uint64_t ctrl_mem;         /* command header + payload + status */

    uint64_t ring;             /* header ring of the current SET */
    uint32_t slot_size;
    uint32_t num_slots;
} Rig;

typedef struct UsedElem {
    uint32_t id;
    uint32_t len;
} UsedElem;

typedef enum L3 { L3_ARP, L3_OTHER, L3_IP4, L3_IP6 } L3;

typedef struct FrameSpec {
    int vlan_tags;             /* 0, 1 (802.1Q) or 2 (802.1ad + 802.1Q) */
    L3 l3;
    uint8_t l4;                /* IP protocol: 6 TCP, 17 UDP, 1 ICMP, ... */
    int ip4_opt_len;           /* bytes of IPv4 options, multiple of 4 */
    int ip6_ext;               /* add hop-by-hop, routing, dest options */
    int ip6_frag;              /* add an IPv6 fragment header */
    int tcp_opt_len;           /* bytes of TCP options, multiple of 4 */
    size_t payload;            /* bytes after the L4 header */
    uint16_t ip4_frag_field;   /* IPv4 flags/fragment offset */
} FrameSpec;

typedef struct TestArg {
    int sv[2];
    const void *data;
} TestArg;

void rig_init(Rig *r, QVirtioNet *net, QGuestAllocator *alloc,
              int sock);

void rig_init_queue(Rig *r, QVirtioNet *net, QGuestAllocator *alloc,
                    int sock, uint16_t rq);

void rig_write_desc(Rig *r, uint16_t i, uint64_t addr, uint32_t len,
                    uint16_t flags, uint16_t next);

void rig_avail(Rig *r, uint16_t head);

void rig_post_desc(Rig *r, uint16_t i, uint32_t len);

void rig_kick(Rig *r, QVirtQueue *vq);

void rig_post(Rig *r, int n, uint32_t len);

void rig_post_fast(Rig *r, int n);

uint16_t rig_used_idx(Rig *r, QVirtQueue *vq);

void rig_wait_used(Rig *r, int n, UsedElem *out);

void rig_wait_taken(Rig *r);

void rig_assert_no_used(Rig *r);

void rig_expect_marker(Rig *r);

void rig_assert_no_used_backend(Rig *r);

uint8_t rig_ctrl(Rig *r, uint8_t class, uint8_t cmd,
                 const void *data, size_t len);

uint8_t rig_set_raw(Rig *r, uint16_t rq, uint32_t slot_size,
                    uint32_t num_slots, uint32_t mask,
                    uint32_t reserved, uint64_t addr);

void rig_set_ring_at(Rig *r, uint64_t addr, uint32_t slot_size,
                     uint32_t num_slots, uint32_t mask);

void rig_set_ring(Rig *r, uint32_t slot_size, uint32_t num_slots,
                  uint32_t mask);

void rig_send(Rig *r, const void *frame, size_t len);

uint8_t rig_mq_pairs_set(Rig *r, uint16_t pairs);

uint8_t rig_rss_config(Rig *r, uint8_t cmd, uint32_t hash_types,
                       const uint16_t *table, uint16_t table_len,
                       uint16_t max_tx_vq);

void rig_send_batch(Rig *r, uint8_t *const *frames, const size_t *lens,
                    int n);

uint8_t rig_status(Rig *r);

void rig_wait_status(Rig *r, uint8_t bits);

void rig_device_reset(Rig *r);

void rig_device_init(Rig *r);

void rig_queue_reset(Rig *r);

void rig_queue_enable(Rig *r);

void rig_queue_set_vector(Rig *r, uint16_t vector);

void rig_fill(Rig *r, uint64_t addr, size_t len, uint8_t byte);

void rig_assert_filled(Rig *r, uint64_t addr, size_t len, uint8_t byte);

void rig_read_slot(Rig *r, uint32_t k, uint8_t *out);

int64_t rig_stat(Rig *r, const char *name);

void rig_put16(uint8_t *p, uint16_t v);

size_t rig_build_frame(const FrameSpec *s, uint8_t *f, size_t *hdrs);

#define RIG_DHCP_CSUM_OFF (14 + 20 + 6)         /* its UDP checksum */
size_t rig_dhcp_partial_csum(uint8_t *f, size_t *hdrs);
bool rig_udp4_csum_ok(const uint8_t *f);

void rig_check_slot(Rig *r, uint32_t k, const uint8_t *frame,
                    size_t hdr_len, uint16_t num_buffers);

void rig_check_slot_hdr(Rig *r, uint32_t k, const uint8_t *frame,
                        size_t hdr_len, uint16_t num_buffers,
                        const struct virtio_net_hdr_v1_hash *classic);

void rig_check_slot_fault(Rig *r, uint32_t k, uint16_t seq,
                          const uint8_t *frame, size_t hdr_len,
                          uint16_t hdr_len_field, uint16_t num_buffers);

size_t rig_read_classic(Rig *r, const UsedElem *used, int n,
                        struct virtio_net_hdr_v1_hash *hdr,
                        uint8_t *frame, size_t max);

void rig_check_data(Rig *r, const UsedElem *used, int n,
                    const uint8_t *data, size_t len, uint32_t buf_len);

void rig_expect_packet(Rig *r, uint32_t k, const uint8_t *frame,
                       size_t len, size_t hdr_len);

/* Post one buffer, send @frame and check it landed classic (no ring). */
void rig_expect_classic(Rig *r, const uint8_t *frame, size_t len);

void rig_test_cleanup(void *opaque);

void *rig_test_setup(GString *cmd_line, void *arg);

pid_t rig_spawn(const char *cmd, const int *close_fds, int n);

int rig_packet_socket(const char *ifname, int proto, bool vnet_hdr);

char *rig_netif_quiet_up(const char *ifname, int mtu);

#endif
