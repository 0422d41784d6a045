/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * vnfsec fast-path ABI: every map key/value and ring-buffer record shared
 * between the BPF programs (bpf/vnfsec.bpf.c) and userspace (agent, tests,
 * bpftool users). This is the only place these layouts are written;
 * docs/bpf-maps.md shows them byte by byte for bpftool.
 *
 * Rules: fixed-width types, explicit padding, a static size assert per
 * layout, and VNFSEC_ABI_VERSION bumped on any incompatible change.
 * Addresses and ports are kept in network byte order as on the wire; every
 * other field is host order.
 *
 * Time: every *_ns field is CLOCK_MONOTONIC (clock_gettime(CLOCK_MONOTONIC)
 * in userspace). The programs read it with bpf_ktime_get_coarse_ns(), which
 * is CLOCK_MONOTONIC at tick resolution (1-10 ms, CONFIG_HZ), once per
 * jiffy and CPU (map "clock"): a deadline written by userspace is honoured
 * within two ticks of it, never before.
 *
 * Policy generation. Packets of a known flow do not look at the policy
 * maps: the verdict computed for the flow's first packet is cached in its
 * flow_table entry with the config.policy_gen it was computed under, and
 * reused while config.policy_gen is unchanged, for at most
 * config.verdict_ttl_ms, and never past the earliest expiry of the entries
 * that decided it. A writer of any policy map (blocklist_*, allowlist_*,
 * vnf_pair_policy, flow_override, quarantine, vnf_ports, vnf_addrs,
 * vnf_policy, or config's mode/pair_default/mgmt_vnf/unparsed/ethertypes)
 * must therefore increment
 * config.policy_gen after its write for the change to reach existing flows
 * at once; without the bump it reaches them within verdict_ttl_ms (1 s by
 * default), and new flows at once either way.
 */
#ifndef VNFSEC_ABI_H
#define VNFSEC_ABI_H

#include <linux/bpf.h>		/* struct bpf_spin_lock */
#include <linux/types.h>

#define VNFSEC_ABI_VERSION 7

/* Pinning layout shared by bpftool users and the agent. */
#define VNFSEC_PIN_DIR		"/sys/fs/bpf/vnfsec"
#define VNFSEC_PIN_MAPS_DIR	VNFSEC_PIN_DIR "/maps"
/* Program names: bpftool prog loadall pins each as DIR/<name>. */
#define VNFSEC_PROG_XDP		"vnfsec_xdp"		/* VNF port ingress */
#define VNFSEC_PROG_TC_EGRESS	"vnfsec_egress"	/* TC, VNF port egress */
#define VNFSEC_PROG_TC_LO	"vnfsec_lo"	/* TC, lo in a VNF netns */
/* TC, VNF port ingress: vnfsec_xdp's work for veth ports, where native XDP
 * costs the driver a copy of every frame (docs/fastpath.md). */
#define VNFSEC_PROG_TC_INGRESS	"vnfsec_ingress"

#define VNFSEC_FLOW_TABLE_ENTRIES	65536
/* "flow_new": flows that have had one packet (below); a power of 2. */
#define VNFSEC_FLOW_NEW_BITS		12
#define VNFSEC_FLOW_NEW_ENTRIES		(1U << VNFSEC_FLOW_NEW_BITS)
/*
 * New flows the pair rules refuse in protect mode are not stored but
 * reported as new-flow records (verdict DROP, cause PAIR_POLICY), at most
 * this many per CPU and window ("refused_unreported" counts the rest).
 */
#define VNFSEC_REFUSED_REPORTS		1024
#define VNFSEC_REFUSED_WINDOW_NS	100000000ULL	/* 100 ms */

/* "refused_budget" (PERCPU_ARRAY, one entry): the reports left this window. */
struct vnfsec_refused_budget {
	__u64 window_start_ns;
	__u32 left;
	__u32 pad;
};
_Static_assert(sizeof(struct vnfsec_refused_budget) == 16,
	       "vnfsec_refused_budget size");
#define VNFSEC_BLOCKLIST_V4_ENTRIES	16384
#define VNFSEC_BLOCKLIST_V6_ENTRIES	16384
#define VNFSEC_ALLOWLIST_ENTRIES	4096
#define VNFSEC_VNF_PORT_ENTRIES		1024
#define VNFSEC_VNF_ADDR_ENTRIES		4096
#define VNFSEC_MAX_VNFS			256	/* VNF ids 0..255; 0 = unknown */
#define VNFSEC_PAIR_POLICY_ENTRIES	4096
#define VNFSEC_FLOW_OVERRIDE_ENTRIES	4096
#define VNFSEC_RATE_OVERRIDE_ENTRIES	4096
#define VNFSEC_DETECTOR_ENTRIES		16384
#define VNFSEC_EVENTS_BYTES		(1U << 20)
#define VNFSEC_SAMPLE_BYTES		128	/* packet bytes in a sample */
/* Samples wake the reader only once this much is unread (see below). */
#define VNFSEC_SAMPLE_WAKEUP_BYTES	(64U << 10)
/* Deeper stacks, longer chains: VNFSEC_CAUSE_UNPARSED (ABI 6). */
#define VNFSEC_MAX_VLAN_TAGS		4	/* TPIDs 8100, 88a8, 9100, 9200 */
#define VNFSEC_MAX_IPV6_EXT		16	/* extension headers walked */
#define VNFSEC_GTPU_PORT		2152

/*
 * Per-CPU counters, one slot each in the "counters" map. Every drop and
 * every malformed or truncated packet has a name here: nothing is lost
 * silently. (tools/lib/loop.sh finds a counter's index by its position in
 * this enum: one enumerator per line, in order.)
 */
enum vnfsec_counter {
	VNFSEC_CNT_RX_PACKETS = 0,	/* packets seen by any program */
	VNFSEC_CNT_RX_BYTES,
	VNFSEC_CNT_PASS,		/* verdict pass (monitor, learn included) */
	VNFSEC_CNT_DROP_BLOCKLIST,	/* source matched blocklist_v4/_v6 */
	VNFSEC_CNT_NEW_FLOW,		/* new flows (first packets kept) */
	VNFSEC_CNT_NON_IP,		/* neither IPv4 nor IPv6: passed */
	VNFSEC_CNT_TRUNC_ETH,		/* shorter than an Ethernet header */
	VNFSEC_CNT_TRUNC_IP,		/* IPv4 header past end of packet */
	VNFSEC_CNT_BAD_IP,		/* IHL < 5, version != 4, bad length */
	VNFSEC_CNT_TRUNC_L4,		/* TCP/UDP/ICMP header past the end */
	VNFSEC_CNT_BAD_TCP,		/* TCP data offset < 5 */
	VNFSEC_CNT_IP_FRAGMENT,		/* non-first fragment (v4 or v6) */
	VNFSEC_CNT_RINGBUF_FULL,	/* any ring-buffer reservation failed */
	VNFSEC_CNT_FLOW_INSERT_FAIL,	/* flow_table insert failed */
	/* ABI 2 */
	VNFSEC_CNT_DROP,		/* every drop, whatever the cause */
	VNFSEC_CNT_WOULD_DROP,		/* drop verdicts not enforced (mode) */
	VNFSEC_CNT_DROP_PAIR_POLICY,	/* VNF pair rule refused it */
	VNFSEC_CNT_DROP_QUARANTINE,	/* a VNF end is quarantined */
	VNFSEC_CNT_DROP_OVERRIDE,	/* flow_override says drop */
	VNFSEC_CNT_DROP_DETECTOR,	/* an in-kernel detector dropped it */
	VNFSEC_CNT_DROP_RATE_LIMIT,	/* source over its token bucket */
	VNFSEC_CNT_DROP_TINY_FRAGMENT,	/* tiny first fragment, protect mode */
	VNFSEC_CNT_ALLOWLISTED,		/* source in allowlist_v4/_v6 */
	VNFSEC_CNT_VLAN,		/* frames with 802.1Q/802.1ad tags */
	VNFSEC_CNT_TRUNC_VLAN,		/* VLAN tag past end of packet */
	VNFSEC_CNT_VLAN_TOO_DEEP,	/* more than 2 VLAN tags */
	VNFSEC_CNT_IPV6,		/* IPv6 packets parsed */
	VNFSEC_CNT_IP_OPTIONS,		/* IPv4 header with options */
	VNFSEC_CNT_TINY_FRAGMENT,	/* first fragment splitting L4 header */
	VNFSEC_CNT_TRUNC_IP6,		/* IPv6 header past end of packet */
	VNFSEC_CNT_BAD_IP6,		/* version != 6 behind IPv6 EtherType */
	VNFSEC_CNT_TRUNC_IP6_EXT,	/* extension header past the end */
	VNFSEC_CNT_IP6_EXT_LIMIT,	/* more than 8 extension headers */
	VNFSEC_CNT_IP6_EXT,		/* IPv6 packets with ext. headers */
	VNFSEC_CNT_ICMP,		/* ICMP and ICMPv6 packets */
	VNFSEC_CNT_OTHER_L4,		/* other IP protocols: no ports */
	VNFSEC_CNT_GTPU,		/* GTP-U G-PDUs, inner packet tracked */
	VNFSEC_CNT_GTPU_OTHER,		/* GTP-U signalling (echo, ...) */
	VNFSEC_CNT_TRUNC_GTPU,		/* GTP-U header past end of packet */
	VNFSEC_CNT_BAD_GTPU,		/* GTP version != 1, bad ext chain */
	VNFSEC_CNT_BAD_INNER,		/* G-PDU inner packet malformed */
	VNFSEC_CNT_SAMPLE,		/* packet samples written */
	VNFSEC_CNT_DETECTOR_EVENT,	/* detector events written */
	VNFSEC_CNT_RINGBUF_FULL_FLOW,	/* lost new-flow records */
	VNFSEC_CNT_RINGBUF_FULL_EVENT,	/* lost detector events */
	VNFSEC_CNT_RINGBUF_FULL_SAMPLE,	/* lost samples */
	VNFSEC_CNT_VERDICT_EVAL,	/* verdict (re)computed from policy */
	VNFSEC_CNT_MIRROR,		/* copies sent to config.mirror_ifindex */
	VNFSEC_CNT_MIRROR_FAIL,		/* mirror requested, clone failed */
	VNFSEC_CNT_REFUSED_UNREPORTED,	/* refused new flows over the budget */
	/* ABI 6 */
	VNFSEC_CNT_BAD_IP_LEN,		/* IPv4 total length beyond the frame */
	VNFSEC_CNT_BAD_UDP_LEN,		/* UDP length < 8 or beyond the frame */
	VNFSEC_CNT_BAD_IP6_LEN,		/* IPv6 payload length beyond frame */
	VNFSEC_CNT_DROP_UNPARSED,	/* not classifiable to L4: dropped */
	VNFSEC_CNT_DROP_ETHERTYPE,	/* non-IP EtherType no rule allows */
	VNFSEC_CNT_UNPARSED_UNREPORTED,	/* unparsed frames over the budget */
	VNFSEC_CNT_RINGBUF_FULL_UNPARSED,	/* lost unparsed-frame records */
	VNFSEC_CNT_REPLY,		/* new flows passed as a reply */
	VNFSEC_CNT_FRAG_OVERLAP,	/* fragment over bytes already seen */
	VNFSEC_CNT_FRAG_NO_STATE,	/* later fragment, first one unseen */
	VNFSEC_CNT_DROP_FRAGMENT_EVASION,	/* overlap, duplicate, tiny */
	VNFSEC_CNT_FRAG_INSERT_FAIL,	/* frag_table insert failed */
	VNFSEC_CNT_DROP_SPOOFED,	/* source address not the port's VNF's */
	VNFSEC_CNT_DROP_SEQ_WINDOW,	/* RST/FIN outside the flow's window */
	/* ABI 7 */
	VNFSEC_CNT_DROP_L7,		/* flow_override L7: not its protocol */
	VNFSEC_CNT_L7_SAMPLE,		/* first packets of L7-pending flows */
	VNFSEC_CNT_MAX,
};

/* Readable names for the counters, index-aligned with the enum. */
#define VNFSEC_COUNTER_NAMES {						\
	"rx_packets", "rx_bytes", "pass", "drop_blocklist", "new_flow",	\
	"non_ip", "trunc_eth", "trunc_ip", "bad_ip", "trunc_l4",	\
	"bad_tcp", "ip_fragment", "ringbuf_full", "flow_insert_fail",	\
	"drop", "would_drop", "drop_pair_policy", "drop_quarantine",	\
	"drop_override", "drop_detector", "drop_rate_limit",		\
	"drop_tiny_fragment", "allowlisted", "vlan", "trunc_vlan",	\
	"vlan_too_deep", "ipv6", "ip_options", "tiny_fragment",	\
	"trunc_ip6", "bad_ip6", "trunc_ip6_ext", "ip6_ext_limit",	\
	"ip6_ext", "icmp", "other_l4", "gtpu", "gtpu_other",		\
	"trunc_gtpu", "bad_gtpu", "bad_inner", "sample",		\
	"detector_event", "ringbuf_full_flow", "ringbuf_full_event",	\
	"ringbuf_full_sample", "verdict_eval",	\
	"mirror", "mirror_fail", "refused_unreported",			\
	"bad_ip_len", "bad_udp_len", "bad_ip6_len", "drop_unparsed",	\
	"drop_ethertype", "unparsed_unreported",			\
	"ringbuf_full_unparsed", "reply", "frag_overlap",		\
	"frag_no_state", "drop_fragment_evasion", "frag_insert_fail",	\
	"drop_spoofed", "drop_seq_window", "drop_l7", "l7_sample",	\
}

