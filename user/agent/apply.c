// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "user/agent/apply.h"
#include "user/agent/l7.h"
#include "user/agent/fastpath_policy.h"
#include "user/agent/scan.h"
#include "user/agent/shm.h"
#include "user/common/clock.h"
#include "user/common/log.h"
#include "user/common/vnfsec.pb-c.h"

/* What protect mode blocks for when the operator gave no --protect-ttl. */
#define POLICY_PROTECT_TTL_S 60

static bool has_prefix(const struct policy_compiled *p,
		       const struct policy_prefix *x)
{
	uint32_t i;

	for (i = 0; p && i < p->n_block; i++)
		if (!memcmp(&p->block[i], x, sizeof(*x)))
			return true;
	return false;
}

/* New blocks first, then lift the old policy's: no gap for a source. */
static void apply_blocks(struct event_ctx *ev,
			 const struct policy_compiled *old,
			 const struct policy_compiled *new)
{
	uint32_t i, addr;

	for (i = 0; i < new->n_block; i++) {
		if (new->block[i].family != AF_INET)
			continue;	/* IPv6 blocks: the fast path's v6 map */
		memcpy(&addr, new->block[i].addr, 4);
		enforcer_block(ev->enf, addr, new->block[i].len, 0, 0,
			       VNFSEC_BLOCK_OPERATOR);
	}
	for (i = 0; old && i < old->n_block; i++) {
		if (old->block[i].family != AF_INET ||
		    has_prefix(new, &old->block[i]))
			continue;
		memcpy(&addr, old->block[i].addr, 4);
		enforcer_unblock(ev->enf, addr, old->block[i].len);
	}
}

static void apply_thresholds(struct event_ctx *ev,
			     const struct policy_compiled *p)
{
	const struct policy_thresholds *t = &p->thresholds;
	const struct agent_config *cfg = ev->cfg;

	if (t->syn_flood_pps)
		syn_flood_set_threshold(ev->syn_flood,
			(unsigned int)((uint64_t)t->syn_flood_pps *
				       cfg->window_ms / 1000) ?: 1);
	if (t->scan_ports && t->scan_window_s)
		scan_set_config(ev->scan_fast, &(struct scan_config){
			.window_ns = t->scan_window_s * 1000000000ULL,
			.horizontal = cfg->scan_hosts,
			.vertical = t->scan_ports });
	/* The policy's mode is the operator's intent: it decides. */
	if (p->mode == POLICY_MODE_PROTECT)
		ev->protect_ttl_s = cfg->protect_ttl_s ?: POLICY_PROTECT_TTL_S;
	else
		ev->protect_ttl_s = 0;
}

/*
 * The L7 protocols the policy expects are checked on samples only: say
 * so when there are none, and name those nDPI cannot tell.
 */
static void check_l7(const struct event_ctx *ev,
		     const struct policy_compiled *p)
{
	unsigned int i, checkable = 0;

	for (i = 0; i < p->n_rules; i++) {
		const char *l7 = p->rules[i].l7;

		if (l7_checkable(l7))
			checkable++;
		else if (l7[0] && strcmp(l7, "any"))
			log_info("policy: %s -> %s expects %s, which nDPI cannot tell; not checked",
				 p->vnfs[p->rules[i].src_vnf].name,
				 p->vnfs[p->rules[i].dst_vnf].name, l7);
	}
	if (checkable && !sensor_sampling(ev->sensor))
		log_warn("policy: %u rules expect an application protocol, but the fast path samples no packets: start the agent with --sample-every N to check them",
			 checkable);
}

/* @p is valid: put it in force, or change nothing. Takes @p. */
int agent_policy_apply_compiled(struct event_ctx *ev, struct policy_compiled *p,
				const char *origin)
{
	struct agent_policy *ap = ev->policy;
	int ret;

	ret = fastpath_apply_policy(ev->sensor, ap ? ap->p : NULL, p);
	if (!ret && !ap) {
		ap = calloc(1, sizeof(*ap));
		ret = ap ? 0 : -ENOMEM;
	}
	if (ret) {
		policy_free(p);
		return ret;
	}
	ev->policy = ap;
	check_l7(ev, p);
	apply_thresholds(ev, p);
	apply_blocks(ev, ap->p, p);
	shm_watch_policy(ev->shm, p, ev->posture);
	policy_free(ap->p);
	ap->p = p;
	memset(ap->recent, 0, sizeof(ap->recent));
	policy_digest_hex(p, ap->digest);
	snprintf(ap->origin, sizeof(ap->origin), "%s", origin);
	log_info("policy '%s' revision %llu applied from %s: %u VNFs, %u rules, %u blocked prefixes, mode %s (digest %.12s)",
		 p->name, (unsigned long long)p->revision, origin, p->n_vnfs,
		 p->n_rules, p->n_block, policy_mode_name(p->mode),
		 ap->digest);
	return 0;
}

/* What a refusal leaves in force, for its log line. */
static const char *in_force(const struct event_ctx *ev, char *buf, size_t len)
{
	if (!ev->policy)
		return "no policy of this agent is in force";
	snprintf(buf, len, "policy '%s' revision %llu stays in force",
		 ev->policy->p->name,
		 (unsigned long long)ev->policy->p->revision);
	return buf;
}

