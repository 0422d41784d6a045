// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>

#include "user/agent/baseline.h"

void baseline_init(struct baseline *b, double alpha, double k, double floor,
		   unsigned int warmup)
{
	*b = (struct baseline){
		.alpha = alpha, .k = k, .floor = floor, .warmup = warmup,
	};
}

static void learn(struct baseline *b, double x)
{
	double diff = x - b->mean, incr = b->alpha * diff;

	if (!b->seen++) {
		b->mean = x;
		return;
	}
	b->mean += incr;
	b->var = (1 - b->alpha) * (b->var + diff * incr);
}

bool baseline_anomalous(struct baseline *b, double x)
{
	bool anomalous = b->seen >= b->warmup && x > b->floor &&
			 x > b->mean + b->k * sqrt(b->var);

	if (!anomalous)
		learn(b, x);
	return anomalous;
}
