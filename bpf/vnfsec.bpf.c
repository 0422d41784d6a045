// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnfsec fast path: the sensor on every VNF-facing port.
 *
 *   vnfsec_xdp        XDP, ingress of a VNF port (packets from the VNF)
 *   vnfsec_ingress    TC clsact ingress of a VNF port: the same, for veths
 *   vnfsec_egress     TC clsact egress of a VNF port (packets to the VNF)
 *   vnfsec_lo         TC clsact egress of lo in a VNF namespace
 *
 * All four run process(): parse (Ethernet, VLAN/QinQ, IPv4/IPv6 with
 * options and extension headers, TCP/UDP/ICMP/ICMPv6, GTP-U's inner
 * packet) -> look up (flow_table; the policy maps only when the flow's
 * cached verdict is stale) -> detectors -> verdict. The established-flow
 * path is one hash lookup: the verdict computed for a flow's first packet
 * is cached in its entry and reused until config.policy_gen changes, the
 * cache's TTL ends, or an entry that decided it expires (vnfsec_abi.h).
 * A flow's first packet is kept in a slot of flow_new, not in flow_table:
 * only flows with a second packet pay the LRU's insert (flow_insert()).
 *
 * Every drop and every frame we could not parse has its own counter.
 * Layouts live in vnfsec_abi.h; maps are found by name (bpftool prog
 * loadall ... pinmaps DIR pins them as DIR/<name>), so no pinning
 * attribute here, and no .rodata/.bss: the maps below are all there is.
 *
 * Only helpers and map types present in Linux 6.1 are used.
 */
#include <linux/errno.h>
#include <linux/pkt_cls.h>

#include "bpf/parse.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VNFSEC_FLOW_TABLE_ENTRIES);
	__type(key, struct vnfsec_flow_key);
	__type(value, struct vnfsec_flow_state);
} flow_table SEC(".maps");

/* Flows of one packet so far: see vnfsec_abi.h. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNFSEC_FLOW_NEW_ENTRIES);
	__type(key, __u32);
	__type(value, struct vnfsec_flow_new);
} flow_new SEC(".maps");

/* Working space, per CPU: see vnfsec_abi.h. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vnfsec_scratch);
} scratch SEC(".maps");

/* Fragmented datagrams: their first fragment's verdict (vnfsec_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VNFSEC_FRAG_ENTRIES);
	__type(key, struct vnfsec_frag_key);
	__type(value, struct vnfsec_frag_state);
} frag_table SEC(".maps");

/* The replies flows that passed may have: see vnfsec_abi.h. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNFSEC_FLOW_REPLY_ENTRIES);
	__type(key, __u32);
	__type(value, struct vnfsec_flow_reply);
} flow_reply SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VNFSEC_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vnfsec_refused_budget);
} refused_budget SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vnfsec_refused_budget);
} unparsed_budget SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNFSEC_MAX_VNFS);
	__type(key, __u32);
	__type(value, struct vnfsec_vnf_policy);
} vnf_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VNFSEC_MAX_VNFS);
	__type(key, __u32);
	__type(value, struct vnfsec_vnf_stats);
} vnf_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vnfsec_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, VNFSEC_BLOCKLIST_V4_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vnfsec_lpm_v4_key);
	__type(value, struct vnfsec_block_entry);
} blocklist_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, VNFSEC_BLOCKLIST_V6_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vnfsec_lpm_v6_key);
	__type(value, struct vnfsec_block_entry);
} blocklist_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, VNFSEC_ALLOWLIST_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vnfsec_lpm_v4_key);
	__type(value, struct vnfsec_block_entry);
} allowlist_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, VNFSEC_ALLOWLIST_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vnfsec_lpm_v6_key);
	__type(value, struct vnfsec_block_entry);
} allowlist_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNFSEC_VNF_PORT_ENTRIES);
	__type(key, struct vnfsec_port_key);
	__type(value, struct vnfsec_vnf_id);
} vnf_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, VNFSEC_VNF_ADDR_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vnfsec_lpm_v6_key);
	__type(value, struct vnfsec_vnf_id);
} vnf_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNFSEC_PAIR_POLICY_ENTRIES);
	__type(key, struct vnfsec_pair_key);
	__type(value, struct vnfsec_pair_policy);
} vnf_pair_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNFSEC_FLOW_OVERRIDE_ENTRIES);
	__type(key, struct vnfsec_flow_key);
	__type(value, struct vnfsec_flow_override);
} flow_override SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNFSEC_MAX_VNFS);
	__type(key, __u16);
	__type(value, struct vnfsec_quarantine);
} quarantine SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VNFSEC_DETECTOR_ENTRIES);
	__type(key, struct vnfsec_det_key);
	__type(value, struct vnfsec_det_dst);
} det_dst SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNFSEC_DETECTOR_ENTRIES);
	__type(key, __u32);
	__type(value, struct vnfsec_det_scan);
} det_scan SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VNFSEC_DETECTOR_ENTRIES);
	__type(key, struct vnfsec_det_key);
	__type(value, struct vnfsec_det_rate);
} det_rate SEC(".maps");

/* Orders, not state: a HASH, so traffic can never evict one. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNFSEC_RATE_OVERRIDE_ENTRIES);
	__type(key, struct vnfsec_det_key);
	__type(value, struct vnfsec_rate_override);
} rate_override SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vnfsec_clock);
} clock SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VNFSEC_EVENTS_BYTES);
} events SEC(".maps");

/* No counter to note beyond rx and the verdict. */
#define VNFSEC_CNT_NONE VNFSEC_CNT_MAX
#define NS_PER_MS 1000000ULL
/* process(): 0 pass, 1 drop, this + class: pass, then its detector. */
#define VNFSEC_EXT_PENDING 2

/* Which program runs process(): decides the helpers and return codes. */
enum prog_kind {
	PROG_XDP,
	PROG_TC,
};

/* One packet as parsed. */
struct pkt {
	struct vnfsec_flow_key key;
	union vnfsec_addr outer_saddr;	/* GTP-U: the tunnel's addresses */
	union vnfsec_addr outer_daddr;
	__u32 len;
	__u32 teid;
	/*
	 * Packed to 112 bytes: on 6.1, whose verifier rounds each frame up to
	 * 32 bytes, 8 more took the detectors' call chain past 512.
	 */
	__u16 note;		/* counter of an address-only packet */
	__u8 outer_family;
	__u8 tcp_flags;
	__u8 addr_only;		/* later or tiny fragment: no L4 key */
	__u8 frag;		/* enum frag_kind */
	__u8 smac[6];		/* unparsed frames and fragments only */
	__be16 ethertype;	/* after the VLAN tags */
	__be16 outer_sport;	/* GTP-U: the tunnel's UDP source port */
	/*
	 * Fragments: the datagram's identification. TCP, not a fragment:
	 * the sequence number after this segment (its "end").
	 */
	__u32 frag_id;
	union {
		__u16 frag_off;	/* fragments: offset, 8-byte units */
		__u16 l4_off;	/* others: TCP/UDP payload's offset */
	};
	__u16 frag_len;		/* fragments: bytes of the datagram here */
} __attribute__((aligned(8)));
_Static_assert(sizeof(struct pkt) == 112, "struct pkt: see the comment");

enum frag_kind {
	FRAG_NONE = 0,
	FRAG_FIRST,		/* offset 0, more fragments */
	FRAG_LATER,		/* offset > 0 */
};	/* key copies in 8-byte words */

/* A verdict being made. */
struct decision {
	__u64 until;
	__u64 now;
	__u32 mirror_ifindex;
	__u8 sample;		/* enum vnfsec_sample_reason, 0: none */
	__u8 mode;		/* enum vnfsec_mode the verdict is carried out in */
	__u8 prev_flags;	/* the flow's flags before this evaluation */
	__u8 is_new;		/* the packet created its flow */
	__u8 refused;		/* new, refused by the pair rules, not stored */
	__u8 detect;		/* the detectors are to look at it */
	__u16 src_vnf;
	__u16 dst_vnf;
	__u8 verdict;		/* PASS or DROP; the mode applies later */
	__u8 cause;
	__u8 flags;		/* VNFSEC_FLOW_F_* */
	__u8 l7_index;		/* L7 pending: the packet's number, 0: none */
};

static __always_inline void count_add(__u32 idx, __u64 val)
{
	__u64 *cnt = bpf_map_lookup_elem(&counters, &idx);

	/* Per-CPU slot: no other CPU writes it, a plain add is enough. */
	if (cnt)
		*cnt += val;
}

static __always_inline __u64 ms_or(__u32 ms, __u32 def)
{
	return (__u64)(ms ? ms : def) * NS_PER_MS;
}

static __always_inline __u32 or_default(__u32 v, __u32 def)
{
	return v ? v : def;
}

/*
 * CLOCK_MONOTONIC at tick resolution, read once per jiffy on each CPU: the
 * coarse clock changes only on a tick, and a jiffy is a plain load. A
 * value cached in a jiffy is at most a tick older than the coarse clock
 * (the tick moves jiffies just before the clock), never ahead of it.
 */
static __always_inline __u64 clock_now(void)
{
	__u64 jiffies = bpf_jiffies64();
	struct vnfsec_clock *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&clock, &zero);
	if (!c)
		return bpf_ktime_get_coarse_ns();
	if (c->jiffies != jiffies) {
		c->jiffies = jiffies;
		c->now_ns = bpf_ktime_get_coarse_ns();
	}
	return c->now_ns;
}

/* An entry is live when it never expires or expires after now. */
static __always_inline int live(__u64 expires_ns, __u64 now, __u64 *until)
{
	if (!expires_ns)
		return 1;
	if (expires_ns <= now)
		return 0;
	/* The cached verdict must not outlive what decided it. */
	if (expires_ns < *until)
		*until = expires_ns;
	return 1;
}

/* ---- parsing ----------------------------------------------------------- */

enum parse_result {
	PARSED_FLOW = 0,	/* key complete */
	PARSED_ADDR,		/* addresses only; p->note says why */
	PARSED_GTPU,		/* cursor on a G-PDU's inner IP packet */
};

static __always_inline int l4_min_len(int proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return sizeof(struct tcphdr);
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 8;
	}
	return 0;
}

/* Bytes of the whole packet from the cursor on (p->len: skb->len at TC). */
static __always_inline __u32 room_of(const struct hdr_cursor *nh, void *data,
				     const struct pkt *p)
{
	__u32 off = nh->pos - data;

	return p->len > off ? p->len - off : 0;
}

/*
 * L3 and L4 of the outer packet (inner == 0) or of a G-PDU's inner packet.
 * Returns enum parse_result or a negative counter.
 */
static __always_inline int parse_l3l4(struct hdr_cursor *nh, void *data,
				      void *data_end, int h_proto,
				      struct pkt *p, const int inner)
{
	struct icmp_common *ich;
	struct ip6_ext_info xi = {};
	struct ipv6hdr *ip6h;
	struct iphdr *iph;
	struct tcphdr *th;
	struct udphdr *uh;
	int proto, ret, avail;

