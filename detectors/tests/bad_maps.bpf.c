// SPDX-License-Identifier: GPL-2.0-only
/* Refused: five maps of its own, one more than detectors may have. */
#include "detectors/detector.h"

char LICENSE[] SEC("license") = "GPL";

#define MAP(n)								\
struct {								\
	__uint(type, BPF_MAP_TYPE_ARRAY);				\
	__uint(max_entries, 1);						\
	__type(key, __u32);						\
	__type(value, __u64);						\
} n SEC(".maps")

MAP(m1);
MAP(m2);
MAP(m3);
MAP(m4);
MAP(m5);

VNFSEC_DETECTOR(bad_maps)

static __noinline int bad_maps(struct vnfsec_det_ctx *dc)
{
	__u32 zero = 0;
	__u64 *a = bpf_map_lookup_elem(&m1, &zero);
	__u64 *b = bpf_map_lookup_elem(&m2, &zero);
	__u64 *c = bpf_map_lookup_elem(&m3, &zero);
	__u64 *d = bpf_map_lookup_elem(&m4, &zero);
	__u64 *e = bpf_map_lookup_elem(&m5, &zero);

	if (!dc || !a || !b || !c || !d || !e)
		return 0;
	dc->value = *a + *b + *c + *d + *e;
	return 0;
}
