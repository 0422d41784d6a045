// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fast-path selftests: run vnfsec_xdp on crafted frames with
 * BPF_PROG_TEST_RUN and check verdicts, counters, flow_table and the
 * "events" ring buffer; then check that bpftool alone loads the object
 * and pins what docs/fastpath.md promises.
 *
 * Each test loads its own copy of the program (fixture), so counters,
 * flows and records start from zero.
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
#include <linux/ip.h>
#include <linux/magic.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/vnfsec_abi.h"
#include "vnfsec.skel.h"

#include "kselftest_harness.h"

#define MAX_FRAME	512
#define MAX_RECORDS	8
#define IP_MF		0x2000
#define IP_DF		0x4000

static const char *const counter_names[VNFSEC_CNT_MAX] = VNFSEC_COUNTER_NAMES;

/* ---- crafted frames ---------------------------------------------------- */

struct frame_spec {
	const char *saddr;
	const char *daddr;
	__u8 proto;
	__u16 sport;
	__u16 dport;
	__u8 tcp_flags;
	__u8 ip_opt_words;	/* IHL beyond 5 */
	__u8 tcp_opt_words;	/* data offset beyond 5 */
	__u16 frag_off;		/* host order: IP_MF | offset in 8-byte units */
	__u16 payload_len;
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

static struct iphdr *frame_ip(__u8 *frame)
{
	return (struct iphdr *)(frame + ETH_HLEN);
}

static void *frame_l4(__u8 *frame)
{
	return frame + ETH_HLEN + frame_ip(frame)->ihl * 4;
}

/* Writes an Ethernet + IPv4 (+ TCP or UDP) frame; returns its length. */
static __u32 build_frame(__u8 *frame, const struct frame_spec *s)
{
	static const __u8 dst_mac[ETH_ALEN] = { 2, 0, 0, 0, 0, 2 };
	static const __u8 src_mac[ETH_ALEN] = { 2, 0, 0, 0, 0, 1 };
	struct ethhdr *eth = (struct ethhdr *)frame;
	struct iphdr *iph = frame_ip(frame);
	__u32 ip_len = (5 + s->ip_opt_words) * 4;
	__u32 l4_len = 0;
	__u8 *l4;

	if (s->proto == IPPROTO_TCP)
		l4_len = (5 + s->tcp_opt_words) * 4;
	else if (s->proto == IPPROTO_UDP)
		l4_len = sizeof(struct udphdr);

	memset(frame, 0, MAX_FRAME);
	memcpy(eth->h_dest, dst_mac, ETH_ALEN);
	memcpy(eth->h_source, src_mac, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);

	iph->version = 4;
	iph->ihl = 5 + s->ip_opt_words;
	iph->tot_len = htons(ip_len + l4_len + s->payload_len);
	iph->id = htons(0x1234);
	iph->frag_off = htons(s->frag_off ? s->frag_off : IP_DF);
	iph->ttl = 64;
	iph->protocol = s->proto;
	iph->saddr = inet_addr(s->saddr);
	iph->daddr = inet_addr(s->daddr);
	/* IP options: NOPs (type 1). */
	memset(iph + 1, 1, s->ip_opt_words * 4);
	iph->check = ip_checksum(iph, ip_len);

	l4 = frame + ETH_HLEN + ip_len;
	if (s->proto == IPPROTO_TCP) {
		struct tcphdr *th = (struct tcphdr *)l4;

		th->source = htons(s->sport);
		th->dest = htons(s->dport);
		th->seq = htonl(1000);
		th->doff = 5 + s->tcp_opt_words;
		th->window = htons(64240);
		l4[13] = s->tcp_flags;
		memset(th + 1, 1, s->tcp_opt_words * 4);
	} else if (s->proto == IPPROTO_UDP) {
		struct udphdr *uh = (struct udphdr *)l4;

		uh->source = htons(s->sport);
		uh->dest = htons(s->dport);
		uh->len = htons(l4_len + s->payload_len);
	}
	memset(l4 + l4_len, 0xab, s->payload_len);
	return ETH_HLEN + ip_len + l4_len + s->payload_len;
}

static const struct frame_spec tcp_syn = {
	.saddr = "192.0.2.10", .daddr = "198.51.100.20",
	.proto = IPPROTO_TCP, .sport = 40000, .dport = 80,
	.tcp_flags = VNFSEC_TCP_SYN,
};

static const struct frame_spec udp_dns = {
	.saddr = "192.0.2.11", .daddr = "198.51.100.53",
	.proto = IPPROTO_UDP, .sport = 5353, .dport = 53,
	.payload_len = 32,
};

/* ---- running the program ----------------------------------------------- */

FIXTURE(fastpath) {
	struct vnfsec_bpf *skel;
	struct ring_buffer *events;
	struct vnfsec_new_flow_record records[MAX_RECORDS];
	size_t record_len[MAX_RECORDS];
	int nr_records;
	int ifindex;
};

static int on_record(void *ctx, void *data, size_t len)
{
	FIXTURE_DATA(fastpath) *self = ctx;
	int i = self->nr_records++;

	if (i < MAX_RECORDS) {
		memcpy(&self->records[i], data,
		       len < sizeof(self->records[i]) ? len :
		       sizeof(self->records[i]));
		self->record_len[i] = len;
	}
	return 0;
}

FIXTURE_SETUP(fastpath)
{
	if (geteuid() != 0)
		SKIP(return, "needs root (CAP_BPF, CAP_NET_ADMIN)");

	self->skel = vnfsec_bpf__open_and_load();
	ASSERT_NE(NULL, self->skel) TH_LOG("vnfsec_bpf__open_and_load: %s",
					   strerror(errno));
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
	vnfsec_bpf__destroy(self->skel);
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

static int consume_records(struct __test_metadata *_metadata,
			   FIXTURE_DATA(fastpath) *self)
{
	int n = ring_buffer__consume(self->events);

	ASSERT_LE(0, n);
	return self->nr_records;
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

/* Every counter equals want[] (zero where not given). */
static void expect_counters(struct __test_metadata *_metadata,
			    FIXTURE_DATA(fastpath) *self,
			    const __u64 want[VNFSEC_CNT_MAX])
{
	__u32 i;

	for (i = 0; i < VNFSEC_CNT_MAX; i++) {
		__u64 got = counter(_metadata, self, i);

		EXPECT_EQ(want[i], got) TH_LOG("counter %s", counter_names[i]);
	}
}

static struct vnfsec_flow_key flow_key_of(FIXTURE_DATA(fastpath) *self,
					  const struct frame_spec *s)
{
	struct vnfsec_flow_key key;

	memset(&key, 0, sizeof(key));
	key.saddr = inet_addr(s->saddr);
	key.daddr = inet_addr(s->daddr);
	if (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP) {
		key.sport = htons(s->sport);
		key.dport = htons(s->dport);
	}
	key.proto = s->proto;
	key.ifindex = self->ifindex;
	return key;
}

static int flow_lookup(FIXTURE_DATA(fastpath) *self,
		       const struct vnfsec_flow_key *key,
		       struct vnfsec_flow_state *st)
{
	return bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.flow_table),
				   key, st);
}

static int flow_count(FIXTURE_DATA(fastpath) *self)
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

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
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

/* ---- flows ------------------------------------------------------------- */

TEST_F(fastpath, tcp_syn_passes_and_reports_new_flow)
{
	struct vnfsec_flow_key key = flow_key_of(self, &tcp_syn);
	struct vnfsec_new_flow_record *rec = &self->records[0];
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
	EXPECT_LE(before, rec->hdr.ts_ns);
	EXPECT_LE(rec->hdr.ts_ns, now_ns());
	EXPECT_EQ(0, memcmp(&key, &rec->key, sizeof(key)))
		TH_LOG("record key %08x:%u -> %08x:%u proto %u if %u",
		       ntohl(rec->key.saddr), ntohs(rec->key.sport),
		       ntohl(rec->key.daddr), ntohs(rec->key.dport),
		       rec->key.proto, rec->key.ifindex);
	EXPECT_EQ(IPPROTO_TCP, rec->key.proto);
	EXPECT_EQ(htons(40000), rec->key.sport);
	EXPECT_EQ(htons(80), rec->key.dport);
	EXPECT_EQ(self->ifindex, rec->key.ifindex);
	EXPECT_EQ(VNFSEC_TCP_SYN, rec->tcp_flags);
	EXPECT_EQ(len, rec->pkt_len);
	EXPECT_EQ(0, rec->pad[0] | rec->pad[1] | rec->pad[2]);
	EXPECT_EQ(0, rec->reserved);

	ASSERT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(1, st.packets);
	EXPECT_EQ(len, st.bytes);
	EXPECT_EQ(VNFSEC_TCP_SYN, st.tcp_flags_seen);
	EXPECT_EQ(rec->hdr.ts_ns, st.first_seen_ns);
	EXPECT_EQ(st.first_seen_ns, st.last_seen_ns);

	want[VNFSEC_CNT_RX_PACKETS] = 1;
	want[VNFSEC_CNT_RX_BYTES] = len;
	want[VNFSEC_CNT_PASS] = 1;
	want[VNFSEC_CNT_NEW_FLOW] = 1;
	expect_counters(_metadata, self, want);
}

TEST_F(fastpath, same_flow_updates_state_without_record)
{
	struct vnfsec_flow_key key = flow_key_of(self, &tcp_syn);
	struct frame_spec ack = tcp_syn;
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 syn_len, ack_len;
	__u64 want[VNFSEC_CNT_MAX] = {};

	syn_len = build_frame(frame, &tcp_syn);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, syn_len));
	ASSERT_EQ(1, consume_records(_metadata, self));

	ack.tcp_flags = VNFSEC_TCP_ACK | VNFSEC_TCP_PSH;
	ack.payload_len = 100;
	ack_len = build_frame(frame, &ack);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, ack_len));
	EXPECT_EQ(1, consume_records(_metadata, self));

	ASSERT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(2, st.packets);
	EXPECT_EQ(syn_len + ack_len, st.bytes);
	EXPECT_EQ(VNFSEC_TCP_SYN | VNFSEC_TCP_ACK | VNFSEC_TCP_PSH,
		  st.tcp_flags_seen);
	EXPECT_LE(st.first_seen_ns, st.last_seen_ns);
	EXPECT_EQ(1, flow_count(self));

	want[VNFSEC_CNT_RX_PACKETS] = 2;
	want[VNFSEC_CNT_RX_BYTES] = syn_len + ack_len;
	want[VNFSEC_CNT_PASS] = 2;
	want[VNFSEC_CNT_NEW_FLOW] = 1;
	expect_counters(_metadata, self, want);
}

