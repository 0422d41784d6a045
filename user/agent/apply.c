// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

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

/* An IPv6 prefix of the policy's blocklist, in blocklist_v6 or out. */
static int block_v6(const struct event_ctx *ev, const struct policy_prefix *x,
		    bool lift)
{
	struct vnfsec_block_entry b = { .reason = VNFSEC_BLOCK_OPERATOR };
	struct vnfsec_lpm_v6_key k = { .prefixlen = x->len };
	int fd = ev->sensor ? ev->sensor->blocklist_v6_fd : -1;

	if (fd <= 0)
		return -EBADF;
	memcpy(k.addr, x->addr, 16);
	if (lift ? bpf_map_delete_elem(fd, &k) && errno != ENOENT :
		   bpf_map_update_elem(fd, &k, &b, BPF_ANY)) {
		char buf[64];

		policy_format_prefix(x, buf, sizeof(buf));
		log_err("policy: cannot %s %s in blocklist_v6: %s",
			lift ? "lift the block of" : "block", buf,
			strerror(errno));
		return -errno;
	}
	return 0;
}

/* New blocks first, then lift the old policy's: no gap for a source. */
static void apply_blocks(struct event_ctx *ev,
			 const struct policy_compiled *old,
			 const struct policy_compiled *new)
{
	uint32_t i, addr, v6 = 0;

	for (i = 0; i < new->n_block; i++) {
		if (new->block[i].family == AF_INET6) {
			v6 += !block_v6(ev, &new->block[i], false);
			continue;
		}
		memcpy(&addr, new->block[i].addr, 4);
		enforcer_block(ev->enf, addr, new->block[i].len, 0, 0,
			       VNFSEC_BLOCK_OPERATOR);
	}
	for (i = 0; old && i < old->n_block; i++) {
		if (has_prefix(new, &old->block[i]))
			continue;
		if (old->block[i].family == AF_INET6) {
			v6 += !block_v6(ev, &old->block[i], true);
			continue;
		}
		memcpy(&addr, old->block[i].addr, 4);
		enforcer_unblock(ev->enf, addr, old->block[i].len);
	}
	/* Flows of a newly blocked source drop their cached verdicts. */
	if (v6)
		fastpath_bump_generation(ev->sensor);
}

/* Settings for scans from a source governed by @t (0: that one off). */
void agent_scan_configs(const struct policy_thresholds *t,
			struct scan_config *fast, struct scan_config *slow)
{
	*fast = (struct scan_config){
		.window_ns = t->scan_window_s * 1000000000ULL,
		.horizontal = t->scan_hosts, .vertical = t->scan_ports };
	*slow = (struct scan_config){
		.window_ns = t->slow_scan_window_s * 1000000000ULL,
		.horizontal = t->slow_scan_hosts,
		.vertical = t->slow_scan_ports };
}

unsigned int agent_syn_threshold(const struct event_ctx *ev,
				 const struct policy_thresholds *t)
{
	uint64_t n = (uint64_t)t->syn_flood_pps * ev->cfg->window_ms / 1000;

	if (!t->syn_flood_pps)
		return 0;
	return n > UINT32_MAX ? UINT32_MAX : (unsigned int)n ?: 1;
}

static void apply_thresholds(struct event_ctx *ev,
			     const struct policy_compiled *p)
{
	const struct policy_thresholds *t = &p->thresholds;
	struct scan_config fast, slow;

	/* The global ones; per VNF thresholds are looked up per event. */
	syn_flood_set_threshold(ev->syn_flood, agent_syn_threshold(ev, t));
	agent_scan_configs(t, &fast, &slow);
	scan_set_config(ev->scan_fast, &fast);
	if (!ev->scan_slow)	/* off at start, the policy may want it */
		ev->scan_slow = scan_new(&slow);
	else
		scan_set_config(ev->scan_slow, &slow);
	if (!ev->scan_slow)
		log_warn("policy: no memory for the slow scan detector; slow scans are not detected");
	/* The policy's mode is the operator's intent: it decides. */
	if (p->mode == POLICY_MODE_PROTECT)
		ev->protect_ttl_s = ev->cfg->protect_ttl_s ?:
				    POLICY_PROTECT_TTL_S;
	else
		ev->protect_ttl_s = 0;
}

