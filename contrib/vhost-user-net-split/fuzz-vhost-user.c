/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libFuzzer target for vhost-user-net-split: the backend's vhost-user
 * message and ring handling, in process.  It links the backend's files
 * (not main.c) and libvhost-user, and plays the front-end: for each input
 * a fresh connection over a socketpair, a memfd as guest memory, and a
 * sequence of operations read from the input: front-end messages
 * (features, memory table, vrings, SET_RING, GET_STATE, SET_STATE, dirty
 * log, raw messages), driver actions (descriptors and avail entries
 * written into guest memory, kicks, raw writes) and frames from a test
 * network side.
 *
 * Oracle, besides ASan and UBSan: every used entry names a head the
 * driver made available and not yet got back, and claims no more than
 * the writable length of that chain (checked while the input played
 * only well-formed rings); guest memory that no region of the memory
 * table maps is never written; the process never exits.
 *
 * Built only with --enable-fuzzing (contrib/vhost-user-net-split/
 * meson.build); buildsys/fuzz-vhost-user.sh runs it.
 */

#include "qemu/osdep.h"
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include "qemu/atomic.h"
#include "qemu/bswap.h"
#include "qemu/host-utils.h"
#include "qemu/iov.h"
#include "standard-headers/linux/virtio_net.h"
#include "standard-headers/linux/virtio_ring.h"
#include "hw/virtio/virtio-net-splithdr-wire.h"
#include "vns.h"
#include "fuzz-vhost-user.h"

#define FZ_MEM_SIZE (4 << 20)       /* the memfd: all guest memory */
#define FZ_QVA_OFF 0x7f0000000000ull /* front-end address = gpa + this */
#define FZ_QUEUE_PAIRS 1           /* --queues: one pair */
#define FZ_NQ (2 * FZ_QUEUE_PAIRS)
#define FZ_MAX_REGIONS 3
#define FZ_QMAX 1024                /* VIRTQUEUE_MAX_SIZE */
#define FZ_MAX_FRAME 65550
#define FZ_MAX_OPS 64
#define FZ_CANARY 0xa5
#define FZ_VERSION 0x1                /* flags: vhost-user version 1 */
#define FZ_PAYLOAD_MAX sizeof(((VhostUserMsg *)NULL)->payload)

/*
 * Where well-formed operations put things (guest physical addresses,
 * identity-mapped by the default memory table): vrings, header rings and
 * buffers never overlap, so what the backend writes cannot change the
 * rings behind the oracle's back.
 */
#define FZ_VRING_AREA 0x0
#define FZ_VRING_AREA_SIZE 0x20000  /* 2 queues x 64 KiB */
#define FZ_SLOT_AREA 0x20000
#define FZ_SLOT_AREA_SIZE 0xe0000   /* 896 KiB: 32768 x 16 .. 256 x 4096 */
#define FZ_BUF_AREA 0x100000
#define FZ_BUF_AREA_SIZE (FZ_MEM_SIZE - FZ_BUF_AREA)

typedef struct FzRegion {
    uint64_t gpa, size, off;        /* off: in the memfd */
} FzRegion;

typedef struct FzQueue {
    bool set;                       /* set up by a well-formed op */
    uint16_t num;
    uint64_t desc, avail, used;     /* guest physical */
    uint16_t avail_idx, used_seen;
    uint16_t next_desc;
    bool busy[FZ_QMAX];             /* descriptor in a chain not yet used */
    bool pending[FZ_QMAX];          /* head available, not yet used */
    uint8_t chain_len[FZ_QMAX];     /* per head: its chain's descriptors */
    uint16_t chain[FZ_QMAX][3];
    uint64_t cap[FZ_QMAX];          /* writable bytes of the head's chain */
} FzQueue;

typedef struct Fz {
    VuNetSplit *s;
    VnsNet net;
    int sock;                       /* our end of the vhost-user socket */
    int memfd;
    uint8_t *mem;
    FzRegion reg[FZ_MAX_REGIONS];
    int nreg;
    int kick[FZ_NQ];
    FzQueue q[FZ_NQ];
    bool strict;                    /* rings well-formed: check used lens */
    bool canary;                    /* the memory table is the harness's */
    uint64_t features;

    const uint8_t *in;
    size_t in_len, pos;

    uint8_t *held;                  /* frame the backend could not take */
    size_t held_len;
    bool has_held;
    uint8_t frame[FZ_MAX_FRAME];
} Fz;