/* TCP flag bits as in the TCP header's 13th byte. */
#define VNFSEC_TCP_FIN	0x01
#define VNFSEC_TCP_SYN	0x02
#define VNFSEC_TCP_RST	0x04
#define VNFSEC_TCP_PSH	0x08
#define VNFSEC_TCP_ACK	0x10

/* Address families in keys (the values of AF_INET and AF_INET6). */
#define VNFSEC_AF_INET	2
#define VNFSEC_AF_INET6	10

/* Where a packet was seen: vnfsec_flow_key.dir. */
enum vnfsec_dir {
	VNFSEC_DIR_INGRESS = 0,	/* XDP on a VNF port: from the VNF */
	VNFSEC_DIR_EGRESS,	/* TC egress on a VNF port: to the VNF */
	VNFSEC_DIR_LO,		/* TC on lo in a VNF namespace */
};

/* vnfsec_flow_key.encap */
enum vnfsec_encap {
	VNFSEC_ENCAP_NONE = 0,
	VNFSEC_ENCAP_GTPU,	/* key is the inner packet's; TEID in state */
};

/* An IPv4 address is .v4 with the other 12 bytes zero. */
union vnfsec_addr {
	__be32 v4;
	__be32 v6[4];
	__u8 bytes[16];
};

/*
 * Key of the LRU "flow_table" map. For GTP-U G-PDUs the tuple is the inner
 * packet's. ICMP/ICMPv6: sport is the echo identifier (echo request/reply,
 * else 0), dport is (type << 8 | code) in network order. Protocols without
 * ports have both 0. vlan is the outermost VLAN id (0: untagged). The VNF
 * pair is derived from (ifindex, vlan) and the addresses: it is kept in the
 * state and in every record rather than here, so that a packet of a known
 * flow costs one hash lookup and no map lookup to find its VNFs.
 */
struct vnfsec_flow_key {
	union vnfsec_addr saddr;
	union vnfsec_addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;		/* VNFSEC_AF_INET or VNFSEC_AF_INET6 */
	__u8 dir;		/* enum vnfsec_dir */
	__u8 encap;		/* enum vnfsec_encap */
	__u16 vlan;
	__u16 pad;
	__u32 ifindex;		/* where it was seen (ingress or egress) */
};
_Static_assert(sizeof(struct vnfsec_flow_key) == 48, "vnfsec_flow_key size");

