// SPDX-License-Identifier: GPL-2.0-only
/*
 * SYN flood: too many new flows opened by a bare SYN towards one
 * destination address (IPv4 or IPv6) within a window. Counting new flows
 * rather than packets means retransmissions of one handshake are not a
 * flood, and randomised source ports (hping3 --flood) are.
 *
 * Memory is bounded whatever the attacker sends: a fixed table of
 * destinations, and per destination the heaviest sources found with the
 * Misra-Gries summary (k counters find any source above 1/(k+1) of the
 * SYNs), so the assessment names who to block. Thousands of spoofed
 * sources with one SYN each grow nothing: the flood is one destination's,
 * and no source is named, since none is above 1/(k+1) of it.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "user/agent/agent.h"
#include "user/common/clock.h"
#include "user/common/vnfsec.pb-c.h"

#define SYN_FLOOD_SLOTS		1024	/* destinations tracked at once */
#define SYN_FLOOD_SOURCES	4	/* Misra-Gries counters */

struct syn_source {
	union vnfsec_addr saddr;
	uint64_t count;
};

struct syn_dst {
	union vnfsec_addr daddr;
	uint8_t family;
	uint16_t dport;
	bool many_ports;
	bool reported;			/* this window already raised */
	uint64_t window_start_ns;
	uint64_t syns;
	struct syn_source src[SYN_FLOOD_SOURCES];
};

struct syn_flood {
	unsigned int threshold;
	uint64_t window_ns;
	struct syn_dst slot[SYN_FLOOD_SLOTS];
};

struct syn_flood *syn_flood_new(unsigned int threshold, unsigned int window_ms)
{
	struct syn_flood *sf = calloc(1, sizeof(*sf));

	if (!sf)
		return NULL;
	sf->threshold = threshold;
	sf->window_ns = (uint64_t)window_ms * 1000000ULL;
	return sf;
}

void syn_flood_set_threshold(struct syn_flood *sf, unsigned int threshold)
{
	sf->threshold = threshold;
}

void syn_flood_free(struct syn_flood *sf)
{
	free(sf);
}

static void count_source(struct syn_dst *d, const union vnfsec_addr *saddr)
{
	struct syn_source *free_slot = NULL;
	int i;

	for (i = 0; i < SYN_FLOOD_SOURCES; i++) {
		if (d->src[i].count &&
		    !memcmp(&d->src[i].saddr, saddr, sizeof(*saddr))) {
			d->src[i].count++;
			return;
		}
		if (!d->src[i].count && !free_slot)
			free_slot = &d->src[i];
	}
	if (free_slot) {
		free_slot->saddr = *saddr;
		free_slot->count = 1;
		return;
	}
	for (i = 0; i < SYN_FLOOD_SOURCES; i++)
		d->src[i].count--;
}

static const struct syn_source *top_source(const struct syn_dst *d)
{
	const struct syn_source *top = &d->src[0];
	int i;

	for (i = 1; i < SYN_FLOOD_SOURCES; i++)
		if (d->src[i].count > top->count)
			top = &d->src[i];
	return top;
}

static uint64_t mix64(uint64_t x)
{
	/* splitmix64 finaliser: neighbouring addresses land far apart. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t addr_hash(const union vnfsec_addr *a, uint8_t family)
{
	uint64_t h = family;
	int i;

	for (i = 0; i < 4; i++)
		h = mix64(h ^ a->v6[i]);
	return h;
}

static struct syn_dst *lookup(struct syn_flood *sf,
			      const struct vnfsec_flow_key *k, uint64_t now)
{
	struct syn_dst *d = &sf->slot[addr_hash(&k->daddr, k->family) %
				      SYN_FLOOD_SLOTS];

	if (d->family != k->family ||
	    memcmp(&d->daddr, &k->daddr, sizeof(d->daddr)) ||
	    now - d->window_start_ns >= sf->window_ns ||
	    now < d->window_start_ns) {
		/* A colliding destination takes the slot over: it can only
		 * delay detection by one window, never hide a flood. */
		memset(d, 0, sizeof(*d));
		d->daddr = k->daddr;
		d->family = k->family;
		d->window_start_ns = now;
	}
	return d;
}

