// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fast-path selftests: run vnfsec_xdp (and the TC programs) on crafted
 * frames with BPF_PROG_TEST_RUN and check verdicts, counters, the flows
 * (flow_new for one packet, then flow_table),
 * the policy maps' effect and the "events" ring buffer; then check that
 * bpftool alone loads the object and pins what docs/bpf-maps.md promises.
 *
 * The object is loaded once; each test empties every map first, so
 * counters, flows, detector state and records start from zero. One
 * behaviour each.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/magic.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/vnfsec_abi.h"
#include "vnfsec.skel.h"

#include "kselftest_harness.h"

#define MAX_FRAME	1024
#define MAX_RECORDS	64
#define IP_MF		0x2000
#define IP_DF		0x4000
#define NS		1000000000ULL

static const char *const counter_names[VNFSEC_CNT_MAX] = VNFSEC_COUNTER_NAMES;

/* ---- crafted frames ---------------------------------------------------- */

struct frame_spec {
	const char *saddr;
	const char *daddr;
	__u8 proto;
	__u16 sport;		/* ICMP: echo identifier */
	__u16 dport;
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 ip_opt_words;	/* IHL beyond 5 */
	__u8 tcp_opt_words;	/* data offset beyond 5 */
	__u16 frag_off;		/* host order: IP_MF | offset in 8-byte units */
	__u16 payload_len;
	__u8 nr_vlans;		/* 0..5 tags before the IP header */
	__u16 vlan[5];
	__u16 tpid[5];		/* 0: 802.1ad outermost of several, else 802.1Q */
	__u32 seq;		/* TCP sequence number; 0: 1000 */
};

/*
 * A frame starts 2 bytes into a 4-byte aligned buffer, as drivers place
 * received frames (NET_IP_ALIGN): the IP header is then aligned.
 */
struct frame_buf {
	__u8 headroom[2];
	__u8 data[MAX_FRAME];
} __attribute__((aligned(4)));

static __u16 ip_checksum(const void *hdr, int len)
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
 * Ethernet and VLAN tags (802.1ad outer, 802.1Q inner, or the TPIDs of
 * tpid[]); returns length.
 */
static __u32 put_eth_tpid(__u8 *frame, __u16 proto, __u8 nr_vlans,
			  const __u16 *vlan, const __u16 *tpid)
{
	static const __u8 dst_mac[ETH_ALEN] = { 2, 0, 0, 0, 0, 2 };
	static const __u8 src_mac[ETH_ALEN] = { 2, 0, 0, 0, 0, 1 };
	struct ethhdr *eth = (struct ethhdr *)frame;
	__u8 *p = frame + ETH_HLEN;
	int i;

	memcpy(eth->h_dest, dst_mac, ETH_ALEN);
	memcpy(eth->h_source, src_mac, ETH_ALEN);
	eth->h_proto = htons(nr_vlans ? (tpid && tpid[0] ? tpid[0] :
					 nr_vlans > 1 ? 0x88a8 : 0x8100) :
			     proto);
	for (i = 0; i < nr_vlans; i++) {
		__u16 tci = htons(vlan[i]);
		__u16 next = htons(i + 1 < nr_vlans ?
				   (tpid && tpid[i + 1] ? tpid[i + 1] : 0x8100) :
				   proto);

		memcpy(p, &tci, 2);
		memcpy(p + 2, &next, 2);
		p += 4;
	}
	return p - frame;
}

static __u32 put_eth(__u8 *frame, __u16 proto, __u8 nr_vlans,
		     const __u16 *vlan)
{
	return put_eth_tpid(frame, proto, nr_vlans, vlan, NULL);
}

static __u32 l4_hdr_len(const struct frame_spec *s)
{
	if (s->proto == IPPROTO_TCP)
		return (5 + s->tcp_opt_words) * 4;
	if (s->proto == IPPROTO_UDP || s->proto == IPPROTO_ICMP ||
	    s->proto == IPPROTO_ICMPV6)
		return 8;
	return 0;
}

/* TCP, UDP, ICMP/ICMPv6 header and payload at l4; returns their length. */
static __u32 put_l4(__u8 *l4, const struct frame_spec *s)
{
	__u32 l4_len = l4_hdr_len(s);

	if (s->proto == IPPROTO_TCP) {
		struct tcphdr *th = (struct tcphdr *)l4;

		th->source = htons(s->sport);
		th->dest = htons(s->dport);
		th->seq = htonl(s->seq ? s->seq : 1000);
		th->doff = 5 + s->tcp_opt_words;
		th->window = htons(64240);
		l4[13] = s->tcp_flags;
		memset(th + 1, 1, s->tcp_opt_words * 4);
	} else if (s->proto == IPPROTO_UDP) {
		struct udphdr *uh = (struct udphdr *)l4;

		uh->source = htons(s->sport);
		uh->dest = htons(s->dport);
		uh->len = htons(l4_len + s->payload_len);
	} else if (s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6) {
		__u16 id = htons(s->sport);

		l4[0] = s->icmp_type;
		l4[1] = s->icmp_code;
		memcpy(l4 + 4, &id, 2);
	}
	memset(l4 + l4_len, 0xab, s->payload_len);
	return l4_len + s->payload_len;
}

static struct iphdr *frame_ip(__u8 *frame)
{
	return (struct iphdr *)(frame + ETH_HLEN);
}

static void *frame_l4(__u8 *frame)
{
	return frame + ETH_HLEN + frame_ip(frame)->ihl * 4;
}

/* IPv4 header at p for an L4 part of l4_len bytes; returns its length. */
static __u32 put_ipv4(__u8 *p, const struct frame_spec *s, __u32 l4_len)
{
	struct iphdr *iph = (struct iphdr *)p;
	__u32 ip_len = (5 + s->ip_opt_words) * 4;

	iph->version = 4;
	iph->ihl = 5 + s->ip_opt_words;
	iph->tot_len = htons(ip_len + l4_len);
	iph->id = htons(0x1234);
	iph->frag_off = htons(s->frag_off ? s->frag_off : IP_DF);
	iph->ttl = 64;
	iph->protocol = s->proto;
	iph->saddr = inet_addr(s->saddr);
	iph->daddr = inet_addr(s->daddr);
	/* IP options: NOPs (type 1). */
	memset(iph + 1, 1, s->ip_opt_words * 4);
	iph->check = ip_checksum(iph, ip_len);
	return ip_len;
}

/* Writes an Ethernet (+ VLAN) + IPv4 (+ L4) frame; returns its length. */
static __u32 build_frame(__u8 *frame, const struct frame_spec *s)
{
	__u32 off, ip_len, l4_len;

	memset(frame, 0, MAX_FRAME);
	off = put_eth_tpid(frame, ETH_P_IP, s->nr_vlans, s->vlan, s->tpid);
	ip_len = (5 + s->ip_opt_words) * 4;
	l4_len = put_l4(frame + off + ip_len, s);
	put_ipv4(frame + off, s, l4_len);
	return off + ip_len + l4_len;
}

/* IPv6: extension headers by type, each of its minimal size. */
struct frame6_spec {
	struct frame_spec l4;	/* saddr/daddr are IPv6 here */
	__u8 nr_ext;
	__u8 ext[24];		/* IPPROTO_HOPOPTS, _ROUTING, _DSTOPTS, ... */
	__u8 ext_words[24];	/* beyond each header's minimal size, 8 B each */
	__u16 frag_off;		/* fragment header's field: offset << 3 | M */
};

static __u32 put_ipv6(__u8 *p, const struct frame6_spec *s6, __u32 l4_len)
{
	struct ipv6hdr *ip6h = (struct ipv6hdr *)p;
	__u8 *q = p + sizeof(*ip6h);
	__u8 *prev_next = &ip6h->nexthdr;
	int i;

	ip6h->version = 6;
	ip6h->hop_limit = 64;
	inet_pton(AF_INET6, s6->l4.saddr, &ip6h->saddr);
	inet_pton(AF_INET6, s6->l4.daddr, &ip6h->daddr);
	for (i = 0; i < s6->nr_ext; i++) {
		__u8 t = s6->ext[i];

		*prev_next = t;
		prev_next = q;
		if (t == IPPROTO_FRAGMENT) {
			__u16 fo = htons(s6->frag_off);

			memcpy(q + 2, &fo, 2);
			q += 8;
		} else if (t == IPPROTO_AH) {
			/* (1 + 2) * 4 = 12 bytes, + 8 per extra word */
			q[1] = 1 + 2 * s6->ext_words[i];
			q += 12 + 8 * s6->ext_words[i];
		} else {
			q[1] = s6->ext_words[i];	/* 8 bytes each */
			q += 8 + 8 * s6->ext_words[i];
		}
	}
	*prev_next = s6->l4.proto;
	ip6h->payload_len = htons(q - p - sizeof(*ip6h) + l4_len);
	return q - p;
}

static __u32 ext_len(const struct frame6_spec *s6)
{
	__u32 n = 0;
	int i;

	for (i = 0; i < s6->nr_ext; i++)
		n += (s6->ext[i] == IPPROTO_AH ? 12 : 8) +
		     (s6->ext[i] == IPPROTO_FRAGMENT ? 0 :
		      8 * s6->ext_words[i]);
	return n;
}

static __u32 build_frame6(__u8 *frame, const struct frame6_spec *s6)
{
	__u32 off, ip_len, l4_len;

	memset(frame, 0, MAX_FRAME);
	off = put_eth_tpid(frame, ETH_P_IPV6, s6->l4.nr_vlans, s6->l4.vlan,
			   s6->l4.tpid);
	ip_len = sizeof(struct ipv6hdr) + ext_len(s6);
	l4_len = put_l4(frame + off + ip_len, &s6->l4);
	put_ipv6(frame + off, s6, l4_len);
	return off + ip_len + l4_len;
}

/* GTP-U: outer IPv4/UDP to 2152 carrying inner (v4 or v6). */
struct gtpu_spec {
	const char *outer_saddr;
	const char *outer_daddr;
	__u32 teid;
	__u8 type;		/* 0xff G-PDU, 1 echo request, ... */
	__u8 flags;		/* beyond version 1 and PT: E, S, PN */
	__u8 ext_words;		/* one extension header of this many words */
	__u8 version;		/* 0: 1 */
	int inner_v6;
	struct frame_spec inner;
	struct frame6_spec inner6;
};

static __u32 build_gtpu(__u8 *frame, const struct gtpu_spec *g)
{
	struct frame_spec outer = {
		.saddr = g->outer_saddr, .daddr = g->outer_daddr,
		.proto = IPPROTO_UDP, .sport = 2152, .dport = 2152,
	};
	struct frame_buf ib;	/* aligned as a received frame would be */
	__u8 *udp, *gh, *q, *inner = ib.data;
	__u32 off, inner_len, gtp_len, teid = htonl(g->teid);
	__u16 len16;

	memset(frame, 0, MAX_FRAME);
	memset(ib.data, 0, sizeof(ib.data));
	/* The inner packet without its Ethernet header. */
	if (g->inner_v6)
		inner_len = build_frame6(inner, &g->inner6) - ETH_HLEN;
	else
		inner_len = build_frame(inner, &g->inner) - ETH_HLEN;

	off = put_eth(frame, ETH_P_IP, 0, NULL);
	udp = frame + off + 20;
	gh = udp + 8;
	gh[0] = ((g->version ? g->version : 1) << 5) | 0x10 | g->flags;
	gh[1] = g->type ? g->type : 0xff;
	memcpy(gh + 4, &teid, 4);
	q = gh + 8;
	if (g->flags & 0x07) {
		q[3] = g->ext_words ? 0x85 : 0;	/* next extension type */
		q += 4;
		if (g->ext_words) {
			q[0] = g->ext_words;
			q[g->ext_words * 4 - 1] = 0;	/* no further */
			q += g->ext_words * 4;
		}
	}
	memcpy(q, inner + ETH_HLEN, inner_len);
	gtp_len = q - gh + inner_len;
	len16 = htons(gtp_len - 8);
	memcpy(gh + 2, &len16, 2);
	outer.payload_len = 0;
	put_l4(udp, &outer);
	len16 = htons(8 + gtp_len);
	memcpy(udp + 4, &len16, 2);
	put_ipv4(frame + off, &outer, 8 + gtp_len);
	return off + 20 + 8 + gtp_len;
}

static const struct frame_spec tcp_syn = {
	.saddr = "192.0.2.10", .daddr = "198.51.100.20",
	.proto = IPPROTO_TCP, .sport = 40000, .dport = 80,
	.tcp_flags = VNFSEC_TCP_SYN,
};

static const struct frame_spec tcp_ack = {
	.saddr = "192.0.2.10", .daddr = "198.51.100.20",
	.proto = IPPROTO_TCP, .sport = 40000, .dport = 80,
	.tcp_flags = VNFSEC_TCP_ACK, .payload_len = 20,
};

static const struct frame_spec udp_dns = {
	.saddr = "192.0.2.11", .daddr = "198.51.100.53",
	.proto = IPPROTO_UDP, .sport = 5353, .dport = 53,
	.payload_len = 32,
};

static const struct frame6_spec tcp6_syn = {
	.l4 = {
		.saddr = "2001:db8::10", .daddr = "2001:db8:1::20",
		.proto = IPPROTO_TCP, .sport = 40000, .dport = 443,
		.tcp_flags = VNFSEC_TCP_SYN,
	},
};

/*
 * Makes the lengths in an untagged frame's IP (and UDP) header say len
 * bytes: a frame cut short *and* consistent, so the parser names the
 * header that ran out rather than the length that lies.
 */
static void cut_frame(__u8 *frame, __u32 len)
{
	struct ethhdr *eth = (struct ethhdr *)frame;
	__u8 *l3 = frame + ETH_HLEN, *l4;
	__u16 v;

	if (eth->h_proto == htons(ETH_P_IP) &&
	    len >= ETH_HLEN + (l3[0] & 0xf) * 4) {
		v = htons(len - ETH_HLEN);
		memcpy(l3 + 2, &v, 2);
		l4 = l3 + (l3[0] & 0xf) * 4;
		if (l3[9] == IPPROTO_UDP && len >= l4 - frame + 8) {
			v = htons(len - (l4 - frame));
			memcpy(l4 + 4, &v, 2);
		}
	} else if (eth->h_proto == htons(ETH_P_IPV6) &&
		   len >= ETH_HLEN + 40) {
		v = htons(len - ETH_HLEN - 40);
		memcpy(l3 + 4, &v, 2);
	}
}

/* ---- running the programs ---------------------------------------------- */

union record {
	struct vnfsec_record_hdr hdr;
	struct vnfsec_new_flow_record flow;
	struct vnfsec_detector_record det;
	struct vnfsec_sample_record sample;
	struct vnfsec_unparsed_record unparsed;
};

FIXTURE(fastpath) {
	struct vnfsec_bpf *skel;
	struct ring_buffer *events;
	union record records[MAX_RECORDS];
	size_t record_len[MAX_RECORDS];
	int nr_records;
	int nr_typed[8];	/* by record type, also beyond MAX_RECORDS */
	int ifindex;
};

static int on_record(void *ctx, void *data, size_t len)
{
	FIXTURE_DATA(fastpath) *self = ctx;
	int i = self->nr_records++;
	const struct vnfsec_record_hdr *hdr = data;

	if (len >= sizeof(*hdr) && hdr->type < 8)
		self->nr_typed[hdr->type]++;

	if (i < MAX_RECORDS) {
		memcpy(&self->records[i], data,
		       len < sizeof(self->records[i]) ? len :
		       sizeof(self->records[i]));
		self->record_len[i] = len;
	}
	return 0;
}

/*
 * Verifying the three programs takes about a second; 100 tests would spend
 * minutes on it (far more in a TCG VM). So the object is loaded once,
 * before the harness forks a child per test, and every test starts by
 * emptying every map: the same clean slate a fresh load gives.
 */
static struct vnfsec_bpf *shared_skel;
static int shared_skel_err;

__attribute__((constructor)) static void load_shared_skel(void)
{
	if (geteuid() != 0)
		return;
	shared_skel = vnfsec_bpf__open_and_load();
	if (!shared_skel)
		shared_skel_err = errno;
}

static int discard_record(void *ctx, void *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	return 0;
}

/*
 * Zeroes every slot of an array: in one batch where the kernel has it
 * (a syscall per slot of the 16k-slot arrays is slow in a TCG VM).
 */
static int array_clear(int fd, __u32 n, size_t zlen)
{
	__u32 i, count = n, *keys;
	void *zero;
	int err = 0;

	zero = calloc(n, zlen);
	keys = calloc(n, sizeof(*keys));
	if (!zero || !keys) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		keys[i] = i;
	if (!bpf_map_update_batch(fd, keys, zero, &count, NULL))
		goto out;
	for (i = 0; i < n && !err; i++)
		if (bpf_map_update_elem(fd, &i, zero, BPF_ANY))
			err = -errno;
out:
	free(keys);
	free(zero);
	return err;
}

/* Deletes every key of a hash or trie; zeroes every slot of an array. */
static int map_clear(struct bpf_map *map)
{
	int fd = bpf_map__fd(map), ncpus = libbpf_num_possible_cpus();
	__u32 ksz = bpf_map__key_size(map), vsz = bpf_map__value_size(map);
	__u32 n = bpf_map__max_entries(map);
	char key[64], next[64];

	switch (bpf_map__type(map)) {
	case BPF_MAP_TYPE_ARRAY:
		return array_clear(fd, n, (vsz + 7) & ~7U);
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		return array_clear(fd, n, (size_t)((vsz + 7) & ~7U) *
				   (ncpus > 0 ? ncpus : 1));
	case BPF_MAP_TYPE_RINGBUF:
		return 0;
	case BPF_MAP_TYPE_PROG_ARRAY:
		/* Every slot reads as a key; empty ones do not delete. */
		for (__u32 i = 0; i < n; i++)
			if (bpf_map_delete_elem(fd, &i) && errno != ENOENT)
				return -errno;
		return 0;
	default:
		if (ksz > sizeof(key))
			return -E2BIG;
		/* Restart from the first key each time: deleting while walking
		 * is allowed but may skip keys of a rehashed bucket. */
		while (!bpf_map_get_next_key(fd, NULL, next)) {
			memcpy(key, next, ksz);
			if (bpf_map_delete_elem(fd, key))
				return -errno;
		}
		return 0;
	}
}

FIXTURE_SETUP(fastpath)
{
	struct ring_buffer *drain;
	struct bpf_map *map;

	if (geteuid() != 0)
		SKIP(return, "needs root (CAP_BPF, CAP_NET_ADMIN)");

	self->skel = shared_skel;
	ASSERT_NE(NULL, self->skel) TH_LOG("vnfsec_bpf__open_and_load: %s",
					   strerror(shared_skel_err));
	bpf_object__for_each_map(map, self->skel->obj)
		ASSERT_EQ(0, map_clear(map)) TH_LOG("clearing %s",
						    bpf_map__name(map));
	/* Records a previous test left unread. */
	drain = ring_buffer__new(bpf_map__fd(self->skel->maps.events),
				 discard_record, NULL, NULL);
	ASSERT_NE(NULL, drain);
	ring_buffer__consume(drain);
	ring_buffer__free(drain);

	self->events = ring_buffer__new(bpf_map__fd(self->skel->maps.events),
					on_record, self, NULL);
	ASSERT_NE(NULL, self->events);
	/* A real device, so ingress_ifindex reaches the flow key. */
	self->ifindex = if_nametoindex("lo");
	ASSERT_NE(0, self->ifindex);
}

FIXTURE_TEARDOWN(fastpath)
{
	ring_buffer__free(self->events);
}

/*
 * Runs vnfsec_xdp once on the first len bytes of frame; returns the XDP
 * action. BPF_PROG_TEST_RUN refuses input shorter than an Ethernet header,
 * so a shorter frame is handed in as len linear bytes (xdp_md.data_end)
 * followed by a fragment holding the rest: the program still sees exactly
 * len bytes before data_end, which is what its bounds checks are about.
 */
static __u32 xdp_run(struct __test_metadata *_metadata,
		     FIXTURE_DATA(fastpath) *self, const __u8 *frame, __u32 len)
{
	__u8 buf[MAX_FRAME] = {};
	struct xdp_md ctx = {
		.data_end = len,
		.ingress_ifindex = self->ifindex,
	};
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = buf,
		.data_size_in = len < ETH_HLEN ? ETH_HLEN : len,
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = 1,
	);
	int err;

	memcpy(buf, frame, len);
	err = bpf_prog_test_run_opts(
		bpf_program__fd(self->skel->progs.vnfsec_xdp), &opts);
	ASSERT_EQ(0, err) TH_LOG("BPF_PROG_TEST_RUN on %u bytes: %s", len,
				 strerror(-err));
	return opts.retval;
}

/* Runs a TC program on a frame (skb on lo); returns the TC action. */
static int tc_run(struct __test_metadata *_metadata, struct bpf_program *prog,
		  const __u8 *frame, __u32 len)
{
	__u8 buf[MAX_FRAME] = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = buf,
		.data_size_in = len,
		.repeat = 1,
	);
	int err;

	memcpy(buf, frame, len);
	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	ASSERT_EQ(0, err) TH_LOG("BPF_PROG_TEST_RUN (tc): %s", strerror(-err));
	return opts.retval;
}

static int consume_records(struct __test_metadata *_metadata,
			   FIXTURE_DATA(fastpath) *self)
{
	int n = ring_buffer__consume(self->events);

	ASSERT_LE(0, n);
	return self->nr_records;
}

/* How many records of one type were read (after consume_records). */
static int records_of(FIXTURE_DATA(fastpath) *self, __u16 type)
{
	int i, n = 0;

	for (i = 0; i < self->nr_records && i < MAX_RECORDS; i++)
		n += self->records[i].hdr.type == type;
	return n;
}

/* Reads every record, and counts those of one type. */
static int records_of_all(struct __test_metadata *_metadata,
			  FIXTURE_DATA(fastpath) *self, __u16 type)
{
	consume_records(_metadata, self);
	return type < 8 ? self->nr_typed[type] : 0;
}

/* The first record of a type, or NULL. */
static union record *record_of(FIXTURE_DATA(fastpath) *self, __u16 type)
{
	int i;

	for (i = 0; i < self->nr_records && i < MAX_RECORDS; i++)
		if (self->records[i].hdr.type == type)
			return &self->records[i];
	return NULL;
}

/* Sums one counter over all CPUs. */
static __u64 counter(struct __test_metadata *_metadata,
		     FIXTURE_DATA(fastpath) *self, __u32 idx)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 vals[ncpus > 0 ? ncpus : 1], sum = 0;
	int i;

	ASSERT_LT(0, ncpus);
	ASSERT_EQ(0, bpf_map_lookup_elem(
		bpf_map__fd(self->skel->maps.counters), &idx, vals));
	for (i = 0; i < ncpus; i++)
		sum += vals[i];
	return sum;
}

