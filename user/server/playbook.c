// SPDX-License-Identifier: GPL-2.0-only
/*
 * The server's side of playbooks: the policy library reads and checks
 * them (policy/playbook.c); here they are chosen for an incident and
 * turned into the wire's actions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "user/common/log.h"
#include "user/server/playbook.h"

/* Which heuristics each `on:` answers (threat_match and any: all). */
static const struct {
	const char *detector;
	int heuristic[2];
} detectors[] = {
	{ "syn_flood", { VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD } },
	{ "port_scan", { VNFSEC__HEURISTIC__HEURISTIC_HORIZONTAL_SCAN,
			 VNFSEC__HEURISTIC__HEURISTIC_VERTICAL_SCAN } },
	{ "flow_cut", { VNFSEC__HEURISTIC__HEURISTIC_FLOW_CUT } },
	{ "rate", { VNFSEC__HEURISTIC__HEURISTIC_RATE_LIMIT } },
	{ "volume", { VNFSEC__HEURISTIC__HEURISTIC_VOLUME_ANOMALY } },
	{ "policy_violation", { VNFSEC__HEURISTIC__HEURISTIC_POLICY_VIOLATION } },
	{ "l7_violation", { VNFSEC__HEURISTIC__HEURISTIC_APP_PROTOCOL } },
	{ "shm_intrusion", { VNFSEC__HEURISTIC__HEURISTIC_SHM_INTRUSION } },
	{ "cache_side_channel",
	  { VNFSEC__HEURISTIC__HEURISTIC_CACHE_SIDE_CHANNEL } },
	{ "malformed_traffic",
	  { VNFSEC__HEURISTIC__HEURISTIC_MALFORMED_TRAFFIC } },
	{ "fragment_evasion",
	  { VNFSEC__HEURISTIC__HEURISTIC_FRAGMENT_EVASION } },
	{ "spoofed_source", { VNFSEC__HEURISTIC__HEURISTIC_SPOOFED_SOURCE } },
	{ "pushed_detector",
	  { VNFSEC__HEURISTIC__HEURISTIC_PUSHED_DETECTOR } },
};

int playbook_action_type(enum policy_action_type t)
{
	switch (t) {
	case POLICY_ACT_ALERT: return 0;
	case POLICY_ACT_BLOCK_SOURCE:
		return VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE;
	case POLICY_ACT_DROP_FLOW: return VNFSEC__ACTION_TYPE__ACTION_DROP_FLOW;
	case POLICY_ACT_MIRROR: return VNFSEC__ACTION_TYPE__ACTION_MIRROR_FLOW;
	case POLICY_ACT_QUARANTINE:
		return VNFSEC__ACTION_TYPE__ACTION_QUARANTINE_VNF;
	case POLICY_ACT_RATE_LIMIT_SOURCE:
		return VNFSEC__ACTION_TYPE__ACTION_RATE_LIMIT_SOURCE;
	case POLICY_ACT_UNBLOCK_SOURCE:
		return VNFSEC__ACTION_TYPE__ACTION_UNBLOCK_SOURCE;
	case POLICY_ACT_MONITOR_FLOW:
		return VNFSEC__ACTION_TYPE__ACTION_MONITOR_FLOW;
	case POLICY_ACT_RELEASE: return VNFSEC__ACTION_TYPE__ACTION_RELEASE_VNF;
	}
	return 0;
}

/*
 * Built in: a source matching a threat indicator is blocked on every
 * agent, any other incident's source on the agents that reported it;
 * both for --block-ttl, both tell the hook. Neither acts on reports of
 * untrusted agents, and neither ever blocks a VNF (remediate.c).
 */
static void builtin(struct playbook *pb)
{
	static const struct policy_action block_alert[2] = {
		{ .type = POLICY_ACT_BLOCK_SOURCE, .prefix_len = 32 },
		{ .type = POLICY_ACT_ALERT },
	};

	pb->builtin[0] = (struct policy_playbook){
		.name = "known-bad-source", .detector = "threat_match",
		.min_severity = 1, .scope = POLICY_SCOPE_ALL, .n_actions = 2,
	};
	pb->builtin[1] = (struct policy_playbook){
		.name = "block-source", .detector = "any",
		.min_severity = 1, .scope = POLICY_SCOPE_REPORTING,
		.n_actions = 2,
	};
	memcpy(pb->builtin[0].actions, block_alert, sizeof(block_alert));
	memcpy(pb->builtin[1].actions, block_alert, sizeof(block_alert));
	pb->book = pb->builtin;
	pb->nr = 2;
}

static int load_logged(const char *path, bool playbook_file,
		       struct policy_compiled **out)
{
	struct policy_diag diag = { 0 };
	uint32_t i;
	int ret;

	ret = playbook_file ? policy_playbooks_load_file(path, out, &diag) :
			      policy_load_file(path, out, &diag);
	for (i = 0; i < diag.n; i++)
		log_err("%s", diag.lines[i]);
	if (diag.dropped)
		log_err("%s: %u more problems", path, diag.dropped);
	if (ret)
		log_err("%s: refused (%s); fix it (vnfsecctl policy check %s) or leave out %s",
			path, strerror(-ret), path,
			playbook_file ? "--playbook" : "--policy");
	policy_diag_free(&diag);
	return ret;
}

