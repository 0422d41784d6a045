// SPDX-License-Identifier: GPL-2.0-only
#include <ifaddrs.h>
#include <math.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "user/agent/apply.h"
#include "user/agent/fastpath_policy.h"
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
#define PAIR_FLOOR	(64 << 10)	/* bytes per second between two VNFs */
#define BATCH		1024		/* flows per flow_table read */

void rates_init(struct rates *r)
{
	unsigned int i;

	memset(r, 0, sizeof(*r));
	baseline_init(&r->drops, RATES_ALPHA, RATES_K, DROPS_FLOOR,
		      RATES_WARMUP);
	/* Malformed packets are not bursty traffic: one second is enough. */
	r->drops.persist = 1;
	for (i = 0; i < AGENT_MAX_IFACES; i++)
		baseline_init(&r->volume[i], RATES_ALPHA, RATES_K,
			      VOLUME_FLOOR, RATES_WARMUP);
	pairvol_init(&r->pairs, RATES_ALPHA, RATES_K, PAIR_FLOOR,
		     RATES_WARMUP);
}

void rates_free(struct rates *r)
{
	free(r->batch_keys);
	free(r->batch_vals);
	r->batch_keys = r->batch_vals = NULL;
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
		.threshold = (uint32_t)fmin(4294967295.0, baseline_bar(b)),
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

/*
 * A flow counts for its pair where it enters the switch (XDP ingress):
 * with TC egress on too, the same packets have a second flow entry at the
 * destination's port, which must not count twice.
 */
static void add_flow(struct rates *r, const struct vnfsec_flow_key *k,
		     const struct vnfsec_flow_state *st)
{
	if (k->dir != VNFSEC_DIR_INGRESS)
		return;
	pairvol_add(&r->pairs, st->src_vnf, st->dst_vnf, st->bytes);
	if (st->dst_vnf && st->dst_vnf < VNFSEC_MAX_VNFS &&
	    st->src_vnf != st->dst_vnf) {
		r->intake[st->dst_vnf].packets += st->packets;
		r->intake[st->dst_vnf].bytes += st->bytes;
	}
}

static void intake_report(struct event_ctx *ev, const struct policy_vnf *v,
			  bool volume, uint64_t value, uint64_t limit)
{
	struct assessment a = {
		.heuristic = volume ?
			VNFSEC__HEURISTIC__HEURISTIC_VOLUME_ANOMALY :
			VNFSEC__HEURISTIC__HEURISTIC_RATE_LIMIT,
		.severity = 4,
		.count = value,
		.window_ms = 1000,
		.threshold = (uint32_t)(limit > UINT32_MAX ? UINT32_MAX : limit),
	};

	/* No source: many may feed a VNF; nothing is blocked for it. */
	snprintf(a.vnf_dst, sizeof(a.vnf_dst), "%s", v->name);
	a.time_unix_ms = clock_wall_ms();
	log_warn("%s into VNF %s: %llu %s in the last second (policy: %llu)",
		 volume ? "volume over the policy's" : "rate over the policy's",
		 v->name, (unsigned long long)value,
		 volume ? "bytes" : "packets", (unsigned long long)limit);
	events_submit(ev, &a, 0);
}

void rates_check_intake(struct rates *r, struct event_ctx *ev)
{
	unsigned int id;

	for (id = 1; id < VNFSEC_MAX_VNFS; id++) {
		struct vnf_intake *in = &r->intake[id];
		const struct policy_vnf *v;
		uint64_t pkts, bytes;
		bool over;

		if (!in->packets && !in->last_packets && !in->primed)
			continue;
		/* Flows evicted or expired take their counts: skip. */
		if (!in->primed || in->packets < in->last_packets ||
		    in->bytes < in->last_bytes) {
			in->primed = true;
			goto next;
		}
		pkts = in->packets - in->last_packets;
		bytes = in->bytes - in->last_bytes;
		v = agent_policy_vnf_by_id(ev, id);
		if (!v)
			goto next;
		over = v->thresholds.rate_pps && pkts > v->thresholds.rate_pps;
		if (over && !in->over_rate)
			intake_report(ev, v, false, pkts, v->thresholds.rate_pps);
		in->over_rate = over;
		over = v->thresholds.volume_bps &&
		       bytes > v->thresholds.volume_bps;
		if (over && !in->over_volume)
			intake_report(ev, v, true, bytes,
				      v->thresholds.volume_bps);
		in->over_volume = over;
next:
		in->last_packets = in->packets;
		in->last_bytes = in->bytes;
		in->packets = in->bytes = 0;
	}
}

static int read_flows_batch(struct rates *r, int fd)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u64 token[8];		/* opaque, at least a key's size */
	bool first = true;
	__u32 n, i;
	int ret;

	if (!r->batch_keys) {
		r->batch_keys = calloc(BATCH, sizeof(struct vnfsec_flow_key));
		r->batch_vals = calloc(BATCH, sizeof(struct vnfsec_flow_state));
		if (!r->batch_keys || !r->batch_vals)
			return -ENOMEM;
	}
	do {
		n = BATCH;
		ret = bpf_map_lookup_batch(fd, first ? NULL : token, token,
					   r->batch_keys, r->batch_vals, &n,
					   &opts);
		if (ret && errno != ENOENT)
			return -errno;
		for (i = 0; i < n; i++)
			add_flow(r, (struct vnfsec_flow_key *)r->batch_keys + i,
				 (struct vnfsec_flow_state *)r->batch_vals + i);
		first = false;
	} while (!ret);
	return 0;
}