/* Counters that describe, not judge: checked only where a test says. */
static int informational(__u32 i)
{
	return i == VNFSEC_CNT_VERDICT_EVAL || i == VNFSEC_CNT_IP_OPTIONS ||
	       i == VNFSEC_CNT_ICMP || i == VNFSEC_CNT_OTHER_L4 ||
	       i == VNFSEC_CNT_IPV6 || i == VNFSEC_CNT_IP6_EXT ||
	       i == VNFSEC_CNT_VLAN;
}

/* Every non-informational counter equals want[] (zero where not given). */
static void expect_counters(struct __test_metadata *_metadata,
			    FIXTURE_DATA(fastpath) *self,
			    const __u64 want[VNFSEC_CNT_MAX])
{
	__u32 i;

	for (i = 0; i < VNFSEC_CNT_MAX; i++) {
		__u64 got = counter(_metadata, self, i);

		if (informational(i) && !want[i])
			continue;
		EXPECT_EQ(want[i], got) TH_LOG("counter %s", counter_names[i]);
	}
}

static struct vnfsec_flow_key flow_key_of(FIXTURE_DATA(fastpath) *self,
					  const struct frame_spec *s)
{
	struct vnfsec_flow_key key;

	memset(&key, 0, sizeof(key));
	key.family = VNFSEC_AF_INET;
	key.saddr.v4 = inet_addr(s->saddr);
	key.daddr.v4 = inet_addr(s->daddr);
	if (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP) {
		key.sport = htons(s->sport);
		key.dport = htons(s->dport);
	}
	key.proto = s->proto;
	key.vlan = s->nr_vlans ? s->vlan[0] : 0;
	key.ifindex = self->ifindex;
	return key;
}

static struct vnfsec_flow_key flow6_key_of(FIXTURE_DATA(fastpath) *self,
					   const struct frame6_spec *s6)
{
	struct vnfsec_flow_key key;

	memset(&key, 0, sizeof(key));
	key.family = VNFSEC_AF_INET6;
	inet_pton(AF_INET6, s6->l4.saddr, &key.saddr);
	inet_pton(AF_INET6, s6->l4.daddr, &key.daddr);
	if (s6->l4.proto == IPPROTO_TCP || s6->l4.proto == IPPROTO_UDP) {
		key.sport = htons(s6->l4.sport);
		key.dport = htons(s6->l4.dport);
	}
	key.proto = s6->l4.proto;
	key.ifindex = self->ifindex;
	return key;
}

/* A flow of one packet so far, from its slot in flow_new. */
static int flow_new_lookup(FIXTURE_DATA(fastpath) *self,
			   const struct vnfsec_flow_key *key,
			   struct vnfsec_flow_state *st)
{
	__u32 slot = vnfsec_flow_new_slot(key);
	struct vnfsec_flow_new e;

	if (bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.flow_new), &slot,
				&e))
		return -1;
	if (!e.key.family || memcmp(&e.key, key, sizeof(*key)))
		return -1;
	*st = e.state;
	return 0;
}

/* The flow's state, wherever the fast path keeps it now. */
static int flow_lookup(FIXTURE_DATA(fastpath) *self,
		       const struct vnfsec_flow_key *key,
		       struct vnfsec_flow_state *st)
{
	if (!bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.flow_table),
				 key, st))
		return 0;
	return flow_new_lookup(self, key, st);
}

static int flow_table_count(FIXTURE_DATA(fastpath) *self)
{
	int fd = bpf_map__fd(self->skel->maps.flow_table);
	struct vnfsec_flow_key key, next;
	int n = 0;

	if (bpf_map_get_next_key(fd, NULL, &next))
		return 0;
	do {
		key = next;
		n++;
	} while (!bpf_map_get_next_key(fd, &key, &next));
	return n;
}

/*
 * Flows in flow_new; the first one's key and state into @key, @st (when
 * not NULL).
 */
static int flow_new_count(FIXTURE_DATA(fastpath) *self,
			  struct vnfsec_flow_key *key,
			  struct vnfsec_flow_state *st)
{
	int fd = bpf_map__fd(self->skel->maps.flow_new);
	__u32 i, batch = 0, count = VNFSEC_FLOW_NEW_ENTRIES, *keys;
	struct vnfsec_flow_new *e;
	int n = 0;

	/* In one batch: a syscall per slot is slow in a TCG VM. */
	e = calloc(count, sizeof(*e));
	keys = calloc(count, sizeof(*keys));
	if (!e || !keys ||
	    (bpf_map_lookup_batch(fd, NULL, &batch, keys, e, &count, NULL) &&
	     errno != ENOENT))
		n = -1;
	for (i = 0; n >= 0 && i < count; i++) {
		if (!e[i].key.family)
			continue;
		if (!n++ && key) {
			*key = e[i].key;
			*st = e[i].state;
		}
	}
	free(keys);
	free(e);
	return n;
}

/* Flows the fast path holds: one-packet ones and the rest. */
static int flow_count(FIXTURE_DATA(fastpath) *self)
{
	return flow_table_count(self) + flow_new_count(self, NULL, NULL);
}

/* The only flow the fast path holds. */
static int only_flow(FIXTURE_DATA(fastpath) *self,
		     struct vnfsec_flow_key *key, struct vnfsec_flow_state *st)
{
	int fd = bpf_map__fd(self->skel->maps.flow_table);
	int in_table = flow_table_count(self);

	if (in_table + flow_new_count(self, key, st) != 1)
		return -1;
	if (!in_table)
		return 0;
	if (bpf_map_get_next_key(fd, NULL, key))
		return -1;
	return bpf_map_lookup_elem(fd, key, st);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

static void block_prefix(struct __test_metadata *_metadata,
			 FIXTURE_DATA(fastpath) *self, const char *addr,
			 __u32 prefixlen, __u64 expires_ns)
{
	struct vnfsec_lpm_v4_key key = {
		.prefixlen = prefixlen,
		.addr = inet_addr(addr),
	};
	struct vnfsec_block_entry blk = {
		.expires_ns = expires_ns,
		.reason = VNFSEC_BLOCK_OPERATOR,
	};

	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.blocklist_v4), &key, &blk, BPF_ANY));
}

static void list_prefix6(struct __test_metadata *_metadata,
			 struct bpf_map *map, const char *addr,
			 __u32 prefixlen)
{
	struct vnfsec_lpm_v6_key key = { .prefixlen = prefixlen };
	struct vnfsec_block_entry blk = { .reason = VNFSEC_BLOCK_OPERATOR };

	inet_pton(AF_INET6, addr, key.addr);
	ASSERT_EQ(0, bpf_map_update_elem(bpf_map__fd(map), &key, &blk,
					 BPF_ANY));
}

static void allow_prefix(struct __test_metadata *_metadata,
			 FIXTURE_DATA(fastpath) *self, const char *addr,
			 __u32 prefixlen)
{
	struct vnfsec_lpm_v4_key key = {
		.prefixlen = prefixlen,
		.addr = inet_addr(addr),
	};
	struct vnfsec_block_entry e = { .reason = VNFSEC_BLOCK_OPERATOR };

	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.allowlist_v4), &key, &e, BPF_ANY));
}

static struct vnfsec_config get_config(struct __test_metadata *_metadata,
				       FIXTURE_DATA(fastpath) *self)
{
	struct vnfsec_config cfg;
	__u32 zero = 0;

	memset(&cfg, 0, sizeof(cfg));
	EXPECT_EQ(0, bpf_map_lookup_elem(
		bpf_map__fd(self->skel->maps.config), &zero, &cfg));
	return cfg;
}

static void set_config(struct __test_metadata *_metadata,
		       FIXTURE_DATA(fastpath) *self,
		       const struct vnfsec_config *cfg)
{
	__u32 zero = 0;

	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.config), &zero, cfg, BPF_ANY));
}

static void set_mode(struct __test_metadata *_metadata,
		     FIXTURE_DATA(fastpath) *self, __u8 mode)
{
	struct vnfsec_config cfg = get_config(_metadata, self);

	cfg.mode = mode;
	cfg.policy_gen++;
	set_config(_metadata, self, &cfg);
}

static void bump_policy_gen(struct __test_metadata *_metadata,
			    FIXTURE_DATA(fastpath) *self)
{
	struct vnfsec_config cfg = get_config(_metadata, self);

	cfg.policy_gen++;
	set_config(_metadata, self, &cfg);
}

static void map_port(struct __test_metadata *_metadata,
		     FIXTURE_DATA(fastpath) *self, __u32 ifindex, __u16 vlan,
		     __u16 vnf)
{
	struct vnfsec_port_key k = { .ifindex = ifindex, .vlan = vlan };
	struct vnfsec_vnf_id id = { .vnf = vnf };

	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.vnf_ports), &k, &id, BPF_ANY));
}

/* addr/prefixlen (IPv4) belongs to vnf, as vnf_addrs stores it. */
static void map_addr4(struct __test_metadata *_metadata,
		      FIXTURE_DATA(fastpath) *self, const char *addr,
		      __u32 prefixlen, __u16 vnf)
{
	struct vnfsec_lpm_v6_key k = { .prefixlen = 96 + prefixlen };
	struct vnfsec_vnf_id id = { .vnf = vnf };
	__be32 a = inet_addr(addr);

	k.addr[10] = 0xff;
	k.addr[11] = 0xff;
	memcpy(&k.addr[12], &a, 4);
	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.vnf_addrs), &k, &id, BPF_ANY));
}

static struct vnfsec_vnf_stats vnf_stats(struct __test_metadata *_metadata,
					 FIXTURE_DATA(fastpath) *self,
					 __u32 vnf)
{
	int ncpus = libbpf_num_possible_cpus();
	struct vnfsec_vnf_stats vals[ncpus > 0 ? ncpus : 1], sum;
	int i, j;

	memset(&sum, 0, sizeof(sum));
	EXPECT_EQ(0, bpf_map_lookup_elem(
		bpf_map__fd(self->skel->maps.vnf_stats), &vnf, vals));
	for (i = 0; i < ncpus; i++) {
		sum.packets += vals[i].packets;
		sum.bytes += vals[i].bytes;
		sum.new_flows += vals[i].new_flows;
		sum.events += vals[i].events;
		for (j = 0; j < VNFSEC_VERDICT_MAX; j++)
			sum.verdict[j] += vals[i].verdict[j];
	}
	return sum;
}

/* One frame that passes with only `note` set beside rx and pass. */
static void expect_passed_with(struct __test_metadata *_metadata,
			       FIXTURE_DATA(fastpath) *self, __u32 len,
			       __u32 note)
{
	__u64 want[VNFSEC_CNT_MAX] = {
		[VNFSEC_CNT_RX_PACKETS] = 1,
		[VNFSEC_CNT_RX_BYTES] = len,
		[VNFSEC_CNT_PASS] = 1,
	};

	want[note] += 1;
	expect_counters(_metadata, self, want);
	EXPECT_EQ(0, flow_count(self));
	EXPECT_EQ(0, consume_records(_metadata, self));
}

/*
 * One frame that could not be classified, in protect mode (the tests'
 * default): dropped, counted under note and drop_unparsed, reported.
 */
static void expect_unparsed(struct __test_metadata *_metadata,
			    FIXTURE_DATA(fastpath) *self, __u32 len,
			    __u32 note)
{
	__u64 want[VNFSEC_CNT_MAX] = {
		[VNFSEC_CNT_RX_PACKETS] = 1,
		[VNFSEC_CNT_RX_BYTES] = len,
		[VNFSEC_CNT_DROP] = 1,
		[VNFSEC_CNT_DROP_UNPARSED] = 1,
	};
	struct vnfsec_unparsed_record *r = &self->records[0].unparsed;

	want[note] += 1;
	expect_counters(_metadata, self, want);
	EXPECT_EQ(0, flow_count(self));
	ASSERT_EQ(1, consume_records(_metadata, self));
	ASSERT_EQ(VNFSEC_REC_UNPARSED, r->hdr.type);
	EXPECT_EQ(sizeof(*r), self->record_len[0]);
	EXPECT_EQ(note, r->counter);
	EXPECT_EQ(VNFSEC_CAUSE_UNPARSED, r->cause);
	EXPECT_EQ(VNFSEC_VERDICT_DROP, r->verdict);
	EXPECT_EQ(self->ifindex, r->ifindex);
	EXPECT_EQ(len, r->pkt_len);
}

/* ---- flows ------------------------------------------------------------- */

TEST_F(fastpath, tcp_syn_passes_and_reports_new_flow)
{
	struct vnfsec_flow_key key = flow_key_of(self, &tcp_syn);
	struct vnfsec_new_flow_record *rec = &self->records[0].flow;
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);
	__u64 before = now_ns();
	__u64 want[VNFSEC_CNT_MAX] = {};

	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));

	ASSERT_EQ(1, consume_records(_metadata, self));
	EXPECT_EQ(sizeof(*rec), self->record_len[0]);
	EXPECT_EQ(VNFSEC_REC_NEW_FLOW, rec->hdr.type);
	EXPECT_EQ(VNFSEC_ABI_VERSION, rec->hdr.version);
	EXPECT_EQ(sizeof(*rec), rec->hdr.len);
	/* The coarse clock, read once a jiffy, may lag by two ticks. */
	EXPECT_LE(before - 30000000ULL, rec->hdr.ts_ns);
	EXPECT_LE(rec->hdr.ts_ns, now_ns());
	EXPECT_EQ(0, memcmp(&key, &rec->key, sizeof(key)))
		TH_LOG("record key %08x:%u -> %08x:%u proto %u if %u",
		       ntohl(rec->key.saddr.v4), ntohs(rec->key.sport),
		       ntohl(rec->key.daddr.v4), ntohs(rec->key.dport),
		       rec->key.proto, rec->key.ifindex);
	EXPECT_EQ(IPPROTO_TCP, rec->key.proto);
	EXPECT_EQ(VNFSEC_AF_INET, rec->key.family);
	EXPECT_EQ(VNFSEC_DIR_INGRESS, rec->key.dir);
	EXPECT_EQ(htons(40000), rec->key.sport);
	EXPECT_EQ(htons(80), rec->key.dport);
	EXPECT_EQ(self->ifindex, rec->key.ifindex);
	EXPECT_EQ(VNFSEC_TCP_SYN, rec->tcp_flags);
	EXPECT_EQ(len, rec->pkt_len);
	EXPECT_EQ(VNFSEC_VERDICT_PASS, rec->verdict);
	EXPECT_EQ(0, rec->src_vnf | rec->dst_vnf | rec->teid | rec->flags);

	ASSERT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(1, st.packets);
	EXPECT_EQ(len, st.bytes);
	EXPECT_EQ(VNFSEC_TCP_SYN, st.tcp_flags_seen);
	EXPECT_EQ(rec->hdr.ts_ns, st.first_seen_ns);
	EXPECT_EQ(st.first_seen_ns, st.last_seen_ns);
	EXPECT_LT(st.first_seen_ns, st.verdict_until_ns);

	want[VNFSEC_CNT_RX_PACKETS] = 1;
	want[VNFSEC_CNT_RX_BYTES] = len;
	want[VNFSEC_CNT_PASS] = 1;
	want[VNFSEC_CNT_NEW_FLOW] = 1;
	want[VNFSEC_CNT_VERDICT_EVAL] = 1;
	expect_counters(_metadata, self, want);
}

TEST_F(fastpath, same_flow_updates_state_without_record)
{
	struct vnfsec_flow_key key = flow_key_of(self, &tcp_syn);
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 syn_len, ack_len;
	__u64 want[VNFSEC_CNT_MAX] = {};

	syn_len = build_frame(frame, &tcp_syn);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, syn_len));
	ASSERT_EQ(1, consume_records(_metadata, self));

	ack_len = build_frame(frame, &tcp_ack);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, ack_len));
	EXPECT_EQ(1, consume_records(_metadata, self));

	ASSERT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(2, st.packets);
	EXPECT_EQ(syn_len + ack_len, st.bytes);
	EXPECT_EQ(VNFSEC_TCP_SYN | VNFSEC_TCP_ACK, st.tcp_flags_seen);
	EXPECT_LE(st.first_seen_ns, st.last_seen_ns);
	EXPECT_EQ(1, flow_count(self));

	want[VNFSEC_CNT_RX_PACKETS] = 2;
	want[VNFSEC_CNT_RX_BYTES] = syn_len + ack_len;
	want[VNFSEC_CNT_PASS] = 2;
	want[VNFSEC_CNT_NEW_FLOW] = 1;
	/* The second packet reused the cached verdict. */
	want[VNFSEC_CNT_VERDICT_EVAL] = 1;
	expect_counters(_metadata, self, want);
}

TEST_F(fastpath, first_packet_in_flow_new_second_moves_to_flow_table)
{
	struct vnfsec_flow_key key = flow_key_of(self, &tcp_syn);
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 syn_len, ack_len;

	syn_len = build_frame(frame, &tcp_syn);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, syn_len));
	EXPECT_EQ(0, flow_table_count(self));
	ASSERT_EQ(0, flow_new_lookup(self, &key, &st));
	EXPECT_EQ(1, st.packets);
	EXPECT_EQ(VNFSEC_VERDICT_PASS, st.verdict);

	ack_len = build_frame(frame, &tcp_ack);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, ack_len));
	/* Moved, not copied: its slot is free again. */
	EXPECT_NE(0, flow_new_lookup(self, &key, &st));
	EXPECT_EQ(0, flow_new_count(self, NULL, NULL));
	ASSERT_EQ(0, bpf_map_lookup_elem(
		bpf_map__fd(self->skel->maps.flow_table), &key, &st));
	EXPECT_EQ(2, st.packets);
	EXPECT_EQ(syn_len + ack_len, st.bytes);
	EXPECT_EQ(VNFSEC_TCP_SYN | VNFSEC_TCP_ACK, st.tcp_flags_seen);
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_NEW_FLOW));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_VERDICT_EVAL));
}

TEST_F(fastpath, one_packet_flows_leave_flow_table_alone)
{
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;
	int i;

	/* A scan: a SYN to each of 40 ports, none answered. */
	for (i = 0; i < 40; i++) {
		s.dport = 1000 + i;
		len = build_frame(frame, &s);
		ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	}
	EXPECT_EQ(0, flow_table_count(self));
	EXPECT_EQ(40, flow_new_count(self, NULL, NULL));
	EXPECT_EQ(40, counter(_metadata, self, VNFSEC_CNT_NEW_FLOW));
	EXPECT_EQ(40, consume_records(_metadata, self));
	EXPECT_EQ(40, records_of(self, VNFSEC_REC_NEW_FLOW));
}

TEST_F(fastpath, new_flow_takes_the_slot_of_a_one_packet_flow)
{
	struct frame_spec a = tcp_syn, b = tcp_syn;
	struct vnfsec_flow_key ka, kb;
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	/* Another source port whose flow has a's slot. */
	ka = flow_key_of(self, &a);
	for (b.sport = 1024; b.sport < 65535; b.sport++) {
		kb = flow_key_of(self, &b);
		if (b.sport != a.sport &&
		    vnfsec_flow_new_slot(&kb) == vnfsec_flow_new_slot(&ka))
			break;
	}
	ASSERT_EQ(vnfsec_flow_new_slot(&ka), vnfsec_flow_new_slot(&kb));

	len = build_frame(frame, &a);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	len = build_frame(frame, &b);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_NE(0, flow_lookup(self, &ka, &st));
	ASSERT_EQ(0, flow_new_lookup(self, &kb, &st));
	EXPECT_EQ(1, st.packets);

	/* a's next packet finds no trace of it: a new flow again. */
	a.tcp_flags = VNFSEC_TCP_ACK;
	len = build_frame(frame, &a);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	ASSERT_EQ(0, flow_new_lookup(self, &ka, &st));
	EXPECT_EQ(1, st.packets);
	EXPECT_EQ(VNFSEC_TCP_ACK, st.tcp_flags_seen);
	EXPECT_EQ(0, flow_table_count(self));
	EXPECT_EQ(3, counter(_metadata, self, VNFSEC_CNT_NEW_FLOW));
	EXPECT_EQ(3, consume_records(_metadata, self));
}

TEST_F(fastpath, syn_retransmission_stays_in_flow_new)
{
	struct vnfsec_flow_key key = flow_key_of(self, &tcp_syn);
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	len = build_frame(frame, &tcp_syn);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	/* Not open yet: the SYN again stays with the first one. */
	EXPECT_EQ(0, flow_table_count(self));
	ASSERT_EQ(0, flow_new_lookup(self, &key, &st));
	EXPECT_EQ(2, st.packets);
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_NEW_FLOW));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_VERDICT_EVAL));
	EXPECT_EQ(1, consume_records(_metadata, self));

	len = build_frame(frame, &tcp_ack);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	ASSERT_EQ(0, bpf_map_lookup_elem(
		bpf_map__fd(self->skel->maps.flow_table), &key, &st));
	EXPECT_EQ(3, st.packets);
	EXPECT_EQ(0, flow_new_count(self, NULL, NULL));
}

TEST_F(fastpath, syn_on_a_tuple_in_flow_table_is_a_new_connection)
{
	struct vnfsec_flow_key key = flow_key_of(self, &tcp_syn);
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	len = build_frame(frame, &tcp_syn);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	len = build_frame(frame, &tcp_ack);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	ASSERT_EQ(1, flow_table_count(self));

	/* The port reused for a new connection: reported as one. */
	len = build_frame(frame, &tcp_syn);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(2, counter(_metadata, self, VNFSEC_CNT_NEW_FLOW));
	EXPECT_EQ(2, consume_records(_metadata, self));
	EXPECT_EQ(2, records_of(self, VNFSEC_REC_NEW_FLOW));
	ASSERT_EQ(0, flow_new_lookup(self, &key, &st));
	EXPECT_EQ(1, st.packets);
}

TEST_F(fastpath, second_packet_reevaluated_after_policy_gen)
{
	struct vnfsec_flow_key key = flow_key_of(self, &tcp_syn);
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	len = build_frame(frame, &tcp_syn);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	block_prefix(_metadata, self, tcp_syn.saddr, 32, 0);
	bump_policy_gen(_metadata, self);
	len = build_frame(frame, &tcp_ack);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_BLOCKLIST));
	EXPECT_EQ(2, counter(_metadata, self, VNFSEC_CNT_VERDICT_EVAL));
	/* Its state carries on in flow_table, with the verdict now cached. */
	ASSERT_EQ(0, bpf_map_lookup_elem(
		bpf_map__fd(self->skel->maps.flow_table), &key, &st));
	EXPECT_EQ(2, st.packets);
	EXPECT_EQ(VNFSEC_VERDICT_DROP, st.verdict);
	EXPECT_EQ(VNFSEC_CAUSE_BLOCKLIST, st.cause);
}