/* Verdicts, as cached in the flow and counted per VNF. */
enum vnfsec_verdict {
	VNFSEC_VERDICT_PASS = 0,
	VNFSEC_VERDICT_DROP,		/* dropped (protect mode) */
	VNFSEC_VERDICT_WOULD_DROP,	/* a drop not enforced: monitor/learn */
	VNFSEC_VERDICT_MAX,
};

/* Why a verdict was reached: vnfsec_flow_state.cause, records. */
enum vnfsec_cause {
	VNFSEC_CAUSE_NONE = 0,
	VNFSEC_CAUSE_BLOCKLIST,
	VNFSEC_CAUSE_PAIR_POLICY,
	VNFSEC_CAUSE_QUARANTINE,
	VNFSEC_CAUSE_OVERRIDE,
	VNFSEC_CAUSE_DETECTOR,
	VNFSEC_CAUSE_RATE_LIMIT,
	VNFSEC_CAUSE_TINY_FRAGMENT,
	VNFSEC_CAUSE_ALLOWLIST,		/* pass: allowlisted source */
	/* ABI 6 */
	VNFSEC_CAUSE_UNPARSED,		/* not classifiable to its L4 header */
	VNFSEC_CAUSE_ETHERTYPE,		/* non-IP EtherType without a rule */
	VNFSEC_CAUSE_FRAGMENT_EVASION,	/* overlapping or duplicate fragment */
	VNFSEC_CAUSE_SPOOFED,		/* source address not the port's */
	VNFSEC_CAUSE_SEQ_WINDOW,	/* RST/FIN outside the sequence window */
	/* ABI 7 */
	VNFSEC_CAUSE_L7,		/* not the L7 protocol its rule names */
};

/*
 * TCP RST and FIN of a tracked flow (ABI 6): each flow_table entry keeps
 * the sequence number its sender's next segment should have (next_seq:
 * the end of the furthest segment seen). A RST or FIN whose sequence end
 * lies more than VNFSEC_SEQ_WINDOW from it, either way, was not sent by
 * the flow's sender: VNFSEC_CAUSE_SEQ_WINDOW, dropped in protect mode,
 * counted (drop_seq_window) and reported (an unparsed record naming the
 * port and the sender's MAC: the agent's flow_cut). A flow's first packet
 * and fragments are not checked.
 */
#define VNFSEC_SEQ_WINDOW	(1U << 20)

/* vnfsec_flow_state.flags */
#define VNFSEC_FLOW_F_MONITOR	0x01	/* sample every packet */
#define VNFSEC_FLOW_F_MIRROR	0x02	/* copy to config.mirror_ifindex */
#define VNFSEC_FLOW_F_ALLOWED	0x04	/* source in allowlist_v4/_v6 */
/* ABI 6: passed as the reply of a flow allowed the other way ("flow_reply") */
#define VNFSEC_FLOW_F_REPLY	0x08
/* ABI 7: its rule names an L7 protocol: "L7 pending", see VNFSEC_L7_PACKETS */
#define VNFSEC_FLOW_F_L7	0x10
/*
 * ABI 7: VNFSEC_OVERRIDE_L7 decided it: the flow stays VNFSEC_CAUSE_L7
 * while its entry lives, the override's expiry or a policy change aside
 * (a new flow on its tuple is judged again).
 */
#define VNFSEC_FLOW_F_L7_DROP	0x20

/*
 * L7 enforcement (ABI 7). A pair rule's port range may name an L7
 * protocol the agent can judge (vnfsec_port_range.l7). A new flow that
 * range allows is "L7 pending" (VNFSEC_FLOW_F_L7 in its state, cached
 * with its verdict): its first VNFSEC_L7_PACKETS packets (by the flow's
 * packet count) are each reported whole up to VNFSEC_SAMPLE_BYTES as a
 * sample of reason VNFSEC_SAMPLE_L7 (counter l7_sample), not 1 in N. The
 * agent's nDPI judges the flow from them; a flow judged to be another
 * protocol (or, by the VNFs' l7_unknown setting, one it cannot judge) gets
 * a flow_override entry with VNFSEC_OVERRIDE_L7: VNFSEC_CAUSE_L7, dropped
 * in the flow's mode (protect: counter drop_l7; monitor and learn:
 * would_drop). GTP-U inner flows are not L7 pending: their carrier is.
 */
#define VNFSEC_L7_PACKETS	8

/*
 * Value of "flow_table". first/last_seen are CLOCK_MONOTONIC. The verdict
 * fields are the cache described at the top: valid while policy_gen equals
 * config.policy_gen and now < verdict_until_ns. Userspace may zero
 * verdict_until_ns to force re-evaluation of one flow.
 */
struct vnfsec_flow_state {
	__u64 first_seen_ns;
	__u64 last_seen_ns;
	__u64 packets;
	__u64 bytes;
	__u64 verdict_until_ns;	/* cached verdict valid before this */
	__u32 policy_gen;	/* config.policy_gen of the cached verdict */
	__u32 teid;		/* GTP-U tunnel id (network order), else 0 */
	__u16 src_vnf;
	__u16 dst_vnf;
	__u8 verdict;		/* enum vnfsec_verdict */
	__u8 cause;		/* enum vnfsec_cause */
	__u8 flags;		/* VNFSEC_FLOW_F_* */
	__u8 tcp_flags_seen;
	/* ABI 6: the enum vnfsec_mode the cached verdict is carried out in */
	__u8 mode;
	__u8 seq_valid;		/* ABI 6: next_seq is set (TCP) */
	__u16 pad;
	__u32 next_seq;		/* ABI 6: host order; see VNFSEC_SEQ_WINDOW */
};
_Static_assert(sizeof(struct vnfsec_flow_state) == 64,
	       "vnfsec_flow_state size");

/*
 * "flow_new" (ARRAY of VNFSEC_FLOW_NEW_ENTRIES, ABI 5): a flow's first
 * packet stores it here, not in flow_table; its second packet moves it
 * into flow_table with its state, and the slot is freed (a TCP SYN without
 * ACK never looks in flow_table: a SYN again stays here, and a SYN on a
 * tuple flow_table holds is a new connection, stored here). So a flood of
 * one-packet flows (spoofed SYNs, scans) costs one write into a slot
 * rather than an LRU insert with eviction (the miss path's largest cost,
 * docs/fastpath.md), and cannot evict established flows from flow_table.
 * Direct-mapped at vnfsec_flow_new_slot(key): a new flow takes the slot
 * of an older one-packet flow, whose next packet then counts as a new
 * flow again. The new-flow record is written for the first packet, as
 * before. key.family 0 marks a free slot. lock is the programs' own (a
 * slot is written by whichever CPU sees the flow); readers ignore it.
 */
struct vnfsec_flow_new {
	struct bpf_spin_lock lock;
	__u32 pad;
	struct vnfsec_flow_key key;
	struct vnfsec_flow_state state;
};
_Static_assert(sizeof(struct vnfsec_flow_new) == 120,
	       "vnfsec_flow_new size");
_Static_assert(sizeof(struct vnfsec_flow_key) == 6 * 8,
	       "vnfsec_flow_new_slot() hashes six words");

/*
 * A multiplicative hash of a flow key's six 64-bit words (host order).
 * Shared by the programs and userspace so both find a flow's slot alike.
 */
static inline __u64 vnfsec_flow_key_hash(const struct vnfsec_flow_key *k)
{
	const __u8 *b = (const __u8 *)k;
	__u64 h = 0, w;

	/* Six words written out: no loop for the verifier or the compiler. */
#define VNFSEC_MIX(i) (__builtin_memcpy(&w, b + (i) * 8, 8),		\
		       h = (h ^ w) * 0x9e3779b97f4a7c15ULL)
	VNFSEC_MIX(0);
	VNFSEC_MIX(1);
	VNFSEC_MIX(2);
	VNFSEC_MIX(3);
	VNFSEC_MIX(4);
	VNFSEC_MIX(5);
