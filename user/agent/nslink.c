// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "user/agent/nslink.h"

#define NL_BUF 16384

static int nl_open(void)
{
	struct timeval tv = { .tv_sec = 1 };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	/* A kernel that never answers must not hang the agent's loop. */
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* The id this namespace knows @ns_fd's namespace by, or -1. */
static int32_t nsid_of(int nl, int ns_fd)
{
	struct {
		struct nlmsghdr nh;
		struct rtgenmsg g;
		char pad[3];
		struct rtattr fd_attr;
		uint32_t fd;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETNSID,
			.nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 },
		.g = { .rtgen_family = AF_UNSPEC },
		.fd_attr = { .rta_len = RTA_LENGTH(sizeof(uint32_t)),
			     .rta_type = NETNSA_FD },
		.fd = ns_fd,
	};
	char buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nh;
	ssize_t n;

	if (send(nl, &req, sizeof(req), 0) < 0)
		return -1;
	n = recv(nl, buf, sizeof(buf), 0);
	for (nh = (struct nlmsghdr *)buf; n > 0 && NLMSG_OK(nh, (size_t)n);
	     nh = NLMSG_NEXT(nh, n)) {
		struct rtattr *rta;
		int len;

		if (nh->nlmsg_type != RTM_NEWNSID)
			continue;
		rta = (struct rtattr *)((char *)NLMSG_DATA(nh) +
					NLMSG_ALIGN(sizeof(struct rtgenmsg)));
		len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(struct rtgenmsg));
		for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
			if (rta->rta_type == NETNSA_NSID &&
			    RTA_PAYLOAD(rta) >= sizeof(int32_t))
				return *(int32_t *)RTA_DATA(rta);
	}
	return -1;
}

static bool is_port(uint32_t ifindex, const int *ports, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if ((uint32_t)ports[i] == ifindex)
			return true;
	return false;
}

/* One RTM_NEWLINK: its peer is one of @ports in namespace @nsid. */
static bool peer_matches(struct nlmsghdr *nh, int32_t nsid, const int *ports,
			 unsigned int nr)
{
	struct rtattr *rta = IFLA_RTA(NLMSG_DATA(nh));
	int len = IFLA_PAYLOAD(nh);
	bool in_ns = false;
	uint32_t link = 0;

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (RTA_PAYLOAD(rta) < sizeof(uint32_t))
			continue;
		if (rta->rta_type == IFLA_LINK)
			link = *(uint32_t *)RTA_DATA(rta);
		else if (rta->rta_type == IFLA_LINK_NETNSID)
			in_ns = *(int32_t *)RTA_DATA(rta) == nsid;
	}
	return in_ns && is_port(link, ports, nr);
}

bool nslink_peer_of(int agent_ns_fd, const int *ports, unsigned int nr)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = 2 },
		.ifi = { .ifi_family = AF_UNSPEC },
	};
	char buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool found = false, done = false;
	int nl = nl_open();
	int32_t nsid;

	if (nl < 0)
		return false;
	nsid = nsid_of(nl, agent_ns_fd);
	if (nsid < 0 || send(nl, &req, sizeof(req), 0) < 0) {
		close(nl);
		return false;
	}
	while (!done) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (n <= 0)
			break;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_DONE ||
			    nh->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			if (nh->nlmsg_type == RTM_NEWLINK &&
			    nh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg)))
				found = found || peer_matches(nh, nsid, ports, nr);
		}
	}
	close(nl);
	return found;
}
