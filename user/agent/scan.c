// SPDX-License-Identifier: GPL-2.0-only
/*
 * Distinct targets are counted per source in fixed memory with linear
 * counting (Whang et al.): hash each target into a bitmap and estimate
 * n = -m ln(zero bits / m). With m = 1024 bits the estimate is within a
 * few percent up to several hundred targets, which is where thresholds
 * live, and an attacker cannot grow our memory by scanning more.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "user/agent/scan.h"

#define SCAN_SOURCES	1024		/* sources tracked at once */
#define SCAN_BITS	1024

struct scan_source {
	union vnfsec_addr saddr;
	uint8_t family;
	bool reported;
	uint64_t window_start_ns;
	uint64_t window_ns;		/* as it was when the window began */
	uint64_t dsts[SCAN_BITS / 64];
	uint64_t ports[SCAN_BITS / 64];	/* (destination, port) pairs */
};

struct scan_detector {
	struct scan_config cfg;
	struct scan_source src[SCAN_SOURCES];
};

struct scan_detector *scan_new(const struct scan_config *cfg)
{
	struct scan_detector *sd = calloc(1, sizeof(*sd));

	if (sd)
		sd->cfg = *cfg;
	return sd;
}

void scan_set_config(struct scan_detector *sd, const struct scan_config *cfg)
{
	sd->cfg = *cfg;
}

void scan_free(struct scan_detector *sd)
{
	free(sd);
}

static uint32_t mix(uint64_t x)
{
	/* splitmix64 finaliser: spreads neighbouring addresses and ports. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (uint32_t)x;
}

static uint32_t addr_mix(const union vnfsec_addr *a, uint8_t family)
{
	uint64_t h = family;
	int i;

	for (i = 0; i < 4; i++)
		h = mix(h << 32 ^ a->v6[i]);
	return (uint32_t)h;
}

static void set_bit(uint64_t *map, uint32_t h)
{
	h %= SCAN_BITS;
	map[h / 64] |= 1ULL << (h % 64);
}

static unsigned int estimate(const uint64_t *map)
{
	unsigned int zero = SCAN_BITS, i;

	for (i = 0; i < SCAN_BITS / 64; i++)
		zero -= __builtin_popcountll(map[i]);
	if (!zero)
		return SCAN_BITS * 8;	/* saturated: far above any threshold */
	return (unsigned int)lround(-(double)SCAN_BITS *
				    log((double)zero / SCAN_BITS));
}

bool scan_feed(struct scan_detector *sd, const struct scan_probe *p,
	       struct scan_verdict *v)
{
	const struct scan_config *cfg = p->cfg ?: &sd->cfg;
	uint32_t src = addr_mix(&p->saddr, p->family);
	uint32_t dst = addr_mix(&p->daddr, p->family);
	struct scan_source *s = &sd->src[src % SCAN_SOURCES];
	unsigned int dsts, ports;

	if (!cfg->window_ns || (!cfg->horizontal && !cfg->vertical))
		return false;
	if (s->family != p->family ||
	    memcmp(&s->saddr, &p->saddr, sizeof(s->saddr)) ||
	    p->ts_ns - s->window_start_ns >= s->window_ns ||
	    p->ts_ns < s->window_start_ns) {
		memset(s, 0, sizeof(*s));
		s->saddr = p->saddr;
		s->family = p->family;
		s->window_start_ns = p->ts_ns;
		s->window_ns = cfg->window_ns;
	}
	set_bit(s->dsts, mix(dst));
	set_bit(s->ports, mix((uint64_t)dst << 24 ^
			      (uint64_t)p->dport << 8 ^ p->proto));
	if (s->reported)
		return false;

	dsts = estimate(s->dsts);
	ports = estimate(s->ports);
	memset(v, 0, sizeof(*v));
	if (cfg->horizontal && dsts >= cfg->horizontal) {
		v->horizontal = true;
		v->distinct = dsts;
		v->threshold = cfg->horizontal;
	} else if (cfg->vertical && ports >= cfg->vertical) {
		v->distinct = ports;
		v->threshold = cfg->vertical;
	} else {
		return false;
	}
	s->reported = true;
	v->family = p->family;
	v->saddr = p->saddr;
	v->daddr = p->daddr;
	v->window_ms = s->window_ns / 1000000ULL;
	return true;
}