#undef VNFSEC_MIX
	return h;
}

/* The slot of a flow in flow_new: the hash's top VNFSEC_FLOW_NEW_BITS. */
static inline __u32 vnfsec_flow_new_slot(const struct vnfsec_flow_key *k)
{
	return vnfsec_flow_key_hash(k) >> (64 - VNFSEC_FLOW_NEW_BITS);
}

/*
 * "flow_reply" (ARRAY of VNFSEC_FLOW_REPLY_ENTRIES, ABI 6): the replies
 * the fast path expects. The pair rules say what one VNF may *start*
 * towards another; a packet the rules of its own direction refuse still
 * passes when it is the reply of a flow that passed the other way. When
 * a flow passes (its first packet, and each time its verdict is
 * recomputed, at least every verdict_ttl_ms while it is active) the
 * programs write here the key its replies will have: addresses and ports
 * swapped (ICMP echo: same identifier, the reply's type), and ifindex,
 * dir and vlan zero, since the reply enters on another port (the peer
 * VNF's). A new flow its rules refuse looks up its own key so reduced:
 * a live entry naming the same two VNFs the other way round makes it a
 * reply (VNFSEC_FLOW_F_REPLY, counter "reply"). So a reply needs its
 * request seen first: a TCP SYN-ACK to a refused SYN, or a "reply" sent
 * to a port nobody asked from, is refused like any new flow; a TCP SYN is
 * never a reply. A reply flow keeps its verdict while the request's
 * direction is still allowed by its rule. Two-way: a key lives in either
 * slot of the pair {vnfsec_flow_reply_slot(key), that ^ 1}; a flow
 * allowed later takes the slot of its pair that expires first (its own
 * if it has one), so an expectation is lost, and its reply judged as a
 * new flow, only when two later ones took its pair before the reply came
 * (direct-mapped, one was enough: a busy packet core lost DNS answers).
 * lock as in flow_new.
 */
#define VNFSEC_FLOW_REPLY_BITS		14
#define VNFSEC_FLOW_REPLY_ENTRIES	(1U << VNFSEC_FLOW_REPLY_BITS)
#define VNFSEC_REPLY_TTL_NS		60000000000ULL	/* 60 s */

struct vnfsec_flow_reply {
	struct bpf_spin_lock lock;
	__u16 src_vnf;		/* the request's source VNF */
	__u16 dst_vnf;		/* the request's destination VNF */
	struct vnfsec_flow_key key;	/* the reply's, reduced */
	__u64 expires_ns;	/* CLOCK_MONOTONIC; 0: a free slot */
};
_Static_assert(sizeof(struct vnfsec_flow_reply) == 64,
	       "vnfsec_flow_reply size");

static inline __u32 vnfsec_flow_reply_slot(const struct vnfsec_flow_key *k)
{
	return vnfsec_flow_key_hash(k) >> (64 - VNFSEC_FLOW_REPLY_BITS);
}

/*
 * "scratch" (PERCPU_ARRAY, one entry, ABI 6): the programs' working space
 * for a new flow's state, a reply key and a fragment key being built,
 * which on the stack took the call chain past 6.1's 512 bytes (6.1 rounds
 * each frame up to 32 bytes). Internal; readable, not for writing.
 */

/*
 * "frag_table" (LRU_HASH, ABI 6): one entry per fragmented datagram, made
 * by its first fragment (offset 0, more fragments), which is judged as
 * the packet of its flow. Later fragments carry no L4 header: they take
 * the first fragment's verdict, cause, mode and VNFs from here. A later
 * fragment whose datagram has no entry (its first fragment not seen, or
 * gone: VNFSEC_FRAG_TTL_NS, LRU) cannot be judged and takes the unparsed
 * verdict (counter frag_no_state). A fragment covering bytes of the first
 * VNFSEC_FRAG_TRACKED_UNITS 8-byte units of the datagram already seen
 * (overlap, e.g. a second offset-0 fragment with other ports, or one at
 * offset 8 rewriting TCP flags), and a first fragment too short for its
 * L4 header (RFC 1858), are VNFSEC_CAUSE_FRAGMENT_EVASION, as is every
 * later fragment of that datagram; reported as unparsed records (counter
 * frag_overlap or tiny_fragment).
 */
#define VNFSEC_FRAG_ENTRIES		8192
#define VNFSEC_FRAG_TTL_NS		30000000000ULL	/* 30 s, as ipfrag_time */
#define VNFSEC_FRAG_TRACKED_UNITS	64	/* the first 512 bytes */

struct vnfsec_frag_key {
	union vnfsec_addr saddr;
	union vnfsec_addr daddr;
	__u32 id;		/* IPv4 identification (16 bits) or IPv6's */
	__u8 proto;		/* upper-layer protocol */
	__u8 family;
	__u16 pad;
};
_Static_assert(sizeof(struct vnfsec_frag_key) == 40, "vnfsec_frag_key size");

struct vnfsec_frag_state {
	__u64 expires_ns;
	__u64 seen;		/* bit n: 8-byte unit n of the datagram seen */
	__u16 src_vnf;
	__u16 dst_vnf;
	__u8 verdict;		/* the first fragment's, before the mode */
	__u8 cause;
	__u8 mode;
	__u8 evasion;		/* 1: every fragment of it is dropped */
};
_Static_assert(sizeof(struct vnfsec_frag_state) == 24,
	       "vnfsec_frag_state size");

/*
 * Detectors pushed from the security server (ABI 7, docs/detectors.md).
 * For the packets of a class only (not dropped, not in learn mode, and
 * with the class's bit in config.ext_detectors), the fast path fills a
 * vnfsec_det_ctx in "scratch", judges the packet as always, and then,
 * when it passes, tail-calls slot <class> of "det_progs_xdp" (from
 * vnfsec_xdp) or "det_progs_tc" (from the TC programs). The detector, an
 * XDP or SCHED_CLS program, reads the context from "scratch", fills its
 * out part and tail-calls slot VNFSEC_DET_SLOT_FINISH (the fast path's
 * vnfsec_det_finish_xdp/_tc), which carries out what it asked and writes
 * its event record. An empty slot: the packet passes, no opinion.
 */
enum vnfsec_det_class {
	VNFSEC_DET_CLASS_DNS = 0,	/* UDP/TCP port 53, one end a VNF */
	VNFSEC_DET_CLASS_GTPU,		/* GTP-U G-PDUs (udp/2152) */
	VNFSEC_DET_CLASS_MAX,
};

/* The classes' names, in enum vnfsec_det_class order. */
#define VNFSEC_DET_CLASS_NAMES	{ "dns", "gtpu" }
/* Slots of det_progs_xdp/_tc: one per class, then the fast path's end. */
#define VNFSEC_DET_SLOT_FINISH	VNFSEC_DET_CLASS_MAX
#define VNFSEC_DET_SLOTS	(VNFSEC_DET_CLASS_MAX + 1)
/* Programs of bpf/vnfsec.bpf.o for slot VNFSEC_DET_SLOT_FINISH. */
#define VNFSEC_PROG_DET_FINISH_XDP	"vnfsec_det_finish_xdp"
#define VNFSEC_PROG_DET_FINISH_TC	"vnfsec_det_finish_tc"

#define VNFSEC_DET_CTX_VERSION		1
#define VNFSEC_DET_PAYLOAD_BYTES	256	/* L4 payload handed over */

/* What a detector may ask: never more than a drop (the caller applies the
 * mode: protect drops, monitor counts would_drop). */
enum vnfsec_det_verdict {
	VNFSEC_DET_VERDICT_NONE = 0,
	VNFSEC_DET_VERDICT_DROP,
};

/*
 * A detector's context, in the per-CPU "scratch" map (never on the
 * stack: 6.1's 512 bytes are taken by the in-kernel detectors' chain).
 * The "in" part is written by the fast path before each call; the "out"
 * part is zeroed before it and read after it.
 */