TEST_F(fastpath, udp_flow_tracked)
{
	struct vnfsec_flow_key key = flow_key_of(self, &udp_dns);
	struct vnfsec_new_flow_record *rec = &self->records[0].flow;
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &udp_dns);

	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));

	ASSERT_EQ(1, consume_records(_metadata, self));
	EXPECT_EQ(0, memcmp(&key, &rec->key, sizeof(key)));
	EXPECT_EQ(IPPROTO_UDP, rec->key.proto);
	EXPECT_EQ(htons(5353), rec->key.sport);
	EXPECT_EQ(htons(53), rec->key.dport);
	EXPECT_EQ(0, rec->tcp_flags);

	ASSERT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(2, st.packets);
	EXPECT_EQ(2 * len, st.bytes);
	EXPECT_EQ(0, st.tcp_flags_seen);
}

TEST_F(fastpath, icmp_echo_keyed_by_identifier_and_type)
{
	struct frame_spec icmp = {
		.saddr = "192.0.2.12", .daddr = "198.51.100.1",
		.proto = IPPROTO_ICMP, .icmp_type = 8, .sport = 0x4242,
		.payload_len = 56,
	};
	struct vnfsec_flow_key key = flow_key_of(self, &icmp);
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &icmp);

	key.sport = htons(0x4242);
	key.dport = htons(8 << 8);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, consume_records(_metadata, self));
	ASSERT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(1, st.packets);
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_ICMP));
}

TEST_F(fastpath, icmp_error_keyed_by_type_and_code_only)
{
	struct frame_spec icmp = {
		.saddr = "192.0.2.12", .daddr = "198.51.100.1",
		.proto = IPPROTO_ICMP, .icmp_type = 3, .icmp_code = 1,
		.sport = 0x4242, .payload_len = 28,
	};
	struct vnfsec_flow_key key = flow_key_of(self, &icmp);
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &icmp);

	key.dport = htons(3 << 8 | 1);	/* no identifier in an error */
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, flow_lookup(self, &key, &st));
}

TEST_F(fastpath, truncated_icmp_dropped_as_unparsed)
{
	struct frame_spec icmp = {
		.saddr = "192.0.2.12", .daddr = "198.51.100.1",
		.proto = IPPROTO_ICMP, .icmp_type = 8,
	};
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &icmp) - 1;

	cut_frame(frame, len);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_TRUNC_L4);
}

TEST_F(fastpath, other_protocol_flow_keyed_without_ports)
{
	struct frame_spec gre = {
		.saddr = "192.0.2.12", .daddr = "198.51.100.1",
		.proto = 47, .payload_len = 24,
	};
	struct vnfsec_flow_key key = flow_key_of(self, &gre);
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &gre);

	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_OTHER_L4));
}

TEST_F(fastpath, ip_options_skipped_by_ihl)
{
	struct frame_spec s = tcp_syn;
	struct vnfsec_flow_key key;
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	s.ip_opt_words = 10;	/* IHL 15: the largest header there is */
	s.tcp_opt_words = 5;
	len = build_frame(frame, &s);
	key = flow_key_of(self, &s);

	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	ASSERT_EQ(1, consume_records(_metadata, self));
	EXPECT_EQ(htons(40000), self->records[0].flow.key.sport);
	EXPECT_EQ(htons(80), self->records[0].flow.key.dport);
	EXPECT_EQ(VNFSEC_TCP_SYN, self->records[0].flow.tcp_flags);
	EXPECT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_IP_OPTIONS));
}

TEST_F(fastpath, first_fragment_tracked)
{
	struct frame_spec s = udp_dns;
	struct vnfsec_flow_key key = flow_key_of(self, &s);
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	s.frag_off = IP_MF;	/* offset 0, more fragments: has the UDP header */
	len = build_frame(frame, &s);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, consume_records(_metadata, self));
	EXPECT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_IP_FRAGMENT));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_TINY_FRAGMENT));
}

/* RFC 1858: a first fragment too short to hold the TCP header. */
TEST_F(fastpath, tiny_first_fragment_dropped)
{
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	s.frag_off = IP_MF;
	len = build_frame(frame, &s);
	/* The fragment carries 8 bytes of the 20-byte TCP header. */
	frame_ip(frame)->tot_len = htons(20 + 8);
	len = ETH_HLEN + 28;
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_TINY_FRAGMENT));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_TINY_FRAGMENT));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP));
	EXPECT_EQ(0, flow_count(self));
}

/* RFC 1858: offset 8 overwrites the TCP flags of the first fragment. */
TEST_F(fastpath, tcp_fragment_at_offset_8_dropped)
{
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	s.frag_off = 1;
	len = build_frame(frame, &s);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_TINY_FRAGMENT));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_IP_FRAGMENT));
}

TEST_F(fastpath, tiny_fragment_only_counted_in_monitor_mode)
{
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	set_mode(_metadata, self, VNFSEC_MODE_MONITOR);
	s.frag_off = 1;
	len = build_frame(frame, &s);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_TINY_FRAGMENT));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP));
}

/* The ring buffer overflows when nobody reads it: counted, never silent. */
TEST_F(fastpath, ringbuf_overflow_counted)
{
	/* Records are 80 bytes + an 8-byte ring header: 1 MiB holds 11915. */
	const int flows = VNFSEC_EVENTS_BYTES / 88 + 1000;
	struct vnfsec_config cfg = {};
	struct frame_spec s = udp_dns;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u64 full, created;
	int i, got;

	/* Scans are not the point here: keep detector events out. */
	cfg.detectors_off = ~0U;
	set_config(_metadata, self, &cfg);
	for (i = 0; i < flows; i++) {
		__u32 len;

		s.sport = 1024 + i % 60000;
		s.dport = 53 + i / 60000;
		len = build_frame(frame, &s);
		ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	}
	created = counter(_metadata, self, VNFSEC_CNT_NEW_FLOW);
	full = counter(_metadata, self, VNFSEC_CNT_RINGBUF_FULL);
	got = consume_records(_metadata, self);

	EXPECT_EQ(flows, created);
	EXPECT_LT(0, full);
	EXPECT_EQ(created, got + full);
	EXPECT_EQ(full, counter(_metadata, self,
				VNFSEC_CNT_RINGBUF_FULL_FLOW));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_FLOW_INSERT_FAIL));
}

/* ---- VLAN -------------------------------------------------------------- */

TEST_F(fastpath, vlan_tagged_flow_keyed_by_vlan_id)
{
	struct frame_spec s = tcp_syn;
	struct vnfsec_flow_key key;
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	s.nr_vlans = 1;
	s.vlan[0] = 100;
	len = build_frame(frame, &s);
	key = flow_key_of(self, &s);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	ASSERT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(100, key.vlan);
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_VLAN));
}

TEST_F(fastpath, qinq_flow_keyed_by_outer_vlan_id)
{
	struct frame_spec s = udp_dns;
	struct vnfsec_flow_key key;
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	s.nr_vlans = 2;
	s.vlan[0] = 300;	/* 802.1ad service tag */
	s.vlan[1] = 42;		/* 802.1Q customer tag */
	len = build_frame(frame, &s);
	key = flow_key_of(self, &s);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, flow_lookup(self, &key, &st));
}

TEST_F(fastpath, vlan_tags_beyond_the_walk_dropped_as_unparsed)
{
	struct frame_spec s = udp_dns;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;
	int i;

	s.nr_vlans = VNFSEC_MAX_VLAN_TAGS + 1;
	for (i = 0; i < s.nr_vlans; i++)
		s.vlan[i] = i + 1;
	len = build_frame(frame, &s);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_VLAN_TOO_DEEP));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_UNPARSED));
	EXPECT_EQ(0, flow_count(self));
}

TEST_F(fastpath, truncated_vlan_tag_dropped_as_unparsed)
{
	struct frame_spec s = udp_dns;
	struct frame_buf fb;
	__u8 *frame = fb.data;

	s.nr_vlans = 1;
	build_frame(frame, &s);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, ETH_HLEN + 2));
	expect_unparsed(_metadata, self, ETH_HLEN + 2,
			   VNFSEC_CNT_TRUNC_VLAN);
}

/* ---- IPv6 -------------------------------------------------------------- */

TEST_F(fastpath, ipv6_tcp_flow_tracked)
{
	struct vnfsec_flow_key key = flow6_key_of(self, &tcp6_syn);
	struct vnfsec_flow_state st;
	union record *r;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame6(frame, &tcp6_syn);

	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	ASSERT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(VNFSEC_TCP_SYN, st.tcp_flags_seen);
	ASSERT_EQ(1, consume_records(_metadata, self));
	r = record_of(self, VNFSEC_REC_NEW_FLOW);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(0, memcmp(&key, &r->flow.key, sizeof(key)));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_IPV6));
}

TEST_F(fastpath, ipv6_extension_headers_walked)
{
	struct frame6_spec s6 = tcp6_syn;
	struct vnfsec_flow_key key = flow6_key_of(self, &s6);
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	s6.nr_ext = 4;
	s6.ext[0] = IPPROTO_HOPOPTS;
	s6.ext[1] = IPPROTO_ROUTING;
	s6.ext[2] = IPPROTO_AH;
	s6.ext[3] = IPPROTO_DSTOPTS;
	len = build_frame6(frame, &s6);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	ASSERT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_IP6_EXT));
}

TEST_F(fastpath, ipv6_extension_chain_over_limit_dropped_as_unparsed)
{
	struct frame6_spec s6 = tcp6_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;
	int i;

	s6.nr_ext = VNFSEC_MAX_IPV6_EXT + 1;
	for (i = 0; i < s6.nr_ext; i++)
		s6.ext[i] = IPPROTO_DSTOPTS;
	len = build_frame6(frame, &s6);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_IP6_EXT_LIMIT);
}

TEST_F(fastpath, ipv6_truncated_extension_header_dropped_as_unparsed)
{
	struct frame6_spec s6 = tcp6_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	s6.nr_ext = 1;
	s6.ext[0] = IPPROTO_HOPOPTS;
	build_frame6(frame, &s6);
	len = ETH_HLEN + sizeof(struct ipv6hdr) + 4;
	cut_frame(frame, len);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_TRUNC_IP6_EXT);
}

TEST_F(fastpath, ipv6_truncated_header_dropped_as_unparsed)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = ETH_HLEN + sizeof(struct ipv6hdr) - 1;

	build_frame6(frame, &tcp6_syn);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_TRUNC_IP6);
}

TEST_F(fastpath, ipv6_version_not_6_counted_as_bad_ip6)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame6(frame, &tcp6_syn);

	frame[ETH_HLEN] = 0x40;	/* IPv4 behind the IPv6 EtherType */
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_BAD_IP6);
}

TEST_F(fastpath, ipv6_later_fragment_without_its_first_dropped)
{
	struct frame6_spec s6 = tcp6_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	s6.nr_ext = 1;
	s6.ext[0] = IPPROTO_FRAGMENT;
	s6.frag_off = 185 << 3;		/* offset 1480, no more */
	len = build_frame6(frame, &s6);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_IP_FRAGMENT));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_FRAG_NO_STATE));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_UNPARSED));
	EXPECT_EQ(0, flow_count(self));
}

TEST_F(fastpath, ipv6_later_fragments_take_the_first_ones_verdict)
{
	struct frame6_spec s6 = tcp6_syn;
	struct frame_buf fb;
	__u32 len;

	s6.nr_ext = 2;
	s6.ext[0] = IPPROTO_HOPOPTS;
	s6.ext[1] = IPPROTO_FRAGMENT;
	s6.l4.tcp_flags = VNFSEC_TCP_ACK;
	s6.l4.payload_len = 64;
	s6.frag_off = 1;		/* offset 0, more */
	len = build_frame6(fb.data, &s6);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	s6.frag_off = 11 << 3;		/* offset 88, beyond the first */
	len = build_frame6(fb.data, &s6);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_FRAG_NO_STATE));
	/* The same bytes again: an overlap. */
	s6.frag_off = 2 << 3;
	len = build_frame6(fb.data, &s6);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(1, counter(_metadata, self,
			     VNFSEC_CNT_DROP_FRAGMENT_EVASION));
}

TEST_F(fastpath, ipv6_tiny_first_fragment_dropped)
{
	struct frame6_spec s6 = tcp6_syn;
	struct ipv6hdr *ip6h;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	s6.nr_ext = 1;
	s6.ext[0] = IPPROTO_FRAGMENT;
	s6.frag_off = 1;		/* offset 0, more fragments */
	len = build_frame6(frame, &s6);
	/* Payload: the fragment header and 8 bytes of TCP. */
	ip6h = (struct ipv6hdr *)(frame + ETH_HLEN);
	ip6h->payload_len = htons(8 + 8);
	len = ETH_HLEN + sizeof(*ip6h) + 16;
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_TINY_FRAGMENT));
}

TEST_F(fastpath, icmpv6_echo_tracked)
{
	struct frame6_spec s6 = {
		.l4 = {
			.saddr = "2001:db8::10", .daddr = "2001:db8:1::20",
			.proto = IPPROTO_ICMPV6, .icmp_type = 128,
			.sport = 7, .payload_len = 16,
		},
	};
	struct vnfsec_flow_key key = flow6_key_of(self, &s6);
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame6(frame, &s6);

	key.sport = htons(7);
	key.dport = htons(128 << 8);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_ICMP));
}

/* ---- GTP-U ------------------------------------------------------------- */

static const struct gtpu_spec gpdu = {
	.outer_saddr = "10.10.0.1", .outer_daddr = "10.10.0.2",
	.teid = 0x1234abcd,
	.inner = {
		.saddr = "100.64.0.7", .daddr = "203.0.113.80",
		.proto = IPPROTO_TCP, .sport = 51000, .dport = 443,
		.tcp_flags = VNFSEC_TCP_SYN,
	},
};

TEST_F(fastpath, gtpu_inner_ipv4_packet_is_the_flow)
{
	struct vnfsec_flow_key key = flow_key_of(self, &gpdu.inner);
	struct vnfsec_flow_state st;
	union record *r;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_gtpu(frame, &gpdu);

	key.encap = VNFSEC_ENCAP_GTPU;
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	ASSERT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(htonl(0x1234abcd), st.teid);
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_GTPU));
	ASSERT_EQ(1, consume_records(_metadata, self));
	r = record_of(self, VNFSEC_REC_NEW_FLOW);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(htonl(0x1234abcd), r->flow.teid);
	EXPECT_EQ(VNFSEC_TCP_SYN, r->flow.tcp_flags);
}

TEST_F(fastpath, gtpu_inner_ipv6_packet_is_the_flow)
{
	struct gtpu_spec g = gpdu;
	struct vnfsec_flow_key key;
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	g.inner_v6 = 1;
	g.inner6 = tcp6_syn;
	len = build_gtpu(frame, &g);
	key = flow6_key_of(self, &g.inner6);
	key.encap = VNFSEC_ENCAP_GTPU;
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, flow_lookup(self, &key, &st));
}

TEST_F(fastpath, gtpu_extension_header_skipped)
{
	struct gtpu_spec g = gpdu;
	struct vnfsec_flow_key key = flow_key_of(self, &gpdu.inner);
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	g.flags = 0x04 | 0x02;	/* E and S */
	g.ext_words = 1;	/* PDU session container, 4 bytes */
	len = build_gtpu(frame, &g);
	key.encap = VNFSEC_ENCAP_GTPU;
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, flow_lookup(self, &key, &st));
}

TEST_F(fastpath, gtpu_echo_tracked_as_outer_udp_flow)
{
	struct gtpu_spec g = gpdu;
	struct frame_spec outer = {
		.saddr = gpdu.outer_saddr, .daddr = gpdu.outer_daddr,
		.proto = IPPROTO_UDP, .sport = 2152, .dport = 2152,
	};
	struct vnfsec_flow_key key = flow_key_of(self, &outer);
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	g.type = 1;		/* echo request */
	len = build_gtpu(frame, &g);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_GTPU_OTHER));
}

TEST_F(fastpath, gtpu_version_not_1_counted_as_bad)
{
	struct gtpu_spec g = gpdu;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	g.version = 2;
	len = build_gtpu(frame, &g);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_BAD_GTPU);
}

TEST_F(fastpath, gtpu_truncated_header_dropped_as_unparsed)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = ETH_HLEN + 20 + 8 + 5;

	build_gtpu(frame, &gpdu);
	cut_frame(frame, len);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_TRUNC_GTPU);
}

TEST_F(fastpath, gtpu_malformed_inner_dropped_as_unparsed)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_gtpu(frame, &gpdu);

	/* The inner IPv4 header claims IHL 4. */
	frame[ETH_HLEN + 20 + 8 + 8] = 0x44;
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_BAD_INNER);
}

TEST_F(fastpath, gtpu_blocked_tunnel_source_dropped)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_gtpu(frame, &gpdu);

	block_prefix(_metadata, self, gpdu.outer_saddr, 32, 0);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_BLOCKLIST));
}

TEST_F(fastpath, gtpu_blocked_inner_source_dropped)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_gtpu(frame, &gpdu);

	block_prefix(_metadata, self, gpdu.inner.saddr, 32, 0);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
}
/* ---- blocklist --------------------------------------------------------- */

TEST_F(fastpath, blocked_prefix_dropped_before_flow_table)
{
	struct frame_spec s = tcp_syn, other = tcp_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = 0, other_len;
	__u64 want[VNFSEC_CNT_MAX] = {};
	int i;

	block_prefix(_metadata, self, "203.0.113.0", 24,
		     now_ns() + 3600ULL * 1000000000ULL);

	/* A flood from many blocked addresses must not reach the LRU. */
	for (i = 1; i <= 100; i++) {
		char addr[INET_ADDRSTRLEN];

		snprintf(addr, sizeof(addr), "203.0.113.%d", i);
		s.saddr = addr;
		s.sport = 1000 + i;
		len = build_frame(frame, &s);
		ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	}
	EXPECT_EQ(0, flow_count(self));
	EXPECT_EQ(0, consume_records(_metadata, self));

	/* The neighbouring /24 is not blocked. */
	other.saddr = "203.0.114.1";
	other_len = build_frame(frame, &other);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, other_len));
	EXPECT_EQ(1, flow_count(self));

	want[VNFSEC_CNT_RX_PACKETS] = 101;
	want[VNFSEC_CNT_RX_BYTES] = 100 * len + other_len;
	want[VNFSEC_CNT_PASS] = 1;
	want[VNFSEC_CNT_DROP_BLOCKLIST] = 100;
	want[VNFSEC_CNT_DROP] = 100;
	want[VNFSEC_CNT_NEW_FLOW] = 1;
	expect_counters(_metadata, self, want);
}

TEST_F(fastpath, block_without_expiry_drops)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	block_prefix(_metadata, self, tcp_syn.saddr, 32, 0);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_BLOCKLIST));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_PASS));
	EXPECT_EQ(0, flow_count(self));
}

TEST_F(fastpath, expired_block_passes)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	/* Expired a moment after boot: the agent that wrote it is gone. */
	block_prefix(_metadata, self, "192.0.2.0", 24, 1);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP_BLOCKLIST));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_NEW_FLOW));
	EXPECT_EQ(1, consume_records(_metadata, self));
}

TEST_F(fastpath, blocked_source_fragments_dropped)
{
	struct frame_spec s = udp_dns;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	s.frag_off = 185;	/* a later fragment, offset 1480 */
	len = build_frame(frame, &s);
	block_prefix(_metadata, self, s.saddr, 32, 0);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_BLOCKLIST));
}

/* ---- malformed and truncated frames: counted, passed, never tracked ---- */

TEST_F(fastpath, truncated_ethernet_dropped_as_unparsed)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;

	build_frame(frame, &tcp_syn);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, ETH_HLEN - 1));
	expect_unparsed(_metadata, self, ETH_HLEN - 1, VNFSEC_CNT_TRUNC_ETH);
}

TEST_F(fastpath, ethernet_header_only_counted_as_truncated_ip)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;

	build_frame(frame, &tcp_syn);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, ETH_HLEN));
	expect_unparsed(_metadata, self, ETH_HLEN, VNFSEC_CNT_TRUNC_IP);
}

TEST_F(fastpath, truncated_ipv4_dropped_as_unparsed)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = ETH_HLEN + sizeof(struct iphdr) - 1;

	build_frame(frame, &tcp_syn);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_TRUNC_IP);
}

TEST_F(fastpath, ipv4_options_past_end_counted_as_truncated)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	/* IHL says 60 bytes of header; the frame ends inside the options. */
	len = build_frame(frame, &tcp_syn);
	frame_ip(frame)->ihl = 15;
	frame_ip(frame)->tot_len = htons(60 + sizeof(struct tcphdr));
	ASSERT_GT(ETH_HLEN + 60, len);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_TRUNC_IP);
}

TEST_F(fastpath, ihl_below_5_counted_as_bad_ip)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	frame_ip(frame)->ihl = 4;
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_BAD_IP);
}

TEST_F(fastpath, version_not_4_counted_as_bad_ip)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	frame_ip(frame)->version = 6;	/* IPv6 behind an IPv4 EtherType */
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_BAD_IP);
}

TEST_F(fastpath, total_length_below_header_counted_as_bad_ip)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	frame_ip(frame)->tot_len = htons(19);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_BAD_IP);
}

TEST_F(fastpath, truncated_tcp_dropped_as_unparsed)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = ETH_HLEN + sizeof(struct iphdr) + sizeof(struct tcphdr) - 1;

	build_frame(frame, &tcp_syn);
	cut_frame(frame, len);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_TRUNC_L4);
}

TEST_F(fastpath, tcp_options_past_end_counted_as_truncated)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	((struct tcphdr *)frame_l4(frame))->doff = 15;
	cut_frame(frame, len);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_TRUNC_L4);
}

TEST_F(fastpath, tcp_doff_below_5_counted_as_bad_tcp)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	((struct tcphdr *)frame_l4(frame))->doff = 4;
	cut_frame(frame, len);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_BAD_TCP);
}

TEST_F(fastpath, truncated_udp_dropped_as_unparsed)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = ETH_HLEN + sizeof(struct iphdr) + sizeof(struct udphdr) - 1;

	build_frame(frame, &udp_dns);
	cut_frame(frame, len);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_TRUNC_L4);
}

TEST_F(fastpath, later_fragment_without_its_first_dropped_as_unparsed)
{
	struct vnfsec_unparsed_record *r = &self->records[0].unparsed;
	struct frame_spec s = udp_dns;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	/* Offset 1480 and no UDP header: nothing to judge it by. */
	s.frag_off = 185;
	len = build_frame(frame, &s);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_IP_FRAGMENT));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_FRAG_NO_STATE));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_UNPARSED));
	ASSERT_EQ(1, consume_records(_metadata, self));
	EXPECT_EQ(VNFSEC_REC_UNPARSED, r->hdr.type);
	EXPECT_EQ(VNFSEC_CNT_FRAG_NO_STATE, r->counter);
	EXPECT_EQ(inet_addr(s.saddr), r->saddr.v4);
	/* Monitor mode: passed, counted. */
	set_mode(_metadata, self, VNFSEC_MODE_MONITOR);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
}


