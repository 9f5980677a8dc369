// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * xdp-probe: does a NIC take an XDP program or an AF_XDP zerocopy socket?
 *
 *   xdp-probe xdp IFNAME        attach a native-mode XDP_PASS program, then
 *                               detach it
 *   xdp-probe xsk IFNAME QUEUE  bind a zerocopy AF_XDP socket to QUEUE
 *
 * Prints one line, "xdp-probe: MODE IFNAME: ok" or "xdp-probe: MODE
 * IFNAME: error ERRNO (strerror): extack message", and exits 0 on success,
 * 1 on a refusal, 2 on a usage or setup error.  The test guest uses it to
 * check that virtio_net refuses XDP and AF_XDP on queues with a header
 * ring, and says why.  Needs no libbpf: the program is two instructions.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#ifndef AF_XDP
#define AF_XDP 44
#endif

static const char *mode_name;
static const char *ifname;

static int report(int err, const char *msg)
{
	if (!err) {
		printf("xdp-probe: %s %s: ok\n", mode_name, ifname);
		return 0;
	}
	printf("xdp-probe: %s %s: error %d (%s): %s\n", mode_name, ifname,
	       err, strerror(err), msg && *msg ? msg : "no message");
	return 1;
}

static int load_xdp_pass(void)
{
	struct bpf_insn insns[] = {
		/* r0 = XDP_PASS; exit */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_XDP;
	attr.insns = (unsigned long)insns;
	attr.insn_cnt = 2;
	attr.license = (unsigned long)"GPL";
	return syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
}

/* RTM_SETLINK with IFLA_XDP; returns 0 or a positive errno, and the
 * kernel's extack message in @msg.
 */
static int set_link_xdp(int ifindex, int prog_fd, char *msg, size_t msglen)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attrs[64];
	} req;
	char buf[4096];
	struct nlattr *xdp, *a;
	struct nlmsghdr *nh;
	int fd, one = 1, err = 0;
	ssize_t n;

	msg[0] = 0;
	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (fd < 0)
		return errno;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_type = RTM_SETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = ifindex;
	xdp = (struct nlattr *)req.attrs;
	xdp->nla_type = NLA_F_NESTED | IFLA_XDP;
	a = (struct nlattr *)((char *)xdp + NLA_HDRLEN);
	a->nla_type = IFLA_XDP_FD;
	a->nla_len = NLA_HDRLEN + sizeof(int);
	memcpy((char *)a + NLA_HDRLEN, &prog_fd, sizeof(int));
	a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	a->nla_type = IFLA_XDP_FLAGS;
	a->nla_len = NLA_HDRLEN + sizeof(__u32);
	*(__u32 *)((char *)a + NLA_HDRLEN) = XDP_FLAGS_DRV_MODE;
	xdp->nla_len = NLA_HDRLEN + 2 * NLA_ALIGN(NLA_HDRLEN + 4);
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi)) + xdp->nla_len;

	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		err = errno;
		goto out;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		err = errno;
		goto out;
	}
	for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n);
	     nh = NLMSG_NEXT(nh, n)) {
		struct nlmsgerr *e = NLMSG_DATA(nh);
		int off, len;

		if (nh->nlmsg_type != NLMSG_ERROR)
			continue;
		err = -e->error;
		if (!(nh->nlmsg_flags & NLM_F_ACK_TLVS))
			break;
		/* TLVs follow the error and, unless capped, the request. */
		off = NLMSG_HDRLEN + sizeof(*e);
		if (!(nh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - NLMSG_HDRLEN;
		len = nh->nlmsg_len - off;
		for (a = (struct nlattr *)((char *)nh + off);
		     len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
		     a->nla_len <= len;
		     len -= NLA_ALIGN(a->nla_len),
		     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len))) {
			if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG)
				snprintf(msg, msglen, "%.*s",
					 (int)(a->nla_len - NLA_HDRLEN),
					 (char *)a + NLA_HDRLEN);
		}
		break;
	}
out:
	close(fd);
	return err;
}

static int probe_xdp(int ifindex)
{
	char msg[256];
	int prog, err;

	prog = load_xdp_pass();
	if (prog < 0) {
		fprintf(stderr, "xdp-probe: BPF_PROG_LOAD: %s\n",
			strerror(errno));
		return 2;
	}
	err = set_link_xdp(ifindex, prog, msg, sizeof(msg));
	if (!err)
		set_link_xdp(ifindex, -1, msg, sizeof(msg));
	close(prog);
	return report(err, msg);
}

static int probe_xsk(int ifindex, unsigned int queue)
{
	const size_t chunk = 4096, nchunks = 64;
	struct xdp_umem_reg umem;
	struct sockaddr_xdp sxdp;
	int fd, ring = 64, err = 0;
	void *area;

	fd = socket(AF_XDP, SOCK_RAW, 0);
	if (fd < 0) {
		fprintf(stderr, "xdp-probe: socket(AF_XDP): %s\n",
			strerror(errno));
		return 2;
	}
	area = mmap(NULL, chunk * nchunks, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		return 2;
	memset(&umem, 0, sizeof(umem));
	umem.addr = (unsigned long)area;
	umem.len = chunk * nchunks;
	umem.chunk_size = chunk;
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &umem, sizeof(umem)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &ring, sizeof(ring)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &ring,
		       sizeof(ring)) ||
	    setsockopt(fd, SOL_XDP, XDP_RX_RING, &ring, sizeof(ring))) {
		fprintf(stderr, "xdp-probe: AF_XDP setup: %s\n",
			strerror(errno));
		return 2;
	}
	memset(&sxdp, 0, sizeof(sxdp));
	sxdp.sxdp_family = AF_XDP;
	sxdp.sxdp_ifindex = ifindex;
	sxdp.sxdp_queue_id = queue;
	sxdp.sxdp_flags = XDP_ZEROCOPY;
	if (bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp)))
		err = errno;
	close(fd);
	return report(err, err ? "bind with XDP_ZEROCOPY refused" : NULL);
}

int main(int argc, char **argv)
{
	int ifindex;

	if (argc < 3 || (strcmp(argv[1], "xdp") && strcmp(argv[1], "xsk")) ||
	    (!strcmp(argv[1], "xsk") && argc < 4)) {
		fprintf(stderr,
			"usage: xdp-probe xdp IFNAME | xdp-probe xsk IFNAME QUEUE\n");
		return 2;
	}
	mode_name = argv[1];
	ifname = argv[2];
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "xdp-probe: no interface %s\n", ifname);
		return 2;
	}
	if (!strcmp(mode_name, "xdp"))
		return probe_xdp(ifindex);
	return probe_xsk(ifindex, strtoul(argv[3], NULL, 0));
}
