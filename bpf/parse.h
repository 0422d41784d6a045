/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packet parsers for the vnfsec fast path, in the shape of xdp-tools'
 * parsing_helpers.h: each helper checks one header against data_end,
 * advances the cursor past it and returns what comes next.
 *
 * A parser that gives up returns a negative value naming the counter that
 * explains why (-VNFSEC_CNT_TRUNC_IP, ...), so the caller records it and
 * gives the frame the unparsed verdict (vnfsec_abi.h): a frame we cannot
 * parse is never allowed by a rule it was not judged by.
 *
 * Nothing here reads a byte before checking it lies below data_end; the
 * verifier refuses the object otherwise, and a malformed frame must never
 * make us read past the end. Every walk over a chain of headers (VLAN
 * tags, IPv6 extension headers, GTP-U extension headers) has a fixed
 * bound: an attacker cannot make the program loop.
 */
#ifndef VNFSEC_PARSE_H
#define VNFSEC_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpf/vnfsec_abi.h"

/* From include/net/ip.h, which is not UAPI. */
#define IP_MF		0x2000
#define IP_OFFSET	0x1fff
/* From include/net/ipv6.h. */
#define IP6_MF		0x0001
#define IP6_OFFSET	0xfff8

/* linux/icmp.h drags in libc's socket headers: the four we need. */
#define ICMP_ECHOREPLY		0
#define ICMP_ECHO		8
#define ICMPV6_ECHO_REQUEST	128
#define ICMPV6_ECHO_REPLY	129

#ifndef ETH_P_8021AD
#define ETH_P_8021AD	0x88A8
#endif

/* Not in UAPI headers. */
struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

struct ip6_ext_hdr {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct ip6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;	/* offset << 3 | M */
	__be32 identification;
};

/* 3GPP TS 29.281: the mandatory part of a GTP-U header. */
struct gtpu_hdr {
	__u8 flags;		/* version:3 PT:1 spare:1 E:1 S:1 PN:1 */
	__u8 type;
	__be16 length;		/* after the mandatory 8 bytes */
	__be32 teid;
};
#define GTPU_V1		0x20
#define GTPU_PT		0x10
#define GTPU_E		0x04
#define GTPU_S		0x02
#define GTPU_PN		0x01
#define GTPU_G_PDU	0xff
#define GTPU_MAX_EXT	4	/* extension headers walked */

struct hdr_cursor {
	void *pos;
};

/*
 * Forget how the cursor got where it is. After a bounded walk the cursor
 * is one of many variable offsets, and the verifier follows every one of
 * them through the rest of the parser: the walks multiply past its limit.
 * Masking the offset makes all of them the same unknown 0..16383 (no header lies deeper), so the
 * states merge; every later read is bounds-checked again anyway.
 */
static __always_inline void cursor_forget(struct hdr_cursor *nh, void *data)
{
	__u64 off = nh->pos - data;

	asm volatile("%0 &= 0x3fff" : "+r"(off));
	nh->pos = data + off;
}

/* Returns the EtherType in network byte order. */
static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end,
					struct ethhdr **ethhdr)
{
	struct ethhdr *eth = nh->pos;

	if ((void *)(eth + 1) > data_end)
		return -VNFSEC_CNT_TRUNC_ETH;

	nh->pos = eth + 1;
	*ethhdr = eth;
	return eth->h_proto;
}

/* 802.1Q, 802.1ad and the pre-standard QinQ TPIDs some switches use. */
static __always_inline int proto_is_vlan(__u16 h_proto)
{
	return h_proto == bpf_htons(ETH_P_8021Q) ||
	       h_proto == bpf_htons(ETH_P_8021AD) ||
	       h_proto == bpf_htons(0x9100) || h_proto == bpf_htons(0x9200);
}

/*
 * Skips up to VNFSEC_MAX_VLAN_TAGS tags, any TPID of proto_is_vlan() in
 * any order; returns the EtherType after them and the outermost VLAN id
 * in *vlan. One more tag is VLAN_TOO_DEEP: the frame is not classified.
 */
static __always_inline int parse_vlans(struct hdr_cursor *nh, void *data,
				       void *data_end, int h_proto,
				       __u16 *vlan)
{
	struct vlan_hdr *vh;
	int i;

	/* As skip_ip6_ext(): the cursor forgotten at each tag. */
#pragma unroll
	for (i = 0; i < VNFSEC_MAX_VLAN_TAGS; i++) {
		if (!proto_is_vlan(h_proto))
			return h_proto;
		cursor_forget(nh, data);
		vh = nh->pos;
		if ((void *)(vh + 1) > data_end)
			return -VNFSEC_CNT_TRUNC_VLAN;
		if (i == 0)
			*vlan = bpf_ntohs(vh->h_vlan_TCI) & 0x0fff;
		h_proto = vh->h_vlan_encapsulated_proto;
		nh->pos = vh + 1;
	}
	if (proto_is_vlan(h_proto))
		return -VNFSEC_CNT_VLAN_TOO_DEEP;
	return h_proto;
}