TEST_F(fastpath, arp_without_ethertype_rule_dropped_in_protect)
{
	struct vnfsec_unparsed_record *r = &self->records[0].unparsed;
	__u64 want[VNFSEC_CNT_MAX] = {};
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	((struct ethhdr *)frame)->h_proto = htons(ETH_P_ARP);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	want[VNFSEC_CNT_RX_PACKETS] = 1;
	want[VNFSEC_CNT_RX_BYTES] = len;
	want[VNFSEC_CNT_DROP] = 1;
	want[VNFSEC_CNT_DROP_ETHERTYPE] = 1;
	want[VNFSEC_CNT_NON_IP] = 1;
	expect_counters(_metadata, self, want);
	ASSERT_EQ(1, consume_records(_metadata, self));
	EXPECT_EQ(VNFSEC_REC_UNPARSED, r->hdr.type);
	EXPECT_EQ(VNFSEC_CAUSE_ETHERTYPE, r->cause);
	EXPECT_EQ(htons(ETH_P_ARP), r->ethertype);
	EXPECT_EQ(1, r->smac[5]);	/* put_eth's source MAC */
	EXPECT_EQ(0, r->family);
}

TEST_F(fastpath, arp_passes_by_ethertype_rule)
{
	struct vnfsec_config cfg = get_config(_metadata, self);
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	cfg.ethertypes = VNFSEC_ETH_ARP;
	set_config(_metadata, self, &cfg);
	((struct ethhdr *)frame)->h_proto = htons(ETH_P_ARP);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	expect_passed_with(_metadata, self, len, VNFSEC_CNT_NON_IP);
	/* The rule names ARP, not every EtherType. */
	((struct ethhdr *)frame)->h_proto = htons(0x88b5);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	cfg.ethertypes = VNFSEC_ETH_ANY;
	set_config(_metadata, self, &cfg);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
}

/*
 * Cut one full frame at every length from 0 up, its length fields left
 * claiming the whole frame (consistent 0) or made to say the cut
 * (consistent 1): the counters say exactly which header ran out or which
 * length lied, only whole headers make a flow, and in protect mode every
 * frame that was not classified is dropped, in monitor mode none.
 */
static void truncation_sweep(struct __test_metadata *_metadata,
			     FIXTURE_DATA(fastpath) *self,
			     const struct frame_spec *s, int consistent,
			     __u8 mode)
{
	__u32 ip_end = ETH_HLEN + (5 + s->ip_opt_words) * 4;
	__u64 want[VNFSEC_CNT_MAX] = {};
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len, full, l4_end, flows = 0, act, nr_unparsed = 0;
	int unparsed;

	set_mode(_metadata, self, mode);
	full = build_frame(frame, s);
	l4_end = (__u8 *)frame_l4(frame) - frame +
		(s->proto == IPPROTO_TCP ? (5 + s->tcp_opt_words) * 4 :
		 sizeof(struct udphdr));

	for (len = 0; len <= full; len++) {
		build_frame(frame, s);
		if (consistent)
			cut_frame(frame, len);
		unparsed = 1;
		if (len < ETH_HLEN)
			want[VNFSEC_CNT_TRUNC_ETH]++;
		else if (len < ip_end)
			want[VNFSEC_CNT_TRUNC_IP]++;
		else if (!consistent && len < full)
			want[VNFSEC_CNT_BAD_IP_LEN]++;
		else if (len < l4_end)
			want[VNFSEC_CNT_TRUNC_L4]++;
		else
			unparsed = 0;
		nr_unparsed += unparsed;
		act = xdp_run(_metadata, self, frame, len);
		ASSERT_EQ(unparsed && mode == VNFSEC_MODE_PROTECT ?
			  XDP_DROP : XDP_PASS, act)
			TH_LOG("cut at %u of %u bytes", len, full);
		want[VNFSEC_CNT_RX_PACKETS]++;
		want[VNFSEC_CNT_RX_BYTES] += len;
		if (!unparsed) {
			want[VNFSEC_CNT_PASS]++;
			/* Each consistent cut is a packet of the flow. */
			flows = 1;
		} else if (mode == VNFSEC_MODE_PROTECT) {
			want[VNFSEC_CNT_DROP]++;
			want[VNFSEC_CNT_DROP_UNPARSED]++;
		} else {
			want[VNFSEC_CNT_PASS]++;
			want[VNFSEC_CNT_WOULD_DROP]++;
		}
	}
	want[VNFSEC_CNT_NEW_FLOW] = flows;
	/* Reports are bounded per CPU: what is over is counted instead. */
	want[VNFSEC_CNT_UNPARSED_UNREPORTED] =
		counter(_metadata, self, VNFSEC_CNT_UNPARSED_UNREPORTED);
	expect_counters(_metadata, self, want);
	EXPECT_EQ(flows, flow_count(self));
	EXPECT_EQ(nr_unparsed, records_of_all(_metadata, self,
					      VNFSEC_REC_UNPARSED) +
		  want[VNFSEC_CNT_UNPARSED_UNREPORTED]);
}

TEST_F(fastpath, truncation_sweep_tcp_lying_lengths_dropped_in_protect)
{
	struct frame_spec s = tcp_syn;

	s.ip_opt_words = 1;
	s.tcp_opt_words = 5;
	s.payload_len = 10;
	truncation_sweep(_metadata, self, &s, 0, VNFSEC_MODE_PROTECT);
}

TEST_F(fastpath, truncation_sweep_tcp_cut_headers_dropped_in_protect)
{
	struct frame_spec s = tcp_syn;

	s.ip_opt_words = 1;
	s.tcp_opt_words = 5;
	s.payload_len = 10;
	truncation_sweep(_metadata, self, &s, 1, VNFSEC_MODE_PROTECT);
}

TEST_F(fastpath, truncation_sweep_udp_dropped_in_protect)
{
	struct frame_spec s = udp_dns;

	s.ip_opt_words = 2;
	s.payload_len = 12;
	truncation_sweep(_metadata, self, &s, 0, VNFSEC_MODE_PROTECT);
	map_clear(self->skel->maps.counters);
	map_clear(self->skel->maps.flow_new);
	map_clear(self->skel->maps.flow_table);
	memset(self->nr_typed, 0, sizeof(self->nr_typed));
	truncation_sweep(_metadata, self, &s, 1, VNFSEC_MODE_PROTECT);
}

TEST_F(fastpath, truncation_sweep_passes_in_monitor_mode)
{
	struct frame_spec s = tcp_syn;

	s.tcp_opt_words = 2;
	s.payload_len = 4;
	truncation_sweep(_metadata, self, &s, 0, VNFSEC_MODE_MONITOR);
}

TEST_F(fastpath, truncation_sweep_passes_in_learn_mode)
{
	struct frame_spec s = udp_dns;

	truncation_sweep(_metadata, self, &s, 1, VNFSEC_MODE_LEARN);
}

/* ---- VNFs and policy ---------------------------------------------------- */

TEST_F(fastpath, ingress_port_and_destination_address_name_the_vnf_pair)
{
	struct vnfsec_vnf_stats vs;
	union record *r;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	map_port(_metadata, self, self->ifindex, 0, 7);
	map_addr4(_metadata, self, "198.51.100.0", 24, 9);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	ASSERT_EQ(1, consume_records(_metadata, self));
	r = record_of(self, VNFSEC_REC_NEW_FLOW);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(7, r->flow.src_vnf);
	EXPECT_EQ(9, r->flow.dst_vnf);

	vs = vnf_stats(_metadata, self, 7);
	EXPECT_EQ(1, vs.packets);
	EXPECT_EQ(len, vs.bytes);
	EXPECT_EQ(1, vs.new_flows);
	EXPECT_EQ(1, vs.verdict[VNFSEC_VERDICT_PASS]);
	EXPECT_EQ(0, vnf_stats(_metadata, self, 0).packets);
}

TEST_F(fastpath, vlan_specific_port_entry_beats_any_vlan)
{
	struct frame_spec s = tcp_syn;
	struct vnfsec_flow_key key;
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	map_port(_metadata, self, self->ifindex, VNFSEC_VLAN_ANY, 3);
	map_port(_metadata, self, self->ifindex, 200, 4);
	s.nr_vlans = 1;
	s.vlan[0] = 200;
	len = build_frame(frame, &s);
	key = flow_key_of(self, &s);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	ASSERT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(4, st.src_vnf);

	s.vlan[0] = 201;
	len = build_frame(frame, &s);
	key = flow_key_of(self, &s);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	ASSERT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(3, st.src_vnf);
}

static void pair_rule(struct __test_metadata *_metadata,
		      FIXTURE_DATA(fastpath) *self, __u16 src, __u16 dst,
		      __u8 protos, __u16 first, __u16 last)
{
	struct vnfsec_pair_key k = { .src_vnf = src, .dst_vnf = dst };
	struct vnfsec_pair_policy pol = { .protos = protos };

	if (first) {
		pol.nr_ports = 1;
		pol.ports[0].first = first;
		pol.ports[0].last = last;
		pol.ports[0].protos = protos &
				      (VNFSEC_PROTO_TCP | VNFSEC_PROTO_UDP);
	}
	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.vnf_pair_policy), &k, &pol,
		BPF_ANY));
}

/* VNF 7 (this port) to VNF 9 (198.51.100.0/24): TCP 80-80 only. */
static void vnf_pair_setup(struct __test_metadata *_metadata,
			   FIXTURE_DATA(fastpath) *self)
{
	map_port(_metadata, self, self->ifindex, 0, 7);
	map_addr4(_metadata, self, "198.51.100.0", 24, 9);
	pair_rule(_metadata, self, 7, 9, VNFSEC_PROTO_TCP, 80, 80);
}

TEST_F(fastpath, vnf_pair_rule_passes_allowed_port)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	vnf_pair_setup(_metadata, self);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP_PAIR_POLICY));
}

TEST_F(fastpath, vnf_pair_rule_drops_other_port)
{
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	vnf_pair_setup(_metadata, self);
	s.dport = 22;
	len = build_frame(frame, &s);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_PAIR_POLICY));
	EXPECT_EQ(1, vnf_stats(_metadata, self, 7)
			.verdict[VNFSEC_VERDICT_DROP]);
	/* A refused flow takes no slot in the LRU. */
	EXPECT_EQ(0, flow_count(self));
}

TEST_F(fastpath, vnf_pair_rule_drops_other_protocol)
{
	struct frame_spec s = udp_dns;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	vnf_pair_setup(_metadata, self);
	s.daddr = "198.51.100.20";
	len = build_frame(frame, &s);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_PAIR_POLICY));
}

/* VNF 7 to VNF 9: TCP 80 and UDP 53, as two ranges of their own. */
static void pair_rule_tcp80_udp53(struct __test_metadata *_metadata,
				  FIXTURE_DATA(fastpath) *self)
{
	struct vnfsec_pair_key k = { .src_vnf = 7, .dst_vnf = 9 };
	struct vnfsec_pair_policy pol = {
		.protos = VNFSEC_PROTO_TCP | VNFSEC_PROTO_UDP,
		.nr_ports = 2,
		.ports = {
			{ .first = 80, .last = 80, .protos = VNFSEC_PROTO_TCP },
			{ .first = 53, .last = 53, .protos = VNFSEC_PROTO_UDP },
		},
	};

	map_port(_metadata, self, self->ifindex, 0, 7);
	map_addr4(_metadata, self, "198.51.100.0", 24, 9);
	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.vnf_pair_policy), &k, &pol,
		BPF_ANY));
}

TEST_F(fastpath, vnf_pair_ports_are_per_protocol)
{
	struct frame_spec tcp53 = tcp_syn, udp53 = udp_dns;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	pair_rule_tcp80_udp53(_metadata, self);
	len = build_frame(frame, &tcp_syn);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	udp53.daddr = "198.51.100.20";
	len = build_frame(frame, &udp53);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	/* UDP's port is not TCP's. */
	tcp53.dport = 53;
	len = build_frame(frame, &tcp53);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_PAIR_POLICY));
}

TEST_F(fastpath, vnf_pair_protocol_without_ranges_allows_every_port)
{
	struct vnfsec_pair_key k = { .src_vnf = 7, .dst_vnf = 9 };
	struct vnfsec_pair_policy pol = {
		.protos = VNFSEC_PROTO_TCP | VNFSEC_PROTO_UDP,
		.nr_ports = 1,
		.ports = {
			{ .first = 80, .last = 80, .protos = VNFSEC_PROTO_TCP },
		},
	};
	struct frame_spec udp = udp_dns;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	/* TCP and UDP, one range: TCP 80. UDP has none: every port. */
	pair_rule_tcp80_udp53(_metadata, self);
	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.vnf_pair_policy), &k, &pol,
		BPF_ANY));
	udp.daddr = "198.51.100.20";
	udp.dport = 5000;
	len = build_frame(frame, &udp);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP_PAIR_POLICY));
}

TEST_F(fastpath, pair_default_deny_drops_pairs_without_rule)
{
	struct vnfsec_config cfg = {};
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	cfg.pair_default = 1;
	set_config(_metadata, self, &cfg);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_PAIR_POLICY));
}

/* Refused, not stored, but the agent hears of it: it judges floods. */
TEST_F(fastpath, pair_refused_new_flow_reported_not_stored)
{
	struct vnfsec_config cfg = { .pair_default = 1 };
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);
	union record *r;

	set_config(_metadata, self, &cfg);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(0, flow_count(self));
	ASSERT_EQ(1, consume_records(_metadata, self));
	r = record_of(self, VNFSEC_REC_NEW_FLOW);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(VNFSEC_VERDICT_DROP, r->flow.verdict);
	EXPECT_EQ(VNFSEC_CAUSE_PAIR_POLICY, r->flow.cause);
}

/* A flood the pair rules refuse must not flood the ring too. */
TEST_F(fastpath, refused_reports_bounded_and_counted)
{
	struct vnfsec_config cfg = { .pair_default = 1 };
	struct frame_buf fb;
	__u8 buf[MAX_FRAME] = {};
	__u32 len = build_frame(fb.data, &tcp_syn);
	struct xdp_md ctx = {
		.data_end = len, .ingress_ifindex = self->ifindex,
	};
	/* One run of many repeats: one CPU, well inside one window. */
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = buf, .data_size_in = len,
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		.repeat = VNFSEC_REFUSED_REPORTS + 100,
	);

	memcpy(buf, fb.data, len);
	set_config(_metadata, self, &cfg);
	ASSERT_EQ(0, bpf_prog_test_run_opts(
		bpf_program__fd(self->skel->progs.vnfsec_xdp), &opts));
	EXPECT_EQ(XDP_DROP, opts.retval);
	EXPECT_EQ(VNFSEC_REFUSED_REPORTS, consume_records(_metadata, self));
	EXPECT_EQ(100, counter(_metadata, self,
			       VNFSEC_CNT_REFUSED_UNREPORTED));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_RINGBUF_FULL_FLOW));
}

/* ---- stateful pairs: replies by flow state, not by rule ----------------- */

/*
 * VNF A (7) behind VLAN 10 of the port, 192.0.2.0/24; VNF B (9) behind
 * VLAN 20, 198.51.100.0/24 (one real device, two VNF ports). Rules both
 * ways: A -> B TCP 80 and ICMP, B -> A UDP 53. Pairs without a rule are
 * denied, as under a policy.
 */
#define VNF_A	7
#define VNF_B	9

static void two_way_setup(struct __test_metadata *_metadata,
			  FIXTURE_DATA(fastpath) *self)
{
	struct vnfsec_pair_key ab = { .src_vnf = VNF_A, .dst_vnf = VNF_B };
	struct vnfsec_pair_policy pol = {
		.protos = VNFSEC_PROTO_TCP | VNFSEC_PROTO_ICMP,
		.nr_ports = 1,
		.ports = { { .first = 80, .last = 80,
			     .protos = VNFSEC_PROTO_TCP } },
	};
	struct vnfsec_config cfg;

	map_port(_metadata, self, self->ifindex, 10, VNF_A);
	map_port(_metadata, self, self->ifindex, 20, VNF_B);
	map_addr4(_metadata, self, "192.0.2.0", 24, VNF_A);
	map_addr4(_metadata, self, "198.51.100.0", 24, VNF_B);
	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.vnf_pair_policy), &ab, &pol,
		BPF_ANY));
	pair_rule(_metadata, self, VNF_B, VNF_A, VNFSEC_PROTO_UDP, 53, 53);
	cfg = get_config(_metadata, self);
	cfg.pair_default = 1;
	cfg.policy_gen++;
	set_config(_metadata, self, &cfg);
}

/* A packet between the two: from A (a_to_b) or from B, on its VLAN. */
static __u32 two_way_frame(__u8 *frame, __u8 proto, int a_to_b,
			   __u16 sport, __u16 dport, __u8 flags)
{
	struct frame_spec s = {
		.saddr = a_to_b ? "192.0.2.10" : "198.51.100.20",
		.daddr = a_to_b ? "198.51.100.20" : "192.0.2.10",
		.proto = proto, .sport = sport, .dport = dport,
		.tcp_flags = flags, .payload_len = flags & VNFSEC_TCP_SYN ? 0 : 8,
		.nr_vlans = 1, .vlan = { a_to_b ? 10 : 20 },
	};

	return build_frame(frame, &s);
}

static __u32 two_way_run(struct __test_metadata *_metadata,
			 FIXTURE_DATA(fastpath) *self, __u8 proto, int a_to_b,
			 __u16 sport, __u16 dport, __u8 flags)
{
	struct frame_buf fb;
	__u32 len = two_way_frame(fb.data, proto, a_to_b, sport, dport, flags);

	return xdp_run(_metadata, self, fb.data, len);
}

#define SYN	VNFSEC_TCP_SYN
#define ACK	VNFSEC_TCP_ACK
#define SYNACK	(VNFSEC_TCP_SYN | VNFSEC_TCP_ACK)

TEST_F(fastpath, two_way_rules_keep_each_directions_ports)
{
	static const __u16 ports[] = { 1, 22, 53, 79, 81, 443, 3868, 5432,
				       8080, 65535 };
	unsigned int i;

	two_way_setup(_metadata, self);
	/* What each rule names passes (first packets: nothing to answer). */
	EXPECT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 1,
					40000, 80, SYN));
	EXPECT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_UDP, 0,
					5353, 53, 0));
	/* Every other port, either protocol, either way, is dropped. */
	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_TCP,
						1, 40001, ports[i], SYN))
			TH_LOG("A->B tcp/%u", ports[i]);
		EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_UDP,
						1, 40001, ports[i], 0))
			TH_LOG("A->B udp/%u", ports[i]);
		EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_TCP,
						0, 40001, ports[i], SYN))
			TH_LOG("B->A tcp/%u", ports[i]);
		if (ports[i] != 53)
			EXPECT_EQ(XDP_DROP,
				  two_way_run(_metadata, self, IPPROTO_UDP, 0,
					      40001, ports[i], 0))
				TH_LOG("B->A udp/%u", ports[i]);
	}
	/* The rule of one direction gives the other nothing. */
	EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					40002, 80, SYN));
	EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_UDP, 1,
					40002, 53, 0));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_REPLY));
}

TEST_F(fastpath, replies_of_an_allowed_tcp_flow_pass)
{
	struct vnfsec_flow_key key;
	struct vnfsec_flow_state st;
	struct frame_spec s = {
		.saddr = "198.51.100.20", .daddr = "192.0.2.10",
		.proto = IPPROTO_TCP, .sport = 80, .dport = 40000,
		.nr_vlans = 1, .vlan = { 20 },
	};

	two_way_setup(_metadata, self);
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 1,
					40000, 80, SYN));
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					80, 40000, SYNACK));
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 1,
					40000, 80, ACK));
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					80, 40000, ACK));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_REPLY));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP));
	/* Its new-flow record says so: its source did not start it. */
	consume_records(_metadata, self);
	ASSERT_EQ(2, records_of(self, VNFSEC_REC_NEW_FLOW));
	EXPECT_EQ(0, self->records[0].flow.flags & VNFSEC_FLOW_F_REPLY);
	EXPECT_EQ(VNFSEC_FLOW_F_REPLY,
		  self->records[1].flow.flags & VNFSEC_FLOW_F_REPLY);
	/* The reply is a flow of its own, marked as a reply. */
	key = flow_key_of(self, &s);
	ASSERT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(VNFSEC_FLOW_F_REPLY, st.flags & VNFSEC_FLOW_F_REPLY);
	EXPECT_EQ(VNF_B, st.src_vnf);
	EXPECT_EQ(VNF_A, st.dst_vnf);
	/* Its verdict recomputed (new generation): still a reply. */
	bump_policy_gen(_metadata, self);
	EXPECT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					80, 40000, ACK));
}

TEST_F(fastpath, reply_without_its_request_dropped)
{
	two_way_setup(_metadata, self);
	/* Spoofed "replies" from B's allowed port 80 to A: none asked. */
	EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					80, 40000, SYNACK));
	EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					80, 40000, ACK));
	/* One request asked: a "reply" to another port is no reply. */
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 1,
					40000, 80, SYN));
	EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					80, 40001, ACK));
	EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					81, 40000, ACK));
	EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_UDP, 0,
					80, 40000, 0));
	/* Nor from A to A's own request's port the wrong way round. */
	EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_UDP, 1,
					53, 5353, 0));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_REPLY));
	EXPECT_EQ(6, counter(_metadata, self, VNFSEC_CNT_DROP_PAIR_POLICY));
}

TEST_F(fastpath, reply_to_a_refused_syn_stays_refused)
{
	two_way_setup(_metadata, self);
	ASSERT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_TCP, 1,
					40000, 22, SYN));
	EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					22, 40000, SYNACK));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_REPLY));
}

TEST_F(fastpath, syn_the_other_way_is_judged_by_its_own_rules)
{
	two_way_setup(_metadata, self);
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 1,
					40000, 80, SYN));
	/* The exact reverse tuple, but opening a connection: B -> A rules. */
	EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					80, 40000, SYN));
}

TEST_F(fastpath, reply_to_a_one_packet_request_finds_it)
{
	struct frame_spec q = {
		.saddr = "198.51.100.20", .daddr = "192.0.2.10",
		.proto = IPPROTO_UDP, .sport = 5353, .dport = 53,
		.nr_vlans = 1, .vlan = { 20 },
	};
	struct vnfsec_flow_key key = flow_key_of(self, &q);
	struct vnfsec_flow_state st;

	two_way_setup(_metadata, self);
	/* One DNS query, B -> A: it stays in flow_new. */
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_UDP, 0,
					5353, 53, 0));
	EXPECT_EQ(0, flow_new_lookup(self, &key, &st));
	EXPECT_EQ(0, flow_table_count(self));
	EXPECT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_UDP, 1,
					53, 5353, 0));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_REPLY));
}