	if (h_proto == bpf_htons(ETH_P_IP)) {
		proto = parse_iphdr(nh, data_end, &iph, room_of(nh, data, p));
		if (proto < 0)
			return proto;
		p->key.family = VNFSEC_AF_INET;
		p->key.saddr.v4 = iph->saddr;
		p->key.daddr.v4 = iph->daddr;
		p->key.proto = proto;
		if (iph->ihl > 5)
			count_add(VNFSEC_CNT_IP_OPTIONS, 1);
		if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
			p->frag_id = iph->id;
			p->frag_off = bpf_ntohs(iph->frag_off) & IP_OFFSET;
			p->frag_len = bpf_ntohs(iph->tot_len) - iph->ihl * 4;
			p->frag = ip_is_later_fragment(iph) ? FRAG_LATER :
							      FRAG_FIRST;
			/*
			 * RFC 1858: a first fragment too short for the L4
			 * header, or a TCP fragment at offset 8 rewriting
			 * its flags, exists only to slip past filters.
			 */
			if (ip_is_later_fragment(iph)) {
				p->note = VNFSEC_CNT_IP_FRAGMENT;
				if (proto == IPPROTO_TCP &&
				    (iph->frag_off & bpf_htons(IP_OFFSET)) ==
				    bpf_htons(1))
					p->note = VNFSEC_CNT_TINY_FRAGMENT;
				p->addr_only = 1;
				return PARSED_ADDR;
			}
			avail = bpf_ntohs(iph->tot_len) - iph->ihl * 4;
			if (avail < l4_min_len(proto)) {
				p->note = VNFSEC_CNT_TINY_FRAGMENT;
				p->addr_only = 1;
				return PARSED_ADDR;
			}
		}
	} else if (h_proto == bpf_htons(ETH_P_IPV6)) {
		proto = parse_ip6hdr(nh, data_end, &ip6h, room_of(nh, data, p));
		if (proto < 0)
			return proto;
		p->key.family = VNFSEC_AF_INET6;
		__builtin_memcpy(&p->key.saddr, &ip6h->saddr, 16);
		__builtin_memcpy(&p->key.daddr, &ip6h->daddr, 16);
		if (!inner)
			count_add(VNFSEC_CNT_IPV6, 1);
		proto = skip_ip6_ext(nh, data, data_end, proto, &xi);
		if (proto < 0)
			return proto;
		p->key.proto = proto;
		if (xi.nr_ext)
			count_add(VNFSEC_CNT_IP6_EXT, 1);
		if (xi.later_fragment || xi.first_fragment) {
			/* The fragmentable part: after the fragment header. */
			__u32 ip6_end = (void *)(ip6h + 1) - data;

			/* Offsets, not pointers: see the first fragment's. */
			asm volatile("" : "+r"(ip6_end));
			avail = (int)bpf_ntohs(ip6h->payload_len) -
				(int)(xi.frag_end - ip6_end);
			p->frag_id = xi.frag_id;
			p->frag_off = xi.frag_off;
			p->frag_len = avail > 0 ? avail : 0;
			p->frag = xi.later_fragment ? FRAG_LATER : FRAG_FIRST;
		}
		if (xi.later_fragment) {
			p->note = VNFSEC_CNT_IP_FRAGMENT;
			p->addr_only = 1;
			return PARSED_ADDR;
		}
		if (xi.first_fragment) {
			/*
			 * Payload length counts from the end of ip6h. Scalars
			 * only: 6.1's verifier cannot bound a byte-swapped
			 * value added to a packet pointer.
			 */
			avail = (int)bpf_ntohs(ip6h->payload_len) -
				(int)(nh->pos - (void *)(ip6h + 1));
			if (avail < l4_min_len(proto)) {
				p->note = VNFSEC_CNT_TINY_FRAGMENT;
				p->addr_only = 1;
				return PARSED_ADDR;
			}
		}
	} else {
		return inner ? -VNFSEC_CNT_BAD_INNER : -VNFSEC_CNT_NON_IP;
	}
	cursor_forget(nh, data);

	if (proto == IPPROTO_TCP) {
		ret = parse_tcphdr(nh, data_end, &th);
		if (ret < 0)
			return ret;
		p->key.sport = th->source;
		p->key.dport = th->dest;
		p->tcp_flags = tcp_flags(th);
		if (!p->frag)
			p->l4_off = nh->pos - data;
		if (!p->frag)
			p->frag_id = bpf_ntohl(th->seq) + room_of(nh, data, p) +
				     !!(p->tcp_flags & VNFSEC_TCP_SYN) +
				     !!(p->tcp_flags & VNFSEC_TCP_FIN);
	} else if (proto == IPPROTO_UDP) {
		/* A first fragment's UDP length is the whole datagram's. */
		ret = parse_udphdr(nh, data_end, &uh,
				   p->frag ? 0xffff : room_of(nh, data, p));
		if (ret < 0)
			return ret;
		p->key.sport = uh->source;
		p->key.dport = uh->dest;
		if (!p->frag)
			p->l4_off = nh->pos - data;
		if (!inner && uh->dest == bpf_htons(VNFSEC_GTPU_PORT)) {
			ret = parse_gtpu(nh, data_end, &p->teid);
			if (ret < 0)
				return ret;
			if (ret == GTPU_G_PDU) {
				cursor_forget(nh, data);
				return PARSED_GTPU;
			}
			/* Signalling: tracked as the outer UDP flow. */
			count_add(VNFSEC_CNT_GTPU_OTHER, 1);
		}
	} else if ((proto == IPPROTO_ICMP &&
		    p->key.family == VNFSEC_AF_INET) ||
		   (proto == IPPROTO_ICMPV6 &&
		    p->key.family == VNFSEC_AF_INET6)) {
		ret = parse_icmphdr(nh, data_end, &ich);
		if (ret < 0)
			return ret;
		count_add(VNFSEC_CNT_ICMP, 1);
		p->key.dport = bpf_htons((__u16)ich->type << 8 | ich->code);
		if (icmp_is_echo(proto, ich->type))
			p->key.sport = ich->id;
	} else {
		count_add(VNFSEC_CNT_OTHER_L4, 1);
	}
	return PARSED_FLOW;
}

/* Returns 0 with p filled, or a counter explaining why not (pass). */
static __always_inline __u32 parse_packet(void *data, void *data_end,
					  struct pkt *p)
{
	struct hdr_cursor nh = { .pos = data };
	struct ethhdr *eth;
	__u8 *inner_ver;
	int h_proto, ret;

	h_proto = parse_ethhdr(&nh, data_end, &eth);
	if (h_proto < 0)
		return -h_proto;
	if (proto_is_vlan(h_proto)) {
		count_add(VNFSEC_CNT_VLAN, 1);
		h_proto = parse_vlans(&nh, data, data_end, h_proto,
				      &p->key.vlan);
		if (h_proto < 0)
			return -h_proto;
		cursor_forget(&nh, data);
	}
	p->ethertype = h_proto;

	ret = parse_l3l4(&nh, data, data_end, h_proto, p, 0);
	if (ret < 0)
		return -ret;
	if (ret != PARSED_GTPU)
		return 0;

	/* A G-PDU: the inner packet is the flow, the tunnel is context. */
	inner_ver = nh.pos;
	if ((void *)(inner_ver + 1) > data_end)
		return VNFSEC_CNT_BAD_INNER;
	p->outer_saddr = p->key.saddr;
	p->outer_daddr = p->key.daddr;
	p->outer_family = p->key.family;
	p->outer_sport = p->key.sport;
	__builtin_memset(&p->key.saddr, 0, sizeof(p->key.saddr));
	__builtin_memset(&p->key.daddr, 0, sizeof(p->key.daddr));
	p->key.sport = 0;
	p->key.dport = 0;
	p->key.encap = VNFSEC_ENCAP_GTPU;
	h_proto = (*inner_ver >> 4) == 4 ? bpf_htons(ETH_P_IP) :
		  (*inner_ver >> 4) == 6 ? bpf_htons(ETH_P_IPV6) : 0;
	ret = parse_l3l4(&nh, data, data_end, h_proto, p, 1);
	if (ret < 0)
		return VNFSEC_CNT_BAD_INNER;
	count_add(VNFSEC_CNT_GTPU, 1);
	return 0;
}

/* ---- policy ------------------------------------------------------------ */

static __always_inline int flow_key_eq(const struct vnfsec_flow_key *a,
				       const struct vnfsec_flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	/* Both 8-byte aligned: six word compares, no memcmp in BPF. */
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] &&
	       x[3] == y[3] && x[4] == y[4] && x[5] == y[5];
}


static __always_inline struct vnfsec_block_entry *
lpm_lookup(void *map_v4, void *map_v6, __u8 family,
	   const union vnfsec_addr *addr)
{
	if (family == VNFSEC_AF_INET) {
		struct vnfsec_lpm_v4_key k4 = { .prefixlen = 32,
						.addr = addr->v4 };

		return bpf_map_lookup_elem(map_v4, &k4);
	}
	struct vnfsec_lpm_v6_key k6;

	/* Field by field: an initializer list would become .rodata. */
	k6.prefixlen = 128;
	__builtin_memcpy(k6.addr, addr, 16);
	return bpf_map_lookup_elem(map_v6, &k6);
}

/* Is the source (and a GTP-U tunnel's source) in the list, live? */
static __always_inline int source_listed(void *map_v4, void *map_v6,
					 const struct pkt *p, __u64 now,
					 __u64 *until)
{
	struct vnfsec_block_entry *e;

	e = lpm_lookup(map_v4, map_v6, p->key.family, &p->key.saddr);
	if (e && live(e->expires_ns, now, until))
		return 1;
	if (p->key.encap == VNFSEC_ENCAP_GTPU) {
		e = lpm_lookup(map_v4, map_v6, p->outer_family,
			       &p->outer_saddr);
		if (e && live(e->expires_ns, now, until))
			return 1;
	}
	return 0;
}

static __always_inline __u16 port_vnf(__u32 ifindex, __u16 vlan)
{
	struct vnfsec_port_key k = { .ifindex = ifindex, .vlan = vlan };
	struct vnfsec_vnf_id *id;

	id = bpf_map_lookup_elem(&vnf_ports, &k);
	if (!id && vlan != VNFSEC_VLAN_LO) {
		k.vlan = VNFSEC_VLAN_ANY;
		id = bpf_map_lookup_elem(&vnf_ports, &k);
	}
	return id ? id->vnf : 0;
}

static __always_inline __u16 addr_vnf(__u8 family,
				      const union vnfsec_addr *addr)
{
	struct vnfsec_lpm_v6_key k;
	struct vnfsec_vnf_id *id;

	__builtin_memset(&k, 0, sizeof(k));
	k.prefixlen = 128;
	if (family == VNFSEC_AF_INET) {
		/* ::ffff:a.b.c.d */
		k.addr[10] = 0xff;
		k.addr[11] = 0xff;
		__builtin_memcpy(&k.addr[12], &addr->v4, 4);
	} else {
		__builtin_memcpy(k.addr, addr, 16);
	}
	id = bpf_map_lookup_elem(&vnf_addrs, &k);
	return id ? id->vnf : 0;
}

static __always_inline void resolve_vnfs(const struct pkt *p,
					 struct decision *d)
{
	int tunnel = p->key.encap == VNFSEC_ENCAP_GTPU;
	__u8 fam = tunnel ? p->outer_family : p->key.family;

	switch (p->key.dir) {
	case VNFSEC_DIR_INGRESS:
		d->src_vnf = port_vnf(p->key.ifindex, p->key.vlan);
		d->dst_vnf = addr_vnf(fam, tunnel ? &p->outer_daddr :
						    &p->key.daddr);
		break;
	case VNFSEC_DIR_EGRESS:
		d->dst_vnf = port_vnf(p->key.ifindex, p->key.vlan);
		d->src_vnf = addr_vnf(fam, tunnel ? &p->outer_saddr :
						    &p->key.saddr);
		break;
	default:
		d->src_vnf = port_vnf(p->key.ifindex, VNFSEC_VLAN_LO);
		d->dst_vnf = d->src_vnf;
		break;
	}
}

static __always_inline int vnf_quarantined(__u16 vnf, __u16 peer,
					   const struct vnfsec_config *cfg,
					   __u64 now, __u64 *until)
{
	struct vnfsec_quarantine *q;

	if (!vnf)
		return 0;
	q = bpf_map_lookup_elem(&quarantine, &vnf);
	if (!q || !live(q->expires_ns, now, until))
		return 0;
	/* Management keeps working, so the VNF can be examined and fixed. */
	return !(cfg->mgmt_vnf && peer == cfg->mgmt_vnf);
}

static __always_inline __u8 proto_bit(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return VNFSEC_PROTO_TCP;
	case IPPROTO_UDP:
		return VNFSEC_PROTO_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return VNFSEC_PROTO_ICMP;
	}
	return VNFSEC_PROTO_OTHER;
}

/*
 * Does the rule of src -> dst allow proto to port dport (network order)?
 * 0 no, 1 yes, 2 yes by a range that names an L7 protocol (F_L7).
 */
static __always_inline int pair_allows(__u16 src, __u16 dst, __u8 proto,
				       __be16 dport,
				       const struct vnfsec_config *cfg)
{
	struct vnfsec_pair_key k = { .src_vnf = src, .dst_vnf = dst };
	struct vnfsec_pair_policy *pol;
	__u8 bit = proto_bit(proto);
	int i, restricted = 0;
	__u16 port;

	pol = bpf_map_lookup_elem(&vnf_pair_policy, &k);
	if (!pol)
		return !cfg->pair_default;
	if (!(pol->protos & bit))
		return 0;
	if (!(bit & (VNFSEC_PROTO_TCP | VNFSEC_PROTO_UDP)))
		return 1;
	port = bpf_ntohs(dport);
	/* Only the ranges of this protocol; none of them: every port. */
#pragma unroll
	for (i = 0; i < VNFSEC_PAIR_MAX_PORTS; i++) {
		if (i >= pol->nr_ports)
			break;
		if (!(pol->ports[i].protos & bit))
			continue;
		restricted = 1;
		if (port >= pol->ports[i].first && port <= pol->ports[i].last)
			return pol->ports[i].l7 ? 2 : 1;
	}
	return !restricted;
}

static __always_inline void decide(struct decision *d, __u8 cause)
{
	d->verdict = VNFSEC_VERDICT_DROP;
	d->cause = cause;
}

/* A VNF's own mode, or the global one (VNF 0, or no own policy). */
static __always_inline __u8 vnf_mode(const struct vnfsec_config *cfg,
				     __u16 vnf)
{
	struct vnfsec_vnf_policy *vp;
	__u32 idx = vnf;

	if (!vnf)
		return cfg->mode;
	vp = bpf_map_lookup_elem(&vnf_policy, &idx);
	return vp && vp->own ? vp->mode : cfg->mode;
}

/* The strictest of the two ends' modes: see "vnf_policy". */
static __always_inline void set_mode(struct decision *d,
				     const struct vnfsec_config *cfg)
{
	__u8 a = vnf_mode(cfg, d->src_vnf), b = vnf_mode(cfg, d->dst_vnf);

	d->mode = a < b ? a : b;
}