/*
 * Returns the IP protocol; skips IPv4 options as IHL says. room: the bytes
 * of the whole packet from the header on (the frame may be longer than
 * data_end at TC): a total length claiming more is BAD_IP_LEN, since what
 * the header says is missing cannot have been judged.
 */
static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end,
				       struct iphdr **iphdr, __u32 room)
{
	struct iphdr *iph = nh->pos;
	int hdrsize;

	if ((void *)(iph + 1) > data_end)
		return -VNFSEC_CNT_TRUNC_IP;
	if (iph->version != 4 || iph->ihl < 5)
		return -VNFSEC_CNT_BAD_IP;

	hdrsize = iph->ihl * 4;
	/* A datagram shorter than its own header is forged, not truncated. */
	if (bpf_ntohs(iph->tot_len) < hdrsize)
		return -VNFSEC_CNT_BAD_IP;
	if (nh->pos + hdrsize > data_end)
		return -VNFSEC_CNT_TRUNC_IP;
	if (bpf_ntohs(iph->tot_len) > room)
		return -VNFSEC_CNT_BAD_IP_LEN;

	nh->pos += hdrsize;
	*iphdr = iph;
	return iph->protocol;
}

/* Only the first fragment carries the L4 header; the others have none. */
static __always_inline int ip_is_later_fragment(const struct iphdr *iph)
{
	return (iph->frag_off & bpf_htons(IP_OFFSET)) != 0;
}

static __always_inline int ip_is_first_fragment(const struct iphdr *iph)
{
	return (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)) ==
	       bpf_htons(IP_MF);
}

/* Returns the next header after the fixed IPv6 header; room as for IPv4. */
static __always_inline int parse_ip6hdr(struct hdr_cursor *nh, void *data_end,
					struct ipv6hdr **ip6hdr, __u32 room)
{
	struct ipv6hdr *ip6h = nh->pos;

	if ((void *)(ip6h + 1) > data_end)
		return -VNFSEC_CNT_TRUNC_IP6;
	if (ip6h->version != 6)
		return -VNFSEC_CNT_BAD_IP6;
	/* 0 is a jumbogram's: its length is in an option, not checked. */
	if (bpf_ntohs(ip6h->payload_len) + sizeof(*ip6h) > room)
		return -VNFSEC_CNT_BAD_IP6_LEN;

	nh->pos = ip6h + 1;
	*ip6hdr = ip6h;
	return ip6h->nexthdr;
}

/* What the extension-header walk found besides the upper protocol. */
struct ip6_ext_info {
	__u8 nr_ext;		/* extension headers skipped */
	__u8 later_fragment;	/* fragment header with offset != 0 */
	__u8 first_fragment;	/* fragment header, offset 0, M set */
	__u16 frag_off;		/* fragment offset, 8-byte units */
	__u32 frag_end;		/* fragment header's end, from data */
	__be32 frag_id;
};

static __always_inline int ip6_is_ext(int nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_FRAGMENT || nexthdr == IPPROTO_DSTOPTS ||
	       nexthdr == IPPROTO_AH;
}

/*
 * Walks at most VNFSEC_MAX_IPV6_EXT extension headers (hop-by-hop,
 * routing, fragment, destination options, AH) and returns the upper-layer
 * protocol. Stops at a later fragment: what follows its header is payload.
 */
static __always_inline int skip_ip6_ext(struct hdr_cursor *nh, void *data,
					void *data_end, int nexthdr,
					struct ip6_ext_info *xi)
{
	struct ip6_frag_hdr *fh;
	struct ip6_ext_hdr *eh;
	int i, len;

	/*
	 * The cursor forgotten at each header: the verifier then sees one
	 * state per header rather than one per way of getting there, and 16
	 * headers stay within its limits. Unrolled: 6.1's verifier refuses
	 * a loop whose back-edge the compiler lays out as a fall-through.
	 */
#pragma unroll
	for (i = 0; i < VNFSEC_MAX_IPV6_EXT; i++) {
		if (!ip6_is_ext(nexthdr))
			return nexthdr;
		cursor_forget(nh, data);
		eh = nh->pos;
		if ((void *)(eh + 1) > data_end)
			return -VNFSEC_CNT_TRUNC_IP6_EXT;
		if (nexthdr == IPPROTO_FRAGMENT) {
			fh = nh->pos;
			if ((void *)(fh + 1) > data_end)
				return -VNFSEC_CNT_TRUNC_IP6_EXT;
			xi->nr_ext++;
			nh->pos = fh + 1;
			xi->frag_id = fh->identification;
			xi->frag_off = bpf_ntohs(fh->frag_off) >> 3;
			xi->frag_end = nh->pos - data;
			if (fh->frag_off & bpf_htons(IP6_OFFSET)) {
				xi->later_fragment = 1;
				return fh->nexthdr;
			}
			if (fh->frag_off & bpf_htons(IP6_MF))
				xi->first_fragment = 1;
			nexthdr = fh->nexthdr;
			continue;
		}
		/* AH counts 4-byte units less 2, the others 8-byte units less 1. */
		if (nexthdr == IPPROTO_AH)
			len = (eh->hdrlen + 2) * 4;
		else
			len = (eh->hdrlen + 1) * 8;
		if (nh->pos + len > data_end)
			return -VNFSEC_CNT_TRUNC_IP6_EXT;
		xi->nr_ext++;
		nexthdr = eh->nexthdr;
		nh->pos += len;
	}
	if (ip6_is_ext(nexthdr))
		return -VNFSEC_CNT_IP6_EXT_LIMIT;
	return nexthdr;
}

