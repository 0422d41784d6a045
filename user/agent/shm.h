/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared memory between VNFs, through the kernel module (/dev/vnfsec):
 * the policy's regions are watched (who maps them, whether their
 * immutable ranges change), the processes of the VNFs its cache section
 * names get cache monitors, and the module's events become assessments.
 * Without the module the agent runs on, with this part off.
 */
#ifndef VNFSEC_SHM_H
#define VNFSEC_SHM_H

#include "user/agent/agent.h"

struct shm_monitor;
struct policy_compiled;
struct posture;

/* NULL (and 0) when the module is not loaded: said once in the log. */
int shm_open_monitor(struct shm_monitor **out, int *fd);
void shm_close_monitor(struct shm_monitor *m);

/* Watch the regions of @p; allowed mappers are its VNFs' namespaces. */
void shm_watch_policy(struct shm_monitor *m, const struct policy_compiled *p,
		      const struct posture *posture);

/* The module's fd is readable: events into assessments. */
void shm_read_events(struct shm_monitor *m, struct event_ctx *ev);

unsigned int shm_watch_count(const struct shm_monitor *m);
/* Cache monitors running (policy cache section, one per process). */
unsigned int shm_cache_count(const struct shm_monitor *m);
uint64_t shm_lost_events(const struct shm_monitor *m);

#endif /* VNFSEC_SHM_H */