TEST_F(fastpath, udp_flow_tracked)
{
	struct vnfsec_flow_key key = flow_key_of(self, &udp_dns);
	struct vnfsec_new_flow_record *rec = &self->records[0];
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

TEST_F(fastpath, icmp_flow_keyed_without_ports)
{
	struct frame_spec icmp = {
		.saddr = "192.0.2.12", .daddr = "198.51.100.1",
		.proto = IPPROTO_ICMP, .payload_len = 64,
	};
	struct vnfsec_flow_key key = flow_key_of(self, &icmp);
	struct vnfsec_flow_state st;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &icmp);

	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	EXPECT_EQ(1, consume_records(_metadata, self));
	ASSERT_EQ(0, flow_lookup(self, &key, &st));
	EXPECT_EQ(1, st.packets);
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
	EXPECT_EQ(htons(40000), self->records[0].key.sport);
	EXPECT_EQ(htons(80), self->records[0].key.dport);
	EXPECT_EQ(VNFSEC_TCP_SYN, self->records[0].tcp_flags);
	EXPECT_EQ(0, flow_lookup(self, &key, &st));
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
}

/* The ring buffer overflows when nobody reads it: counted, never silent. */
TEST_F(fastpath, ringbuf_overflow_counted)
{
	/* Records are 48 bytes + an 8-byte ring header: 1 MiB holds 18724. */
	const int flows = VNFSEC_EVENTS_BYTES / 56 + 1000;
	struct frame_spec s = udp_dns;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u64 full, created;
	int i, got;

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
	EXPECT_EQ(0, counter(_metadata, self, VNFSEC_CNT_FLOW_INSERT_FAIL));
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

TEST_F(fastpath, truncated_ethernet_counted_and_passed)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;

	build_frame(frame, &tcp_syn);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, ETH_HLEN - 1));
	expect_passed_with(_metadata, self, ETH_HLEN - 1, VNFSEC_CNT_TRUNC_ETH);
}

