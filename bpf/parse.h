/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packet parsers for the vnfsec fast path, in the shape of xdp-tools'
 * parsing_helpers.h: each helper checks one header against data_end,
 * advances the cursor past it and returns what comes next.
 *
 * A parser that gives up returns a negative value naming the counter that
 * explains why (-VNFSEC_CNT_TRUNC_IP, ...), so the caller records it and
 * passes the packet: a frame we cannot parse is not ours to judge.
 *
 * Nothing here reads a byte before checking it lies below data_end; the
 * verifier refuses the object otherwise, and a malformed frame must never
 * make us read past the end.
 */
#ifndef VNFSEC_PARSE_H
#define VNFSEC_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpf/vnfsec_abi.h"

/* From include/net/ip.h, which is not UAPI. */
#define IP_MF		0x2000
#define IP_OFFSET	0x1fff

struct hdr_cursor {
	void *pos;
};

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

/* Returns the IP protocol; skips IPv4 options as IHL says. */
static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end,
				       struct iphdr **iphdr)
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

	nh->pos += hdrsize;
	*iphdr = iph;
	return iph->protocol;
}

/* Only the first fragment carries the L4 header; the others have none. */
static __always_inline int ip_is_later_fragment(const struct iphdr *iph)
{
	return (iph->frag_off & bpf_htons(IP_OFFSET)) != 0;
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

/* Returns the header length in bytes. */
static __always_inline int parse_udphdr(struct hdr_cursor *nh, void *data_end,
					struct udphdr **udphdr)
{
	struct udphdr *uh = nh->pos;

	if ((void *)(uh + 1) > data_end)
		return -VNFSEC_CNT_TRUNC_L4;

	nh->pos = uh + 1;
	*udphdr = uh;
	return sizeof(*uh);
}

/* The flag byte of a TCP header, as VNFSEC_TCP_* bits. */
static __always_inline __u8 tcp_flags(const struct tcphdr *th)
{
	return ((const __u8 *)th)[13];
}

#endif /* VNFSEC_PARSE_H */
