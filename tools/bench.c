// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnfsec-bench: what vnfsec_xdp costs per packet, under BPF_PROG_TEST_RUN,
 * next to an empty XDP_PASS program (the floor) and Debian's xdp-filter in
 * its default mode (the peer), all measured in the same run: absolute
 * times differ threefold between machines of one kind, ratios do not.
 *
 * Methods, because BPF_PROG_TEST_RUN with repeat=N reuses one buffer:
 *  - hit path:  one TCP ACK, repeat=N in one call; after the first packet
 *    vnfsec finds its flow every time.
 *  - miss path, per call: repeat=1 per call over many distinct 5-tuples
 *    (Katran's method), summing the kernel's per-call time: every packet
 *    inserts a flow and emits a record. The floor and the peer are timed
 *    the same way, since a per-call figure carries the kernel timer's own
 *    cost, and the syscall between packets leaves the caches cold.
 *  - miss path, in-kernel loop: repeat=N in one call of a wrapper that
 *    advances the IPv4 source address of the (kept) buffer, then
 *    tail-calls the program under test: every repetition is a new flow,
 *    packets follow each other as in a NAPI poll, and the wrapper's few
 *    instructions are in the floor as well.
 *
 * Every figure is the median of -r runs, runs interleaved across programs;
 * the process is pinned to one CPU. Report only: never a pass/fail gate.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/vnfsec_abi.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define MAX_RUNS		31
#define MAX_VARIANTS		16
#define KLOOP_UDP_ROWS		7	/* first UDP row of the in-kernel loop */
#define HIT_DEEP_ROWS		7	/* first deep-walk row of the hit path */
#define BLOCKLIST_PREFIXES	10000
#define CONSUME_EVERY		1024
#define INSN(c, d, s, o, i)						\
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s),	\
			    .off = (o), .imm = (i) })

/* A 74-byte TCP SYN as Linux sends it (MSS, SACK, timestamps, wscale). */
struct syn_frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
	__u8 options[20];
} __attribute__((packed));

/* The same established flow carried in a GTP-U tunnel (UDP 2152, G-PDU). */
struct gtpu_frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	__u8 gtp[8];
	struct iphdr inner_ip;
	struct tcphdr inner_tcp;
	__u8 payload[20];
} __attribute__((packed));

/* BY_KLOOP: first packets (TCP SYN), second ones (ACK), UDP first ones. */
/* A DNS-sized UDP datagram: a new flow that is not a TCP SYN. */
struct udp_frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	__u8 payload[32];
} __attribute__((packed));

enum kloop_kind { KLOOP_FIRST, KLOOP_SECOND, KLOOP_UDP };

enum bench_method {
	BY_REPEAT,	/* one call, repeat=N: hit path */
	BY_LOOP,	/* N calls, repeat=1, new 5-tuple each: miss path */
	BY_KLOOP,	/* repeat=N through the wrapper: miss path */
};

struct vnfsec_instance {
	struct bpf_object *obj;
	int prog_fd;
	int flow_fd;
	int counters_fd;
	int blocklist_fd;
	struct ring_buffer *events;
};

struct bench_case {
	const char *name;
	enum bench_method method;
	int prog_fd;			/* -1: not available, row skipped */
	int wrapper_fd;			/* BY_KLOOP: the wrapper calling it */
	int tail_fd;			/* BY_KLOOP: its program array */
	struct vnfsec_instance *vnfsec;	/* set for vnfsec rows */
	bool fill_flow_table;		/* start each run with flow_table full */
	enum kloop_kind kloop;		/* BY_KLOOP: which packets */
	const void *pkt;		/* BY_REPEAT: NULL for the TCP ACK */
	__u32 pkt_len;
	const void *prime;		/* BY_REPEAT: sent once before */
	__u32 prime_len;
	double ns[MAX_RUNS];
	double median;
};

struct bench_opts {
	int cpu;
	int runs;
	__u32 repeat;
	__u32 flows;
	const char *vnfsec_obj;
	const char *filter_obj;
	bool verbose;
	bool no_hit;		/* -m: sections left out */
	bool no_miss;
	bool no_ring;
	const char *pin_empty;	/* -E: pin the empty program there, exit */
	const char *variants[MAX_VARIANTS];	/* -V: objects to compare */
	int nr_variants;
};

static struct syn_frame frame;	/* a SYN: the miss-path packet */
static struct syn_frame ack_frame;	/* the same flow established: hit path */
static struct gtpu_frame gtpu_frame;	/* that flow inside GTP-U */
static struct udp_frame udp_frame;	/* miss path, not a SYN */
static __u32 tuple_seq;		/* makes every miss-path packet a new flow */
/* The deepest walk: 4 VLAN tags, IPv6 with 16 extension headers, TCP. */
static __u8 deep_frame[14 + 4 * 4 + 40 + 16 * 8 + 20 + 16];
/* A datagram in two fragments: the first primes, the later one is timed. */
static __u8 frag_first_frame[14 + 20 + 8 + 64];
static __u8 frag_later_frame[14 + 20 + 64];

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	static bool verbose;

	if (!fmt) {		/* set-up call, see main() */
		verbose = level == LIBBPF_DEBUG;
		return 0;
	}
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	/* xdp-tools' metadata sections (features, .xdp_run_config). */
	if (!verbose && strstr(fmt, "skipping unrecognized data section"))
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void deep_frame_init(void)
{
	static const __u16 tpids[] = { 0x88a8, 0x9100, 0x9200, 0x8100 };
	__u8 *p = deep_frame + 12, *ip6;
	struct tcphdr th = ack_frame.tcp;
	__u16 v;
	int i;

	memset(deep_frame, 0, sizeof(deep_frame));
	memset(deep_frame, 0x02, 6);
	memset(deep_frame + 6, 0x04, 6);
	for (i = 0; i < 4; i++) {
		v = htons(tpids[i]);
		memcpy(p, &v, 2);
		v = htons(100 + i);
		memcpy(p + 2, &v, 2);
		p += 4;
	}
	v = htons(ETH_P_IPV6);
	memcpy(p, &v, 2);
	ip6 = p + 2;
	ip6[0] = 0x60;
	v = htons(16 * 8 + 20 + 16);
	memcpy(ip6 + 4, &v, 2);
	ip6[6] = IPPROTO_DSTOPTS;	/* hop-by-hop may only come first */
	ip6[7] = 64;
	ip6[8] = 0x20;			/* 2001:db8::1 -> 2001:db8::2 */
	ip6[9] = 0x01;
	ip6[10] = 0x0d;
	ip6[11] = 0xb8;
	memcpy(ip6 + 24, ip6 + 8, 16);
	ip6[23] = 1;
	ip6[39] = 2;
	p = ip6 + 40;
	for (i = 0; i < 16; i++, p += 8)
		p[0] = i < 15 ? IPPROTO_DSTOPTS : IPPROTO_TCP;
	th.doff = 5;
	memcpy(p, &th, sizeof(th));
}