static Fz fz;

/* --- input ----------------------------------------------------------- */

static uint8_t in8(void)
{
    return fz.pos < fz.in_len ? fz.in[fz.pos++] : 0;
}

static uint16_t in16(void)
{
    return in8() | in8() << 8;
}

static uint32_t in32(void)
{
    return in16() | (uint32_t)in16() << 16;
}

static uint64_t in64(void)
{
    return in32() | (uint64_t)in32() << 32;
}

static void in_bytes(void *buf, size_t len)
{
    size_t n = MIN(len, fz.in_len - fz.pos);

    memcpy(buf, fz.in + fz.pos, n);
    memset((uint8_t *)buf + n, 0, len - n);
    fz.pos += n;
}

/* --- guest memory as the harness sees it ------------------------------ */

/* Host pointer for [@gpa, @gpa + @len) if one region maps it all. */
static uint8_t *fz_gpa(uint64_t gpa, uint64_t len)
{
    int i;

    for (i = 0; i < fz.nreg; i++) {
        FzRegion *r = &fz.reg[i];

        if (gpa >= r->gpa && gpa - r->gpa <= r->size &&
            len <= r->size - (gpa - r->gpa) &&
            r->off + (gpa - r->gpa) + len <= FZ_MEM_SIZE) {
            return fz.mem + r->off + (gpa - r->gpa);
        }
    }
    return NULL;
}

static bool fz_memfd_mapped(uint64_t off)
{
    int i;

    for (i = 0; i < fz.nreg; i++) {
        if (off >= fz.reg[i].off && off - fz.reg[i].off < fz.reg[i].size) {
            return true;
        }
    }
    return false;
}

/* Fill what no region maps; fz_check_canary() finds writes there. */
static void fz_paint_canary(void)
{
    uint64_t off;

    for (off = 0; off < FZ_MEM_SIZE; off += 4096) {
        if (!fz_memfd_mapped(off)) {
            memset(fz.mem + off, FZ_CANARY, 4096);
        }
    }
}

static void fz_check_canary(void)
{
    uint64_t off;
    size_t i;

    for (off = 0; off < FZ_MEM_SIZE; off += 4096) {
        if (fz_memfd_mapped(off)) {
            continue;
        }
        for (i = 0; i < 4096; i++) {
            if (fz.mem[off + i] != FZ_CANARY) {
                fprintf(stderr, "fuzz: memfd offset 0x%" PRIx64 " written "
                        "outside the memory table\n", off + i);
                abort();
            }
        }
    }
}

/* --- the front-end's side of the socket --------------------------------- */

/* Run the backend's main loop until it has nothing left to do. */
static void fz_pump(void)
{
    int i;

    for (i = 0; i < 256 && g_main_context_iteration(NULL, FALSE); i++) {
        /* dispatch messages, kicks, idle callbacks */
    }
}

static void fz_drain_replies(void)
{
    uint8_t buf[4096];
    char control[CMSG_SPACE(8 * sizeof(int))];

    for (;;) {
        struct iovec iov = { buf, sizeof(buf) };
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1,
            .msg_control = control, .msg_controllen = sizeof(control),
        };
        struct cmsghdr *cmsg;

        if (recvmsg(fz.sock, &msg, MSG_DONTWAIT) <= 0) {
            return;
        }
        /* Replies carry no fds today; close any, should one come. */
        for (cmsg = CMSG_FIRSTHDR(&msg); cmsg;
             cmsg = CMSG_NXTHDR(&msg, cmsg)) {
            if (cmsg->cmsg_type == SCM_RIGHTS) {
                int *fds = (int *)CMSG_DATA(cmsg);
                size_t n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);

                while (n--) {
                    close(fds[n]);
                }
            }
        }
    }
}

/* Send one message with @nfds fds, let the backend serve it. */
static void fz_send(uint32_t req, uint32_t flags, const void *payload,
                    uint32_t size, const int *fds, int nfds)
{
    VhostUserMsg m = { .request = req, .flags = flags, .size = size };
    char control[CMSG_SPACE(VHOST_MEMORY_BASELINE_NREGIONS * sizeof(int))];
    struct iovec iov = { &m, VHOST_USER_HDR_SIZE + size };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

    assert(size <= sizeof(m.payload));
    if (size) {
        memcpy(&m.payload, payload, size);
    }
    if (nfds) {
        struct cmsghdr *cmsg;

        memset(control, 0, sizeof(control));
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
    }
    if (sendmsg(fz.sock, &msg, MSG_NOSIGNAL) < 0) {
        return;                     /* the backend closed the connection */
    }
    fz_pump();
    fz_drain_replies();
}

