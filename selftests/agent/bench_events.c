// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnfsec-agent-bench: how many ring-buffer records one agent core
 * consumes per second with the agent's own handler (events_handle: SYN
 * flood, fast and slow scans, policy check) against a bare consumer that
 * only counts, in the same run on the same records.
 *
 * Method: the real fast path (vnfsec.bpf.o, loaded, not attached) is fed
 * TCP SYNs of never-seen 5-tuples with BPF_PROG_TEST_RUN, one new-flow
 * record each, BATCH at a time (less than the ring holds, so none is
 * lost: checked); then the ring is drained with ring_buffer__consume()
 * and only the drain is timed (CLOCK_MONOTONIC). Sources and destinations
 * are spread so that no heuristic fires (a firing one would time the
 * uplink, not the handler). Batches alternate between the handler and
 * the bare consumer; the rates are records over summed drain time.
 *
 *   vnfsec-agent-bench [--records N]     (default 1000000)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>

#include "user/agent/agent.h"
#include "user/agent/scan.h"
#include "user/common/clock.h"
#include "user/common/log.h"
#include "vnfsec.skel.h"

#define BATCH 8192

struct syn_frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
} __attribute__((packed));

static bool bare;
static uint64_t bare_records, fired;

static void count_assessment(void *ctx, const struct assessment *a)
{
	(void)ctx;
	(void)a;
	fired++;
}

static int handle(void *ctx, void *data, size_t len)
{
	if (bare) {
		bare_records++;
		return 0;
	}
	return events_handle(ctx, data, len);
}

static void frame_init(struct syn_frame *f)
{
	memset(f, 0, sizeof(*f));
	f->eth.h_proto = htons(ETH_P_IP);
	f->ip.version = 4;
	f->ip.ihl = 5;
	f->ip.ttl = 64;
	f->ip.protocol = IPPROTO_TCP;
	f->ip.tot_len = htons(sizeof(*f) - sizeof(f->eth));
	f->tcp.doff = 5;
	f->tcp.syn = 1;
	f->tcp.dest = htons(80);
	f->tcp.window = htons(65535);
}

/* A never-seen 5-tuple whose source and destination are both spread. */
static void next_tuple(struct syn_frame *f, uint32_t seq)
{
	uint32_t h = seq * 2654435761u;

	f->ip.saddr = htonl(0x0a000000 | (seq & 0x00ffffff));
	f->ip.daddr = htonl(0xac100000 | (h >> 16));
	f->tcp.source = htons(1024 + (seq >> 24));
}

static int produce(int prog_fd, struct syn_frame *f, uint32_t *seq,
		   unsigned int n)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f,
		    .data_size_in = sizeof(*f), .repeat = 1);
	unsigned int i;

	for (i = 0; i < n; i++) {
		next_tuple(f, (*seq)++);
		if (bpf_prog_test_run_opts(prog_fd, &opts))
			return -errno;
	}
	return 0;
}

static uint64_t counter(int fd, enum vnfsec_counter c)
{
	int nr = libbpf_num_possible_cpus();
	__u64 vals[1024], sum = 0;
	__u32 key = c;
	int i;

	if (nr <= 0 || nr > 1024 || bpf_map_lookup_elem(fd, &key, vals))
		return 0;
	for (i = 0; i < nr; i++)
		sum += vals[i];
	return sum;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "records", required_argument, NULL, 'n' },
		{}
	};
	struct event_ctx ctx = {};
	struct vnfsec_bpf *skel;
	struct ring_buffer *rb;
	struct syn_frame f;
	uint64_t want = 1000000, done = 0, handler_ns = 0, bare_ns = 0;
	uint64_t handler_n = 0, t0, lost0;
	uint32_t seq = 0;
	int opt, ret = 1, i = 0;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 'n')
			return 2;
		want = strtoull(optarg, NULL, 10);
	}
	log_init("vnfsec-agent-bench", LOG_ERR);
	skel = vnfsec_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "cannot load the fast path (root? bpf/vnfsec.bpf.o built?)\n");
		return 1;
	}
	ctx.syn_flood = syn_flood_new(500, 1000);
	ctx.scan_fast = scan_new(&(struct scan_config){
		.window_ns = 1000000000ULL, .horizontal = 50, .vertical = 100 });
	ctx.scan_slow = scan_new(&(struct scan_config){
		.window_ns = 300000000000ULL, .horizontal = 30, .vertical = 60 });
	ctx.on_assessment = count_assessment;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle, &ctx,
			      NULL);
	if (!ctx.syn_flood || !ctx.scan_fast || !ctx.scan_slow || !rb)
		goto out;
	frame_init(&f);
	lost0 = counter(bpf_map__fd(skel->maps.counters),
			VNFSEC_CNT_RINGBUF_FULL);
	while (done < want) {
		if (produce(bpf_program__fd(skel->progs.vnfsec_xdp), &f, &seq,
			    BATCH)) {
			perror("BPF_PROG_TEST_RUN");
			goto out;
		}
		/* Every fourth batch goes to the bare consumer. */
		bare = i++ % 4 == 3;
		t0 = clock_mono_ns();
		if (ring_buffer__consume(rb) < 0) {
			fprintf(stderr, "ring buffer read failed\n");
			goto out;
		}
		if (bare) {
			bare_ns += clock_mono_ns() - t0;
		} else {
			handler_ns += clock_mono_ns() - t0;
			handler_n = ctx.records;
			done = handler_n;
		}
	}
	if (counter(bpf_map__fd(skel->maps.counters),
		    VNFSEC_CNT_RINGBUF_FULL) != lost0) {
		fprintf(stderr, "records were lost: the batch is too large for the ring\n");
		goto out;
	}
	printf("agent handler: %llu records in %.3f s of drain = %.2f M records/s on one core\n",
	       (unsigned long long)handler_n, handler_ns / 1e9,
	       handler_n / (handler_ns / 1e3));
	printf("bare consumer: %llu records in %.3f s of drain = %.2f M records/s (same run, same records)\n",
	       (unsigned long long)bare_records, bare_ns / 1e9,
	       bare_records / (bare_ns / 1e3));
	printf("handler cost: %.0f ns/record, %.2fx the bare consumer's; assessments raised: %llu, records refused: %llu\n",
	       (double)handler_ns / handler_n,
	       ((double)handler_ns / handler_n) / ((double)bare_ns / bare_records),
	       (unsigned long long)fired,
	       (unsigned long long)ctx.bad_records);
	ret = 0;
out:
	ring_buffer__free(rb);
	syn_flood_free(ctx.syn_flood);
	scan_free(ctx.scan_fast);
	scan_free(ctx.scan_slow);
	vnfsec_bpf__destroy(skel);
	return ret;
}
