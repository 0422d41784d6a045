/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The operator's policy (policy/, docs/policy.md) in the agent: detector
 * thresholds, the mode, the policy's block list, VNF names on every
 * assessment, and policy violations between VNFs.
 *
 * Applying is atomic from the traffic's point of view: the agent is one
 * thread, so the new thresholds, mode and blocks take effect between two
 * events; new blocks are written before the old policy's are lifted, so
 * no source it blocks is ever let through in between. A policy that does
 * not validate changes nothing.
 */
#ifndef VNFSEC_APPLY_H
#define VNFSEC_APPLY_H

#include "policy/vnfsec_policy.h"
#include "user/agent/agent.h"

#define AGENT_VIOLATIONS_REMEMBERED	256
#define AGENT_VIOLATION_QUIET_NS	(60ULL * 1000000000ULL)

struct agent_policy {
	struct policy_compiled *p;
	char digest[65];
	char origin[320];	/* where it came from, for status */
	/* A violation is reported once a minute per pair, proto and port. */
	struct {
		uint64_t key;
		uint64_t until_ns;
	} recent[AGENT_VIOLATIONS_REMEMBERED];
};

/*
 * Load, validate and apply the policy at @path. On -EINVAL, @diag holds
 * every problem as FILE:LINE:COL: message and nothing changed.
 */
int agent_policy_apply(struct event_ctx *ev, const char *path,
		       struct policy_diag *diag);
/*
 * Put @p (valid, from policy_load_*()) in force, or change nothing; takes
 * @p. @origin says where it came from (status, log).
 */
int agent_policy_apply_compiled(struct event_ctx *ev, struct policy_compiled *p,
				const char *origin);
/* The same from @len bytes of YAML text (a signed bundle); @name for logs. */
int agent_policy_apply_buf(struct event_ctx *ev, const char *name,
			   const char *buf, size_t len,
			   struct policy_diag *diag);
/* The revision of the policy in force, 0 when none is. */
uint64_t agent_policy_revision(const struct event_ctx *ev);
void agent_policy_free(struct event_ctx *ev);

/* Name the VNFs at both ends of @a, when the policy knows them. */
void agent_policy_name(const struct event_ctx *ev, struct assessment *a);

/* A new flow between two VNFs that no rule allows is a violation. */
void agent_policy_check_flow(struct event_ctx *ev,
			     const struct vnfsec_new_flow_record *rec);

#endif /* VNFSEC_APPLY_H */