static void fz_send_u64(uint32_t req, uint64_t val)
{
    fz_send(req, FZ_VERSION, &val, sizeof(val), NULL, 0);
}

static void fz_send_state(uint32_t req, uint32_t index, uint32_t num)
{
    struct vhost_vring_state st = { .index = index, .num = num };

    fz_send(req, FZ_VERSION, &st, sizeof(st), NULL, 0);
}

static void fz_send_fd(uint32_t req, uint64_t u64, int fd)
{
    fz_send(req, FZ_VERSION, &u64, sizeof(u64), &fd, fd >= 0);
}

/* --- operations -------------------------------------------------------- */

static void op_features(void)
{
    uint8_t pick = in8();
    uint64_t f = 1ULL << VIRTIO_F_VERSION_1 |
                 1ULL << VIRTIO_NET_F_MRG_RXBUF |
                 1ULL << VIRTIO_NET_F_SPLIT_TRANSPORT_HEADER |
                 1ULL << VHOST_USER_F_PROTOCOL_FEATURES;
    uint64_t pf = 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK |
                  1ULL << VHOST_USER_PROTOCOL_F_LOG_SHMFD |
                  1ULL << VHOST_USER_PROTOCOL_F_NET_SPLIT_HDR;

    if (pick & 1) {
        f ^= in64();
    }
    if (pick & 2) {
        pf ^= in64();
    }
    fz_send(VHOST_USER_GET_FEATURES, FZ_VERSION, NULL, 0, NULL, 0);
    fz_send_u64(VHOST_USER_SET_FEATURES, f);
    fz_send(VHOST_USER_GET_PROTOCOL_FEATURES, FZ_VERSION, NULL, 0,
            NULL, 0);
    fz_send_u64(VHOST_USER_SET_PROTOCOL_FEATURES, pf);
    fz_send(VHOST_USER_SET_OWNER, FZ_VERSION, NULL, 0, NULL, 0);
    fz.features = f;
}

/*
 * SET_MEM_TABLE.  Mode 0: one region, all of the memfd at gpa 0.  Else
 * up to three regions from the input; well-formed ones (mode 1) use
 * disjoint parts of the memfd, others say anything.
 */
static void op_mem_table(void)
{
    VhostUserMemory m = { 0 };
    int fds[VHOST_MEMORY_BASELINE_NREGIONS];
    uint8_t mode = in8() % 3;
    uint32_t n = 1, i;

    if (mode) {
        n = 1 + in8() % FZ_MAX_REGIONS;
    }
    fz.nreg = 0;
    for (i = 0; i < n; i++) {
        VhostUserMemoryRegion *r = &m.regions[i];

        if (mode == 0) {
            r->guest_phys_addr = 0;
            r->memory_size = FZ_MEM_SIZE;
            r->mmap_offset = 0;
        } else if (mode == 1) {
            /* Part i of three of the memfd, at a gpa from the input. */
            uint64_t part = FZ_MEM_SIZE / FZ_MAX_REGIONS & ~4095ULL;

            r->mmap_offset = i * part;
            r->memory_size = (1 + in8() % (part / 4096)) * 4096;
            r->guest_phys_addr = (uint64_t)in16() << 12;
        } else {
            r->guest_phys_addr = in64();
            r->memory_size = in64();
            r->mmap_offset = in64();
        }
        r->userspace_addr = r->guest_phys_addr + FZ_QVA_OFF;
        fds[i] = fz.memfd;
        if (mode < 2 && fz.nreg < FZ_MAX_REGIONS) {
            fz.reg[fz.nreg].gpa = r->guest_phys_addr;
            fz.reg[fz.nreg].size = r->memory_size;
            fz.reg[fz.nreg++].off = r->mmap_offset;
        }
    }
    if (mode == 2) {
        /* Anything goes: no canary, no oracle on the rings. */
        fz.nreg = 0;
        fz.strict = false;
        fz.canary = false;
        m.nregions = in8() % 2 ? n : in32();
    } else {
        m.nregions = n;
        fz_paint_canary();
        fz.canary = true;
    }
    /* The rings the oracle knows may now be elsewhere. */
    for (i = 0; i < FZ_NQ; i++) {
        fz.q[i].set = false;
    }
    fz_send(VHOST_USER_SET_MEM_TABLE, FZ_VERSION, &m,
            offsetof(VhostUserMemory, regions) +
            n * sizeof(VhostUserMemoryRegion), fds, n);
}