TEST_F(fastpath, ethernet_header_only_counted_as_truncated_ip)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;

	build_frame(frame, &tcp_syn);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, ETH_HLEN));
	expect_passed_with(_metadata, self, ETH_HLEN, VNFSEC_CNT_TRUNC_IP);
}

TEST_F(fastpath, truncated_ipv4_counted_and_passed)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = ETH_HLEN + sizeof(struct iphdr) - 1;

	build_frame(frame, &tcp_syn);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	expect_passed_with(_metadata, self, len, VNFSEC_CNT_TRUNC_IP);
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
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	expect_passed_with(_metadata, self, len, VNFSEC_CNT_TRUNC_IP);
}

TEST_F(fastpath, ihl_below_5_counted_as_bad_ip)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	frame_ip(frame)->ihl = 4;
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	expect_passed_with(_metadata, self, len, VNFSEC_CNT_BAD_IP);
}

TEST_F(fastpath, version_not_4_counted_as_bad_ip)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	frame_ip(frame)->version = 6;	/* IPv6 behind an IPv4 EtherType */
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	expect_passed_with(_metadata, self, len, VNFSEC_CNT_BAD_IP);
}

TEST_F(fastpath, total_length_below_header_counted_as_bad_ip)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	frame_ip(frame)->tot_len = htons(19);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	expect_passed_with(_metadata, self, len, VNFSEC_CNT_BAD_IP);
}