/*
 * The key of the reply of key (reverse != 0), or key itself, reduced to
 * what both directions share: see "flow_reply". Returns 0 when a reply
 * has no key of its own (ICMP other than echo).
 */
static __always_inline int reply_key(const struct vnfsec_flow_key *key,
				     struct vnfsec_flow_key *rk, int reverse)
{
	__u8 type;

	*rk = *key;
	rk->ifindex = 0;
	rk->dir = 0;
	rk->vlan = 0;
	rk->pad = 0;
	if (!reverse)
		return 1;
	rk->saddr = key->daddr;
	rk->daddr = key->saddr;
	if (key->proto == IPPROTO_ICMP || key->proto == IPPROTO_ICMPV6) {
		/* Echo: same identifier (sport), the reply's type. */
		type = bpf_ntohs(key->dport) >> 8;
		if (key->proto == IPPROTO_ICMP && type == ICMP_ECHO)
			rk->dport = bpf_htons(ICMP_ECHOREPLY << 8);
		else if (key->proto == IPPROTO_ICMPV6 &&
			 type == ICMPV6_ECHO_REQUEST)
			rk->dport = bpf_htons(ICMPV6_ECHO_REPLY << 8);
		else
			return 0;
		return 1;
	}
	rk->sport = key->dport;
	rk->dport = key->sport;
	return 1;
}

/*
 * A flow that passed: its replies are expected. Its key's slot pair
 * (vnfsec_flow_reply_slot()): the slot that holds it already, else the
 * one that expires first (a free one first of all), so an expectation
 * is lost only when two others took its pair before its reply came. The
 * slot is written only when it does not say so already for long enough,
 * so a flow's verdict refreshes (every verdict_ttl_ms) mostly read it.
 */
static __always_inline void expect_reply(const struct vnfsec_flow_key *key,
					 const struct decision *d, __u64 now,
					 struct vnfsec_flow_key *rk)
{
	struct vnfsec_flow_reply *e, *o;
	__u32 slot;

	if (!reply_key(key, rk, 1))
		return;
	slot = vnfsec_flow_reply_slot(rk);
	e = bpf_map_lookup_elem(&flow_reply, &slot);
	slot ^= 1;
	o = bpf_map_lookup_elem(&flow_reply, &slot);
	if (!e || !o)
		return;
	/* Reads are hints: a torn one only costs a write or a slot. */
	if (!flow_key_eq(&e->key, rk) &&
	    (flow_key_eq(&o->key, rk) || o->expires_ns < e->expires_ns))
		e = o;
	if (e->expires_ns > now + VNFSEC_REPLY_TTL_NS / 2 &&
	    e->src_vnf == d->src_vnf && e->dst_vnf == d->dst_vnf &&
	    flow_key_eq(&e->key, rk))
		return;	/* a hint: a torn read only costs a write */
	bpf_spin_lock(&e->lock);
	e->key = *rk;
	e->src_vnf = d->src_vnf;
	e->dst_vnf = d->dst_vnf;
	e->expires_ns = now + VNFSEC_REPLY_TTL_NS;
	bpf_spin_unlock(&e->lock);
}

/* The request's source (our destination) exempt from the pair rules? */
static __always_inline int dest_allowlisted(const struct pkt *p, __u64 now)
{
	struct vnfsec_block_entry *e;
	__u64 until = ~0ULL;

	e = lpm_lookup(&allowlist_v4, &allowlist_v6, p->key.family,
		       &p->key.daddr);
	return e && live(e->expires_ns, now, &until);
}

/*
 * Is the flow its rules refuse the reply of one that passed the other
 * way? Its first packet needs the request's live entry in flow_reply;
 * once a reply, it stays one while the request's own rule (the other
 * direction's, to this flow's source port) still allows the request, or
 * its source is allowlisted, so a policy change that removes the
 * request's rule ends the replies too.
 */
static __always_inline int is_reply(const struct pkt *p,
				    const struct vnfsec_flow_key *key,
				    const struct vnfsec_config *cfg,
				    const struct decision *d, __u64 now,
				    struct vnfsec_flow_key *rk)
{
	struct vnfsec_flow_reply *e;
	__u32 slot;
	int found;

	/* A SYN opens a connection: it answers nothing. */
	if (p->key.proto == IPPROTO_TCP &&
	    (p->tcp_flags & (VNFSEC_TCP_SYN | VNFSEC_TCP_ACK)) ==
	    VNFSEC_TCP_SYN)
		return 0;
	if (d->prev_flags & VNFSEC_FLOW_F_REPLY)
		return pair_allows(d->dst_vnf, d->src_vnf, p->key.proto,
				   p->key.sport, cfg) ||
		       dest_allowlisted(p, now);
	reply_key(key, rk, 0);
	/* Either slot of its pair (see expect_reply). */
	slot = vnfsec_flow_reply_slot(rk);
	e = bpf_map_lookup_elem(&flow_reply, &slot);
	if (e && !flow_key_eq(&e->key, rk)) {
		slot ^= 1;
		e = bpf_map_lookup_elem(&flow_reply, &slot);
	}
	if (!e || !flow_key_eq(&e->key, rk))
		return 0;
	bpf_spin_lock(&e->lock);
	found = flow_key_eq(&e->key, rk) && e->expires_ns > now &&
		e->src_vnf == d->dst_vnf && e->dst_vnf == d->src_vnf;
	bpf_spin_unlock(&e->lock);
	return found;
}

/* Sources no binding is checked for: unspecified, IPv6 link-local. */
static __always_inline int source_unbound(__u8 family,
					  const union vnfsec_addr *a)
{
	if (family == VNFSEC_AF_INET)
		return !a->v4;
	if ((a->bytes[0] == 0xfe) && ((a->bytes[1] & 0xc0) == 0x80))
		return 1;
	return !(a->v6[0] | a->v6[1] | a->v6[2] | a->v6[3]);
}

/*
 * Entering from a port, does the packet claim a source that is not the
 * port's VNF's (or, from a port of no VNF, one that is a VNF's)? See
 * VNFSEC_VNF_F_BOUND.
 */
static __always_inline int source_spoofed(const struct pkt *p,
					  const struct decision *d)
{
	int tunnel = p->key.encap == VNFSEC_ENCAP_GTPU;
	const union vnfsec_addr *src = tunnel ? &p->outer_saddr :
					       &p->key.saddr;
	__u8 fam = tunnel ? p->outer_family : p->key.family;
	struct vnfsec_vnf_policy *vp;
	__u16 owner;
	__u32 idx;

	if (p->key.dir != VNFSEC_DIR_INGRESS || source_unbound(fam, src))
		return 0;
	owner = addr_vnf(fam, src);
	if (owner == d->src_vnf)
		return 0;
	if (!d->src_vnf)
		return 1;	/* a VNF's address from a port of no VNF */
	if (owner)
		return 1;	/* another VNF's address */
	idx = d->src_vnf;
	vp = bpf_map_lookup_elem(&vnf_policy, &idx);
	return vp && (vp->flags & VNFSEC_VNF_F_BOUND);
}

static __always_inline void report_spoofed(const struct pkt *p,
					   const struct decision *d,
					   __u64 now);
static __always_inline int unparsed_report_allowed(__u64 now);

/*
 * The policy maps, in precedence order: allowlist exempts from the
 * blocklist and the pair rules; a blocked source is dropped at the cost
 * of two LPM lookups (a flood from it must stay cheap); then the flow's
 * override, the quarantine of either VNF, the VNF pair rule of the
 * flow's direction, or else its being the reply of a flow that passed
 * the other way ("flow_reply"). A flow that passes expects its replies.
 * The mode is the strictest of the two VNFs'. key is the caller's stack
 * copy of p->key (6.1 takes no map key from a global's argument, and one
 * copy here took the call chain past 6.1's 512-byte stack); NULL for an
 * address-only packet.
 */
static __noinline void evaluate(const struct pkt *p,
				const struct vnfsec_flow_key *key,
				const struct vnfsec_config *cfg,
				__u64 now, struct decision *d)
{
	struct vnfsec_flow_override *ovr;
	struct vnfsec_scratch *sc;
	__u32 zero = 0;
	int allowed, rule;

	d->until = now + ms_or(cfg->verdict_ttl_ms, VNFSEC_DEF_VERDICT_TTL_MS);
	d->verdict = VNFSEC_VERDICT_PASS;
	d->cause = VNFSEC_CAUSE_NONE;
	d->flags = 0;
	d->src_vnf = 0;
	d->dst_vnf = 0;
	count_add(VNFSEC_CNT_VERDICT_EVAL, 1);

	allowed = source_listed(&allowlist_v4, &allowlist_v6, p, now,
				&d->until);
	if (allowed) {
		count_add(VNFSEC_CNT_ALLOWLISTED, 1);
		d->flags |= VNFSEC_FLOW_F_ALLOWED;
		d->cause = VNFSEC_CAUSE_ALLOWLIST;
	} else if (source_listed(&blocklist_v4, &blocklist_v6, p, now,
				 &d->until)) {
		decide(d, VNFSEC_CAUSE_BLOCKLIST);
		resolve_vnfs(p, d);
		set_mode(d, cfg);
		return;
	}
	resolve_vnfs(p, d);
	set_mode(d, cfg);
	/*
	 * The allowlist exempts a source from the rules, not from where it
	 * may enter: an allowlisted address claimed from another VNF's port
	 * is spoofed like any other.
	 */
	if (source_spoofed(p, d)) {
		d->flags &= ~VNFSEC_FLOW_F_ALLOWED;
		decide(d, VNFSEC_CAUSE_SPOOFED);
		if (unparsed_report_allowed(now))
			report_spoofed(p, d, now);
		return;
	}

	if (p->addr_only) {
		/* No ports: overrides and pair rules cannot apply. */
		if (p->note == VNFSEC_CNT_TINY_FRAGMENT && !allowed)
			decide(d, VNFSEC_CAUSE_TINY_FRAGMENT);
	} else if (key && cfg->nr_flow_overrides) {
		/* Only when there are any: a hash of 48 bytes per new flow. */
		ovr = bpf_map_lookup_elem(&flow_override, key);
		if (ovr && live(ovr->expires_ns, now, &d->until)) {
			if (ovr->actions & VNFSEC_OVERRIDE_MONITOR)
				d->flags |= VNFSEC_FLOW_F_MONITOR;
			if (ovr->actions & VNFSEC_OVERRIDE_MIRROR)
				d->flags |= VNFSEC_FLOW_F_MIRROR;
			if (ovr->actions & VNFSEC_OVERRIDE_DROP) {
				decide(d, VNFSEC_CAUSE_OVERRIDE);
				return;
			}
			/* The agent's nDPI judged it another protocol. */
			if (ovr->actions & VNFSEC_OVERRIDE_L7) {
				d->flags |= VNFSEC_FLOW_F_L7_DROP;
				decide(d, VNFSEC_CAUSE_L7);
				return;
			}
		}
	}
	/* Judged once: for as long as the flow lives (F_L7_DROP). */
	if (d->prev_flags & VNFSEC_FLOW_F_L7_DROP) {
		d->flags |= VNFSEC_FLOW_F_L7_DROP;
		decide(d, VNFSEC_CAUSE_L7);
		return;
	}
	if (vnf_quarantined(d->src_vnf, d->dst_vnf, cfg, now, &d->until) ||
	    vnf_quarantined(d->dst_vnf, d->src_vnf, cfg, now, &d->until)) {
		decide(d, VNFSEC_CAUSE_QUARANTINE);
		return;
	}
	/*
	 * A GTP-U tunnel's VNF pair is judged on its carrier (udp/2152):
	 * the flows inside are the subscribers', not the VNFs'.
	 */
	rule = allowed || p->addr_only ? 1 :
		pair_allows(d->src_vnf, d->dst_vnf,
			    p->key.encap == VNFSEC_ENCAP_GTPU ? IPPROTO_UDP :
								p->key.proto,
			    p->key.encap == VNFSEC_ENCAP_GTPU ?
				bpf_htons(VNFSEC_GTPU_PORT) : p->key.dport,
			    cfg);
	/* Its rule names an L7 protocol: its first packets are judged. */
	if (rule == 2 && p->key.encap == VNFSEC_ENCAP_NONE)
		d->flags |= VNFSEC_FLOW_F_L7;
	if (!rule) {
		sc = key ? bpf_map_lookup_elem(&scratch, &zero) : NULL;
		if (sc && is_reply(p, key, cfg, d, now, &sc->reply_key)) {
			d->flags |= VNFSEC_FLOW_F_REPLY;
			if (!(d->prev_flags & VNFSEC_FLOW_F_REPLY))
				count_add(VNFSEC_CNT_REPLY, 1);
		} else {
			decide(d, VNFSEC_CAUSE_PAIR_POLICY);
		}
	}
	/* A reply's reply is its request: nothing more to expect. */
	if (key && d->verdict == VNFSEC_VERDICT_PASS &&
	    !(d->flags & VNFSEC_FLOW_F_REPLY)) {
		sc = bpf_map_lookup_elem(&scratch, &zero);
		if (sc)
			expect_reply(key, d, now, &sc->reply_key);
	}
}

