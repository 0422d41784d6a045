// SPDX-License-Identifier: GPL-2.0-only
#include <ifaddrs.h>
#include <math.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <string.h>

#include "user/agent/rates.h"
#include "user/common/clock.h"
#include "user/common/log.h"
#include "user/common/vnfsec.pb-c.h"

/* A minute of memory; alarms at 4 standard deviations after 30 s. */
#define RATES_ALPHA	(1.0 / 60)
#define RATES_K		4.0
#define RATES_WARMUP	30
#define DROPS_FLOOR	50.0		/* malformed packets per second */
#define VOLUME_FLOOR	(1 << 20)	/* bytes per second */

void rates_init(struct rates *r)
{
	unsigned int i;

	memset(r, 0, sizeof(*r));
	baseline_init(&r->drops, RATES_ALPHA, RATES_K, DROPS_FLOOR,
		      RATES_WARMUP);
	for (i = 0; i < AGENT_MAX_IFACES; i++)
		baseline_init(&r->volume[i], RATES_ALPHA, RATES_K,
			      VOLUME_FLOOR, RATES_WARMUP);
}

int rates_malformed(const struct sensor *s, uint64_t *out)
{
	static const char *const names[] = VNFSEC_COUNTER_NAMES;
	unsigned int i;
	int ret = 0;

	*out = 0;
	/* By name, so counters the fast path adds are counted as well. */
	for (i = 0; i < VNFSEC_CNT_MAX && i < sizeof(names) / sizeof(*names);
	     i++) {
		uint64_t v;

		if (strncmp(names[i], "trunc_", 6) &&
		    strncmp(names[i], "bad_", 4))
			continue;
		ret = sensor_counter(s, i, &v);
		if (ret)
			return ret;
		*out += v;
	}
	return 0;
}

static void raise(struct event_ctx *ev, uint32_t heuristic, uint64_t value,
		  const struct baseline *b, uint32_t ifindex)
{
	struct assessment a = {
		.heuristic = heuristic,
		.severity = 4,
		.count = value,
		.window_ms = 1000,
		.threshold = (uint32_t)(b->mean + b->k * sqrt(b->var)),
	};

	a.time_unix_ms = clock_wall_ms();
	events_submit(ev, &a, ifindex);
}

static void check_drops(struct rates *r, const struct sensor *s,
			struct event_ctx *ev)
{
	uint64_t now, delta;
	bool anomalous;

	if (rates_malformed(s, &now))
		return;
	delta = now - r->last_drops;
	r->last_drops = now;
	if (!r->primed)
		return;
	anomalous = baseline_anomalous(&r->drops, delta);
	if (anomalous && !r->in_drop_spike) {
		log_warn("drop spike: %llu malformed packets in the last second (baseline %.0f/s)",
			 (unsigned long long)delta, r->drops.mean);
		raise(ev, VNFSEC__HEURISTIC__HEURISTIC_DROP_SPIKE, delta,
		      &r->drops, 0);
	}
	r->in_drop_spike = anomalous;
}

static void check_volume(struct rates *r, const struct agent_config *cfg,
			 struct event_ctx *ev)
{
	struct ifaddrs *ifa, *it;
	unsigned int i;

	if (getifaddrs(&ifa))
		return;
	for (i = 0; i < cfg->nr_ifaces; i++) {
		const struct rtnl_link_stats *st = NULL;
		uint64_t delta;
		bool anomalous;

		for (it = ifa; it; it = it->ifa_next)
			if (it->ifa_addr && it->ifa_addr->sa_family == AF_PACKET &&
			    it->ifa_data && !strcmp(it->ifa_name, cfg->ifaces[i]))
				st = it->ifa_data;
		if (!st)
			continue;
		/* The 32-bit counters wrap: unsigned subtraction copes. */
		delta = (uint32_t)(st->rx_bytes - (uint32_t)r->last_bytes[i]);
		r->last_bytes[i] = st->rx_bytes;
		if (!r->primed)
			continue;
		anomalous = baseline_anomalous(&r->volume[i], delta);
		if (anomalous && !r->in_anomaly[i]) {
			log_warn("volume anomaly on %s: %llu bytes/s (baseline %.0f/s)",
				 cfg->ifaces[i], (unsigned long long)delta,
				 r->volume[i].mean);
			raise(ev, VNFSEC__HEURISTIC__HEURISTIC_VOLUME_ANOMALY,
			      delta, &r->volume[i], if_nametoindex(cfg->ifaces[i]));
		}
		r->in_anomaly[i] = anomalous;
	}
	freeifaddrs(ifa);
}

void rates_tick(struct rates *r, const struct sensor *s, struct event_ctx *ev)
{
	check_drops(r, s, ev);
	check_volume(r, ev->cfg, ev);
	r->primed = true;
}
