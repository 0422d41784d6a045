/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's control socket (docs/control.md): JSON lines over a Unix
 * stream socket, for vnfsecctl and operators' scripts.
 */
#ifndef VNFSEC_CONTROL_H
#define VNFSEC_CONTROL_H

#include <stdint.h>

#include "user/agent/agent.h"
#include "user/agent/posture.h"

#define CONTROL_CLIENTS_MAX 16

struct control_ctx {
	const struct agent_config *cfg;
	const struct sensor *sensor;
	struct enforcer *enf;
	struct actions *actions;	/* the server's other actions */
	struct uplink *uplink;
	const char *agent_id;
	const struct posture *posture;
	struct event_ctx *ev;		/* heuristics and the policy */
	/* Without a policy of its own: what the fast path holds, and why. */
	const char *policy_note;
};

struct control;

/* Listen on @path (replacing a stale socket); watched in @epfd. */
int control_open(const char *path, int epfd, const struct control_ctx *ctx,
		 struct control **out);
void control_close(struct control *c);

/* epoll tags: the listener, and one per client slot above it. */
#define CONTROL_EV_LISTEN	100
#define CONTROL_EV_CLIENT	101
void control_io(struct control *c, uint32_t tag, uint32_t events);

/* Once a second: answer policy.learn requests whose period is over. */
void control_tick(struct control *c);

/* Remember an assessment for `alerts` and stream it to followers. */
void control_publish(void *control, const struct assessment *a);

#endif /* VNFSEC_CONTROL_H */