static void read_flows_one_by_one(struct rates *r, int fd)
{
	struct vnfsec_flow_key key, next;
	struct vnfsec_flow_state st;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &st))
			add_flow(r, &key, &st);
	}
}

int flows_new_each(int fd, flow_fn fn, void *ctx)
{
	__u32 i, batch = 0, count = VNFSEC_FLOW_NEW_ENTRIES, *keys;
	struct vnfsec_flow_new *e;
	int n = 0;

	e = calloc(count, sizeof(*e));
	keys = calloc(count, sizeof(*keys));
	if (!e || !keys) {
		n = -ENOMEM;
		goto out;
	}
	/* All slots in one call; an old kernel without it: one by one. */
	if (bpf_map_lookup_batch(fd, NULL, &batch, keys, e, &count, NULL) &&
	    errno != ENOENT) {
		for (count = 0; count < VNFSEC_FLOW_NEW_ENTRIES; count++)
			if (bpf_map_lookup_elem(fd, &count, &e[count]))
				memset(&e[count], 0, sizeof(e[count]));
	}
	for (i = 0; i < count; i++) {
		if (!e[i].key.family)
			continue;	/* a free slot */
		fn(ctx, &e[i].key, &e[i].state);
		n++;
	}
out:
	free(keys);
	free(e);
	return n;
}

static void add_new_flow(void *ctx, const struct vnfsec_flow_key *k,
			 const struct vnfsec_flow_state *st)
{
	add_flow(ctx, k, st);
}

static void pair_anomaly(void *ctx, const struct pair_anomaly *pa)
{
	struct event_ctx *ev = ctx;
	struct assessment a = {
		.heuristic = VNFSEC__HEURISTIC__HEURISTIC_VOLUME_ANOMALY,
		.severity = 4,
		.count = pa->bytes,
		.window_ms = 1000,
		.threshold = pa->threshold,
	};

	if (fastpath_vnf_name(pa->src_vnf) && fastpath_vnf_name(pa->dst_vnf)) {
		snprintf(a.vnf_src, sizeof(a.vnf_src), "%s",
			 fastpath_vnf_name(pa->src_vnf));
		snprintf(a.vnf_dst, sizeof(a.vnf_dst), "%s",
			 fastpath_vnf_name(pa->dst_vnf));
	} else {
		snprintf(a.vnf_src, sizeof(a.vnf_src), "vnf%u", pa->src_vnf);
		snprintf(a.vnf_dst, sizeof(a.vnf_dst), "vnf%u", pa->dst_vnf);
	}
	log_warn("volume anomaly from %s to %s: %llu bytes/s (baseline %.0f/s, threshold %u)",
		 a.vnf_src, a.vnf_dst, (unsigned long long)pa->bytes, pa->mean,
		 pa->threshold);
	a.time_unix_ms = clock_wall_ms();
	events_submit(ev, &a, 0);
}

static void check_pairs(struct rates *r, const struct sensor *s,
			struct event_ctx *ev)
{
	int ret = -EOPNOTSUPP;

	unsigned int i;

	pairvol_begin(&r->pairs);
	if (!r->no_batch)
		ret = read_flows_batch(r, s->flow_table_fd);
	if (ret) {
		if (!r->no_batch)
			log_info("volume: flow_table batch read unavailable (%s); reading it flow by flow",
				 strerror(-ret));
		r->no_batch = true;
		pairvol_begin(&r->pairs);
		for (i = 0; i < VNFSEC_MAX_VNFS; i++)
			r->intake[i].packets = r->intake[i].bytes = 0;
		read_flows_one_by_one(r, s->flow_table_fd);
	}
	/* One-packet flows count too. */
	flows_new_each(s->flow_new_fd, add_new_flow, r);
	pairvol_end(&r->pairs, pair_anomaly, ev);
	rates_check_intake(r, ev);
}

void rates_tick(struct rates *r, const struct sensor *s, struct event_ctx *ev)
{
	check_drops(r, s, ev);
	check_volume(r, ev->cfg, ev);
	check_pairs(r, s, ev);
	r->primed = true;
}
