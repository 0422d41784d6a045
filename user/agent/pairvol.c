// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <string.h>

#include "user/agent/pairvol.h"
#include "user/common/log.h"

void pairvol_init(struct pairvol *t, double alpha, double k, double floor,
		  unsigned int warmup)
{
	memset(t, 0, sizeof(*t));
	t->alpha = alpha;
	t->k = k;
	t->floor = floor;
	t->warmup = warmup;
}

void pairvol_begin(struct pairvol *t)
{
	unsigned int i;

	for (i = 0; i < t->nr; i++) {
		t->pairs[i].sum = 0;
		t->pairs[i].seen = false;
	}
}

static struct pair_volume *find(struct pairvol *t, uint16_t src,
				uint16_t dst)
{
	unsigned int i;

	for (i = 0; i < t->nr; i++)
		if (t->pairs[i].src_vnf == src && t->pairs[i].dst_vnf == dst)
			return &t->pairs[i];
	if (t->nr == PAIRVOL_PAIRS_MAX) {
		if (!t->full_said)
			log_warn("volume: more than %d VNF pairs carry traffic; the others are not judged",
				 PAIRVOL_PAIRS_MAX);
		t->full_said = true;
		return NULL;
	}
	t->pairs[t->nr] = (struct pair_volume){ .src_vnf = src,
						.dst_vnf = dst };
	baseline_init(&t->pairs[t->nr].b, t->alpha, t->k, t->floor,
		      t->warmup);
	return &t->pairs[t->nr++];
}

void pairvol_add(struct pairvol *t, uint16_t src_vnf, uint16_t dst_vnf,
		 uint64_t bytes)
{
	struct pair_volume *p;

	if (!src_vnf || !dst_vnf || src_vnf == dst_vnf)
		return;
	p = find(t, src_vnf, dst_vnf);
	if (!p)
		return;
	p->sum += bytes;
	p->seen = true;
}

unsigned int pairvol_end(struct pairvol *t,
			 void (*fn)(void *ctx, const struct pair_anomaly *a),
			 void *ctx)
{
	unsigned int i = 0, raised = 0;

	while (i < t->nr) {
		struct pair_volume *p = &t->pairs[i];
		bool anomalous;
		uint64_t delta;

		if (!p->seen) {
			/* Its flows are gone: so is what was learned. */
			*p = t->pairs[--t->nr];
			continue;
		}
		i++;
		if (!p->primed || p->sum < p->last_sum) {
			p->primed = true;
			p->last_sum = p->sum;
			continue;
		}
		delta = p->sum - p->last_sum;
		p->last_sum = p->sum;
		anomalous = baseline_anomalous(&p->b, delta);
		if (anomalous && !p->in_anomaly && fn) {
			struct pair_anomaly a = {
				.src_vnf = p->src_vnf, .dst_vnf = p->dst_vnf,
				.bytes = delta, .mean = p->b.mean,
				.threshold = (uint32_t)fmin(4294967295.0,
							    baseline_bar(&p->b)),
			};

			fn(ctx, &a);
			raised++;
		}
		p->in_anomaly = anomalous;
	}
	return raised;
}