int agent_policy_apply(struct event_ctx *ev, const char *path,
		       struct policy_diag *diag)
{
	struct policy_compiled *p;
	char origin[300], now[128];
	int ret;

	ret = policy_load_file(path, &p, diag);
	if (ret) {
		log_err("policy %s refused (%u problems, first: %s); %s",
			path, diag->n, diag->n ? diag->lines[0] : strerror(-ret),
			in_force(ev, now, sizeof(now)));
		return ret;
	}
	snprintf(origin, sizeof(origin), "file %s", path);
	return agent_policy_apply_compiled(ev, p, origin);
}

int agent_policy_apply_buf(struct event_ctx *ev, const char *name,
			   const char *buf, size_t len,
			   struct policy_diag *diag)
{
	struct policy_compiled *p;
	char now[128];
	int ret;

	ret = policy_load_buf(name, buf, len, &p, diag);
	if (ret) {
		log_err("policy %s refused (%u problems, first: %s); %s",
			name, diag->n, diag->n ? diag->lines[0] : strerror(-ret),
			in_force(ev, now, sizeof(now)));
		return ret;
	}
	return agent_policy_apply_compiled(ev, p, name);
}

uint64_t agent_policy_revision(const struct event_ctx *ev)
{
	return ev->policy ? ev->policy->p->revision : 0;
}

void agent_policy_free(struct event_ctx *ev)
{
	if (!ev->policy)
		return;
	policy_free(ev->policy->p);
	free(ev->policy);
	ev->policy = NULL;
}

static int vnf_of(const struct policy_compiled *p, uint32_t addr)
{
	return policy_vnf_of(p, AF_INET, &addr);
}

void agent_policy_name(const struct event_ctx *ev, struct assessment *a)
{
	const struct policy_compiled *p = ev->policy ? ev->policy->p : NULL;
	int s, d;

	if (!p)
		return;
	s = vnf_of(p, a->saddr);
	d = vnf_of(p, a->daddr);
	if (s >= 0)
		snprintf(a->vnf_src, sizeof(a->vnf_src), "%s", p->vnfs[s].name);
	if (d >= 0)
		snprintf(a->vnf_dst, sizeof(a->vnf_dst), "%s", p->vnfs[d].name);
}

/* True the first time in a minute this pair, protocol and port is seen. */
static bool first_in_a_while(struct agent_policy *ap, int s, int d,
			     uint8_t proto, uint16_t port)
{
	uint64_t key = (uint64_t)s << 40 | (uint64_t)d << 24 |
		       (uint64_t)proto << 16 | port;
	uint64_t now = clock_mono_ns();
	unsigned int slot = (key * 0x9e3779b97f4a7c15ULL) >> 56;

	if (ap->recent[slot].key == key && now < ap->recent[slot].until_ns)
		return false;
	ap->recent[slot].key = key;
	ap->recent[slot].until_ns = now + AGENT_VIOLATION_QUIET_NS;
	return true;
}

void agent_policy_check_flow(struct event_ctx *ev,
			     const struct vnfsec_new_flow_record *rec)
{
	const struct vnfsec_flow_key *k = &rec->key;
	const struct policy_compiled *p;
	struct assessment a;
	uint16_t dport = ntohs(k->dport), sport = ntohs(k->sport);
	int s, d;

	if (!ev->policy || k->family == VNFSEC_AF_INET6)	/* IPv4 names */
		return;
	/*
	 * A TCP flow opened by anything but a bare SYN is a reply or the
	 * middle of a conversation (an RST answering a refused SYN): the
	 * request it answers is the one to judge.
	 */
	if (k->proto == IPPROTO_TCP &&
	    (rec->tcp_flags & (VNFSEC_TCP_SYN | VNFSEC_TCP_ACK)) !=
	    VNFSEC_TCP_SYN)
		return;
	p = ev->policy->p;
	s = vnf_of(p, k->saddr.v4);
	d = vnf_of(p, k->daddr.v4);
	if (s < 0 || d < 0 || s == d)
		return;
	/* While learning, what is normal is being found out, not judged. */
	if (p->vnfs[s].mode == POLICY_MODE_LEARN ||
	    p->vnfs[d].mode == POLICY_MODE_LEARN)
		return;
	/*
	 * An answer travels the other way: a flow from d's port that the
	 * policy lets s reach is a reply (SYN-ACK, DNS response), not a new
	 * conversation.
	 */
	if (policy_match(p, s, d, k->proto, dport) ||
	    policy_match(p, d, s, k->proto, sport))
		return;
	if (!first_in_a_while(ev->policy, s, d, k->proto, dport))
		return;

	memset(&a, 0, sizeof(a));
	a.time_unix_ms = clock_wall_ms();
	a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_POLICY_VIOLATION;
	a.severity = 6;
	a.saddr = k->saddr.v4;
	a.daddr = k->daddr.v4;
	a.dport = dport;
	a.count = 1;
	a.src_count = 1;
	log_warn("policy violation: %s -> %s %s port %u is not allowed",
		 p->vnfs[s].name, p->vnfs[d].name, policy_proto_name(k->proto),
		 dport);
	events_submit(ev, &a, k->ifindex);
}