static void frag_frames_init(void)
{
	struct iphdr ip = frame.ip;
	struct udphdr uh = {
		.source = htons(40000), .dest = htons(53),
		.len = htons(8 + 64 + 1480),
	};

	ip.protocol = IPPROTO_UDP;
	ip.id = htons(0x4242);
	ip.frag_off = htons(0x2000);			/* offset 0, MF */
	ip.tot_len = htons(20 + 8 + 64);
	memset(frag_first_frame, 0, sizeof(frag_first_frame));
	memcpy(frag_first_frame, &frame.eth, sizeof(frame.eth));
	memcpy(frag_first_frame + 14, &ip, sizeof(ip));
	memcpy(frag_first_frame + 34, &uh, sizeof(uh));
	/* A later one, at 1480: beyond the overlap check's 512 bytes. */
	ip.frag_off = htons(185);
	ip.tot_len = htons(20 + 64);
	memset(frag_later_frame, 0xab, sizeof(frag_later_frame));
	memcpy(frag_later_frame, &frame.eth, sizeof(frame.eth));
	memcpy(frag_later_frame + 14, &ip, sizeof(ip));
}

static void frame_init(void)
{
	static const __u8 syn_options[20] = {
		2, 4, 0x05, 0xb4,		/* MSS 1460 */
		4, 2,				/* SACK permitted */
		8, 10, 0, 0, 0, 1, 0, 0, 0, 0,	/* timestamps */
		1,				/* NOP */
		3, 3, 7,			/* window scale 7 */
	};

	memset(&frame, 0, sizeof(frame));
	memset(frame.eth.h_dest, 0x02, ETH_ALEN);
	memset(frame.eth.h_source, 0x04, ETH_ALEN);
	frame.eth.h_proto = htons(ETH_P_IP);
	frame.ip.version = 4;
	frame.ip.ihl = 5;
	frame.ip.tot_len = htons(sizeof(frame) - sizeof(frame.eth));
	frame.ip.frag_off = htons(0x4000);	/* DF */
	frame.ip.ttl = 64;
	frame.ip.protocol = IPPROTO_TCP;
	frame.ip.saddr = inet_addr("192.0.2.10");
	frame.ip.daddr = inet_addr("198.51.100.20");
	frame.tcp.source = htons(40000);
	frame.tcp.dest = htons(80);
	frame.tcp.seq = htonl(1);
	frame.tcp.doff = (sizeof(frame.tcp) + sizeof(frame.options)) / 4;
	frame.tcp.syn = 1;
	frame.tcp.window = htons(64240);
	memcpy(frame.options, syn_options, sizeof(syn_options));
	ack_frame = frame;
	ack_frame.tcp.syn = 0;
	ack_frame.tcp.ack = 1;
	ack_frame.tcp.ack_seq = htonl(1);

	memset(&udp_frame, 0, sizeof(udp_frame));
	udp_frame.eth = frame.eth;
	udp_frame.ip = frame.ip;
	udp_frame.ip.protocol = IPPROTO_UDP;
	udp_frame.ip.tot_len = htons(sizeof(udp_frame) - sizeof(udp_frame.eth));
	udp_frame.udp.source = htons(40000);
	udp_frame.udp.dest = htons(53);
	udp_frame.udp.len = htons(sizeof(udp_frame) - sizeof(udp_frame.eth) -
				  sizeof(udp_frame.ip));

	memset(&gtpu_frame, 0, sizeof(gtpu_frame));
	gtpu_frame.eth = frame.eth;
	gtpu_frame.ip = frame.ip;
	gtpu_frame.ip.protocol = IPPROTO_UDP;
	gtpu_frame.ip.tot_len = htons(sizeof(gtpu_frame) - sizeof(gtpu_frame.eth));
	gtpu_frame.ip.saddr = inet_addr("10.10.0.1");
	gtpu_frame.ip.daddr = inet_addr("10.10.0.2");
	gtpu_frame.udp.source = htons(2152);
	gtpu_frame.udp.dest = htons(2152);
	gtpu_frame.udp.len = htons(sizeof(gtpu_frame) - sizeof(gtpu_frame.eth) -
				   sizeof(gtpu_frame.ip));
	gtpu_frame.gtp[0] = 0x30;		/* version 1, PT */
	gtpu_frame.gtp[1] = 0xff;		/* G-PDU */
	gtpu_frame.gtp[3] = sizeof(gtpu_frame.inner_ip) +
			    sizeof(gtpu_frame.inner_tcp) +
			    sizeof(gtpu_frame.payload);
	gtpu_frame.gtp[7] = 0x42;		/* TEID */
	gtpu_frame.inner_ip = frame.ip;
	gtpu_frame.inner_ip.tot_len = htons(gtpu_frame.gtp[3]);
	gtpu_frame.inner_tcp = ack_frame.tcp;
	gtpu_frame.inner_tcp.doff = 5;
	deep_frame_init();
	frag_frames_init();
}

/* The next never-seen 5-tuple: source 10.x.y.z, port from the sequence. */
static void frame_next_tuple(struct syn_frame *f)
{
	__u32 seq = tuple_seq++;

	f->ip.saddr = htonl(0x0a000000 | (seq & 0x00ffffff));
	f->tcp.source = htons(1024 + (seq >> 24));
}

/*
 * ns per packet of one call with repeat > 1, as the kernel times it: whole
 * ns, leaving out time the task spent rescheduled. The wall clock around
 * the call is no substitute on a busy machine: it counts the preemptions
 * the kernel's timer steps around.
 */
static int time_by_repeat(int prog_fd, const void *pkt, __u32 len,
			  __u32 repeat, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = pkt ? pkt : (const void *)&ack_frame,
		.data_size_in = pkt ? len : sizeof(ack_frame),
		.repeat = repeat,
	);
	int err;

	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err)
		return err;
	*ns = opts.duration;
	return 0;
}

static int consume_events(struct vnfsec_instance *v)
{
	int n;

	if (!v)
		return 0;
	n = ring_buffer__consume(v->events);
	return n < 0 ? n : 0;
}

/* Mean kernel-timed ns per call over `flows` new 5-tuples, repeat=1. */
static int time_by_loop(int prog_fd, struct vnfsec_instance *v, __u32 flows,
			double *ns)
{
	struct syn_frame pkt = frame;
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = &pkt,
		.data_size_in = sizeof(pkt),
		.repeat = 1,
	);
	__u64 total = 0;
	__u32 i;
	int err;

	for (i = 0; i < flows; i++) {
		frame_next_tuple(&pkt);
		err = bpf_prog_test_run_opts(prog_fd, &opts);
		if (err)
			return err;
		total += opts.duration;
		/* Drain as the agent would, outside the timed part. */
		if (i % CONSUME_EVERY == CONSUME_EVERY - 1) {
			err = consume_events(v);
			if (err)
				return err;
		}
	}
	*ns = (double)total / flows;
	return consume_events(v);
}

/*
 * The in-kernel loop's wrapper: source address + 1 in place (the buffer
 * is kept across repetitions), then a tail call into the program under
 * test through a one-slot program array. XDP_ABORTED if either fails.
 */