/*
 * flow_reply keeps an expectation in either slot of its key's pair: a
 * later request whose reply hashes to the same slot takes the other one
 * (direct-mapped, the replayed packet core of selftests/e2e/learn_replay
 * lost a DNS answer so, now and then); a third takes the slot that
 * expires first, and only then is the oldest's reply a new flow.
 */
TEST_F(fastpath, reply_expectations_share_a_slot_pair)
{
	__u16 q[3], port;
	unsigned int n = 0;
	__u32 first = 0;

	two_way_setup(_metadata, self);
	/* Three DNS questions B -> A whose answers share one slot. */
	for (port = 1024; n < 3 && port < 65535; port++) {
		struct vnfsec_flow_key rk = {
			.family = VNFSEC_AF_INET, .proto = IPPROTO_UDP,
			.sport = htons(53), .dport = htons(port),
		};
		__u32 slot;

		rk.saddr.v4 = inet_addr("192.0.2.10");
		rk.daddr.v4 = inet_addr("198.51.100.20");
		slot = vnfsec_flow_reply_slot(&rk);
		if (!n)
			first = slot;
		if (slot == first)
			q[n++] = port;
	}
	ASSERT_EQ(3, n);
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_UDP, 0,
					q[0], 53, 0));
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_UDP, 0,
					q[1], 53, 0));
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_UDP, 0,
					q[2], 53, 0));
	/* The second and third are answered; the first lost its slot. */
	EXPECT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_UDP, 1,
					53, q[1], 0));
	EXPECT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_UDP, 1,
					53, q[2], 0));
	EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_UDP, 1,
					53, q[0], 0));
	EXPECT_EQ(2, counter(_metadata, self, VNFSEC_CNT_REPLY));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_PAIR_POLICY));
}

TEST_F(fastpath, icmp_echo_reply_passes_only_as_a_reply)
{
	struct frame_buf fb;
	struct frame_spec s = {
		.saddr = "198.51.100.20", .daddr = "192.0.2.10",
		.proto = IPPROTO_ICMP, .icmp_type = 0, .sport = 77,
		.nr_vlans = 1, .vlan = { 20 },
	};
	struct frame_spec req = s;
	__u32 len;

	two_way_setup(_metadata, self);
	/* Unasked echo reply, and an echo request B -> A: refused. */
	len = build_frame(fb.data, &s);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	s.icmp_type = 8;
	len = build_frame(fb.data, &s);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	/* A pings B (A -> B ICMP is allowed); B's echo reply passes. */
	req.saddr = "192.0.2.10";
	req.daddr = "198.51.100.20";
	req.icmp_type = 8;
	req.vlan[0] = 10;
	len = build_frame(fb.data, &req);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	s.icmp_type = 0;
	len = build_frame(fb.data, &s);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	/* Another identifier is another conversation. */
	s.sport = 78;
	len = build_frame(fb.data, &s);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_REPLY));
}

TEST_F(fastpath, replies_end_with_the_rule_of_their_request)
{
	struct vnfsec_pair_key ab = { .src_vnf = VNF_A, .dst_vnf = VNF_B };

	two_way_setup(_metadata, self);
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 1,
					40000, 80, SYN));
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					80, 40000, SYNACK));
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					80, 40000, ACK));
	ASSERT_EQ(0, bpf_map_delete_elem(
		bpf_map__fd(self->skel->maps.vnf_pair_policy), &ab));
	bump_policy_gen(_metadata, self);
	EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					80, 40000, ACK));
	EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_TCP, 1,
					40000, 80, ACK));
}

TEST_F(fastpath, reply_in_monitor_mode_is_no_violation)
{
	two_way_setup(_metadata, self);
	set_mode(_metadata, self, VNFSEC_MODE_MONITOR);
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 1,
					40000, 80, SYN));
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					80, 40000, SYNACK));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
	/* A request-less "reply" is one: counted, passed. */
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					80, 40009, ACK));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
	/* A refused request has no replies either. */
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 1,
					40000, 22, SYN));
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					22, 40000, SYNACK));
	EXPECT_EQ(3, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
}

TEST_F(fastpath, reply_of_an_allowlisted_source_keeps_passing)
{
	two_way_setup(_metadata, self);
	allow_prefix(_metadata, self, "192.0.2.10", 32);
	/* A -> B tcp/22: no rule, but A's address is allowlisted. */
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 1,
					40000, 22, SYN));
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					22, 40000, SYNACK));
	ASSERT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					22, 40000, ACK));
	bump_policy_gen(_metadata, self);
	EXPECT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					22, 40000, ACK));
}

/* ---- fail closed: the unparsed verdict, per mode and per VNF ------------ */

static void vnf_policy_set(struct __test_metadata *_metadata,
			   FIXTURE_DATA(fastpath) *self, __u32 vnf, __u8 mode,
			   __u8 unparsed, __u8 ethertypes)
{
	struct vnfsec_vnf_policy v = {
		.own = 1, .mode = mode, .unparsed = unparsed,
		.ethertypes = ethertypes,
	};

	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.vnf_policy), &vnf, &v, BPF_ANY));
}

/* A TCP SYN cut inside its TCP header, lengths consistent, on a VLAN. */
static __u32 cut_syn(__u8 *frame, __u16 vlan)
{
	struct frame_spec s = tcp_syn;
	__u32 len;

	s.nr_vlans = vlan ? 1 : 0;
	s.vlan[0] = vlan;
	len = build_frame(frame, &s) - 4;
	/* cut_frame() knows untagged frames: fix the lengths by hand. */
	if (vlan) {
		__u16 tot = htons(len - ETH_HLEN - 4);

		memcpy(frame + ETH_HLEN + 4 + 2, &tot, 2);
	} else {
		cut_frame(frame, len);
	}
	return len;
}

TEST_F(fastpath, unparsed_pass_setting_passes_counts_and_reports)
{
	struct vnfsec_config cfg = get_config(_metadata, self);
	struct vnfsec_unparsed_record *r = &self->records[0].unparsed;
	struct frame_buf fb;
	__u32 len = cut_syn(fb.data, 0);

	cfg.unparsed = VNFSEC_UNPARSED_PASS;
	set_config(_metadata, self, &cfg);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_TRUNC_L4));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP_UNPARSED));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
	ASSERT_EQ(1, consume_records(_metadata, self));
	EXPECT_EQ(VNFSEC_CAUSE_UNPARSED, r->cause);
	EXPECT_EQ(VNFSEC_VERDICT_PASS, r->verdict);
	EXPECT_EQ(VNFSEC_CNT_TRUNC_L4, r->counter);
	EXPECT_EQ(VNFSEC_AF_INET, r->family);
	EXPECT_EQ(inet_addr(tcp_syn.saddr), r->saddr.v4);
	EXPECT_EQ(htons(ETH_P_IP), r->ethertype);
}

TEST_F(fastpath, unparsed_in_monitor_mode_counted_would_drop)
{
	struct vnfsec_unparsed_record *r = &self->records[0].unparsed;
	struct frame_buf fb;
	__u32 len = cut_syn(fb.data, 0);

	set_mode(_metadata, self, VNFSEC_MODE_MONITOR);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP));
	ASSERT_EQ(1, consume_records(_metadata, self));
	EXPECT_EQ(VNFSEC_VERDICT_WOULD_DROP, r->verdict);
}

TEST_F(fastpath, unparsed_verdict_is_the_port_vnfs)
{
	struct frame_buf fb;
	__u32 len;

	/* Global: monitor, pass. VNF 7 (VLAN 10): protect, drop. */
	set_mode(_metadata, self, VNFSEC_MODE_MONITOR);
	map_port(_metadata, self, self->ifindex, 10, 7);
	map_port(_metadata, self, self->ifindex, 20, 9);
	vnf_policy_set(_metadata, self, 7, VNFSEC_MODE_PROTECT,
		       VNFSEC_UNPARSED_DROP, 0);
	/* VNF 9 (VLAN 20): protect too, but its unparsed frames pass. */
	vnf_policy_set(_metadata, self, 9, VNFSEC_MODE_PROTECT,
		       VNFSEC_UNPARSED_PASS, 0);
	len = cut_syn(fb.data, 10);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	len = cut_syn(fb.data, 20);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	/* An unknown port: the global setting, monitor mode. */
	len = cut_syn(fb.data, 30);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_UNPARSED));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
	EXPECT_EQ(1, vnf_stats(_metadata, self, 7)
			.verdict[VNFSEC_VERDICT_DROP]);
}

TEST_F(fastpath, ethertype_rule_is_the_port_vnfs)
{
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u32 len;

	map_port(_metadata, self, self->ifindex, 10, 7);
	map_port(_metadata, self, self->ifindex, 20, 9);
	vnf_policy_set(_metadata, self, 7, VNFSEC_MODE_PROTECT,
		       VNFSEC_UNPARSED_DROP, VNFSEC_ETH_ARP);
	vnf_policy_set(_metadata, self, 9, VNFSEC_MODE_PROTECT,
		       VNFSEC_UNPARSED_DROP, VNFSEC_ETH_LLDP);
	s.nr_vlans = 1;
	s.vlan[0] = 10;
	len = build_frame(fb.data, &s);
	/* The EtherType after the tag: ARP. */
	fb.data[ETH_HLEN + 2] = ETH_P_ARP >> 8;
	fb.data[ETH_HLEN + 3] = ETH_P_ARP & 0xff;
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	s.vlan[0] = 20;
	len = build_frame(fb.data, &s);
	fb.data[ETH_HLEN + 2] = ETH_P_ARP >> 8;
	fb.data[ETH_HLEN + 3] = ETH_P_ARP & 0xff;
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	fb.data[ETH_HLEN + 2] = 0x88;
	fb.data[ETH_HLEN + 3] = 0xcc;
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_ETHERTYPE));
}

TEST_F(fastpath, unparsed_reports_bounded_rest_counted)
{
	struct frame_buf fb;
	__u32 len = cut_syn(fb.data, 0);
	__u64 unreported;
	int i, n = VNFSEC_UNPARSED_REPORTS + 36, reported;

	for (i = 0; i < n; i++)
		ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	reported = records_of_all(_metadata, self, VNFSEC_REC_UNPARSED);
	unreported = counter(_metadata, self,
			     VNFSEC_CNT_UNPARSED_UNREPORTED);
	EXPECT_EQ(n, reported + unreported);
	/* One CPU's budget at least was used up (the run may move CPUs). */
	EXPECT_LE(36, unreported + (reported - VNFSEC_UNPARSED_REPORTS));
	EXPECT_EQ(n, counter(_metadata, self, VNFSEC_CNT_DROP_UNPARSED));
}

/* ---- per-VNF mode ------------------------------------------------------- */

TEST_F(fastpath, vnf_in_protect_beside_vnf_in_monitor)
{
	struct frame_spec s = {
		.saddr = "198.51.100.20", .daddr = "203.0.113.9",
		.proto = IPPROTO_TCP, .sport = 40000, .dport = 22,
		.tcp_flags = VNFSEC_TCP_SYN, .nr_vlans = 1, .vlan = { 20 },
	};
	struct frame_buf fb;
	__u32 len;

	/* Global protect; A (7) protect, B (9) monitor: one policy. */
	two_way_setup(_metadata, self);
	vnf_policy_set(_metadata, self, VNF_A, VNFSEC_MODE_PROTECT,
		       VNFSEC_UNPARSED_DROP, 0);
	vnf_policy_set(_metadata, self, VNF_B, VNFSEC_MODE_MONITOR,
		       VNFSEC_UNPARSED_DROP, 0);
	set_mode(_metadata, self, VNFSEC_MODE_MONITOR);
	/* B to an address of no VNF: both ends monitor, would drop. */
	len = build_frame(fb.data, &s);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
	/* A to the same: A is in protect mode, dropped. */
	s.saddr = "192.0.2.10";
	s.vlan[0] = 10;
	len = build_frame(fb.data, &s);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	/* B to A, refused: A is protected from B's violation. */
	EXPECT_EQ(XDP_DROP, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					40001, 22, SYN));
	EXPECT_EQ(2, counter(_metadata, self, VNFSEC_CNT_DROP_PAIR_POLICY));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
}

TEST_F(fastpath, vnf_mode_change_reaches_an_established_flow)
{
	struct frame_spec s = tcp_ack;
	struct frame_buf fb;
	__u32 len;

	/* The other end is no VNF: the global mode, monitor, counts too. */
	set_mode(_metadata, self, VNFSEC_MODE_MONITOR);
	map_port(_metadata, self, self->ifindex, 0, 7);
	block_prefix(_metadata, self, s.saddr, 32, 0);
	vnf_policy_set(_metadata, self, 7, VNFSEC_MODE_MONITOR,
		       VNFSEC_UNPARSED_DROP, 0);
	len = build_frame(fb.data, &s);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	vnf_policy_set(_metadata, self, 7, VNFSEC_MODE_PROTECT,
		       VNFSEC_UNPARSED_DROP, 0);
	bump_policy_gen(_metadata, self);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
}

TEST_F(fastpath, vnf_in_learn_mode_raises_no_detector_event)
{
	struct vnfsec_config cfg = get_config(_metadata, self);
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u32 len;
	int i;

	cfg.syn_min = 10;
	cfg.mode = VNFSEC_MODE_LEARN;	/* the destination's: no VNF */
	set_config(_metadata, self, &cfg);
	map_port(_metadata, self, self->ifindex, 0, 7);
	vnf_policy_set(_metadata, self, 7, VNFSEC_MODE_LEARN,
		       VNFSEC_UNPARSED_DROP, 0);
	for (i = 0; i < 20; i++) {
		s.sport = 1000 + i;
		len = build_frame(fb.data, &s);
		ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	}
	consume_records(_metadata, self);
	EXPECT_EQ(0, records_of(self, VNFSEC_REC_DETECTOR));
	/* The same flood from a VNF in protect mode is seen. */
	vnf_policy_set(_metadata, self, 7, VNFSEC_MODE_PROTECT,
		       VNFSEC_UNPARSED_DROP, 0);
	for (i = 0; i < 20; i++) {
		s.sport = 2000 + i;
		len = build_frame(fb.data, &s);
		xdp_run(_metadata, self, fb.data, len);
	}
	consume_records(_metadata, self);
	EXPECT_EQ(1, records_of(self, VNFSEC_REC_DETECTOR));
}

/* ---- walks: classes of depth, order and length --------------------------- */

TEST_F(fastpath, vlan_stacks_of_every_tpid_order_and_depth_classified)
{
	static const __u16 tpids[] = { 0x8100, 0x88a8, 0x9100, 0x9200 };
	struct frame_spec s = udp_dns;
	struct vnfsec_flow_key key;
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u32 len, depth, i, rot, n = 0;

	for (depth = 1; depth <= VNFSEC_MAX_VLAN_TAGS; depth++) {
		for (rot = 0; rot < 4; rot++) {
			s.nr_vlans = depth;
			for (i = 0; i < depth; i++) {
				s.tpid[i] = tpids[(i + rot) % 4];
				s.vlan[i] = 100 * depth + 10 * rot + i;
			}
			s.sport = 1000 + n++;
			len = build_frame(fb.data, &s);
			ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data,
						    len))
				TH_LOG("%u tags, rotation %u", depth, rot);
			key = flow_key_of(self, &s);
			EXPECT_EQ(0, flow_lookup(self, &key, &st))
				TH_LOG("%u tags, rotation %u", depth, rot);
		}
	}
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP));
	EXPECT_EQ(n, counter(_metadata, self, VNFSEC_CNT_NEW_FLOW));
}

TEST_F(fastpath, vlan_stack_beyond_the_walk_dropped_whatever_the_tpid)
{
	static const __u16 tpids[] = { 0x8100, 0x88a8, 0x9100, 0x9200 };
	struct frame_spec s = udp_dns;
	struct frame_buf fb;
	__u32 len, i, rot;

	for (rot = 0; rot < 4; rot++) {
		s.nr_vlans = VNFSEC_MAX_VLAN_TAGS + 1;
		for (i = 0; i < s.nr_vlans; i++) {
			s.tpid[i] = tpids[(i + rot) % 4];
			s.vlan[i] = i + 1;
		}
		len = build_frame(fb.data, &s);
		EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	}
	EXPECT_EQ(4, counter(_metadata, self, VNFSEC_CNT_VLAN_TOO_DEEP));
	EXPECT_EQ(0, flow_count(self));
}

TEST_F(fastpath, legacy_qinq_tpid_9100_is_walked_not_passed)
{
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u32 len;

	/* 0x9100 outer tag around a flow no rule allows: judged, dropped. */
	vnf_pair_setup(_metadata, self);
	map_port(_metadata, self, self->ifindex, 5, 7);
	pair_rule(_metadata, self, 7, 9, VNFSEC_PROTO_TCP, 80, 80);
	s.nr_vlans = 1;
	s.tpid[0] = 0x9100;
	s.vlan[0] = 5;
	s.dport = 22;
	len = build_frame(fb.data, &s);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_PAIR_POLICY));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_NON_IP));
}

/* An IPv6 chain of n headers, types cycled from start, lengths varied. */
static void ext_chain(struct frame6_spec *s6, int n, int start, int words)
{
	static const __u8 types[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS,
				      IPPROTO_ROUTING, IPPROTO_AH };
	int i;

	s6->nr_ext = n;
	for (i = 0; i < n; i++) {
		s6->ext[i] = types[(i + start) % 4];
		s6->ext_words[i] = (i * words) % 3;
	}
}

TEST_F(fastpath, ipv6_chains_up_to_the_limit_classified_any_order_length)
{
	struct frame6_spec s6 = tcp6_syn;
	struct vnfsec_flow_key key;
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	int n, start, words, flows = 0;
	__u32 len;

	for (n = 0; n <= VNFSEC_MAX_IPV6_EXT; n += 3) {
		for (start = 0; start < 4; start++) {
			for (words = 0; words < 3; words++) {
				ext_chain(&s6, n, start, words);
				s6.l4.sport = 1000 + flows++;
				len = build_frame6(fb.data, &s6);
				ASSERT_GE(MAX_FRAME, len);
				ASSERT_EQ(XDP_PASS,
					  xdp_run(_metadata, self, fb.data,
						  len))
					TH_LOG("%d headers from %d, %d",
					       n, start, words);
				key = flow6_key_of(self, &s6);
				EXPECT_EQ(0, flow_lookup(self, &key, &st));
			}
		}
	}
	/* The deepest the walk follows, exactly. */
	ext_chain(&s6, VNFSEC_MAX_IPV6_EXT, 1, 1);
	s6.l4.sport = 999;
	len = build_frame6(fb.data, &s6);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP));
}

TEST_F(fastpath, ipv6_chains_beyond_the_limit_dropped_any_order)
{
	struct frame6_spec s6 = tcp6_syn;
	struct frame_buf fb;
	int n, start;
	__u32 len, drops = 0;

	for (n = VNFSEC_MAX_IPV6_EXT + 1; n <= VNFSEC_MAX_IPV6_EXT + 3; n++) {
		for (start = 0; start < 4; start++) {
			ext_chain(&s6, n, start, 0);
			len = build_frame6(fb.data, &s6);
			EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data,
						    len))
				TH_LOG("%d headers from %d", n, start);
			drops++;
		}
	}
	EXPECT_EQ(drops, counter(_metadata, self, VNFSEC_CNT_IP6_EXT_LIMIT));
	EXPECT_EQ(drops, counter(_metadata, self, VNFSEC_CNT_DROP_UNPARSED));
	EXPECT_EQ(0, flow_count(self));
}

/* ---- lengths that claim more than the frame ----------------------------- */

TEST_F(fastpath, ipv4_total_length_beyond_frame_dropped)
{
	struct frame_buf fb;
	__u32 len = build_frame(fb.data, &tcp_ack);
	__u16 tot;

	/* Claims one byte more than it carries; then a lot more. */
	tot = htons(len - ETH_HLEN + 1);
	memcpy(fb.data + ETH_HLEN + 2, &tot, 2);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_BAD_IP_LEN);
}

TEST_F(fastpath, ipv4_total_length_short_of_frame_is_padding)
{
	struct frame_buf fb;
	__u32 len = build_frame(fb.data, &tcp_syn);

	/* Ethernet pads short frames: bytes after the datagram are fine. */
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len + 6));
}

TEST_F(fastpath, udp_length_beyond_frame_or_below_header_dropped)
{
	struct frame_buf fb;
	__u32 len = build_frame(fb.data, &udp_dns);
	__u8 *uh = frame_l4(fb.data);
	__u16 ulen;

	ulen = htons(len - (uh - fb.data) + 1);
	memcpy(uh + 4, &ulen, 2);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_BAD_UDP_LEN);
	ulen = htons(7);
	memcpy(uh + 4, &ulen, 2);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(2, counter(_metadata, self, VNFSEC_CNT_BAD_UDP_LEN));
}

TEST_F(fastpath, ipv6_payload_length_beyond_frame_dropped)
{
	struct frame_buf fb;
	__u32 len = build_frame6(fb.data, &tcp6_syn);
	__u16 pl;

	pl = htons(len - ETH_HLEN - 40 + 1);
	memcpy(fb.data + ETH_HLEN + 4, &pl, 2);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	expect_unparsed(_metadata, self, len, VNFSEC_CNT_BAD_IP6_LEN);
}

TEST_F(fastpath, lying_length_on_an_allowed_pair_dropped)
{
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u32 len;
	__u16 tot;

	/* An allowed pair: still, a datagram that lies is not judged. */
	vnf_pair_setup(_metadata, self);
	len = build_frame(fb.data, &s);
	tot = htons(1500);
	memcpy(fb.data + ETH_HLEN + 2, &tot, 2);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(0, flow_count(self));
}

/* ---- anti-spoofing: a port sources its VNF's addresses only ------------- */

TEST_F(fastpath, vnf_port_sourcing_another_address_dropped_and_reported)
{
	struct vnfsec_unparsed_record *r = &self->records[0].unparsed;
	struct vnfsec_vnf_policy bound = { .own = 1,
					   .flags = VNFSEC_VNF_F_BOUND };
	struct frame_buf fb;
	__u32 len, a = VNF_A;

	two_way_setup(_metadata, self);
	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.vnf_policy), &a, &bound,
		BPF_ANY));
	/* From A's port with B's address: B's allowed UDP 53 to A. */
	struct frame_spec s = {
		.saddr = "198.51.100.20", .daddr = "192.0.2.10",
		.proto = IPPROTO_UDP, .sport = 5353, .dport = 53,
		.nr_vlans = 1, .vlan = { 10 },
	};
	len = build_frame(fb.data, &s);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	/* With an address of no VNF. */
	s.saddr = "203.0.113.7";
	s.daddr = "198.51.100.20";
	s.proto = IPPROTO_TCP;
	s.dport = 80;
	s.tcp_flags = VNFSEC_TCP_SYN;
	len = build_frame(fb.data, &s);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	/* Its own address: the rule decides (A -> B TCP 80 allowed). */
	s.saddr = "192.0.2.10";
	len = build_frame(fb.data, &s);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(2, counter(_metadata, self, VNFSEC_CNT_DROP_SPOOFED));
	ASSERT_LE(2, consume_records(_metadata, self));
	EXPECT_EQ(VNFSEC_REC_UNPARSED, r->hdr.type);
	EXPECT_EQ(VNFSEC_CAUSE_SPOOFED, r->cause);
	EXPECT_EQ(VNF_A, r->vnf);
	EXPECT_EQ(inet_addr("198.51.100.20"), r->saddr.v4);
	EXPECT_EQ(self->ifindex, r->ifindex);
	EXPECT_EQ(10, r->vlan);
}