/*
 * A vring, well-formed (its own 64 KiB of the vring area, size a power of
 * two up to 1024) or from the input.
 */
static void op_vring(void)
{
    uint8_t mode = in8();
    unsigned int qi = mode & 1;
    FzQueue *q = &fz.q[qi];
    struct vhost_vring_addr a = { .index = qi };
    uint64_t base = FZ_VRING_AREA + qi * (FZ_VRING_AREA_SIZE / FZ_NQ);
    uint16_t num = 1 << (in8() % 11);
    int call = eventfd(0, EFD_NONBLOCK);
    uint8_t *used;

    memset(q, 0, sizeof(*q));
    if (mode & 2) {
        /* Addresses and size from the input. */
        num = in16();
        a.desc_user_addr = in32();
        a.avail_user_addr = in32();
        a.used_user_addr = in32();
        fz.strict = false;
    } else {
        a.desc_user_addr = base;
        a.avail_user_addr = base + 16 * num;
        a.used_user_addr = QEMU_ALIGN_UP(base + 16 * num + 6 + 2 * num, 4);
    }
    a.desc_user_addr += FZ_QVA_OFF;
    a.avail_user_addr += FZ_QVA_OFF;
    a.used_user_addr += FZ_QVA_OFF;
    if (mode & 4) {
        a.flags = 1 << VHOST_VRING_F_LOG;
        a.log_guest_addr = a.used_user_addr - FZ_QVA_OFF;
    }

    /*
     * A fresh avail ring before SET_VRING_BASE 0 and the kick: else the
     * entries of the old one are available again, rightly.
     */
    if (!(mode & 2) && fz_gpa(a.avail_user_addr - FZ_QVA_OFF + 2, 2)) {
        stw_le_p(fz_gpa(a.avail_user_addr - FZ_QVA_OFF + 2, 2), 0);
    }
    fz_send_state(VHOST_USER_SET_VRING_NUM, qi, num);
    fz_send(VHOST_USER_SET_VRING_ADDR, FZ_VERSION, &a, sizeof(a),
            NULL, 0);
    fz_send_state(VHOST_USER_SET_VRING_BASE, qi, 0);
    if (fz.kick[qi] < 0) {
        fz.kick[qi] = eventfd(0, EFD_NONBLOCK);
    }
    fz_send_fd(VHOST_USER_SET_VRING_KICK, qi, fz.kick[qi]);
    if (!(mode & 8)) {
        fz_send_fd(VHOST_USER_SET_VRING_CALL, qi, call);
    }
    close(call);
    fz_send_state(VHOST_USER_SET_VRING_ENABLE, qi, 1);

    if (!(mode & 2) && num <= FZ_QMAX) {
        q->num = num;
        q->desc = a.desc_user_addr - FZ_QVA_OFF;
        q->avail = a.avail_user_addr - FZ_QVA_OFF;
        q->used = a.used_user_addr - FZ_QVA_OFF;
        used = fz_gpa(q->used + 2, 2);
        q->used_seen = used ? lduw_le_p(used) : 0;
        q->avail_idx = 0;
        q->set = true;
    }
}

static void op_set_ring(void)
{
    struct virtio_net_split_hdr_set c = { 0 };
    uint8_t mode = in8();

    if (mode & 1) {
        in_bytes(&c, sizeof(c));
    } else {
        c.slot_size = 64 << (in8() % 7);
        c.num_slots = 1u << (in8() % 16);
        c.proto_mask = in8() & 0xf;
        c.ring_addr = FZ_SLOT_AREA + (in16() % (FZ_SLOT_AREA_SIZE / 64)) * 64;
        if ((uint64_t)c.slot_size * c.num_slots > FZ_SLOT_AREA_SIZE) {
            c.num_slots = FZ_SLOT_AREA_SIZE / c.slot_size;
            c.num_slots = 1u << (31 - clz32(c.num_slots));
        }
        if (c.ring_addr + (uint64_t)c.slot_size * c.num_slots >
            FZ_SLOT_AREA + FZ_SLOT_AREA_SIZE) {
            c.ring_addr = FZ_SLOT_AREA;
        }
        if (mode & 2) {
            c.ring_addr = 0;
        }
    }
    fz_send(VHOST_USER_NET_SPLIT_HDR_SET_RING,
            FZ_VERSION | (mode & 4 ? VHOST_USER_NEED_REPLY_MASK : 0),
            &c, mode & 8 ? in8() % (sizeof(c) + 4) : sizeof(c), NULL, 0);
}