static __always_inline __u32 cause_counter(__u8 cause)
{
	switch (cause) {
	case VNFSEC_CAUSE_BLOCKLIST:
		return VNFSEC_CNT_DROP_BLOCKLIST;
	case VNFSEC_CAUSE_PAIR_POLICY:
		return VNFSEC_CNT_DROP_PAIR_POLICY;
	case VNFSEC_CAUSE_QUARANTINE:
		return VNFSEC_CNT_DROP_QUARANTINE;
	case VNFSEC_CAUSE_OVERRIDE:
		return VNFSEC_CNT_DROP_OVERRIDE;
	case VNFSEC_CAUSE_DETECTOR:
		return VNFSEC_CNT_DROP_DETECTOR;
	case VNFSEC_CAUSE_RATE_LIMIT:
		return VNFSEC_CNT_DROP_RATE_LIMIT;
	case VNFSEC_CAUSE_TINY_FRAGMENT:
		return VNFSEC_CNT_DROP_TINY_FRAGMENT;
	case VNFSEC_CAUSE_UNPARSED:
		return VNFSEC_CNT_DROP_UNPARSED;
	case VNFSEC_CAUSE_ETHERTYPE:
		return VNFSEC_CNT_DROP_ETHERTYPE;
	case VNFSEC_CAUSE_FRAGMENT_EVASION:
		return VNFSEC_CNT_DROP_FRAGMENT_EVASION;
	case VNFSEC_CAUSE_SPOOFED:
		return VNFSEC_CNT_DROP_SPOOFED;
	case VNFSEC_CAUSE_SEQ_WINDOW:
		return VNFSEC_CNT_DROP_SEQ_WINDOW;
	case VNFSEC_CAUSE_L7:
		return VNFSEC_CNT_DROP_L7;
	}
	return VNFSEC_CNT_NONE;
}

/* ---- ring buffer ------------------------------------------------------- */

static __always_inline void ringbuf_lost(__u32 cause_cnt)
{
	/* The agent is behind: say so and why; never silent. */
	count_add(VNFSEC_CNT_RINGBUF_FULL, 1);
	count_add(cause_cnt, 1);
}

static __noinline void report_new_flow(const struct pkt *p,
					    const struct decision *d, __u64 now)
{
	struct vnfsec_new_flow_record *rec;

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		ringbuf_lost(VNFSEC_CNT_RINGBUF_FULL_FLOW);
		return;
	}
	/* Ring memory is reused, not zeroed: write every byte. */
	rec->hdr.type = VNFSEC_REC_NEW_FLOW;
	rec->hdr.version = VNFSEC_ABI_VERSION;
	rec->hdr.len = sizeof(*rec);
	rec->hdr.ts_ns = now;
	rec->key = p->key;
	rec->src_vnf = d->src_vnf;
	rec->dst_vnf = d->dst_vnf;
	rec->pkt_len = p->len;
	rec->teid = p->teid;
	rec->tcp_flags = p->tcp_flags;
	rec->verdict = d->verdict;
	rec->cause = d->cause;
	rec->flags = d->flags;
	/* The tunnel it came in (alerts name it: outer tuple, TEID). */
	if (p->key.encap == VNFSEC_ENCAP_GTPU) {
		rec->outer_saddr = p->outer_saddr;
		rec->outer_daddr = p->outer_daddr;
		rec->outer_sport = p->outer_sport;
		rec->outer_dport = bpf_htons(VNFSEC_GTPU_PORT);
		rec->outer_family = p->outer_family;
	} else {
		__builtin_memset(&rec->outer_saddr, 0,
				 sizeof(rec->outer_saddr));
		__builtin_memset(&rec->outer_daddr, 0,
				 sizeof(rec->outer_daddr));
		rec->outer_sport = 0;
		rec->outer_dport = 0;
		rec->outer_family = 0;
	}
	rec->reserved[0] = 0;
	rec->reserved[1] = 0;
	rec->reserved[2] = 0;
	bpf_ringbuf_submit(rec, 0);
}

/* A detector that fired, as report_detector() writes it. */
struct det_fire {
	__u64 window_ns;
	__u32 count;
	__u32 other;
	__u32 threshold;
	__u8 det;
	__u8 dropping;
};

static __noinline void report_detector(const struct pkt *p,
				       const struct decision *d, __u64 now,
				       const struct det_fire *f)
{
	struct vnfsec_detector_record *rec;
	__u32 vnf = d->src_vnf;
	struct vnfsec_vnf_stats *vs;

	vs = bpf_map_lookup_elem(&vnf_stats, &vnf);
	if (vs)
		vs->events++;
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		ringbuf_lost(VNFSEC_CNT_RINGBUF_FULL_EVENT);
		return;
	}
	count_add(VNFSEC_CNT_DETECTOR_EVENT, 1);
	rec->hdr.type = VNFSEC_REC_DETECTOR;
	rec->hdr.version = VNFSEC_ABI_VERSION;
	rec->hdr.len = sizeof(*rec);
	rec->hdr.ts_ns = now;
	rec->key = p->key;
	rec->src_vnf = d->src_vnf;
	rec->dst_vnf = d->dst_vnf;
	rec->detector = f->det;
	rec->dropping = f->dropping;
	rec->reserved = 0;
	rec->count = f->count;
	rec->other = f->other;
	rec->threshold = f->threshold;
	rec->window_ms = f->window_ns / NS_PER_MS;
	/* Detector events are rare and urgent: wake the reader now. */
	bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
}

/* Fills f; report_detector() writes it. */
static __always_inline void fire(struct det_fire *f, __u8 det, int dropping,
				 __u32 count, __u32 other, __u32 threshold,
				 __u64 window_ns)
{
	f->det = det;
	f->dropping = dropping;
	f->count = count;
	f->other = other;
	f->threshold = threshold;
	f->window_ns = window_ns;
}

static __always_inline void report_sample(void *ctx, const int kind,
					  const struct pkt *p,
					  const struct decision *d, __u64 now,
					  __u8 reason, __u8 verdict)
{
	struct vnfsec_sample_record *rec;
	__u32 cap = p->len;
	__u64 unread;

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		ringbuf_lost(VNFSEC_CNT_RINGBUF_FULL_SAMPLE);
		return;
	}
	if (cap > VNFSEC_SAMPLE_BYTES)
		cap = VNFSEC_SAMPLE_BYTES;
	/*
	 * Parsed packets are >= ETH_HLEN, so cap is 14..128; the mask gives
	 * the verifier that range on the very register passed on.
	 */
	cap = ((cap - 1) & (VNFSEC_SAMPLE_BYTES - 1)) + 1;
	__builtin_memset(rec->data, 0, sizeof(rec->data));
	if (kind == PROG_XDP)
		bpf_xdp_load_bytes(ctx, 0, rec->data, cap);
	else
		bpf_skb_load_bytes(ctx, 0, rec->data, cap);
	count_add(VNFSEC_CNT_SAMPLE, 1);
	if (reason == VNFSEC_SAMPLE_L7)
		count_add(VNFSEC_CNT_L7_SAMPLE, 1);
	rec->hdr.type = VNFSEC_REC_SAMPLE;
	rec->hdr.version = VNFSEC_ABI_VERSION;
	rec->hdr.len = sizeof(*rec);
	rec->hdr.ts_ns = now;
	rec->key = p->key;
	rec->src_vnf = d->src_vnf;
	rec->dst_vnf = d->dst_vnf;
	rec->pkt_len = p->len;
	rec->cap_len = cap;
	rec->reason = reason;
	rec->verdict = verdict;
	rec->mode = d->mode;
	rec->flags = d->flags;
	rec->index = d->l7_index;
	rec->reserved = 0;
	/*
	 * Samples come in bulk and are not urgent: a wakeup per record costs
	 * the reader an epoll round trip and the writer an irq_work each
	 * (~0.3 M records/s all told). Wake the reader once, when the unread
	 * data crosses a batch; a reader that polls with a timeout collects
	 * a trickle below it. (The count includes this reserved record.)
	 */
	unread = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	bpf_ringbuf_submit(rec, unread >= VNFSEC_SAMPLE_WAKEUP_BYTES &&
			   unread < VNFSEC_SAMPLE_WAKEUP_BYTES + 2 * sizeof(*rec) ?
			   BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* ---- detectors --------------------------------------------------------- */

static __always_inline int detector_on(const struct vnfsec_config *cfg,
				       const struct decision *d, int det)
{
	return d->mode != VNFSEC_MODE_LEARN &&
	       !(cfg->detectors_off & (1U << det));
}

/* Drops on its own only in protect mode, with its bit in detectors_drop. */
static __always_inline int detector_drops(const struct vnfsec_config *cfg,
					  const struct decision *d, int det)
{
	return d->mode == VNFSEC_MODE_PROTECT &&
	       (cfg->detectors_drop & (1U << det)) &&
	       !(d->flags & VNFSEC_FLOW_F_ALLOWED);
}

static __always_inline void det_key_of(struct vnfsec_det_key *k, __u8 family,
				       const union vnfsec_addr *addr)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->addr = *addr;
	k->family = family;
}

static __always_inline int det_key_eq(const struct vnfsec_det_key *a,
				      const struct vnfsec_det_key *b)
{
	/* No memcmp in BPF. */
	return a->addr.v6[0] == b->addr.v6[0] &&
	       a->addr.v6[1] == b->addr.v6[1] &&
	       a->addr.v6[2] == b->addr.v6[2] &&
	       a->addr.v6[3] == b->addr.v6[3] && a->family == b->family;
}

/* A window that ended restarts; returns 1 when it did. */
static __always_inline int window_roll(__u64 *start, __u64 len, __u64 now)
{
	if (now - *start < len)
		return 0;
	*start = now;
	return 1;
}

/*
 * SYN flood and RST ratio, per destination; only TCP packets carrying SYN
 * or RST come here, so established traffic pays nothing. Returns 1 when
 * this packet is to be dropped.
 */
static __noinline int detect_dst(const struct pkt *p,
				 const struct vnfsec_config *cfg,
				 const struct decision *d, __u64 now)
{
	__u8 fl = p->tcp_flags;
	struct vnfsec_det_dst *st, zero = {};
	struct det_fire f = {};
	struct vnfsec_det_key k;
	__u64 win;
	__u32 min, ratio;
	int drop = 0;

	if (!detector_on(cfg, d, VNFSEC_DET_SYN_FLOOD) &&
	    !detector_on(cfg, d, VNFSEC_DET_RST_FLOOD))
		return 0;

	if ((fl & (VNFSEC_TCP_SYN | VNFSEC_TCP_ACK)) ==
	    (VNFSEC_TCP_SYN | VNFSEC_TCP_ACK)) {
		/* The destination answering: counts for it, never creates. */
		det_key_of(&k, p->key.family, &p->key.saddr);
		st = bpf_map_lookup_elem(&det_dst, &k);
		if (st)
			__sync_fetch_and_add(&st->synacks, 1);
		return 0;
	}

	det_key_of(&k, p->key.family, &p->key.daddr);
	st = bpf_map_lookup_elem(&det_dst, &k);
	if (!st) {
		zero.syn_window_ns = now;
		zero.rst_window_ns = now;
		bpf_map_update_elem(&det_dst, &k, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&det_dst, &k);
		if (!st)
			return 0;
	}

	if (fl & VNFSEC_TCP_SYN) {
		win = ms_or(cfg->syn_window_ms, VNFSEC_DEF_SYN_WINDOW_MS);
		if (window_roll(&st->syn_window_ns, win, now)) {
			st->syns = 0;
			st->synacks = 0;
			st->syn_fired = 0;
		}
		__sync_fetch_and_add(&st->syns, 1);
		__sync_fetch_and_add(&st->flows, 1);
		if (detector_on(cfg, d, VNFSEC_DET_SYN_FLOOD)) {
			min = or_default(cfg->syn_min, VNFSEC_DEF_SYN_MIN);
			ratio = or_default(cfg->syn_ratio,
					   VNFSEC_DEF_SYN_RATIO);
			if (!st->syn_fired && st->syns >= min &&
			    st->syns > (__u64)ratio * (st->synacks + 1)) {
				st->syn_fired = 1;
				fire(&f, VNFSEC_DET_SYN_FLOOD,
				     detector_drops(cfg, d,
						    VNFSEC_DET_SYN_FLOOD),
				     st->syns, st->synacks, min, win);
			}
			if (st->syn_fired &&
			    detector_drops(cfg, d, VNFSEC_DET_SYN_FLOOD))
				drop = 1;
		}
	}
	if ((fl & VNFSEC_TCP_RST) && detector_on(cfg, d, VNFSEC_DET_RST_FLOOD)) {
		win = ms_or(cfg->rst_window_ms, VNFSEC_DEF_RST_WINDOW_MS);
		if (window_roll(&st->rst_window_ns, win, now)) {
			st->rsts = 0;
			st->flows = 0;
			st->rst_fired = 0;
		}
		__sync_fetch_and_add(&st->rsts, 1);
		min = or_default(cfg->rst_min, VNFSEC_DEF_RST_MIN);
		ratio = or_default(cfg->rst_pct, VNFSEC_DEF_RST_PCT);
		if (!st->rst_fired && st->rsts >= min &&
		    (__u64)st->rsts * 100 >= (__u64)ratio * (st->flows + 1)) {
			st->rst_fired = 1;
			fire(&f, VNFSEC_DET_RST_FLOOD,
			     detector_drops(cfg, d, VNFSEC_DET_RST_FLOOD),
			     st->rsts, st->flows, min, win);
		}
		if (st->rst_fired &&
		    detector_drops(cfg, d, VNFSEC_DET_RST_FLOOD))
			drop = 1;
	}
	if (f.window_ns)
		report_detector(p, d, now, &f);
	return drop;
}