int playbook_load(const struct server_config *cfg, struct playbook **out)
{
	struct playbook *pb = calloc(1, sizeof(*pb));
	int ret = 0;

	*out = NULL;
	if (!pb)
		return -ENOMEM;
	pb->default_ttl = cfg->block_ttl_s;
	if (cfg->policy_path) {
		ret = load_logged(cfg->policy_path, false, &pb->policy);
		if (ret)
			goto fail;
	}
	if (cfg->playbook_path) {
		if (pb->policy && pb->policy->n_playbooks) {
			log_err("%s has playbooks and so has %s: give one of them",
				cfg->policy_path, cfg->playbook_path);
			ret = -EINVAL;
			goto fail;
		}
		ret = load_logged(cfg->playbook_path, true, &pb->src);
		if (ret)
			goto fail;
	} else if (pb->policy && pb->policy->n_playbooks) {
		pb->src = pb->policy;
	}
	if (pb->src) {
		pb->book = pb->src->playbooks;
		pb->nr = pb->src->n_playbooks;
		log_info("playbooks: %u from %s", pb->nr,
			 cfg->playbook_path ? cfg->playbook_path :
			 cfg->policy_path);
	} else {
		builtin(pb);
	}
	if (pb->policy)
		log_info("policy %s: automation never blocks the addresses of its %u VNFs nor its allowlist",
			 cfg->policy_path, pb->policy->n_vnfs);
	*out = pb;
	return 0;
fail:
	playbook_free(pb);
	return ret;
}

void playbook_free(struct playbook *pb)
{
	if (!pb)
		return;
	if (pb->src != pb->policy)
		policy_free(pb->src);
	policy_free(pb->policy);
	free(pb);
}

/* 3: threat_match (when matched), 2: its detector, 1: any, 0: no. */
static int handles(const struct policy_playbook *b, const struct incident *inc)
{
	unsigned int i, j;

	if (!strcmp(b->detector, "threat_match"))
		return inc->has_indicator ? 3 : 0;
	if (!strcmp(b->detector, "any"))
		return 1;
	for (i = 0; i < sizeof(detectors) / sizeof(detectors[0]); i++) {
		if (strcmp(b->detector, detectors[i].detector))
			continue;
		for (j = 0; j < 2; j++)
			if (detectors[i].heuristic[j] &&
			    detectors[i].heuristic[j] == inc->heuristic)
				return 2;
		return 0;
	}
	return 0;
}

const struct policy_playbook *playbook_match(const struct playbook *pb,
					     const struct incident *inc,
					     bool untrusted)
{
	const struct policy_playbook *best = NULL;
	int best_rank = 0;
	unsigned int i;

	for (i = 0; i < pb->nr; i++) {
		const struct policy_playbook *b = &pb->book[i];
		int rank = handles(b, inc);

		if (!rank || inc->severity < b->min_severity ||
		    (untrusted && !b->act_on_untrusted))
			continue;
		if (rank > best_rank ||
		    (rank == best_rank && b->min_severity > best->min_severity)) {
			best = b;
			best_rank = rank;
		}
	}
	return best;
}

const struct playbook_rule *playbook_match_untrusted(const struct playbook *pb)
{
	static const struct playbook_rule isolate = {
		.action = PLAYBOOK_ISOLATE_AGENT,
	};

	(void)pb;
	return &isolate;
}

/* Do @a/@alen and @b/@blen share an address (same family)? */
static bool prefixes_overlap(const uint8_t *a, unsigned int alen,
			     const uint8_t *b, unsigned int blen,
			     unsigned int bytes)
{
	unsigned int bits = alen < blen ? alen : blen;
	unsigned int full = bits / 8, rest = bits % 8;

	if (full > bytes)
		return false;
	if (memcmp(a, b, full))
		return false;
	return !rest || !((a[full] ^ b[full]) & (0xff00 >> rest));
}

static bool in_prefix(const struct policy_prefix *p, const uint8_t *addr,
		      unsigned int len, unsigned int prefix_len)
{
	if ((p->family == AF_INET) != (len == 4))
		return false;
	return prefixes_overlap(p->addr, p->len, addr, prefix_len, len);
}

bool playbook_protected(const struct playbook *pb, const uint8_t *addr,
			unsigned int len, unsigned int prefix_len,
			const char **vnf)
{
	const struct policy_compiled *p = pb->policy;
	uint32_t i, j;

	if (!p || (len != 4 && len != 16))
		return false;
	if (prefix_len > len * 8)
		prefix_len = len * 8;
	for (i = 0; i < p->n_vnfs; i++)
		for (j = 0; j < p->vnfs[i].n_addrs; j++)
			if (in_prefix(&p->vnfs[i].addrs[j], addr, len,
				      prefix_len)) {
				*vnf = p->vnfs[i].name;
				return true;
			}
	for (i = 0; i < p->n_allow; i++)
		if (in_prefix(&p->allow[i], addr, len, prefix_len)) {
			*vnf = "";
			return true;
		}
	return false;
}
