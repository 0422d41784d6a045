// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ring-buffer records from the fast path into the heuristics. A record is
 * checked against the ABI before it is read: a sensor of another version
 * must not be misread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <openssl/sha.h>

#include "user/agent/detectors.h"
#include "user/agent/actions.h"
#include "user/agent/agent.h"
#include "user/agent/apply.h"
#include "user/agent/fastpath_policy.h"
#include "user/agent/l7.h"
#include "user/agent/learn.h"
#include "user/agent/scan.h"
#include "user/common/clock.h"
#include "user/common/log.h"
#include "user/common/vnfsec.pb-c.h"

/*
 * Floods, scans and sources over their rate are stopped at the source.
 * What the pair rules refuse is already dropped: blocking its source, a
 * VNF, would cut the VNF's allowed traffic too.
 */
static bool blocks_its_source(int heuristic)
{
	switch (heuristic) {
	case VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD:
	case VNFSEC__HEURISTIC__HEURISTIC_HORIZONTAL_SCAN:
	case VNFSEC__HEURISTIC__HEURISTIC_VERTICAL_SCAN:
	case VNFSEC__HEURISTIC__HEURISTIC_RATE_LIMIT:
		return true;
	default:
		return false;
	}
}

static const char *addr_str(int family, const void *addr, char *buf,
			    size_t len)
{
	return inet_ntop(family, addr, buf, len) ?: "?";
}

/* An IPv6 source goes to blocklist_v6, through the actions' tracking. */
static int block_v6(struct event_ctx *ev, const uint8_t *addr,
		    unsigned int ttl)
{
	Vnfsec__Action act = VNFSEC__ACTION__INIT;

	if (!ev->actions)
		return -EOPNOTSUPP;
	act.type = VNFSEC__ACTION_TYPE__ACTION_BLOCK_SOURCE;
	act.src_addr.data = (uint8_t *)addr;
	act.src_addr.len = 16;
	act.prefix_len = 128;
	act.ttl_s = ttl;
	return actions_apply(ev->actions, &act);
}

/*
 * Protect mode: the source is blocked here and now, without waiting for
 * the server (onset to drop in well under a second); the server learns
 * what was done from the assessment's evidence. Never a VNF's address,
 * the allowlist's or the server's: a forged source would turn protect
 * mode against the VNFs it protects. Such a finding goes to the server
 * marked requires_operator, with what the operator might do instead.
 */
static void protect(struct event_ctx *ev, struct assessment *a)
{
	char src[INET6_ADDRSTRLEN], why[192];
	unsigned int ttl;
	const void *addr;
	int family, ret;

	if (!a->src_count || !blocks_its_source(a->heuristic))
		return;
	ttl = agent_policy_block_ttl(ev, a);
	if (!ttl)
		return;
	addr = assessment_src(a, &family);
	addr_str(family, addr, src, sizeof(src));
	if (agent_policy_never_block(ev, family, addr, why, sizeof(why))) {
		const struct policy_vnf *owner =
			agent_policy_vnf(ev, family, addr);

		/* Sent from another VNF's port: that VNF is the one to stop. */
		if (owner && a->vnf_src[0] && strcmp(owner->name, a->vnf_src))
			snprintf(why, sizeof(why),
				 "source claims VNF %s's address from VNF %s's port; proposed: quarantine %s",
				 owner->name, a->vnf_src, a->vnf_src);
		snprintf(a->requires_operator, sizeof(a->requires_operator),
			 "%s", why);
		snprintf(a->local_action, sizeof(a->local_action),
			 "not blocked: %s", src);
		log_warn("protect mode does not block %s on its own: %s; the server asks an operator",
			 src, why);
		return;
	}
	ret = family == AF_INET6 ? block_v6(ev, addr, ttl) :
		enforcer_block(ev->enf, a->saddr, 32, ttl, 0,
			       VNFSEC_BLOCK_LOCAL);
	if (ret)
		return;
	snprintf(a->local_action, sizeof(a->local_action),
		 "blocked %s/%u for %u s", src, family == AF_INET6 ? 128 : 32,
		 ttl);
}

void events_submit(struct event_ctx *ev, struct assessment *a,
		   uint32_t ifindex)
{
	char ifname[IF_NAMESIZE];

	agent_policy_name(ev, a);
	protect(ev, a);
	if (if_indextoname(ifindex, ifname))
		snprintf(a->iface, sizeof(a->iface), "%s", ifname);
	/* No uplink: a test or benchmark that only counts them. */
	if ((!ev->uplink || !uplink_submit(ev->uplink, a)) &&
	    ev->on_assessment)
		ev->on_assessment(ev->on_assessment_ctx, a);
}