static void op_state(void)
{
    struct vhost_user_net_split_hdr_state st;
    uint8_t mode = in8();

    st.rq_index = mode & 2 ? in32() : 0;
    st.k = in32();
    fz_send(mode & 1 ? VHOST_USER_NET_SPLIT_HDR_SET_STATE :
            VHOST_USER_NET_SPLIT_HDR_GET_STATE,
            FZ_VERSION | (mode & 4 ? VHOST_USER_NEED_REPLY_MASK : 0),
            &st, mode & 8 ? in8() % (sizeof(st) + 4) : sizeof(st), NULL, 0);
}

/*
 * The driver posts buffers on queue @qi: 1..3 descriptor chains into the
 * buffer area, their heads in the avail ring.  On the transmit queue the
 * buffers carry a virtio header and a frame.
 */
static void op_post(void)
{
    uint8_t mode = in8();
    unsigned int qi = mode & 1;
    FzQueue *q = &fz.q[qi];
    unsigned int n = 1 + (mode >> 1) % 8, i, j;
    uint8_t *avail;

    avail = q->set ? fz_gpa(q->avail, 4 + 2 * q->num) : NULL;
    if (!avail || !fz_gpa(q->desc, 16 * q->num)) {
        return;
    }
    for (i = 0; i < n; i++) {
        unsigned int ndesc = 1 + in8() % 3, found = 0;
        uint16_t d[3], head;
        uint64_t cap = 0;

        /* Free descriptors, from next_desc on. */
        for (j = 0; j < q->num && found < ndesc; j++) {
            uint16_t c = (q->next_desc + j) % q->num;

            if (!q->busy[c]) {
                d[found++] = c;
            }
        }
        if (found < ndesc) {
            break;
        }
        for (j = 0; j < ndesc; j++) {
            uint8_t *desc = fz_gpa(q->desc + 16 * d[j], 16);
            uint16_t pick = in16();
            uint32_t len = pick & 0x8000 ? 4096 : 1 + pick % 20000;
            uint64_t addr = FZ_BUF_AREA +
                            (uint64_t)in16() * 64 % (FZ_BUF_AREA_SIZE - len);
            uint16_t flags = qi == 0 ? VRING_DESC_F_WRITE : 0;

            if (qi == 1 && fz_gpa(addr, len)) {
                in_bytes(fz_gpa(addr, len), MIN(len, 256));
            }
            if (j + 1 < ndesc) {
                flags |= VRING_DESC_F_NEXT;
            }
            stq_le_p(desc, addr);
            stl_le_p(desc + 8, len);
            stw_le_p(desc + 12, flags);
            stw_le_p(desc + 14, j + 1 < ndesc ? d[j + 1] : 0);
            q->busy[d[j]] = true;
            q->chain[d[0]][j] = d[j];
            cap += qi == 0 ? len : 0;
        }
        head = d[0];
        q->pending[head] = true;
        q->chain_len[head] = ndesc;
        q->cap[head] = cap;
        q->next_desc = (d[ndesc - 1] + 1) % q->num;
        stw_le_p(avail + 4 + 2 * (q->avail_idx % q->num), head);
        q->avail_idx++;
        smp_wmb();                  /* the entry before the index */
        stw_le_p(avail + 2, q->avail_idx);
    }
}

static void op_kick(void)
{
    unsigned int qi = in8() & 1;

    if (fz.kick[qi] >= 0) {
        eventfd_write(fz.kick[qi], 1);
        fz_pump();
    }
}