static int loop_wrapper_load(int target_fd, int *map_fdp)
{
	/* Tail calls need the target's expected attach type (libbpf's). */
	LIBBPF_OPTS(bpf_prog_load_opts, load_opts,
		.expected_attach_type = BPF_XDP,
	);
	int map_fd, fd;
	__u32 zero = 0;

	map_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "bench_tail",
				sizeof(__u32), sizeof(__u32), 1, NULL);
	if (map_fd < 0)
		return -errno;
	{
		const struct bpf_insn insns[] = {
			/* r6 = ctx; r2 = data; r3 = data_end */
			INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),
			INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0),
			INSN(BPF_LDX | BPF_MEM | BPF_W, 3, 1, 4, 0),
			/* if data + 30 > data_end goto out */
			INSN(BPF_ALU64 | BPF_MOV | BPF_X, 4, 2, 0, 0),
			INSN(BPF_ALU64 | BPF_ADD | BPF_K, 4, 0, 0, 30),
			INSN(BPF_JMP | BPF_JGT | BPF_X, 4, 3, 10, 0),
			/* ip->saddr = htonl(ntohl(ip->saddr) + 1) */
			INSN(BPF_LDX | BPF_MEM | BPF_W, 5, 2, 26, 0),
			INSN(BPF_ALU | BPF_END | BPF_TO_BE, 5, 0, 0, 32),
			INSN(BPF_ALU64 | BPF_ADD | BPF_K, 5, 0, 0, 1),
			INSN(BPF_ALU | BPF_END | BPF_TO_BE, 5, 0, 0, 32),
			INSN(BPF_STX | BPF_MEM | BPF_W, 2, 5, 26, 0),
			/* bpf_tail_call(ctx, &bench_tail, 0) */
			INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0),
			INSN(BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_MAP_FD,
			     0, map_fd),
			INSN(0, 0, 0, 0, 0),
			INSN(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 0),
			INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_tail_call),
			/* out: */
			INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_ABORTED),
			INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		};

		fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "bench_loop", "GPL",
				   insns, ARRAY_SIZE(insns), &load_opts);
	}
	if (fd < 0 || bpf_map_update_elem(map_fd, &zero, &target_fd, BPF_ANY)) {
		fd = fd < 0 ? fd : -1;
		if (fd >= 0)
			close(fd);
		fd = -errno;
		close(map_fd);
		return fd;
	}
	/* Kept open: the kernel empties a program array nobody holds. */
	*map_fdp = map_fd;
	return fd;
}

/* One call of the wrapper: `repeat` packets from `pkt`, source + 1 each. */
static int kloop_call(int wrapper_fd, void *pkt, __u32 len, __u32 repeat,
		      double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = pkt,
		.data_size_in = len,
		.repeat = repeat,
	);
	int err;

	err = bpf_prog_test_run_opts(wrapper_fd, &opts);
	if (err)
		return err;
	if (opts.retval != XDP_PASS) {
		fprintf(stderr, "in-kernel loop: returned %u, not XDP_PASS\n",
			opts.retval);
		return -EPROTO;	/* the tail call or the program */
	}
	*ns = (double)opts.duration * repeat;
	return 0;
}

/*
 * Mean kernel-timed ns per packet over `flows` new 5-tuples made by the
 * wrapper, in calls of `chunk` repetitions; records drained between calls.
 * kind FIRST: each flow's first packet (the SYN, or a UDP datagram);
 * SECOND: each flow's second packet (an ACK), timed after an untimed
 * call sent the same flows their SYN.
 */
static int time_by_kloop(int wrapper_fd, struct vnfsec_instance *v,
			 __u32 flows, enum kloop_kind kind, double *ns)
{
	/*
	 * 4096 new-flow records fit the ring. Smaller calls cost every row
	 * more per packet (256: +200 ns for first packets), so second packets
	 * are timed in calls of 4096 too, although about a third of those
	 * flows have lost their flow_new slot (4096, direct-mapped) to another
	 * by then, and their second packet is a first one again.
	 */
	const __u32 chunk = 4096;
	struct syn_frame pkt;
	struct udp_frame upkt;
	double total = 0, t;
	__u32 done, n, base;
	int err;

	for (done = 0; done < flows; done += n) {
		n = flows - done < chunk ? flows - done : chunk;
		/* The wrapper adds 1 before the first run of a call. */
		base = htonl(0x0b000000 | (tuple_seq & 0x00ffffff));
		tuple_seq += chunk;
		if (kind == KLOOP_UDP) {
			upkt = udp_frame;
			upkt.ip.saddr = base;
			err = kloop_call(wrapper_fd, &upkt, sizeof(upkt), n, &t);
		} else {
			pkt = frame;
			pkt.ip.saddr = base;
			err = kloop_call(wrapper_fd, &pkt, sizeof(pkt), n, &t);
			if (!err && kind == KLOOP_SECOND) {
				err = consume_events(v);
				pkt = ack_frame;
				pkt.ip.saddr = base;
				if (!err)
					err = kloop_call(wrapper_fd, &pkt,
							 sizeof(pkt), n, &t);
			}
		}
		if (err)
			return err;
		total += t;
		err = consume_events(v);
		if (err)
			return err;
	}
	*ns = total / flows;
	return 0;
}

/*
 * Collect the keys first: restarting get_next_key from NULL after each
 * delete rescans the emptied buckets, quadratic in the table size.
 */