static int key_af(const struct vnfsec_flow_key *k)
{
	return k->family == VNFSEC_AF_INET6 ? AF_INET6 : AF_INET;
}

/*
 * The VNF behind the port @a's source came in on (the fast path's
 * src_vnf at ingress): the sender, whatever address it claims. A VNF
 * flooding with another VNF's address is then named as itself, and it is
 * its quarantine that the operator is asked about (protect()).
 */
static void name_sender(struct assessment *a, const struct vnfsec_flow_key *k,
			uint16_t src_vnf)
{
	const char *name;
	int family;

	if (k->dir != VNFSEC_DIR_INGRESS || !src_vnf || !a->src_count ||
	    memcmp(assessment_src(a, &family), &k->saddr,
		   a->family == AF_INET6 ? 16 : 4))
		return;
	name = fastpath_vnf_name(src_vnf);
	if (name)
		snprintf(a->vnf_src, sizeof(a->vnf_src), "%s", name);
}

static void check_syn_flood(struct event_ctx *ev,
			    const struct vnfsec_new_flow_record *rec)
{
	const struct policy_thresholds *t =
		agent_policy_thresholds(ev, key_af(&rec->key),
					&rec->key.daddr);
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	struct assessment a;
	bool fired;
	int family;

	/* The destination's threshold (what its VNF can take), else ours. */
	fired = t ? syn_flood_feed_at(ev->syn_flood, rec,
				      agent_syn_threshold(ev, t), &a) :
		    syn_flood_feed(ev->syn_flood, rec, &a);
	if (!fired)
		return;
	addr_str(key_af(&rec->key), assessment_dst(&a, &family), dst,
		 sizeof(dst));
	if (a.src_count) {
		addr_str(family, assessment_src(&a, &family), src,
			 sizeof(src));
		log_warn("SYN flood towards %s port %u: %llu new flows in %u ms (threshold %u), %llu+ from %s",
			 dst, a.dport, (unsigned long long)a.count,
			 a.window_ms, a.threshold,
			 (unsigned long long)a.src_count, src);
	} else {
		log_warn("SYN flood towards %s port %u: %llu new flows in %u ms (threshold %u) from many sources, none above 1/5 of them",
			 dst, a.dport, (unsigned long long)a.count,
			 a.window_ms, a.threshold);
	}
	name_sender(&a, &rec->key, rec->src_vnf);
	assessment_set_tunnel(&a, rec);
	events_submit(ev, &a, rec->key.ifindex);
}

static void check_scans(struct event_ctx *ev,
			const struct vnfsec_new_flow_record *rec)
{
	const struct vnfsec_flow_key *k = &rec->key;
	const struct policy_thresholds *t =
		agent_policy_thresholds(ev, key_af(k), &k->saddr);
	struct scan_config cfg[2];
	struct scan_probe p = {
		.ts_ns = rec->hdr.ts_ns, .saddr = k->saddr, .daddr = k->daddr,
		.family = k->family, .dport = k->dport, .proto = k->proto,
	};
	struct scan_detector *sd[] = { ev->scan_fast, ev->scan_slow };
	struct scan_verdict v;
	struct assessment a;
	char src[INET6_ADDRSTRLEN];
	unsigned int i;

	/* Connection attempts only: a TCP flow opened by an answer is not. */
	if (k->proto == IPPROTO_TCP &&
	    (!(rec->tcp_flags & VNFSEC_TCP_SYN) ||
	     (rec->tcp_flags & VNFSEC_TCP_ACK)))
		return;
	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
		return;
	/* The scanner's own thresholds, when it is a VNF of the policy. */
	if (t)
		agent_scan_configs(t, &cfg[0], &cfg[1]);
	for (i = 0; i < 2; i++) {
		p.cfg = t ? &cfg[i] : NULL;
		if (!sd[i] || !scan_feed(sd[i], &p, &v))
			continue;
		memset(&a, 0, sizeof(a));
		a.time_unix_ms = clock_wall_ms();
		a.heuristic = v.horizontal ?
			VNFSEC__HEURISTIC__HEURISTIC_HORIZONTAL_SCAN :
			VNFSEC__HEURISTIC__HEURISTIC_VERTICAL_SCAN;
		a.severity = i ? 6 : 5;	/* a slow scan is a careful one */
		assessment_set_addrs(&a, v.family, &v.saddr, &v.daddr);
		a.count = v.distinct;
		a.src_count = v.distinct;
		a.window_ms = v.window_ms;
		a.threshold = v.threshold;
		addr_str(key_af(k), &v.saddr, src, sizeof(src));
		log_warn("%s %s scan from %s: ~%u distinct %s in %llu ms (threshold %u)",
			 i ? "slow" : "fast",
			 v.horizontal ? "horizontal" : "vertical", src,
			 v.distinct, v.horizontal ? "hosts" : "ports",
			 (unsigned long long)v.window_ms, v.threshold);
		name_sender(&a, k, rec->src_vnf);
		assessment_set_tunnel(&a, rec);
		events_submit(ev, &a, k->ifindex);
	}
}

