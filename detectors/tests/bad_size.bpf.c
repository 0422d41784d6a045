// SPDX-License-Identifier: GPL-2.0-only
/* Refused: more instructions than detectors may have (5000 additions). */
#include "detectors/detector.h"

char LICENSE[] SEC("license") = "GPL";

VNFSEC_DETECTOR(bad_size)

static __noinline int bad_size(struct vnfsec_det_ctx *dc)
{
	__u64 v;
	int i;

	if (!dc)
		return 0;
	v = dc->value;
	/* The asm keeps clang from folding them into one. */
#pragma unroll
	for (i = 0; i < 5000; i++)
		asm volatile("%0 += 1" : "+r"(v));
	dc->value = v;
	return 0;
}
