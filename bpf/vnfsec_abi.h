/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * vnfsec fast-path ABI: every map key/value and ring-buffer record shared
 * between the BPF programs (bpf/vnfsec.bpf.c) and userspace (agent, tests,
 * bpftool users). This is the only place these layouts are written.
 *
 * Rules: fixed-width types, explicit padding, a static size assert per
 * layout, and VNFSEC_ABI_VERSION bumped on any incompatible change.
 * Addresses and ports are kept in network byte order as on the wire.
 */
#ifndef VNFSEC_ABI_H
#define VNFSEC_ABI_H

#include <linux/types.h>

#define VNFSEC_ABI_VERSION 1

/* Pinning layout shared by bpftool users and the agent. */
#define VNFSEC_PIN_DIR		"/sys/fs/bpf/vnfsec"
#define VNFSEC_PIN_MAPS_DIR	VNFSEC_PIN_DIR "/maps"
#define VNFSEC_PROG_XDP		"vnfsec_xdp"

#define VNFSEC_FLOW_TABLE_ENTRIES	65536
#define VNFSEC_BLOCKLIST_V4_ENTRIES	16384
#define VNFSEC_EVENTS_BYTES		(1U << 20)

/*
 * Per-CPU counters, one slot each in the "counters" map. Every drop and
 * every malformed or truncated packet has a name here: nothing is lost
 * silently.
 */
enum vnfsec_counter {
	VNFSEC_CNT_RX_PACKETS = 0,	/* packets seen by the XDP program */
	VNFSEC_CNT_RX_BYTES,
	VNFSEC_CNT_PASS,
	VNFSEC_CNT_DROP_BLOCKLIST,	/* source matched blocklist_v4 */
	VNFSEC_CNT_NEW_FLOW,		/* flow_table insertions */
	VNFSEC_CNT_NON_IP,		/* not IPv4: passed, not classified */
	VNFSEC_CNT_TRUNC_ETH,		/* shorter than an Ethernet header */
	VNFSEC_CNT_TRUNC_IP,		/* IPv4 header past end of packet */
	VNFSEC_CNT_BAD_IP,		/* IHL < 5, version != 4, bad length */
	VNFSEC_CNT_TRUNC_L4,		/* TCP/UDP header past end of packet */
	VNFSEC_CNT_BAD_TCP,		/* TCP data offset < 5 */
	VNFSEC_CNT_IP_FRAGMENT,		/* non-first fragment: no L4 header */
	VNFSEC_CNT_RINGBUF_FULL,	/* ring-buffer reservation failed */
	VNFSEC_CNT_FLOW_INSERT_FAIL,	/* flow_table update failed */
	VNFSEC_CNT_MAX,
};

/* Readable names for the counters, index-aligned with the enum. */
#define VNFSEC_COUNTER_NAMES {						\
	"rx_packets", "rx_bytes", "pass", "drop_blocklist", "new_flow",	\
	"non_ip", "trunc_eth", "trunc_ip", "bad_ip", "trunc_l4",	\
	"bad_tcp", "ip_fragment", "ringbuf_full", "flow_insert_fail",	\
}

/* TCP flag bits as in the TCP header's 13th byte. */
#define VNFSEC_TCP_FIN	0x01
#define VNFSEC_TCP_SYN	0x02
#define VNFSEC_TCP_RST	0x04
#define VNFSEC_TCP_PSH	0x08
#define VNFSEC_TCP_ACK	0x10

/* Key of the LRU "flow_table" map: an IPv4 5-tuple and the ingress port. */
struct vnfsec_flow_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
	__u32 ifindex;
};
_Static_assert(sizeof(struct vnfsec_flow_key) == 20, "vnfsec_flow_key size");

/* Value of "flow_table". Times are bpf_ktime_get_ns() (CLOCK_MONOTONIC). */
struct vnfsec_flow_state {
	__u64 first_seen_ns;
	__u64 last_seen_ns;
	__u64 packets;
	__u64 bytes;
	__u8 tcp_flags_seen;
	__u8 pad[7];
};
_Static_assert(sizeof(struct vnfsec_flow_state) == 40,
	       "vnfsec_flow_state size");

/* Key of the LPM "blocklist_v4" map (prefixlen first, as LPM requires). */
struct vnfsec_lpm_v4_key {
	__u32 prefixlen;
	__be32 addr;
};
_Static_assert(sizeof(struct vnfsec_lpm_v4_key) == 8, "vnfsec_lpm_v4_key size");

enum vnfsec_block_reason {
	VNFSEC_BLOCK_OPERATOR = 1,	/* written by hand or by policy */
	VNFSEC_BLOCK_SERVER_ACTION,	/* corrective action from a server */
	VNFSEC_BLOCK_LOCAL,		/* the agent's own protect decision */
};

/*
 * Value of "blocklist_v4". expires_ns is CLOCK_MONOTONIC; 0 never expires.
 * The program itself ignores an expired entry, so a block ends on time even
 * when the agent that wrote it is gone; the agent deletes it as well.
 */
struct vnfsec_block_entry {
	__u64 expires_ns;
	__u32 reason;		/* enum vnfsec_block_reason */
	__u32 pad;
};
_Static_assert(sizeof(struct vnfsec_block_entry) == 16,
	       "vnfsec_block_entry size");

enum vnfsec_record_type {
	VNFSEC_REC_NEW_FLOW = 1,
};

/* Header of every record in the "events" ring buffer. */
struct vnfsec_record_hdr {
	__u16 type;		/* enum vnfsec_record_type */
	__u16 version;		/* VNFSEC_ABI_VERSION */
	__u32 len;		/* whole record, header included */
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
};
_Static_assert(sizeof(struct vnfsec_record_hdr) == 16,
	       "vnfsec_record_hdr size");

/* Emitted once per flow, when it enters flow_table. */
struct vnfsec_new_flow_record {
	struct vnfsec_record_hdr hdr;
	struct vnfsec_flow_key key;
	__u8 tcp_flags;		/* flags of the packet that opened the flow */
	__u8 pad[3];
	__u32 pkt_len;
	__u32 reserved;		/* zero; keeps the size a multiple of 8 */
};
_Static_assert(sizeof(struct vnfsec_new_flow_record) == 48,
	       "vnfsec_new_flow_record size");

#endif /* VNFSEC_ABI_H */
