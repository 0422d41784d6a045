// SPDX-License-Identifier: GPL-2.0-only
/*
 * Frames the fast path would not let through as it found them: not
 * classifiable to their L4 header, a non-IP EtherType no rule allows,
 * fragments that try to evade (tiny, overlapping, duplicate), a source
 * address that is not the port's VNF's, a RST or FIN outside its flow's
 * sequence window. The fast path reports them at a bounded rate
 * (vnfsec_unparsed_record); here they become malformed_traffic,
 * fragment_evasion, spoofed_source and flow_cut assessments naming the
 * port, the source and the cause.
 *
 * The source address of such a frame is a claim, not an identity: the
 * assessment names it (src_count 0), so no automation blocks it; the
 * frame's MAC and port say who sent it. One assessment per port, cause
 * and claimed source a second at most, with the count of records seen.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/vnfsec_abi.h"
#include "user/agent/agent.h"
#include "user/agent/fastpath_policy.h"
#include "user/common/clock.h"
#include "user/common/log.h"
#include "user/common/vnfsec.pb-c.h"

#define UNPARSED_SLOTS		256
#define UNPARSED_PERIOD_NS	1000000000ULL

struct unparsed_slot {
	uint32_t ifindex;
	uint8_t cause, family;
	union vnfsec_addr saddr;
	uint64_t reported_ns;	/* 0: free */
	uint64_t pending;	/* records since the last assessment */
};

struct unparsed_reports {
	struct unparsed_slot slot[UNPARSED_SLOTS];
};

static const char *const counter_names[] = VNFSEC_COUNTER_NAMES;

static int heuristic_of(uint8_t cause, unsigned int *severity)
{
	switch (cause) {
	case VNFSEC_CAUSE_UNPARSED:
	case VNFSEC_CAUSE_ETHERTYPE:
		*severity = 4;
		return VNFSEC__HEURISTIC__HEURISTIC_MALFORMED_TRAFFIC;
	case VNFSEC_CAUSE_TINY_FRAGMENT:
	case VNFSEC_CAUSE_FRAGMENT_EVASION:
		*severity = 6;
		return VNFSEC__HEURISTIC__HEURISTIC_FRAGMENT_EVASION;
	case VNFSEC_CAUSE_SPOOFED:
		*severity = 7;
		return VNFSEC__HEURISTIC__HEURISTIC_SPOOFED_SOURCE;
	case VNFSEC_CAUSE_SEQ_WINDOW:
		*severity = 6;
		return VNFSEC__HEURISTIC__HEURISTIC_FLOW_CUT;
	}
	return -1;
}

static uint32_t slot_hash(const struct vnfsec_unparsed_record *r)
{
	uint32_t h = 2166136261u;
	const uint8_t *p = r->saddr.bytes;
	size_t i;

	h = (h ^ r->ifindex) * 16777619u;
	h = (h ^ r->cause) * 16777619u;
	for (i = 0; i < sizeof(r->saddr); i++)
		h = (h ^ p[i]) * 16777619u;
	return h % UNPARSED_SLOTS;
}

/*
 * The slot of this port, cause and source; a colliding one is taken
 * over (its pending count goes into the next report of either).
 * Returns true when an assessment is due now.
 */
static bool due(struct unparsed_reports *u,
		const struct vnfsec_unparsed_record *r, uint64_t now,
		uint64_t *count)
{
	struct unparsed_slot *s = &u->slot[slot_hash(r)];

	if (!s->reported_ns || s->ifindex != r->ifindex ||
	    s->cause != r->cause || s->family != r->family ||
	    memcmp(&s->saddr, &r->saddr, sizeof(s->saddr))) {
		*s = (struct unparsed_slot){
			.ifindex = r->ifindex, .cause = r->cause,
			.family = r->family, .saddr = r->saddr,
		};
	}
	s->pending++;
	if (s->reported_ns && now - s->reported_ns < UNPARSED_PERIOD_NS)
		return false;
	*count = s->pending;
	s->pending = 0;
	s->reported_ns = now;
	return true;
}

void events_unparsed(struct event_ctx *ev,
		     const struct vnfsec_unparsed_record *r)
{
	struct assessment a = { 0 };
	const uint8_t *m = r->smac;
	char src[INET6_ADDRSTRLEN] = "-";
	unsigned int severity;
	uint64_t count;
	int heuristic = heuristic_of(r->cause, &severity);

	if (heuristic < 0)
		return;
	if (!ev->unparsed) {
		ev->unparsed = calloc(1, sizeof(*ev->unparsed));
		if (!ev->unparsed) {
			log_err("cannot track unparsed-frame reports: %s",
				strerror(ENOMEM));
			return;
		}
	}
	if (!due(ev->unparsed, r, clock_mono_ns(), &count))
		return;
	a.time_unix_ms = clock_wall_ms();
	a.heuristic = heuristic;
	a.severity = severity;
	a.count = count;
	a.src_count = 0;	/* a claimed source: never blocked for it */
	if (r->family)
		assessment_set_addrs(&a, r->family, &r->saddr,
				     &(union vnfsec_addr){ 0 });
	if (r->family)
		inet_ntop(a.family, r->family == VNFSEC_AF_INET6 ?
			  (const void *)a.saddr6 : (const void *)&a.saddr,
			  src, sizeof(src));
	a.fast_path_dropped = r->verdict == VNFSEC_VERDICT_DROP;
	a.vlan = r->vlan;
	if (r->counter < VNFSEC_CNT_MAX)
		snprintf(a.cause, sizeof(a.cause), "%s",
			 counter_names[r->counter]);
	snprintf(a.mac, sizeof(a.mac), "%02x:%02x:%02x:%02x:%02x:%02x",
		 m[0], m[1], m[2], m[3], m[4], m[5]);
	/*
	 * The sender is the VNF behind the port (at egress the port's VNF
	 * is the receiver), whatever address it claims: a spoofed VNF
	 * address must not name (and get proposed for quarantine) the VNF
	 * it belongs to.
	 */
	if (r->vnf && fastpath_vnf_name(r->vnf))
		snprintf(r->dir == VNFSEC_DIR_EGRESS ? a.vnf_dst : a.vnf_src,
			 sizeof(a.vnf_src), "%s", fastpath_vnf_name(r->vnf));
	snprintf(a.local_action, sizeof(a.local_action), "%s by the fast path",
		 a.fast_path_dropped ? "dropped" : "counted, not dropped");
	log_warn("port %u: %llu frame(s) from %s (MAC %s, VLAN %u) the fast path %s: %s",
		 r->ifindex, (unsigned long long)count, src, a.mac, r->vlan,
		 a.fast_path_dropped ? "dropped" : "let through (mode)",
		 a.cause);
	events_submit(ev, &a, r->ifindex);
}

void unparsed_reports_free(struct unparsed_reports *u)
{
	free(u);
}
