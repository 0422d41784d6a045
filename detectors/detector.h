/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every detector includes (docs/detectors.md). A detector is one
 * function, int name(struct vnfsec_det_ctx *dc), declared with
 * VNFSEC_DETECTOR(name): the macro makes its XDP and SCHED_CLS entry
 * programs, which read the context the fast path left in "scratch", call
 * it, and hand back to the fast path (slot VNFSEC_DET_SLOT_FINISH), which
 * carries out what it asked. The maps below are the fast path's own: the
 * loader gives the detector their descriptors (same names, same layouts).
 *
 * Thresholds are "const volatile" globals: the loader sets them from the
 * signed bundle before the verifier sees the program.
 */
#ifndef VNFSEC_DETECTOR_H
#define VNFSEC_DETECTOR_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bpf/vnfsec_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vnfsec_scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, VNFSEC_DET_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} det_progs_xdp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, VNFSEC_DET_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} det_progs_tc SEC(".maps");

static __always_inline struct vnfsec_det_ctx *vnfsec_det_ctx(void)
{
	struct vnfsec_scratch *sc;
	__u32 zero = 0;

	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc || sc->det.version != VNFSEC_DET_CTX_VERSION)
		return (void *)0;
	return &sc->det;
}

/*
 * The packet passed the fast path's judgement before the detector ran:
 * should the hand-back fail, passing it is what the fast path decided.
 */
#define VNFSEC_DETECTOR(name)						\
static __noinline int name(struct vnfsec_det_ctx *dc);			\
SEC("xdp")								\
int name##_xdp(struct xdp_md *ctx)					\
{									\
	struct vnfsec_det_ctx *dc = vnfsec_det_ctx();			\
									\
	if (dc)								\
		name(dc);						\
	bpf_tail_call(ctx, &det_progs_xdp, VNFSEC_DET_SLOT_FINISH);	\
	return XDP_PASS;						\
}									\
SEC("tc")								\
int name##_tc(struct __sk_buff *skb)					\
{									\
	struct vnfsec_det_ctx *dc = vnfsec_det_ctx();			\
									\
	if (dc)								\
		name(dc);						\
	bpf_tail_call(skb, &det_progs_tc, VNFSEC_DET_SLOT_FINISH);	\
	return TC_ACT_OK;						\
}

#endif /* VNFSEC_DETECTOR_H */