/* Build a frame: Ethernet, IPv4 or IPv6, TCP or UDP, payload. */
static size_t fz_build_frame(uint8_t *f)
{
    uint8_t kind = in8();
    size_t payload = in16() % 9000, l3, l4len, len = 14;
    bool v6 = kind & 1, udp = kind & 2;
    uint8_t proto = udp ? 17 : 6;

    memset(f, 0, 64);
    in_bytes(f, 12);
    if (kind & 4) {
        stw_be_p(f + 12, 0x8100);
        stw_be_p(f + 14, in16());
        len += 4;
    }
    if (kind & 8) {
        proto = in8();
    }
    stw_be_p(f + len - 2, v6 ? 0x86dd : 0x0800);
    l3 = len;
    l4len = udp ? 8 : 20 + 4 * (in8() % 11);
    if (v6) {
        f[l3] = 0x60;
        stw_be_p(f + l3 + 4, l4len + payload);
        f[l3 + 6] = proto;
        f[l3 + 7] = 64;
        in_bytes(f + l3 + 8, 32);
        len += 40;
    } else {
        f[l3] = 0x45;
        stw_be_p(f + l3 + 2, 20 + l4len + payload);
        stw_be_p(f + l3 + 6, kind & 16 ? in16() : 0x4000);
        f[l3 + 8] = 64;
        f[l3 + 9] = proto;
        in_bytes(f + l3 + 12, 8);
        len += 20;
    }
    in_bytes(f + len, l4len);
    if (udp) {
        stw_be_p(f + len + 4, l4len + payload);
    } else {
        f[len + 12] = (l4len / 4) << 4;
    }
    len += l4len;
    memset(f + len, in8(), payload);
    len += payload;
    if (kind & 32) {
        len = in16() % (len + 1);   /* cut anywhere */
    }
    return len;
}

static void fz_deliver(const uint8_t *frame, size_t len)
{
    if (fz.has_held) {
        return;                     /* the network side waits */
    }
    if (!vns_rx_frame(fz.s, 0, frame, len)) {
        fz.held = g_memdup2(frame, len);
        fz.held_len = len;
        fz.has_held = true;
    }
    /* A network side with one frame at a time: published at once. */
    vns_rx_flush(fz.s, 0);
}

static void op_frame(void)
{
    uint8_t mode = in8();
    size_t len;

    if (mode & 1) {
        len = in16() % 2048;
        in_bytes(fz.frame, len);
    } else {
        len = fz_build_frame(fz.frame);
    }
    fz_deliver(fz.frame, len);
    fz_pump();
}

/* A write into guest memory anywhere: the oracle on rings is off. */
static void op_raw_write(void)
{
    uint64_t gpa = in32() % FZ_MEM_SIZE;
    size_t len = in8();
    uint8_t *p = fz_gpa(gpa, len);

    if (p) {
        in_bytes(p, len);
        fz.strict = false;
    }
}

