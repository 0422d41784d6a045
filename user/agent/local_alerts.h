/* SPDX-License-Identifier: GPL-2.0-only */
/* The standalone agent's EVE alert file (--standalone --eve FILE). */
#ifndef VNFSEC_AGENT_LOCAL_ALERTS_H
#define VNFSEC_AGENT_LOCAL_ALERTS_H

#include "user/agent/agent.h"

struct control;
struct local_alerts;

/* Append to @path ("-": stdout); NULL after a log line. */
struct local_alerts *local_alerts_open(const char *path, const char *agent_id);
/* Show each alert on the control socket too. */
void local_alerts_set_control(struct local_alerts *la, struct control *c);
/* SIGHUP: open the file again (after log rotation); -errno keeps the old. */
int local_alerts_reopen(struct local_alerts *la);
/* event_ctx.on_assessment: number @a, write it, show it. */
void local_alerts_publish(void *la, const struct assessment *a);
void local_alerts_close(struct local_alerts *la);

#endif /* VNFSEC_AGENT_LOCAL_ALERTS_H */
