// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "user/agent/apply.h"
#include "user/agent/fastpath_policy.h"
#include "user/agent/join.h"
#include "user/common/clock.h"
#include "user/common/log.h"
#include "user/common/vnfsec.pb-c.h"

struct join {
	struct sensor *sensor;
	const struct agent_config *cfg;
	struct event_ctx *ev;
	int nl_fd;
};

int join_open(struct sensor *s, const struct agent_config *cfg,
	      struct event_ctx *ev, struct join **out, int *fd)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK,
	};
	struct join *j = calloc(1, sizeof(*j));
	int err;

	if (!j)
		return -ENOMEM;
	j->sensor = s;
	j->cfg = cfg;
	j->ev = ev;
	j->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			  NETLINK_ROUTE);
	if (j->nl_fd < 0 || bind(j->nl_fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		log_err("posture: cannot listen to rtnetlink for new VNF ports: %s",
			strerror(-err));
		if (j->nl_fd >= 0)
			close(j->nl_fd);
		free(j);
		return err;
	}
	*out = j;
	*fd = j->nl_fd;
	return 0;
}

void join_close(struct join *j)
{
	if (!j)
		return;
	close(j->nl_fd);
	free(j);
}

static const struct policy_compiled *policy(const struct join *j)
{
	return j->ev->policy ? j->ev->policy->p : NULL;
}

/* 1 when attached now, 0 when nothing to do; errors are logged. */
static int follow(struct join *j, const char *name)
{
	int ret = sensor_follow_port(j->sensor, j->cfg, name);

	if (ret > 0)
		log_info("posture: port %s appeared: fast path attached before it carries traffic",
			 name);
	return ret > 0;
}

void join_ports(struct join *j)
{
	const struct policy_compiled *p = policy(j);
	unsigned int i, k, attached = 0;

	for (i = 0; i < j->cfg->nr_ifaces; i++)
		attached += follow(j, j->cfg->ifaces[i]);
	for (i = 0; p && i < p->n_vnfs; i++)
		for (k = 0; k < p->vnfs[i].n_ifaces; k++)
			attached += follow(j, p->vnfs[i].ifaces[k].name);
	if (!attached)
		return;
	/*
	 * vnf_ports is keyed by ifindex: rewrite the policy so the new
	 * ports map to their VNFs (the same policy: nothing is deleted).
	 */
	if (p && !fastpath_apply_policy(j->sensor, p, p))
		log_info("posture: policy entries of the new ports written");
	else if (!p)
		fastpath_bump_generation(j->sensor);
}

void join_links(struct join *j)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool any = false;

	/* Which link it was matters not: every named port is checked. */
	while (recv(j->nl_fd, buf, sizeof(buf), 0) > 0)
		any = true;
	if (any)
		join_ports(j);
}

/* The policy's VNF a namespace is, by its name or its "namespace". */
static int policy_vnf(const struct policy_compiled *p, const char *netns)
{
	uint32_t i;

	for (i = 0; p && i < p->n_vnfs; i++)
		if (!strcmp(p->vnfs[i].name, netns) ||
		    (p->vnfs[i].netns[0] && !strcmp(p->vnfs[i].netns, netns)))
			return i;
	return -1;
}

void join_posture(void *ctx, const struct vnf_posture *v, bool appeared)
{
	struct join *j = ctx;
	const struct policy_compiled *p = policy(j);
	struct assessment a = {
		.heuristic = VNFSEC__HEURISTIC__HEURISTIC_POSTURE_CHANGE,
		.severity = 1,
	};
	int i = policy_vnf(p, v->name);

	if (appeared)
		join_ports(j);
	/*
	 * Only the policy's VNFs are reported: a namespace it does not name
	 * may be anything (a test bed, a tool), and is only logged, by
	 * posture.c.
	 */
	if (i < 0)
		return;
	snprintf(a.vnf_src, sizeof(a.vnf_src), "%s", p->vnfs[i].name);
	snprintf(a.posture, sizeof(a.posture),
		 "VNF %s %s: netns %s, %u interfaces, %u processes%s%s",
		 p->vnfs[i].name, appeared ? "appeared" : "gone", v->name,
		 v->nr_ifaces, v->nr_pids, p->vnfs[i].type[0] ? ", type " : "",
		 p->vnfs[i].type);
	a.time_unix_ms = clock_wall_ms();
	a.count = 1;
	log_info("posture: %s; reported", a.posture);
	events_submit(j->ev, &a, 0);
}