struct vnfsec_det_ctx {
	/* in */
	__u32 version;		/* VNFSEC_DET_CTX_VERSION */
	__u8 det_class;		/* enum vnfsec_det_class */
	__u8 flow_flags;	/* VNFSEC_FLOW_F_* of the flow */
	__u8 is_new;		/* the packet opened its flow */
	__u8 tcp_flags;		/* VNFSEC_TCP_* */
	struct vnfsec_flow_key key;	/* GTP-U: the inner packet's */
	union vnfsec_addr outer_saddr;	/* GTP-U: the tunnel's */
	union vnfsec_addr outer_daddr;
	__u64 now_ns;		/* CLOCK_MONOTONIC, coarse */
	__u32 teid;		/* GTP-U, network order; else 0 */
	__u16 src_vnf;
	__u16 dst_vnf;
	__u32 pkt_len;
	__u16 l4_off;		/* L4 payload's offset in the frame */
	__u16 payload_len;	/* L4 payload bytes in the packet */
	__u16 cap_len;		/* of which in payload[] */
	__u8 outer_family;	/* GTP-U: VNFSEC_AF_*; else 0 */
	__u8 mode;		/* enum vnfsec_mode the verdict is carried in */
	__u32 reserved;		/* zero */
	__u8 payload[VNFSEC_DET_PAYLOAD_BYTES];
	/* out */
	__u8 verdict;		/* enum vnfsec_det_verdict */
	__u8 reserved_out[3];
	__u32 event;		/* detector's event code; 0: no event */
	__u64 value;		/* the event's figure (count, length, ...) */
};
_Static_assert(sizeof(struct vnfsec_det_ctx) == 392,
	       "vnfsec_det_ctx size");

/*
 * "det_ext_stats" (PERCPU_ARRAY, per enum vnfsec_det_class): what each
 * class's detector did, and its event records' budget: at most
 * VNFSEC_DET_EXT_REPORTS per CPU and window, the rest counted.
 */
#define VNFSEC_DET_EXT_REPORTS		64
#define VNFSEC_DET_EXT_WINDOW_NS	100000000ULL	/* 100 ms */

struct vnfsec_det_stats {
	__u64 hits;		/* packets handed to the detector */
	__u64 events;		/* events it raised */
	__u64 drops;		/* drop verdicts it asked for */
	__u64 unreported;	/* events over the record budget */
	__u64 window_start_ns;
	__u32 left;		/* records left this window */
	__u32 pad;
};
_Static_assert(sizeof(struct vnfsec_det_stats) == 48,
	       "vnfsec_det_stats size");

/* See "scratch" above. */
struct vnfsec_scratch {
	struct vnfsec_flow_key reply_key;
	struct vnfsec_flow_state state;
	struct vnfsec_frag_key frag_key;
	struct vnfsec_det_ctx det;	/* ABI 7 */
};
_Static_assert(sizeof(struct vnfsec_scratch) == 544, "vnfsec_scratch size");

/*
 * Keys of the LPM maps "blocklist_v4", "allowlist_v4" (and the prefix
 * keys of "vnf_addrs" for IPv4). prefixlen first, as LPM requires; it is
 * host order, so bytes "24 0 0 0" on x86.
 */
struct vnfsec_lpm_v4_key {
	__u32 prefixlen;
	__be32 addr;
};
_Static_assert(sizeof(struct vnfsec_lpm_v4_key) == 8, "vnfsec_lpm_v4_key size");

/* Keys of "blocklist_v6", "allowlist_v6". */
struct vnfsec_lpm_v6_key {
	__u32 prefixlen;
	__u8 addr[16];
};
_Static_assert(sizeof(struct vnfsec_lpm_v6_key) == 20, "vnfsec_lpm_v6_key size");

enum vnfsec_block_reason {
	VNFSEC_BLOCK_OPERATOR = 1,	/* written by hand or by policy */
	VNFSEC_BLOCK_SERVER_ACTION,	/* corrective action from a server */
	VNFSEC_BLOCK_LOCAL,		/* the agent's own protect decision */
};

/*
 * Value of "blocklist_v4", "blocklist_v6", "allowlist_v4", "allowlist_v6".
 * expires_ns is CLOCK_MONOTONIC; 0 never expires. The program itself
 * ignores an expired entry, so a block ends on time even when the agent
 * that wrote it is gone; the agent deletes it as well. The lookup is by
 * the packet's source address (outer and, for GTP-U, inner): the longest
 * matching prefix decides; an expired longest match is no match (a
 * shorter live prefix is then not consulted).
 *
 * Allowlist: a live match exempts the source from blocklist_*, VNF pair
 * rules and the detectors' drops (not from quarantine or flow_override).
 */
struct vnfsec_block_entry {
	__u64 expires_ns;
	__u32 reason;		/* enum vnfsec_block_reason */
	__u32 pad;
};
_Static_assert(sizeof(struct vnfsec_block_entry) == 16,
	       "vnfsec_block_entry size");

/*
 * "vnf_ports" (HASH): which VNF a port/VLAN belongs to. Looked up on a new
 * flow as {ifindex, vlan}, then {ifindex, VNFSEC_VLAN_ANY}; no entry: VNF
 * 0 (unknown). For XDP (ingress) it gives the source VNF, for TC egress
 * the destination VNF, for lo both (use VNFSEC_VLAN_LO with lo's ifindex;
 * every namespace's lo is ifindex 1, so one entry serves all of them).
 */
#define VNFSEC_VLAN_ANY	0xffff
#define VNFSEC_VLAN_LO	0xfffe
struct vnfsec_port_key {
	__u32 ifindex;
	__u16 vlan;		/* outer VLAN id, 0 untagged, or *_ANY/_LO */
	__u16 pad;
};
_Static_assert(sizeof(struct vnfsec_port_key) == 8, "vnfsec_port_key size");

struct vnfsec_vnf_id {
	__u16 vnf;		/* 1..VNFSEC_MAX_VNFS-1 */
	__u16 pad;
};
_Static_assert(sizeof(struct vnfsec_vnf_id) == 4, "vnfsec_vnf_id size");

/*
 * "vnf_addrs" (LPM): which VNF owns an address, for the end of a flow the
 * port does not name (the destination at ingress, the source at egress).
 * One trie for both families: IPv4 a.b.c.d/n is stored as the IPv4-mapped
 * ::ffff:a.b.c.d/(96 + n). Value struct vnfsec_vnf_id.
 */

/*
 * "vnf_pair_policy" (HASH): what one VNF may send another. No entry: the
 * pair falls to config.pair_default (0 allow, 1 deny). With an entry the
 * packet is allowed iff its protocol's bit is in protos and, for TCP and
 * UDP, its destination port lies in one of the ranges of
 * ports[0..nr_ports) whose own protos has that protocol's bit, or no
 * range has it (every port of that protocol). So "TCP 80, UDP 53" is two
 * ranges, {80, 80, TCP} and {53, 53, UDP}, and allows neither UDP 80 nor
 * TCP 53; a range with protos 0 applies to nothing. Anything else is
 * VNFSEC_CAUSE_PAIR_POLICY: dropped in protect mode.
 * (ABI 2 had ports per pair: 4-byte ranges without protos.)
 */
#define VNFSEC_PROTO_TCP	0x01
#define VNFSEC_PROTO_UDP	0x02
#define VNFSEC_PROTO_ICMP	0x04	/* ICMP and ICMPv6 */
#define VNFSEC_PROTO_OTHER	0x08
#define VNFSEC_PAIR_MAX_PORTS	8

struct vnfsec_pair_key {
	__u16 src_vnf;
	__u16 dst_vnf;
};
_Static_assert(sizeof(struct vnfsec_pair_key) == 4, "vnfsec_pair_key size");

struct vnfsec_port_range {
	__u16 first;		/* host order, inclusive */
	__u16 last;
	__u8 protos;		/* VNFSEC_PROTO_TCP and/or _UDP it is for */
	__u8 l7;		/* ABI 7: 1: names an L7 protocol (F_L7) */
	__u8 pad[2];
};
_Static_assert(sizeof(struct vnfsec_port_range) == 8,
	       "vnfsec_port_range size");