static int flow_table_clear(int fd)
{
	struct vnfsec_flow_key *keys, *prev = NULL;
	int n = 0, i, err = 0;

	keys = calloc(VNFSEC_FLOW_TABLE_ENTRIES, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	while (n < VNFSEC_FLOW_TABLE_ENTRIES &&
	       !bpf_map_get_next_key(fd, prev, &keys[n])) {
		prev = &keys[n];
		n++;
	}
	for (i = 0; i < n && !err; i++)
		if (bpf_map_delete_elem(fd, &keys[i]) && errno != ENOENT)
			err = -errno;
	free(keys);
	return err;
}

/* Every slot taken by flows no test packet has: each insert must evict. */
static int flow_table_fill(int fd)
{
	struct vnfsec_flow_state st = { .packets = 1 };
	struct vnfsec_flow_key key;
	__u32 i;

	memset(&key, 0, sizeof(key));
	key.proto = IPPROTO_UDP;
	for (i = 0; i < VNFSEC_FLOW_TABLE_ENTRIES; i++) {
		key.saddr.v4 = htonl(0xac100000 | i);	/* 172.16.x.y */
		if (bpf_map_update_elem(fd, &key, &st, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* A blocklist of realistic size, none of which covers the test sources. */
static int blocklist_fill(int fd, int nr)
{
	struct vnfsec_block_entry blk = { .reason = VNFSEC_BLOCK_OPERATOR };
	struct vnfsec_lpm_v4_key key;
	int i;

	for (i = 0; i < nr; i++) {
		if (i % 2) {
			key.prefixlen = 32;
			key.addr = htonl(0x64400000 | i);	  /* 100.64/10 */
		} else {
			key.prefixlen = 24;
			key.addr = htonl(0xac000000 | (i << 8)); /* 172.0/10 */
		}
		if (bpf_map_update_elem(fd, &key, &blk, BPF_NOEXIST))
			return -errno;
	}
	return 0;
}

static int empty_prog_load(void)
{
	/* r0 = XDP_PASS; exit */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	/* As libbpf loads SEC("xdp"), so the in-kernel loop can call it. */
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		.expected_attach_type = BPF_XDP,
	);
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "bench_empty", "GPL", insns,
			   ARRAY_SIZE(insns), &opts);
	return fd < 0 ? -errno : fd;
}

/* The floor for the live veth run (tools/bench-run): pinned for bpftool. */
static int pin_empty(const char *path)
{
	int fd = empty_prog_load(), err = 0;

	if (fd < 0 || bpf_obj_pin(fd, path))
		err = fd < 0 ? fd : -errno;
	if (err)
		fprintf(stderr, "pin the empty XDP program at %s: %s\n", path,
			strerror(-err));
	if (fd >= 0)
		close(fd);
	return err ? 1 : 0;
}

/*
 * xdp-filter's objects pin their maps by name under /sys/fs/bpf; this
 * copy keeps them private so the bench needs no bpffs and leaves nothing.
 */
static int filter_prog_load(const char *path, struct bpf_object **objp)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_map *map;
	int err;

	obj = bpf_object__open_file(path, NULL);
	if (!obj)
		return -errno;
	bpf_object__for_each_map(map, obj)
		bpf_map__set_pin_path(map, NULL);
	err = bpf_object__load(obj);
	prog = bpf_object__next_program(obj, NULL);
	if (err || !prog) {
		bpf_object__close(obj);
		return err ? err : -ENOENT;
	}
	*objp = obj;
	return bpf_program__fd(prog);
}

static int discard_record(void *ctx, void *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	return 0;
}

static int vnfsec_load(const char *path, struct vnfsec_instance *v)
{
	struct bpf_program *prog;
	int err;

	memset(v, 0, sizeof(*v));
	v->obj = bpf_object__open_file(path, NULL);
	if (!v->obj)
		return -errno;
	err = bpf_object__load(v->obj);
	if (err)
		return err;
	prog = bpf_object__find_program_by_name(v->obj, VNFSEC_PROG_XDP);
	if (!prog)
		return -ENOENT;
	v->prog_fd = bpf_program__fd(prog);
	v->flow_fd = bpf_object__find_map_fd_by_name(v->obj, "flow_table");
	v->counters_fd = bpf_object__find_map_fd_by_name(v->obj, "counters");
	v->blocklist_fd = bpf_object__find_map_fd_by_name(v->obj,
							  "blocklist_v4");
	if (v->flow_fd < 0 || v->counters_fd < 0 || v->blocklist_fd < 0)
		return -ENOENT;
	v->events = ring_buffer__new(
		bpf_object__find_map_fd_by_name(v->obj, "events"),
		discard_record, NULL, NULL);
	return v->events ? 0 : -errno;
}

static void vnfsec_unload(struct vnfsec_instance *v)
{
	ring_buffer__free(v->events);
	bpf_object__close(v->obj);
}

static __u64 vnfsec_counter(struct vnfsec_instance *v, __u32 idx)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 vals[ncpus > 0 ? ncpus : 1], sum = 0;
	int i;

	if (ncpus <= 0 || bpf_map_lookup_elem(v->counters_fd, &idx, vals))
		return 0;
	for (i = 0; i < ncpus; i++)
		sum += vals[i];
	return sum;
}

/* ---- ring buffer: records/s one consumer thread keeps up with ---------- */

struct rb_consumer {
	struct ring_buffer *rb;
	volatile bool stop;
	double cpu_s;		/* the consumer thread's CPU time */
	__u64 records;
	int cpu;
};

static int count_record(void *ctx, void *data, size_t len)
{
	(void)data, (void)len;
	((struct rb_consumer *)ctx)->records++;
	return 0;
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *consume_loop(void *arg)
{
	struct rb_consumer *c = arg;
	cpu_set_t set;
	double c0;

	if (c->cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(c->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	/* As the agent's loop does: drain the ring when it wakes us, and
	 * on each tick (samples wake it only per batch). */
	c0 = thread_cpu_s();
	while (!c->stop) {
		ring_buffer__poll(c->rb, 10);
		ring_buffer__consume(c->rb);
	}
	ring_buffer__consume(c->rb);
	c->cpu_s = thread_cpu_s() - c0;
	return NULL;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * One run: every packet of `packets` is sampled (config.sample_every = 1,
 * 208-byte records) by the producer (this thread, BPF_PROG_TEST_RUN)
 * while a consumer thread on another CPU drains the ring. Records/s is
 * what the consumer read over the run's wall time; the rest is counted
 * by the program as ringbuf_full_sample.
 */
static int ringbuf_run(struct vnfsec_instance *v, int consumer_cpu,
		       __u32 packets, double *rate, double *cpu_rate,
		       __u64 *lost)
{
	struct vnfsec_config cfg = { .sample_every = 1,
				     .detectors_off = ~0U };
	struct rb_consumer c = { .cpu = consumer_cpu };
	int cfg_fd = bpf_object__find_map_fd_by_name(v->obj, "config");
	__u64 lost_before;
	pthread_t tid;
	/*
	 * Few, long calls: each XDP test run puts the program into the XDP
	 * dispatcher and takes it out again, two synchronize_rcu() of ~20 ms
	 * that the producer sleeps through (perf sched: 40 ms a call), which
	 * made calls of 10,000 packets measure the grace period, not the
	 * consumer (0.45 M records/s).
	 */
	__u32 zero = 0, done = 0, chunk = 500000;
	double t0, t1;
	int err = 0;

	if (cfg_fd < 0 || bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY))
		return -errno;
	c.rb = ring_buffer__new(bpf_object__find_map_fd_by_name(v->obj,
								  "events"),
				count_record, &c, NULL);
	if (!c.rb)
		return -errno;
	ring_buffer__consume(c.rb);
	c.records = 0;
	lost_before = vnfsec_counter(v, VNFSEC_CNT_RINGBUF_FULL_SAMPLE);
	if (pthread_create(&tid, NULL, consume_loop, &c)) {
		ring_buffer__free(c.rb);
		return -EAGAIN;
	}
	t0 = mono_s();
	while (done < packets && !err) {
		double ns = 0;

		err = time_by_repeat(v->prog_fd, NULL, 0, chunk, &ns);
		done += chunk;
	}
	c.stop = true;
	pthread_join(tid, NULL);
	t1 = mono_s();
	*rate = c.records / (t1 - t0);
	*cpu_rate = c.cpu_s > 0 ? c.records / c.cpu_s : 0;
	*lost = vnfsec_counter(v, VNFSEC_CNT_RINGBUF_FULL_SAMPLE) - lost_before;
	ring_buffer__free(c.rb);
	memset(&cfg, 0, sizeof(cfg));
	bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY);
	return err;
}

/*
 * What one consumer thread drains when it is woken for a batch, as the
 * program's batched wakeups make the agent do: the producer fills the
 * ring with `batch` samples (less than it holds: nothing is lost), then
 * the consumer, on its own CPU, drains them with ring_buffer__consume;
 * only the drain is timed, against the consumer thread's CPU clock as
 * well as the wall clock, so time the machine gave others is left out.
 */
struct rb_drain {
	struct ring_buffer *rb;
	__u64 records;
	double wall_s;
	double cpu_s;
	int cpu;
};

static void *drain_once(void *arg)
{
	struct rb_drain *dr = arg;
	double w0, c0;
	cpu_set_t set;
	int n;

	if (dr->cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(dr->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	w0 = mono_s();
	c0 = thread_cpu_s();
	n = ring_buffer__consume(dr->rb);
	dr->cpu_s += thread_cpu_s() - c0;
	dr->wall_s += mono_s() - w0;
	if (n > 0)
		dr->records += n;
	return NULL;
}

static int ringbuf_drain_run(struct vnfsec_instance *v, int consumer_cpu,
			     __u32 batch, __u32 batches, double *wall_rate,
			     double *cpu_rate, __u64 *lost)
{
	struct vnfsec_config cfg = { .sample_every = 1,
				     .detectors_off = ~0U };
	int cfg_fd = bpf_object__find_map_fd_by_name(v->obj, "config");
	struct rb_drain dr = { .cpu = consumer_cpu };
	__u64 lost_before;
	__u32 zero = 0, i;
	pthread_t tid;
	double ns;
	int err = 0;

	if (cfg_fd < 0 || bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY))
		return -errno;
	dr.rb = ring_buffer__new(bpf_object__find_map_fd_by_name(v->obj,
								   "events"),
				 discard_record, NULL, NULL);
	if (!dr.rb)
		return -errno;
	ring_buffer__consume(dr.rb);
	lost_before = vnfsec_counter(v, VNFSEC_CNT_RINGBUF_FULL_SAMPLE);
	for (i = 0; i < batches && !err; i++) {
		err = time_by_repeat(v->prog_fd, NULL, 0, batch, &ns);
		if (err)
			break;
		if (pthread_create(&tid, NULL, drain_once, &dr)) {
			err = -EAGAIN;
			break;
		}
		pthread_join(tid, NULL);
	}
	*wall_rate = dr.wall_s > 0 ? dr.records / dr.wall_s : 0;
	*cpu_rate = dr.cpu_s > 0 ? dr.records / dr.cpu_s : 0;
	*lost = vnfsec_counter(v, VNFSEC_CNT_RINGBUF_FULL_SAMPLE) - lost_before;
	ring_buffer__free(dr.rb);
	memset(&cfg, 0, sizeof(cfg));
	bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY);
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int case_run(struct bench_case *c, const struct bench_opts *o,
		    int run)
{
	int err;

	if (c->prog_fd < 0)
		return 0;
	if (c->method == BY_REPEAT && c->prime) {
		double ignored;

		err = time_by_repeat(c->prog_fd, c->prime, c->prime_len, 1,
				     &ignored);
		if (err)
			return err;
	}
	if (c->method == BY_REPEAT)
		return time_by_repeat(c->prog_fd, c->pkt, c->pkt_len, o->repeat,
				      &c->ns[run]);

	if (c->vnfsec) {
		err = c->fill_flow_table ? flow_table_fill(c->vnfsec->flow_fd) :
			flow_table_clear(c->vnfsec->flow_fd);
		if (err)
			return err;
	}
	if (c->method == BY_KLOOP)
		return time_by_kloop(c->wrapper_fd, c->vnfsec, o->flows,
				     c->kloop, &c->ns[run]);
	return time_by_loop(c->prog_fd, c->vnfsec, o->flows, &c->ns[run]);
}


static int ringbuf_drain_report(const struct bench_opts *o,
				struct vnfsec_instance *v, int consumer_cpu)
{
	/* 4096 samples of 216 bytes with their headers: 864 KiB of 1 MiB. */
	const __u32 batch = 4096, batches = 100;
	double wall[MAX_RUNS], cpu[MAX_RUNS];
	__u64 lost = 0, lost_total = 0;
	int run, err;

	for (run = 0; run < o->runs; run++) {
		err = ringbuf_drain_run(v, consumer_cpu, batch, batches,
					&wall[run], &cpu[run], &lost);
		if (err) {
			fprintf(stderr, "ring buffer drain run: %s\n",
				strerror(-err));
			return err;
		}
		lost_total += lost;
	}
	qsort(wall, o->runs, sizeof(double), cmp_double);
	qsort(cpu, o->runs, sizeof(double), cmp_double);
	printf("  batches (the producer writes %u samples, then the consumer thread drains\n"
	       "  them with one ring_buffer__consume; %u batches per run), drain timed only:\n"
	       "    consumed %.2f M records/s of wall time (median; runs %.2f..%.2f),\n"
	       "    %.2f M records/s of the consumer's CPU time (runs %.2f..%.2f),\n"
	       "    lost %llu of %llu (counted as ringbuf_full_sample); target >= 1 M/s: %.2fx\n",
	       batch, batches, wall[o->runs / 2] / 1e6, wall[0] / 1e6,
	       wall[o->runs - 1] / 1e6, cpu[o->runs / 2] / 1e6, cpu[0] / 1e6,
	       cpu[o->runs - 1] / 1e6, (unsigned long long)lost_total,
	       (unsigned long long)batch * batches * o->runs,
	       wall[o->runs / 2] / 1e6);
	return 0;
}

static int ringbuf_report(const struct bench_opts *o,
			  struct vnfsec_instance *v)
{
	/* The producer as fast as BPF_PROG_TEST_RUN goes, far above what
	 * the consumer takes, so the ring fills and the loss counting shows. */
	const __u32 packets = 2000000;
	double rate[MAX_RUNS], cpu_rate[MAX_RUNS];
	__u64 lost = 0, lost_total = 0;
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), consumer_cpu, run, err;

	/* The consumer on another CPU when there is one. */
	consumer_cpu = ncpu > 1 ? (o->cpu + 1) % ncpu : -1;
	printf("\nring buffer: every packet sampled (%zu-byte records, 1 MiB ring); producer:\n"
	       "  BPF_PROG_TEST_RUN on CPU %d; one consumer thread on CPU %d\n",
	       sizeof(struct vnfsec_sample_record), o->cpu, consumer_cpu);
	for (run = 0; run < o->runs; run++) {
		err = ringbuf_run(v, consumer_cpu, packets, &rate[run],
				  &cpu_rate[run], &lost);
		if (err) {
			fprintf(stderr, "ring buffer run: %s\n", strerror(-err));
			return err;
		}
		lost_total += lost;
	}
	qsort(rate, o->runs, sizeof(double), cmp_double);
	qsort(cpu_rate, o->runs, sizeof(double), cmp_double);
	printf("  concurrent (producer unpaced, %u packets a run; consumer as the agent's\n"
	       "  loop: ring_buffer__poll with a 10 ms timeout, then ring_buffer__consume;\n"
	       "  samples wake it once per %u KiB unread):\n"
	       "    consumed %.2f M records/s of wall time (median; runs %.2f..%.2f),\n"
	       "    %.2f M records/s of the consumer's CPU time (runs %.2f..%.2f),\n"
	       "    lost %llu of %llu (%.2f%%, counted as ringbuf_full_sample);\n"
	       "    target >= 1 M/s consumed: %.2fx\n",
	       packets, VNFSEC_SAMPLE_WAKEUP_BYTES >> 10, rate[o->runs / 2] / 1e6,
	       rate[0] / 1e6, rate[o->runs - 1] / 1e6,
	       cpu_rate[o->runs / 2] / 1e6, cpu_rate[0] / 1e6,
	       cpu_rate[o->runs - 1] / 1e6, (unsigned long long)lost_total,
	       (unsigned long long)packets * o->runs,
	       100.0 * lost_total / ((double)packets * o->runs),
	       rate[o->runs / 2] / 1e6);
	return ringbuf_drain_report(o, v, consumer_cpu);
}

static void print_table(struct bench_case *cases, int nr, int runs,
			double empty, double filter)
{
	int i;

	printf("  %-52s %8s %9s %7s %8s  %s\n", "program", "ns/pkt",
	       "+ns/empty", "x empty", "x filter", "[min..max of runs]");
	for (i = 0; i < nr; i++) {
		struct bench_case *c = &cases[i];
		char ratio_filter[16] = "-";

		if (c->prog_fd < 0) {
			printf("  %-52s %8s  (not available)\n", c->name, "-");
			continue;
		}
		if (filter > 0)
			snprintf(ratio_filter, sizeof(ratio_filter), "%.2f",
				 c->median / filter);
		printf("  %-52s %8.2f %9.2f %7.2f %8s  [%.2f..%.2f]\n",
		       c->name, c->median, c->median - empty, c->median / empty,
		       ratio_filter, c->ns[0], c->ns[runs - 1]);
	}
}

/*
 * The miss-path target compares costs above the floor: the vnfsec rows of
 * a table against its xdp-filter row, both less its empty row.
 */
static void print_ratios(const char *what, const struct bench_case *t,
			 int empty, int filter, int first, int last)
{
	double e = t[empty].median, f = t[filter].median - e;
	int i;

	if (t[empty].prog_fd < 0 || t[filter].prog_fd < 0 || f <= 0)
		return;
	for (i = first; i <= last; i++) {
		const char *name = t[i].name, *short_name;

		if (t[i].prog_fd < 0)
			continue;
		short_name = strstr(name, "vnfsec_xdp, ");
		printf("  %-15s %-48s +%.1f / +%.1f = %.2fx\n", what,
		       short_name ? short_name + strlen("vnfsec_xdp, ") : name,
		       t[i].median - e, f, (t[i].median - e) / f);
	}
}

static void print_over_empty(const struct bench_case *per_call,
			     const struct bench_case *kloop, bool have_filter)
{
	if (!have_filter)
		return;
	printf("\nmiss path, cost above empty against xdp-filter's (target <= 2.00x):\n");
	print_ratios("per call", per_call, 0, 1, 2, 4);
	print_ratios("in-kernel loop", kloop, 0, 1, 2, KLOOP_UDP_ROWS - 1);
	print_ratios("in-kernel loop", kloop, KLOOP_UDP_ROWS,
		     KLOOP_UDP_ROWS + 1, KLOOP_UDP_ROWS + 2,
		     KLOOP_UDP_ROWS + 3);
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-c CPU] [-r RUNS] [-n REPEAT] [-f FLOWS] [-x XDP_FILTER_OBJ] [-m LIST] [-V OBJ]... [-v] VNFSEC_BPF_OBJ\n"
		"       %s -E PATH\n"
		"  -c CPU     pin to this CPU (default: the last one allowed)\n"
		"  -r RUNS    runs per figure, median reported (default 7, at least 5)\n"
		"  -n REPEAT  repeat for the hit path (default 1000000)\n"
		"  -f FLOWS   distinct 5-tuples per miss-path run (default 100000)\n"
		"  -x PATH    xdp-filter's xdpfilt_alw_all.o; \"\" to skip\n"
		"  -m LIST    sections to run, comma-separated: hit,miss,ring (default all)\n"
		"  -E PATH    only pin the empty XDP_PASS program at PATH (bpffs) and exit\n"
		"  -V OBJ     also measure this build of vnfsec.bpf.o (hit, in-kernel-loop miss\n"
		"             and full-table miss rows), interleaved with the rest: a profile\n"
		"             by elimination is builds with one part left out (up to %d)\n"
		"  -v         libbpf debug output\n", prog, prog, MAX_VARIANTS);
}

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
	cpu_set_t set;
	int opt, i;

	o->cpu = -1;
	o->runs = 7;
	o->repeat = 1000000;
	o->flows = 100000;
	o->filter_obj = "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o";
	while ((opt = getopt(argc, argv, "c:r:n:f:x:m:E:V:vh")) != -1) {
		switch (opt) {
		case 'c':
			o->cpu = atoi(optarg);
			break;
		case 'r':
			o->runs = atoi(optarg);
			break;
		case 'n':
			o->repeat = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			o->flows = strtoul(optarg, NULL, 0);
			break;
		case 'x':
			o->filter_obj = optarg;
			break;
		case 'm':
			o->no_hit = !strstr(optarg, "hit");
			o->no_miss = !strstr(optarg, "miss");
			o->no_ring = !strstr(optarg, "ring");
			break;
		case 'E':
			o->pin_empty = optarg;
			break;
		case 'V':
			if (o->nr_variants == MAX_VARIANTS)
				return -1;
			o->variants[o->nr_variants++] = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		default:
			return -1;
		}
	}
	if (o->pin_empty)
		return optind == argc ? 0 : -1;
	if (optind != argc - 1 || o->runs < 5 || o->runs > MAX_RUNS ||
	    !o->repeat || !o->flows) {
		if (optind == argc - 1)
			fprintf(stderr, "runs must be 5..%d, repeat and flows > 0\n",
				MAX_RUNS);
		return -1;
	}
	o->vnfsec_obj = argv[optind];

	if (o->cpu < 0) {
		if (sched_getaffinity(0, sizeof(set), &set))
			return -1;
		for (i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				o->cpu = i;
	}
	return 0;
}

/* Wrappers first: a target that cannot be tail-called skips its row. */
static void kloop_prepare(struct bench_case *c, int nr)
{
	int i;

	for (i = 0; i < nr; i++) {
		if (c[i].method != BY_KLOOP || c[i].prog_fd < 0)
			continue;
		c[i].wrapper_fd = loop_wrapper_load(c[i].prog_fd, &c[i].tail_fd);
		if (c[i].wrapper_fd < 0) {
			fprintf(stderr, "in-kernel loop wrapper for %s: %s; row skipped\n",
				c[i].name, strerror(-c[i].wrapper_fd));
			c[i].prog_fd = -1;
		}
	}
}

static void cases_finish(struct bench_case *c, int nr, int runs)
{
	int i;

	for (i = 0; i < nr; i++) {
		qsort(c[i].ns, runs, sizeof(double), cmp_double);
		c[i].median = c[i].ns[runs / 2];
		if (c[i].method == BY_KLOOP && c[i].wrapper_fd > 0) {
			close(c[i].wrapper_fd);
			close(c[i].tail_fd);
		}
	}
}

/*
 * -V builds side by side with the main one: three rows each (hit, miss in
 * the in-kernel loop from an empty table, the same from a full table),
 * printed as the difference from the main build's row.
 */
static void print_variants(const struct bench_opts *o,
			   const struct bench_case *var,
			   const struct bench_case *hit,
			   const struct bench_case *kloop)
{
	const struct bench_case *base[3] = { &hit[2], &kloop[2], &kloop[3] };
	const struct bench_case *floor[3] = { &hit[0], &kloop[0], &kloop[0] };
	int i, k;

	printf("\nbuilds compared (-V), ns/pkt above empty, and against %s:\n",
	       o->vnfsec_obj);
	printf("  %-32s %18s %22s %22s\n", "build", "hit", "miss (in-kernel loop)",
	       "miss, table full");
	printf("  %-32s", "main build");
	for (k = 0; k < 3; k++)
		printf(" %14.1f%8s", base[k]->median - floor[k]->median, "");
	printf("\n");
	for (i = 0; i < o->nr_variants; i++) {
		const char *name = strrchr(o->variants[i], '/');

		printf("  %-32.32s", name ? name + 1 : o->variants[i]);
		for (k = 0; k < 3; k++) {
			const struct bench_case *c = &var[i * 3 + k];

			if (c->prog_fd < 0) {
				printf(" %22s", "-");
				continue;
			}
			printf(" %14.1f (%+6.1f)", c->median - floor[k]->median,
			       c->median - base[k]->median);
		}
		printf("\n");
	}
}

static int measure_and_print(const struct bench_opts *o, int empty_fd,
			     int filter_fd, struct vnfsec_instance *hit,
			     struct vnfsec_instance *hit_blocklist,
			     struct vnfsec_instance *miss,
			     struct vnfsec_instance *variants)
{
	struct bench_case hit_cases[] = {
		{ .name = "empty XDP_PASS", .method = BY_REPEAT,
		  .prog_fd = empty_fd },
		{ .name = "xdp-filter, default mode (xdpfilt_alw_all)",
		  .method = BY_REPEAT, .prog_fd = filter_fd },
		{ .name = "vnfsec_xdp, flow hit", .method = BY_REPEAT,
		  .prog_fd = hit->prog_fd, .vnfsec = hit },
		{ .name = "vnfsec_xdp, flow hit, 10000 blocklist prefixes",
		  .method = BY_REPEAT, .prog_fd = hit_blocklist->prog_fd,
		  .vnfsec = hit_blocklist },
		{ .name = "GTP-U: empty XDP_PASS", .method = BY_REPEAT,
		  .prog_fd = empty_fd, .pkt = &gtpu_frame,
		  .pkt_len = sizeof(gtpu_frame) },
		{ .name = "GTP-U: xdp-filter (outer tuple only)",
		  .method = BY_REPEAT, .prog_fd = filter_fd,
		  .pkt = &gtpu_frame, .pkt_len = sizeof(gtpu_frame) },
		{ .name = "GTP-U: vnfsec_xdp, inner flow hit",
		  .method = BY_REPEAT, .prog_fd = hit->prog_fd, .vnfsec = hit,
		  .pkt = &gtpu_frame, .pkt_len = sizeof(gtpu_frame) },
		/* HIT_DEEP_ROWS from here: their own floors, no peer. */
		{ .name = "deepest walk: empty XDP_PASS", .method = BY_REPEAT,
		  .prog_fd = empty_fd, .pkt = deep_frame,
		  .pkt_len = sizeof(deep_frame) },
		{ .name = "deepest walk: vnfsec_xdp, 4 tags + 16 IPv6 ext, hit",
		  .method = BY_REPEAT, .prog_fd = hit->prog_fd, .vnfsec = hit,
		  .pkt = deep_frame, .pkt_len = sizeof(deep_frame) },
		{ .name = "fragment: empty XDP_PASS", .method = BY_REPEAT,
		  .prog_fd = empty_fd, .pkt = frag_later_frame,
		  .pkt_len = sizeof(frag_later_frame) },
		{ .name = "fragment: vnfsec_xdp, later fragment, frag_table hit",
		  .method = BY_REPEAT, .prog_fd = hit->prog_fd, .vnfsec = hit,
		  .pkt = frag_later_frame, .pkt_len = sizeof(frag_later_frame),
		  .prime = frag_first_frame,
		  .prime_len = sizeof(frag_first_frame) },
	};
	struct bench_case miss_cases[] = {
		{ .name = "empty XDP_PASS", .method = BY_LOOP,
		  .prog_fd = empty_fd },
		{ .name = "xdp-filter, default mode (xdpfilt_alw_all)",
		  .method = BY_LOOP, .prog_fd = filter_fd },
		{ .name = "vnfsec_xdp, new flow: flow_new + new-flow record",
		  .method = BY_LOOP, .prog_fd = miss->prog_fd, .vnfsec = miss },
		{ .name = "vnfsec_xdp, new flow, flow_table full",
		  .method = BY_LOOP, .prog_fd = miss->prog_fd, .vnfsec = miss,
		  .fill_flow_table = true },
		{ .name = "vnfsec_xdp, new flow, 10000 blocklist prefixes",
		  .method = BY_LOOP, .prog_fd = hit_blocklist->prog_fd,
		  .vnfsec = hit_blocklist },
	};
	struct bench_case kloop_cases[] = {
		{ .name = "empty XDP_PASS", .method = BY_KLOOP,
		  .prog_fd = empty_fd },
		{ .name = "xdp-filter, default mode (xdpfilt_alw_all)",
		  .method = BY_KLOOP, .prog_fd = filter_fd },
		{ .name = "vnfsec_xdp, new flow: flow_new + new-flow record",
		  .method = BY_KLOOP, .prog_fd = miss->prog_fd, .vnfsec = miss },
		{ .name = "vnfsec_xdp, new flow, flow_table full",
		  .method = BY_KLOOP, .prog_fd = miss->prog_fd, .vnfsec = miss,
		  .fill_flow_table = true },
		{ .name = "vnfsec_xdp, new flow, 10000 blocklist prefixes",
		  .method = BY_KLOOP, .prog_fd = hit_blocklist->prog_fd,
		  .vnfsec = hit_blocklist },
		{ .name = "vnfsec_xdp, 2nd packet (ACK): into flow_table",
		  .method = BY_KLOOP, .prog_fd = miss->prog_fd, .vnfsec = miss,
		  .kloop = KLOOP_SECOND },
		{ .name = "vnfsec_xdp, 2nd packet, flow_table full: + evict",
		  .method = BY_KLOOP, .prog_fd = miss->prog_fd, .vnfsec = miss,
		  .kloop = KLOOP_SECOND, .fill_flow_table = true },
		/* KLOOP_UDP_ROWS from here: their own floor and peer. */
		{ .name = "UDP: empty XDP_PASS", .method = BY_KLOOP,
		  .prog_fd = empty_fd, .kloop = KLOOP_UDP },
		{ .name = "UDP: xdp-filter", .method = BY_KLOOP,
		  .prog_fd = filter_fd, .kloop = KLOOP_UDP },
		{ .name = "UDP: vnfsec_xdp, new flow", .method = BY_KLOOP,
		  .prog_fd = miss->prog_fd, .vnfsec = miss, .kloop = KLOOP_UDP },
		{ .name = "UDP: vnfsec_xdp, new flow, flow_table full",
		  .method = BY_KLOOP, .prog_fd = miss->prog_fd, .vnfsec = miss,
		  .kloop = KLOOP_UDP, .fill_flow_table = true },
	};
	struct bench_case var_cases[MAX_VARIANTS * 3];
	const int nr_kloop = ARRAY_SIZE(kloop_cases);
	const int nr_hit = ARRAY_SIZE(hit_cases);
	const int nr_miss = ARRAY_SIZE(miss_cases);
	const int nr_var = o->nr_variants * 3;
	struct utsname uts;
	int run, i, err = 0;

	memset(var_cases, 0, sizeof(var_cases));
	for (i = 0; i < o->nr_variants; i++) {
		struct bench_case *c = &var_cases[i * 3];
		struct vnfsec_instance *v = &variants[i];

		c[0] = (struct bench_case){ .name = o->variants[i],
			.method = BY_REPEAT, .prog_fd = v->prog_fd, .vnfsec = v };
		c[1] = (struct bench_case){ .name = o->variants[i],
			.method = BY_KLOOP, .prog_fd = v->prog_fd, .vnfsec = v };
		c[2] = c[1];
		c[2].fill_flow_table = true;
	}
	kloop_prepare(kloop_cases, nr_kloop);
	kloop_prepare(var_cases, nr_var);
	for (run = 0; run < o->runs && !err; run++) {
		for (i = 0; i < nr_hit && !err && !o->no_hit; i++)
			err = case_run(&hit_cases[i], o, run);
		for (i = 0; i < nr_miss && !err && !o->no_miss; i++)
			err = case_run(&miss_cases[i], o, run);
		for (i = 0; i < nr_kloop && !err && !o->no_miss; i++)
			err = case_run(&kloop_cases[i], o, run);
		for (i = 0; i < nr_var && !err; i++)
			if (var_cases[i].method == BY_REPEAT ? !o->no_hit :
			    !o->no_miss)
				err = case_run(&var_cases[i], o, run);
	}
	cases_finish(hit_cases, nr_hit, o->runs);
	cases_finish(miss_cases, nr_miss, o->runs);
	cases_finish(kloop_cases, nr_kloop, o->runs);
	cases_finish(var_cases, nr_var, o->runs);
	if (err) {
		fprintf(stderr, "BPF_PROG_TEST_RUN: %s\n", strerror(-err));
		return err;
	}

	uname(&uts);
	printf("vnfsec-bench: BPF_PROG_TEST_RUN, kernel %s, pinned to CPU %d, median of %d runs\n",
	       uts.release, o->cpu, o->runs);
	printf("xdp-filter: %s\n\n", filter_fd < 0 ? "not available" :
	       o->filter_obj);
	if (!o->no_hit) {
		printf("hit path: one %zu-byte TCP ACK of an established flow, repeat=%u per call\n"
		       "          (GTP-U rows: the same flow in a %zu-byte G-PDU; ratios against\n"
		       "          the GTP-U empty and xdp-filter rows)\n",
		       sizeof(ack_frame), o->repeat, sizeof(gtpu_frame));
		print_table(hit_cases, 4, o->runs, hit_cases[0].median,
			    filter_fd < 0 ? 0 : hit_cases[1].median);
		print_table(hit_cases + 4, HIT_DEEP_ROWS - 4, o->runs,
			    hit_cases[4].median,
			    filter_fd < 0 ? 0 : hit_cases[5].median);
		printf("  (the deepest walk the parser follows, %zu bytes; a later fragment of\n"
		       "   a datagram whose first fragment was seen, %zu bytes; above own floor:)\n",
		       sizeof(deep_frame), sizeof(frag_later_frame));
		print_table(hit_cases + HIT_DEEP_ROWS, 2, o->runs,
			    hit_cases[HIT_DEEP_ROWS].median, 0);
		print_table(hit_cases + HIT_DEEP_ROWS + 2, 2, o->runs,
			    hit_cases[HIT_DEEP_ROWS + 2].median, 0);
	}
	if (!o->no_miss) {
		printf("\nmiss path: a TCP SYN, repeat=1 per call, %u new 5-tuples (new source\n"
		       "           address and port each) per run, kernel-timed per call\n",
		       o->flows);
		print_table(miss_cases, nr_miss, o->runs, miss_cases[0].median,
			    filter_fd < 0 ? 0 : miss_cases[1].median);
		printf("\nmiss path, in-kernel loop: the same SYN, repeat=4096 per call of a wrapper\n"
		       "           that gives each repetition a new source address and tail-calls\n"
		       "           the program; %u new 5-tuples per run, kernel-timed\n",
		       o->flows);
		print_table(kloop_cases, KLOOP_UDP_ROWS, o->runs,
			    kloop_cases[0].median,
			    filter_fd < 0 ? 0 : kloop_cases[1].median);
		printf("  (a 74-byte UDP datagram, a new flow that is not a TCP SYN:)\n");
		print_table(kloop_cases + KLOOP_UDP_ROWS,
			    nr_kloop - KLOOP_UDP_ROWS, o->runs,
			    kloop_cases[KLOOP_UDP_ROWS].median,
			    filter_fd < 0 ? 0 :
			    kloop_cases[KLOOP_UDP_ROWS + 1].median);
		print_over_empty(miss_cases, kloop_cases, filter_fd >= 0);
		printf("\nnotes: hit-path figures are the kernel's, in whole ns; per-call (miss-path)\n"
		       "       figures include the kernel timer's own cost, hence the higher floor.\n"
		       "       miss path: %llu new flows, %llu ringbuf_full, %llu flow_insert_fail\n",
		       (unsigned long long)vnfsec_counter(miss, VNFSEC_CNT_NEW_FLOW),
		       (unsigned long long)vnfsec_counter(miss, VNFSEC_CNT_RINGBUF_FULL),
		       (unsigned long long)vnfsec_counter(miss,
							  VNFSEC_CNT_FLOW_INSERT_FAIL));
	}
	if (o->nr_variants && !o->no_hit && !o->no_miss)
		print_variants(o, var_cases, hit_cases, kloop_cases);
	if (o->no_ring)
		return 0;
	return ringbuf_report(o, hit);
}

int main(int argc, char **argv)
{
	struct vnfsec_instance hit = {}, hit_blocklist = {}, miss = {};
	struct vnfsec_instance variants[MAX_VARIANTS] = {};
	struct bpf_object *filter_obj = NULL;
	int empty_fd, filter_fd = -1, err, i;
	struct bench_opts o = {};
	cpu_set_t set;

	if (parse_opts(argc, argv, &o)) {
		usage(argv[0]);
		return 2;
	}
	libbpf_print(o.verbose ? LIBBPF_DEBUG : LIBBPF_WARN, NULL, NULL);
	libbpf_set_print(libbpf_print);
	if (o.pin_empty)
		return pin_empty(o.pin_empty);

	CPU_ZERO(&set);
	CPU_SET(o.cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "pin to CPU %d: %s\n", o.cpu, strerror(errno));
		return 1;
	}
	frame_init();

	empty_fd = empty_prog_load();
	if (empty_fd < 0) {
		fprintf(stderr, "load empty XDP program: %s\n",
			strerror(-empty_fd));
		return 1;
	}
	if (*o.filter_obj) {
		filter_fd = filter_prog_load(o.filter_obj, &filter_obj);
		if (filter_fd < 0)
			fprintf(stderr, "xdp-filter (%s) cannot load: %s; its rows are skipped\n",
				o.filter_obj, strerror(-filter_fd));
	}
	err = vnfsec_load(o.vnfsec_obj, &hit);
	if (!err)
		err = vnfsec_load(o.vnfsec_obj, &hit_blocklist);
	if (!err)
		err = vnfsec_load(o.vnfsec_obj, &miss);
	if (!err)
		err = blocklist_fill(hit_blocklist.blocklist_fd,
				     BLOCKLIST_PREFIXES);
	if (err)
		fprintf(stderr, "load %s: %s\n", o.vnfsec_obj, strerror(-err));
	for (i = 0; i < o.nr_variants && !err; i++) {
		err = vnfsec_load(o.variants[i], &variants[i]);
		if (err)
			fprintf(stderr, "load %s: %s\n", o.variants[i],
				strerror(-err));
	}
	if (!err)
		err = measure_and_print(&o, empty_fd, filter_fd, &hit,
					&hit_blocklist, &miss, variants);
	for (i = 0; i < o.nr_variants; i++)
		vnfsec_unload(&variants[i]);

	vnfsec_unload(&miss);
	vnfsec_unload(&hit_blocklist);
	vnfsec_unload(&hit);
	bpf_object__close(filter_obj);
	close(empty_fd);
	return err ? 1 : 0;
}