TEST_F(fastpath, truncated_tcp_counted_and_passed)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = ETH_HLEN + sizeof(struct iphdr) + sizeof(struct tcphdr) - 1;

	build_frame(frame, &tcp_syn);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	expect_passed_with(_metadata, self, len, VNFSEC_CNT_TRUNC_L4);
}

TEST_F(fastpath, tcp_options_past_end_counted_as_truncated)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	((struct tcphdr *)frame_l4(frame))->doff = 15;
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	expect_passed_with(_metadata, self, len, VNFSEC_CNT_TRUNC_L4);
}

TEST_F(fastpath, tcp_doff_below_5_counted_as_bad_tcp)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	((struct tcphdr *)frame_l4(frame))->doff = 4;
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	expect_passed_with(_metadata, self, len, VNFSEC_CNT_BAD_TCP);
}

TEST_F(fastpath, truncated_udp_counted_and_passed)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = ETH_HLEN + sizeof(struct iphdr) + sizeof(struct udphdr) - 1;

	build_frame(frame, &udp_dns);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	expect_passed_with(_metadata, self, len, VNFSEC_CNT_TRUNC_L4);
}

TEST_F(fastpath, later_fragment_counted_not_parsed)
{
	struct frame_spec s = udp_dns;
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len;

	/* Offset 1480 and no UDP header: the bytes there are payload. */
	s.frag_off = 185;
	len = build_frame(frame, &s);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	expect_passed_with(_metadata, self, len, VNFSEC_CNT_IP_FRAGMENT);
}