/*
 * The fast path's own detectors. SYN floods and scans the agent finds
 * itself (with the heaviest source named); what only the fast path can
 * see per packet, abnormal RST ratios and rate limits, becomes an
 * assessment here.
 */
static void check_detector(struct event_ctx *ev,
			   const struct vnfsec_detector_record *d)
{
	const struct vnfsec_flow_key *k = &d->key;
	struct assessment a = {
		.severity = 5, .count = d->count, .src_count = d->count,
		.threshold = d->threshold, .window_ms = d->window_ms,
	};
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	if (k->family != VNFSEC_AF_INET && k->family != VNFSEC_AF_INET6)
		return;
	if (d->detector == VNFSEC_DET_RST_FLOOD) {
		a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_FLOW_CUT;
		/*
		 * Who sends the RSTs may be the victim answering a scan or
		 * flood: no source to blame, so nothing is blocked for it.
		 */
		a.src_count = 0;
	} else if (d->detector == VNFSEC_DET_RATE_LIMIT)
		a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_RATE_LIMIT;
	else
		return;
	a.time_unix_ms = clock_wall_ms();
	assessment_set_addrs(&a, k->family, &k->saddr, &k->daddr);
	a.dport = ntohs(k->dport);
	a.vlan = k->vlan;
	a.fast_path_dropped = d->dropping;
	if (d->dropping)
		snprintf(a.local_action, sizeof(a.local_action),
			 "fast path drops for the window");
	addr_str(key_af(k), &k->saddr, src, sizeof(src));
	addr_str(key_af(k), &k->daddr, dst, sizeof(dst));
	log_warn("%s: %s -> %s, %u in %u ms (threshold %u)%s",
		 d->detector == VNFSEC_DET_RST_FLOOD ? "abnormal flow cuts" :
		 "rate limit exceeded", src, dst, d->count, d->window_ms,
		 d->threshold, d->dropping ? "; the fast path drops" : "");
	events_submit(ev, &a, k->ifindex);
}

/* The evidence that names the very bytes judged, without shipping them. */
static void sample_hash(const struct vnfsec_sample_record *smp, char *hex)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned int i;

	SHA256(smp->data, smp->cap_len < sizeof(smp->data) ? smp->cap_len :
	       sizeof(smp->data), md);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/*
 * The pair rule a sampled TCP or UDP packet between two VNFs of the
 * policy falls under, and the two VNFs; NULL for any other packet.
 */
static const struct policy_pair_rule *
sample_rule(const struct event_ctx *ev, const struct vnfsec_flow_key *k,
	    int *s, int *d)
{
	const struct policy_compiled *p;
	int af;

	if (!ev->policy || !ev->l7 || k->encap != VNFSEC_ENCAP_NONE ||
	    (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP))
		return NULL;
	p = ev->policy->p;
	af = k->family == VNFSEC_AF_INET6 ? AF_INET6 : AF_INET;
	*s = policy_vnf_of(p, af, &k->saddr);
	*d = policy_vnf_of(p, af, &k->daddr);
	if (*s < 0 || *d < 0 || *s == *d)
		return NULL;
	return policy_match(p, *s, *d, k->proto, ntohs(k->dport));
}

/*
 * A sampled packet of a VNF pair whose policy rule names the application
 * protocol it carries: nDPI says whether it is that (l7.h). Replies are
 * not judged (no rule names the client's port).
 */