/* Returns the header length in bytes, options included. */
static __always_inline int parse_tcphdr(struct hdr_cursor *nh, void *data_end,
					struct tcphdr **tcphdr)
{
	struct tcphdr *th = nh->pos;
	int hdrsize;

	if ((void *)(th + 1) > data_end)
		return -VNFSEC_CNT_TRUNC_L4;
	if (th->doff < 5)
		return -VNFSEC_CNT_BAD_TCP;

	hdrsize = th->doff * 4;
	if (nh->pos + hdrsize > data_end)
		return -VNFSEC_CNT_TRUNC_L4;

	nh->pos += hdrsize;
	*tcphdr = th;
	return hdrsize;
}

/* Returns the header length in bytes; room as for IPv4. */
static __always_inline int parse_udphdr(struct hdr_cursor *nh, void *data_end,
					struct udphdr **udphdr, __u32 room)
{
	struct udphdr *uh = nh->pos;

	if ((void *)(uh + 1) > data_end)
		return -VNFSEC_CNT_TRUNC_L4;
	if (bpf_ntohs(uh->len) < sizeof(*uh) || bpf_ntohs(uh->len) > room)
		return -VNFSEC_CNT_BAD_UDP_LEN;

	nh->pos = uh + 1;
	*udphdr = uh;
	return sizeof(*uh);
}

/*
 * ICMP and ICMPv6 share the first 8 bytes' shape: type, code, checksum,
 * then for echo request/reply the identifier. Returns the header length.
 */
struct icmp_common {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 seq;
};

static __always_inline int parse_icmphdr(struct hdr_cursor *nh, void *data_end,
					 struct icmp_common **icmph)
{
	struct icmp_common *ih = nh->pos;

	if ((void *)(ih + 1) > data_end)
		return -VNFSEC_CNT_TRUNC_L4;

	nh->pos = ih + 1;
	*icmph = ih;
	return sizeof(*ih);
}

static __always_inline int icmp_is_echo(int proto, __u8 type)
{
	if (proto == IPPROTO_ICMP)
		return type == ICMP_ECHO || type == ICMP_ECHOREPLY;
	return type == ICMPV6_ECHO_REQUEST || type == ICMPV6_ECHO_REPLY;
}

/*
 * GTP-U after its UDP header. Returns GTPU_G_PDU with the cursor on the
 * inner IP packet, another message type (echo, error indication, end
 * marker) with the cursor unspecified, or a negative counter.
 */
static __always_inline int parse_gtpu(struct hdr_cursor *nh, void *data_end,
				      __u32 *teid)
{
	struct gtpu_hdr *gh = nh->pos;
	__u8 *opt, next;
	void *end;
	int i, len;

	if ((void *)(gh + 1) > data_end)
		return -VNFSEC_CNT_TRUNC_GTPU;
	if ((gh->flags & 0xe0) != GTPU_V1 || !(gh->flags & GTPU_PT))
		return -VNFSEC_CNT_BAD_GTPU;
	*teid = gh->teid;
	nh->pos = gh + 1;
	if (gh->type != GTPU_G_PDU)
		return gh->type;
	if (!(gh->flags & (GTPU_E | GTPU_S | GTPU_PN)))
		return GTPU_G_PDU;

	/* Sequence number (2), N-PDU number (1), next extension type (1). */
	opt = nh->pos;
	if ((void *)(opt + 4) > data_end)
		return -VNFSEC_CNT_TRUNC_GTPU;
	next = (gh->flags & GTPU_E) ? opt[3] : 0;
	nh->pos = opt + 4;

#pragma unroll
	for (i = 0; i < GTPU_MAX_EXT; i++) {
		if (!next)
			return GTPU_G_PDU;
		opt = nh->pos;
		if ((void *)(opt + 1) > data_end)
			return -VNFSEC_CNT_TRUNC_GTPU;
		/* Length in 4-byte units, this byte and the next type included. */
		len = opt[0] * 4;
		if (!len)
			return -VNFSEC_CNT_BAD_GTPU;
		end = nh->pos + len;
		if (end > data_end)
			return -VNFSEC_CNT_TRUNC_GTPU;
		next = *((__u8 *)end - 1);
		nh->pos = end;
	}
	if (next)
		return -VNFSEC_CNT_BAD_GTPU;
	return GTPU_G_PDU;
}

/* The flag byte of a TCP header, as VNFSEC_TCP_* bits. */
static __always_inline __u8 tcp_flags(const struct tcphdr *th)
{
	return ((const __u8 *)th)[13];
}

#endif /* VNFSEC_PARSE_H */