TEST_F(fastpath, port_of_no_vnf_may_not_source_a_vnfs_address)
{
	struct frame_spec s = {
		.saddr = "192.0.2.10", .daddr = "198.51.100.20",
		.proto = IPPROTO_TCP, .sport = 40000, .dport = 80,
		.tcp_flags = VNFSEC_TCP_SYN, .nr_vlans = 1, .vlan = { 30 },
	};
	struct frame_buf fb;
	__u32 len;

	two_way_setup(_metadata, self);
	/* VLAN 30 is no VNF's port; 192.0.2.10 is A's address. */
	len = build_frame(fb.data, &s);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_SPOOFED));
	/* Monitor mode: counted would_drop, passed. */
	set_mode(_metadata, self, VNFSEC_MODE_MONITOR);
	s.sport = 40001;
	len = build_frame(fb.data, &s);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
}

TEST_F(fastpath, unbound_sources_not_checked)
{
	struct vnfsec_vnf_policy bound = { .own = 1,
					   .flags = VNFSEC_VNF_F_BOUND };
	struct frame6_spec s6 = tcp6_syn;
	struct frame_spec s = {
		.saddr = "0.0.0.0", .daddr = "198.51.100.20",
		.proto = IPPROTO_UDP, .sport = 68, .dport = 67,
		.nr_vlans = 1, .vlan = { 10 },
	};
	struct frame_buf fb;
	__u32 len, a = VNF_A;

	two_way_setup(_metadata, self);
	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.vnf_policy), &a, &bound,
		BPF_ANY));
	map_port(_metadata, self, self->ifindex, 0, VNF_A);
	/* 0.0.0.0 (DHCP): the pair rule decides, not the binding. */
	len = build_frame(fb.data, &s);
	xdp_run(_metadata, self, fb.data, len);
	/* fe80:: (neighbour discovery): the same. */
	s6.l4.saddr = "fe80::1";
	len = build_frame6(fb.data, &s6);
	xdp_run(_metadata, self, fb.data, len);
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP_SPOOFED));
}

/*
 * The allowlist exempts a source from the rules, not from the port it
 * must come in on: an allowlisted address claimed from a bound VNF's port
 * is spoofed (dropped in protect, would_drop in monitor); from a port of
 * no VNF, where it may come from, it passes as allowlisted.
 */
TEST_F(fastpath, allowlisted_address_from_a_wrong_port_is_spoofed)
{
	struct vnfsec_vnf_policy bound = { .own = 1,
					   .flags = VNFSEC_VNF_F_BOUND };
	struct frame_spec s = {
		.saddr = "203.0.113.7", .daddr = "198.51.100.20",
		.proto = IPPROTO_UDP, .sport = 5000, .dport = 6000,
		.nr_vlans = 1, .vlan = { 10 },
	};
	struct frame_buf fb;
	__u32 len, a = VNF_A;

	two_way_setup(_metadata, self);
	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.vnf_policy), &a, &bound,
		BPF_ANY));
	allow_prefix(_metadata, self, "203.0.113.7", 32);
	/* From A's port (VLAN 10): not A's address. */
	len = build_frame(fb.data, &s);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_SPOOFED));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_PASS));
	/* A in monitor mode (B too): counted would_drop, passed. */
	bound.mode = VNFSEC_MODE_MONITOR;
	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.vnf_policy), &a, &bound,
		BPF_ANY));
	set_mode(_metadata, self, VNFSEC_MODE_MONITOR);
	s.sport = 5001;
	len = build_frame(fb.data, &s);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
	/* From VLAN 30, a port of no VNF: allowlisted, passes any port. */
	bound.mode = VNFSEC_MODE_PROTECT;
	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.vnf_policy), &a, &bound,
		BPF_ANY));
	set_mode(_metadata, self, VNFSEC_MODE_PROTECT);
	s.vlan[0] = 30;
	s.sport = 5002;
	len = build_frame(fb.data, &s);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_SPOOFED));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP_PAIR_POLICY));
}

TEST_F(fastpath, unbound_vnf_port_is_not_checked)
{
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u32 len;

	/* VNF 7 has no addresses (no BOUND flag): nothing to check. */
	vnf_pair_setup(_metadata, self);
	len = build_frame(fb.data, &s);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP_SPOOFED));
}

/* ---- L7 enforcement: first packets of L7-pending flows ------------------- */

static void override(struct __test_metadata *_metadata,
		     FIXTURE_DATA(fastpath) *self,
		     const struct vnfsec_flow_key *key, __u32 actions);

/*
 * VNF 7 (this port) to VNF 9 (198.51.100.0/24): UDP 53 and TCP 80, each
 * range naming an L7 protocol when l7 (as the agent writes a rule with
 * "l7: dns" or "l7: http"), and UDP 2152 (a GTP-U carrier) likewise.
 */
static void l7_pair_setup(struct __test_metadata *_metadata,
			  FIXTURE_DATA(fastpath) *self, __u8 l7)
{
	struct vnfsec_pair_key k = { .src_vnf = 7, .dst_vnf = 9 };
	struct vnfsec_pair_policy pol = {
		.protos = VNFSEC_PROTO_TCP | VNFSEC_PROTO_UDP,
		.nr_ports = 3,
		.ports = {
			{ .first = 53, .last = 53, .protos = VNFSEC_PROTO_UDP,
			  .l7 = l7 },
			{ .first = 80, .last = 80, .protos = VNFSEC_PROTO_TCP,
			  .l7 = l7 },
			{ .first = 2152, .last = 2152,
			  .protos = VNFSEC_PROTO_UDP, .l7 = l7 },
		},
	};
	struct vnfsec_config cfg;

	map_port(_metadata, self, self->ifindex, 0, 7);
	map_addr4(_metadata, self, "198.51.100.0", 24, 9);
	map_addr4(_metadata, self, "10.10.0.2", 32, 9);
	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.vnf_pair_policy), &k, &pol,
		BPF_ANY));
	cfg = get_config(_metadata, self);
	cfg.pair_default = 1;
	cfg.policy_gen++;
	set_config(_metadata, self, &cfg);
}

/* The L7 samples read, in order: their packet numbers. */
static int l7_samples(struct __test_metadata *_metadata,
		      FIXTURE_DATA(fastpath) *self, __u8 *index, int max)
{
	int i, n = 0;

	consume_records(_metadata, self);
	for (i = 0; i < self->nr_records && i < MAX_RECORDS; i++) {
		struct vnfsec_sample_record *r = &self->records[i].sample;

		if (r->hdr.type != VNFSEC_REC_SAMPLE ||
		    r->reason != VNFSEC_SAMPLE_L7)
			continue;
		EXPECT_TRUE(r->flags & VNFSEC_FLOW_F_L7);
		EXPECT_EQ(VNFSEC_VERDICT_PASS, r->verdict);
		if (n < max)
			index[n] = r->index;
		n++;
	}
	return n;
}

TEST_F(fastpath, l7_pending_udp_flow_sends_its_first_packets)
{
	__u8 index[16];
	struct frame_buf fb;
	__u32 len = build_frame(fb.data, &udp_dns);
	int i;

	l7_pair_setup(_metadata, self, 1);
	for (i = 0; i < 12; i++)
		ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	/* The first 8, each whole up to 128 bytes; none after: no 1 in N. */
	ASSERT_EQ(VNFSEC_L7_PACKETS, l7_samples(_metadata, self, index, 16));
	for (i = 0; i < VNFSEC_L7_PACKETS; i++)
		EXPECT_EQ(i + 1, index[i]);
	EXPECT_EQ(VNFSEC_L7_PACKETS,
		  counter(_metadata, self, VNFSEC_CNT_L7_SAMPLE));
	EXPECT_EQ(len, self->records[1].sample.cap_len);
	EXPECT_EQ(VNFSEC_MODE_PROTECT, self->records[1].sample.mode);
}

/* SYN in flow_new, the ACK moving it to flow_table, then hits: 1..8. */
TEST_F(fastpath, l7_pending_tcp_flow_counts_across_both_flow_maps)
{
	struct frame_spec s = tcp_ack;
	__u8 index[16];
	struct frame_buf fb;
	__u32 len;
	int i;

	l7_pair_setup(_metadata, self, 1);
	len = build_frame(fb.data, &tcp_syn);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	for (i = 0; i < 10; i++) {
		s.seq = 1001 + 20 * i;
		len = build_frame(fb.data, &s);
		ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	}
	ASSERT_EQ(VNFSEC_L7_PACKETS, l7_samples(_metadata, self, index, 16));
	for (i = 0; i < VNFSEC_L7_PACKETS; i++)
		EXPECT_EQ(i + 1, index[i]);
}

TEST_F(fastpath, rule_without_l7_samples_nothing)
{
	__u8 index[16];
	struct frame_buf fb;
	__u32 len = build_frame(fb.data, &udp_dns);
	int i;

	l7_pair_setup(_metadata, self, 0);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(0, l7_samples(_metadata, self, index, 16));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_SAMPLE));
}

/*
 * The agent's verdict: flow_override L7 drops that flow (drop_l7), and
 * keeps dropping it once the entry is gone (F_L7_DROP in its state);
 * another flow of the pair passes.
 */
TEST_F(fastpath, l7_override_drops_the_flow_while_it_lives)
{
	struct vnfsec_flow_key key = flow_key_of(self, &udp_dns);
	struct frame_spec other = udp_dns;
	struct vnfsec_flow_state st;
	struct vnfsec_config cfg;
	struct frame_buf fb;
	__u32 len = build_frame(fb.data, &udp_dns);

	l7_pair_setup(_metadata, self, 1);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	override(_metadata, self, &key, VNFSEC_OVERRIDE_L7);
	bump_policy_gen(_metadata, self);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_L7));
	ASSERT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(VNFSEC_CAUSE_L7, st.cause);
	EXPECT_TRUE(st.flags & VNFSEC_FLOW_F_L7_DROP);
	/* The override gone (its TTL), the flow's state still says drop. */
	ASSERT_EQ(0, bpf_map_delete_elem(
		bpf_map__fd(self->skel->maps.flow_override), &key));
	cfg = get_config(_metadata, self);
	cfg.nr_flow_overrides = 0;
	cfg.policy_gen++;
	set_config(_metadata, self, &cfg);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(2, counter(_metadata, self, VNFSEC_CNT_DROP_L7));
	other.sport = 5354;
	len = build_frame(fb.data, &other);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
}

/*
 * What the agent writes beside the override: the flow's state with its
 * cached verdict undone and F_L7_DROP set, in flow_table or in its
 * flow_new slot; the next packet is dropped without a policy_gen bump.
 */
TEST_F(fastpath, l7_drop_written_into_the_flows_state_drops_it)
{
	struct vnfsec_flow_key key = flow_key_of(self, &udp_dns);
	struct frame_spec other = udp_dns;
	struct vnfsec_flow_state st;
	struct vnfsec_flow_new e;
	struct frame_buf fb;
	__u32 len = build_frame(fb.data, &udp_dns), slot;

	l7_pair_setup(_metadata, self, 1);
	/* In flow_table (two packets). */
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	ASSERT_EQ(0, bpf_map_lookup_elem(
		bpf_map__fd(self->skel->maps.flow_table), &key, &st));
	st.verdict_until_ns = 0;
	st.flags |= VNFSEC_FLOW_F_L7_DROP;
	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.flow_table), &key, &st,
		BPF_EXIST));
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_L7));
	/* In flow_new (one packet): dropped at its move. */
	other.sport = 5354;
	len = build_frame(fb.data, &other);
	key = flow_key_of(self, &other);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	slot = vnfsec_flow_new_slot(&key);
	ASSERT_EQ(0, bpf_map_lookup_elem_flags(
		bpf_map__fd(self->skel->maps.flow_new), &slot, &e,
		BPF_F_LOCK));
	ASSERT_EQ(0, memcmp(&e.key, &key, sizeof(key)));
	e.state.verdict_until_ns = 0;
	e.state.flags |= VNFSEC_FLOW_F_L7_DROP;
	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.flow_new), &slot, &e,
		BPF_F_LOCK));
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(2, counter(_metadata, self, VNFSEC_CNT_DROP_L7));
	/* A third flow of the pair, untouched, passes. */
	other.sport = 5355;
	len = build_frame(fb.data, &other);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
}

TEST_F(fastpath, l7_override_in_monitor_and_learn_counts_would_drop)
{
	struct vnfsec_flow_key key = flow_key_of(self, &udp_dns);
	struct frame_buf fb;
	__u32 len = build_frame(fb.data, &udp_dns);
	int m;

	l7_pair_setup(_metadata, self, 1);
	override(_metadata, self, &key, VNFSEC_OVERRIDE_L7);
	for (m = VNFSEC_MODE_MONITOR; m <= VNFSEC_MODE_LEARN; m++) {
		set_mode(_metadata, self, m);
		bump_policy_gen(_metadata, self);
		EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	}
	EXPECT_EQ(2, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP_L7));
	/* Protect again: dropped. */
	set_mode(_metadata, self, VNFSEC_MODE_PROTECT);
	bump_policy_gen(_metadata, self);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_L7));
}

/* A G-PDU's subscriber flow is not L7 pending: its carrier is judged. */
TEST_F(fastpath, gtpu_inner_flow_is_not_l7_pending)
{
	__u8 index[16];
	struct frame_buf fb;
	__u32 len = build_gtpu(fb.data, &gpdu);
	int i;

	l7_pair_setup(_metadata, self, 1);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(0, l7_samples(_metadata, self, index, 16));
}

/*
 * Only flows the L7 range itself allows are pending: not the replies of
 * such a flow (they pass as replies), not an allowlisted source's.
 */
TEST_F(fastpath, replies_and_allowlisted_sources_are_not_l7_pending)
{
	struct vnfsec_pair_key ab = { .src_vnf = VNF_A, .dst_vnf = VNF_B };
	struct vnfsec_pair_policy pol;
	__u8 index[16];

	two_way_setup(_metadata, self);
	ASSERT_EQ(0, bpf_map_lookup_elem(
		bpf_map__fd(self->skel->maps.vnf_pair_policy), &ab, &pol));
	pol.ports[0].l7 = 1;		/* A -> B TCP 80 names http */
	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.vnf_pair_policy), &ab, &pol,
		BPF_ANY));
	bump_policy_gen(_metadata, self);
	EXPECT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 1,
					40000, 80, SYN));
	EXPECT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					80, 40000, SYNACK));
	EXPECT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 0,
					80, 40000, ACK));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_REPLY));
	/* The request's SYN only. */
	ASSERT_EQ(1, l7_samples(_metadata, self, index, 16));
	EXPECT_EQ(1, index[0]);
	/* An allowlisted source on the same rule: not pending. */
	allow_prefix(_metadata, self, "192.0.2.10", 32);
	EXPECT_EQ(XDP_PASS, two_way_run(_metadata, self, IPPROTO_TCP, 1,
					40001, 80, SYN));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_L7_SAMPLE));
}

/* Item 13.7: a tunnelled flow's record names the tunnel; others none. */
TEST_F(fastpath, gtpu_new_flow_record_carries_outer_tuple_and_teid)
{
	struct vnfsec_new_flow_record *r;
	struct frame_buf fb;
	__u32 len = build_gtpu(fb.data, &gpdu);

	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	ASSERT_EQ(1, consume_records(_metadata, self));
	r = &self->records[0].flow;
	ASSERT_EQ(VNFSEC_REC_NEW_FLOW, r->hdr.type);
	EXPECT_EQ(VNFSEC_ENCAP_GTPU, r->key.encap);
	EXPECT_EQ(inet_addr("100.64.0.7"), r->key.saddr.v4);
	EXPECT_EQ(VNFSEC_AF_INET, r->outer_family);
	EXPECT_EQ(inet_addr("10.10.0.1"), r->outer_saddr.v4);
	EXPECT_EQ(inet_addr("10.10.0.2"), r->outer_daddr.v4);
	EXPECT_EQ(htons(2152), r->outer_sport);
	EXPECT_EQ(htons(2152), r->outer_dport);
	EXPECT_EQ(htonl(0x1234abcd), r->teid);
	len = build_frame(fb.data, &tcp_syn);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	ASSERT_EQ(2, consume_records(_metadata, self));
	r = &self->records[1].flow;
	EXPECT_EQ(0, r->outer_family);
	EXPECT_EQ(0, r->outer_saddr.v4);
	EXPECT_EQ(0, r->outer_sport);
	EXPECT_EQ(0, r->teid);
}

/* ---- TCP RST/FIN against the flow's sequence window --------------------- */

/* An established flow: SYN at 1000, then 20 bytes at 1001 (next: 1021). */
static void seq_flow(struct __test_metadata *_metadata,
		     FIXTURE_DATA(fastpath) *self)
{
	struct frame_spec s = tcp_ack;
	struct frame_buf fb;
	__u32 len;

	s.tcp_flags = VNFSEC_TCP_SYN;
	s.payload_len = 0;
	len = build_frame(fb.data, &s);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	s.tcp_flags = VNFSEC_TCP_ACK;
	s.payload_len = 20;
	s.seq = 1001;
	len = build_frame(fb.data, &s);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
}

static __u32 seq_run(struct __test_metadata *_metadata,
		     FIXTURE_DATA(fastpath) *self, __u8 flags, __u32 seq)
{
	struct frame_spec s = tcp_ack;
	struct frame_buf fb;
	__u32 len;

	s.tcp_flags = flags;
	s.payload_len = 0;
	s.seq = seq;
	len = build_frame(fb.data, &s);
	return xdp_run(_metadata, self, fb.data, len);
}

TEST_F(fastpath, rst_outside_the_flows_window_dropped_and_reported)
{
	struct vnfsec_unparsed_record *r;
	static const __u32 blind[] = { 1021 + (2U << 20), 1021 - (2U << 20),
				       0x80000000U, 1021 + 0x40000000U };
	unsigned int i;

	seq_flow(_metadata, self);
	consume_records(_metadata, self);
	for (i = 0; i < sizeof(blind) / sizeof(blind[0]); i++)
		EXPECT_EQ(XDP_DROP, seq_run(_metadata, self,
					    VNFSEC_TCP_RST | VNFSEC_TCP_ACK,
					    blind[i]))
			TH_LOG("RST at %u", blind[i]);
	EXPECT_EQ(4, counter(_metadata, self, VNFSEC_CNT_DROP_SEQ_WINDOW));
	consume_records(_metadata, self);
	r = &self->records[self->nr_records - 1].unparsed;
	ASSERT_EQ(VNFSEC_REC_UNPARSED, r->hdr.type);
	EXPECT_EQ(VNFSEC_CAUSE_SEQ_WINDOW, r->cause);
	EXPECT_EQ(VNFSEC_CNT_DROP_SEQ_WINDOW, r->counter);
	EXPECT_EQ(1, r->smac[5]);
	EXPECT_EQ(self->ifindex, r->ifindex);
	/* The sender's own RST, at its next sequence number, passes. */
	EXPECT_EQ(XDP_PASS, seq_run(_metadata, self,
				    VNFSEC_TCP_RST | VNFSEC_TCP_ACK, 1021));
}

TEST_F(fastpath, fin_outside_the_flows_window_dropped)
{
	seq_flow(_metadata, self);
	EXPECT_EQ(XDP_DROP, seq_run(_metadata, self,
				    VNFSEC_TCP_FIN | VNFSEC_TCP_ACK,
				    1021 + (4U << 20)));
	EXPECT_EQ(XDP_PASS, seq_run(_metadata, self,
				    VNFSEC_TCP_FIN | VNFSEC_TCP_ACK, 1021));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_SEQ_WINDOW));
}

TEST_F(fastpath, rst_outside_the_window_counted_in_monitor_mode)
{
	set_mode(_metadata, self, VNFSEC_MODE_MONITOR);
	seq_flow(_metadata, self);
	EXPECT_EQ(XDP_PASS, seq_run(_metadata, self, VNFSEC_TCP_RST,
				    1021 + (8U << 20)));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP));
}

TEST_F(fastpath, window_follows_the_senders_data)
{
	struct frame_spec s = tcp_ack;
	struct frame_buf fb;
	__u32 len, i;

	seq_flow(_metadata, self);
	/* 5 MiB later (in 1 KiB segments, counted by 64 KiB steps)... */
	for (i = 1; i <= 80; i++) {
		s.seq = 1021 + i * 65536;
		s.payload_len = 0;
		len = build_frame(fb.data, &s);
		ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	}
	/* ...a RST where the sender is now passes, one at the start not. */
	EXPECT_EQ(XDP_PASS, seq_run(_metadata, self, VNFSEC_TCP_RST,
				    1021 + 80 * 65536));
	EXPECT_EQ(XDP_DROP, seq_run(_metadata, self, VNFSEC_TCP_RST, 1021));
}

/* ---- fragments: the datagram takes its first fragment's verdict ------- */

/* A UDP datagram of 3 fragments of 6 units: 0..47, 48..95, 96..143. */
static __u32 udp_fragment(__u8 *frame, __u16 offset_units, int more,
			  __u16 dport)
{
	struct frame_spec s = udp_dns;
	__u32 len;

	s.dport = dport;
	s.payload_len = 40;	/* + 8: the UDP header, or data */
	s.frag_off = offset_units | (more ? IP_MF : 0);
	len = build_frame(frame, &s);
	if (offset_units) {
		/* No UDP header in a later fragment: its bytes are data. */
		memset(frame_l4(frame), 0xab, 8);
	} else {
		/* The first's UDP length: the whole datagram's. */
		__u16 ulen = htons(3 * 48);

		memcpy((__u8 *)frame_l4(frame) + 4, &ulen, 2);
	}
	return len;
}

TEST_F(fastpath, later_fragments_take_the_first_ones_pass)
{
	struct frame_buf fb;
	__u32 len;

	vnf_pair_setup(_metadata, self);
	pair_rule(_metadata, self, 7, 9, VNFSEC_PROTO_UDP, 53, 53);
	len = udp_fragment(fb.data, 0, 1, 53);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	len = udp_fragment(fb.data, 12, 1, 53);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	len = udp_fragment(fb.data, 6, 0, 53);
	EXPECT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP));
	EXPECT_EQ(2, counter(_metadata, self, VNFSEC_CNT_IP_FRAGMENT));
}