/* A message the input makes up, with fds where the request takes them. */
static void op_raw_msg(void)
{
    static const uint32_t reqs[] = {
        VHOST_USER_GET_FEATURES, VHOST_USER_SET_FEATURES,
        VHOST_USER_SET_OWNER, VHOST_USER_RESET_OWNER,
        VHOST_USER_SET_MEM_TABLE, VHOST_USER_SET_LOG_BASE,
        VHOST_USER_SET_LOG_FD, VHOST_USER_SET_VRING_NUM,
        VHOST_USER_SET_VRING_ADDR, VHOST_USER_SET_VRING_BASE,
        VHOST_USER_GET_VRING_BASE, VHOST_USER_SET_VRING_KICK,
        VHOST_USER_SET_VRING_CALL, VHOST_USER_SET_VRING_ERR,
        VHOST_USER_GET_PROTOCOL_FEATURES, VHOST_USER_SET_PROTOCOL_FEATURES,
        VHOST_USER_GET_QUEUE_NUM, VHOST_USER_SET_VRING_ENABLE,
        VHOST_USER_GET_CONFIG, VHOST_USER_SET_CONFIG,
        VHOST_USER_VRING_KICK, VHOST_USER_GET_MAX_MEM_SLOTS,
        VHOST_USER_ADD_MEM_REG, VHOST_USER_REM_MEM_REG,
        VHOST_USER_GET_INFLIGHT_FD, VHOST_USER_SET_INFLIGHT_FD,
        VHOST_USER_NET_SPLIT_HDR_SET_RING,
        VHOST_USER_NET_SPLIT_HDR_GET_STATE,
        VHOST_USER_NET_SPLIT_HDR_SET_STATE,
    };
    uint8_t pick = in8();
    uint32_t req = pick < 240 ? reqs[pick % ARRAY_SIZE(reqs)] : in32();
    uint32_t flags = FZ_VERSION | (in8() & VHOST_USER_NEED_REPLY_MASK);
    uint32_t size = in16() % (FZ_PAYLOAD_MAX + 1);
    g_autofree uint8_t *payload = g_malloc(FZ_PAYLOAD_MAX);
    int fds[VHOST_MEMORY_BASELINE_NREGIONS], nfds = in8() % 4, i;
    bool log = req == VHOST_USER_SET_LOG_BASE;

    /*
     * Postcopy is left out: its SET_MEM_TABLE waits on the socket for
     * the front-end, which a single-threaded harness cannot answer; so is
     * the backend request channel, which nothing here would serve.
     */
    if (req == VHOST_USER_POSTCOPY_ADVISE ||
        req == VHOST_USER_POSTCOPY_LISTEN ||
        req == VHOST_USER_POSTCOPY_END ||
        req == VHOST_USER_SET_BACKEND_REQ_FD) {
        return;
    }
    in_bytes(payload, size);
    for (i = 0; i < nfds; i++) {
        fds[i] = req == VHOST_USER_SET_MEM_TABLE ||
                 req == VHOST_USER_ADD_MEM_REG || log ?
                 memfd_create("fz", 0) : eventfd(0, EFD_NONBLOCK);
        if (fds[i] >= 0 && req != VHOST_USER_SET_MEM_TABLE &&
            req != VHOST_USER_ADD_MEM_REG && log) {
            if (ftruncate(fds[i], in8() * 4096) < 0) {
                /* an empty log then */
            }
        }
        if (fds[i] >= 0 && !log && (req == VHOST_USER_SET_MEM_TABLE ||
                                    req == VHOST_USER_ADD_MEM_REG)) {
            close(fds[i]);
            fds[i] = dup(fz.memfd);
        }
    }
    fz.strict = false;
    if (req == VHOST_USER_SET_MEM_TABLE || req == VHOST_USER_ADD_MEM_REG ||
        req == VHOST_USER_REM_MEM_REG) {
        fz.nreg = 0;
        fz.canary = false;
        for (i = 0; i < FZ_NQ; i++) {
            fz.q[i].set = false;
        }
    }
    fz_send(req, flags, payload, size, fds, nfds);
    for (i = 0; i < nfds; i++) {
        close(fds[i]);
    }
}

/* Migration's dirty log: LOG_ALL and a log of the input's size. */
static void op_log(void)
{
    VhostUserLog log = { .mmap_size = (in8() % 8) * 4096,
                         .mmap_offset = 0 };
    int fd = memfd_create("fz-log", 0);

    if (fd < 0) {
        return;
    }
    if (ftruncate(fd, in8() % 2 ? log.mmap_size : 4096) < 0) {
        close(fd);
        return;
    }
    fz_send_u64(VHOST_USER_SET_FEATURES,
                fz.features | 1ULL << VHOST_F_LOG_ALL);
    fz_send(VHOST_USER_SET_LOG_BASE,
            FZ_VERSION | VHOST_USER_NEED_REPLY_MASK, &log,
            sizeof(log), &fd, 1);
    close(fd);
}

static void op_get_vring_base(void)
{
    fz_send_state(VHOST_USER_GET_VRING_BASE, in8() & 1, 0);
}

static void op_resume(void)
{
    if (fz.has_held && vns_rx_frame(fz.s, 0, fz.held, fz.held_len)) {
        fz.has_held = false;
        g_free(fz.held);
    }
    vns_rx_flush(fz.s, 0);
}

/* --- oracle ------------------------------------------------------------- */

static void fz_check_used(void)
{
    unsigned int qi;

    for (qi = 0; qi < FZ_NQ; qi++) {
        FzQueue *q = &fz.q[qi];
        uint8_t *used;
        uint16_t idx;

        used = q->set ? fz_gpa(q->used, 4 + 8 * q->num) : NULL;
        if (!used) {
            continue;
        }
        idx = lduw_le_p(used + 2);
        while (q->used_seen != idx) {
            uint8_t *e = used + 4 + 8 * (q->used_seen % q->num);
            uint32_t id = ldl_le_p(e), len = ldl_le_p(e + 4);

            if (fz.s->verbose) {
                fprintf(stderr, "fuzz: queue %u used id %u len %u\n", qi, id,
                        len);
            }

            if (fz.strict) {
                if (id >= q->num || !q->pending[id]) {
                    fprintf(stderr, "fuzz: queue %u: used id %u was not "
                            "available\n", qi, id);
                    abort();
                }
                if (len > q->cap[id]) {
                    fprintf(stderr, "fuzz: queue %u: used len %u > %" PRIu64
                            " writable\n", qi, len, q->cap[id]);
                    abort();
                }
            }
            if (id < q->num && q->pending[id]) {
                unsigned int j;

                /* The chain's descriptors are the driver's again. */
                q->pending[id] = false;
                for (j = 0; j < q->chain_len[id]; j++) {
                    q->busy[q->chain[id][j]] = false;
                }
            }
            q->used_seen++;
        }
    }
}