TEST_F(fastpath, non_ip_frame_counted_and_passed)
{
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len = build_frame(frame, &tcp_syn);

	((struct ethhdr *)frame)->h_proto = htons(ETH_P_ARP);
	ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len));
	expect_passed_with(_metadata, self, len, VNFSEC_CNT_NON_IP);
}

/*
 * Cut one full frame at every length from 0 up: every cut passes, the
 * counters say exactly which header ran out, and only whole headers make
 * a flow.
 */
static void truncation_sweep(struct __test_metadata *_metadata,
			     FIXTURE_DATA(fastpath) *self,
			     const struct frame_spec *s)
{
	__u32 ip_end = ETH_HLEN + (5 + s->ip_opt_words) * 4;
	__u64 want[VNFSEC_CNT_MAX] = {};
	struct frame_buf fb;
	__u8 *frame = fb.data;
	__u32 len, full, l4_end;

	full = build_frame(frame, s);
	l4_end = (__u8 *)frame_l4(frame) - frame +
		(s->proto == IPPROTO_TCP ? (5 + s->tcp_opt_words) * 4 :
		 sizeof(struct udphdr));

	for (len = 0; len <= full; len++) {
		ASSERT_EQ(XDP_PASS, xdp_run(_metadata, self, frame, len))
			TH_LOG("cut at %u of %u bytes", len, full);
		want[VNFSEC_CNT_RX_PACKETS]++;
		want[VNFSEC_CNT_RX_BYTES] += len;
		want[VNFSEC_CNT_PASS]++;
		if (len < ETH_HLEN)
			want[VNFSEC_CNT_TRUNC_ETH]++;
		else if (len < ip_end)
			want[VNFSEC_CNT_TRUNC_IP]++;
		else if (len < l4_end)
			want[VNFSEC_CNT_TRUNC_L4]++;
	}
	want[VNFSEC_CNT_NEW_FLOW] = 1;
	expect_counters(_metadata, self, want);
	EXPECT_EQ(1, flow_count(self));
	EXPECT_EQ(1, consume_records(_metadata, self));
	EXPECT_EQ(l4_end, self->records[0].pkt_len);
}

TEST_F(fastpath, truncation_sweep_tcp_never_drops)
{
	struct frame_spec s = tcp_syn;

	s.ip_opt_words = 1;
	s.tcp_opt_words = 5;
	s.payload_len = 10;
	truncation_sweep(_metadata, self, &s);
}

TEST_F(fastpath, truncation_sweep_udp_never_drops)
{
	struct frame_spec s = udp_dns;

	s.ip_opt_words = 2;
	truncation_sweep(_metadata, self, &s);
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

TEST_F(bpftool_load, loadall_pins_program_and_four_maps)
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
		{ "counters", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
		  sizeof(__u64), VNFSEC_CNT_MAX },
		{ "blocklist_v4", BPF_MAP_TYPE_LPM_TRIE,
		  sizeof(struct vnfsec_lpm_v4_key),
		  sizeof(struct vnfsec_block_entry),
		  VNFSEC_BLOCKLIST_V4_ENTRIES },
		{ "events", BPF_MAP_TYPE_RINGBUF, 0, 0, VNFSEC_EVENTS_BYTES },
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

	snprintf(path, sizeof(path), "%s/%s", self->dir, VNFSEC_PROG_XDP);
	fd = bpf_obj_get(path);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ(0, bpf_obj_get_info_by_fd(fd, &prog, &len));
	close(fd);
	EXPECT_EQ(BPF_PROG_TYPE_XDP, prog.type);
	EXPECT_STREQ(VNFSEC_PROG_XDP, prog.name);
	EXPECT_EQ(4, prog.nr_map_ids);

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
	EXPECT_EQ(4, nr_pins);
}

TEST_HARNESS_MAIN