/*
 * The fast path's SYN-flood drop is one setting for every destination:
 * on only when no VNF is in monitor or learn, which never drop.
 */
static bool all_protect(const struct policy_compiled *p)
{
	uint32_t i;

	if (p->mode != POLICY_MODE_PROTECT)
		return false;
	for (i = 0; i < p->n_vnfs; i++)
		if (p->vnfs[i].mode != POLICY_MODE_PROTECT)
			return false;
	return true;
}

/*
 * The fast path's own detectors (docs/fastpath.md) from the global
 * thresholds: RST ratio (flow cuts) and SYN flood per destination, scans
 * per source; 0 turns one off. In protect mode (every VNF's) the SYN-flood
 * detector also drops the SYNs towards a flooded destination for the rest
 * of its window: the answer to spoofed sources, where no source can be
 * blocked.
 * Only the program's settings change: no cached verdict depends on them.
 */
static int apply_fastpath_detectors(const struct event_ctx *ev,
				    const struct policy_compiled *p)
{
	const struct policy_thresholds *t = &p->thresholds;
	struct vnfsec_config c;
	__u32 zero = 0, off = 0;

	if (!ev->sensor || ev->sensor->config_fd <= 0)
		return 0;
	if (bpf_map_lookup_elem(ev->sensor->config_fd, &zero, &c))
		return -errno;
	if (!t->syn_flood_pps)
		off |= 1U << VNFSEC_DET_SYN_FLOOD;
	if (!t->scan_ports)
		off |= 1U << VNFSEC_DET_PORT_SCAN;
	if (!t->scan_hosts)
		off |= 1U << VNFSEC_DET_HOST_SCAN;
	if (!t->slow_scan_ports && !t->slow_scan_hosts)
		off |= 1U << VNFSEC_DET_SLOW_SCAN;
	if (!t->flow_cut_rst_ps)
		off |= 1U << VNFSEC_DET_RST_FLOOD;
	c.detectors_off = (c.detectors_off & 1U << VNFSEC_DET_RATE_LIMIT) | off;
	c.syn_min = t->syn_flood_pps;
	c.syn_window_ms = 1000;
	c.scan_ports = t->scan_ports;
	c.scan_hosts = t->scan_hosts;
	c.scan_window_ms = t->scan_window_s * 1000;
	c.slow_scan_window_ms = t->slow_scan_window_s * 1000;
	c.rst_min = t->flow_cut_rst_ps;
	c.rst_window_ms = 1000;
	if (all_protect(p))
		c.detectors_drop |= 1U << VNFSEC_DET_SYN_FLOOD;
	else
		c.detectors_drop &= ~(1U << VNFSEC_DET_SYN_FLOOD);
	if (bpf_map_update_elem(ev->sensor->config_fd, &zero, &c, BPF_ANY))
		return -errno;
	return 0;
}

/*
 * The L7 protocols the policy expects are enforced from each flow's first
 * packets (l7_enforceable(), no sampling needed), or checked on 1-in-N
 * samples only (tls): say so when there are none, and name those nDPI
 * cannot tell.
 */