TEST_F(fastpath, later_fragments_take_the_first_ones_drop)
{
	struct frame_buf fb;
	__u32 len;

	vnf_pair_setup(_metadata, self);
	pair_rule(_metadata, self, 7, 9, VNFSEC_PROTO_UDP, 53, 53);
	len = udp_fragment(fb.data, 0, 1, 5353);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	len = udp_fragment(fb.data, 6, 1, 5353);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(2, counter(_metadata, self, VNFSEC_CNT_DROP_PAIR_POLICY));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_FRAG_NO_STATE));
}

TEST_F(fastpath, second_offset_0_fragment_is_evasion)
{
	struct vnfsec_unparsed_record *r;
	struct frame_buf fb;
	__u32 len;
	int i;

	vnf_pair_setup(_metadata, self);
	pair_rule(_metadata, self, 7, 9, VNFSEC_PROTO_UDP, 53, 53);
	len = udp_fragment(fb.data, 0, 1, 53);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
	/* Same datagram, another first fragment: other ports, or the same. */
	len = udp_fragment(fb.data, 0, 1, 22);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	len = udp_fragment(fb.data, 0, 1, 53);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	/* And the datagram's later fragments with it. */
	len = udp_fragment(fb.data, 6, 0, 53);
	EXPECT_EQ(XDP_DROP, xdp_run(_metadata, self, fb.data, len));
	EXPECT_EQ(3, counter(_metadata, self,
			     VNFSEC_CNT_DROP_FRAGMENT_EVASION));
	EXPECT_LE(1, counter(_metadata, self, VNFSEC_CNT_FRAG_OVERLAP));
	consume_records(_metadata, self);
	for (i = 0, r = NULL; i < self->nr_records && i < MAX_RECORDS; i++)
		if (self->records[i].hdr.type == VNFSEC_REC_UNPARSED)
			r = &self->records[i].unparsed;
	ASSERT_NE(NULL, r);
	EXPECT_EQ(VNFSEC_CAUSE_FRAGMENT_EVASION, r->cause);
	EXPECT_EQ(VNFSEC_CNT_FRAG_OVERLAP, r->counter);
}

TEST_F(fastpath, overlapping_later_fragment_is_evasion_in_each_mode)
{
	static const __u8 modes[] = { VNFSEC_MODE_PROTECT,
				      VNFSEC_MODE_MONITOR };
	struct frame_buf fb;
	__u32 len, m;

	for (m = 0; m < 2; m++) {
		map_clear(self->skel->maps.frag_table);
		map_clear(self->skel->maps.counters);
		set_mode(_metadata, self, modes[m]);
		len = udp_fragment(fb.data, 0, 1, 53);
		ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, fb.data, len));
		/* Starts at unit 5, inside the first (units 0..5). */
		len = udp_fragment(fb.data, 5, 1, 53);
		EXPECT_EQ(modes[m] == VNFSEC_MODE_PROTECT ? XDP_DROP :
			  XDP_PASS, xdp_run(_metadata, self, fb.data, len));
		EXPECT_EQ(1, counter(_metadata, self,
				     VNFSEC_CNT_FRAG_OVERLAP));
	}
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
}

TEST_F(fastpath, fragments_of_sizes_and_orders_without_overlap_pass)
{
	struct frame_spec s = udp_dns;
	struct frame_buf fb;
	__u32 len, sz, order, id = 0;

	for (sz = 1; sz <= 8; sz++) {
		for (order = 0; order < 2; order++) {
			/* Each fragment: sz units of payload + 1 (8 B). */
			__u16 offs[3] = { 0, sz + 1, 2 * (sz + 1) };
			__u16 idn = htons(0x2000 + id++);
			int i;

			for (i = 0; i < 3; i++) {
				/* The first comes first; then in order or not. */
				int k = order && i ? 3 - i : i;

				s.payload_len = sz * 8;
				s.frag_off = offs[k] | (k < 2 ? IP_MF : 0);
				len = build_frame(fb.data, &s);
				memcpy(fb.data + ETH_HLEN + 4, &idn, 2);
				if (k) {
					memset(frame_l4(fb.data), 0xab, 8);
				} else {
					__u16 ul = htons(8 * 3 * (sz + 1));

					memcpy((__u8 *)frame_l4(fb.data) + 4,
					       &ul, 2);
				}
				EXPECT_EQ(XDP_PASS,
					  xdp_run(_metadata, self, fb.data,
						  len))
					TH_LOG("size %u, fragment %d", sz, k);
			}
		}
	}
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_FRAG_OVERLAP));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP));
}

TEST_F(fastpath, blocklist_v6_drops_source)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame6(frame, &tcp6_syn);

	list_prefix6(_metadata, self->skel->maps.blocklist_v6, "2001:db8::",
		     64);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_BLOCKLIST));
}

TEST_F(fastpath, allowlist_beats_blocklist)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	block_prefix(_metadata, self, "192.0.2.0", 24, 0);
	allow_prefix(_metadata, self, tcp_syn.saddr, 32);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_ALLOWLISTED));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP_BLOCKLIST));
}

TEST_F(fastpath, allowlist_v6_beats_pair_rule)
{
	struct vnfsec_config cfg = {};
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame6(frame, &tcp6_syn);

	cfg.pair_default = 1;
	set_config(_metadata, self, &cfg);
	list_prefix6(_metadata, self->skel->maps.allowlist_v6, "2001:db8::",
		     64);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
}

static void override(struct __test_metadata *_metadata,
		     FIXTURE_DATA(fastpath) *self,
		     const struct vnfsec_flow_key *key, __u32 actions)
{
	struct vnfsec_flow_override o = { .actions = actions };
	struct vnfsec_config cfg = get_config(_metadata, self);

	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.flow_override), key, &o,
		BPF_ANY));
	/* As every writer must: the programs look only when told. */
	cfg.nr_flow_overrides++;
	set_config(_metadata, self, &cfg);
}

TEST_F(fastpath, flow_override_looked_at_only_with_nr_flow_overrides)
{
	struct vnfsec_flow_key key = flow_key_of(self, &tcp_syn);
	struct vnfsec_config cfg;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	override(_metadata, self, &key, VNFSEC_OVERRIDE_DROP);
	cfg = get_config(_metadata, self);
	cfg.nr_flow_overrides = 0;
	set_config(_metadata, self, &cfg);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	cfg.nr_flow_overrides = 1;
	set_config(_metadata, self, &cfg);
	/* A SYN again, its verdict still cached: generation moved on. */
	bump_policy_gen(_metadata, self);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_OVERRIDE));
}

TEST_F(fastpath, flow_override_drop_drops_only_that_flow)
{
	struct vnfsec_flow_key key = flow_key_of(self, &tcp_syn);
	struct frame_spec other = tcp_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	override(_metadata, self, &key, VNFSEC_OVERRIDE_DROP);
	len = build_frame(frame, &tcp_syn);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	other.sport = 40001;
	len = build_frame(frame, &other);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_OVERRIDE));
}

TEST_F(fastpath, flow_override_monitor_samples_every_packet)
{
	struct vnfsec_flow_key key = flow_key_of(self, &tcp_ack);
	union record *r;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_ack);
	int i;

	override(_metadata, self, &key, VNFSEC_OVERRIDE_MONITOR);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	consume_records(_metadata, self);
	EXPECT_EQ(3, records_of(self, VNFSEC_REC_SAMPLE));
	r = record_of(self, VNFSEC_REC_SAMPLE);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(VNFSEC_SAMPLE_MONITOR, r->sample.reason);
	EXPECT_EQ(len, r->sample.pkt_len);
	EXPECT_EQ(len < VNFSEC_SAMPLE_BYTES ? len : VNFSEC_SAMPLE_BYTES,
		  r->sample.cap_len);
	EXPECT_EQ(0, memcmp(frame, r->sample.data, r->sample.cap_len));
	EXPECT_EQ(0, r->sample.data[VNFSEC_SAMPLE_BYTES - 1]);
	EXPECT_EQ(3, counter(_metadata, self, VNFSEC_CNT_SAMPLE));
}

TEST_F(fastpath, flow_override_on_existing_flow_needs_policy_gen)
{
	struct vnfsec_flow_key key = flow_key_of(self, &tcp_ack);
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_ack);

	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	override(_metadata, self, &key, VNFSEC_OVERRIDE_DROP);
	/* Cached: one lookup, no policy map read until the generation moves. */
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	bump_policy_gen(_metadata, self);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(2, counter(_metadata, self, VNFSEC_CNT_VERDICT_EVAL));
}

TEST_F(fastpath, block_reaches_established_flow_after_policy_gen)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_ack);

	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	block_prefix(_metadata, self, tcp_ack.saddr, 32, 0);
	bump_policy_gen(_metadata, self);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_BLOCKLIST));
}

TEST_F(fastpath, block_reaches_established_flow_within_verdict_ttl)
{
	struct vnfsec_config cfg = {};
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_ack);

	cfg.verdict_ttl_ms = 50;
	set_config(_metadata, self, &cfg);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	/* Written by hand, no generation bump: the TTL catches it. */
	block_prefix(_metadata, self, tcp_ack.saddr, 32, 0);
	usleep(100 * 1000);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
}

TEST_F(fastpath, cached_verdict_ends_with_the_block_that_decided_it)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_ack);

	set_mode(_metadata, self, VNFSEC_MODE_MONITOR);
	block_prefix(_metadata, self, tcp_ack.saddr, 32,
		     now_ns() + 60 * 1000000ULL);
	/* Monitor mode: the flow is kept, would-drop cached with expiry. */
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
	usleep(100 * 1000);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
	EXPECT_EQ(2, counter(_metadata, self, VNFSEC_CNT_VERDICT_EVAL));
}

static void quarantine_vnf(struct __test_metadata *_metadata,
			   FIXTURE_DATA(fastpath) *self, __u16 vnf)
{
	struct vnfsec_quarantine q = { .reason = VNFSEC_BLOCK_OPERATOR };

	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.quarantine), &vnf, &q, BPF_ANY));
}

TEST_F(fastpath, quarantined_vnf_dropped)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	map_port(_metadata, self, self->ifindex, 0, 7);
	quarantine_vnf(_metadata, self, 7);
	ASSERT_EQ(XDP_DROP, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_QUARANTINE));
}

TEST_F(fastpath, quarantined_vnf_still_reaches_management)
{
	struct vnfsec_config cfg = {};
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	map_port(_metadata, self, self->ifindex, 0, 7);
	map_addr4(_metadata, self, "198.51.100.0", 24, 1);
	cfg.mgmt_vnf = 1;
	set_config(_metadata, self, &cfg);
	quarantine_vnf(_metadata, self, 7);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
}

TEST_F(fastpath, quarantine_leaves_allowed_non_ip_alone)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	struct vnfsec_config cfg = get_config(_metadata, self);

	cfg.ethertypes = VNFSEC_ETH_ARP;
	set_config(_metadata, self, &cfg);
	map_port(_metadata, self, self->ifindex, 0, 7);
	quarantine_vnf(_metadata, self, 7);
	((struct ethhdr *)frame)->h_proto = htons(ETH_P_ARP);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
}

/* ---- modes ------------------------------------------------------------- */

TEST_F(fastpath, protect_is_the_default_mode)
{
	struct vnfsec_config cfg = get_config(_metadata, self);

	EXPECT_EQ(VNFSEC_MODE_PROTECT, cfg.mode);
	EXPECT_EQ(0, cfg.policy_gen);
}

TEST_F(fastpath, monitor_mode_counts_would_drop_and_passes)
{
	struct vnfsec_flow_state st;
	struct vnfsec_flow_key key = flow_key_of(self, &tcp_syn);
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	set_mode(_metadata, self, VNFSEC_MODE_MONITOR);
	block_prefix(_metadata, self, tcp_syn.saddr, 32, 0);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP));
	EXPECT_EQ(1, vnf_stats(_metadata, self, 0)
			.verdict[VNFSEC_VERDICT_WOULD_DROP]);
	/* Recorded, with its verdict, so the operator sees what would go. */
	ASSERT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(VNFSEC_VERDICT_DROP, st.verdict);
	EXPECT_EQ(VNFSEC_CAUSE_BLOCKLIST, st.cause);
}

TEST_F(fastpath, learn_mode_passes_and_raises_no_event)
{
	struct vnfsec_config cfg = {};
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	int i;

	cfg.mode = VNFSEC_MODE_LEARN;
	cfg.syn_min = 10;
	set_config(_metadata, self, &cfg);
	block_prefix(_metadata, self, "203.0.113.0", 24, 0);
	for (i = 0; i < 50; i++) {
		s.saddr = i % 2 ? "203.0.113.9" : "192.0.2.10";
		s.sport = 1000 + i;
		ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame,
					    build_frame(frame, &s)));
	}
	consume_records(_metadata, self);
	EXPECT_EQ(0, records_of(self, VNFSEC_REC_DETECTOR));
	EXPECT_EQ(25, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
	EXPECT_EQ(50, counter(_metadata, self, VNFSEC_CNT_NEW_FLOW));
}

/* ---- detectors --------------------------------------------------------- */

/* n SYNs from distinct ports (and sources) to one destination. */
static void syn_burst(struct __test_metadata *_metadata,
		      FIXTURE_DATA(fastpath) *self, int n, __u32 *last)
{
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	int i;

	for (i = 0; i < n; i++) {
		s.sport = 1024 + i;
		*last = xdp_run(_metadata, self, frame,
				build_frame(frame, &s));
	}
}

TEST_F(fastpath, syn_flood_raises_one_event)
{
	struct vnfsec_config cfg = {};
	union record *r;
	__u32 last;

	cfg.syn_min = 50;
	set_config(_metadata, self, &cfg);
	syn_burst(_metadata, self, 120, &last);
	EXPECT_EQ(XDP_PASS, last);
	consume_records(_metadata, self);
	ASSERT_EQ(1, records_of(self, VNFSEC_REC_DETECTOR));
	r = record_of(self, VNFSEC_REC_DETECTOR);
	EXPECT_EQ(VNFSEC_DET_SYN_FLOOD, r->det.detector);
	EXPECT_EQ(50, r->det.count);
	EXPECT_EQ(0, r->det.other);
	EXPECT_EQ(50, r->det.threshold);
	EXPECT_EQ(VNFSEC_DEF_SYN_WINDOW_MS, r->det.window_ms);
	EXPECT_EQ(0, r->det.dropping);
	EXPECT_EQ(inet_addr(tcp_syn.daddr), r->det.key.daddr.v4);
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DETECTOR_EVENT));
}

TEST_F(fastpath, syn_flood_answered_by_syn_acks_is_no_flood)
{
	struct vnfsec_config cfg = {};
	struct frame_spec s = tcp_syn, reply = tcp_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	int i;

	cfg.syn_min = 20;
	set_config(_metadata, self, &cfg);
	reply.saddr = tcp_syn.daddr;
	reply.daddr = tcp_syn.saddr;
	reply.sport = 80;
	reply.tcp_flags = VNFSEC_TCP_SYN | VNFSEC_TCP_ACK;
	for (i = 0; i < 60; i++) {
		s.sport = 1024 + i;
		xdp_run(_metadata, self, frame, build_frame(frame, &s));
		reply.dport = 1024 + i;
		xdp_run(_metadata, self, frame, build_frame(frame, &reply));
	}
	consume_records(_metadata, self);
	EXPECT_EQ(0, records_of(self, VNFSEC_REC_DETECTOR));
}

TEST_F(fastpath, syn_flood_drops_in_protect_with_drop_bit)
{
	struct vnfsec_config cfg = {};
	__u32 last;

	cfg.syn_min = 50;
	cfg.detectors_drop = 1U << VNFSEC_DET_SYN_FLOOD;
	set_config(_metadata, self, &cfg);
	syn_burst(_metadata, self, 60, &last);
	EXPECT_EQ(XDP_DROP, last);
	EXPECT_EQ(11, counter(_metadata, self, VNFSEC_CNT_DROP_DETECTOR));
	consume_records(_metadata, self);
	EXPECT_EQ(1, record_of(self, VNFSEC_REC_DETECTOR)->det.dropping);
}

TEST_F(fastpath, detector_off_bit_silences_it)
{
	struct vnfsec_config cfg = {};
	__u32 last;

	cfg.syn_min = 10;
	cfg.detectors_off = 1U << VNFSEC_DET_SYN_FLOOD;
	set_config(_metadata, self, &cfg);
	syn_burst(_metadata, self, 40, &last);
	consume_records(_metadata, self);
	EXPECT_EQ(0, records_of(self, VNFSEC_REC_DETECTOR));
}

TEST_F(fastpath, vertical_port_scan_detected)
{
	struct vnfsec_config cfg = {};
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	union record *r;
	int i;

	cfg.scan_ports = 20;
	cfg.detectors_off = 1U << VNFSEC_DET_SYN_FLOOD;
	set_config(_metadata, self, &cfg);
	for (i = 0; i < 40; i++) {
		s.dport = 1 + i;
		xdp_run(_metadata, self, frame, build_frame(frame, &s));
	}
	consume_records(_metadata, self);
	ASSERT_EQ(1, records_of(self, VNFSEC_REC_DETECTOR));
	r = record_of(self, VNFSEC_REC_DETECTOR);
	EXPECT_EQ(VNFSEC_DET_PORT_SCAN, r->det.detector);
	EXPECT_EQ(inet_addr(tcp_syn.saddr), r->det.key.saddr.v4);
	EXPECT_EQ(20, r->det.threshold);
	EXPECT_LE(r->det.count, 20);
	EXPECT_LE(15, r->det.count);
}

TEST_F(fastpath, horizontal_host_scan_detected)
{
	struct vnfsec_config cfg = {};
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	char addr[INET_ADDRSTRLEN];
	int i;

	cfg.scan_hosts = 16;
	cfg.detectors_off = 1U << VNFSEC_DET_SYN_FLOOD;
	set_config(_metadata, self, &cfg);
	for (i = 0; i < 40; i++) {
		snprintf(addr, sizeof(addr), "198.51.100.%d", 1 + i);
		s.daddr = addr;
		xdp_run(_metadata, self, frame, build_frame(frame, &s));
	}
	consume_records(_metadata, self);
	ASSERT_EQ(1, records_of(self, VNFSEC_REC_DETECTOR));
	EXPECT_EQ(VNFSEC_DET_HOST_SCAN,
		  record_of(self, VNFSEC_REC_DETECTOR)->det.detector);
}

TEST_F(fastpath, slow_scan_detected_over_the_long_window)
{
	struct vnfsec_config cfg = {};
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	int i;

	/* 10 ports per 30 ms window: never 20 in one, 20 in the long one. */
	cfg.scan_ports = 20;
	cfg.scan_window_ms = 30;
	cfg.slow_scan_window_ms = 60000;
	cfg.detectors_off = 1U << VNFSEC_DET_SYN_FLOOD;
	set_config(_metadata, self, &cfg);
	for (i = 0; i < 40; i++) {
		if (i % 10 == 0)
			usleep(40 * 1000);
		s.dport = 1 + i;
		xdp_run(_metadata, self, frame, build_frame(frame, &s));
	}
	consume_records(_metadata, self);
	ASSERT_EQ(1, records_of(self, VNFSEC_REC_DETECTOR));
	EXPECT_EQ(VNFSEC_DET_SLOW_SCAN,
		  record_of(self, VNFSEC_REC_DETECTOR)->det.detector);
}

TEST_F(fastpath, scan_drops_new_flows_with_drop_bit)
{
	struct vnfsec_config cfg = {};
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 last = 0;
	int i;

	cfg.scan_ports = 20;
	cfg.detectors_off = 1U << VNFSEC_DET_SYN_FLOOD;
	cfg.detectors_drop = 1U << VNFSEC_DET_PORT_SCAN;
	set_config(_metadata, self, &cfg);
	for (i = 0; i < 40; i++) {
		s.dport = 1 + i;
		last = xdp_run(_metadata, self, frame, build_frame(frame, &s));
	}
	EXPECT_EQ(XDP_DROP, last);
	EXPECT_LT(0, counter(_metadata, self, VNFSEC_CNT_DROP_DETECTOR));
}

TEST_F(fastpath, rst_flood_detected)
{
	struct vnfsec_config cfg = {};
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	int i;

	cfg.rst_min = 20;
	set_config(_metadata, self, &cfg);
	s.tcp_flags = VNFSEC_TCP_RST | VNFSEC_TCP_ACK;
	for (i = 0; i < 30; i++) {
		s.sport = 2000 + i;
		xdp_run(_metadata, self, frame, build_frame(frame, &s));
	}
	consume_records(_metadata, self);
	ASSERT_EQ(1, records_of(self, VNFSEC_REC_DETECTOR));
	EXPECT_EQ(VNFSEC_DET_RST_FLOOD,
		  record_of(self, VNFSEC_REC_DETECTOR)->det.detector);
	EXPECT_EQ(20, record_of(self, VNFSEC_REC_DETECTOR)->det.count);
}

TEST_F(fastpath, rate_limit_drops_over_the_bucket)
{
	struct vnfsec_config cfg = {};
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_ack);
	int i, dropped = 0;

	__u64 start = now_ns(), refills;

	cfg.rate_pps = 1;	/* one packet a second, burst 10 */
	cfg.rate_burst = 10;
	set_config(_metadata, self, &cfg);
	for (i = 0; i < 30; i++)
		dropped += xdp_run(_metadata, self, frame, len) == XDP_DROP;
	/* A slow machine (a TCG VM) earns a token per second it takes. */
	refills = (now_ns() - start) / NS + 1;
	EXPECT_GE(20, dropped);
	EXPECT_LE(20 - refills, dropped);
	EXPECT_EQ(dropped, counter(_metadata, self,
				   VNFSEC_CNT_DROP_RATE_LIMIT));
	consume_records(_metadata, self);
	ASSERT_EQ(1, records_of(self, VNFSEC_REC_DETECTOR));
	EXPECT_EQ(VNFSEC_DET_RATE_LIMIT,
		  record_of(self, VNFSEC_REC_DETECTOR)->det.detector);
}

TEST_F(fastpath, rate_limit_spares_allowlisted_source)
{
	struct vnfsec_config cfg = {};
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_ack);
	int i;

	cfg.rate_pps = 1;
	cfg.rate_burst = 1;
	set_config(_metadata, self, &cfg);
	allow_prefix(_metadata, self, tcp_ack.saddr, 32);
	for (i = 0; i < 5; i++)
		ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
}

/*
 * A rate of its own for one source (rate_override), and the count in
 * config that lets the programs look at the map.
 */
static void rate_override(struct __test_metadata *_metadata,
			  FIXTURE_DATA(fastpath) *self, __u8 family,
			  const char *addr, __u32 pps, __u32 burst,
			  __u64 expires_ns)
{
	struct vnfsec_det_key key = { .family = family };
	struct vnfsec_rate_override o = {
		.expires_ns = expires_ns, .pps = pps, .burst = burst,
		.reason = VNFSEC_BLOCK_SERVER_ACTION,
	};

	ASSERT_EQ(1, inet_pton(family == VNFSEC_AF_INET6 ? AF_INET6 : AF_INET,
			       addr, &key.addr));
	ASSERT_EQ(0, bpf_map_update_elem(
		bpf_map__fd(self->skel->maps.rate_override), &key, &o,
		BPF_ANY));
}