static __always_inline __u32 hash8(__u32 v)
{
	/* Fibonacci hashing: the top 8 bits index a 256-bit map. */
	return (v * 2654435761U) >> 24;
}

/*
 * Bits a 256-bit linear-counting map has set, on average, after t
 * distinct values: m(1 - e^(-t/m)), by its series (exact to a bit for
 * t <= 256). Thresholds are in distinct values; the map counts bits.
 */
static __always_inline __u32 bits_for(__u32 t)
{
	__u64 x = t > 256 ? 256 : t;

	return x - x * x / 512 + x * x * x / 393216 -
	       x * x * x * x / 402653184;
}

/* Sets bit idx; returns 1 when it was clear (a new distinct value). */
static __always_inline int bit_set(__u64 *bits, __u32 idx)
{
	__u64 mask = 1ULL << (idx & 63);
	__u32 w = (idx >> 6) & (VNFSEC_SCAN_BITS / 64 - 1);

	if (bits[w] & mask)
		return 0;
	bits[w] |= mask;
	return 1;
}

static __always_inline void scan_count(struct vnfsec_scan_window *w,
				       __u64 len, __u64 now, __u32 port_idx,
				       __u32 host_idx, int has_ports)
{
	if (now - w->start_ns >= len) {
		__builtin_memset(w, 0, sizeof(*w));
		w->start_ns = now;
	}
	if (has_ports && bit_set(w->port_bits, port_idx))
		w->ports++;
	if (bit_set(w->host_bits, host_idx))
		w->hosts++;
}

/*
 * Horizontal, vertical and slow scans, per source, on new flows only.
 * Returns 1 when the source's new flows are to be dropped.
 */
static __noinline int detect_scan(const struct pkt *p,
				       const struct vnfsec_config *cfg,
				       const struct decision *d, __u64 now)
{
	int port_on = detector_on(cfg, d, VNFSEC_DET_PORT_SCAN);
	int host_on = detector_on(cfg, d, VNFSEC_DET_HOST_SCAN);
	int slow_on = detector_on(cfg, d, VNFSEC_DET_SLOW_SCAN);
	struct vnfsec_det_scan *st;
	struct det_fire f = {};
	struct vnfsec_det_key k;
	__u32 ports_thr, hosts_thr, ports_bits, hosts_bits;
	__u32 port_idx, host_idx, a, slot;
	__u64 fast_len, slow_len;
	int has_ports, drop = 0;

	if (!port_on && !host_on && !slow_on)
		return 0;
	det_key_of(&k, p->key.family, &p->key.saddr);
	slot = (k.addr.v6[0] ^ k.addr.v6[1] ^ k.addr.v6[2] ^ k.addr.v6[3]) *
	       2654435761U;
	slot = (slot >> 16) & (VNFSEC_DETECTOR_ENTRIES - 1);
	st = bpf_map_lookup_elem(&det_scan, &slot);
	if (!st)
		return 0;
	if (!det_key_eq(&st->src, &k)) {
		/* Another source's slot: take it over. */
		__builtin_memset(st, 0, sizeof(*st));
		st->src = k;
	}

	ports_thr = or_default(cfg->scan_ports, VNFSEC_DEF_SCAN_PORTS);
	hosts_thr = or_default(cfg->scan_hosts, VNFSEC_DEF_SCAN_HOSTS);
	ports_bits = bits_for(ports_thr);
	hosts_bits = bits_for(hosts_thr);
	fast_len = ms_or(cfg->scan_window_ms, VNFSEC_DEF_SCAN_WINDOW_MS);
	slow_len = ms_or(cfg->slow_scan_window_ms,
			 VNFSEC_DEF_SLOW_SCAN_WINDOW_MS);
	has_ports = p->key.proto == IPPROTO_TCP || p->key.proto == IPPROTO_UDP;
	port_idx = hash8(p->key.dport);
	a = p->key.daddr.v6[0] ^ p->key.daddr.v6[1] ^ p->key.daddr.v6[2] ^
	    p->key.daddr.v6[3];
	host_idx = hash8(a);

	scan_count(&st->fast, fast_len, now, port_idx, host_idx, has_ports);
	scan_count(&st->slow, slow_len, now, port_idx, host_idx, has_ports);

	if (port_on && !st->fast.ports_fired && st->fast.ports >= ports_bits) {
		st->fast.ports_fired = 1;
		fire(&f, VNFSEC_DET_PORT_SCAN,
		     detector_drops(cfg, d, VNFSEC_DET_PORT_SCAN),
		     st->fast.ports, st->fast.hosts, ports_thr, fast_len);
	} else if (host_on && !st->fast.hosts_fired &&
		   st->fast.hosts >= hosts_bits) {
		st->fast.hosts_fired = 1;
		fire(&f, VNFSEC_DET_HOST_SCAN,
		     detector_drops(cfg, d, VNFSEC_DET_HOST_SCAN),
		     st->fast.hosts, st->fast.ports, hosts_thr, fast_len);
	} else if (slow_on && !st->slow.ports_fired &&
		   !st->fast.ports_fired && !st->fast.hosts_fired &&
		   (st->slow.ports >= ports_bits ||
		    st->slow.hosts >= hosts_bits)) {
		/* Slow: reached over the long window, never in a short one. */
		st->slow.ports_fired = 1;
		fire(&f, VNFSEC_DET_SLOW_SCAN,
		     detector_drops(cfg, d, VNFSEC_DET_SLOW_SCAN),
		     st->slow.ports, st->slow.hosts, ports_thr, slow_len);
	}
	if (f.window_ns)
		report_detector(p, d, now, &f);
	if ((st->fast.ports_fired &&
	     detector_drops(cfg, d, VNFSEC_DET_PORT_SCAN)) ||
	    (st->fast.hosts_fired &&
	     detector_drops(cfg, d, VNFSEC_DET_HOST_SCAN)) ||
	    (st->slow.ports_fired &&
	     detector_drops(cfg, d, VNFSEC_DET_SLOW_SCAN)))
		drop = 1;
	return drop;
}

/*
 * The source's own rate (rate_override) if it has a live one, else the
 * global one; 0 pps: no limit. The map is looked at only while the agent
 * says it holds entries, so sources pay nothing for it otherwise.
 */
static __always_inline __u32 rate_of(const struct vnfsec_config *cfg,
				     const struct vnfsec_det_key *k,
				     __u64 now, __u32 *burst, int *ordered)
{
	struct vnfsec_rate_override *o;

	if (cfg->nr_rate_overrides) {
		o = bpf_map_lookup_elem(&rate_override, k);
		if (o && o->pps && (!o->expires_ns || o->expires_ns > now)) {
			*burst = or_default(o->burst, o->pps);
			*ordered = 1;
			return o->pps;
		}
	}
	*burst = or_default(cfg->rate_burst, cfg->rate_pps);
	*ordered = 0;
	return cfg->rate_pps;
}

/*
 * Token bucket per source as GCRA: each packet advances the source's
 * theoretical arrival time (tat) by 1/rate; a packet arriving more than
 * burst/rate before its tat is over the limit. Returns 1 when it is
 * (protect mode drops it, monitor counts it would_drop).
 */
static __noinline int rate_limit(const struct pkt *p,
				      const struct vnfsec_config *cfg,
				      const struct decision *d, __u64 now)
{
	__u64 interval, depth, tat, win = VNFSEC_DEF_RATE_WINDOW_MS * NS_PER_MS;
	struct vnfsec_det_rate *st, zero_rate = {};
	struct det_fire f = {};
	struct vnfsec_det_key k;
	int on = detector_on(cfg, d, VNFSEC_DET_RATE_LIMIT);
	__u32 pps, burst;
	int ordered;

	if ((d->flags & VNFSEC_FLOW_F_ALLOWED) ||
	    d->mode == VNFSEC_MODE_LEARN)
		return 0;
	det_key_of(&k, p->key.family, &p->key.saddr);
	pps = rate_of(cfg, &k, now, &burst, &ordered);
	if (!pps)
		return 0;
	st = bpf_map_lookup_elem(&det_rate, &k);
	if (!st) {
		bpf_map_update_elem(&det_rate, &k, &zero_rate, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&det_rate, &k);
		if (!st)
			return 0;
	}
	interval = 1000000000ULL / pps;
	depth = (__u64)burst * interval;
	tat = st->tat_ns > now ? st->tat_ns : now;
	/*
	 * A bucket is never more than full of debt: when the source's rate
	 * changes (an order comes or ends) the old rate's debt is cut to the
	 * new one's depth; under one rate this changes no verdict.
	 */
	if (tat - now > depth)
		tat = now + depth;
	if (window_roll(&st->window_ns, win, now)) {
		st->limited = 0;
		st->fired = 0;
	}
	if (tat - now < depth) {
		st->tat_ns = tat + interval;
		return 0;
	}
	__sync_fetch_and_add(&st->limited, 1);
	/*
	 * A rate ordered for this source is an action carried out, not a
	 * detection: no event, or the agent's protect mode would turn the
	 * order into a block of the source. Its drops are counted.
	 */
	if (on && !ordered && !st->fired) {
		st->fired = 1;
		fire(&f, VNFSEC_DET_RATE_LIMIT,
		     d->mode == VNFSEC_MODE_PROTECT, st->limited, 0,
		     pps, win);
		report_detector(p, d, now, &f);
	}
	return 1;
}

/* ---- flows ------------------------------------------------------------- */

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

/* The sender's next sequence number, from a TCP segment not a fragment. */
static __always_inline void seq_track(struct vnfsec_flow_state *st,
				      const struct pkt *p)
{
	if (p->key.proto != IPPROTO_TCP || p->frag ||
	    (p->tcp_flags & VNFSEC_TCP_RST))
		return;
	/* Write only when it moves on: a pure ACK leaves the line shared. */
	if (!st->seq_valid || (__s32)(p->frag_id - st->next_seq) > 0) {
		st->next_seq = p->frag_id;
		st->seq_valid = 1;
	}
}

/* A RST or FIN its flow's sender cannot have sent (VNFSEC_SEQ_WINDOW). */
static __always_inline int seq_outside(const struct vnfsec_flow_state *st,
				       const struct pkt *p)
{
	__s32 delta;

	if (!(p->tcp_flags & (VNFSEC_TCP_RST | VNFSEC_TCP_FIN)) ||
	    p->key.proto != IPPROTO_TCP || p->frag || !st->seq_valid)
		return 0;
	delta = p->frag_id - st->next_seq;
	return delta > (__s32)VNFSEC_SEQ_WINDOW ||
	       delta < -(__s32)VNFSEC_SEQ_WINDOW;
}

/*
 * An L7-pending flow's first VNFSEC_L7_PACKETS packets are sampled:
 * @n is the packet's number in its flow (VNFSEC_FLOW_F_L7).
 */
static __always_inline void l7_pending(struct decision *d, __u64 n)
{
	if ((d->flags & VNFSEC_FLOW_F_L7) && n && n <= VNFSEC_L7_PACKETS)
		d->l7_index = n;
}

static __always_inline void cache_decision(struct vnfsec_flow_state *st,
					   const struct decision *d,
					   __u32 gen)
{
	st->verdict_until_ns = d->until;
	st->policy_gen = gen;
	st->src_vnf = d->src_vnf;
	st->dst_vnf = d->dst_vnf;
	st->verdict = d->verdict;
	st->cause = d->cause;
	st->flags = d->flags;
	st->mode = d->mode;
}

static __always_inline void decision_of(struct decision *d,
					const struct vnfsec_flow_state *st)
{
	d->src_vnf = st->src_vnf;
	d->dst_vnf = st->dst_vnf;
	d->verdict = st->verdict;
	d->cause = st->cause;
	d->flags = st->flags;
	d->mode = st->mode;
}

/*
 * A flow's second packet: its entry moves from flow_new into flow_table
 * (the LRU insert, paid by flows that have a second packet), with the
 * verdict cached at its first packet while that is still valid.
 */