/* --- the test network side ---------------------------------------------- */

static void fz_net_resume(VnsNet *net, unsigned int queue)
{
    op_resume();
}

static void fz_net_send(VnsNet *net, unsigned int queue,
                        const struct iovec *iov, unsigned int iov_cnt)
{
    /* Touch every byte: ASan sees a frame outside guest memory. */
    static uint8_t sink[FZ_MAX_FRAME];

    iov_to_buf(iov, iov_cnt, 0, sink, sizeof(sink));
}

static void fz_net_close(VnsNet *net)
{
}

static const VnsNetOps fz_net_ops = {
    .resume = fz_net_resume,
    .send = fz_net_send,
    .close = fz_net_close,
};

/* --- libFuzzer ---------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz.memfd = memfd_create("fz-guest", 0);
    if (fz.memfd < 0 || ftruncate(fz.memfd, FZ_MEM_SIZE) < 0) {
        abort();
    }
    fz.mem = mmap(NULL, FZ_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                  fz.memfd, 0);
    if (fz.mem == MAP_FAILED) {
        abort();
    }
    fz.s = g_new0(VuNetSplit, 1);
    fz.s->listen_fd = -1;
    fz.s->queue_pairs = FZ_QUEUE_PAIRS;
    fz.s->verbose = !!getenv("FZ_VERBOSE");
    fz.s->loop = g_main_loop_new(NULL, FALSE);
    fz.net.ops = &fz_net_ops;
    fz.net.receive = vns_rx_frame;
    fz.net.opaque = fz.s;
    fz.net.queues = FZ_QUEUE_PAIRS;
    fz.s->net = &fz.net;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sv[2], i, ops;

    memset(fz.mem, 0, FZ_MEM_SIZE);
    memset(fz.q, 0, sizeof(fz.q));
    for (i = 0; i < FZ_NQ; i++) {
        fz.kick[i] = -1;
    }
    fz.nreg = 0;
    fz.strict = true;
    fz.canary = false;
    fz.features = 0;
    fz.in = data;
    fz.in_len = size;
    fz.pos = 0;
    fz.has_held = false;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        abort();
    }
    fz.sock = sv[0];
    if (!vns_serve(fz.s, sv[1])) {
        abort();
    }

    for (ops = 0; ops < FZ_MAX_OPS && fz.pos < fz.in_len && fz.s->connected;
         ops++) {
        switch (in8() % 14) {
        case 0:
            op_features();
            break;
        case 1:
            op_mem_table();
            break;
        case 2:
            op_vring();
            break;
        case 3:
            op_set_ring();
            break;
        case 4:
            op_state();
            break;
        case 5:
            op_post();
            break;
        case 6:
            op_kick();
            break;
        case 7:
        case 8:
            op_frame();
            break;
        case 9:
            op_raw_write();
            break;
        case 10:
            op_raw_msg();
            break;
        case 11:
            op_log();
            break;
        case 12:
            op_get_vring_base();
            break;
        case 13:
            op_resume();
            break;
        }
        fz_pump();
        fz_check_used();
    }

    /* The front-end goes: the backend must tear the connection down. */
    close(fz.sock);
    for (i = 0; i < 16 && fz.s->connected; i++) {
        fz_pump();
    }
    if (fz.s->connected) {
        fprintf(stderr, "fuzz: connection not torn down\n");
        abort();
    }
    if (fz.canary) {
        fz_check_canary();
    }
    for (i = 0; i < FZ_NQ; i++) {
        if (fz.kick[i] >= 0) {
            close(fz.kick[i]);
        }
    }
    if (fz.has_held) {
        g_free(fz.held);
        fz.has_held = false;
    }
    return 0;
}
