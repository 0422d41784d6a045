// SPDX-License-Identifier: GPL-2.0-only
/* Refused: calls bpf_redirect(), a helper detectors may not call. */
#include "detectors/detector.h"

char LICENSE[] SEC("license") = "GPL";

VNFSEC_DETECTOR(bad_helper)

static __noinline int bad_helper(struct vnfsec_det_ctx *dc)
{
	if (!dc)
		return 0;
	dc->value = bpf_redirect(dc->key.ifindex, 0);
	return 0;
}
