// SPDX-License-Identifier: GPL-2.0-only
/*
 * GTP-U tunnel-endpoint (TEID) scanning on the S1-U/S5 pairs (class
 * "gtpu": G-PDUs on udp/2152). A source that sends G-PDUs for many
 * distinct TEIDs to one tunnel peer within window_ms is probing for live
 * tunnels (a peer knows a handful of TEIDs per source between its
 * bearers' set-ups). Per (source, peer), the distinct TEIDs are counted
 * in a 256-bit linear-counting bitmap (a lower bound of the distinct
 * values); at teids, TEID_EV_SCAN is raised once per window (value: the
 * count) and, with drop set, the source's G-PDUs to that peer are asked
 * dropped for the rest of the window.
 */
#include "detectors/detector.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 teids = 32;
const volatile __u32 window_ms = 10000;
const volatile __u32 drop = 1;

enum teid_event {
	TEID_EV_SCAN = 1,
};

struct teid_key {
	union vnfsec_addr src;
	union vnfsec_addr peer;
	__u8 family;
	__u8 pad[7];
};

struct teid_window {
	__u64 start_ns;
	__u64 bits[4];
	__u32 distinct;
	__u32 fired;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct teid_key);
	__type(value, struct teid_window);
} teid_windows SEC(".maps");

VNFSEC_DETECTOR(gtpu_teid_scan)

static __noinline int gtpu_teid_scan(struct vnfsec_det_ctx *dc)
{
	struct teid_window fresh = {}, *w;
	struct teid_key k = {};
	__u32 h, word;
	__u64 bit;

	if (!dc || !dc->outer_family)
		return 0;
	k.src = dc->outer_saddr;
	k.peer = dc->outer_daddr;
	k.family = dc->outer_family;
	w = bpf_map_lookup_elem(&teid_windows, &k);
	if (!w) {
		fresh.start_ns = dc->now_ns;
		bpf_map_update_elem(&teid_windows, &k, &fresh, BPF_NOEXIST);
		w = bpf_map_lookup_elem(&teid_windows, &k);
		if (!w)
			return 0;
	}
	if (dc->now_ns - w->start_ns >= (__u64)window_ms * 1000000ULL) {
		__builtin_memset(w, 0, sizeof(*w));
		w->start_ns = dc->now_ns;
	}
	/* Fibonacci hashing: sequential TEIDs spread over the bitmap. */
	h = (dc->teid * 2654435761U) >> 24;
	word = (h >> 6) & 3;
	bit = 1ULL << (h & 63);
	if (!(w->bits[word] & bit)) {
		w->bits[word] |= bit;
		w->distinct++;
	}
	if (w->distinct < teids)
		return 0;
	if (!w->fired) {
		w->fired = 1;
		dc->event = TEID_EV_SCAN;
		dc->value = w->distinct;
	}
	if (drop)
		dc->verdict = VNFSEC_DET_VERDICT_DROP;
	return 0;
}