static void check_l7(const struct event_ctx *ev,
		     const struct policy_compiled *p)
{
	unsigned int i, checkable = 0;

	for (i = 0; i < p->n_rules; i++) {
		const char *l7 = p->rules[i].l7;

		if (l7_checkable(l7) && !l7_enforceable(l7))
			checkable++;
		else if (l7[0] && strcmp(l7, "any"))
			log_info("policy: %s -> %s expects %s, which nDPI cannot tell; not checked",
				 p->vnfs[p->rules[i].src_vnf].name,
				 p->vnfs[p->rules[i].dst_vnf].name, l7);
	}
	if (checkable && !sensor_sampling(ev->sensor))
		log_warn("policy: %u rules expect an application protocol judged on samples only (tls), but the fast path samples no packets: start the agent with --sample-every N to check them",
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
	ret = apply_fastpath_detectors(ev, p);
	if (ret)
		log_warn("policy: cannot set the fast path's detectors: %s; they keep their settings",
			 strerror(-ret));
	apply_blocks(ev, ap->p, p);
	shm_watch_policy(ev->shm, p, ev->posture);
	policy_free(ap->p);
	ap->p = p;
	memset(ap->recent, 0, sizeof(ap->recent));
	policy_digest_hex(p, ap->digest);
	snprintf(ap->origin, sizeof(ap->origin), "%s", origin);
	log_info("policy '%s' revision %llu applied from %s: %u VNFs, %u rules, %u blocked prefixes, mode %s, SYN flood threshold %u per %u ms (digest %.12s)",
		 p->name, (unsigned long long)p->revision, origin, p->n_vnfs,
		 p->n_rules, p->n_block, policy_mode_name(p->mode),
		 agent_syn_threshold(ev, &p->thresholds), ev->cfg->window_ms,
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

void agent_policy_name(const struct event_ctx *ev, struct assessment *a)
{
	const struct policy_compiled *p = ev->policy ? ev->policy->p : NULL;
	const void *src, *dst;
	int s, d, family;

	if (!p)
		return;
	src = assessment_src(a, &family);
	dst = assessment_dst(a, &family);
	s = policy_vnf_of(p, family, src);
	d = policy_vnf_of(p, family, dst);
	/*
	 * A source the agent does not stand behind (src_count 0: spoofed,
	 * unparsed, a flow's RSTs) is a claim: it names no VNF, or anyone
	 * could get a VNF named as the sender by forging its address.
	 */
	if (s >= 0 && !a->vnf_src[0] && a->src_count)
		snprintf(a->vnf_src, sizeof(a->vnf_src), "%s", p->vnfs[s].name);
	if (d >= 0 && !a->vnf_dst[0])
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
	int s, d, af = k->family == VNFSEC_AF_INET6 ? AF_INET6 : AF_INET;
	bool outsider;

	if (!ev->policy)
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
	s = policy_vnf_of(p, af, &k->saddr);
	d = policy_vnf_of(p, af, &k->daddr);
	/*
	 * A source outside every VNF reaching one is judged by the fast
	 * path alone (no pair can allow it): what it refused is reported.
	 */
	outsider = s < 0 && d >= 0 && rec->cause == VNFSEC_CAUSE_PAIR_POLICY &&
		   rec->verdict != VNFSEC_VERDICT_PASS;
	if (!outsider && (s < 0 || d < 0 || s == d))
		return;
	/* While learning, what is normal is being found out, not judged. */
	if ((s >= 0 && p->vnfs[s].mode == POLICY_MODE_LEARN) ||
	    p->vnfs[d].mode == POLICY_MODE_LEARN)
		return;
	/*
	 * An answer travels the other way: a flow from d's port that the
	 * policy lets s reach is a reply (SYN-ACK, DNS response), not a new
	 * conversation.
	 */
	if (!outsider && (policy_match(p, s, d, k->proto, dport) ||
			  policy_match(p, d, s, k->proto, sport)))
		return;
	if (!first_in_a_while(ev->policy, outsider ? 0xffff : s, d,
			      k->proto, dport))
		return;

	memset(&a, 0, sizeof(a));
	a.time_unix_ms = clock_wall_ms();
	a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_POLICY_VIOLATION;
	a.severity = 6;
	if (af == AF_INET6) {
		a.family = AF_INET6;
		memcpy(a.saddr6, &k->saddr, 16);
		memcpy(a.daddr6, &k->daddr, 16);
	} else {
		a.saddr = k->saddr.v4;
		a.daddr = k->daddr.v4;
	}
	a.dport = dport;
	a.count = 1;
	a.src_count = 1;
	a.fast_path_dropped = rec->verdict == VNFSEC_VERDICT_DROP;
	a.vlan = k->vlan;
	assessment_set_tunnel(&a, rec);
	log_warn("policy violation: %s -> %s %s port %u is not allowed%s",
		 outsider ? "a source outside every VNF" : p->vnfs[s].name,
		 p->vnfs[d].name, policy_proto_name(k->proto), dport,
		 a.fast_path_dropped ? "; the fast path drops it" : "");
	events_submit(ev, &a, k->ifindex);
}

static const struct policy_compiled *policy_of(const struct event_ctx *ev)
{
	return ev->policy ? ev->policy->p : NULL;
}

const struct policy_vnf *agent_policy_vnf(const struct event_ctx *ev,
					  int family, const void *addr)
{
	const struct policy_compiled *p = policy_of(ev);
	int i;

	if (!p)
		return NULL;
	i = policy_vnf_of(p, family, addr);
	return i < 0 ? NULL : &p->vnfs[i];
}

const struct policy_vnf *agent_policy_vnf_by_id(const struct event_ctx *ev,
						uint16_t id)
{
	const struct policy_compiled *p = policy_of(ev);
	const char *name = fastpath_vnf_name(id);
	uint32_t i;

	for (i = 0; p && name && i < p->n_vnfs; i++)
		if (!strcmp(p->vnfs[i].name, name))
			return &p->vnfs[i];
	return NULL;
}

const struct policy_thresholds *
agent_policy_thresholds(const struct event_ctx *ev, int family,
			const void *addr)
{
	const struct policy_vnf *v = agent_policy_vnf(ev, family, addr);

	if (v)
		return &v->thresholds;
	return policy_of(ev) ? &policy_of(ev)->thresholds : NULL;
}

unsigned int agent_policy_block_ttl(const struct event_ctx *ev,
				    const struct assessment *a)
{
	const struct policy_vnf *victim;
	int family;
	const void *dst = assessment_dst(a, &family);

	if (!policy_of(ev))
		return ev->protect_ttl_s;
	victim = agent_policy_vnf(ev, family, dst);
	if ((victim ? victim->mode : policy_of(ev)->mode) !=
	    POLICY_MODE_PROTECT)
		return 0;
	return ev->cfg->protect_ttl_s ?: POLICY_PROTECT_TTL_S;
}

static bool in_prefix(const struct policy_prefix *x, int family,
		      const uint8_t *addr)
{
	unsigned int full = x->len / 8, rest = x->len % 8;

	if (x->family != family || memcmp(x->addr, addr, full))
		return false;
	return !rest || !((x->addr[full] ^ addr[full]) &
			  (uint8_t)(0xff << (8 - rest)));
}

/* A server's address (--server, a list), where the management network ends. */
static bool is_server_one(const char *server, size_t n, int family,
			  const void *addr)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST }, *res, *it;
	char host[64], *colon;
	bool same = false;

	if (n >= sizeof(host))
		return false;
	memcpy(host, server, n);
	host[n] = '\0';
	colon = strrchr(host, ':');
	if (colon)
		*colon = 0;
	if (host[0] == '[' && (colon = strchr(host, ']'))) {
		*colon = 0;
		memmove(host, host + 1, strlen(host));
	}
	if (getaddrinfo(host, NULL, &hints, &res))
		return false;
	for (it = res; it && !same; it = it->ai_next) {
		if (it->ai_family == AF_INET && family == AF_INET)
			same = !memcmp(&((struct sockaddr_in *)it->ai_addr)->sin_addr,
				       addr, 4);
		else if (it->ai_family == AF_INET6 && family == AF_INET6)
			same = !memcmp(&((struct sockaddr_in6 *)it->ai_addr)->sin6_addr,
				       addr, 16);
	}
	freeaddrinfo(res);
	return same;
}

static bool is_server(const struct event_ctx *ev, int family,
		      const void *addr)
{
	const char *p, *end;

	if (!ev->cfg || !ev->cfg->server)
		return false;
	for (p = ev->cfg->server; *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ',');
		if (is_server_one(p, end - p, family, addr))
			return true;
	}
	return false;
}

bool agent_policy_never_block(const struct event_ctx *ev, int family,
			      const void *addr, char *why, size_t len)
{
	const struct policy_compiled *p = policy_of(ev);
	const struct policy_vnf *v = agent_policy_vnf(ev, family, addr);
	uint32_t i;

	if (v) {
		/*
		 * A VNF's address on the wire proves nothing (it may be
		 * forged) and blocking it cuts the VNF off: an operator's
		 * call, with the VNF's quarantine as the proposal.
		 */
		snprintf(why, len, "source is VNF %s; proposed: quarantine %s",
			 v->name, v->name);
		return true;
	}
	for (i = 0; p && i < p->n_allow; i++) {
		if (in_prefix(&p->allow[i], family, addr)) {
			snprintf(why, len, "source is in the policy's allowlist");
			return true;
		}
	}
	if (is_server(ev, family, addr)) {
		snprintf(why, len, "source is the security server (management network)");
		return true;
	}
	return false;
}
