/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy written into the fast path's maps (docs/bpf-maps.md): VNF
 * ids for addresses and ports, the pair rules, the global mode, and
 * quarantines. Every change ends with a bump of config.policy_gen, so
 * verdicts the fast path cached in its flows are recomputed at once.
 */
#ifndef VNFSEC_FASTPATH_POLICY_H
#define VNFSEC_FASTPATH_POLICY_H

#include "policy/vnfsec_policy.h"
#include "user/agent/agent.h"

/*
 * Replace what @old wrote (NULL: nothing) with @new. New entries are
 * written before stale ones are deleted, so nothing @new allows or
 * blocks is ever missing in between.
 */
int fastpath_apply_policy(const struct sensor *s,
			  const struct policy_compiled *old,
			  const struct policy_compiled *new);

/* Quarantine VNF @vnf of @p (all but management traffic), or release. */
int fastpath_quarantine(const struct sensor *s,
			const struct policy_compiled *p, const char *vnf,
			bool release);

/* Make the fast path drop its cached verdicts (after any map write). */
int fastpath_bump_generation(const struct sensor *s);

#endif /* VNFSEC_FASTPATH_POLICY_H */
