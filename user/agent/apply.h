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

/*
 * The VNF that owns @addr (4 or 16 bytes, AF_INET/AF_INET6), or the VNF
 * of fast-path id @id, in the policy in force; NULL when none.
 */
const struct policy_vnf *agent_policy_vnf(const struct event_ctx *ev,
					  int family, const void *addr);
const struct policy_vnf *agent_policy_vnf_by_id(const struct event_ctx *ev,
						uint16_t id);

/*
 * The thresholds that govern @addr: its VNF's effective ones (own <
 * profile < global < built-in), else the policy's global ones; NULL
 * when no policy is applied (the agent's options then).
 */
const struct policy_thresholds *
agent_policy_thresholds(const struct event_ctx *ev, int family,
			const void *addr);

struct scan_config;
/* Scan detector settings (fast, slow) from @t; 0 turns one off. */
void agent_scan_configs(const struct policy_thresholds *t,
			struct scan_config *fast, struct scan_config *slow);
/* @t's SYN flood threshold per the agent's window; 0: off. */
unsigned int agent_syn_threshold(const struct event_ctx *ev,
				 const struct policy_thresholds *t);

/*
 * How long protect mode blocks the source of @a, 0: not at all. With a
 * policy, the mode of the VNF attacked (its destination) decides, else
 * the global mode; without one, --protect-ttl.
 */
unsigned int agent_policy_block_ttl(const struct event_ctx *ev,
				    const struct assessment *a);

/*
 * True when no automatic block may target @addr: a VNF of the policy, an
 * allowlisted prefix, the security server. @why says which (and what to
 * propose instead) for the assessment's requires_operator.
 */
bool agent_policy_never_block(const struct event_ctx *ev, int family,
			      const void *addr, char *why, size_t len);

/* A new flow between two VNFs that no rule allows is a violation. */
void agent_policy_check_flow(struct event_ctx *ev,
			     const struct vnfsec_new_flow_record *rec);

#endif /* VNFSEC_APPLY_H */
