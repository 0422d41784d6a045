/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A learned baseline of a rate (bytes/s on a VNF port or between two
 * VNFs, drops/s) and the test of a new sample against it. A sample is
 * above the baseline when it is above all three bars:
 *   - the floor, so that a quiet link's noise is never an anomaly;
 *   - mean + k * stddev of an exponentially weighted mean and variance
 *     (West's incremental form);
 *   - BASELINE_PEAK_MARGIN times the largest normal sample seen, that
 *     peak decaying with a half-life of BASELINE_PEAK_HALF_LIFE samples:
 *     a pair whose normal traffic comes in bursts (GTP-U) learns how
 *     high its bursts go, where a mean and deviation of mostly quiet
 *     seconds would call every burst an anomaly.
 * It is an anomaly once BASELINE_PERSIST samples in a row are above: a
 * burst shorter than that is normal, and its top is learned as a peak.
 * A sample above BASELINE_SURGE times the bar is one at once: no normal
 * burst jumps an order of magnitude past everything the pair has done.
 * Nothing is judged during the warm-up; an anomaly's samples are never
 * learned, so an attack does not become the new normal.
 */
#ifndef VNFSEC_BASELINE_H
#define VNFSEC_BASELINE_H

#include <stdbool.h>
#include <stdint.h>

#define BASELINE_PEAK_MARGIN	1.5
#define BASELINE_PEAK_HALF_LIFE	3600	/* samples: an hour at 1/s */
#define BASELINE_PERSIST	3	/* samples above in a row */
#define BASELINE_SURGE		10.0	/* times the bar: at once */

struct baseline {
	double alpha;		/* weight of a new sample, 0 < alpha < 1 */
	double k;		/* anomalous above mean + k * stddev */
	double floor;		/* and above this absolute value */
	unsigned int warmup;	/* samples learned before judging */
	unsigned int seen;
	double mean;
	double var;
	double peak;		/* largest normal sample, decaying */
	unsigned int persist;	/* BASELINE_PERSIST, or fewer */
	unsigned int run;	/* samples above in a row */
	double run_max;		/* the largest of them */
};

void baseline_init(struct baseline *b, double alpha, double k, double floor,
		   unsigned int warmup);

/* The bar a sample must pass (the highest of the three). */
double baseline_bar(const struct baseline *b);

/*
 * Judge @x against what was learned, then learn it unless it is above
 * the bar; true while an anomaly lasts (from its BASELINE_PERSIST-th
 * sample on).
 */
bool baseline_anomalous(struct baseline *b, double x);

#endif /* VNFSEC_BASELINE_H */
