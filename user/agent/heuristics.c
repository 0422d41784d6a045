// SPDX-License-Identifier: GPL-2.0-only
/*
 * SYN flood: too many new flows opened by a bare SYN towards one
 * destination address within a window. Counting new flows rather than
 * packets means retransmissions of one handshake are not a flood, and
 * randomised source ports (hping3 --flood) are.
 *
 * Memory is bounded whatever the attacker sends: a fixed table of
 * destinations, and per destination the heaviest sources found with the
 * Misra-Gries summary (k counters find any source above 1/(k+1) of the
 * SYNs), so the assessment names who to block.
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
	uint32_t saddr;
	uint64_t count;
};

struct syn_dst {
	uint32_t daddr;
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

static void count_source(struct syn_dst *d, uint32_t saddr)
{
	struct syn_source *free_slot = NULL;
	int i;

	for (i = 0; i < SYN_FLOOD_SOURCES; i++) {
		if (d->src[i].count && d->src[i].saddr == saddr) {
			d->src[i].count++;
			return;
		}
		if (!d->src[i].count && !free_slot)
			free_slot = &d->src[i];
	}
	if (free_slot) {
		free_slot->saddr = saddr;
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

static struct syn_dst *lookup(struct syn_flood *sf, uint32_t daddr,
			      uint64_t now)
{
	/* Fibonacci hashing spreads neighbouring addresses. */
	uint32_t h = (uint32_t)(daddr * 2654435761u) % SYN_FLOOD_SLOTS;
	struct syn_dst *d = &sf->slot[h];

	if (d->daddr != daddr || now - d->window_start_ns >= sf->window_ns ||
	    now < d->window_start_ns) {
		/* A colliding destination takes the slot over: it can only
		 * delay detection by one window, never hide a flood. */
		memset(d, 0, sizeof(*d));
		d->daddr = daddr;
		d->window_start_ns = now;
	}
	return d;
}

bool syn_flood_feed(struct syn_flood *sf,
		    const struct vnfsec_new_flow_record *rec,
		    struct assessment *a)
{
	const struct vnfsec_flow_key *k = &rec->key;
	const struct syn_source *top;
	struct syn_dst *d;

	if (k->proto != 6 || !(rec->tcp_flags & VNFSEC_TCP_SYN) ||
	    (rec->tcp_flags & VNFSEC_TCP_ACK) || k->family == VNFSEC_AF_INET6)
		return false;

	d = lookup(sf, k->daddr.v4, rec->hdr.ts_ns);
	if (d->syns == 0)
		d->dport = k->dport;
	else if (d->dport != k->dport)
		d->many_ports = true;
	d->syns++;
	count_source(d, k->saddr.v4);
	if (d->reported || d->syns < sf->threshold)
		return false;

	d->reported = true;
	top = top_source(d);
	memset(a, 0, sizeof(*a));
	a->time_unix_ms = clock_wall_ms();
	a->heuristic = VNFSEC__HEURISTIC__HEURISTIC_SYN_FLOOD;
	a->severity = 7;
	a->saddr = top->saddr;
	a->daddr = d->daddr;
	a->dport = d->many_ports ? 0 : ntohs(d->dport);
	a->count = d->syns;
	/* Misra-Gries undercounts: a lower bound, never above the total. */
	a->src_count = top->count;
	a->window_ms = sf->window_ns / 1000000ULL;
	a->threshold = sf->threshold;
	return true;
}
