/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A learned baseline of a rate (bytes/s on a VNF port, drops/s) and the
 * test of a new sample against it: an exponentially weighted mean and
 * variance (West's incremental form), a warm-up before it judges, and a
 * floor so that a quiet link's noise is never an anomaly.
 */
#ifndef VNFSEC_BASELINE_H
#define VNFSEC_BASELINE_H

#include <stdbool.h>
#include <stdint.h>

struct baseline {
	double alpha;		/* weight of a new sample, 0 < alpha < 1 */
	double k;		/* anomalous above mean + k * stddev */
	double floor;		/* and above this absolute value */
	unsigned int warmup;	/* samples learned before judging */
	unsigned int seen;
	double mean;
	double var;
};

void baseline_init(struct baseline *b, double alpha, double k, double floor,
		   unsigned int warmup);

/*
 * Judge @x against what was learned, then learn it, unless it was an
 * anomaly: an attack must not become the new normal.
 */
bool baseline_anomalous(struct baseline *b, double x);

#endif /* VNFSEC_BASELINE_H */
