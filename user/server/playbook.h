/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Remediation playbooks, in the policy language (docs/policy.md#playbooks,
 * parsed by policy/playbook.c): which incidents get which actions, on
 * which agents, for how long, and whether the hook hears of them. From
 * --playbook FILE, else the `playbooks:` section of --policy FILE, else
 * the built-in ones.
 *
 * Two limits no playbook lifts (docs/server.md):
 * - automation is never aimed at a VNF: no block of an address of a VNF
 *   of --policy, of its allowlist (the management network) or of an
 *   agent's connection; such an incident waits for the operator;
 * - an agent that failed attestation orders nothing, unless a playbook
 *   says `act_on_untrusted: true`.
 */
#ifndef VNFSEC_PLAYBOOK_H
#define VNFSEC_PLAYBOOK_H

#include <stdbool.h>

#include "policy/vnfsec_policy.h"
#include "user/server/server.h"

/*
 * attest.c's question "what happens to an untrusted agent?" has one
 * answer now: it is isolated (its reports order nothing but through
 * playbooks with act_on_untrusted). Outside Vnfsec__ActionType.
 */
#define PLAYBOOK_ISOLATE_AGENT 1000

struct playbook_rule {
	int action;			/* PLAYBOOK_ISOLATE_AGENT */
};

struct playbook {
	/* The file the playbooks came from; NULL: the built-in ones. */
	struct policy_compiled *src;
	const struct policy_playbook *book;
	unsigned int nr;
	struct policy_playbook builtin[2];
	/* --policy: the VNFs' addresses and the allowlist; NULL: none. */
	struct policy_compiled *policy;
	unsigned int default_ttl;	/* --block-ttl: ttl_s left out */
};

/*
 * Load what @cfg names (--policy, --playbook). 0, or -errno with every
 * problem logged as FILE:LINE:COL: message.
 */
int playbook_load(const struct server_config *cfg, struct playbook **out);
void playbook_free(struct playbook *pb);

/*
 * The playbook that handles @inc: a threat_match one when an indicator
 * matched, else one naming its detector, else an "any" one; of those the
 * one with the highest min_severity the incident reaches. @untrusted:
 * only playbooks with act_on_untrusted count.
 */
const struct policy_playbook *playbook_match(const struct playbook *pb,
					     const struct incident *inc,
					     bool untrusted);
const struct playbook_rule *playbook_match_untrusted(const struct playbook *pb);

/* The wire's action type of a playbook action; 0 for alert. */
int playbook_action_type(enum policy_action_type t);

/*
 * Is the prefix @addr/@prefix_len (4 or 16 bytes) one automation must
 * not block: does it hold an address of a VNF of the policy, or overlap
 * the policy's allowlist? *vnf gets the VNF's name ("" for the
 * allowlist). The agents' own addresses are remediate.c's to check.
 */
bool playbook_protected(const struct playbook *pb, const uint8_t *addr,
			unsigned int len, unsigned int prefix_len,
			const char **vnf);

#endif /* VNFSEC_PLAYBOOK_H */
