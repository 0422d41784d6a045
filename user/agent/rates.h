/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Rate heuristics, sampled once a second against learned baselines:
 * - drop spike: packets the fast path found malformed or truncated (a
 *   fuzzing or evasion attempt, or a broken VNF);
 * - volume anomaly: bytes/s received on each VNF port (exfiltration, a
 *   flood that opens no new flows, a runaway VNF), and bytes/s between
 *   each pair of VNFs (pairvol.h), read from the fast path's flows.
 */
#ifndef VNFSEC_RATES_H
#define VNFSEC_RATES_H

#include "user/agent/agent.h"
#include "user/agent/baseline.h"
#include "user/agent/pairvol.h"

/*
 * What one VNF received in a second (its flows' packets and bytes, by
 * destination VNF), against its policy's rate_pps and volume_bps: fixed
 * limits the operator set or learn mode proposed, 0 off.
 */
struct vnf_intake {
	uint64_t packets, bytes;	/* this tick's sums */
	uint64_t last_packets, last_bytes;
	bool primed;			/* last_* are from a previous tick */
	bool over_rate, over_volume;	/* one report per episode */
};

struct rates {
	struct baseline drops;
	uint64_t last_drops;
	bool primed;
	struct baseline volume[AGENT_MAX_IFACES];
	uint64_t last_bytes[AGENT_MAX_IFACES];
	bool in_anomaly[AGENT_MAX_IFACES];	/* one report per episode */
	bool in_drop_spike;
	struct pairvol pairs;
	struct vnf_intake intake[VNFSEC_MAX_VNFS];
	/* flow_table read in batches of this many flows. */
	void *batch_keys, *batch_vals;
	bool no_batch;			/* the kernel has no batch lookup */
};

void rates_init(struct rates *r);
void rates_free(struct rates *r);
/* One sample: read counters and port statistics, raise assessments. */
void rates_tick(struct rates *r, const struct sensor *s,
		struct event_ctx *ev);

/*
 * Judge each VNF's intake of this tick against @ev's policy (rates_tick
 * calls it after summing the flows; tests call it directly).
 */
void rates_check_intake(struct rates *r, struct event_ctx *ev);

/* The malformed-packet counters of the fast path, summed. */
int rates_malformed(const struct sensor *s, uint64_t *out);

/*
 * The fast path's flows of one packet so far (flow_new, ABI 5): flow_table
 * holds a flow from its second packet on, so a reader of every flow reads
 * both. @fn is called for each; returns how many, or -errno.
 */
typedef void (*flow_fn)(void *ctx, const struct vnfsec_flow_key *k,
			const struct vnfsec_flow_state *st);
int flows_new_each(int flow_new_fd, flow_fn fn, void *ctx);

#endif /* VNFSEC_RATES_H */
