// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ring-buffer records from the fast path into the heuristics. A record is
 * checked against the ABI before it is read: a sensor of another version
 * must not be misread.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <string.h>
#include <openssl/sha.h>

#include "user/agent/agent.h"
#include "user/agent/apply.h"
#include "user/agent/l7.h"
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

/*
 * Protect mode: the source is blocked here and now, without waiting for
 * the server (onset to drop in well under a second); the server learns
 * what was done from the assessment's evidence.
 */
static void protect(struct event_ctx *ev, struct assessment *a)
{
	unsigned int ttl = ev->protect_ttl_s;
	char src[INET_ADDRSTRLEN];

	if (!ttl || !a->src_count || !blocks_its_source(a->heuristic) ||
	    enforcer_block(ev->enf, a->saddr, 32, ttl, 0, VNFSEC_BLOCK_LOCAL))
		return;
	inet_ntop(AF_INET, &a->saddr, src, sizeof(src));
	snprintf(a->local_action, sizeof(a->local_action),
		 "blocked %s/32 for %u s", src, ttl);
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

static void check_syn_flood(struct event_ctx *ev,
			    const struct vnfsec_new_flow_record *rec)
{
	char src[16], dst[16];
	struct assessment a;

	if (!syn_flood_feed(ev->syn_flood, rec, &a))
		return;
	inet_ntop(AF_INET, &a.saddr, src, sizeof(src));
	inet_ntop(AF_INET, &a.daddr, dst, sizeof(dst));
	log_warn("SYN flood towards %s port %u: %llu new flows in %u ms (threshold %u), %llu+ from %s",
		 dst, a.dport, (unsigned long long)a.count, a.window_ms,
		 a.threshold, (unsigned long long)a.src_count, src);
	events_submit(ev, &a, rec->key.ifindex);
}

static void check_scans(struct event_ctx *ev,
			const struct vnfsec_new_flow_record *rec)
{
	const struct vnfsec_flow_key *k = &rec->key;
	struct scan_probe p = {
		.ts_ns = rec->hdr.ts_ns, .saddr = k->saddr.v4, .daddr = k->daddr.v4,
		.dport = k->dport, .proto = k->proto,
	};
	struct scan_detector *sd[] = { ev->scan_fast, ev->scan_slow };
	struct scan_verdict v;
	struct assessment a;
	char src[16];
	unsigned int i;

	/* Connection attempts only: a TCP flow opened by an answer is not. */
	if (k->proto == IPPROTO_TCP &&
	    (!(rec->tcp_flags & VNFSEC_TCP_SYN) ||
	     (rec->tcp_flags & VNFSEC_TCP_ACK)))
		return;
	if ((k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP) ||
	    k->family == VNFSEC_AF_INET6)	/* IPv4 only, for now */
		return;
	for (i = 0; i < 2; i++) {
		if (!sd[i] || !scan_feed(sd[i], &p, &v))
			continue;
		memset(&a, 0, sizeof(a));
		a.time_unix_ms = clock_wall_ms();
		a.heuristic = v.horizontal ?
			VNFSEC__HEURISTIC__HEURISTIC_HORIZONTAL_SCAN :
			VNFSEC__HEURISTIC__HEURISTIC_VERTICAL_SCAN;
		a.severity = i ? 6 : 5;	/* a slow scan is a careful one */
		a.saddr = v.saddr;
		a.daddr = v.daddr;
		a.count = v.distinct;
		a.src_count = v.distinct;
		a.window_ms = v.window_ms;
		a.threshold = v.threshold;
		inet_ntop(AF_INET, &a.saddr, src, sizeof(src));
		log_warn("%s %s scan from %s: ~%u distinct %s in %llu ms (threshold %u)",
			 i ? "slow" : "fast",
			 v.horizontal ? "horizontal" : "vertical", src,
			 v.distinct, v.horizontal ? "hosts" : "ports",
			 (unsigned long long)v.window_ms, v.threshold);
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
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];

	if (k->family != VNFSEC_AF_INET)
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
	a.saddr = k->saddr.v4;
	a.daddr = k->daddr.v4;
	a.dport = ntohs(k->dport);
	if (d->dropping)
		snprintf(a.local_action, sizeof(a.local_action),
			 "fast path drops for the window");
	inet_ntop(AF_INET, &a.saddr, src, sizeof(src));
	inet_ntop(AF_INET, &a.daddr, dst, sizeof(dst));
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

	if (!ev->policy || !ev->l7 || k->encap != VNFSEC_ENCAP_NONE ||
	    (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP))
		return;
	p = ev->policy->p;
	af = k->family == VNFSEC_AF_INET6 ? AF_INET6 : AF_INET;
	s = policy_vnf_of(p, af, &k->saddr);
	d = policy_vnf_of(p, af, &k->daddr);
	if (s < 0 || d < 0 || s == d)
		return;
	r = policy_match(p, s, d, k->proto, dport);
	if (!r || !l7_checkable(r->l7))
		return;
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
	if (af == AF_INET) {
		a.saddr = k->saddr.v4;
		a.daddr = k->daddr.v4;
	}
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

int events_handle(void *ctx, void *data, size_t len)
{
	const struct vnfsec_record_hdr *hdr = data;
	const struct vnfsec_new_flow_record *rec = data;
	struct event_ctx *ev = ctx;

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
	if (hdr->type == VNFSEC_REC_SAMPLE &&
	    len >= sizeof(struct vnfsec_sample_record)) {
		check_app_protocol(ev, data);
		return 0;
	}
	if (hdr->type != VNFSEC_REC_NEW_FLOW || len < sizeof(*rec))
		return 0;
	check_syn_flood(ev, rec);
	check_scans(ev, rec);
	agent_policy_check_flow(ev, rec);
	return 0;
}
