// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnfsec fast path: the XDP sensor on every VNF-facing port.
 *
 * parse (Ethernet, IPv4, TCP/UDP) -> look up (blocklist_v4, flow_table)
 * -> verdict. A blocked source is dropped; everything else passes, is
 * accounted to its flow, and a new flow is announced once on the "events"
 * ring buffer. Every drop and every frame we could not parse has its own
 * counter. Layouts live in vnfsec_abi.h; maps are found by name (bpftool
 * prog loadall ... pinmaps DIR pins them as DIR/<name>), so no pinning
 * attribute here, and no .rodata/.bss: these four maps are all there is.
 *
 * Only helpers and map types present in Linux 6.1 are used.
 */
#include <linux/errno.h>

#include "bpf/parse.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VNFSEC_FLOW_TABLE_ENTRIES);
	__type(key, struct vnfsec_flow_key);
	__type(value, struct vnfsec_flow_state);
} flow_table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VNFSEC_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, VNFSEC_BLOCKLIST_V4_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vnfsec_lpm_v4_key);
	__type(value, struct vnfsec_block_entry);
} blocklist_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VNFSEC_EVENTS_BYTES);
} events SEC(".maps");

/* No counter to note beyond rx and the verdict. */
#define VNFSEC_CNT_NONE VNFSEC_CNT_MAX

static __always_inline void count_add(__u32 idx, __u64 val)
{
	__u64 *cnt = bpf_map_lookup_elem(&counters, &idx);

	/* Per-CPU slot: no other CPU writes it, a plain add is enough. */
	if (cnt)
		*cnt += val;
}

/* An entry with expires_ns in the past is ignored even if still present. */
static __always_inline int source_blocked(__be32 saddr)
{
	struct vnfsec_lpm_v4_key key = { .prefixlen = 32, .addr = saddr };
	struct vnfsec_block_entry *blk;

	blk = bpf_map_lookup_elem(&blocklist_v4, &key);
	if (!blk)
		return 0;
	return blk->expires_ns == 0 || blk->expires_ns > bpf_ktime_get_ns();
}

static __always_inline void flow_update(struct vnfsec_flow_state *st,
					__u64 now, __u32 pkt_len, __u8 flags)
{
	/* Another CPU may account the same flow: the sums must not lose. */
	st->last_seen_ns = now;
	__sync_fetch_and_add(&st->packets, 1);
	__sync_fetch_and_add(&st->bytes, pkt_len);
	/*
	 * No 8-bit atomic OR in BPF. Write only when a flag is new, so the
	 * steady state keeps the line shared; RSS keeps a flow on one CPU,
	 * so two CPUs racing on a flow's first FIN or RST is not expected.
	 */
	if ((st->tcp_flags_seen | flags) != st->tcp_flags_seen)
		st->tcp_flags_seen |= flags;
}

static __always_inline void report_new_flow(const struct vnfsec_flow_key *key,
					    __u64 now, __u32 pkt_len,
					    __u8 flags)
{
	struct vnfsec_new_flow_record *rec;

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		/* The agent is behind: say so, the flow itself is kept. */
		count_add(VNFSEC_CNT_RINGBUF_FULL, 1);
		return;
	}
	rec->hdr.type = VNFSEC_REC_NEW_FLOW;
	rec->hdr.version = VNFSEC_ABI_VERSION;
	rec->hdr.len = sizeof(*rec);
	rec->hdr.ts_ns = now;
	rec->key = *key;
	rec->tcp_flags = flags;
	/* Ring memory is reused, not zeroed: clear every spare byte. */
	rec->pad[0] = 0;
	rec->pad[1] = 0;
	rec->pad[2] = 0;
	rec->pkt_len = pkt_len;
	rec->reserved = 0;
	bpf_ringbuf_submit(rec, 0);
}

static __always_inline void flow_account(const struct vnfsec_flow_key *key,
					 __u32 pkt_len, __u8 flags)
{
	struct vnfsec_flow_state *st, new_st = {};
	__u64 now = bpf_ktime_get_ns();
	long err;

	st = bpf_map_lookup_elem(&flow_table, key);
	if (st) {
		flow_update(st, now, pkt_len, flags);
		return;
	}

	new_st.first_seen_ns = now;
	new_st.last_seen_ns = now;
	new_st.packets = 1;
	new_st.bytes = pkt_len;
	new_st.tcp_flags_seen = flags;
	err = bpf_map_update_elem(&flow_table, key, &new_st, BPF_NOEXIST);
	if (!err) {
		count_add(VNFSEC_CNT_NEW_FLOW, 1);
		report_new_flow(key, now, pkt_len, flags);
		return;
	}

	/* Another CPU inserted it between our lookup and update. */
	if (err == -EEXIST) {
		st = bpf_map_lookup_elem(&flow_table, key);
		if (st) {
			flow_update(st, now, pkt_len, flags);
			return;
		}
	}
	count_add(VNFSEC_CNT_FLOW_INSERT_FAIL, 1);
}

SEC("xdp")
int vnfsec_xdp(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct hdr_cursor nh = { .pos = data };
	__u32 pkt_len = data_end - data;
	__u32 note = VNFSEC_CNT_NONE;
	__u32 action = XDP_PASS;
	struct vnfsec_flow_key key;
	struct ethhdr *eth;
	struct iphdr *iph;
	struct tcphdr *th;
	struct udphdr *uh;
	__u8 flags = 0;
	int ret;

	ret = parse_ethhdr(&nh, data_end, &eth);
	if (ret < 0) {
		note = -ret;
		goto out;
	}
	if (ret != bpf_htons(ETH_P_IP)) {
		note = VNFSEC_CNT_NON_IP;
		goto out;
	}

	ret = parse_iphdr(&nh, data_end, &iph);
	if (ret < 0) {
		note = -ret;
		goto out;
	}

	/*
	 * Before the flow table: a flood from a blocked source must cost one
	 * LPM lookup and must not churn the LRU. Before the fragment check:
	 * fragmenting must not get a blocked source through.
	 */
	if (source_blocked(iph->saddr)) {
		action = XDP_DROP;
		note = VNFSEC_CNT_DROP_BLOCKLIST;
		goto out;
	}

	if (ip_is_later_fragment(iph)) {
		note = VNFSEC_CNT_IP_FRAGMENT;
		goto out;
	}

	__builtin_memset(&key, 0, sizeof(key));
	key.saddr = iph->saddr;
	key.daddr = iph->daddr;
	key.proto = iph->protocol;
	key.ifindex = ctx->ingress_ifindex;

	/* Other IP protocols (ICMP, ...) are flows keyed without ports. */
	if (iph->protocol == IPPROTO_TCP) {
		ret = parse_tcphdr(&nh, data_end, &th);
		if (ret < 0) {
			note = -ret;
			goto out;
		}
		key.sport = th->source;
		key.dport = th->dest;
		flags = tcp_flags(th);
	} else if (iph->protocol == IPPROTO_UDP) {
		ret = parse_udphdr(&nh, data_end, &uh);
		if (ret < 0) {
			note = -ret;
			goto out;
		}
		key.sport = uh->source;
		key.dport = uh->dest;
	}

	flow_account(&key, pkt_len, flags);

out:
	count_add(VNFSEC_CNT_RX_PACKETS, 1);
	count_add(VNFSEC_CNT_RX_BYTES, pkt_len);
	if (action == XDP_PASS)
		count_add(VNFSEC_CNT_PASS, 1);
	if (note != VNFSEC_CNT_NONE)
		count_add(note, 1);
	return action;
}