static __always_inline void flow_promote(const struct pkt *p,
					 struct vnfsec_flow_key *key,
					 struct vnfsec_flow_state *st,
					 const struct vnfsec_config *cfg,
					 __u64 now, struct decision *d)
{
	struct vnfsec_flow_state *old;
	long err;

	if (st->policy_gen == cfg->policy_gen && now < st->verdict_until_ns) {
		decision_of(d, st);
	} else {
		d->prev_flags = st->flags;
		evaluate(p, key, cfg, now, d);
		cache_decision(st, d, cfg->policy_gen);
	}
	st->last_seen_ns = now;
	st->packets++;
	st->bytes += p->len;
	st->tcp_flags_seen |= p->tcp_flags;
	seq_track(st, p);
	l7_pending(d, st->packets);
	err = bpf_map_update_elem(&flow_table, key, st, BPF_NOEXIST);
	if (!err)
		return;
	/* Another CPU moved it between our lookup and update. */
	if (err == -EEXIST) {
		old = bpf_map_lookup_elem(&flow_table, key);
		if (old) {
			flow_update(old, now, p->len, p->tcp_flags);
			return;
		}
	}
	count_add(VNFSEC_CNT_FLOW_INSERT_FAIL, 1);
}

/*
 * Not in flow_table (or a SYN, which flow_table is not asked about): the
 * flow's next packet if flow_new holds it, else its first: its verdict,
 * and a slot in flow_new. A packet of a flow in flow_new moves it into
 * flow_table, unless it is a SYN again (a retransmission: the connection
 * is still not open). A packet that is to be dropped does not create a
 * flow: a flood of them cannot churn the tables. Inline: on 6.1 one more
 * call frame takes the chain past the 512-byte stack. Returns 1 when the
 * flow is new.
 */
static __always_inline int flow_insert(const struct pkt *p,
				       struct vnfsec_flow_key *key,
				       const struct vnfsec_config *cfg,
				       __u64 now, struct decision *d, int syn)
{
	struct vnfsec_flow_state *st;
	struct vnfsec_scratch *sc;
	struct vnfsec_flow_new *e;
	__u32 slot = vnfsec_flow_new_slot(key), zero = 0;
	int found, valid = 0;

	e = bpf_map_lookup_elem(&flow_new, &slot);
	/* The state being made: off the stack (vnfsec_abi.h, "scratch"). */
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!e || !sc)
		return 0;	/* an array always has the slot */
	st = &sc->state;

	/*
	 * Unlocked, a hint only: most packets here are first packets, which
	 * then take the lock once, to write; a match is checked again.
	 */
	if (flow_key_eq(&e->key, key)) {
		bpf_spin_lock(&e->lock);
		found = flow_key_eq(&e->key, key);
		if (found && syn) {
			valid = e->state.policy_gen == cfg->policy_gen &&
				now < e->state.verdict_until_ns;
			if (valid)
				decision_of(d, &e->state);
			e->state.last_seen_ns = now;
			e->state.packets++;
			e->state.bytes += p->len;
			e->state.tcp_flags_seen |= p->tcp_flags;
		} else if (found) {
			*st = e->state;
			/* Free: the flow is flow_table's from now on. */
			e->key.family = 0;
		}
		bpf_spin_unlock(&e->lock);
		if (found && syn && !valid) {
			evaluate(p, key, cfg, now, d);
			bpf_spin_lock(&e->lock);
			if (flow_key_eq(&e->key, key))
				cache_decision(&e->state, d, cfg->policy_gen);
			bpf_spin_unlock(&e->lock);
		} else if (found && !syn) {
			flow_promote(p, key, st, cfg, now, d);
		}
		if (found)
			return 0;
	}

	evaluate(p, key, cfg, now, d);
	/* Not stored: an attacker cannot fill the table with refused flows. */
	if (d->verdict == VNFSEC_VERDICT_DROP &&
	    d->mode == VNFSEC_MODE_PROTECT) {
		/* Blocked sources are known already; pair refusals are news. */
		d->refused = d->cause == VNFSEC_CAUSE_PAIR_POLICY;
		return 0;
	}

	__builtin_memset(st, 0, sizeof(*st));
	st->first_seen_ns = now;
	st->last_seen_ns = now;
	st->packets = 1;
	st->bytes = p->len;
	st->tcp_flags_seen = p->tcp_flags;
	cache_decision(st, d, cfg->policy_gen);
	st->teid = p->teid;
	seq_track(st, p);
	l7_pending(d, 1);

	bpf_spin_lock(&e->lock);
	found = flow_key_eq(&e->key, key);
	if (found) {
		/* Another CPU stored it since we looked: it is not new. */
		e->state.last_seen_ns = now;
		e->state.packets++;
		e->state.bytes += p->len;
		e->state.tcp_flags_seen |= p->tcp_flags;
	} else {
		/* An older one-packet flow's slot: it makes way. */
		e->key = *key;
		e->state = *st;
	}
	bpf_spin_unlock(&e->lock);
	return !found;
}

/*
 * Finds or creates the flow and its verdict. Returns 1 when the flow is
 * new.
 */
static __always_inline int flow_classify(const struct pkt *p,
					 const struct vnfsec_config *cfg,
					 __u64 now, struct decision *d)
{
	struct vnfsec_flow_state *st;
	/*
	 * A copy on the stack: p is a global function's argument, and 6.1's
	 * verifier takes no map key from such memory (later kernels do).
	 */
	struct vnfsec_flow_key key __attribute__((aligned(8))) = p->key;

	/*
	 * A SYN without ACK opens a connection: a new flow, or the same SYN
	 * again, never flow_table's (a tuple reused while its old connection
	 * is still there is a new connection). So a SYN flood or a scan does
	 * not pay flow_table's lookup either.
	 */
	int syn = p->key.proto == IPPROTO_TCP &&
		  (p->tcp_flags & (VNFSEC_TCP_SYN | VNFSEC_TCP_ACK)) ==
		  VNFSEC_TCP_SYN;

	/* One call site: flow_insert() is inline, its stack counted once. */
	st = syn ? NULL : bpf_map_lookup_elem(&flow_table, &key);
	if (!st)
		return flow_insert(p, &key, cfg, now, d, syn);
	if (st->policy_gen == cfg->policy_gen && now < st->verdict_until_ns) {
		decision_of(d, st);
	} else {
		d->prev_flags = st->flags;
		evaluate(p, &key, cfg, now, d);
		cache_decision(st, d, cfg->policy_gen);
	}
	if (seq_outside(st, p)) {
		/* Not the sender's: the flow's state stays as it was. */
		decide(d, VNFSEC_CAUSE_SEQ_WINDOW);
		return 0;
	}
	seq_track(st, p);
	/* One test on the hit path: only L7-pending flows go on. */
	if (d->flags & VNFSEC_FLOW_F_L7)
		l7_pending(d, st->packets + 1);
	flow_update(st, now, p->len, p->tcp_flags);
	return 0;
}

/*
 * A refused new flow is still told to the agent, which judges floods,
 * scans and violations from new-flow records; a budget per CPU and window
 * keeps a flood of refused packets from flooding the ring as well, and
 * what goes over it is counted.
 */
static __always_inline int refused_report_allowed(__u64 now)
{
	struct vnfsec_refused_budget *b;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&refused_budget, &zero);
	if (!b)
		return 0;
	if (now - b->window_start_ns >= VNFSEC_REFUSED_WINDOW_NS) {
		b->window_start_ns = now;
		b->left = VNFSEC_REFUSED_REPORTS;
	}
	if (!b->left) {
		count_add(VNFSEC_CNT_REFUSED_UNREPORTED, 1);
		return 0;
	}
	b->left--;
	return 1;
}

/* As refused_report_allowed(), for frames that were not classified. */
static __always_inline int unparsed_report_allowed(__u64 now)
{
	struct vnfsec_refused_budget *b;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&unparsed_budget, &zero);
	if (!b)
		return 0;
	if (now - b->window_start_ns >= VNFSEC_UNPARSED_WINDOW_NS) {
		b->window_start_ns = now;
		b->left = VNFSEC_UNPARSED_REPORTS;
	}
	if (!b->left) {
		count_add(VNFSEC_CNT_UNPARSED_UNREPORTED, 1);
		return 0;
	}
	b->left--;
	return 1;
}

static __always_inline void report_unparsed(const struct pkt *p,
					    const struct decision *d,
					    __u16 vnf, __u32 why)
{
	struct vnfsec_unparsed_record *rec;

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		ringbuf_lost(VNFSEC_CNT_RINGBUF_FULL_UNPARSED);
		return;
	}
	rec->hdr.type = VNFSEC_REC_UNPARSED;
	rec->hdr.version = VNFSEC_ABI_VERSION;
	rec->hdr.len = sizeof(*rec);
	rec->hdr.ts_ns = d->now;
	rec->ifindex = p->key.ifindex;
	rec->vlan = p->key.vlan;
	rec->ethertype = p->ethertype;
	__builtin_memcpy(rec->smac, p->smac, 6);
	rec->dir = p->key.dir;
	rec->family = p->key.family;
	rec->saddr = p->key.saddr;
	rec->vnf = vnf;
	rec->counter = why;
	rec->pkt_len = p->len;
	rec->cause = d->cause;
	rec->verdict = d->verdict != VNFSEC_VERDICT_DROP ? d->verdict :
		       d->mode == VNFSEC_MODE_PROTECT ? VNFSEC_VERDICT_DROP :
		       VNFSEC_VERDICT_WOULD_DROP;
	__builtin_memset(rec->reserved, 0, sizeof(rec->reserved));
	bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
}

static __always_inline __u8 ethertype_bit(__be16 ethertype)
{
	if (ethertype == bpf_htons(ETH_P_ARP))
		return VNFSEC_ETH_ARP;
	if (ethertype == bpf_htons(0x88cc))
		return VNFSEC_ETH_LLDP;
	return 0;
}

/*
 * A frame parse_packet() could not classify; why: the counter naming the
 * reason. Judged by the settings of the port's VNF: non-IP frames by its
 * EtherType rule, the others by its unparsed setting (vnfsec_abi.h).
 * Global for the same reason as vnfsec_handle(). Fills d.
 */
__noinline int vnfsec_unparsed(struct pkt *p, struct decision *d, __u32 why)
{
	struct vnfsec_vnf_policy *vp;
	struct vnfsec_config *cfg;
	__u8 unparsed, ethertypes, bit;
	__u32 zero = 0, idx;
	__u16 vnf;

	if (!p || !d)
		return 0;
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return 0;
	d->now = clock_now();
	vnf = port_vnf(p->key.ifindex, p->key.dir == VNFSEC_DIR_LO ?
			VNFSEC_VLAN_LO : p->key.vlan);
	if (p->key.dir == VNFSEC_DIR_EGRESS)
		d->dst_vnf = vnf;
	else
		d->src_vnf = vnf;
	d->mode = cfg->mode;
	unparsed = cfg->unparsed;
	ethertypes = cfg->ethertypes;
	idx = vnf;
	vp = vnf ? bpf_map_lookup_elem(&vnf_policy, &idx) : NULL;
	if (vp && vp->own) {
		d->mode = vp->mode;
		unparsed = vp->unparsed;
		ethertypes = vp->ethertypes;
	}
	if (why == VNFSEC_CNT_NON_IP) {
		bit = ethertype_bit(p->ethertype);
		if ((ethertypes & VNFSEC_ETH_ANY) || (bit && (ethertypes & bit)))
			return 0;	/* a rule allows it: normal traffic */
		decide(d, VNFSEC_CAUSE_ETHERTYPE);
	} else if (unparsed == VNFSEC_UNPARSED_PASS) {
		d->cause = VNFSEC_CAUSE_UNPARSED;
	} else {
		decide(d, VNFSEC_CAUSE_UNPARSED);
	}
	if (unparsed_report_allowed(d->now))
		report_unparsed(p, d, vnf, why);
	return 0;
}

/* A spoofed source: the claimed address and the port it came in on. */
static __always_inline void report_spoofed(const struct pkt *p,
					   const struct decision *d,
					   __u64 now)
{
	struct vnfsec_unparsed_record *rec;

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		ringbuf_lost(VNFSEC_CNT_RINGBUF_FULL_UNPARSED);
		return;
	}
	__builtin_memset(rec, 0, sizeof(*rec));
	rec->hdr.type = VNFSEC_REC_UNPARSED;
	rec->hdr.version = VNFSEC_ABI_VERSION;
	rec->hdr.len = sizeof(*rec);
	rec->hdr.ts_ns = now;
	rec->ifindex = p->key.ifindex;
	rec->vlan = p->key.vlan;
	rec->ethertype = p->key.family == VNFSEC_AF_INET ?
			 bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
	rec->dir = p->key.dir;
	if (p->key.encap == VNFSEC_ENCAP_GTPU) {
		rec->family = p->outer_family;
		rec->saddr = p->outer_saddr;
	} else {
		rec->family = p->key.family;
		rec->saddr = p->key.saddr;
	}
	rec->vnf = d->src_vnf;
	rec->counter = VNFSEC_CNT_DROP_SPOOFED;
	rec->pkt_len = p->len;
	rec->cause = VNFSEC_CAUSE_SPOOFED;
	rec->verdict = d->mode == VNFSEC_MODE_PROTECT ? VNFSEC_VERDICT_DROP :
		       VNFSEC_VERDICT_WOULD_DROP;
	bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
}

/* ---- fragments --------------------------------------------------------- */