/* Packets of @s sent @n times; returns how many were dropped. */
static int run_dropped(struct __test_metadata *_metadata,
		       FIXTURE_DATA(fastpath) *self,
		       const struct frame_spec *s, int n)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, s);
	int i, dropped = 0;

	for (i = 0; i < n; i++)
		dropped += xdp_run(_metadata, self, frame, len) == XDP_DROP;
	return dropped;
}

/* Over 1 pps with a burst of 5, 20 packets lose 15, less the refills. */
static void expect_limited(struct __test_metadata *_metadata, int dropped,
			   __u64 start)
{
	__u64 refills = (now_ns() - start) / NS + 1;

	EXPECT_GE(15, dropped);
	EXPECT_LE(15 - (int)refills, dropped);
	EXPECT_LT(0, dropped);
}

TEST_F(fastpath, rate_override_limits_only_its_source)
{
	struct vnfsec_config cfg = {};
	__u64 start = now_ns();
	int dropped;

	/* A global rate no test traffic reaches; tcp_ack's source 1 pps. */
	cfg.rate_pps = 1000000;
	cfg.nr_rate_overrides = 1;
	set_config(_metadata, self, &cfg);
	rate_override(_metadata, self, VNFSEC_AF_INET, tcp_ack.saddr, 1, 5, 0);
	dropped = run_dropped(_metadata, self, &tcp_ack, 20);
	expect_limited(_metadata, dropped, start);
	EXPECT_EQ(0, run_dropped(_metadata, self, &udp_dns, 20));
	EXPECT_EQ(dropped, counter(_metadata, self,
				   VNFSEC_CNT_DROP_RATE_LIMIT));
}

/* An order carried out, not a detection: the agent must not block for it. */
TEST_F(fastpath, rate_override_raises_no_detector_event)
{
	struct vnfsec_config cfg = {};

	cfg.nr_rate_overrides = 1;
	set_config(_metadata, self, &cfg);
	rate_override(_metadata, self, VNFSEC_AF_INET, tcp_ack.saddr, 1, 1, 0);
	EXPECT_LT(0, run_dropped(_metadata, self, &tcp_ack, 10));
	consume_records(_metadata, self);
	EXPECT_EQ(0, records_of(self, VNFSEC_REC_DETECTOR));
}

TEST_F(fastpath, rate_override_works_without_global_rate)
{
	struct vnfsec_config cfg = {};
	__u64 start = now_ns();

	cfg.nr_rate_overrides = 1;	/* rate_pps 0: no global limit */
	set_config(_metadata, self, &cfg);
	rate_override(_metadata, self, VNFSEC_AF_INET, tcp_ack.saddr, 1, 5, 0);
	expect_limited(_metadata, run_dropped(_metadata, self, &tcp_ack, 20),
		       start);
	EXPECT_EQ(0, run_dropped(_metadata, self, &udp_dns, 20));
}

TEST_F(fastpath, rate_override_of_ipv6_source)
{
	struct vnfsec_config cfg = {};
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame6(frame, &tcp6_syn);
	int i, dropped = 0;

	cfg.nr_rate_overrides = 1;
	cfg.detectors_off = 1U << VNFSEC_DET_SYN_FLOOD;
	set_config(_metadata, self, &cfg);
	rate_override(_metadata, self, VNFSEC_AF_INET6, tcp6_syn.l4.saddr, 1,
		      1, 0);
	__u64 start = now_ns(), refills;

	for (i = 0; i < 5; i++)
		dropped += xdp_run(_metadata, self, frame, len) == XDP_DROP;
	refills = (now_ns() - start) / NS + 1;
	EXPECT_LE(4 - (int)refills, dropped);
	EXPECT_LT(0, dropped);
	EXPECT_EQ(dropped, counter(_metadata, self,
				   VNFSEC_CNT_DROP_RATE_LIMIT));
}

TEST_F(fastpath, expired_rate_override_ignored)
{
	struct vnfsec_config cfg = {};

	cfg.nr_rate_overrides = 1;
	set_config(_metadata, self, &cfg);
	/* Well in the past even for a clock a tick behind. */
	rate_override(_metadata, self, VNFSEC_AF_INET, tcp_ack.saddr, 1, 1,
		      now_ns() - NS / 10);
	EXPECT_EQ(0, run_dropped(_metadata, self, &tcp_ack, 20));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP_RATE_LIMIT));
}

TEST_F(fastpath, rate_override_looked_at_only_while_counted)
{
	/* config.nr_rate_overrides 0: the entry is not looked at. */
	rate_override(_metadata, self, VNFSEC_AF_INET, tcp_ack.saddr, 1, 1, 0);
	EXPECT_EQ(0, run_dropped(_metadata, self, &tcp_ack, 20));
}

TEST_F(fastpath, no_override_and_no_global_rate_limit_nothing)
{
	struct vnfsec_det_key next;

	EXPECT_EQ(0, run_dropped(_metadata, self, &tcp_ack, 50));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP_RATE_LIMIT));
	/* The bucket was not even looked at: no state for the source. */
	EXPECT_NE(0, bpf_map_get_next_key(
		bpf_map__fd(self->skel->maps.det_rate), NULL, &next));
}

TEST_F(fastpath, rate_override_in_monitor_mode_counts_would_drop)
{
	struct vnfsec_config cfg = {};
	__u64 start = now_ns(), refills;

	cfg.mode = VNFSEC_MODE_MONITOR;
	cfg.nr_rate_overrides = 1;
	set_config(_metadata, self, &cfg);
	rate_override(_metadata, self, VNFSEC_AF_INET, tcp_ack.saddr, 1, 1, 0);
	EXPECT_EQ(0, run_dropped(_metadata, self, &tcp_ack, 10));
	refills = (now_ns() - start) / NS + 1;
	EXPECT_LE(9 - refills, counter(_metadata, self,
				       VNFSEC_CNT_WOULD_DROP));
	EXPECT_LT(0, counter(_metadata, self, VNFSEC_CNT_WOULD_DROP));
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_DROP_RATE_LIMIT));
}

/* ---- sampling ---------------------------------------------------------- */

TEST_F(fastpath, no_samples_by_default)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_ack);
	int i;

	for (i = 0; i < 20; i++)
		xdp_run(_metadata, self, frame, len);
	consume_records(_metadata, self);
	EXPECT_EQ(0, records_of(self, VNFSEC_REC_SAMPLE));
	EXPECT_EQ(1, records_of(self, VNFSEC_REC_NEW_FLOW));
}

TEST_F(fastpath, sample_every_one_samples_each_packet)
{
	struct vnfsec_config cfg = {};
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_ack);
	union record *r;
	int i;

	cfg.sample_every = 1;
	set_config(_metadata, self, &cfg);
	for (i = 0; i < 5; i++)
		xdp_run(_metadata, self, frame, len);
	consume_records(_metadata, self);
	EXPECT_EQ(5, records_of(self, VNFSEC_REC_SAMPLE));
	r = record_of(self, VNFSEC_REC_SAMPLE);
	EXPECT_EQ(VNFSEC_SAMPLE_EVERY_N, r->sample.reason);
	EXPECT_EQ(sizeof(r->sample), r->sample.hdr.len);
	EXPECT_EQ(0, memcmp(frame, r->sample.data, r->sample.cap_len));
}

TEST_F(fastpath, sample_one_in_n_is_about_one_in_n)
{
	struct vnfsec_config cfg = {};
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_ack);
	__u64 n;
	int i;

	cfg.sample_every = 10;
	set_config(_metadata, self, &cfg);
	for (i = 0; i < 2000; i++)
		xdp_run(_metadata, self, frame, len);
	n = counter(_metadata, self, VNFSEC_CNT_SAMPLE) +
	    counter(_metadata, self, VNFSEC_CNT_RINGBUF_FULL_SAMPLE);
	/* Binomial(2000, 0.1): 200 +- 13.4; 6 sigma either way. */
	EXPECT_LE(120, n);
	EXPECT_GE(280, n);
}

/* ---- TC programs ------------------------------------------------------- */

TEST_F(fastpath, tc_egress_tracks_flow_as_egress)
{
	struct vnfsec_flow_key key;
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	ASSERT_EQ(TC_ACT_OK, tc_run(_metadata,
				    self->skel->progs.vnfsec_egress, frame,
				    len));
	ASSERT_EQ(0, only_flow(self, &key, &st));
	EXPECT_EQ(VNFSEC_DIR_EGRESS, key.dir);
	EXPECT_EQ(inet_addr(tcp_syn.saddr), key.saddr.v4);
	EXPECT_EQ(1, st.packets);
}

TEST_F(fastpath, tc_ingress_tracks_flow_as_ingress_from_port_vnf)
{
	struct vnfsec_flow_key key;
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	/* vnfsec_xdp's job on TC: the port's VNF is the source. */
	map_port(_metadata, self, self->ifindex, VNFSEC_VLAN_ANY, 3);
	ASSERT_EQ(TC_ACT_OK, tc_run(_metadata,
				    self->skel->progs.vnfsec_ingress, frame,
				    len));
	ASSERT_EQ(0, only_flow(self, &key, &st));
	EXPECT_EQ(VNFSEC_DIR_INGRESS, key.dir);
	EXPECT_EQ(inet_addr(tcp_syn.saddr), key.saddr.v4);
	EXPECT_EQ(3, st.src_vnf);
	EXPECT_EQ(0, st.dst_vnf);
	EXPECT_EQ(1, st.packets);
}

TEST_F(fastpath, tc_egress_drops_blocked_source)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	block_prefix(_metadata, self, tcp_syn.saddr, 32, 0);
	ASSERT_EQ(TC_ACT_SHOT, tc_run(_metadata,
				      self->skel->progs.vnfsec_egress,
				      frame, len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_DROP_BLOCKLIST));
}

TEST_F(fastpath, tc_lo_tracks_flow_of_one_vnf)
{
	struct vnfsec_flow_key key;
	struct vnfsec_flow_state st;
	struct frame_spec s = tcp_syn;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	s.saddr = "127.0.0.1";
	s.daddr = "127.0.0.1";
	len = build_frame(frame, &s);
	map_port(_metadata, self, self->ifindex, VNFSEC_VLAN_LO, 5);
	ASSERT_EQ(TC_ACT_OK, tc_run(_metadata, self->skel->progs.vnfsec_lo,
				    frame, len));
	ASSERT_EQ(0, only_flow(self, &key, &st));
	EXPECT_EQ(VNFSEC_DIR_LO, key.dir);
	EXPECT_EQ(5, st.src_vnf);
	EXPECT_EQ(5, st.dst_vnf);
}

TEST_F(fastpath, tc_sample_copies_packet_bytes)
{
	struct vnfsec_config cfg = {};
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_ack);
	union record *r;

	cfg.sample_every = 1;
	set_config(_metadata, self, &cfg);
	tc_run(_metadata, self->skel->progs.vnfsec_egress, frame, len);
	consume_records(_metadata, self);
	r = record_of(self, VNFSEC_REC_SAMPLE);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(0, memcmp(frame, r->sample.data, r->sample.cap_len));
}

TEST_F(fastpath, tc_mirror_without_target_counted_as_failed)
{
	struct vnfsec_flow_key key = flow_key_of(self, &tcp_ack);
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_ack);

	key.dir = VNFSEC_DIR_EGRESS;
	key.ifindex = 1;	/* the test runner's skb is on lo */
	override(_metadata, self, &key, VNFSEC_OVERRIDE_MIRROR);
	ASSERT_EQ(TC_ACT_OK, tc_run(_metadata,
				    self->skel->progs.vnfsec_egress, frame,
				    len));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_MIRROR_FAIL));
	EXPECT_EQ(1, counter(_metadata, self, VNFSEC_CNT_SAMPLE));
}

/* ---- loading with bpftool alone ---------------------------------------- */

static const char *build_dir(void)
{
	const char *dir = getenv("VNFSEC_BUILD");

	return dir && *dir ? dir : "build";
}

static int remove_pin(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

FIXTURE(bpftool_load) {
	char dir[PATH_MAX];
	char maps[PATH_MAX + 8];
	char obj[PATH_MAX];
};

FIXTURE_SETUP(bpftool_load)
{
	struct statfs fs;

	if (geteuid() != 0)
		SKIP(return, "needs root (bpffs, CAP_BPF)");

	snprintf(self->obj, sizeof(self->obj), "%s/bpf/vnfsec.bpf.o",
		 build_dir());
	ASSERT_EQ(0, access(self->obj, R_OK)) TH_LOG("%s: %s", self->obj,
						      strerror(errno));

	ASSERT_EQ(0, statfs("/sys/fs/bpf", &fs));
	if (fs.f_type != BPF_FS_MAGIC) {
		TH_LOG("/sys/fs/bpf is not bpffs: mounting it");
		ASSERT_EQ(0, mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
			TH_LOG("mount bpffs: %s", strerror(errno));
	}
	snprintf(self->dir, sizeof(self->dir),
		 "/sys/fs/bpf/vnfsec-selftest-%d", getpid());
	snprintf(self->maps, sizeof(self->maps), "%s/maps", self->dir);
}

FIXTURE_TEARDOWN(bpftool_load)
{
	/* Runs after a failed ASSERT too: never leave pins behind. */
	if (self->dir[0])
		nftw(self->dir, remove_pin, 8, FTW_DEPTH | FTW_PHYS);
}

static int run_bpftool(const char *obj, const char *dir, const char *maps)
{
	const char *bpftool = getenv("BPFTOOL") ? getenv("BPFTOOL") : "bpftool";
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execlp(bpftool, bpftool, "prog", "loadall", obj, dir,
		       "pinmaps", maps, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* bpftool verifies the three programs: minutes in a TCG VM. */
TEST_F_TIMEOUT(bpftool_load, loadall_pins_programs_and_every_map, 600)
{
	static const struct {
		const char *name;
		__u32 type;
		__u32 key_size;
		__u32 value_size;
		__u32 max_entries;
	} maps[] = {
		{ "flow_table", BPF_MAP_TYPE_LRU_HASH,
		  sizeof(struct vnfsec_flow_key),
		  sizeof(struct vnfsec_flow_state), VNFSEC_FLOW_TABLE_ENTRIES },
		{ "flow_new", BPF_MAP_TYPE_ARRAY, sizeof(__u32),
		  sizeof(struct vnfsec_flow_new), VNFSEC_FLOW_NEW_ENTRIES },
		{ "counters", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
		  sizeof(__u64), VNFSEC_CNT_MAX },
		{ "vnf_stats", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
		  sizeof(struct vnfsec_vnf_stats), VNFSEC_MAX_VNFS },
		{ "config", BPF_MAP_TYPE_ARRAY, sizeof(__u32),
		  sizeof(struct vnfsec_config), 1 },
		{ "blocklist_v4", BPF_MAP_TYPE_LPM_TRIE,
		  sizeof(struct vnfsec_lpm_v4_key),
		  sizeof(struct vnfsec_block_entry),
		  VNFSEC_BLOCKLIST_V4_ENTRIES },
		{ "blocklist_v6", BPF_MAP_TYPE_LPM_TRIE,
		  sizeof(struct vnfsec_lpm_v6_key),
		  sizeof(struct vnfsec_block_entry),
		  VNFSEC_BLOCKLIST_V6_ENTRIES },
		{ "allowlist_v4", BPF_MAP_TYPE_LPM_TRIE,
		  sizeof(struct vnfsec_lpm_v4_key),
		  sizeof(struct vnfsec_block_entry), VNFSEC_ALLOWLIST_ENTRIES },
		{ "allowlist_v6", BPF_MAP_TYPE_LPM_TRIE,
		  sizeof(struct vnfsec_lpm_v6_key),
		  sizeof(struct vnfsec_block_entry), VNFSEC_ALLOWLIST_ENTRIES },
		{ "vnf_ports", BPF_MAP_TYPE_HASH, sizeof(struct vnfsec_port_key),
		  sizeof(struct vnfsec_vnf_id), VNFSEC_VNF_PORT_ENTRIES },
		{ "vnf_addrs", BPF_MAP_TYPE_LPM_TRIE,
		  sizeof(struct vnfsec_lpm_v6_key),
		  sizeof(struct vnfsec_vnf_id), VNFSEC_VNF_ADDR_ENTRIES },
		{ "vnf_pair_policy", BPF_MAP_TYPE_HASH,
		  sizeof(struct vnfsec_pair_key),
		  sizeof(struct vnfsec_pair_policy),
		  VNFSEC_PAIR_POLICY_ENTRIES },
		{ "flow_override", BPF_MAP_TYPE_HASH,
		  sizeof(struct vnfsec_flow_key),
		  sizeof(struct vnfsec_flow_override),
		  VNFSEC_FLOW_OVERRIDE_ENTRIES },
		{ "quarantine", BPF_MAP_TYPE_HASH, sizeof(__u16),
		  sizeof(struct vnfsec_quarantine), VNFSEC_MAX_VNFS },
		{ "det_dst", BPF_MAP_TYPE_LRU_HASH, sizeof(struct vnfsec_det_key),
		  sizeof(struct vnfsec_det_dst), VNFSEC_DETECTOR_ENTRIES },
		{ "det_scan", BPF_MAP_TYPE_ARRAY, sizeof(__u32),
		  sizeof(struct vnfsec_det_scan), VNFSEC_DETECTOR_ENTRIES },
		{ "det_rate", BPF_MAP_TYPE_LRU_HASH,
		  sizeof(struct vnfsec_det_key), sizeof(struct vnfsec_det_rate),
		  VNFSEC_DETECTOR_ENTRIES },
		{ "rate_override", BPF_MAP_TYPE_HASH,
		  sizeof(struct vnfsec_det_key),
		  sizeof(struct vnfsec_rate_override),
		  VNFSEC_RATE_OVERRIDE_ENTRIES },
		{ "clock", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
		  sizeof(struct vnfsec_clock), 1 },
		{ "events", BPF_MAP_TYPE_RINGBUF, 0, 0, VNFSEC_EVENTS_BYTES },
		{ "refused_budget", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
		  sizeof(struct vnfsec_refused_budget), 1 },
		{ "flow_reply", BPF_MAP_TYPE_ARRAY, sizeof(__u32),
		  sizeof(struct vnfsec_flow_reply),
		  VNFSEC_FLOW_REPLY_ENTRIES },
		{ "unparsed_budget", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
		  sizeof(struct vnfsec_refused_budget), 1 },
		{ "vnf_policy", BPF_MAP_TYPE_ARRAY, sizeof(__u32),
		  sizeof(struct vnfsec_vnf_policy), VNFSEC_MAX_VNFS },
		{ "scratch", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
		  sizeof(struct vnfsec_scratch), 1 },
		{ "frag_table", BPF_MAP_TYPE_LRU_HASH,
		  sizeof(struct vnfsec_frag_key),
		  sizeof(struct vnfsec_frag_state), VNFSEC_FRAG_ENTRIES },
		/* ABI 7: pushed detectors (docs/detectors.md). */
		{ "det_progs_xdp", BPF_MAP_TYPE_PROG_ARRAY, sizeof(__u32),
		  sizeof(__u32), VNFSEC_DET_SLOTS },
		{ "det_progs_tc", BPF_MAP_TYPE_PROG_ARRAY, sizeof(__u32),
		  sizeof(__u32), VNFSEC_DET_SLOTS },
		{ "det_ext_stats", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
		  sizeof(struct vnfsec_det_stats), VNFSEC_DET_CLASS_MAX },
	};
	/*
	 * The entry programs use every map but the other kind's detector
	 * slots and det_ext_stats (the finish programs' alone).
	 */
	static const struct {
		const char *name;
		__u32 type;
		__u32 nr_maps;
	} progs[] = {
		{ VNFSEC_PROG_XDP, BPF_PROG_TYPE_XDP, 2 },
		{ VNFSEC_PROG_TC_INGRESS, BPF_PROG_TYPE_SCHED_CLS, 2 },
		{ VNFSEC_PROG_TC_EGRESS, BPF_PROG_TYPE_SCHED_CLS, 2 },
		{ VNFSEC_PROG_TC_LO, BPF_PROG_TYPE_SCHED_CLS, 2 },
		{ VNFSEC_PROG_DET_FINISH_XDP, BPF_PROG_TYPE_XDP, 0 },
		{ VNFSEC_PROG_DET_FINISH_TC, BPF_PROG_TYPE_SCHED_CLS, 0 },
	};
	struct bpf_prog_info prog = {};
	char path[PATH_MAX + 80];
	__u32 len = sizeof(prog);
	int fd, nr_pins = 0;
	unsigned int i;
	DIR *d;
	struct dirent *de;

	ASSERT_EQ(0, run_bpftool(self->obj, self->dir, self->maps))
		TH_LOG("bpftool prog loadall %s %s pinmaps %s", self->obj,
		       self->dir, self->maps);

	for (i = 0; i < ARRAY_SIZE(progs); i++) {
		memset(&prog, 0, sizeof(prog));
		len = sizeof(prog);
		snprintf(path, sizeof(path), "%s/%s", self->dir, progs[i].name);
		fd = bpf_obj_get(path);
		ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
		ASSERT_EQ(0, bpf_obj_get_info_by_fd(fd, &prog, &len));
		close(fd);
		EXPECT_EQ(progs[i].type, prog.type);
		/* The kernel keeps 15 characters of a program's name. */
		EXPECT_EQ(0, strncmp(progs[i].name, prog.name, 15));
		if (progs[i].nr_maps)
			EXPECT_EQ(ARRAY_SIZE(maps) - progs[i].nr_maps,
				  prog.nr_map_ids);
	}

	for (i = 0; i < ARRAY_SIZE(maps); i++) {
		struct bpf_map_info info = {};

		len = sizeof(info);
		snprintf(path, sizeof(path), "%s/%s", self->maps, maps[i].name);
		fd = bpf_obj_get(path);
		ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
		ASSERT_EQ(0, bpf_obj_get_info_by_fd(fd, &info, &len));
		close(fd);
		EXPECT_EQ(maps[i].type, info.type) TH_LOG("%s", maps[i].name);
		EXPECT_EQ(maps[i].key_size, info.key_size)
			TH_LOG("%s", maps[i].name);
		EXPECT_EQ(maps[i].value_size, info.value_size)
			TH_LOG("%s", maps[i].name);
		EXPECT_EQ(maps[i].max_entries, info.max_entries)
			TH_LOG("%s", maps[i].name);
	}

	/* Nothing else: no .rodata/.bss map for the agent to trip over. */
	d = opendir(self->maps);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			nr_pins++;
	closedir(d);
	EXPECT_EQ(ARRAY_SIZE(maps), nr_pins);
}

TEST_HARNESS_MAIN