bool syn_flood_feed_at(struct syn_flood *sf,
		       const struct vnfsec_new_flow_record *rec,
		       unsigned int threshold, struct assessment *a)
{
	const struct vnfsec_flow_key *k = &rec->key;
	const struct syn_source *top;
	static const union vnfsec_addr none;
	struct syn_dst *d;

	if (!threshold || k->proto != 6 || !(rec->tcp_flags & VNFSEC_TCP_SYN) ||
	    (rec->tcp_flags & VNFSEC_TCP_ACK))
		return false;

	d = lookup(sf, k, rec->hdr.ts_ns);
	if (d->syns == 0)
		d->dport = k->dport;
	else if (d->dport != k->dport)
		d->many_ports = true;
	d->syns++;
	count_source(d, &k->saddr);
	if (d->reported || d->syns < threshold)
		return false;

	d->reported = true;
	top = top_source(d);
	memset(a, 0, sizeof(*a));
	a->time_unix_ms = clock_wall_ms();
	a->heuristic = VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD;
	a->severity = 7;
	a->dport = d->many_ports ? 0 : ntohs(d->dport);
	a->count = d->syns;
	a->window_ms = sf->window_ns / 1000000ULL;
	a->threshold = threshold;
	/*
	 * Misra-Gries undercounts by at most syns / (k + 1): a source above
	 * that is surely a heavy hitter. Below it, the SYNs come from many
	 * sources (spoofed, or a crowd): blocking one would stop nothing
	 * and could hit a VNF whose address was forged.
	 */
	if (top->count * (SYN_FLOOD_SOURCES + 1) > d->syns) {
		assessment_set_addrs(a, d->family, &top->saddr, &d->daddr);
		a->src_count = top->count;	/* a lower bound */
	} else {
		assessment_set_addrs(a, d->family, &none, &d->daddr);
	}
	return true;
}

bool syn_flood_feed(struct syn_flood *sf,
		    const struct vnfsec_new_flow_record *rec,
		    struct assessment *a)
{
	return syn_flood_feed_at(sf, rec, sf->threshold, a);
}

struct flow_origin {
	uint64_t tuple;			/* hash of the opening direction */
	uint64_t seen_ns;
};

struct flow_origins {
	struct flow_origin slot[FLOW_ORIGIN_SLOTS];
};

struct flow_origins *flow_origins_new(void)
{
	return calloc(1, sizeof(struct flow_origins));
}

void flow_origins_free(struct flow_origins *fo)
{
	free(fo);
}

/* Hash of the tuple from @s:@sp to @d:@dp; never 0 (a free slot). */
static uint64_t tuple_hash(const struct vnfsec_flow_key *k,
			   const union vnfsec_addr *s, const union vnfsec_addr *d,
			   uint16_t sp, uint16_t dp)
{
	uint64_t h = addr_hash(s, k->family);

	h = mix64(h ^ addr_hash(d, k->family));
	h = mix64(h ^ ((uint64_t)sp << 32 | (uint64_t)dp << 16 | k->proto));
	return h ?: 1;
}

bool flow_origins_opens(struct flow_origins *fo,
			const struct vnfsec_new_flow_record *rec)
{
	const struct vnfsec_flow_key *k = &rec->key;
	uint64_t now = rec->hdr.ts_ns, ttl = FLOW_ORIGIN_TTL_S * 1000000000ULL;
	uint64_t fwd = tuple_hash(k, &k->saddr, &k->daddr, k->sport, k->dport);
	uint64_t rev = tuple_hash(k, &k->daddr, &k->saddr, k->dport, k->sport);
	struct flow_origin *r = &fo->slot[rev % FLOW_ORIGIN_SLOTS];
	struct flow_origin *f = &fo->slot[fwd % FLOW_ORIGIN_SLOTS];

	if (r->tuple == rev && now >= r->seen_ns && now - r->seen_ns < ttl)
		return false;
	f->tuple = fwd;
	f->seen_ns = now;
	return true;
}
