/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Volume anomaly per VNF pair: bytes/s from one VNF to another against a
 * learned EWMA baseline (baseline.h). The fast path counts bytes per flow
 * (flow_table), each flow tagged with its VNF pair; once a second the
 * agent sums the flows of each pair and judges the growth of that sum.
 *
 * A flow the LRU evicts takes its bytes with it, so a pair's sum may
 * shrink: that second is not judged and not learned. Eviction can only
 * hide volume, never invent it, so it may delay an alarm, never raise a
 * false one.
 */
#ifndef VNFSEC_PAIRVOL_H
#define VNFSEC_PAIRVOL_H

#include <stdbool.h>
#include <stdint.h>

#include "user/agent/baseline.h"

#define PAIRVOL_PAIRS_MAX	1024	/* pairs followed at once */

struct pair_volume {
	uint16_t src_vnf, dst_vnf;	/* fast-path VNF ids; 0: free slot */
	bool primed;			/* last_sum is from a previous tick */
	bool in_anomaly;		/* one report per episode */
	bool seen;			/* has flows this tick */
	uint64_t sum;			/* this tick's total of its flows */
	uint64_t last_sum;
	struct baseline b;
};

struct pairvol {
	double alpha, k, floor;
	unsigned int warmup;
	unsigned int nr;
	bool full_said;
	struct pair_volume pairs[PAIRVOL_PAIRS_MAX];
};

struct pair_anomaly {
	uint16_t src_vnf, dst_vnf;
	uint64_t bytes;			/* in the last second */
	double mean;			/* the baseline's */
	uint32_t threshold;		/* mean + k * stddev, bytes/s */
};

void pairvol_init(struct pairvol *t, double alpha, double k, double floor,
		  unsigned int warmup);
/* A new second: forget the sums. */
void pairvol_begin(struct pairvol *t);
/* One flow of @src_vnf -> @dst_vnf holding @bytes in all. */
void pairvol_add(struct pairvol *t, uint16_t src_vnf, uint16_t dst_vnf,
		 uint64_t bytes);
/*
 * Judge each pair's growth since the last second; @fn is called once per
 * anomaly episode. Pairs without flows any more are forgotten. Returns
 * the number of anomalies raised.
 */
unsigned int pairvol_end(struct pairvol *t,
			 void (*fn)(void *ctx, const struct pair_anomaly *a),
			 void *ctx);

#endif /* VNFSEC_PAIRVOL_H */