struct vnfsec_pair_policy {
	__u8 protos;		/* VNFSEC_PROTO_* allowed */
	__u8 nr_ports;		/* ranges used in ports[] */
	__u16 pad;
	struct vnfsec_port_range ports[VNFSEC_PAIR_MAX_PORTS];
};
_Static_assert(sizeof(struct vnfsec_pair_policy) == 68,
	       "vnfsec_pair_policy size");

/*
 * "flow_override" (HASH): per-flow actions, keyed by the exact
 * vnfsec_flow_key the flow has in flow_table (dir and ifindex included).
 * The programs look it up only while config.nr_flow_overrides is not
 * zero (ABI 5): a writer keeps that at the entry count, so a new flow
 * pays for the map only when it has entries.
 * DROP drops it (protect mode; would_drop otherwise). MONITOR writes a
 * sample of every packet of the flow. MIRROR sends a copy of every packet
 * to config.mirror_ifindex: done by the TC programs (bpf_clone_redirect);
 * XDP cannot copy a frame, so at XDP a MIRROR flow is sampled as MONITOR.
 * expires_ns as for the blocklist.
 */
#define VNFSEC_OVERRIDE_DROP	0x01
#define VNFSEC_OVERRIDE_MONITOR	0x02
#define VNFSEC_OVERRIDE_MIRROR	0x04
/* ABI 7: drop, VNFSEC_CAUSE_L7: nDPI judged it not its rule's protocol. */
#define VNFSEC_OVERRIDE_L7	0x08

struct vnfsec_flow_override {
	__u64 expires_ns;
	__u32 actions;		/* VNFSEC_OVERRIDE_* */
	__u32 pad;
};
_Static_assert(sizeof(struct vnfsec_flow_override) == 16,
	       "vnfsec_flow_override size");

/*
 * "rate_override" (HASH, ABI 4): a rate of its own for one source address
 * (key struct vnfsec_det_key, as "det_rate": family and address, the
 * rest zero), in place of config.rate_pps/rate_burst. A HASH, not an LRU:
 * an order must never be evicted by traffic. The source's bucket is
 * det_rate's either way (see rate_limit() in vnfsec.bpf.c). expires_ns as
 * for the blocklist: an expired entry is no entry. The programs look it
 * up only while config.nr_rate_overrides is not zero, so the writer keeps
 * that field at the number of entries (or at least non-zero while there
 * are any); the hit path pays nothing when there are none.
 */
struct vnfsec_rate_override {
	__u64 expires_ns;
	__u32 pps;		/* packets per second, > 0 */
	__u32 burst;		/* packets; 0: pps */
	__u32 reason;		/* enum vnfsec_block_reason */
	__u32 pad;
};
_Static_assert(sizeof(struct vnfsec_rate_override) == 24,
	       "vnfsec_rate_override size");

/*
 * "quarantine" (HASH): __u16 VNF id -> this. Every packet from or to a
 * quarantined VNF is VNFSEC_CAUSE_QUARANTINE, except those whose other end
 * is config.mgmt_vnf (management) and non-IP frames (ARP keeps working).
 */
struct vnfsec_quarantine {
	__u64 expires_ns;
	__u32 reason;		/* enum vnfsec_block_reason */
	__u32 pad;
};
_Static_assert(sizeof(struct vnfsec_quarantine) == 16,
	       "vnfsec_quarantine size");

/*
 * Global mode, config.mode. 0 is protect so that an object loaded by
 * bpftool alone enforces its blocklist.
 *   protect  drop verdicts are carried out
 *   monitor  drop verdicts are counted as would_drop and alerted (detector
 *            events), never carried out
 *   learn    flows are recorded; nothing is dropped, detectors are silent
 */
enum vnfsec_mode {
	VNFSEC_MODE_PROTECT = 0,
	VNFSEC_MODE_MONITOR,
	VNFSEC_MODE_LEARN,
};

/* In-kernel detectors: bit (1 << id) in config.detectors_off/_drop. */
enum vnfsec_detector {
	VNFSEC_DET_SYN_FLOOD = 0,	/* key: destination */
	VNFSEC_DET_PORT_SCAN,		/* vertical, key: source */
	VNFSEC_DET_HOST_SCAN,		/* horizontal, key: source */
	VNFSEC_DET_SLOW_SCAN,		/* either, over slow_scan_window_ms */
	VNFSEC_DET_RST_FLOOD,		/* RST ratio, key: destination */
	VNFSEC_DET_RATE_LIMIT,		/* token bucket, key: source */
	VNFSEC_DET_MAX,
};

/* Defaults used where a config field is 0. */
#define VNFSEC_DEF_VERDICT_TTL_MS	1000
#define VNFSEC_DEF_SYN_MIN		200
#define VNFSEC_DEF_SYN_RATIO		8
#define VNFSEC_DEF_SYN_WINDOW_MS	1000
#define VNFSEC_DEF_SCAN_PORTS		64
#define VNFSEC_DEF_SCAN_HOSTS		32
#define VNFSEC_DEF_SCAN_WINDOW_MS	10000
#define VNFSEC_DEF_SLOW_SCAN_WINDOW_MS	600000
#define VNFSEC_DEF_RST_MIN		100
#define VNFSEC_DEF_RST_PCT		50
#define VNFSEC_DEF_RST_WINDOW_MS	10000
#define VNFSEC_DEF_RATE_WINDOW_MS	1000	/* rate-limit event period */

/*
 * "config" (ARRAY, one entry, key 0). An all-zero entry (bpftool load, no
 * agent) means: protect mode, policy generation 0, every detector on with
 * the defaults above, alerting but never dropping, no sampling, no rate
 * limit. Fields other than mode/pair_default/mgmt_vnf/policy_gen take
 * effect on the next packet.
 *
 * SYN flood: per destination address and window, SYNs (without ACK) are
 * counted against SYN-ACKs sent by it; fires when syns >= syn_min and
 * syns > syn_ratio * (synacks + 1). Scans: per source, the distinct
 * destination ports (vertical) and hosts (horizontal) of its new flows in
 * scan_window_ms, and over slow_scan_window_ms for slow scans; fires at
 * scan_ports / scan_hosts. Distinct values are counted in a 256-bit
 * linear-counting bitmap: it fires when the bits set reach the average
 * for that many distinct values (thresholds above 256 act as 256), and
 * the event's count is the bits set, a lower bound. RST: per destination,
 * RSTs vs new flows (SYNs) in rst_window_ms; fires when rsts >=
 * rst_min and rsts * 100 >= rst_pct * (flows + 1). Rate limit: per source
 * a token bucket of rate_burst packets refilled at rate_pps (0: off), or
 * at the source's own rate in rate_override (with rate_pps 0 too).
 * Each detector raises at most one event per key per window. With its bit
 * in detectors_drop and mode protect, it also drops: SYNs without ACK to
 * the flooded destination, new flows from the scanner, RSTs to the
 * destination, packets over the bucket; for the rest of the window.
 */
