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
 * Replace @old (NULL: none, e.g. after a restart) with @new, without a
 * window: VNFs keep their ids by name, each entry is replaced whole, and
 * entries @new does not write (also from an earlier agent run) are
 * deleted last. On failure @old is written back.
 */
int fastpath_apply_policy(const struct sensor *s,
			  const struct policy_compiled *old,
			  const struct policy_compiled *new);

/* Quarantine VNF @vnf of @p (all but management traffic), or release. */
int fastpath_quarantine(const struct sensor *s,
			const struct policy_compiled *p, const char *vnf,
			bool release);

/* The name of VNF id @id in the fast path's maps, NULL if none. */
const char *fastpath_vnf_name(uint16_t id);

/* The fast path's id of VNF @name, 0 if none. */
uint16_t fastpath_vnf_id(const char *name);

/* Make the fast path drop its cached verdicts (after any map write). */
int fastpath_bump_generation(const struct sensor *s);

#endif /* VNFSEC_FASTPATH_POLICY_H */
