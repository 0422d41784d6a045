/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Frames the detectors' tests and benchmark hand the fast path: IPv4 UDP,
 * DNS queries and responses, GTP-U G-PDUs.
 */
#ifndef VNFSEC_DETECTOR_FRAMES_H
#define VNFSEC_DETECTOR_FRAMES_H

#include <arpa/inet.h>
#include <string.h>

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>

static inline __u16 ip_checksum(const void *hdr, int len)
{
	const __u16 *p = hdr;
	__u32 sum = 0;

	for (; len > 1; len -= 2)
		sum += *p++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/*
 * IPv4 + UDP + payload at p; returns its length. Built aside and copied:
 * p sits 14 bytes into a frame, not where a struct iphdr may be.
 */
static inline __u32 put_ip_udp(__u8 *p, const char *saddr, const char *daddr,
			       __u16 sport, __u16 dport, const void *payload,
			       __u32 plen)
{
	struct iphdr ip = {
		.version = 4,
		.ihl = 5,
		.ttl = 64,
		.protocol = IPPROTO_UDP,
	};
	struct udphdr udp = {
		.source = htons(sport),
		.dest = htons(dport),
		.len = htons(sizeof(udp) + plen),
	};

	ip.tot_len = htons(sizeof(ip) + sizeof(udp) + plen);
	ip.saddr = inet_addr(saddr);
	ip.daddr = inet_addr(daddr);
	ip.check = ip_checksum(&ip, sizeof(ip));
	memcpy(p, &ip, sizeof(ip));
	memcpy(p + sizeof(ip), &udp, sizeof(udp));
	memcpy(p + sizeof(ip) + sizeof(udp), payload, plen);
	return sizeof(ip) + sizeof(udp) + plen;
}

static inline __u32 put_eth(__u8 *frame)
{
	struct ethhdr eth = { .h_proto = htons(ETH_P_IP) };

	eth.h_dest[5] = 2;
	eth.h_source[5] = 1;
	memcpy(frame, &eth, sizeof(eth));
	return ETH_HLEN;
}

static inline __u32 udp_frame(__u8 *frame, const char *saddr, const char *daddr,
		       __u16 sport, __u16 dport, const void *payload,
		       __u32 plen)
{
	__u32 n = put_eth(frame);

	return n + put_ip_udp(frame + n, saddr, daddr, sport, dport, payload,
			      plen);
}

/* A DNS query for name (dotted), or a response of resp_len bytes. */
static inline __u32 dns_payload(__u8 *buf, const char *name, __u32 resp_len)
{
	const char *label = name, *dot;
	__u32 n = 12;

	memset(buf, 0, 12);
	buf[0] = 0x12;
	buf[1] = 0x34;
	buf[5] = 1;			/* one question */
	if (resp_len) {
		buf[2] = 0x81;		/* response */
		memset(buf + 12, 0, resp_len - 12);
		return resp_len;
	}
	buf[2] = 0x01;			/* recursion desired */
	while (*label) {
		dot = strchr(label, '.');
		__u32 l = dot ? (__u32)(dot - label) : strlen(label);

		buf[n++] = l;
		memcpy(buf + n, label, l);
		n += l;
		label += l + (dot ? 1 : 0);
	}
	buf[n++] = 0;
	buf[n++] = 0;
	buf[n++] = 1;			/* type A */
	buf[n++] = 0;
	buf[n++] = 1;			/* class IN */
	return n;
}

/* A G-PDU from enb to sgw carrying one inner UDP packet, for teid. */
static inline __u32 gtpu_frame(__u8 *frame, const char *enb, const char *sgw,
			__u32 teid)
{
	__u8 gtp[8 + 28 + 4] = { 0x30, 0xff };
	__u32 n = put_eth(frame), inner;
	__be32 t = htonl(teid);

	inner = put_ip_udp(gtp + 8, "10.45.0.2", "10.46.0.9", 40000, 5000,
			   "ping", 4);
	gtp[2] = inner >> 8;
	gtp[3] = inner & 0xff;
	memcpy(gtp + 4, &t, 4);
	return n + put_ip_udp(frame + n, enb, sgw, 2152, 2152, gtp,
			      8 + inner);
}

#endif /* VNFSEC_DETECTOR_FRAMES_H */