struct vnfsec_config {
	__u32 abi_version;	/* the writer's VNFSEC_ABI_VERSION (info) */
	__u32 policy_gen;	/* bump after writing any policy map */
	__u8 mode;		/* enum vnfsec_mode */
	__u8 pair_default;	/* 0 allow, 1 deny pairs without a rule */
	__u16 mgmt_vnf;		/* exempt from quarantine; 0: none */
	__u32 verdict_ttl_ms;	/* cached verdict lifetime (0: default) */
	__u32 sample_every;	/* 1-in-N packet samples; 0: off */
	__u32 mirror_ifindex;	/* MIRROR target (TC); 0: none */
	__u32 detectors_off;	/* bit per enum vnfsec_detector */
	__u32 detectors_drop;	/* bit per detector: drops in protect */
	__u32 syn_min;
	__u32 syn_ratio;
	__u32 syn_window_ms;
	__u32 scan_ports;
	__u32 scan_hosts;
	__u32 scan_window_ms;
	__u32 slow_scan_window_ms;
	__u32 rst_min;
	__u32 rst_pct;
	__u32 rst_window_ms;
	__u32 rate_pps;		/* 0: no rate limit */
	__u32 rate_burst;	/* 0: rate_pps */
	/* ABI 4: entries in rate_override; 0: the map is not looked at. */
	__u32 nr_rate_overrides;
	/* ABI 5: entries in flow_override; 0: the map is not looked at. */
	__u32 nr_flow_overrides;
	/* ABI 6, the defaults of VNFs without a vnf_policy entry: */
	__u8 unparsed;		/* enum vnfsec_unparsed */
	__u8 ethertypes;	/* VNFSEC_ETH_*: non-IP frames that pass */
	__u16 pad;
	/* ABI 7: bit (1 << enum vnfsec_det_class) per class with a pushed
	 * detector attached; 0: no slot of that class is ever tail-called. */
	__u32 ext_detectors;
};
_Static_assert(sizeof(struct vnfsec_config) == 96, "vnfsec_config size");

/*
 * Frames the fast path cannot classify to their L4 header (ABI 6): a walk
 * limit reached (more than VNFSEC_MAX_VLAN_TAGS tags, more than
 * VNFSEC_MAX_IPV6_EXT extension headers), a header cut short by the end
 * of the frame, a length field below its minimum or claiming more than
 * the frame holds, an unsupported or malformed encapsulation (GTP-U). Such
 * a frame cannot be judged by the pair rules, so it is never "allowed":
 * it takes VNFSEC_CAUSE_UNPARSED with the verdict of the port VNF's
 * unparsed setting (vnf_policy, else config.unparsed): DROP by default,
 * carried out in protect mode and counted would_drop in monitor and learn
 * ("could not parse" never means "allowed"). Its own counter says why
 * (trunc_ip, vlan_too_deep, bad_ip_len, ...), and a record
 * vnfsec_unparsed_record names port, source and cause, at most
 * VNFSEC_UNPARSED_REPORTS per CPU and window ("unparsed_unreported"
 * counts the rest).
 */
enum vnfsec_unparsed {
	VNFSEC_UNPARSED_DROP = 0,
	VNFSEC_UNPARSED_PASS,
};
#define VNFSEC_UNPARSED_REPORTS		64
#define VNFSEC_UNPARSED_WINDOW_NS	100000000ULL	/* 100 ms */

/*
 * Non-IP frames (ABI 6) pass only when their EtherType's bit is in the
 * port VNF's ethertypes (vnf_policy, else config.ethertypes); any other
 * is VNFSEC_CAUSE_ETHERTYPE (counters non_ip and drop_ethertype), dropped
 * in protect mode. IPv6 neighbour discovery is ICMPv6: IP, not this.
 */
#define VNFSEC_ETH_ARP		0x01	/* 0x0806 */
#define VNFSEC_ETH_LLDP		0x02	/* 0x88cc */
#define VNFSEC_ETH_ANY		0x80	/* every non-IP EtherType */

/*
 * "vnf_policy" (ARRAY, index VNF id, ABI 6): what one VNF's own policy
 * sets. own 0 (every entry until written, and VNF 0): the config's. A
 * flow's verdict is carried out in the strictest mode of its two VNFs
 * (protect before monitor before learn: the lower enum vnfsec_mode), so
 * a VNF in protect mode is protected from a peer in monitor mode; a
 * frame no flow is made of (unparsed, non-IP) in the mode of the VNF of
 * the port it was seen on. The detectors follow the flow's mode too.
 */
struct vnfsec_vnf_policy {
	__u8 own;		/* 1: the fields below apply */
	__u8 mode;		/* enum vnfsec_mode */
	__u8 unparsed;		/* enum vnfsec_unparsed */
	__u8 ethertypes;	/* VNFSEC_ETH_* */
	__u8 flags;		/* VNFSEC_VNF_F_* */
	__u8 pad[3];
};
_Static_assert(sizeof(struct vnfsec_vnf_policy) == 8,
	       "vnfsec_vnf_policy size");

/*
 * Anti-spoofing (ABI 6): a packet entering from a VNF's port (XDP or TC
 * ingress) must have a source address of that VNF (vnf_addrs) when the
 * VNF is VNFSEC_VNF_F_BOUND (it has addresses); a packet entering from a
 * port of no VNF may not have a source address of any VNF. Otherwise it
 * is VNFSEC_CAUSE_SPOOFED (counter drop_spoofed), dropped in protect mode
 * and reported (an unparsed record with that cause, the claimed address
 * and the port). For a GTP-U G-PDU the tunnel's source is checked, not
 * the user's. Unspecified (0.0.0.0, ::) and IPv6 link-local (fe80::/10)
 * sources are not checked: DHCP and neighbour discovery use them.
 * Allowlisted sources are exempt, as from the pair rules.
 */
#define VNFSEC_VNF_F_BOUND	0x01	/* the VNF's sources are its addresses */

/*
 * "vnf_stats" (PERCPU_ARRAY, index VNF id): per VNF, counted against the
 * flow's source VNF (VNF 0: unknown ports). Sum over CPUs.
 */
struct vnfsec_vnf_stats {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
	__u64 verdict[VNFSEC_VERDICT_MAX];	/* by enum vnfsec_verdict */
	__u64 events;				/* detector events raised */
};
_Static_assert(sizeof(struct vnfsec_vnf_stats) == 56,
	       "vnfsec_vnf_stats size");

/*
 * Detector state, "det_dst", "det_rate" (LRU_HASH, key vnfsec_det_key)
 * and "det_scan" (below):
 * internal to the program but pinned and readable; layouts may change
 * with the ABI version.
 */
struct vnfsec_det_key {
	union vnfsec_addr addr;
	__u8 family;
	__u8 pad[3];
};
_Static_assert(sizeof(struct vnfsec_det_key) == 20, "vnfsec_det_key size");

struct vnfsec_det_dst {			/* SYN flood and RST ratio */
	__u64 syn_window_ns;		/* window start */
	__u64 rst_window_ns;
	__u32 syns;
	__u32 synacks;
	__u32 rsts;
	__u32 flows;
	__u8 syn_fired;			/* this window's event raised */
	__u8 rst_fired;
	__u8 pad[6];
};
_Static_assert(sizeof(struct vnfsec_det_dst) == 40, "vnfsec_det_dst size");

#define VNFSEC_SCAN_BITS	256
struct vnfsec_scan_window {
	__u64 start_ns;
	__u16 ports;			/* distinct ports (bits set) */
	__u16 hosts;			/* distinct hosts (bits set) */
	__u8 ports_fired;
	__u8 hosts_fired;
	__u8 pad[2];
	__u64 port_bits[VNFSEC_SCAN_BITS / 64];
	__u64 host_bits[VNFSEC_SCAN_BITS / 64];
};
_Static_assert(sizeof(struct vnfsec_scan_window) == 80,
	       "vnfsec_scan_window size");

/*
 * "det_scan" (ARRAY of VNFSEC_DETECTOR_ENTRIES, index a hash of the
 * source): a direct-mapped cache, so a new flow from a new source costs
 * no allocation. A source hashing to a slot held by another takes it
 * over, window state reset: a flood of spoofed sources can delay a
 * scanner's detection, never fake one.
 */
struct vnfsec_det_scan {
	struct vnfsec_det_key src;	/* whose slot it is now */
	__u32 pad;
	struct vnfsec_scan_window fast;	/* scan_window_ms */
	struct vnfsec_scan_window slow;	/* slow_scan_window_ms */
};
_Static_assert(sizeof(struct vnfsec_det_scan) == 184,
	       "vnfsec_det_scan size");

struct vnfsec_det_rate {		/* "det_rate": token bucket, per source */
	__u64 tat_ns;			/* GCRA theoretical arrival time */
	__u64 window_ns;		/* event window start */
	__u32 limited;			/* packets over it this window */
	__u8 fired;			/* this window's event raised */
	__u8 pad[3];
};
_Static_assert(sizeof(struct vnfsec_det_rate) == 24, "vnfsec_det_rate size");

