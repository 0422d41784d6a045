// SPDX-License-Identifier: GPL-2.0-only
/*
 * The openings a policy.learn is made of: see learn.h. An open-addressing
 * table of reduced flow keys, allocated when a learning period starts
 * and freed when the last one ends.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "user/agent/learn.h"

struct learn_openings {
	struct learn_opening *slot;	/* LEARN_OPENINGS_MAX, or NULL */
	uint32_t used;
	uint64_t until_ns;
	uint64_t seen_ns;
	uint64_t lost;
	struct learn_port ports[LEARN_PORTS_MAX];
	uint32_t nr_ports;
};

struct learn_openings *learn_openings_new(void)
{
	return calloc(1, sizeof(struct learn_openings));
}

void learn_openings_stop(struct learn_openings *lo)
{
	if (!lo)
		return;
	free(lo->slot);
	lo->slot = NULL;
	lo->used = 0;
	lo->until_ns = 0;
	lo->nr_ports = 0;
}

void learn_openings_free(struct learn_openings *lo)
{
	learn_openings_stop(lo);
	free(lo);
}

int learn_openings_watch(struct learn_openings *lo, uint64_t until_ns)
{
	if (!lo->slot) {
		lo->slot = calloc(LEARN_OPENINGS_MAX, sizeof(*lo->slot));
		if (!lo->slot)
			return -ENOMEM;
		lo->lost = 0;
		lo->seen_ns = 0;
	}
	if (until_ns > lo->until_ns)
		lo->until_ns = until_ns;
	return 0;
}

/*
 * What a rule is made of: the ends and the destination port. Where it
 * was seen (port, direction, VLAN) and the source port do not matter;
 * a GTP-U flow is its carrier, whose unit is the VNF pair.
 */
static void reduce(const struct vnfsec_new_flow_record *rec,
		   struct learn_opening *o)
{
	memset(o, 0, sizeof(*o));
	o->src_vnf = rec->src_vnf;
	o->dst_vnf = rec->dst_vnf;
	o->key.family = rec->key.family;
	o->key.encap = rec->key.encap;
	if (rec->key.encap == VNFSEC_ENCAP_GTPU) {
		o->key.proto = IPPROTO_UDP;
		o->key.sport = htons(VNFSEC_GTPU_PORT);
		o->key.dport = htons(VNFSEC_GTPU_PORT);
		return;
	}
	o->key.saddr = rec->key.saddr;
	o->key.daddr = rec->key.daddr;
	o->key.proto = rec->key.proto;
	o->key.dport = rec->key.dport;
}

/* The port @k came in on, the first time (a VNF's source, see learn.h). */
static void note_port(struct learn_openings *lo,
		      const struct vnfsec_flow_key *k)
{
	struct learn_port *p;
	uint32_t i;

	if (k->dir != VNFSEC_DIR_INGRESS || k->encap != VNFSEC_ENCAP_NONE)
		return;
	for (i = 0; i < lo->nr_ports; i++)
		if (lo->ports[i].ifindex == k->ifindex &&
		    lo->ports[i].vlan == k->vlan)
			return;
	if (lo->nr_ports == LEARN_PORTS_MAX)
		return;
	p = &lo->ports[lo->nr_ports++];
	p->ifindex = k->ifindex;
	p->vlan = k->vlan;
	p->family = k->family;
	p->saddr = k->saddr;
}

static bool same(const struct learn_opening *a, const struct learn_opening *b)
{
	return a->src_vnf == b->src_vnf && a->dst_vnf == b->dst_vnf &&
	       !memcmp(&a->key, &b->key, sizeof(a->key));
}

void learn_note(struct learn_openings *lo,
		const struct vnfsec_new_flow_record *rec, bool opens)
{
	const struct vnfsec_flow_key *k = &rec->key;
	struct learn_opening o, *s;
	uint64_t now = rec->hdr.ts_ns;
	uint32_t i, n;

	if (!lo || !lo->slot || now > lo->until_ns)
		return;
	if (now > lo->seen_ns)
		lo->seen_ns = now;
	note_port(lo, k);
	/* A SYN opens a connection: it answers nothing (as in the fast path). */
	if (k->proto == IPPROTO_TCP &&
	    (rec->tcp_flags & (VNFSEC_TCP_SYN | VNFSEC_TCP_ACK)) ==
	    VNFSEC_TCP_SYN)
		opens = true;
	/*
	 * An echo reply answers its request: the fast path passes it as the
	 * request's reply (key: the type in the high byte of dport).
	 */
	if ((k->proto == IPPROTO_ICMP && ntohs(k->dport) >> 8 == 0) ||
	    (k->proto == IPPROTO_ICMPV6 && ntohs(k->dport) >> 8 == 129))
		opens = false;
	if (!opens && k->encap != VNFSEC_ENCAP_GTPU)
		return;
	reduce(rec, &o);
	i = (uint32_t)vnfsec_flow_key_hash(&o.key) ^
	    ((uint32_t)o.src_vnf << 16 | o.dst_vnf);
	for (n = 0; n < LEARN_OPENINGS_MAX; n++) {
		s = &lo->slot[(i + n) % LEARN_OPENINGS_MAX];
		if (!s->key.family)
			break;
		if (same(s, &o)) {
			s->last_ns = now;
			return;
		}
	}
	/* Keep a quarter free: probes stay short. */
	if (lo->used >= LEARN_OPENINGS_MAX / 4 * 3 || n == LEARN_OPENINGS_MAX) {
		lo->lost++;
		return;
	}
	o.first_ns = now;
	o.last_ns = now;
	*s = o;
	lo->used++;
}

void learn_openings_each(const struct learn_openings *lo, uint64_t from_ns,
			 void (*fn)(void *ctx, const struct learn_opening *o),
			 void *ctx)
{
	uint32_t i;

	if (!lo || !lo->slot)
		return;
	for (i = 0; i < LEARN_OPENINGS_MAX; i++)
		if (lo->slot[i].key.family && lo->slot[i].last_ns >= from_ns)
			fn(ctx, &lo->slot[i]);
}

void learn_ports_each(const struct learn_openings *lo,
		     void (*fn)(void *ctx, const struct learn_port *p),
		     void *ctx)
{
	uint32_t i;

	for (i = 0; lo && lo->slot && i < lo->nr_ports; i++)
		fn(ctx, &lo->ports[i]);
}

uint64_t learn_openings_seen(const struct learn_openings *lo)
{
	return lo ? lo->seen_ns : 0;
}

uint64_t learn_openings_lost(const struct learn_openings *lo)
{
	return lo ? lo->lost : 0;
}