static __always_inline void frag_key_of(const struct pkt *p,
					struct vnfsec_frag_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->saddr = p->key.saddr;
	k->daddr = p->key.daddr;
	k->id = p->frag_id;
	k->proto = p->key.proto;
	k->family = p->key.family;
}

/* Bits of frag_state.seen for the 8-byte units [off, off + len). */
static __always_inline __u64 units_mask(__u32 off, __u32 len)
{
	__u32 end = off + (len + 7) / 8, n;

	if (off >= VNFSEC_FRAG_TRACKED_UNITS || end <= off)
		return 0;
	if (end > VNFSEC_FRAG_TRACKED_UNITS)
		end = VNFSEC_FRAG_TRACKED_UNITS;
	n = end - off;
	return (n >= 64 ? ~0ULL : (1ULL << n) - 1) << off;
}

static __always_inline __u16 port_vnf_of(const struct pkt *p,
					 const struct decision *d)
{
	return p->key.dir == VNFSEC_DIR_EGRESS ? d->dst_vnf : d->src_vnf;
}

/*
 * A first fragment, judged as its flow's packet (d): its datagram's entry.
 * A second first fragment of a datagram is an evasion.
 */
static __always_inline void frag_first(const struct pkt *p, struct decision *d,
				       struct vnfsec_frag_key *k)
{
	struct vnfsec_frag_state *e, st;

	frag_key_of(p, k);
	e = bpf_map_lookup_elem(&frag_table, k);
	if (e && e->expires_ns > d->now) {
		e->evasion = 1;
		count_add(VNFSEC_CNT_FRAG_OVERLAP, 1);
		decide(d, VNFSEC_CAUSE_FRAGMENT_EVASION);
		if (unparsed_report_allowed(d->now))
			report_unparsed(p, d, port_vnf_of(p, d),
					VNFSEC_CNT_FRAG_OVERLAP);
		return;
	}
	st.expires_ns = d->now + VNFSEC_FRAG_TTL_NS;
	st.seen = units_mask(0, p->frag_len);
	st.src_vnf = d->src_vnf;
	st.dst_vnf = d->dst_vnf;
	st.verdict = d->verdict;
	st.cause = d->cause;
	st.mode = d->mode;
	st.evasion = 0;
	if (bpf_map_update_elem(&frag_table, k, &st, BPF_ANY))
		count_add(VNFSEC_CNT_FRAG_INSERT_FAIL, 1);
}

/*
 * A later fragment: its first fragment's verdict, or, without one, the
 * unparsed verdict (no L4 header was ever judged for it).
 */
static __always_inline void frag_later(const struct pkt *p,
				       const struct vnfsec_config *cfg,
				       struct decision *d,
				       struct vnfsec_frag_key *k)
{
	struct vnfsec_frag_state *e;
	struct vnfsec_vnf_policy *vp;
	__u64 mask;
	__u32 why;
	__u32 idx;

	frag_key_of(p, k);
	e = bpf_map_lookup_elem(&frag_table, k);
	if (!e || e->expires_ns <= d->now) {
		/* What its addresses decide (a blocked source), else... */
		evaluate(p, NULL, cfg, d->now, d);
		if (d->verdict == VNFSEC_VERDICT_DROP ||
		    (d->flags & VNFSEC_FLOW_F_ALLOWED))
			return;
		/* ...the unparsed verdict: no L4 header was judged for it. */
		d->cause = VNFSEC_CAUSE_UNPARSED;
		idx = port_vnf_of(p, d);
		vp = idx ? bpf_map_lookup_elem(&vnf_policy, &idx) : NULL;
		if ((vp && vp->own ? vp->unparsed : cfg->unparsed) ==
		    VNFSEC_UNPARSED_DROP)
			decide(d, VNFSEC_CAUSE_UNPARSED);
		why = VNFSEC_CNT_FRAG_NO_STATE;
		count_add(why, 1);
		goto report;
	}
	d->src_vnf = e->src_vnf;
	d->dst_vnf = e->dst_vnf;
	d->mode = e->mode;
	d->flags = 0;
	mask = units_mask(p->frag_off, p->frag_len);
	if (e->evasion || (e->seen & mask)) {
		if (!e->evasion)
			count_add(VNFSEC_CNT_FRAG_OVERLAP, 1);
		e->evasion = 1;
		decide(d, VNFSEC_CAUSE_FRAGMENT_EVASION);
		why = VNFSEC_CNT_FRAG_OVERLAP;
		goto report;
	}
	if ((e->seen | mask) != e->seen)
		e->seen |= mask;
	d->verdict = e->verdict;
	d->cause = e->cause;
	return;
report:
	if (unparsed_report_allowed(d->now))
		report_unparsed(p, d, port_vnf_of(p, d), why);
}

/*
 * Fragments after vnfsec_handle(): a first fragment's verdict kept for
 * its datagram, a later one's taken from it. Global, called from the
 * program itself: under vnfsec_handle() its frame took the call chain
 * past the 512-byte stack.
 */
__noinline int vnfsec_frag(struct pkt *p, struct decision *d)
{
	struct vnfsec_config *cfg;
	struct vnfsec_scratch *sc;
	__u32 zero = 0;

	if (!p || !d)
		return 0;
	cfg = bpf_map_lookup_elem(&config, &zero);
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!cfg || !sc)
		return 0;
	if (p->frag == FRAG_FIRST && !p->addr_only)
		frag_first(p, d, &sc->frag_key);
	else if (p->frag == FRAG_LATER &&
		 p->note != VNFSEC_CNT_TINY_FRAGMENT)
		frag_later(p, cfg, d, &sc->frag_key);
	return 0;
}

/* ---- the program ------------------------------------------------------- */

/*
 * Everything after parsing, for every program: a global function, so the
 * verifier checks it once on its own rather than once per way the parser
 * can end (which multiplies past its instruction limit). It sees no packet
 * pointer: p holds all it needs. Returns the verdict (enum vnfsec_verdict)
 * with d filled: the flow's VNFs and flags, the cause of a drop, whether
 * to sample.
 */
__noinline int vnfsec_handle(struct pkt *p, struct decision *d)
{
	struct vnfsec_config *cfg;
	__u32 zero = 0, vnf;
	struct vnfsec_vnf_stats *vs;

	if (!p || !d)
		return 0;
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return 0;	/* an array always has entry 0 */

	/* CLOCK_MONOTONIC at tick resolution: the precise clock is a fifth
	 * of the hit path's cost, and flow times need no better. */
	d->now = clock_now();
	d->mirror_ifindex = cfg->mirror_ifindex;
	d->mode = cfg->mode;

	if (p->addr_only && p->frag == FRAG_LATER &&
	    p->note != VNFSEC_CNT_TINY_FRAGMENT) {
		/* No L4 header: vnfsec_frag() judges it. */
	} else if (p->addr_only) {
		/* Tiny fragments (RFC 1858): address policy, never a flow. */
		evaluate(p, NULL, cfg, d->now, d);
		if (d->cause == VNFSEC_CAUSE_TINY_FRAGMENT &&
		    unparsed_report_allowed(d->now))
			report_unparsed(p, d, port_vnf_of(p, d),
					VNFSEC_CNT_TINY_FRAGMENT);
	} else {
		d->is_new = flow_classify(p, cfg, d->now, d);
		/* Detectors: only what can fire pays for them. */
		d->detect = d->verdict != VNFSEC_VERDICT_DROP &&
			    (d->is_new || cfg->rate_pps ||
			     cfg->nr_rate_overrides ||
			     (p->key.proto == IPPROTO_TCP &&
			      (p->tcp_flags &
			       (VNFSEC_TCP_SYN | VNFSEC_TCP_RST))));
	}
	if (d->is_new) {
		count_add(VNFSEC_CNT_NEW_FLOW, 1);
		vnf = d->src_vnf;
		vs = bpf_map_lookup_elem(&vnf_stats, &vnf);
		if (vs)
			vs->new_flows++;
		report_new_flow(p, d, d->now);
	} else if (d->refused && refused_report_allowed(d->now)) {
		report_new_flow(p, d, d->now);
	} else if (d->cause == VNFSEC_CAUSE_SEQ_WINDOW &&
		   unparsed_report_allowed(d->now)) {
		/* A cut the flow's sender did not make: whose port, MAC. */
		report_unparsed(p, d, port_vnf_of(p, d),
				VNFSEC_CNT_DROP_SEQ_WINDOW);
	}

	if (d->flags & (VNFSEC_FLOW_F_MONITOR | VNFSEC_FLOW_F_MIRROR))
		d->sample = VNFSEC_SAMPLE_MONITOR;
	else if (d->l7_index)
		d->sample = VNFSEC_SAMPLE_L7;
	else if (cfg->sample_every &&
		 bpf_get_prandom_u32() % cfg->sample_every == 0)
		d->sample = VNFSEC_SAMPLE_EVERY_N;
	return 0;
}

/*
 * The in-kernel detectors, for packets vnfsec_handle() marked: global for
 * the same reason, and so that its call chain has the stack to itself.
 */
__noinline int vnfsec_detect(struct pkt *p, struct decision *d)
{
	struct vnfsec_config *cfg;
	__u32 zero = 0;

	if (!p || !d)
		return 0;
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return 0;
	if (p->key.proto == IPPROTO_TCP &&
	    (p->tcp_flags & (VNFSEC_TCP_SYN | VNFSEC_TCP_RST)) &&
	    detect_dst(p, cfg, d, d->now))
		decide(d, VNFSEC_CAUSE_DETECTOR);
	if (d->is_new && detect_scan(p, cfg, d, d->now))
		decide(d, VNFSEC_CAUSE_DETECTOR);
	if ((cfg->rate_pps || cfg->nr_rate_overrides) &&
	    rate_limit(p, cfg, d, d->now))
		decide(d, VNFSEC_CAUSE_RATE_LIMIT);
	return 0;
}

/* ---- detectors pushed from the security server (docs/detectors.md) --- */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VNFSEC_DET_CLASS_MAX);
	__type(key, __u32);
	__type(value, struct vnfsec_det_stats);
} det_ext_stats SEC(".maps");

/*
 * A detector's programs, slot <class>: an XDP one for vnfsec_xdp, a
 * SCHED_CLS one for the TC programs (a program array takes one program
 * type); slot VNFSEC_DET_SLOT_FINISH: vnfsec_det_finish_xdp/_tc, which the
 * detector tail-calls when done. Replacing a slot's program is one map
 * update: packets see the old detector or the new one, never none.
 */
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

/* The class of a packet (enum vnfsec_det_class), or -1: no detector. */
static __always_inline int ext_class(const struct pkt *p,
				     const struct decision *d)
{
	if (d->verdict == VNFSEC_VERDICT_DROP || d->mode == VNFSEC_MODE_LEARN)
		return -1;
	if (p->key.encap == VNFSEC_ENCAP_GTPU)
		return VNFSEC_DET_CLASS_GTPU;
	if ((p->key.proto == IPPROTO_UDP || p->key.proto == IPPROTO_TCP) &&
	    (p->key.sport == bpf_htons(53) || p->key.dport == bpf_htons(53)) &&
	    (d->src_vnf || d->dst_vnf))
		return VNFSEC_DET_CLASS_DNS;
	return -1;
}

/* As refused_report_allowed(), per class, in its own stats entry. */
static __always_inline int ext_report_allowed(struct vnfsec_det_stats *st,
					      __u64 now)
{
	if (now - st->window_start_ns >= VNFSEC_DET_EXT_WINDOW_NS) {
		st->window_start_ns = now;
		st->left = VNFSEC_DET_EXT_REPORTS;
	}
	if (!st->left) {
		st->unreported++;
		return 0;
	}
	st->left--;
	return 1;
}

static __noinline void report_ext(const struct vnfsec_det_ctx *dc,
				  __u8 verdict)
{
	struct vnfsec_ext_detector_record *rec;

	if (!dc)
		return;
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		ringbuf_lost(VNFSEC_CNT_RINGBUF_FULL_EVENT);
		return;
	}
	count_add(VNFSEC_CNT_DETECTOR_EVENT, 1);
	rec->hdr.type = VNFSEC_REC_EXT_DETECTOR;
	rec->hdr.version = VNFSEC_ABI_VERSION;
	rec->hdr.len = sizeof(*rec);
	rec->hdr.ts_ns = dc->now_ns;
	rec->key = dc->key;
	rec->src_vnf = dc->src_vnf;
	rec->dst_vnf = dc->dst_vnf;
	rec->det_class = dc->det_class;
	rec->verdict = verdict;
	rec->outer_family = dc->outer_family;
	rec->reserved = 0;
	rec->event = dc->event;
	rec->teid = dc->teid;
	rec->value = dc->value;
	rec->outer_saddr = dc->outer_saddr;
	rec->outer_daddr = dc->outer_daddr;
	bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
}

/*
 * The context, off the stack, its in part filled and its out part
 * zeroed; *cap: the payload bytes to copy (the copy takes the program's
 * own context type). NULL: no detector for the class.
 */
