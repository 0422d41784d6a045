// SPDX-License-Identifier: GPL-2.0-only
/* Refused by the verifier: reads the payload at an unbounded offset. */
#include "detectors/detector.h"

char LICENSE[] SEC("license") = "GPL";

VNFSEC_DETECTOR(bad_verifier)

static __noinline int bad_verifier(struct vnfsec_det_ctx *dc)
{
	if (!dc)
		return 0;
	dc->value = dc->payload[dc->pkt_len];
	return 0;
}
