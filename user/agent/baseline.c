// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>

#include "user/agent/baseline.h"

void baseline_init(struct baseline *b, double alpha, double k, double floor,
		   unsigned int warmup)
{
	*b = (struct baseline){
		.alpha = alpha, .k = k, .floor = floor, .warmup = warmup,
		.persist = BASELINE_PERSIST,
	};
}

static void learn(struct baseline *b, double x)
{
	double diff = x - b->mean, incr = b->alpha * diff;
	double decay = exp2(-1.0 / BASELINE_PEAK_HALF_LIFE);

	b->peak = fmax(x, b->peak * decay);
	if (!b->seen++) {
		b->mean = x;
		return;
	}
	b->mean += incr;
	b->var = (1 - b->alpha) * (b->var + diff * incr);
}

double baseline_bar(const struct baseline *b)
{
	return fmax(b->floor, fmax(b->mean + b->k * sqrt(b->var),
				   BASELINE_PEAK_MARGIN * b->peak));
}

bool baseline_anomalous(struct baseline *b, double x)
{
	double bar = baseline_bar(b);

	if (b->seen < b->warmup || x <= bar) {
		/* A burst that ended before it persisted was normal. */
		if (b->run && b->run < b->persist)
			b->peak = fmax(b->peak, b->run_max);
		b->run = 0;
		b->run_max = 0;
		learn(b, x);
		return false;
	}
	b->run++;
	b->run_max = fmax(b->run_max, x);
	if (x > BASELINE_SURGE * bar && b->run < b->persist)
		b->run = b->persist;
	return b->run >= b->persist;
}