static void check_app_protocol(struct event_ctx *ev,
			       const struct vnfsec_sample_record *smp)
{
	const struct vnfsec_flow_key *k = &smp->key;
	const struct policy_pair_rule *r;
	const struct policy_compiled *p;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	char detected[L7_NAME_MAX];
	uint16_t dport = ntohs(k->dport);
	struct assessment a;
	int s, d, af, ret;

	r = sample_rule(ev, k, &s, &d);
	if (!r || !l7_checkable(r->l7))
		return;
	p = ev->policy->p;
	af = k->family == VNFSEC_AF_INET6 ? AF_INET6 : AF_INET;
	ret = l7_judge(ev->l7, r->l7, smp->data,
		       smp->cap_len < sizeof(smp->data) ? smp->cap_len :
		       sizeof(smp->data),
		       smp->hdr.ts_ns / 1000000, detected, sizeof(detected));
	ev->samples_judged++;
	if (ret == L7_VIOLATION) {
		char hex[2 * VNFSEC_SAMPLE_BYTES + 1];
		unsigned int i;

		for (i = 0; i < smp->cap_len && i < VNFSEC_SAMPLE_BYTES; i++)
			snprintf(hex + 2 * i, 3, "%02x", smp->data[i]);
		hex[2 * i] = 0;
		log_debug("l7: sample of %u bytes (%u captured): %s",
			  smp->pkt_len, smp->cap_len, hex);
	}
	if (ret != L7_VIOLATION ||
	    !l7_first_in_a_while(ev->l7, (uint64_t)s << 40 | (uint64_t)d << 24 |
				 (uint64_t)k->proto << 16 | dport,
				 clock_mono_ns()))
		return;
	memset(&a, 0, sizeof(a));
	a.time_unix_ms = clock_wall_ms();
	a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_APP_PROTOCOL;
	a.severity = 6;
	assessment_set_addrs(&a, k->family, &k->saddr, &k->daddr);
	a.dport = dport;
	a.count = 1;
	/*
	 * No src_count: protect mode blocks a flood's or scan's source; a
	 * VNF speaking the wrong protocol is the server's to judge, not a
	 * reason to cut the VNF off here.
	 */
	snprintf(a.l7, sizeof(a.l7), "expected %s, detected %s", r->l7,
		 detected);
	sample_hash(smp, a.sample_sha256);
	snprintf(a.vnf_src, sizeof(a.vnf_src), "%s", p->vnfs[s].name);
	snprintf(a.vnf_dst, sizeof(a.vnf_dst), "%s", p->vnfs[d].name);
	inet_ntop(af, &k->saddr, src, sizeof(src));
	inet_ntop(af, &k->daddr, dst, sizeof(dst));
	log_warn("application protocol violation: %s -> %s %s port %u carries %s, the policy expects %s (%s -> %s)",
		 p->vnfs[s].name, p->vnfs[d].name, policy_proto_name(k->proto),
		 dport, detected, r->l7, src, dst);
	events_submit(ev, &a, k->ifindex);
}

/* How long an L7 verdict's flow_override lasts (the flow's state keeps it). */
#define L7_DROP_TTL_S	600

/*
 * L7 enforcement: one of the first packets of a flow whose rule names an
 * L7 protocol (VNFSEC_SAMPLE_L7). nDPI judges the flow from them
 * (l7_flow_feed()); a flow of another protocol, or one it cannot judge
 * when a VNF of the pair says l7_unknown: drop, gets a flow_override the
 * fast path carries out in the flow's mode (dropped in protect mode,
 * would_drop in monitor and learn), and one assessment.
 */