/*
 * "clock" (PERCPU_ARRAY, one entry): the coarse clock as last read on this
 * CPU and the jiffy it was read in. Reading jiffies is a load; the coarse
 * clock is a seqcount retry loop costing an eighth of the established-flow
 * path, and it moves only on a tick anyway. Internal to the programs.
 */
struct vnfsec_clock {
	__u64 jiffies;
	__u64 now_ns;		/* CLOCK_MONOTONIC, coarse */
};
_Static_assert(sizeof(struct vnfsec_clock) == 16, "vnfsec_clock size");

enum vnfsec_record_type {
	VNFSEC_REC_NEW_FLOW = 1,
	VNFSEC_REC_DETECTOR,
	VNFSEC_REC_SAMPLE,
	VNFSEC_REC_UNPARSED,	/* ABI 6 */
	VNFSEC_REC_EXT_DETECTOR,	/* ABI 7: a pushed detector's event */
};

/* Header of every record in the "events" ring buffer. */
struct vnfsec_record_hdr {
	__u16 type;		/* enum vnfsec_record_type */
	__u16 version;		/* VNFSEC_ABI_VERSION */
	__u32 len;		/* whole record, header included */
	__u64 ts_ns;		/* CLOCK_MONOTONIC */
};
_Static_assert(sizeof(struct vnfsec_record_hdr) == 16,
	       "vnfsec_record_hdr size");

/*
 * Emitted once per flow, when it enters flow_table. A GTP-U inner flow
 * (key.encap VNFSEC_ENCAP_GTPU) names its tunnel: teid and, ABI 7, the
 * outer addresses and UDP ports (outer_family 0 for any other flow).
 */
struct vnfsec_new_flow_record {
	struct vnfsec_record_hdr hdr;
	struct vnfsec_flow_key key;
	__u16 src_vnf;
	__u16 dst_vnf;
	__u32 pkt_len;
	__u32 teid;		/* GTP-U, network order; else 0 */
	__u8 tcp_flags;		/* flags of the packet that opened the flow */
	__u8 verdict;		/* enum vnfsec_verdict of that packet */
	__u8 cause;		/* enum vnfsec_cause */
	/* ABI 6: VNFSEC_FLOW_F_*; VNFSEC_FLOW_F_REPLY: the flow answers one
	 * that passed the other way (its source did not start it). */
	__u8 flags;
	/* ABI 7: the tunnel's outer tuple (GTP-U), else zero. */
	union vnfsec_addr outer_saddr;
	union vnfsec_addr outer_daddr;
	__be16 outer_sport;
	__be16 outer_dport;
	__u8 outer_family;	/* VNFSEC_AF_*; 0: not tunnelled */
	__u8 reserved[3];	/* zero */
};
_Static_assert(sizeof(struct vnfsec_new_flow_record) == 120,
	       "vnfsec_new_flow_record size");

/*
 * A detector fired. key is the packet that made it fire; the detector's
 * own key is key.daddr (SYN flood, RST) or key.saddr (scans, rate limit).
 */
struct vnfsec_detector_record {
	struct vnfsec_record_hdr hdr;
	struct vnfsec_flow_key key;
	__u16 src_vnf;
	__u16 dst_vnf;
	__u8 detector;		/* enum vnfsec_detector */
	__u8 dropping;		/* 1: it drops for the rest of the window */
	__u16 reserved;		/* zero */
	__u32 count;		/* SYNs, distinct ports/hosts, RSTs, pps */
	__u32 other;		/* SYN-ACKs, flows; else 0 */
	__u32 threshold;
	__u32 window_ms;
};
_Static_assert(sizeof(struct vnfsec_detector_record) == 88,
	       "vnfsec_detector_record size");

/*
 * A pushed detector raised an event (ABI 7): written by the fast path, not
 * by the detector, from vnfsec_det_ctx's out part.
 */
struct vnfsec_ext_detector_record {
	struct vnfsec_record_hdr hdr;
	struct vnfsec_flow_key key;
	__u16 src_vnf;
	__u16 dst_vnf;
	__u8 det_class;		/* enum vnfsec_det_class */
	__u8 verdict;		/* enum vnfsec_verdict, the mode applied */
	__u8 outer_family;	/* GTP-U: VNFSEC_AF_*; else 0 */
	__u8 reserved;		/* zero */
	__u32 event;		/* the detector's event code */
	__u32 teid;		/* GTP-U, network order; else 0 */
	__u64 value;
	union vnfsec_addr outer_saddr;	/* GTP-U: the tunnel's */
	union vnfsec_addr outer_daddr;
};
_Static_assert(sizeof(struct vnfsec_ext_detector_record) == 120,
	       "vnfsec_ext_detector_record size");

/* Why a sample was taken: vnfsec_sample_record.reason. */
enum vnfsec_sample_reason {
	VNFSEC_SAMPLE_EVERY_N = 1,	/* config.sample_every */
	VNFSEC_SAMPLE_MONITOR,		/* flow_override MONITOR or MIRROR */
	VNFSEC_SAMPLE_L7,		/* ABI 7: first packets, L7 pending */
};

/*
 * A packet sample: its headers and first bytes. New-flow and detector
 * records wake a sleeping reader at once; samples only when
 * VNFSEC_SAMPLE_WAKEUP_BYTES are unread, so a reader must also poll with
 * a timeout (the agent's loop does) to see a trickle of them.
 */
struct vnfsec_sample_record {
	struct vnfsec_record_hdr hdr;
	struct vnfsec_flow_key key;
	__u16 src_vnf;
	__u16 dst_vnf;
	__u32 pkt_len;		/* whole packet */
	__u16 cap_len;		/* bytes of data[] that are the packet's */
	__u8 reason;		/* enum vnfsec_sample_reason */
	__u8 verdict;		/* enum vnfsec_verdict */
	/* ABI 7: */
	__u8 mode;		/* enum vnfsec_mode the flow's verdict is in */
	__u8 flags;		/* the flow's VNFSEC_FLOW_F_* */
	__u8 index;		/* packet number in its flow (1..255) */
	__u8 reserved;		/* zero */
	__u8 data[VNFSEC_SAMPLE_BYTES];	/* from the Ethernet header on */
};
_Static_assert(sizeof(struct vnfsec_sample_record) == 208,
	       "vnfsec_sample_record size");

/*
 * A frame that could not be classified (cause VNFSEC_CAUSE_UNPARSED), a
 * non-IP frame no rule allows (VNFSEC_CAUSE_ETHERTYPE), a fragment evasion
 * (VNFSEC_CAUSE_FRAGMENT_EVASION, _TINY_FRAGMENT) or a spoofed source
 * (VNFSEC_CAUSE_SPOOFED), ABI 6: the agent's malformed_traffic,
 * fragment_evasion and spoofed_source assessments name port, source and
 * cause from it.
 */
struct vnfsec_unparsed_record {
	struct vnfsec_record_hdr hdr;
	__u32 ifindex;		/* the port it was seen on */
	__u16 vlan;		/* outer VLAN id, 0 untagged or unknown */
	__be16 ethertype;	/* after the VLAN tags walked; 0 if none */
	__u8 smac[6];		/* source MAC; zero for a runt frame */
	__u8 dir;		/* enum vnfsec_dir */
	__u8 family;		/* of saddr; 0: no IP header was parsed */
	union vnfsec_addr saddr;	/* source address, when parsed */
	__u16 vnf;		/* the port's VNF, 0 unknown */
	__u16 counter;		/* enum vnfsec_counter naming the cause */
	__u32 pkt_len;
	__u8 cause;		/* VNFSEC_CAUSE_UNPARSED or _ETHERTYPE */
	__u8 verdict;		/* enum vnfsec_verdict, the mode applied */
	__u8 reserved[6];	/* zero */
};
_Static_assert(sizeof(struct vnfsec_unparsed_record) == 64,
	       "vnfsec_unparsed_record size");

#endif /* VNFSEC_ABI_H */