static __always_inline struct vnfsec_det_ctx *ext_ctx(const struct pkt *p,
						       const struct decision *d,
						       __u32 cls, __u32 *cap)
{
	struct vnfsec_det_ctx *dc;
	struct vnfsec_config *cfg;
	struct vnfsec_scratch *sc;
	__u32 zero = 0, len;

	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || !(cfg->ext_detectors & (1U << cls)))
		return NULL;
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return NULL;
	dc = &sc->det;
	/* l4_off shares frag_off's bytes: no payload for fragments. */
	len = !p->frag && p->l4_off && p->len > p->l4_off ?
	      p->len - p->l4_off : 0;
	dc->version = VNFSEC_DET_CTX_VERSION;
	dc->det_class = cls;
	dc->flow_flags = d->flags;
	dc->is_new = d->is_new;
	dc->tcp_flags = p->tcp_flags;
	dc->key = p->key;
	dc->outer_family = p->key.encap == VNFSEC_ENCAP_GTPU ?
			   p->outer_family : 0;
	dc->outer_saddr = p->outer_saddr;
	dc->outer_daddr = p->outer_daddr;
	dc->now_ns = d->now;
	dc->teid = p->teid;
	dc->src_vnf = d->src_vnf;
	dc->dst_vnf = d->dst_vnf;
	dc->pkt_len = p->len;
	dc->l4_off = len ? p->l4_off : 0;
	dc->payload_len = len > 0xffff ? 0xffff : len;
	dc->cap_len = 0;
	dc->mode = d->mode;
	dc->reserved = 0;
	dc->verdict = VNFSEC_DET_VERDICT_NONE;
	dc->event = 0;
	dc->value = 0;
	if (len > VNFSEC_DET_PAYLOAD_BYTES)
		len = VNFSEC_DET_PAYLOAD_BYTES;
	*cap = len;
	return dc;
}

/*
 * Global per context type: the verifier checks each once, on its own.
 * Returns 1 when the class's detector is to run (context ready).
 */
__noinline int vnfsec_ext_xdp(struct xdp_md *ctx, struct pkt *p,
			      struct decision *d, __u32 cls)
{
	struct vnfsec_det_ctx *dc;
	__u32 cap = 0;

	if (!p || !d)
		return 0;
	dc = ext_ctx(p, d, cls, &cap);
	if (!dc)
		return 0;
	/* 1..256, on the very register passed on: see report_sample(). */
	if (cap) {
		cap = ((cap - 1) & (VNFSEC_DET_PAYLOAD_BYTES - 1)) + 1;
		if (!bpf_xdp_load_bytes(ctx, p->l4_off, dc->payload, cap))
			dc->cap_len = cap;
	}
	return 1;
}

__noinline int vnfsec_ext_tc(struct __sk_buff *skb, struct pkt *p,
			     struct decision *d, __u32 cls)
{
	struct vnfsec_det_ctx *dc;
	__u32 cap = 0;

	if (!p || !d)
		return 0;
	dc = ext_ctx(p, d, cls, &cap);
	if (!dc)
		return 0;
	if (cap) {
		cap = ((cap - 1) & (VNFSEC_DET_PAYLOAD_BYTES - 1)) + 1;
		if (!bpf_skb_load_bytes(skb, p->l4_off, dc->payload, cap))
			dc->cap_len = cap;
	}
	return 1;
}

/*
 * Only the classes' packets pay for the call. Returns the class + 1 when
 * its detector is to run once the packet is judged, else 0.
 */
static __always_inline int ext_detect(void *ctx, const int kind,
				      struct pkt *p, struct decision *d)
{
	int cls = ext_class(p, d), ready;

	if (cls < 0)
		return 0;
	if (kind == PROG_XDP)
		ready = vnfsec_ext_xdp(ctx, p, d, cls);
	else
		ready = vnfsec_ext_tc(ctx, p, d, cls);
	return ready ? cls + 1 : 0;
}

static __always_inline void account(__u32 len, __u8 verdict, __u32 note,
				    const struct decision *d)
{
	struct vnfsec_vnf_stats *vs;
	__u32 cause_cnt, vnf = d->src_vnf;

	count_add(VNFSEC_CNT_RX_PACKETS, 1);
	count_add(VNFSEC_CNT_RX_BYTES, len);
	if (verdict == VNFSEC_VERDICT_DROP) {
		count_add(VNFSEC_CNT_DROP, 1);
		cause_cnt = cause_counter(d->cause);
		if (cause_cnt != VNFSEC_CNT_NONE)
			count_add(cause_cnt, 1);
	} else {
		count_add(VNFSEC_CNT_PASS, 1);
		if (verdict == VNFSEC_VERDICT_WOULD_DROP)
			count_add(VNFSEC_CNT_WOULD_DROP, 1);
	}
	if (note != VNFSEC_CNT_NONE)
		count_add(note, 1);

	vs = bpf_map_lookup_elem(&vnf_stats, &vnf);
	if (vs) {
		vs->packets++;
		vs->bytes += len;
		/* Constant indices: the verifier loses a bounded one here. */
		if (verdict == VNFSEC_VERDICT_DROP)
			vs->verdict[VNFSEC_VERDICT_DROP]++;
		else if (verdict == VNFSEC_VERDICT_WOULD_DROP)
			vs->verdict[VNFSEC_VERDICT_WOULD_DROP]++;
		else
			vs->verdict[VNFSEC_VERDICT_PASS]++;
	}
}

/* Returns 1 to drop the packet. */
static __always_inline int process(void *ctx, const int kind, void *data,
				   void *data_end, __u32 len, __u8 dir,
				   __u32 ifindex)
{
	struct decision d = {};
	__u32 note;
	int ext = 0;
	__u8 verdict = VNFSEC_VERDICT_PASS;
	struct pkt p;

	/* The key whole (its padding is hashed); of the rest what is read
	 * before being written: the outer addresses only for GTP-U. */
	__builtin_memset(&p.key, 0, sizeof(p.key));
	p.teid = 0;
	p.note = 0;
	p.tcp_flags = 0;
	p.addr_only = 0;
	p.ethertype = 0;
	p.frag = FRAG_NONE;
	p.l4_off = 0;
	p.len = len;
	p.key.dir = dir;
	p.key.ifindex = ifindex;

	note = parse_packet(data, data_end, &p);
	if (note) {
		/* Never "allowed" for want of a parse: vnfsec_abi.h. */
		if (data + ETH_HLEN <= data_end)
			__builtin_memcpy(p.smac, data + ETH_ALEN, ETH_ALEN);
		else
			__builtin_memset(p.smac, 0, ETH_ALEN);
		vnfsec_unparsed(&p, &d, note);
		if (d.verdict == VNFSEC_VERDICT_DROP)
			verdict = d.mode == VNFSEC_MODE_PROTECT ?
				  VNFSEC_VERDICT_DROP :
				  VNFSEC_VERDICT_WOULD_DROP;
		goto out;
	}
	note = p.addr_only ? p.note : VNFSEC_CNT_NONE;
	if ((p.frag || (p.tcp_flags & (VNFSEC_TCP_RST | VNFSEC_TCP_FIN))) &&
	    data + ETH_HLEN <= data_end)
		__builtin_memcpy(p.smac, data + ETH_ALEN, ETH_ALEN);

	vnfsec_handle(&p, &d);
	if (p.frag)
		vnfsec_frag(&p, &d);
	if (d.detect)
		vnfsec_detect(&p, &d);
	ext = ext_detect(ctx, kind, &p, &d);
	if (d.verdict == VNFSEC_VERDICT_DROP)
		verdict = d.mode == VNFSEC_MODE_PROTECT ?
			  VNFSEC_VERDICT_DROP : VNFSEC_VERDICT_WOULD_DROP;

	if (d.sample)
		report_sample(ctx, kind, &p, &d, d.now, d.sample, verdict);
	if (kind == PROG_TC && (d.flags & VNFSEC_FLOW_F_MIRROR) &&
	    verdict != VNFSEC_VERDICT_DROP) {
		if (d.mirror_ifindex &&
		    !bpf_clone_redirect(ctx, d.mirror_ifindex, 0))
			count_add(VNFSEC_CNT_MIRROR, 1);
		else
			count_add(VNFSEC_CNT_MIRROR_FAIL, 1);
	}
out:
	account(len, verdict, note, &d);
	if (verdict == VNFSEC_VERDICT_DROP)
		return 1;
	/* Passed: the class's detector, if any, has the last word. */
	return ext ? VNFSEC_EXT_PENDING + ext - 1 : 0;
}

/*
 * After a detector (its program tail-calls these): what it asked, a drop
 * at most, carried out in the packet's mode; the packet was counted as
 * passed, so a drop moves it. Its event record is written here, by the
 * fast path, within the class's budget. Returns 1 to drop.
 */
static __always_inline int ext_finish(void)
{
	struct vnfsec_det_ctx *dc;
	struct vnfsec_scratch *sc;
	struct vnfsec_det_stats *st;
	struct vnfsec_vnf_stats *vs;
	__u32 zero = 0, cls, vnf;
	int drop = 0;

	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return 0;
	dc = &sc->det;
	cls = dc->det_class;
	st = bpf_map_lookup_elem(&det_ext_stats, &cls);
	if (!st)
		return 0;
	st->hits++;
	vnf = dc->src_vnf;
	vs = bpf_map_lookup_elem(&vnf_stats, &vnf);
	if (dc->verdict == VNFSEC_DET_VERDICT_DROP) {
		st->drops++;
		drop = dc->mode == VNFSEC_MODE_PROTECT;
		if (drop) {
			count_add(VNFSEC_CNT_PASS, (__u64)-1);
			count_add(VNFSEC_CNT_DROP, 1);
			count_add(VNFSEC_CNT_DROP_DETECTOR, 1);
		} else {
			count_add(VNFSEC_CNT_WOULD_DROP, 1);
		}
		if (vs) {
			vs->verdict[VNFSEC_VERDICT_PASS]--;
			if (drop)
				vs->verdict[VNFSEC_VERDICT_DROP]++;
			else
				vs->verdict[VNFSEC_VERDICT_WOULD_DROP]++;
		}
	}
	if (dc->event) {
		st->events++;
		if (vs)
			vs->events++;
		if (ext_report_allowed(st, dc->now_ns))
			report_ext(dc, dc->verdict != VNFSEC_DET_VERDICT_DROP ?
				   VNFSEC_VERDICT_PASS : drop ?
				   VNFSEC_VERDICT_DROP :
				   VNFSEC_VERDICT_WOULD_DROP);
	}
	return drop;
}

SEC("xdp")
int vnfsec_det_finish_xdp(struct xdp_md *ctx)
{
	return ext_finish() ? XDP_DROP : XDP_PASS;
}

SEC("tc")
int vnfsec_det_finish_tc(struct __sk_buff *skb)
{
	return ext_finish() ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("xdp")
int vnfsec_xdp(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;

	int ret = process(ctx, PROG_XDP, data, data_end, data_end - data,
			  VNFSEC_DIR_INGRESS, ctx->ingress_ifindex);

	/* From the program itself: a tail call from a subprogram may not
	 * sit under process()'s 256-byte frame. No detector: passes. */
	if (ret >= VNFSEC_EXT_PENDING)
		bpf_tail_call(ctx, &det_progs_xdp, ret - VNFSEC_EXT_PENDING);
	return ret == 1 ? XDP_DROP : XDP_PASS;
}

/* Headers the parser may walk: pulled into the linear part when short. */
#define VNFSEC_PULL_BYTES	256

static __always_inline int tc_process(struct __sk_buff *skb, __u8 dir)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	__u32 lin = data_end - data;

	/*
	 * An skb's headers may lie partly in its fragments, where the parser
	 * cannot read: such a frame would be unparsed, and dropped. Pull
	 * them (only when the linear part is short and there is more).
	 */
	if (lin < VNFSEC_PULL_BYTES && skb->len > lin) {
		bpf_skb_pull_data(skb, skb->len < VNFSEC_PULL_BYTES ?
				  skb->len : VNFSEC_PULL_BYTES);
		data_end = (void *)(long)skb->data_end;
		data = (void *)(long)skb->data;
	}

	return process(skb, PROG_TC, data, data_end, skb->len, dir,
		       skb->ifindex);
}

/* As vnfsec_xdp's end: the tail call from the program itself. */
static __always_inline int tc_verdict(struct __sk_buff *skb, int ret)
{
	if (ret >= VNFSEC_EXT_PENDING)
		bpf_tail_call(skb, &det_progs_tc, ret - VNFSEC_EXT_PENDING);
	return ret == 1 ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("tc")
int vnfsec_egress(struct __sk_buff *skb)
{
	return tc_verdict(skb, tc_process(skb, VNFSEC_DIR_EGRESS));
}

/*
 * vnfsec_xdp's job at TC ingress, for veth ports: native XDP on a veth
 * makes the driver copy every frame without XDP headroom into a new page
 * before the program runs, which costs more than the program does.
 */
SEC("tc")
int vnfsec_ingress(struct __sk_buff *skb)
{
	return tc_verdict(skb, tc_process(skb, VNFSEC_DIR_INGRESS));
}

SEC("tc")
int vnfsec_lo(struct __sk_buff *skb)
{
	return tc_verdict(skb, tc_process(skb, VNFSEC_DIR_LO));
}