static void check_l7_flow(struct event_ctx *ev,
			  const struct vnfsec_sample_record *smp)
{
	const struct vnfsec_flow_key *k = &smp->key;
	const struct policy_pair_rule *r;
	const struct policy_compiled *p;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	char detected[L7_NAME_MAX];
	uint16_t dport = ntohs(k->dport);
	struct assessment a;
	bool unknown, drop, dropped = false;
	int s, d, af, ret;

	r = sample_rule(ev, k, &s, &d);
	if (!r || !l7_enforceable(r->l7))
		return;
	p = ev->policy->p;
	af = k->family == VNFSEC_AF_INET6 ? AF_INET6 : AF_INET;
	ret = l7_flow_feed(ev->l7, k, r->l7, smp->data,
			   smp->cap_len < sizeof(smp->data) ? smp->cap_len :
			   sizeof(smp->data), smp->index, clock_mono_ns(),
			   detected, sizeof(detected));
	ev->samples_judged++;
	if (ret < 0 || ret == L7_PENDING || ret == L7_EXPECTED)
		return;
	inet_ntop(af, &k->saddr, src, sizeof(src));
	inet_ntop(af, &k->daddr, dst, sizeof(dst));
	unknown = ret == L7_UNKNOWN;
	/* The stricter of the two VNFs, as for the mode. */
	drop = !unknown || p->vnfs[s].l7_unknown == POLICY_L7_UNKNOWN_DROP ||
	       p->vnfs[d].l7_unknown == POLICY_L7_UNKNOWN_DROP;
	if (!drop) {
		log_info("l7: %s -> %s %s port %u (%s -> %s): nDPI cannot tell its protocol from its first %u packets; passed (l7_unknown: pass)",
			 p->vnfs[s].name, p->vnfs[d].name,
			 policy_proto_name(k->proto), dport, src, dst,
			 VNFSEC_L7_PACKETS);
		return;
	}
	if (ev->actions && !actions_l7_drop(ev->actions, k, L7_DROP_TTL_S))
		dropped = smp->mode == VNFSEC_MODE_PROTECT;
	memset(&a, 0, sizeof(a));
	a.time_unix_ms = clock_wall_ms();
	a.heuristic = VNFSEC__HEURISTIC__HEURISTIC_APP_PROTOCOL;
	a.severity = 6;
	assessment_set_addrs(&a, k->family, &k->saddr, &k->daddr);
	a.dport = dport;
	a.count = 1;
	a.vlan = k->vlan;
	a.fast_path_dropped = dropped;
	snprintf(a.cause, sizeof(a.cause), "drop_l7");
	snprintf(a.l7, sizeof(a.l7), "expected %s, detected %s", r->l7,
		 detected);
	if (dropped)
		snprintf(a.local_action, sizeof(a.local_action),
			 "fast path drops the flow (%s)",
			 unknown ? "l7_unknown: drop" : "not its protocol");
	sample_hash(smp, a.sample_sha256);
	snprintf(a.vnf_src, sizeof(a.vnf_src), "%s", p->vnfs[s].name);
	snprintf(a.vnf_dst, sizeof(a.vnf_dst), "%s", p->vnfs[d].name);
	log_warn("application protocol violation: %s -> %s %s port %u carries %s, the policy expects %s (%s:%u -> %s); %s",
		 p->vnfs[s].name, p->vnfs[d].name, policy_proto_name(k->proto),
		 dport, detected, r->l7, src, ntohs(k->sport), dst,
		 dropped ? "the fast path drops the flow" :
		 "alert only (mode)");
	events_submit(ev, &a, k->ifindex);
}

int events_handle(void *ctx, void *data, size_t len)
{
	const struct vnfsec_record_hdr *hdr = data;
	const struct vnfsec_new_flow_record *rec = data;
	struct event_ctx *ev = ctx;
	bool opens;

	ev->records++;
	if (len < sizeof(*hdr) || hdr->version != VNFSEC_ABI_VERSION ||
	    hdr->len > len) {
		if (!ev->bad_records++)
			log_warn("fast path sent a record of ABI %u (agent speaks %u); its sensor and agent do not match: reload with --fresh",
				 len >= sizeof(*hdr) ? hdr->version : 0,
				 VNFSEC_ABI_VERSION);
		return 0;
	}
	if (hdr->type == VNFSEC_REC_DETECTOR &&
	    len >= sizeof(struct vnfsec_detector_record)) {
		check_detector(ev, data);
		return 0;
	}
	if (hdr->type == VNFSEC_REC_EXT_DETECTOR &&
	    len >= sizeof(struct vnfsec_ext_detector_record)) {
		detectors_event(ev, data);
		return 0;
	}
	if (hdr->type == VNFSEC_REC_UNPARSED &&
	    len >= sizeof(struct vnfsec_unparsed_record)) {
		events_unparsed(ev, data);
		return 0;
	}
	if (hdr->type == VNFSEC_REC_SAMPLE &&
	    len >= sizeof(struct vnfsec_sample_record)) {
		const struct vnfsec_sample_record *smp = data;

		/*
		 * A flow of an enforced L7 rule is judged by its first
		 * packets only, once: its other samples say nothing new.
		 */
		if (smp->reason == VNFSEC_SAMPLE_L7)
			check_l7_flow(ev, smp);
		else if (!(smp->flags &
			   (VNFSEC_FLOW_F_L7 | VNFSEC_FLOW_F_L7_DROP)))
			check_app_protocol(ev, smp);
		return 0;
	}
	if (hdr->type != VNFSEC_REC_NEW_FLOW || len < sizeof(*rec))
		return 0;
	/*
	 * Floods, scans and violations are about what a source opens: the
	 * reply to a flow seen opening the other way (a DNS answer, a UDP
	 * response from any server port) is part of that flow.
	 */
	if (rec->flags & VNFSEC_FLOW_F_REPLY) {
		learn_note(ev->learn, rec, false);
		return 0;	/* the fast path knows its request */
	}
	opens = !ev->origins || flow_origins_opens(ev->origins, rec);
	/* What a learnt policy must let its source start (learn.h). */
	learn_note(ev->learn, rec, opens);
	if (!opens)
		return 0;
	check_syn_flood(ev, rec);
	check_scans(ev, rec);
	agent_policy_check_flow(ev, rec);
	return 0;
}
