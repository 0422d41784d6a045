/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Runtime posture: which VNFs run on this server. A VNF is a named network
 * namespace (/run/netns/NAME, as ip-netns and most CNI plugins make them);
 * for each the agent records its interfaces and addresses (read inside the
 * namespace with setns) and the processes that live in it. Namespaces are
 * followed with inotify, so a VNF that starts or stops is seen at once.
 */
#ifndef VNFSEC_POSTURE_H
#define VNFSEC_POSTURE_H

#include <stdint.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/types.h>

#define POSTURE_VNFS_MAX	256
#define POSTURE_IFACES_MAX	16
#define POSTURE_ADDRS_MAX	8
#define POSTURE_PIDS_MAX	16

struct vnf_iface {
	char name[16];
	unsigned int nr_addrs;
	char addrs[POSTURE_ADDRS_MAX][INET6_ADDRSTRLEN + 8]; /* ADDR/LEN */
};

struct vnf_posture {
	char name[64];
	uint64_t netns_ino;
	unsigned int nr_ifaces;
	struct vnf_iface ifaces[POSTURE_IFACES_MAX];
	unsigned int nr_pids;			/* all of them */
	pid_t pids[POSTURE_PIDS_MAX];		/* the first few */
	char comms[POSTURE_PIDS_MAX][16];
	bool linked;			/* a veth to one of the agent's ports */
};

struct posture;

/* Watch @netns_dir (/run/netns); its inotify fd is *fd, for epoll. */
int posture_open(const char *netns_dir, struct posture **out, int *fd);
void posture_close(struct posture *p);
/* Rescan now (at start, on inotify events, on a timer). */
int posture_scan(struct posture *p);
/* Drain inotify; returns true when a namespace came or went. */
bool posture_changed(struct posture *p);

/* The agent's ports (ifindexes), to tell its VNFs by (nslink.h). */
void posture_set_ports(struct posture *p, const int *ports, unsigned int nr);

/* Be told of each VNF that appears or is gone, after each scan. */
void posture_set_notify(struct posture *p,
			void (*fn)(void *ctx, const struct vnf_posture *v,
				   bool appeared),
			void *ctx);

unsigned int posture_count(const struct posture *p);
const struct vnf_posture *posture_get(const struct posture *p,
				      unsigned int i);

#endif /* VNFSEC_POSTURE_H */
